#!/usr/bin/env bash
# test-action.sh VENV — run the GitHub Action (action.yml) locally through scripts/run-action.py, with its
# real install script, against a release served from 127.0.0.1 (the binary out of the wheel that
# test-wheel.sh built in target/wheels, packed and summed as release.yml does):
#   1. install=binary: downloads, verifies SHA256SUMS, scans the insecure example: exit 1, SARIF findings;
#   2. a tampered SHA256SUMS: install=binary refuses the archive; install=auto falls back to the wheel (pip);
#   3. hostile inputs (command substitution, a glob) are passed as literal paths: nothing runs, nothing globs;
#   4. format=github with fail-on=never exits 0 with annotations.
# The cargo fallback (`cargo install --locked --path`) is the same command as the pre-commit rust hook's build
# plus --locked and is not rebuilt here. VENV needs PyYAML.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "${1:?usage: $0 VENV}" && pwd)
cd "$repo"
py=$venv/bin/python
whl=$(ls target/wheels/oidc_lint-*.whl)
version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n 1)
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "test-action: $*" >&2; exit 1; }

# The release, laid out as https://github.com/OWNER/REPO/releases/download/vX.Y.Z/…
name=oidc-lint-$version-x86_64-unknown-linux-musl
rel=$tmp/release/v$version
mkdir -p "$rel" "$tmp/stage/$name"
"$py" - "$whl" "$tmp/stage/$name/oidc-lint" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    member = next(n for n in z.namelist() if n.endswith(".data/scripts/oidc-lint"))
    open(sys.argv[2], "wb").write(z.read(member))
PY
chmod +x "$tmp/stage/$name/oidc-lint"
cp README.md LICENSE "$tmp/stage/$name/"
tar -czf "$rel/$name.tar.gz" -C "$tmp/stage" "$name"
(cd "$rel" && sha256sum -- *.tar.gz > SHA256SUMS)
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$py" -m http.server --bind 127.0.0.1 "$port" --directory "$tmp/release" > "$tmp/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port

run() { # run LABEL INPUT... ; sets rc and out (the outputs JSON)
  local label=$1; shift
  rc=0
  "$py" scripts/run-action.py "$repo" --temp "$tmp/runner-$label" -i release-url="$url" -i version="$version" "$@" \
    > "$tmp/$label.out" 2> "$tmp/$label.log" || rc=$?
  out=$(tail -n 1 "$tmp/$label.out")
}
field() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$out" "$1"; }

run binary -i install=binary -i paths=fixtures/repos/insecure-example -i output="$tmp/report.sarif"
[ "$rc" = 1 ] || { cat "$tmp/binary.log" >&2; fail "install=binary: exit $rc, expected 1"; }
[ "$(field installed-by)" = binary ] && [ "$(field exit-code)" = 1 ] || fail "install=binary outputs: $out"
n=$("$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["runs"][0]["results"]))' "$tmp/report.sarif")
[ "$n" -gt 0 ] || fail "no SARIF results"
echo "test-action: install=binary verified the checksum, scan exit 1 with $n SARIF results"

cp "$rel/SHA256SUMS" "$tmp/SHA256SUMS.good"
# Change the first hex digit of the sum to a different one (0 unless it already is 0, then 1): a fixed
# replacement digit would leave the sum intact whenever the real one starts with it (1 run in 16).
"$py" - "$rel/SHA256SUMS" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(("1" if s[0] == "0" else "0") + s[1:])
PY
cmp -s "$rel/SHA256SUMS" "$tmp/SHA256SUMS.good" && fail "the tampered SHA256SUMS equals the real one"
run tampered -i install=binary
[ "$rc" = 2 ] && grep -q 'does not match the release' "$tmp/tampered.out" || { cat "$tmp/tampered.log" >&2; fail "a tampered checksum was accepted (exit $rc)"; }
PIP_NO_INDEX=1 PIP_FIND_LINKS=$repo/target/wheels run fallback -i install=auto -i paths=fixtures/repos/insecure-example -i format=json -i output="$tmp/report.json"
[ "$rc" = 1 ] && [ "$(field installed-by)" = pip ] || { cat "$tmp/fallback.log" >&2; fail "auto did not fall back to the wheel: exit $rc, $out"; }
echo "test-action: a tampered SHA256SUMS is refused; install=auto then installs the wheel with pip"
cp "$tmp/SHA256SUMS.good" "$rel/SHA256SUMS"

mkdir -p "$tmp/hostile"
(cd "$tmp/hostile" && : > keep.json)
rc=0
(cd "$tmp/hostile" && "$py" "$repo/scripts/run-action.py" "$repo" --temp "$tmp/runner-hostile" -i release-url="$url" -i version="$version" \
   -i install=binary -i 'paths=$(touch pwned) `touch pwned2` *' -i format=github > "$tmp/hostile.out" 2> "$tmp/hostile.log") || rc=$?
[ ! -e "$tmp/hostile/pwned" ] && [ ! -e "$tmp/hostile/pwned2" ] || fail "an input was executed"
out=$(tail -n 1 "$tmp/hostile.out")
[ "$rc" = 2 ] && [ "$(field installed-by)" = binary ] && [ "$(field exit-code)" = 2 ] \
  || { cat "$tmp/hostile.log" >&2; fail "hostile paths: exit $rc ($out), expected oidc-lint's 2 (no such files)"; }
cat "$tmp/hostile.out" "$tmp/hostile.log" | grep -q 'file=\*,' || { cat "$tmp/hostile.out" "$tmp/hostile.log" >&2; fail "the glob input was expanded"; }
echo "test-action: hostile inputs stay literal paths (nothing executed, no glob), exit 2"

run github -i install=binary -i paths=fixtures/repos/insecure-example -i format=github -i fail-on=never
[ "$rc" = 0 ] || { cat "$tmp/github.log" >&2; fail "format=github fail-on=never: exit $rc"; }
a=$(grep -c '^::\(error\|warning\|notice\) file=' "$tmp/github.out" || true)
[ "$a" -gt 0 ] || fail "format=github printed no annotations"
echo "test-action: format=github, fail-on=never: exit 0 with $a annotations"
