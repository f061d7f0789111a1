#!/usr/bin/env python3
"""Latency of `oidc-lint server` after an edit, measured over stdio like an editor.

Generates (or reuses) the benchmark tree of /work/shared/research/gen-bench-corpus.py
(about 1,150 files: workflows, Terraform, IAM JSON, CloudFormation, a plan), starts the
server on it, waits for the initial check, opens one workflow and then, EDITS times, changes
it (incremental didChange, alternating a finding in and out) and asks for its diagnostics
(textDocument/diagnostic). It reports the median and 90th percentile of the time from sending
the change to receiving that file's diagnostics (and the server's CPU time per edit, which a loaded
machine does not inflate), and the server's resident memory after the
initial check and after every edit (to show it stays bounded).

Usage: bench/lsp-latency.py [--bin target/release/oidc-lint] [--tree DIR] [--edits 500]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def cpu_ns(pid):
    """CPU time of every thread of the process so far, in nanoseconds (schedstat): on a loaded
    machine the wall-clock latency measures the other processes too; this does not."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    def __init__(self, argv, cwd):
        self.p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit("server closed stdout")
            line = line.strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        msg = json.loads(self.p.stdout.read(length))
        if "method" in msg and "id" in msg:  # the server's own requests
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        return msg

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == rid and "method" not in m:
                return m.get("result")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/oidc-lint")
    ap.add_argument("--tree", default="/tmp/oidc-lint-lsp-bench")
    ap.add_argument("--edits", type=int, default=500)
    a = ap.parse_args()
    if not os.path.isdir(a.tree):
        gen = "/work/shared/research/gen-bench-corpus.py"
        subprocess.run([sys.executable, gen, "--out", a.tree], check=True, stdout=subprocess.DEVNULL)
    root = os.path.realpath(a.tree)
    files = sum(len(f) for _, _, f in os.walk(root))
    s = Server([os.path.abspath(a.bin), "server"], root)
    t0 = time.perf_counter()
    s.request("initialize", {"processId": None, "rootUri": "file://" + root,
                             "capabilities": {"window": {"workDoneProgress": True}}})
    s.notify("initialized", {})
    while True:
        m = s.read()
        if m.get("method") == "$/progress" and m["params"]["value"]["kind"] == "end":
            break
    initial = time.perf_counter() - t0
    rss_initial = rss_kib(s.p.pid)
    wf = os.path.join(root, ".github/workflows/wf-0001.yml")
    uri = "file://" + wf
    text = open(wf).read()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml",
                                                       "version": 1, "text": text}})
    s.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    # The edit: the workflow-level `permissions:` line toggled between `id-token: write`
    # granted and not (a finding appears and disappears), as an incremental change.
    lines = text.split("\n")
    at = next((i for i, l in enumerate(lines) if "id-token:" in l), 0)
    old = lines[at]
    new = old.replace("write", "read") if "write" in old else old.replace("read", "write")
    lat, cpu, rss, counts = [], [], [], set()
    for n in range(a.edits):
        cur, nxt = (old, new) if n % 2 == 0 else (new, old)
        change = {"range": {"start": {"line": at, "character": 0},
                            "end": {"line": at, "character": len(cur)}}, "text": nxt}
        t = time.perf_counter()
        c = cpu_ns(s.p.pid)
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": n + 2},
                                            "contentChanges": [change]})
        r = s.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((cpu_ns(s.p.pid) - c) / 1e6)
        counts.add(len(r["items"]))
        rss.append(rss_kib(s.p.pid))
    s.request("shutdown", None)
    s.notify("exit", None)
    code = s.p.wait()
    lat.sort()
    cpu.sort()
    print(f"tree: {root} ({files} files); binary: {a.bin}")
    print(f"initial check (to progress end): {initial * 1000:.0f} ms; RSS {rss_initial / 1024:.1f} MiB")
    print(f"{a.edits} edits of one workflow: median {statistics.median(lat):.2f} ms, "
          f"p90 {pct(lat, 0.9):.2f} ms, p95 {pct(lat, 0.95):.2f} ms, max {lat[-1]:.2f} ms")
    print(f"server CPU time per edit (all threads): median {statistics.median(cpu):.2f} ms, "
          f"p95 {pct(cpu, 0.95):.2f} ms")
    print(f"diagnostic counts seen for the file: {sorted(counts)} (the edit toggles a finding)")
    print(f"RSS after edit 1: {rss[0] / 1024:.1f} MiB, after edit {len(rss) // 2}: "
          f"{rss[len(rss) // 2] / 1024:.1f} MiB, after edit {len(rss)}: {rss[-1] / 1024:.1f} MiB")
    print(f"exit code {code}")
    return 0 if code == 0 and len(counts) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
