#!/usr/bin/env bash
# The audit's HTML report in a real browser (issue #20). Builds an example organisation
# (scripts/gen-org.py, 30 checkouts), writes its audit as HTML and JSON, and drives the page in
# headless Chromium from Debian (`apt-get install -y chromium`) through playwright-core: no
# console error, no request besides the page, the graph's nodes and edges match the JSON, the
# filter and copy buttons work, and the screenshot is not blank. Keeps the screenshot in
# docs/audit-example.png when UPDATE_SCREENSHOT=1.
# Usage: scripts/test-audit-html.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-./target/debug/oidc-lint}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v chromium >/dev/null; then
  apt-get install -y chromium >/dev/null
fi
pw=target/audit-browser
if [ ! -d "$pw/node_modules/playwright-core" ]; then
  mkdir -p "$pw"
  [ -f "$pw/package.json" ] || echo '{"private":true}' >"$pw/package.json"
  (cd "$pw" && npm install --no-audit --no-fund --silent playwright-core@1)
fi

python3 scripts/gen-org.py "$work/org" 30
"$bin" audit "$work/org" --format html --output "$work/audit.html"
"$bin" audit "$work/org" --format json --output "$work/audit.json"
PLAYWRIGHT_DIR="$PWD/$pw/node_modules" node scripts/audit-html-browser.mjs \
  "$work/audit.html" "$work/audit.json" "$work/shot.png"

# Not blank: the screenshot has many distinct colours and enough non-white pixels.
python3 - "$work/shot.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), f"unexpected PNG type {depth}/{ctype}"
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, ink = set(), 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):
        px = bytes(line[x:x + 3])
        colours.add(px)
        if px != b"\xff\xff\xff":
            ink += 1
    prev = line
samples = h * ((stride + bpp * 4 - 1) // (bpp * 4))
print(f"screenshot {w}x{h}: {len(colours)} colours, {100 * ink // samples}% non-white")
assert len(colours) >= 8 and ink * 20 >= samples, "the screenshot is blank"
EOF
if [ "${UPDATE_SCREENSHOT:-0}" = 1 ]; then
  cp "$work/shot.png" docs/audit-example.png
fi
echo "audit HTML: browser test passed"
