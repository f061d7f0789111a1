#!/usr/bin/env bash
# Records (or compares) the JSON and SARIF output of a built oidc-lint on the shared corpus and
# on every fixture directory, so a refactoring can prove its findings unchanged byte for byte.
#
#   scripts/compare-outputs.sh record  OUTDIR [BIN]   # write OUTDIR/<name>.{json,sarif,rc}
#   scripts/compare-outputs.sh compare OUTDIR [BIN]   # re-run and diff against OUTDIR
#
# BIN defaults to target/debug/oidc-lint. CORPUS (default ../shared/corpus from the repository's
# parent, i.e. /work/shared/corpus) is scanned only when it exists.
set -euo pipefail
mode=${1:?record|compare}
out=${2:?output directory}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${3:-$root/target/debug/oidc-lint}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
corpus=${CORPUS:-/work/shared/corpus}

dirs=()
[ -d "$corpus" ] && dirs+=("$corpus")
while IFS= read -r d; do dirs+=("$d"); done < <(
  cd "$root" && {
    find fixtures/repos fixtures/scenarios fixtures/iac -mindepth 1 -maxdepth 1 -type d
    find fixtures/iac -mindepth 2 -maxdepth 2 -type d
    find fixtures/rules -mindepth 2 -maxdepth 2 -type d
    find fixtures/rules -mindepth 3 -maxdepth 3 -type d -path '*/bad/*' -o -mindepth 3 -maxdepth 3 -type d -path '*/good/*'
    find fixtures/custom-rules -mindepth 2 -maxdepth 2 -type d
  } | sort -u | sed "s|^|$root/|"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target=$out
[ "$mode" = compare ] && target=$tmp
mkdir -p "$target"

run() { # name dir args...
  local name=$1 dir=$2; shift 2
  local rc=0
  (cd "$dir" && "$bin" "$@" >"$target/$name" 2>"$target/$name.err") || rc=$?
  echo "$rc" >"$target/$name.rc"
}

for d in "${dirs[@]}"; do
  case $d in
    "$corpus") name=corpus ;;
    *) name=$(echo "${d#"$root"/}" | tr '/' '_') ;;
  esac
  extra=()
  case $d in */custom-rules/*) extra=(--rules "$root/rules/examples") ;; esac
  for f in json sarif; do
    run "$name.$f" "$d" --format "$f" --color never "${extra[@]}" .
  done
  run "$name.audit.json" "$d" audit --format json .
done
# A few flag combinations the engine owns.
run "insecure.fixdiff" "$root/fixtures/repos/insecure-example" --diff --unsafe-fixes --color never .
run "insecure.human-suppressed" "$root/fixtures/repos/insecure-example" --show-suppressed --color never .
run "corpus.github" "$corpus" --format github .

if [ "$mode" = compare ]; then
  if diff -r "$out" "$tmp" >"$tmp.diff"; then
    echo "identical: $(ls "$out" | wc -l) outputs"
    rm -f "$tmp.diff"
  else
    echo "DIFFERENT (see $tmp.diff):"; head -50 "$tmp.diff"; cp "$tmp.diff" /tmp/compare-outputs.diff; exit 1
  fi
else
  echo "recorded $(ls "$out" | wc -l) outputs in $out"
fi
