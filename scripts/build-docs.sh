#!/usr/bin/env bash
# build-docs.sh — the documentation site: one page per rule (rules/*.md), the README as the introduction,
# and the pages in docs/src/ (versioning policy, releasing), built with mdBook into docs/book/ (ignored by
# git; open docs/book/index.html). Needs `mdbook` on PATH (or MDBOOK=path):
#   cargo install mdbook --locked --no-default-features --features search
# Runs offline. The pages are assembled under target/docs/ so the sources stay where they are.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
mdbook=${MDBOOK:-mdbook}
command -v "$mdbook" >/dev/null || {
  echo "build-docs: mdbook not found; install it with: cargo install mdbook --locked --no-default-features --features search" >&2
  exit 2
}
stage=$repo/target/docs
out=$repo/docs/book
rm -rf "$stage" "$out"
mkdir -p "$stage/src/rules"
cp "$repo/docs/book.toml" "$stage/"
cp "$repo"/docs/src/*.md "$stage/src/"
# The README links docs pages as docs/src/X.md; in the book they sit beside it.
sed 's#](docs/src/#](#g' "$repo/README.md" > "$stage/src/README.md"
cp "$repo"/rules/*.md "$stage/src/rules/"
cp -r "$repo/rules/examples" "$stage/src/rules/"

ids=()
for f in "$repo"/rules/*.md; do ids+=("$(basename "$f" .md)"); done
[ "${#ids[@]}" -gt 0 ] || { echo "build-docs: no rules/*.md" >&2; exit 1; }
{
  echo "# Rules"
  echo
  echo "One page per rule; \`oidc-lint explain <id>\` prints the same text in a terminal."
  echo
  echo "| rule | |"
  echo "|---|---|"
  for id in "${ids[@]}"; do
    # The line under each page's title: **Severity:** … · **Applies to:** … · **Fix:** …
    meta=$(sed -n '3{s/|/\\|/g;p}' "$repo/rules/$id.md")
    echo "| [\`$id\`]($id.md) | $meta |"
  done
} > "$stage/src/rules/index.md"
{
  echo "# Summary"
  echo
  echo "[Introduction](README.md)"
  echo
  echo "- [Versioning policy](versioning.md)"
  echo "- [Releasing](releasing.md)"
  echo "- [Rules](rules/index.md)"
  for id in "${ids[@]}"; do echo "  - [$id](rules/$id.md)"; done
} > "$stage/src/SUMMARY.md"

"$mdbook" build "$stage" --dest-dir "$out"

missing=0
for id in "${ids[@]}"; do
  [ -s "$out/rules/$id.html" ] || { echo "build-docs: no page for rule $id" >&2; missing=1; }
done
[ -s "$out/index.html" ] || { echo "build-docs: no index.html" >&2; missing=1; }
[ "$missing" = 0 ] || exit 1
echo "build-docs: ${#ids[@]} rule pages, site in docs/book/ (open docs/book/index.html)"
