import json, os, shutil
ROOT = "fixtures/rules"
I = "token.actions.githubusercontent.com"
ACCT = "210987654321"
P = f"arn:aws:iam::{ACCT}:oidc-provider/{I}"
AUD = {f"{I}:aud": "sts.amazonaws.com"}
def st(cond=None, action="sts:AssumeRoleWithWebIdentity", principal=None, sid=None, effect="Allow"):
    s = {}
    if sid: s["Sid"] = sid
    s["Effect"] = effect
    s["Principal"] = principal if principal is not None else {"Federated": P}
    s["Action"] = action
    if cond is not None: s["Condition"] = cond
    return s
def doc(*stmts):
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)}, indent=2) + "\n"
def sub(v, op="StringLike", extra_aud=True):
    c = {}
    if extra_aud: c["StringEquals"] = dict(AUD)
    c.setdefault(op, {})[f"{I}:sub"] = v
    return c
CASES = {}
def case(rule, kind, name, files):
    CASES.setdefault(rule, []).append((kind, name, files))

R = "trust-sub-prefix-collision"
case(R, "bad", "repo-name-prefix", {"infra/iam/payments-deploy-trust.json": doc(st(sub("repo:acme/payments*")))})
case(R, "bad", "owner-prefix", {"iam/roles/ci-trust.json": doc(st(sub(["repo:acme-corp/web:ref:refs/heads/main", "repo:acme*"])))})
case(R, "bad", "branch-prefix-immutable", {"deploy/trust-policy.json": doc(st(sub("repo:acme@1029384/app@5647382:ref:refs/heads/main*")))})
case(R, "good", "delimited-wildcards", {"iam/trust.json": doc(st(sub(["repo:acme/app:ref:refs/heads/release/*", "repo:acme/app:environment:*"])))})
case(R, "good", "immutable-id-wildcards", {"iam/trust.json": doc(st(sub(["repo:acme@*/app@*:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/main"])))})
case(R, "good", "stringequals-exact-names", {"iam/app-trust.json": doc(st(sub(["repo:acme/app-api:ref:refs/heads/main", "repo:acme/app-web:ref:refs/heads/main"], op="StringEquals")))})

R = "trust-sub-repo-wide"
case(R, "bad", "github-sample-shape", {"aws/github-actions-role-trust.json": doc(st(sub("repo:acme/website:*")))})
case(R, "bad", "immutable-form", {"iam/trust.json": doc(st(sub(["repo:acme@1029384/app@5647382:*", "repo:acme/app:*"])))})
case(R, "good", "environment-pinned", {"iam/trust.json": doc(st(sub("repo:acme/website:environment:production")))})
case(R, "good", "branch-wildcard-only", {"iam/trust.json": doc(st(sub("repo:acme/website:ref:refs/heads/*")))})

R = "trust-sub-admits-pull-request"
case(R, "bad", "main-and-pull-request", {"iam/deploy-trust.json": doc(st(sub(["repo:acme/app:ref:refs/heads/main", "repo:acme/app:pull_request"], op="StringEquals")))})
case(R, "bad", "pattern-beside-environment", {"infra/trust.json": doc(st(sub(["repo:acme/app:environment:production", "repo:acme/app:pull_*"])))})
case(R, "bad", "second-statement", {"iam/trust.json": doc(
    st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), sid="Deploy"),
    st(sub("repo:acme/app:pull_request", op="StringEquals"), sid="PullRequests"))})
case(R, "good", "read-only-plan-role", {"iam/plan-trust.json": doc(st(sub("repo:acme/app:pull_request", op="StringEquals"))),
                                        "iam/deploy-trust.json": doc(st(sub("repo:acme/app:environment:production", op="StringEquals")))})
case(R, "good", "branches-only-pattern", {"iam/trust.json": doc(st(sub(["repo:acme/app:ref:refs/heads/*", "repo:acme/app:ref:refs/tags/*"])))})

R = "trust-stringequals-wildcard"
case(R, "bad", "org-pattern-under-stringequals", {"iam/trust.json": doc(st(sub("repo:acme/*", op="StringEquals")))})
case(R, "bad", "ignorecase-branch-pattern", {"iam/trust.json": doc(st({"StringEquals": dict(AUD), "StringEqualsIgnoreCase": {f"{I}:sub": ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/release-?"]}}))})
case(R, "good", "stringlike-pattern", {"iam/trust.json": doc(st(sub("repo:acme/app:ref:refs/heads/*")))})
case(R, "good", "wildcard-on-other-key", {"iam/trust.json": doc(st({"StringEquals": {**AUD, f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}, "StringLike": {f"{I}:job_workflow_ref": "acme/workflows/.github/workflows/deploy.yml@*"}}))})

R = "trust-fail-open-operator"
case(R, "bad", "forallvalues-environment", {"iam/trust.json": doc(st({"StringEquals": dict(AUD), "StringLike": {f"{I}:sub": "repo:acme/app:*"}, "ForAllValues:StringEquals": {f"{I}:environment": "production"}}))})
case(R, "bad", "ifexists-job-workflow-ref", {"iam/trust.json": doc(st({"StringEquals": {**AUD, f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}, "StringLikeIfExists": {f"{I}:job_workflow_ref": "acme/workflows/.github/workflows/deploy.yml@refs/heads/main"}}))})
case(R, "bad", "negated-environment", {"iam/trust.json": doc(st({"StringEquals": dict(AUD), "StringLike": {f"{I}:sub": "repo:acme/app:*"}, "StringNotEquals": {f"{I}:environment": "sandbox"}}))})
case(R, "good", "negated-sub-exclusion", {"iam/trust.json": doc(st({"StringEquals": dict(AUD), "StringLike": {f"{I}:sub": "repo:acme/app:environment:*"}, "StringNotLike": {f"{I}:sub": "repo:acme/app:environment:sandbox*"}}))})
case(R, "good", "deny-guard", {"iam/trust.json": doc(
    st(sub("repo:acme/app:environment:production", op="StringEquals"), sid="Allow"),
    st({"StringNotEqualsIfExists": {f"{I}:environment": "production"}}, effect="Deny", sid="OnlyProduction"))})

R = "trust-aud-mismatch"
case(R, "bad", "https-audience", {"iam/trust.json": doc(st({"StringEquals": {f"{I}:aud": "https://sts.amazonaws.com", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}}))})
case(R, "bad", "china-partition", {"iam/cn-trust.json": doc(st({"StringEquals": {f"{I}:aud": "sts.amazonaws.com.com", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": f"arn:aws-cn:iam::{ACCT}:oidc-provider/{I}"}))})
WF = """name: deploy
on:
  push:
    branches: [main]
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v5
        with:
          role-to-assume: arn:aws:iam::210987654321:role/deploy
          aws-region: eu-west-1
%s      - run: aws sts get-caller-identity
"""
case(R, "bad", "workflow-asks-other-audience", {"iam/trust.json": doc(st({"StringEquals": {f"{I}:aud": "acme-aws", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}})),
    ".github/workflows/deploy.yml": WF % "          audience: acme-deploy\n"})
case(R, "good", "workflow-custom-audience", {"iam/trust.json": doc(st({"StringEquals": {f"{I}:aud": "acme-deploy", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}})),
    ".github/workflows/deploy.yml": WF % "          audience: acme-deploy\n"})
case(R, "good", "ignorecase-and-list", {"iam/trust.json": doc(st({"StringEqualsIgnoreCase": {f"{I}:aud": ["STS.amazonaws.com", "https://github.com/acme"]}, "StringEquals": {f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}})),
    ".github/workflows/deploy.yml": WF % ""})
case(R, "good", "china-partition-cn", {"iam/cn-trust.json": doc(st({"StringEquals": {f"{I}:aud": "sts.amazonaws.com.cn", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": f"arn:aws-cn:iam::{ACCT}:oidc-provider/{I}"}))})

R = "trust-wrong-action"
case(R, "bad", "assume-role", {"iam/trust.json": doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), action="sts:AssumeRole"))})
case(R, "bad", "extra-assume-role", {"iam/trust.json": doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), action=["sts:AssumeRoleWithWebIdentity", "sts:AssumeRole"]))})
case(R, "good", "tag-session-beside", {"iam/trust.json": doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), action=["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]))})
case(R, "good", "aws-principal-assume-role", {"iam/trust.json": doc(
    st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals")),
    st(None, action="sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{ACCT}:role/admin"}))})

R = "trust-principal-wildcard"
case(R, "bad", "aws-star", {"iam/cross-account-trust.json": doc(st(None, action="sts:AssumeRole", principal={"AWS": "*"}))})
case(R, "bad", "star-with-audience-only", {"iam/trust.json": doc(st({"StringEquals": dict(AUD)}, principal="*"))})
case(R, "good", "star-with-org-id", {"iam/trust.json": doc(st({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, action="sts:AssumeRole", principal={"AWS": "*"}))})
case(R, "good", "public-bucket-policy", {"policies/website-bucket.json": json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-website/*"}]}, indent=2) + "\n"})

R = "trust-issuer-mismatch"
PS = f"arn:aws:iam::{ACCT}:oidc-provider/{I}/acme"
PG = f"arn:aws:iam::{ACCT}:oidc-provider/github.acme.internal/_services/token"
case(R, "bad", "enterprise-slug-default-keys", {"iam/trust.json": doc(st({"StringEquals": {f"{I}:aud": "sts.amazonaws.com", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": PS}))})
case(R, "bad", "ghes-with-github-com-keys", {"iam/trust.json": doc(st({"StringEquals": {"github.acme.internal/_services/token:aud": "sts.amazonaws.com", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": PG}))})
case(R, "good", "enterprise-slug-keys", {"iam/trust.json": doc(st({"StringEquals": {f"{I}/acme:aud": "sts.amazonaws.com", f"{I}/acme:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": PS}))})
case(R, "good", "two-providers", {"iam/trust.json": doc(st({"StringEquals": {f"{I}:aud": "sts.amazonaws.com", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": [PS, P]}))})

R = "trust-unanchored-custom-sub"
case(R, "bad", "environment-only", {"iam/trust.json": doc(st(sub("environment:production", op="StringEquals")))})
case(R, "bad", "job-workflow-ref-only", {"iam/trust.json": doc(st({"StringEquals": dict(AUD), "StringLike": {f"{I}:job_workflow_ref": "acme/shared-workflows/.github/workflows/deploy.yml@refs/heads/main"}}))})
case(R, "bad", "workflow-and-ref", {"iam/trust.json": doc(st(sub(["repository_owner_id:8765432:environment:production", "workflow:deploy:ref:refs/heads/main"], op="StringEquals")))})
case(R, "good", "owner-id-anchored", {"iam/trust.json": doc(st(sub("repository_owner_id:8765432:environment:production", op="StringEquals")))})
case(R, "good", "job-workflow-ref-with-owner", {"iam/trust.json": doc(st({"StringEquals": {**AUD, f"{I}:repository_owner_id": "8765432"}, "StringLike": {f"{I}:job_workflow_ref": "acme/shared-workflows/.github/workflows/deploy.yml@*", f"{I}:sub": "repo:acme/*"}}))})

R = "trust-duplicate-key"
DUP_OP = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "%s"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "%s:sub": "repo:acme/app:ref:refs/heads/main"
        },
        "StringEquals": {
          "%s:aud": "sts.amazonaws.com"
        }
      }
    }
  ]
}
""" % (P, I, I)
DUP_KEY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "%s"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {"%s:aud": "sts.amazonaws.com"},
        "StringLike": {
          "%s:sub": "repo:acme/app:environment:production",
          "Token.Actions.GithubUserContent.com:SUB": "repo:acme/*"
        }
      }
    }
  ]
}
""" % (P, I, I)
case(R, "bad", "two-stringequals-blocks", {"iam/github-trust.json": DUP_OP})
case(R, "bad", "sub-twice-differing-case", {"iam/github-trust.json": DUP_KEY})
case(R, "good", "distinct-operators", {"iam/trust.json": doc(st({"StringEquals": {**AUD, f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}, "StringLike": {f"{I}:job_workflow_ref": "acme/ops/.github/workflows/deploy.yml@refs/heads/main"}}))})
case(R, "good", "same-key-in-two-statements", {"iam/trust.json": doc(
    st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), sid="Main"),
    st(sub("repo:acme/app:environment:production", op="StringEquals"), sid="Production"))})

# Each case is one small repository, fixtures/rules/<rule>/<kind>-<name>/; only the cases
# listed here are rewritten (hand-written cases beside them are left alone).
for rule, cases in CASES.items():
    for kind, name, files in cases:
        d = os.path.join(ROOT, rule, f"{kind}-{name}")
        if os.path.isdir(d): shutil.rmtree(d)
        for path, text in files.items():
            full = os.path.join(d, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            open(full, "w").write(text)
