#!/usr/bin/env bash
# Regenerate the README's rule table from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(cargo run -q -- rules --markdown)
python3 - "$table" <<'PY'
import sys
table = sys.argv[1] + "\n"
s = open("README.md").read()
a = s.index("<!-- rules:start -->\n") + len("<!-- rules:start -->\n")
b = s.index("<!-- rules:end -->")
open("README.md", "w").write(s[:a] + table + s[b:])
PY
