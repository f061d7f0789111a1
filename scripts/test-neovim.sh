#!/usr/bin/env bash
# Neovim headless with its built-in LSP client (`vim.lsp.start`, or `start_client` on 0.7)
# runs `oidc-lint server`, opens a trust policy that admits any repository and must show the
# `trust-sub-any-repo` error. Exits non-zero on failure.
# Usage: scripts/test-neovim.sh [path/to/oidc-lint]   (default: target/debug/oidc-lint)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/debug/oidc-lint}")
command -v nvim >/dev/null || { echo "nvim not found" >&2; exit 1; }
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
mkdir -p "$ws/iam"
cat >"$ws/iam/trust.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}
      }
    }
  ]
}
JSON
OIDC_LINT="$bin" WORKSPACE="$ws" FILE="$ws/iam/trust.json" EXPECT=trust-sub-any-repo \
  timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile scripts/test-neovim.lua"
