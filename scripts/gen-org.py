#!/usr/bin/env python3
"""Generate an organisation of N repository checkouts for `oidc-lint audit` at scale.

Usage: scripts/gen-org.py OUT_DIR [N]   (N defaults to 1000; output is deterministic)

Every tenth checkout is an infrastructure repository holding the IAM trust policies of the
next nine service repositories' roles; the services assume them through OIDC (so roles resolve
only across checkouts, as in a real organisation). The mix covers every verdict: trusts that
admit the job, trusts that reject it (environment vs branch), trusts wider than the job needs
(org-wide `sub`), static keys to migrate, placeholder keys for a local emulator (not migration
candidates), and roles outside the scan.
"""
import json
import os
import sys

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def git(repo_dir, name):
    write(
        os.path.join(repo_dir, ".git", "config"),
        f'[remote "origin"]\n\turl = https://github.com/acme/{name}.git\n',
    )
    write(os.path.join(repo_dir, ".git", "HEAD"), "ref: refs/heads/main\n")


def trust(service, kind):
    sub = {
        "exact": f"repo:acme/{service}:ref:refs/heads/main",
        "env": f"repo:acme/{service}:environment:production",
        "wide": "repo:acme/*",
    }[kind]
    op = "StringLike" if "*" in sub else "StringEquals"
    cond = {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    }
    cond.setdefault(op, {})["token.actions.githubusercontent.com:sub"] = sub
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": cond,
            }
        ],
    }


OIDC = """name: deploy
on:
  push:
    branches: [main]
permissions:
  contents: read
  id-token: write
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::{account}:role/{role}
          aws-region: eu-west-1
      - run: make deploy
"""

STATIC = """name: publish
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
      - run: make publish
"""

LOCAL = """name: test
on: [push]
permissions:
  contents: read
jobs:
  integration:
    runs-on: ubuntu-latest
    services:
      localstack:
        image: localstack/localstack
    env:
      AWS_ACCESS_KEY_ID: test
      AWS_SECRET_ACCESS_KEY: test
      AWS_ENDPOINT_URL: http://localhost:4566
    steps:
      - uses: actions/checkout@v4
      - run: make integration
"""


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    kinds = ["exact", "exact", "env", "wide"]
    for i in range(n):
        if i % 10 == 0:
            name = f"infra-{i // 10:03d}"
            d = os.path.join(out, name)
            git(d, name)
            for k in range(i + 1, min(i + 10, n)):
                service = f"svc-{k:04d}"
                write(
                    os.path.join(d, "iam", f"gha-{service}-deploy-trust.json"),
                    json.dumps(trust(service, kinds[k % len(kinds)]), indent=2) + "\n",
                )
            write(os.path.join(d, "README.md"), "IAM for the next nine services.\n")
            continue
        name = f"svc-{i:04d}"
        d = os.path.join(out, name)
        git(d, name)
        wf = os.path.join(d, ".github", "workflows")
        role = f"gha-{name}-deploy" if i % 13 else f"gha-{name}-elsewhere"
        write(
            os.path.join(wf, "deploy.yml"),
            OIDC.replace("{account}", ACCOUNTS[i % 3]).replace("{role}", role),
        )
        if i % 4 == 1:
            write(os.path.join(wf, "publish.yml"), STATIC)
        if i % 7 == 3:
            write(os.path.join(wf, "test.yml"), LOCAL)


if __name__ == "__main__":
    main()
