#!/usr/bin/env python3
"""Regenerate data/aws-managed-policies/policies.tsv, the compact snapshot of the AWS-managed
IAM policies that oidc-lint judges attached managed policies by.

Source: the moto project (https://github.com/getmoto/moto, Apache-2.0), whose file
`moto/iam/aws_managed_policies.py` holds every AWS-managed policy with its default version's
document, as `aws iam list-policies --scope AWS` + `get-policy-version` return them. The file
is read as text and the JSON between its triple quotes is parsed: nothing of moto is imported
or executed.

Usage:
    scripts/update-managed-policies.py PATH [--commit SHA] [--date YYYY-MM-DD]

PATH is a checkout of moto (its `moto/iam/aws_managed_policies.py` is read) or that file
itself. In a git work tree the commit and its date are read with `git log`; pass them with
--commit/--date otherwise (e.g. for a file taken out of a bare repository with `git show`).
Then update data/aws-managed-policies/SOURCE.md with the same commit and date.

Format: a first line `# {json}` with the source, commit, date and license, then one line per
policy, sorted by name: `NAME<TAB>PATH<TAB>DEFAULT_VERSION<TAB>STATEMENTS`, the statements a
minified JSON array (so the reader indexes lines at once and parses a policy only when it is
looked up). Per statement only what the rules judge is kept: `e` (`A`llow or `D`eny), `a`
or `na` (Action / NotAction as one string grouped by service,
`ec2:DescribeImages,DescribeVpcs;s3:GetObject`: IAM action names hold no `:`, `,` or `;`),
`r` or `nr` (Resource / NotResource), `c` (conditions as `[operator, key, [values]]`). Sids,
dates and counters are dropped. Service-linked role policies (path `/aws-service-role/`) keep
their line but no statements: IAM refuses to attach them to any other role, so their contents
never decide a finding. The same input gives the same bytes.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "aws-managed-policies", "policies.tsv")
MOTO_FILE = os.path.join("moto", "iam", "aws_managed_policies.py")


def as_list(v):
    if v is None:
        return None
    return v if isinstance(v, list) else [v]


def conditions(c):
    """`{"StringEquals": {"iam:PassedToService": "x"}}` -> `[["StringEquals", "iam:PassedToService", ["x"]]]`."""
    out = []
    for op, block in sorted((c or {}).items()):
        if not isinstance(block, dict):
            raise SystemExit(f"unexpected condition block under {op!r}: {block!r}")
        for key, values in sorted(block.items()):
            out.append([op, key, [str(v) for v in as_list(values)]])
    return out


def grouped(actions):
    """`["ec2:A", "s3:B", "ec2:C"]` -> `"ec2:A,C;s3:B"` (services in order of first use)."""
    by = {}
    for a in actions:
        a = str(a)
        if any(ch in a for ch in ",;") or a.count(":") > 1:
            raise SystemExit(f"unexpected action {a!r}")
        svc, sep, rest = a.partition(":")
        if not sep:
            svc, rest = "", a
        by.setdefault(svc, []).append(rest)
    return ";".join((svc + ":" if svc else "") + ",".join(names) for svc, names in by.items())


def statement(s):
    out = {}
    effect = s.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise SystemExit(f"unexpected Effect {effect!r}")
    out["e"] = "A" if effect == "Allow" else "D"
    if "Action" in s:
        out["a"] = grouped(as_list(s["Action"]))
    elif "NotAction" in s:
        out["na"] = grouped(as_list(s["NotAction"]))
    if "Resource" in s:
        out["r"] = as_list(s["Resource"])
    elif "NotResource" in s:
        out["nr"] = as_list(s["NotResource"])
    if s.get("Condition"):
        out["c"] = conditions(s["Condition"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="a moto checkout, or its moto/iam/aws_managed_policies.py")
    ap.add_argument("--commit", help="source commit (read from git when PATH is a work tree)")
    ap.add_argument("--date", help="source commit date, YYYY-MM-DD")
    ap.add_argument("--out", default=OUT, help="output file (default: %(default)s)")
    args = ap.parse_args()

    path = args.path
    if os.path.isdir(path):
        checkout = path
        path = os.path.join(path, MOTO_FILE)
    else:
        checkout = os.path.dirname(os.path.abspath(path))
    commit, date = args.commit, args.date
    if not commit or not date:
        try:
            log = subprocess.run(
                ["git", "-C", checkout, "log", "-1", "--format=%H %cs", "--", MOTO_FILE if os.path.isdir(args.path) else path],
                check=True, capture_output=True, text=True,
            ).stdout.split()
            commit, date = commit or log[0], date or log[1]
        except (subprocess.CalledProcessError, IndexError, FileNotFoundError):
            sys.exit("not a git work tree: pass --commit and --date")

    text = open(path, encoding="utf-8").read()
    start, end = text.find('"""'), text.rfind('"""')
    if start < 0 or end <= start:
        sys.exit(f"{path}: no triple-quoted JSON found")
    data = json.loads(text[start + 3:end])

    policies = {}
    for name, p in sorted(data.items()):
        doc = p["Document"]
        if isinstance(doc, str):  # URL-encoded, as the raw API returns it
            from urllib.parse import unquote
            doc = json.loads(unquote(doc))
        stmts = doc.get("Statement", [])
        if isinstance(stmts, dict):
            stmts = [stmts]
        path = p.get("Path", "/")
        policies[name] = {
            "p": path,
            "v": p.get("DefaultVersionId", ""),
            "s": [] if path == "/aws-service-role/" else [statement(s) for s in stmts],
        }
    meta = {
        "source": "https://github.com/getmoto/moto/blob/%s/%s" % (commit, MOTO_FILE.replace(os.sep, "/")),
        "license": "Apache-2.0",
        "commit": commit,
        "date": date,
        "policies": len(policies),
    }
    lines = ["# " + json.dumps(meta, sort_keys=True, separators=(",", ":"))]
    for name, p in policies.items():
        for field in (name, p["p"], p["v"]):
            if any(ch in field for ch in "\t\n\r"):
                sys.exit(f"unexpected whitespace in {field!r}")
        stmts = json.dumps(p["s"], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        lines.append("\t".join((name, p["p"], p["v"], stmts)))
    body = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="ascii", newline="\n") as f:
        f.write(body)
    print(f"{len(policies)} policies, {len(body)} bytes -> {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
