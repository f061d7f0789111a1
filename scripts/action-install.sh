#!/usr/bin/env bash
# action-install.sh — the GitHub Action's install step (action.yml). Puts `oidc-lint` on GITHUB_PATH and
# writes `installed-by=binary|pip|cargo` to GITHUB_OUTPUT.
#
#   binary  the release archive for this runner from RELEASE_URL/vVERSION/, verified against the release's
#           SHA256SUMS before it is unpacked (a missing or wrong sum rejects the archive);
#   pip     `pip install --only-binary :all: oidc-lint==VERSION` into a private venv (a wheel, no compile);
#   cargo   `cargo install --locked --path` the action's own checkout (the slow fallback).
# INPUT_INSTALL=auto tries them in that order. Inputs arrive as environment variables (INPUT_VERSION,
# INPUT_INSTALL, INPUT_RELEASE_URL, ACTION_PATH, ACTION_REPOSITORY); values are validated before use and
# never echoed.
set -euo pipefail
root="${RUNNER_TEMP:?}/oidc-lint"
mkdir -p "$root/bin"
fail() { echo "::error title=oidc-lint install::$1"; exit 2; }
note() { echo "oidc-lint install: $1"; }

version=${INPUT_VERSION:-}
if [ -z "$version" ]; then
  version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$ACTION_PATH/Cargo.toml" | head -n 1)
fi
version=${version#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || fail "input version must look like 1.2.3"

method=${INPUT_INSTALL:-auto}
case "$method" in auto|binary|pip|cargo) ;; *) fail "input install must be auto, binary, pip or cargo" ;; esac

base=${INPUT_RELEASE_URL:-}
if [ -z "$base" ]; then
  repo=${ACTION_REPOSITORY:-}
  [[ $repo =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || repo=oidc-lint/oidc-lint
  base="https://github.com/$repo/releases/download"
fi
[[ $base =~ ^(https://|http://127\.0\.0\.1[:/]|http://localhost[:/]) ]] || fail "input release-url must be an https URL"

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

try_binary() {
  local os arch target ext asset dir want got
  case "${RUNNER_OS:-$(uname -s)}" in
    Linux) os=unknown-linux-musl ;;
    macOS|Darwin) os=apple-darwin ;;
    Windows) os=pc-windows-msvc ;;
    *) note "no release binary for this OS"; return 1 ;;
  esac
  case "${RUNNER_ARCH:-$(uname -m)}" in
    X64|x86_64|amd64) arch=x86_64 ;;
    ARM64|aarch64|arm64) arch=aarch64 ;;
    *) note "no release binary for this architecture"; return 1 ;;
  esac
  target="$arch-$os"
  ext=tar.gz; [ "$os" = pc-windows-msvc ] && ext=zip
  asset="oidc-lint-$version-$target.$ext"
  dir=$(mktemp -d "$root/dl.XXXXXX")
  if ! curl --fail --silent --show-error --location --proto '=https,http' --retry 3 --max-time 120 \
       -o "$dir/SHA256SUMS" "$base/v$version/SHA256SUMS" \
     || ! curl --fail --silent --show-error --location --proto '=https,http' --retry 3 --max-time 300 \
       -o "$dir/$asset" "$base/v$version/$asset"; then
    note "release $version has no downloadable $target archive"
    return 1
  fi
  want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$dir/SHA256SUMS" | head -n 1)
  got=$(sha256 "$dir/$asset")
  if ! [[ $want =~ ^[0-9a-f]{64}$ ]] || [ "$want" != "$got" ]; then
    echo "::warning title=oidc-lint install::the downloaded archive does not match the release's SHA256SUMS; not using it"
    return 1
  fi
  if [ "$ext" = zip ]; then unzip -q -o "$dir/$asset" -d "$dir/x"; else mkdir "$dir/x" && tar -xzf "$dir/$asset" -C "$dir/x"; fi
  local exe; exe=$(find "$dir/x" -type f \( -name oidc-lint -o -name oidc-lint.exe \) | head -n 1)
  [ -n "$exe" ] || { note "archive has no oidc-lint binary"; return 1; }
  cp "$exe" "$root/bin/" && chmod +x "$root/bin/$(basename "$exe")"
  echo "$root/bin" >> "$GITHUB_PATH"
}

try_pip() {
  local py; py=$(command -v python3 || command -v python) || { note "no python for the wheel"; return 1; }
  "$py" -m venv "$root/venv" || return 1
  local bin="$root/venv/bin"; [ -d "$bin" ] || bin="$root/venv/Scripts"
  "$bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: "oidc-lint==$version" || {
    note "no oidc-lint $version wheel for this runner"; return 1; }
  echo "$bin" >> "$GITHUB_PATH"
}

try_cargo() {
  command -v cargo >/dev/null || { note "cargo is not installed on this runner"; return 1; }
  note "building from source (cargo install --locked); this takes a minute or two"
  cargo install --locked --root "$root" --path "$ACTION_PATH" || return 1
  echo "$root/bin" >> "$GITHUB_PATH"
}

case "$method" in
  auto) order=(binary pip cargo) ;;
  *) order=("$method") ;;
esac
for m in "${order[@]}"; do
  if "try_$m"; then
    echo "installed-by=$m" >> "$GITHUB_OUTPUT"
    note "installed oidc-lint $version ($m)"
    exit 0
  fi
done
fail "could not install oidc-lint $version (tried: ${order[*]})"
