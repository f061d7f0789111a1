#!/usr/bin/env bash
# bench/run.sh — oidc-lint against its peers and its own floors, one side-by-side table.
#
# usage: bench/run.sh            (from anywhere; needs ../shared beside the repository)
#
# 1. generates the synthetic tree (../shared/research/gen-bench-corpus.py, seed 42: 1,151 files)
#    and a x10 copy of ../shared/corpus, under target/bench/;
# 2. builds oidc-lint --release and times it with hyperfine (median of RUNS runs after 2
#    warm-ups) on: the generated tree, its workflows alone, one thread, the corpus x1 and x10,
#    a typical repository (fixtures/repos/seeds), and the floors (`--floor read`: just read every
#    file; `--floor parse`: read + parse + model, no rules); peak RSS from /usr/bin/time -v;
# 3. installs and runs the peers through ../shared/research/run-peers.sh (zizmor, actionlint
#    fork with shellcheck off, checkov with its four relevant frameworks; PyPI venv, offline
#    runs) and times them the same way on the same tree;
# 4. prints one table: files/s, MB/s, peak RSS, ratios. Raw data stays in target/bench/out/.
#
# environment: SHARED (default ../shared), RUNS (default 10), CHECKOV_RUNS (default 3),
#              NO_PEERS=1 (oidc-lint and floors only).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-}
if [ -z "$SHARED" ]; then
  for s in "$REPO/../shared" "$REPO/../../shared"; do
    [ -d "$s/research" ] && { SHARED=$(cd "$s" && pwd); break; }
  done
fi
[ -n "$SHARED" ] && [ -d "$SHARED/research" ] || {
  echo "bench: ../shared (research/, corpus/) not found beside the repository; set SHARED=DIR" >&2; exit 2; }
RUNS=${RUNS:-10}
CHECKOV_RUNS=${CHECKOV_RUNS:-3}
W=$REPO/target/bench
OUT=$W/out
mkdir -p "$OUT"
log() { printf '[bench] %s\n' "$*" >&2; }

need() { # need CMD APT-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $2 (apt-get)"
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null 2>&1; }
  fi
  command -v "$1" >/dev/null 2>&1 || {
    echo "bench: '$1' is missing: install the Debian package '$2' (sudo apt-get install $2) and rerun" >&2; exit 2; }
}
need hyperfine hyperfine
need /usr/bin/time time
need python3 python3

# --- corpora ---------------------------------------------------------------------------------
GEN=$W/gen
if [ ! -f "$GEN/.complete" ]; then
  log "generating $GEN"
  python3 "$SHARED/research/gen-bench-corpus.py" --out "$GEN" --force >/dev/null
  touch "$GEN/.complete"
fi
# The workflows alone, in a tree of their own (workflows are recognised by their
# .github/workflows/ path relative to the scanned directory).
GWF=$W/gen-workflows
if [ ! -f "$GWF/.complete" ]; then
  rm -rf "$GWF"; mkdir -p "$GWF"; cp -r "$GEN/.github" "$GWF/"; touch "$GWF/.complete"
fi
C1=$SHARED/corpus
C10=$W/corpus-x10
if [ ! -f "$C10/.complete" ]; then
  log "copying $C1 ten times into $C10"
  rm -rf "$C10"; mkdir -p "$C10"
  for i in 0 1 2 3 4 5 6 7 8 9; do cp -r "$C1" "$C10/copy-$i"; done
  touch "$C10/.complete"
fi
TYPICAL=$REPO/fixtures/repos/seeds

# --- oidc-lint -------------------------------------------------------------------------------
log "cargo build --release"
(cd "$REPO" && cargo build --release --quiet)
BIN=$REPO/target/release/oidc-lint

# stats NAME DIR: files and bytes of the regular files under DIR (what a scan walks)
stats() { find "$2" -type f -not -name .complete -printf '%s\n' | awk -v n="$1" '{f++; b+=$1} END {printf "%s %d %d\n", n, f, b}'; }
: >"$OUT/sizes.txt"
stats gen "$GEN" >>"$OUT/sizes.txt"
stats gen-workflows "$GWF" >>"$OUT/sizes.txt"
stats corpus-x1 "$C1" >>"$OUT/sizes.txt"
stats corpus-x10 "$C10" >>"$OUT/sizes.txt"
stats typical "$TYPICAL" >>"$OUT/sizes.txt"

: >"$OUT/rows.txt"
# measure LABEL SCOPE RUNS CMD...: hyperfine median (exit codes ignored) + peak RSS of one run
measure() {
  local label=$1 scope=$2 runs=$3; shift 3
  local slug; slug=$(echo "$label" | tr -c 'A-Za-z0-9' '_')
  local warm=2; [ "$runs" -le 3 ] && warm=0
  local cmd="$*"; [ ${#cmd} -gt 160 ] && cmd="${cmd:0:160} ... ($# args)"
  log "$label: $cmd"
  hyperfine -N -i --warmup "$warm" --runs "$runs" --export-json "$OUT/$slug.json" \
    --command-name "$label" -- "$(printf '%q ' "$@")" >/dev/null 2>"$OUT/$slug.hyperfine.log" \
    || hyperfine -i --warmup "$warm" --runs "$runs" --export-json "$OUT/$slug.json" \
         --command-name "$label" -- "$(printf '%q ' "$@")" >/dev/null 2>>"$OUT/$slug.hyperfine.log"
  /usr/bin/time -v -o "$OUT/$slug.time.txt" "$@" >/dev/null 2>&1 || true
  local rss; rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/$slug.time.txt")
  echo "$label|$scope|$OUT/$slug.json|${rss:-0}" >>"$OUT/rows.txt"
}

measure "oidc-lint"                 gen           "$RUNS" "$BIN" -q "$GEN"
measure "oidc-lint --threads 1"     gen           "$RUNS" "$BIN" -q --threads 1 "$GEN"
measure "oidc-lint (workflows)"     gen-workflows "$RUNS" "$BIN" -q "$GWF"
measure "floor: read every file"    gen           "$RUNS" "$BIN" --floor read "$GEN"
measure "floor: parse, no rules"    gen           "$RUNS" "$BIN" --floor parse "$GEN"
measure "oidc-lint corpus x1"       corpus-x1     "$RUNS" "$BIN" -q "$C1"
measure "oidc-lint corpus x10"      corpus-x10    "$RUNS" "$BIN" -q "$C10"
measure "floor: parse corpus x10"   corpus-x10    "$RUNS" "$BIN" --floor parse "$C10"
measure "oidc-lint typical repo"    typical       "$RUNS" "$BIN" -q "$TYPICAL"

# --- peers -----------------------------------------------------------------------------------
if [ "${NO_PEERS:-0}" != 1 ]; then
  log "peers: install and one reference run through run-peers.sh"
  bash "$SHARED/research/run-peers.sh" "$GEN" "$OUT/peers" zizmor actionlint checkov >/dev/null 2>"$OUT/run-peers.log" || true
  V=${PEERS_VENV:-/tmp/peers-venv}/bin
  export BC_SKIP_MAPPING=TRUE ZIZMOR_OFFLINE=1
  if [ -x "$V/zizmor" ]; then
    measure "zizmor" gen "$RUNS" "$V/zizmor" --offline --no-progress --color never "$GEN"
  else log "zizmor not installed (see $OUT/peers/pip-install.log)"; fi
  if [ -x "$V/actionlint" ]; then
    mapfile -t WF < <(find "$GEN/.github/workflows" -name '*.yml' | sort)
    measure "actionlint (workflows)" gen-workflows "$RUNS" "$V/actionlint" -no-color -oneline -shellcheck= -pyflakes= "${WF[@]}"
  else log "actionlint not installed"; fi
  if [ -x "$V/checkov" ]; then
    measure "checkov (4 frameworks)" gen "$CHECKOV_RUNS" "$V/checkov" -d "$GEN" --skip-download --quiet --compact \
      --framework terraform terraform_plan cloudformation github_actions -o json
  else log "checkov not installed"; fi
fi

python3 "$REPO/bench/table.py" "$OUT/rows.txt" "$OUT/sizes.txt" | tee "$OUT/table.md"
