#!/usr/bin/env python3
"""Score an oidc-lint build against the hand-written labels in eval/labels.toml.

Usage:
  eval/score.py --bin PATH/oidc-lint --checkouts /tmp/eval-checkouts \
      [--mirror /work/.mirror] [--labels eval/labels.toml] [--json out.json] [--markdown out.md]

Each labelled repository must be checked out at its labelled commit in CHECKOUTS/owner+name
(the layout of /work/.mirror). With --mirror, missing checkouts are created with
`git --git-dir=MIRROR/owner+name/repo archive COMMIT | tar -x` (needs the commit in the mirror).

For each repository the binary is run as
  oidc-lint --format json --exit-zero --repo owner/name .
from inside the checkout (so paths are relative; --repo stands in for the `origin` remote a
real clone would have). A finding matches a label when rule and path are equal and the line is
within +-2 of the label's line or of one of its `also` locations.

Scoring:
  - a finding that matches a label is a true positive (several findings on one label all count as
    true positives, but recall counts the label once);
  - a finding that matches a `disputed` label is neither: it is listed separately;
  - any other finding is a false positive, attributed to its rule (split into findings in files the
    labeller read and files nobody read, and flagged when the file is listed as `clean`);
  - recall is over labels with scope "github-aws" (what oidc-lint covers today); labels of other
    scopes (tfc-aws, gitlab-aws, circleci-aws, gcp, azure, other-format) are reported in their own
    table, so the lead can see how much of the wider problem the tool already catches.
Exit status: 0 when scored (whatever the numbers), 2 on setup errors.
"""

import argparse
import json
import os
import subprocess
import sys
import tarfile
import io
import tomllib
from collections import defaultdict

TOL = 2


def parse_loc(s):
    path, _, line = s.rpartition(":")
    return path, int(line)


def ensure_checkout(repo, checkouts, mirror):
    d = os.path.join(checkouts, repo["name"].replace("/", "+"))
    if os.path.isdir(d):
        return d
    if not mirror:
        return None
    gd = os.path.join(mirror, repo["name"].replace("/", "+"), "repo")
    if not os.path.isdir(gd):
        return None
    p = subprocess.run(["git", "--git-dir", gd, "archive", "--format=tar", repo["commit"]], capture_output=True)
    os.makedirs(d)
    if p.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(p.stdout)) as t:
            t.extractall(d, filter="data")
        return d
    # Snapshots lack their largest blobs (and LFS content): write every regular file that is
    # present, skip the missing ones, symlinks and submodules.
    tree = subprocess.run(["git", "--git-dir", gd, "ls-tree", "-r", "-z", repo["commit"]],
                          capture_output=True, check=True).stdout.split(b"\0")
    entries = []
    for e in tree:
        if not e:
            continue
        meta, path = e.split(b"\t", 1)
        mode, typ, sha = meta.split()
        if typ == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha, path.decode("utf-8", "surrogateescape")))
    cat = subprocess.Popen(["git", "--git-dir", gd, "cat-file", "--batch"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    for sha, path in entries:
        cat.stdin.write(sha + b"\n")
        cat.stdin.flush()
        head = cat.stdout.readline().split()
        if len(head) < 3 or head[1] != b"blob":
            continue
        data = cat.stdout.read(int(head[2]))
        cat.stdout.read(1)
        target = os.path.realpath(os.path.join(d, path))
        if not target.startswith(os.path.realpath(d) + os.sep):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
    cat.stdin.close()
    cat.wait()
    return d


def default_branch(repo, mirror):
    """The repository's default branch, as a clone's `origin/HEAD` names it: the snapshot's
    symbolic HEAD (`refs/heads/main`). None without a mirror or a symbolic HEAD."""
    if not mirror:
        return None
    gd = os.path.join(mirror, repo["name"].replace("/", "+"), "repo")
    p = subprocess.run(["git", "--git-dir", gd, "symbolic-ref", "-q", "HEAD"], capture_output=True, text=True)
    ref = p.stdout.strip()
    return ref[len("refs/heads/"):] if p.returncode == 0 and ref.startswith("refs/heads/") else None


def run_tool(binary, repo, d, mirror=None):
    cmd = [binary, "--format", "json", "--exit-zero", "--repo", repo["name"]]
    # (a checkout made from an archive has no `origin/HEAD`; a clone would)
    branch = default_branch(repo, mirror)
    if branch:
        cmd += ["--default-branch", branch]
    p = subprocess.run(cmd + ["."], cwd=d, capture_output=True, text=True, timeout=600)
    # --exit-zero still exits 2 when some input could not be read; the report is complete then.
    if p.returncode not in (0, 2):
        return None, f"exit {p.returncode}: {p.stderr.strip()[:300]}"
    try:
        return json.loads(p.stdout), None
    except json.JSONDecodeError as e:
        return None, f"bad json: {e}"


def norm(path):
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def matches(label, f):
    if label["rule"] != f["rule"]:
        return False
    locs = [(label["path"], label["line"])] + [parse_loc(a) for a in label.get("also", [])]
    return any(norm(p) == f["path"] and abs(int(l) - f["line"]) <= TOL for p, l in locs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--checkouts", required=True)
    ap.add_argument("--mirror")
    ap.add_argument("--labels", default=os.path.join(os.path.dirname(__file__), "labels.toml"))
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--only", help="comma-separated owner/name to score")
    a = ap.parse_args()

    with open(a.labels, "rb") as fh:
        repos = tomllib.load(fh)["repo"]
    if a.only:
        keep = set(a.only.split(","))
        repos = [r for r in repos if r["name"] in keep]
    os.makedirs(a.checkouts, exist_ok=True)

    per_rule = defaultdict(lambda: dict(labels=0, recalled=0, findings=0, tp=0, fp=0, fp_unread=0))
    other_scope = defaultdict(lambda: dict(labels=0, recalled=0))
    misses, fps, disputed_hits, clean_alarms, setup_errors, tool_errors = [], [], [], [], [], []
    n_findings = 0
    for repo in repos:
        d = ensure_checkout(repo, a.checkouts, a.mirror)
        if d is None:
            setup_errors.append(f"{repo['name']}: no checkout")
            continue
        out, err = run_tool(a.bin, repo, d, a.mirror)
        if err:
            setup_errors.append(f"{repo['name']}: {err}")
            continue
        for e in out.get("errors", []):
            tool_errors.append(dict(repo=repo["name"], **{k: e.get(k) for k in ("path", "line", "message")}))
        labels = repo.get("findings", [])
        hit = [False] * len(labels)
        read = {norm(p) for p in repo.get("files", [])} | {norm(l["path"]) for l in labels}
        clean = {norm(p) for p in repo.get("clean", [])}
        for f in out.get("findings", []):
            f = dict(f, path=norm(f["path"]))
            n_findings += 1
            idx = [i for i, l in enumerate(labels) if matches(l, f)]
            if idx and all(labels[i].get("disputed") for i in idx):
                disputed_hits.append(dict(repo=repo["name"], rule=f["rule"], path=f["path"], line=f["line"]))
                continue
            s = per_rule[f["rule"]]
            s["findings"] += 1
            if idx:
                s["tp"] += 1
                for i in idx:
                    hit[i] = True
            else:
                s["fp"] += 1
                if f["path"] not in read:
                    s["fp_unread"] += 1
                rec = dict(repo=repo["name"], rule=f["rule"], severity=f.get("severity"), path=f["path"],
                           line=f["line"], message=f.get("message", ""), read=f["path"] in read,
                           clean=f["path"] in clean)
                fps.append(rec)
                if f["path"] in clean:
                    clean_alarms.append(rec)
        for l, h in zip(labels, hit):
            if l.get("disputed"):
                continue
            scope = l.get("scope", "github-aws")
            if scope == "github-aws":
                s = per_rule[l["rule"]]
                s["labels"] += 1
                s["recalled"] += h
                if not h:
                    misses.append(dict(repo=repo["name"], **{k: l[k] for k in ("rule", "path", "line", "reason")}))
            else:
                o = other_scope[(scope, l["rule"])]
                o["labels"] += 1
                o["recalled"] += h

    def ratio(n, d):
        return f"{n / d:.2f}" if d else "-"

    lines = []
    tl = sum(s["labels"] for s in per_rule.values())
    tr = sum(s["recalled"] for s in per_rule.values())
    tf = sum(s["findings"] for s in per_rule.values())
    tt = sum(s["tp"] for s in per_rule.values())
    tfu = sum(s["fp_unread"] for s in per_rule.values())
    lines.append(f"repositories scored: {len(repos) - len(setup_errors)} of {len(repos)}; "
                 f"findings: {n_findings}; in-scope labels: {tl}")
    lines.append("")
    lines.append("| rule | labels | recalled | recall | findings | TP | FP (unread files) | precision |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rule in sorted(per_rule):
        s = per_rule[rule]
        lines.append(f"| {rule} | {s['labels']} | {s['recalled']} | {ratio(s['recalled'], s['labels'])} | "
                     f"{s['findings']} | {s['tp']} | {s['fp']} ({s['fp_unread']}) | {ratio(s['tp'], s['findings'])} |")
    lines.append(f"| **all** | {tl} | {tr} | {ratio(tr, tl)} | {tf} | {tt} | {tf - tt} ({tfu}) | {ratio(tt, tf)} |")
    lines.append("")
    if other_scope:
        lines.append("Labels outside today's scope (recall only):")
        lines.append("")
        lines.append("| scope | rule | labels | recalled |")
        lines.append("| --- | --- | ---: | ---: |")
        for (scope, rule), o in sorted(other_scope.items()):
            lines.append(f"| {scope} | {rule} | {o['labels']} | {o['recalled']} |")
        lines.append("")
    lines.append(f"false alarms on files labelled clean: {len(clean_alarms)}")
    lines.append(f"findings on disputed labels (not scored): {len(disputed_hits)}")
    lines.append(f"input errors reported by the tool: {len(tool_errors)}")
    if setup_errors:
        lines.append("setup errors: " + "; ".join(setup_errors))
    lines.append("")
    lines.append("Misses:")
    for m in misses:
        lines.append(f"- {m['repo']} {m['path']}:{m['line']} {m['rule']}: {m['reason']}")
    lines.append("")
    lines.append("False positives:")
    for f in fps:
        tag = "clean" if f["clean"] else ("read" if f["read"] else "unread")
        lines.append(f"- [{tag}] {f['repo']} {f['path']}:{f['line']} {f['rule']}: {f['message'][:160]}")
    if disputed_hits:
        lines.append("")
        lines.append("Disputed (not scored):")
        for f in disputed_hits:
            lines.append(f"- {f['repo']} {f['path']}:{f['line']} {f['rule']}")
    if tool_errors:
        lines.append("")
        lines.append("Tool input errors:")
        for e in tool_errors:
            lines.append(f"- {e['repo']} {e['path']}:{e['line']} {str(e['message'])[:160]}")
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write(text + "\n")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(dict(per_rule=per_rule, other_scope={f"{k[0]}/{k[1]}": v for k, v in other_scope.items()},
                           misses=misses, false_positives=fps, disputed=disputed_hits,
                           tool_errors=tool_errors, setup_errors=setup_errors), fh, indent=1, sort_keys=True)
    return 0 if not setup_errors else 2


if __name__ == "__main__":
    sys.exit(main())
