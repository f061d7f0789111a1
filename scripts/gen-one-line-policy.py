#!/usr/bin/env python3
"""Write a trust policy of N statements on one line (no newline at all) to stdout.

Each statement has a fixable finding (`ForAllValues:StringLike` fails open, no `aud` condition:
an inserted entry) and a repository-wide `sub`. Used to measure fix construction on one-line
files: `scripts/gen-one-line-policy.py 68000 > iam/big.json` is about 10 MB.
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 68000
P = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
parts = []
for i in range(n):
    parts.append(
        '{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity",'
        '"Condition":{"ForAllValues:StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/app%d:*"}}}'
        % (P, i)
    )
sys.stdout.write('{"Version":"2012-10-17","Statement":[' + ",".join(parts) + "]}")
