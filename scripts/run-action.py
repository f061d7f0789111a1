#!/usr/bin/env python3
"""run-action.py — run the composite GitHub Action in action.yml here, the way the runner does, for tests.

usage: run-action.py ACTION_DIR [-i NAME=VALUE]... [--temp DIR]

Each `run:` step executes with `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`), its `env:`
evaluated first; GITHUB_PATH, GITHUB_OUTPUT and RUNNER_TEMP work as on a runner. Only the expressions the
action may use are understood: `inputs.X`, `github.action_path`, `github.action_repository`,
`steps.ID.outputs.X`. Refused, as the action's rules: any `${{ }}` inside `run:` (untrusted values must go
through env), a `uses:` step, an unknown input. Prints the action's outputs as one JSON line on stdout last
and exits with the failing step's exit code (0 when all passed). Needs PyYAML.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("action_dir")
    ap.add_argument("-i", "--input", action="append", default=[])
    ap.add_argument("--temp")
    a = ap.parse_args()
    action_dir = os.path.abspath(a.action_dir)
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as f:
        action = yaml.safe_load(f)
    assert action["runs"]["using"] == "composite", "not a composite action"
    declared = action.get("inputs") or {}
    inputs = {k: str(v.get("default", "")) for k, v in declared.items()}
    for kv in a.input:
        k, _, v = kv.partition("=")
        if k not in declared:
            sys.exit(f"run-action: unknown input {k!r}")
        inputs[k] = v
    temp = a.temp or tempfile.mkdtemp(prefix="runner-temp.")
    os.makedirs(temp, exist_ok=True)
    gh_path = os.path.join(temp, "github_path")
    open(gh_path, "a").close()
    outputs: dict[str, dict[str, str]] = {}

    def evaluate(text: str) -> str:
        def one(m: re.Match) -> str:
            e = m.group(1)
            if e.startswith("inputs."):
                return inputs[e[len("inputs."):]]
            if e == "github.action_path":
                return action_dir
            if e == "github.action_repository":
                return ""  # a local action (`uses: ./`) has none
            s = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", e)
            if s:
                return outputs.get(s.group(1), {}).get(s.group(2), "")
            raise SystemExit(f"run-action: unsupported expression {e!r}")
        return EXPR.sub(one, str(text))

    rc = 0
    for i, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {i}")
        if "uses" in step:
            sys.exit(f"run-action: {name}: `uses:` steps are not run here")
        script = step["run"]
        if "${{" in script:
            sys.exit(f"run-action: {name}: `${{{{ }}}}` inside run: (pass values through env)")
        assert step.get("shell") == "bash", f"{name}: shell must be bash"
        env = dict(os.environ)
        with open(gh_path, encoding="utf-8") as f:
            extra = [line.strip() for line in f if line.strip()]
        env["PATH"] = os.pathsep.join(list(reversed(extra)) + [env.get("PATH", "")])
        out_file = os.path.join(temp, f"output-{i}")
        open(out_file, "w").close()
        env.update(RUNNER_TEMP=temp, GITHUB_PATH=gh_path, GITHUB_OUTPUT=out_file, GITHUB_ACTION_PATH=action_dir)
        for k, v in (step.get("env") or {}).items():
            env[k] = evaluate(v)
        script_file = os.path.join(temp, f"step-{i}.sh")
        with open(script_file, "w", encoding="utf-8") as f:
            f.write(script)
        print(f"run-action: == {name}", file=sys.stderr, flush=True)
        rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script_file], env=env).returncode
        got = {}
        with open(out_file, encoding="utf-8") as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition("=")
                if sep:
                    got[k] = v
        if "id" in step:
            outputs[step["id"]] = got
        if rc != 0:
            print(f"run-action: {name} exited {rc}", file=sys.stderr)
            break
    result = {k: evaluate(v.get("value", "")) for k, v in (action.get("outputs") or {}).items()}
    print(json.dumps(result, sort_keys=True))
    return rc


if __name__ == "__main__":
    sys.exit(main())
