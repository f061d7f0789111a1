#!/usr/bin/env bash
# check-package.sh — the crate as crates.io would get it: metadata present, the rule docs shipped, no
# fixtures/, bench/, benches/, fuzz/ or tests/, and `cargo package` producing the .crate. `--no-verify`
# skips the rebuild of the unpacked crate (a second full build; the wheel and the pre-commit rust hook
# already compile these same sources in .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-package: $*" >&2; exit 1; }
for key in description license readme repository rust-version keywords categories; do
  grep -q "^$key = " Cargo.toml || fail "Cargo.toml has no $key"
done
[ -s LICENSE ] || fail "no LICENSE"
list=$(cargo package --list --allow-dirty --locked --quiet)
for f in Cargo.toml Cargo.lock LICENSE README.md CHANGELOG.md src/main.rs; do
  grep -qx "$f" <<<"$list" || fail "$f is not in the package"
done
# Files compiled into the binary (include_str!/include_bytes!) must ship, or the crate does not build.
for f in data/aws-managed-policies/policies.tsv; do grep -qx "$f" <<<"$list" || fail "$f (compiled in) is not in the package"; done
for f in rules/*.md; do grep -qx "$f" <<<"$list" || fail "rule doc $f is not in the package"; done
if grep -E '^(fixtures|bench|benches|fuzz|tests|docs|scripts|target)/' <<<"$list"; then
  fail "the package ships the files above"
fi
cargo package --allow-dirty --locked --no-verify --quiet
crate=$(ls target/package/oidc-lint-*.crate)
echo "check-package: $(wc -l <<<"$list") files, $(du -k "$crate" | cut -f1) KiB: $crate"
