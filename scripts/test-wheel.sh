#!/usr/bin/env bash
# test-wheel.sh VENV — build the Python wheel with maturin and prove the Python install paths with it:
# `pip install` into a fresh venv, `pipx run` and `uvx`, each running oidc-lint on the bundled insecure
# example (exit 1, findings in the JSON report). VENV is a venv with maturin, pipx and uv (.ci/run makes it).
# The wheel lands in target/wheels/. Built with the `release` profile (the `dist` profile of pyproject.toml
# is for published wheels); CARGO_TARGET_DIR defaults to target/pre-commit-build, shared with the
# pre-commit rust hook test so the dependencies are compiled once. Installs use only the local wheel
# (PIP_NO_INDEX), never a package of that name from an index.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "${1:?usage: $0 VENV}" && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/pre-commit-build}
wheels=$repo/target/wheels
rm -rf "$wheels"
s=$(date +%s)
"$venv/bin/maturin" build --locked --profile release --out "$wheels" --quiet
whl=$(ls "$wheels"/oidc_lint-*.whl)
echo "test-wheel: built $(basename "$whl") in $(( $(date +%s) - s )) s"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
example=fixtures/repos/insecure-example
check() { # check LABEL CMD... : must exit 1 with findings in the JSON report
  local label=$1; shift
  local rc=0 t0; t0=$(date +%s.%N)
  "$@" --format json --color never "$example" > "$tmp/out.json" 2> "$tmp/err" || rc=$?
  if [ "$rc" != 1 ]; then echo "test-wheel: $label exited $rc, expected 1 (findings)" >&2; cat "$tmp/err" >&2; exit 1; fi
  python3 - "$tmp/out.json" "$label" "$t0" <<'PY'
import json, sys, time
d = json.load(open(sys.argv[1]))
n = len(d["findings"])
assert n > 0, f"{sys.argv[2]}: no findings"
print(f"test-wheel: {sys.argv[2]}: exit 1, {n} findings (first run {time.time() - float(sys.argv[3]):.1f} s)")
PY
}
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m venv "$tmp/fresh"
s=$(date +%s.%N)
"$tmp/fresh/bin/python" -m pip install --quiet "$whl"
python3 -c 'import sys, time; print(f"test-wheel: pip install of the wheel took {time.time() - float(sys.argv[1]):.1f} s")' "$s"
[ -x "$tmp/fresh/bin/oidc-lint" ] || { echo "test-wheel: the wheel installed no oidc-lint script" >&2; exit 1; }
"$tmp/fresh/bin/oidc-lint" --version
check "pip install" "$tmp/fresh/bin/oidc-lint"

# pipx run: a throw-away venv per invocation; PIPX_HOME keeps it out of the user's home.
PIPX_HOME=$tmp/pipx PIPX_BIN_DIR=$tmp/pipx-bin check "pipx run" "$venv/bin/pipx" run --spec "$whl" oidc-lint
# uvx: uv's tool runner, offline, from the local wheel.
UV_CACHE_DIR=$tmp/uv-cache UV_TOOL_DIR=$tmp/uv-tools check "uvx" "$venv/bin/uvx" --offline --from "$whl" oidc-lint
