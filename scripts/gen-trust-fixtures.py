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

for rule, cases in CASES.items():
    for kind in ("bad", "good"):
        d = os.path.join(ROOT, rule, kind)
        if os.path.isdir(d): shutil.rmtree(d)
    for kind, name, files in cases:
        for path, text in files.items():
            full = os.path.join(ROOT, rule, kind, name, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            open(full, "w").write(text)

# --- CloudFormation (second input format) -------------------------------------------------
def yscalar(v):
    if isinstance(v, str):
        plain = v and all(c.isalnum() or c in "-_./" for c in v) and v[0].isalpha()
        return v if plain else json.dumps(v)
    return json.dumps(v)
def ydump(v, ind):
    pad = " " * ind
    out = ""
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out += f"{pad}{yscalar(k)}:\n" + ydump(x, ind + 2)
            else:
                out += f"{pad}{yscalar(k)}: {yscalar(x)}\n"
    else:
        for x in v:
            if isinstance(x, dict):
                body = ydump(x, ind + 2)
                out += f"{pad}- " + body[ind + 2:]
            else:
                out += f"{pad}- {yscalar(x)}\n"
    return out
def cfn(policy_json, name="GitHubDeployRole", provider=None, extra=""):
    pol = json.loads(policy_json)
    s = 'AWSTemplateFormatVersion: "2010-09-09"\nDescription: GitHub Actions deployment role\nResources:\n'
    if provider:
        s += provider
    s += f"  {name}:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: {name.lower()}\n      AssumeRolePolicyDocument:\n"
    s += ydump(pol, 8)
    s += "      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/PowerUserAccess\n" + extra
    return s
def cfn_provider(url, ids):
    return ("  GitHubOidcProvider:\n    Type: AWS::IAM::OIDCProvider\n    Properties:\n"
            f"      Url: {url}\n      ClientIdList:\n" + "".join(f"        - {yscalar(i)}\n" for i in ids))

T = "cloudformation/github-deploy.yaml"
case("trust-sub-prefix-collision", "bad", "cfn-environment-prefix", {T: cfn(doc(st(sub("repo:acme/app:environment:prod*"))))})
case("trust-sub-prefix-collision", "good", "cfn-release-namespace", {T: cfn(doc(st(sub("repo:acme/app:ref:refs/heads/release/*"))))})
case("trust-sub-repo-wide", "bad", "cfn-repo-wide", {T: cfn(doc(st(sub("repo:acme/app:*"))))})
case("trust-sub-repo-wide", "good", "cfn-org-wide-is-not-repo-wide", {T: cfn(doc(st(sub("repo:acme/*"))))})
case("trust-sub-admits-pull-request", "bad", "cfn-power-user-pr", {T: cfn(doc(st(sub(["repo:acme/app:environment:production", "repo:acme/app:pull_request"], op="StringEquals"))))})
case("trust-sub-admits-pull-request", "good", "cfn-read-only-role", {T: cfn(doc(st(sub(["repo:acme/app:ref:refs/heads/main", "repo:acme/app:pull_request"], op="StringEquals")))).replace("PowerUserAccess", "ReadOnlyAccess")})
case("trust-stringequals-wildcard", "bad", "cfn-stringequals-star", {T: cfn(doc(st(sub("repo:acme/app:*", op="StringEquals"))))})
case("trust-stringequals-wildcard", "good", "cfn-stringlike-star", {T: cfn(doc(st(sub("repo:acme/app:environment:*"))))})
case("trust-fail-open-operator", "bad", "cfn-ifexists-environment", {T: cfn(doc(st({"StringEquals": {**AUD, f"{I}:sub": "repo:acme/app:environment:production"}, "StringEqualsIfExists": {f"{I}:environment": "production"}})))})
case("trust-fail-open-operator", "good", "cfn-plain-operators", {T: cfn(doc(st({"StringEquals": {**AUD, f"{I}:sub": "repo:acme/app:environment:production", f"{I}:environment": "production"}})))})
case("trust-aud-mismatch", "bad", "cfn-github-default-audience", {T: cfn(doc(st({"StringEquals": {f"{I}:aud": "https://github.com/acme", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}})))})
case("trust-aud-mismatch", "good", "cfn-provider-lists-audience", {T: cfn(doc(st({"StringEquals": {f"{I}:aud": "https://github.com/acme", f"{I}:sub": "repo:acme/app:ref:refs/heads/main"}})), provider=cfn_provider("https://token.actions.githubusercontent.com", ["sts.amazonaws.com", "https://github.com/acme"]))})
case("trust-wrong-action", "bad", "cfn-assume-role", {T: cfn(doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), action=["sts:AssumeRole"])))})
case("trust-wrong-action", "good", "cfn-set-source-identity", {T: cfn(doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), action=["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"])))})
case("trust-principal-wildcard", "bad", "cfn-federated-star", {T: cfn(doc(st({"StringEquals": dict(AUD)}, principal={"Federated": "*"})))})
case("trust-principal-wildcard", "good", "cfn-star-with-source-account", {T: cfn(doc(st({"StringEquals": {"aws:PrincipalAccount": "210987654321"}}, action="sts:AssumeRole", principal={"AWS": "*"})))})
case("trust-issuer-mismatch", "bad", "cfn-slug-provider-default-keys", {T: cfn(doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"), principal={"Federated": PS})))})
case("trust-issuer-mismatch", "good", "cfn-ghes-keys", {T: cfn(doc(st({"StringEquals": {"github.acme.internal/_services/token:aud": "sts.amazonaws.com", "github.acme.internal/_services/token:sub": "repo:acme/app:ref:refs/heads/main"}}, principal={"Federated": PG})))})
case("trust-unanchored-custom-sub", "bad", "cfn-workflow-claim", {T: cfn(doc(st(sub("workflow:Deploy to production", op="StringEquals"))))})
case("trust-unanchored-custom-sub", "good", "cfn-repository-id-condition", {T: cfn(doc(st({"StringEquals": {**AUD, f"{I}:sub": "environment:production", f"{I}:repository_id": "5647382"}})))})
CFNJ = "cloudformation/github-deploy.template.json"
def cfn_json(policy_text):
    body = "\n".join("        " + l if l else l for l in policy_text.rstrip().split("\n"))
    return ('{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {\n    "GitHubDeployRole": {\n'
            '      "Type": "AWS::IAM::Role",\n      "Properties": {\n        "AssumeRolePolicyDocument": '
            + body.lstrip() + '\n      }\n    }\n  }\n}\n')
case("trust-duplicate-key", "bad", "cfn-json-duplicate-operator", {CFNJ: cfn_json(DUP_OP)})
case("trust-duplicate-key", "good", "cfn-json-merged-operator", {CFNJ: cfn_json(doc(st(sub("repo:acme/app:ref:refs/heads/main", op="StringEquals"))))})

R = "provider-missing-audience"
def prov_only(url, ids): return 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n' + cfn_provider(url, ids)
case(R, "bad", "cfn-github-audience-only", {"infra/oidc-provider.yaml": prov_only("https://token.actions.githubusercontent.com", ["https://github.com/acme"])})
case(R, "bad", "workflow-custom-audience", {"infra/oidc-provider.yaml": prov_only("https://token.actions.githubusercontent.com", ["sts.amazonaws.com"]),
    ".github/workflows/deploy.yml": WF % "          audience: acme-deploy\n"})
case(R, "good", "cfn-sts-audience", {"infra/oidc-provider.yaml": prov_only("https://token.actions.githubusercontent.com", ["sts.amazonaws.com"])})
case(R, "good", "not-github-provider", {"infra/oidc-provider.yaml": prov_only("https://gitlab.com", ["https://gitlab.com"])})
case(R, "good", "export-with-audience", {"audit/get-open-id-connect-provider.json": json.dumps({"Url": "token.actions.githubusercontent.com", "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": ["6938fd4d98bab03faadb97b34396831e3780aea1"], "CreateDate": "2024-03-01T10:00:00+00:00", "Tags": []}, indent=4) + "\n"})
R = "provider-url-invalid"
case(R, "bad", "cfn-trailing-slash", {"infra/oidc-provider.yaml": prov_only("https://token.actions.githubusercontent.com/", ["sts.amazonaws.com"])})
case(R, "bad", "cfn-typo-host", {"infra/oidc-provider.yaml": prov_only("https://token.actions.githubusercontent.co", ["sts.amazonaws.com"])})
case(R, "good", "cfn-enterprise-slug", {"infra/oidc-provider.yaml": prov_only("https://token.actions.githubusercontent.com/acme-corp", ["sts.amazonaws.com"])})
case(R, "good", "cfn-ghes", {"infra/oidc-provider.yaml": prov_only("https://github.acme.internal/_services/token", ["sts.amazonaws.com"])})

def export(url, ids):
    return json.dumps({"Url": url, "ClientIDList": ids, "ThumbprintList": ["6938fd4d98bab03faadb97b34396831e3780aea1"], "CreateDate": "2024-03-01T10:00:00+00:00", "Tags": []}, indent=4) + "\n"
case("provider-missing-audience", "bad", "export-without-sts", {"audit/get-open-id-connect-provider.json": export("token.actions.githubusercontent.com", ["https://github.com/acme"])})
case("provider-url-invalid", "bad", "export-trailing-slash", {"audit/get-open-id-connect-provider.json": export("token.actions.githubusercontent.com/", ["sts.amazonaws.com"])})
case("provider-url-invalid", "good", "export-without-scheme", {"audit/get-open-id-connect-provider.json": export("token.actions.githubusercontent.com", ["sts.amazonaws.com"])})

# --- Terraform (third input format) --------------------------------------------------------
TF_PROVIDER = """resource "aws_iam_openid_connect_provider" "github" {
  url             = "%s"
  client_id_list  = [%s]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}
"""
def tf_provider(url, ids):
    return TF_PROVIDER % (url, ", ".join(json.dumps(i) for i in ids))
def tf_doc(conditions, actions='["sts:AssumeRoleWithWebIdentity"]'):
    conds = "".join(f"""
    condition {{
      test     = "{t}"
      variable = "{v}"
      values   = [{", ".join(json.dumps(x) for x in vals)}]
    }}
""" for t, v, vals in conditions)
    return f"""data "aws_iam_policy_document" "github_trust" {{
  statement {{
    effect  = "Allow"
    actions = {actions}

    principals {{
      type        = "Federated"
      identifiers = ["arn:aws:iam::{ACCT}:oidc-provider/{I}"]
    }}
{conds}  }}
}}

resource "aws_iam_role" "deploy" {{
  name               = "github-deploy"
  assume_role_policy = data.aws_iam_policy_document.github_trust.json
}}
"""
TFA = (f"StringEquals", f"{I}:aud", ["sts.amazonaws.com"])
M = "terraform/github-oidc.tf"
case("provider-url-invalid", "bad", "tf-http-scheme", {M: tf_provider("http://token.actions.githubusercontent.com", ["sts.amazonaws.com"])})
case("provider-url-invalid", "good", "tf-default-url", {M: tf_provider("https://token.actions.githubusercontent.com", ["sts.amazonaws.com"])})
case("provider-missing-audience", "bad", "tf-github-audience-only", {M: tf_provider("https://token.actions.githubusercontent.com", ["https://github.com/acme"])})
case("provider-missing-audience", "good", "tf-china-audience", {M: tf_provider("https://token.actions.githubusercontent.com", ["sts.amazonaws.com.cn"])})
case("trust-stringequals-wildcard", "bad", "tf-policy-document-stringequals", {M: tf_doc([TFA, ("StringEquals", f"{I}:sub", ["repo:acme/app:ref:refs/heads/*"])])})
case("trust-stringequals-wildcard", "good", "tf-policy-document-stringlike", {M: tf_doc([TFA, ("StringLike", f"{I}:sub", ["repo:acme/app:ref:refs/heads/*"])])})
case("trust-sub-admits-pull-request", "bad", "tf-policy-document-merged", {M: tf_doc([TFA, ("StringEquals", f"{I}:sub", ["repo:acme/app:ref:refs/heads/main"]), ("StringEquals", f"{I}:sub", ["repo:acme/app:pull_request"])])})
case("trust-sub-admits-pull-request", "good", "tf-policy-document-environment", {M: tf_doc([TFA, ("StringEquals", f"{I}:sub", ["repo:acme/app:environment:production"])])})
case("trust-duplicate-key", "bad", "tf-jsonencode-duplicate-operator", {M: f"""resource "aws_iam_role" "deploy" {{
  name = "github-deploy"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = "arn:aws:iam::{ACCT}:oidc-provider/{I}" }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        StringEquals = {{ "{I}:sub" = "repo:acme/app:ref:refs/heads/main" }}
        StringEquals = {{ "{I}:aud" = "sts.amazonaws.com" }}
      }}
    }}]
  }})
}}
"""})
case("trust-duplicate-key", "good", "tf-policy-document-two-condition-blocks", {M: tf_doc([TFA, ("StringEquals", f"{I}:sub", ["repo:acme/app:ref:refs/heads/main"])])})
case("trust-wrong-action", "bad", "tf-policy-document-assume-role", {M: tf_doc([TFA, ("StringEquals", f"{I}:sub", ["repo:acme/app:ref:refs/heads/main"])], actions='["sts:AssumeRole"]')})
case("trust-wrong-action", "good", "tf-policy-document-tag-session", {M: tf_doc([TFA, ("StringEquals", f"{I}:sub", ["repo:acme/app:ref:refs/heads/main"])], actions='["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]')})

for rule, cases in CASES.items():
    for kind in ("bad", "good"):
        d = os.path.join(ROOT, rule, kind)
        if os.path.isdir(d): shutil.rmtree(d)
    for kind, name, files in cases:
        for path, text in files.items():
            full = os.path.join(ROOT, rule, kind, name, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            open(full, "w").write(text)
