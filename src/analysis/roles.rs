//! The roles a scan defines, with their trust policy and what their permissions allow: IaC
//! roles by their `name`/`RoleName`, and bare IAM JSON trust policy files by their file stem
//! with a trust suffix removed (`iam/deploy-trust.json` is role `deploy`), their permission
//! policies being the JSON files beside them with the same stem once a permission suffix is
//! removed.

use crate::analysis::trust::{DEFAULT_ISSUER, federated_issuer, is_github_issuer};
use crate::model::{PolicyDoc, PolicyKind, SStr, Scan};
use crate::source::{FileId, Format, Span};
use std::collections::{BTreeMap, BTreeSet};

/// Whether a role's permissions allow writes, and where that is seen.
#[derive(Clone, Debug)]
pub struct WriteAccess {
    pub file: FileId,
    pub span: Span,
    pub what: String,
}

/// A role defined in the scan.
#[derive(Clone, Debug)]
pub struct RoleDef<'a> {
    pub file: FileId,
    pub span: Span,
    /// The role's name (what `role-to-assume` ARNs end with).
    pub name: String,
    /// Where it is named in messages.
    pub owner: String,
    pub trust: Option<&'a PolicyDoc>,
    /// `Some(Some(w))`: it can write (first evidence); `Some(None)`: read-only; `None`: not
    /// known from the scan.
    pub write: Option<Option<WriteAccess>>,
}

const READ_VERBS: &[&str] = &[
    "get", "list", "describe", "head", "lookup", "search", "scan", "query", "select", "batchget",
    "view", "read", "filter", "check", "validate", "verify", "estimate", "preview",
];

/// Whether an IAM action (`service:Verb`, wildcards allowed after the verb's start) only
/// reads: its verb starts with one of [`READ_VERBS`]. The one definition of a read action.
pub fn action_is_read(a: &str) -> bool {
    let Some((_, verb)) = a.split_once(':') else {
        return false;
    };
    let v = verb.to_ascii_lowercase();
    !v.starts_with('*') && READ_VERBS.iter().any(|r| v.starts_with(r))
}

/// Whether a managed policy, by its ARN's name, is one that grants only reads
/// (`*ReadOnly*`, `ViewOnlyAccess`, `SecurityAudit`). The one definition of a read-only
/// managed policy.
pub fn managed_is_read_only(arn: &str) -> bool {
    let name = arn.rsplit('/').next().unwrap_or("");
    name.contains("ReadOnly") || name == "ViewOnlyAccess" || name == "SecurityAudit"
}

/// A statement whose only writes take and release Terraform's state lock, which a plan needs:
/// `s3:PutObject`/`s3:DeleteObject` on `….tflock` objects (the S3 lock file), or DynamoDB item
/// writes on a table named for Terraform's locks (`terraform-locks`, `tf-state-lock`: `lock` and
/// `tf`/`terraform`/`state` in the name). Such a role still only reads.
fn state_lock_only(s: &crate::model::Statement) -> bool {
    const S3: &[&str] = &["s3:putobject", "s3:deleteobject"];
    const DYNAMO: &[&str] = &[
        "dynamodb:putitem",
        "dynamodb:deleteitem",
        "dynamodb:updateitem",
    ];
    if s.not_action || s.not_resource || s.resources.is_empty() {
        return false;
    }
    let writes: Vec<String> = s
        .actions
        .iter()
        .filter_map(|a| a.value.known())
        .filter(|a| !action_is_read(a))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    if writes.is_empty() || s.actions.iter().any(|a| !a.value.is_known()) {
        return false;
    }
    let resources: Option<Vec<String>> = s.resources.iter().map(|r| r.value.known()).collect();
    let Some(resources) = resources else {
        return false;
    };
    if writes.iter().all(|w| S3.contains(&w.as_str())) {
        return resources.iter().all(|r| r.ends_with(".tflock"));
    }
    if writes.iter().all(|w| DYNAMO.contains(&w.as_str())) {
        return resources.iter().all(|r| {
            r.rsplit_once(":table/").is_some_and(|(_, t)| {
                let t = t.to_ascii_lowercase();
                !t.contains(['*', '?', '/'])
                    && t.contains("lock")
                    && ["tf", "terraform", "state"].iter().any(|w| t.contains(w))
            })
        });
    }
    false
}

/// What the permissions of a role allow: `Some(None)` only reads, `Some(Some(w))` writes
/// (first evidence), `None` not known (no policy, or a value the scan cannot read).
pub fn write_access(policies: &[&PolicyDoc], managed: &[SStr]) -> Option<Option<WriteAccess>> {
    if policies.is_empty() && managed.is_empty() {
        return None;
    }
    let mut unknown = false;
    for p in policies {
        for s in &p.statements {
            if !s.is_allow() || state_lock_only(s) {
                continue;
            }
            if s.not_action {
                return Some(Some(WriteAccess {
                    file: p.file,
                    span: s.action_span.unwrap_or(s.span),
                    what: "`NotAction`".into(),
                }));
            }
            for a in &s.actions {
                match a.value.known() {
                    Some(k) if !action_is_read(&k) => {
                        return Some(Some(WriteAccess {
                            file: p.file,
                            span: a.span,
                            what: format!("`{k}`"),
                        }));
                    }
                    Some(_) => {}
                    None => unknown = true,
                }
            }
        }
    }
    for m in managed {
        // AWS-managed policies the snapshot knows are judged by their contents.
        if let Some(p) = super::managed_policies::lookup_template(&m.value) {
            if !p.read_only_by_design() {
                return Some(Some(WriteAccess {
                    file: policies.first().map(|p| p.file).unwrap_or_default(),
                    span: m.span,
                    what: format!("`{}`", p.name),
                }));
            }
            continue;
        }
        match m.value.known() {
            Some(arn) => {
                let name = arn.rsplit('/').next().unwrap_or("");
                if !managed_is_read_only(&arn) {
                    return Some(Some(WriteAccess {
                        file: policies.first().map(|p| p.file).unwrap_or_default(),
                        span: m.span,
                        what: format!("`{name}`"),
                    }));
                }
            }
            None => unknown = true,
        }
    }
    if unknown { None } else { Some(None) }
}

fn strip_suffixes<'s>(stem: &'s str, suffixes: &[&str]) -> &'s str {
    let lower = stem.to_ascii_lowercase();
    for s in suffixes {
        if lower.ends_with(s) && lower.len() > s.len() {
            return &stem[..stem.len() - s.len()];
        }
    }
    stem
}

const TRUST_SUFFIXES: &[&str] = &[
    "-assume-role-policy",
    "_assume_role_policy",
    "-trust-policy",
    "_trust_policy",
    "-trust",
    "_trust",
    ".trust",
];
/// The one pairing of bare IAM JSON documents: a file's name without its extension and the
/// words that say which document it is, so a trust policy and the permission policies of the
/// same role share it (`github-deploy-trust-policy.json` and `github-deploy-permissions.json`
/// are both `github-deploy`; `trust-policy.json` and `permissions-policy.json` both ``). Used
/// by the role analysis (which permissions a JSON trust file's role has) and by the permission
/// rules (which permission policies a CI issuer's role holds).
pub fn pairing_stem(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    let name = lower.strip_suffix(".json").unwrap_or(&lower);
    const WORDS: &[&str] = &[
        "trust",
        "assume",
        "role",
        "policy",
        "policies",
        "permission",
        "permissions",
        "perms",
        "document",
        "doc",
        "inline",
        "iam",
    ];
    name.split(['-', '_', '.'])
        .filter(|w| !w.is_empty() && !WORDS.contains(w))
        .collect::<Vec<_>>()
        .join("-")
}

fn split_rel(rel: &str) -> (&str, &str) {
    let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
    let stem = file
        .strip_suffix(".json")
        .or_else(|| file.strip_suffix(".JSON"))
        .unwrap_or(file);
    (dir, stem)
}

/// Every role the scan defines (IaC roles, and bare JSON trust policies by file stem).
pub fn roles(scan: &Scan) -> Vec<RoleDef<'_>> {
    let mut out = Vec::new();
    // JSON permission policies by (directory, role name)
    let mut json_perms: BTreeMap<(String, String), Vec<&PolicyDoc>> = BTreeMap::new();
    for (fid, f) in scan.files() {
        if f.format != Format::IamJson {
            continue;
        }
        let (dir, _) = split_rel(&f.rel);
        for p in &scan.models[fid].policies {
            if p.kind == PolicyKind::Permission {
                json_perms
                    .entry((dir.to_string(), pairing_stem(&f.rel)))
                    .or_default()
                    .push(p);
            }
        }
    }
    for (fid, f) in scan.files() {
        let m = &scan.models[fid];
        for r in &m.roles {
            let Some(name) = r.name.as_ref().and_then(|n| n.value.known()) else {
                continue;
            };
            let policies: Vec<&PolicyDoc> = r
                .permission_policies
                .iter()
                .filter_map(|&i| scan.policy(i))
                .collect();
            out.push(RoleDef {
                file: fid,
                span: r.span,
                name,
                owner: r.owner.clone(),
                trust: r.trust.and_then(|t| scan.policy(t)),
                write: write_access(
                    &policies,
                    &r.managed_policy_arns
                        .iter()
                        .map(|a| a.arn.clone())
                        .collect::<Vec<_>>(),
                ),
            });
        }
        if f.format == Format::IamJson {
            let (dir, stem) = split_rel(&f.rel);
            for p in &m.policies {
                if p.kind != PolicyKind::Trust {
                    continue;
                }
                let name = strip_suffixes(stem, TRUST_SUFFIXES).to_string();
                let perms = json_perms
                    .get(&(dir.to_string(), pairing_stem(&f.rel)))
                    .cloned()
                    .unwrap_or_default();
                out.push(RoleDef {
                    file: fid,
                    span: p.span,
                    owner: f.rel.clone(),
                    write: write_access(&perms, &[]),
                    name,
                    trust: Some(p),
                });
            }
        }
    }
    out
}

/// The issuer a trust policy names for GitHub (default: github.com's): the issuer of the tokens
/// a job presents to it. Never the retired beta issuer, which no token carries: a trust naming
/// only that one is judged against github.com's tokens (and rejects them).
pub fn trust_issuer(p: &PolicyDoc) -> String {
    let live = |i: &str| !crate::analysis::issuers::github::is_retired_issuer(i);
    for s in &p.statements {
        for pr in &s.principals {
            if pr.kind == "Federated"
                && let Some(i) = federated_issuer(&pr.value.value)
                && live(&i)
            {
                return i.to_ascii_lowercase();
            }
        }
        for c in &s.conditions {
            if let Some((iss, _)) = c.key.value.rsplit_once(':')
                && is_github_issuer(iss)
                && live(iss)
            {
                return iss.to_ascii_lowercase();
            }
        }
    }
    DEFAULT_ISSUER.to_string()
}

/// The single `OWNER/REPO` a trust policy's `sub`/`repository` values name, if exactly one.
pub fn trust_repo(p: &PolicyDoc, issuer: &str) -> Option<String> {
    let mut names = BTreeSet::new();
    for s in &p.statements {
        for c in &s.conditions {
            // (a key whose issuer is known only at apply time is the statement's)
            let claim = c.claim_of_or_unresolved(issuer);
            for v in &c.values {
                let text = v.value.known_prefix();
                let repo = match claim.as_deref() {
                    Some("sub") => text
                        .strip_prefix("repo:")
                        .and_then(|r| r.split_once(':').map(|(a, _)| a.to_string())),
                    Some("repository") if v.value.is_known() => Some(text.clone()),
                    _ => None,
                };
                let Some(repo) = repo else { continue };
                // the immutable form names the same repository
                let plain: String = repo
                    .split('/')
                    .map(|seg| seg.split('@').next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("/");
                if plain.contains(['*', '?']) || plain.split('/').count() != 2 {
                    continue;
                }
                names.insert(plain);
            }
        }
    }
    (names.len() == 1).then(|| names.into_iter().next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_definition_of_read_only() {
        for a in [
            "s3:GetObject",
            "s3:List*",
            "ec2:DescribeInstances",
            "dynamodb:Query",
        ] {
            assert!(action_is_read(a), "{a}");
        }
        for a in ["s3:PutObject", "s3:*", "*", "iam:PassRole", "GetObject"] {
            assert!(!action_is_read(a), "{a}");
        }
        assert!(managed_is_read_only(
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ));
        assert!(managed_is_read_only(
            "arn:aws:iam::aws:policy/SecurityAudit"
        ));
        assert!(!managed_is_read_only(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
    }

    #[test]
    fn suffixes_name_the_role() {
        assert_eq!(strip_suffixes("deploy-trust", TRUST_SUFFIXES), "deploy");
        assert_eq!(strip_suffixes("trust", TRUST_SUFFIXES), "trust");
    }

    /// The one pairing both the role analysis and the permission rules use: each row is a
    /// trust file, a permission file, and whether they belong to one role.
    #[test]
    fn json_documents_pair_by_one_stem() {
        for (trust, perm, paired) in [
            ("iam/deploy-trust.json", "iam/deploy-policy.json", true),
            ("iam/deploy_trust.json", "iam/deploy_permissions.json", true),
            (
                "iam/github-deploy-trust-policy.json",
                "iam/github-deploy-permissions.json",
                true,
            ),
            (
                "iam/github_deploy_assume_role_policy.json",
                "iam/github_deploy_role_policy.json",
                true,
            ),
            ("iam/Deploy-Trust.JSON", "iam/deploy-policy.json", true),
            ("iam/deploy.trust.json", "iam/deploy.policy.json", true),
            ("iam/trust-policy.json", "iam/permissions-policy.json", true),
            ("iam/deploy-trust.json", "iam/build-policy.json", false),
            ("iam/github-trust.json", "iam/ec2-admin.json", false),
            (
                "iam/deploy-trust.json",
                "iam/deploy-prod-policy.json",
                false,
            ),
        ] {
            assert_eq!(
                pairing_stem(trust) == pairing_stem(perm),
                paired,
                "{trust} / {perm}: {} vs {}",
                pairing_stem(trust),
                pairing_stem(perm)
            );
        }
    }
}
