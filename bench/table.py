#!/usr/bin/env python3
"""Print bench/run.sh's side-by-side table from hyperfine JSON exports.

usage: table.py ROWS SIZES
  ROWS   lines `label|scope|hyperfine.json|peak RSS KiB`
  SIZES  lines `scope files bytes`
"""
import json
import statistics
import sys


def main():
    rows_path, sizes_path = sys.argv[1:3]
    sizes = {}
    for line in open(sizes_path):
        name, files, size = line.split()
        sizes[name] = (int(files), int(size))
    rows = []
    for line in open(rows_path):
        label, scope, path, rss = line.rstrip("\n").split("|")
        try:
            res = json.load(open(path))["results"][0]
        except (OSError, ValueError, KeyError, IndexError):
            continue
        rows.append((label, scope, statistics.median(res["times"]), len(res["times"]), int(rss or 0)))
    by = {r[0]: r for r in rows}
    ours = by.get("oidc-lint")
    floor = by.get("floor: parse, no rules")

    print("| tool | scope | files | MB | median | runs | files/s | MB/s | peak RSS | vs oidc-lint |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, scope, med, runs, rss in rows:
        files, size = sizes.get(scope, (0, 0))
        mb = size / 1e6
        ratio = ""
        if ours and label != "oidc-lint" and scope.startswith("gen"):
            ratio = f"{med / ours[2]:.1f}x"
        print(
            f"| {label} | {scope} | {files} | {mb:.2f} | {fmt(med)} | {runs} | "
            f"{files / med:,.0f} | {mb / med:.1f} | {rss / 1024:.1f} MiB | {ratio} |"
        )
    print()
    if ours:
        print("Targets (scope: generated tree unless noted):")
        checks = []
        al = by.get("actionlint (workflows)")
        if al:
            checks.append(("faster than actionlint on the workflows alone", ours[2] < al[2], f"{fmt(ours[2])} vs {fmt(al[2])}"))
        z = by.get("zizmor")
        if z:
            checks.append((">= 5x faster than zizmor", z[2] / ours[2] >= 5, f"{z[2] / ours[2]:.1f}x"))
        c = by.get("checkov (4 frameworks)")
        if c:
            checks.append((">= 200x faster than checkov", c[2] / ours[2] >= 200, f"{c[2] / ours[2]:.0f}x"))
        if floor:
            checks.append(("within 2x of the parse-only floor", ours[2] <= 2 * floor[2], f"{ours[2] / floor[2]:.2f}x"))
        t = by.get("oidc-lint typical repo")
        if t:
            checks.append(("< 50 ms on a typical repository", t[2] < 0.050, fmt(t[2])))
        checks.append(("< 50 MB peak RSS", ours[4] * 1024 < 50e6, f"{ours[4] / 1024:.1f} MiB"))
        x1, x10 = by.get("oidc-lint corpus x1"), by.get("oidc-lint corpus x10")
        if x1 and x10:
            checks.append(("peak RSS flat from corpus x1 to x10", x10[4] < 2 * x1[4], f"{x1[4] / 1024:.1f} -> {x10[4] / 1024:.1f} MiB"))
        for what, ok, detail in checks:
            print(f"- [{'x' if ok else ' '}] {what}: {detail}")


def fmt(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
