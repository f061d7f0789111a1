//! Shared knowledge about GitHub's OIDC issuer, used by the trust-policy rules.

use crate::diag::Edit;
use crate::model::Scan;
use crate::model::{Condition, PolicyDoc, PolicyKind, SStr, Statement};
use crate::source::tree::{Part, Template};
use crate::source::{FileId, SourceFile, Span};
use std::sync::Arc;

use super::issuers::{self, Issuer, Registry};

pub const DEFAULT_ISSUER: &str = "token.actions.githubusercontent.com";

/// Is this issuer (a provider URL without `https://`) one of GitHub's?
pub fn is_github_issuer(issuer: &str) -> bool {
    let i = issuer.to_ascii_lowercase();
    let host = i.split('/').next().unwrap_or("");
    host == DEFAULT_ISSUER
        || (host.starts_with("token.actions.") && host.ends_with(".ghe.com"))
        || i.ends_with("/_services/token")
        || issuers::github::is_retired_issuer(host) // still GitHub's, though no token carries it
}

/// The issuer named by a `Federated` principal ARN (`…:oidc-provider/<issuer>`), if GitHub's.
/// Unknown parts are allowed after `oidc-provider/` only when the literal tail names GitHub.
pub fn federated_issuer(value: &Template) -> Option<String> {
    let text = value.display();
    let idx = text.find("oidc-provider/")?;
    let issuer = &text[idx + "oidc-provider/".len()..];
    if issuer.contains("${") {
        return None;
    }
    is_github_issuer(issuer).then(|| issuer.to_string())
}

/// A trust statement that lets a CI issuer's OIDC tokens assume the role.
#[derive(Clone)]
pub struct CiTrust<'a> {
    pub policy: &'a PolicyDoc,
    pub statement: &'a Statement,
    /// Condition-key prefix (the issuer without scheme).
    pub issuer: String,
    /// The issuer's registry entry (what it emits, whether it is shared).
    pub ci: Arc<Issuer>,
    /// The `Federated` principal value, when literal.
    pub principal: Option<&'a SStr>,
    /// [`CiTrust::allows_web_identity`] and [`CiTrust::never_matches`], worked out
    /// once: every rule asks.
    web_identity: bool,
    never: bool,
    /// [`retired_issuer_use`] of the statement, found once: a rule and the gate both ask.
    retired: Option<RetiredIssuerUse<'a>>,
}

/// Does the condition need its key in the request to hold (a positive operator without
/// `…IfExists` or `ForAllValues:`)? A key absent from every request makes it false.
fn requires_key(c: &Condition) -> bool {
    let op = c.op();
    !op.if_exists
        && !op.for_all_values
        && !op.base.to_ascii_lowercase().contains("not")
        && !op.base.eq_ignore_ascii_case("Null")
}

/// How a trust statement names GitHub's retired beta issuer
/// ([`issuers::github::RETIRED_ISSUER`]), whose tokens no workflow has received since
/// October 2021.
#[derive(Clone)]
pub struct RetiredIssuerUse<'a> {
    /// The `Federated` principals naming it.
    pub principals: Vec<&'a SStr>,
    /// Conditions on its claims that need their key in the request: no request has it.
    pub keys: Vec<&'a Condition>,
    /// No current token satisfies the statement: it has `Federated` principals and each names
    /// the retired issuer, or one of `keys` must hold.
    pub dead: bool,
}

/// Where a statement names GitHub's retired beta issuer; `None` when it does not.
pub fn retired_issuer_use(s: &Statement) -> Option<RetiredIssuerUse<'_>> {
    let federated: Vec<&SStr> = s
        .principals
        .iter()
        .filter(|p| p.kind == "Federated")
        .map(|p| &p.value)
        .collect();
    let principals: Vec<&SStr> = federated
        .iter()
        .copied()
        .filter(|f| {
            issuers::federated_host(&f.value)
                .is_some_and(|h| issuers::github::is_retired_issuer(&h))
        })
        .collect();
    let keys: Vec<&Condition> = s
        .conditions
        .iter()
        .filter(|c| {
            requires_key(c)
                && c.key
                    .value
                    .rsplit_once(':')
                    .is_some_and(|(iss, _)| issuers::github::is_retired_issuer(iss))
        })
        .collect();
    if principals.is_empty() && keys.is_empty() {
        return None;
    }
    let dead = !keys.is_empty() || principals.len() == federated.len();
    Some(RetiredIssuerUse {
        principals,
        keys,
        dead,
    })
}

impl<'a> CiTrust<'a> {
    /// Conditions on `<issuer>:<claim>`.
    pub fn claim_conditions<'s>(
        &'s self,
        claim: &'s str,
    ) -> impl Iterator<Item = &'a Condition> + 's {
        // `"${local.issuer}:sub"`: an issuer known only at apply time is taken to be this
        // statement's (no alarm is raised on a guess).
        self.statement
            .conditions
            .iter()
            .filter(move |c| c.is_claim_or_unresolved(&self.issuer, claim))
    }
    /// Every `sub` value whose wildcards take effect: under `StringLike` with any qualifier but
    /// `ForAllValues:` (`StringEquals` compares `*` literally: broken, not open).
    pub fn like_sub_values(&self) -> impl Iterator<Item = (&'a Condition, &'a SStr)> + '_ {
        self.claim_conditions("sub")
            .filter(|c| {
                let op = c.op();
                op.is_like() && !op.for_all_values
            })
            .flat_map(|c| c.values.iter().map(move |v| (c, v)))
    }
    /// Whether a positive string match scopes `claim` when the token carries it: `positive`,
    /// or, for a claim every token of the issuer carries (`sub`), the same match under
    /// `…IfExists` or a set qualifier (true when the key is absent, which it never is; the
    /// operator is `trust-fail-open-operator`'s finding, not a missing condition).
    pub fn scopes(&self, claim: &str) -> bool {
        let always = self.always_present(claim);
        self.claim_conditions(claim).any(|c| {
            let op = c.op();
            let base = op.base_is("StringEquals")
                || op.base_is("StringLike")
                || op.base_is("StringEqualsIgnoreCase");
            // (with no values, or values the scan cannot know, the condition still scopes:
            // an empty list admits nobody)
            base && (op.is_positive_string_match() || always)
        })
    }
    /// Whether every token of the issuer carries `claim` (lower-case): GitHub's
    /// [`ALWAYS_PRESENT_CLAIMS`]; `sub`, `aud` and `iss` for other issuers.
    pub fn always_present(&self, claim: &str) -> bool {
        if self.ci.is_github() {
            ALWAYS_PRESENT_CLAIMS.contains(&claim)
        } else {
            matches!(claim, "sub" | "aud" | "iss")
        }
    }
    /// Positive string matches (`StringEquals`, `StringLike`, `StringEqualsIgnoreCase`) on a claim.
    pub fn positive(&self, claim: &str) -> Vec<&'a Condition> {
        self.claim_conditions(claim)
            .filter(|c| c.op().is_positive_string_match() && !c.values.is_empty())
            .collect()
    }
    /// A positive condition on a claim of another issuer (say the enterprise issuer
    /// `…/acme:sub` under the default provider) can never be satisfied: the key is absent from
    /// the request, so the statement admits nobody. Such a statement is broken, not open.
    pub fn never_matches(&self) -> bool {
        self.never
    }
    fn compute_never_matches(&self, registry: &Registry) -> bool {
        let own = self.issuer.to_ascii_lowercase();
        let github = self.ci.is_github();
        self.statement.conditions.iter().any(|c| {
            requires_key(c)
                && c.key.value.rsplit_once(':').is_some_and(|(iss, _)| {
                    let iss = iss.to_ascii_lowercase();
                    let other_issuer = if github {
                        // Another GitHub issuer's key, or another CI issuer's (`gitlab.com:sub`).
                        is_github_issuer(&iss) || registry.recognize(&iss).is_some()
                    } else {
                        // Another issuer's key, or any host-like prefix that is not this
                        // issuer (`aws.workload.identity:sub` from a mixed-up local): a key
                        // STS never puts into this issuer's request. Global keys
                        // (`aws:…`, `sts:…`) have no dot.
                        registry.recognize(&iss).is_some() || iss.contains('.')
                    };
                    other_issuer && iss != own && !iss.contains("${")
                })
        })
    }
    /// The statement trusts only GitHub's retired beta issuer, or requires one of its claims
    /// ([`retired_issuer_use`]): no current token satisfies it.
    pub fn retired(&self) -> bool {
        self.retired.as_ref().is_some_and(|r| r.dead)
    }
    /// Where the statement names GitHub's retired beta issuer ([`retired_issuer_use`]).
    pub fn retired_use(&self) -> Option<&RetiredIssuerUse<'a>> {
        self.retired.as_ref()
    }
    /// The gate of every rule about what a trust statement admits: it allows
    /// `sts:AssumeRoleWithWebIdentity` and its conditions can be met at all. A statement
    /// failing it lets no token in (`trust-wrong-action`, `trust-issuer-mismatch` and, for
    /// GitHub's retired beta issuer, `trust-sub-never-matches` say why), so how wide its `sub`
    /// or `aud` patterns are does not matter.
    pub fn can_admit(&self) -> bool {
        self.allows_web_identity() && !self.never_matches() && !self.retired()
    }
    pub fn allows_web_identity(&self) -> bool {
        self.web_identity
    }
    pub fn china(&self) -> bool {
        self.principal
            .is_some_and(|p| p.value.display().starts_with("arn:aws-cn:"))
    }
    /// How messages name the issuer: `GitHub's OIDC provider`, `HCP Terraform's OIDC provider`.
    pub fn provider_words(&self) -> String {
        if self.ci.is_github() {
            "GitHub's OIDC provider".to_string()
        } else {
            format!("{}'s OIDC provider", self.ci.name)
        }
    }
}

/// Every Allow statement of every trust policy in the scan that trusts a CI issuer (GitHub,
/// GitLab, HCP Terraform, CircleCI, Buildkite, Bitbucket, or one of the configuration's
/// `[[issuers]]`): one per statement, GitHub's first when a statement names several.
pub fn ci_trusts(scan: &Scan) -> Vec<CiTrust<'_>> {
    let registry = Registry::new(&scan.settings.custom_issuers);
    let github = issuers::builtin()
        .iter()
        .find(|i| i.is_github())
        .cloned()
        .expect("GitHub is a built-in issuer");
    let mut out = Vec::new();
    for m in &scan.models {
        for p in &m.policies {
            if p.kind != PolicyKind::Trust {
                continue;
            }
            for s in &p.statements {
                if !s.is_allow() || s.not_principal {
                    continue;
                }
                let federated: Vec<&SStr> = s
                    .principals
                    .iter()
                    .filter(|pr| pr.kind == "Federated")
                    .map(|pr| &pr.value)
                    .collect();
                let mut found: Option<(String, Option<&SStr>, Arc<Issuer>)> = None;
                for f in &federated {
                    if let Some(iss) = federated_issuer(&f.value) {
                        // With several GitHub providers, the one the conditions are written
                        // for (tokens of the others fail the positive conditions), else a live
                        // one before the retired beta issuer.
                        let keyed = s.conditions.iter().any(|c| c.claim_of(&iss).is_some());
                        let live_over_retired = found.as_ref().is_some_and(|(prev, _, _)| {
                            issuers::github::is_retired_issuer(prev)
                                && !issuers::github::is_retired_issuer(&iss)
                        });
                        if found.is_none() || keyed || live_over_retired {
                            found = Some((iss, Some(*f), github.clone()));
                        }
                        if keyed {
                            break;
                        }
                    }
                }
                // A Federated principal known only at apply time, with conditions on GitHub's
                // claims: the conditions name the issuer.
                if found.is_none() && federated.iter().any(|f| !f.value.is_known()) {
                    for c in &s.conditions {
                        if let Some((iss, _)) = c.key.value.rsplit_once(':')
                            && is_github_issuer(iss)
                        {
                            found = Some((
                                iss.to_ascii_lowercase(),
                                federated.first().copied(),
                                github.clone(),
                            ));
                            break;
                        }
                    }
                }
                // Another CI issuer: by the principal's host, else (a module output, a
                // parameter) by the prefix of the condition keys.
                if found.is_none() {
                    for f in &federated {
                        let Some(host) = issuers::federated_host(&f.value) else {
                            continue;
                        };
                        let Some(ci) = registry.recognize(&host).filter(|i| !i.is_github()) else {
                            continue;
                        };
                        let keyed = s.conditions.iter().any(|c| c.claim_of(&host).is_some());
                        if found.is_none() || keyed {
                            found = Some((host.to_ascii_lowercase(), Some(*f), ci.clone()));
                        }
                        if keyed {
                            break;
                        }
                    }
                }
                if found.is_none() && federated.iter().any(|f| !f.value.is_known()) {
                    for c in &s.conditions {
                        if let Some((iss, _)) = c.key.value.rsplit_once(':')
                            && let Some(ci) = registry.recognize(iss).filter(|i| !i.is_github())
                        {
                            found = Some((
                                iss.to_ascii_lowercase(),
                                federated.first().copied(),
                                ci.clone(),
                            ));
                            break;
                        }
                    }
                }
                if let Some((issuer, principal, ci)) = found {
                    let mut t = CiTrust {
                        policy: p,
                        statement: s,
                        issuer,
                        ci,
                        principal,
                        web_identity: s.allows_action("sts:AssumeRoleWithWebIdentity"),
                        never: false,
                        retired: retired_issuer_use(s),
                    };
                    t.never = t.compute_never_matches(&registry);
                    out.push(t);
                }
            }
        }
    }
    out
}

/// How wide a `sub` pattern is, judged on its literal parts only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubReach {
    /// Matches subjects of repositories of any owner.
    AnyRepo,
    /// Matches every repository of one owner.
    OrgWide { owner: String },
    /// A wildcard glued to the end of a literal owner prefix (`repo:acme*`, `repo:acme-*/app`):
    /// admits every owner whose name starts with `prefix` (reported by
    /// `trust-sub-prefix-collision`, not by `trust-sub-any-repo`).
    OwnerPrefix { prefix: String },
    /// Narrower than an owner, or a shape this classification does not judge.
    Narrower,
}

/// Classify a `StringLike` pattern for `sub`. Handles `repo:OWNER/REPO:…` and the immutable
/// `repo:OWNER@ID/REPO@ID:…`. Unknown parts (`${var.org}`) are never guessed: a verdict is
/// given only when it holds whatever the unknown part is.
pub fn sub_reach(pattern: &Template) -> SubReach {
    // Work on a char stream where unknown parts are a placeholder character.
    const UNKNOWN: char = crate::source::tree::HOLE;
    let s = pattern.flat();
    let wild = |c: char| c == '*' || c == '?';
    if s.starts_with('*') {
        return SubReach::AnyRepo;
    }
    let Some(rest) = s.strip_prefix("repo:") else {
        return SubReach::Narrower;
    };
    // The owner runs to the first '/', or to ':' when there is no repository part.
    let owner_end = rest.find(['/', ':']).unwrap_or(rest.len());
    let owner_seg = &rest[..owner_end];
    let owner_name = owner_seg.split('@').next().unwrap_or("");
    if owner_name.is_empty() && owner_end == rest.len() {
        return SubReach::Narrower;
    }
    if let Some(i) = owner_name.find(wild) {
        // `repo:acme*` / `repo:acme-*/app`: one `*` after a literal prefix.
        if i > 0 && i == owner_name.len() - 1 && owner_name.ends_with('*') {
            let prefix = &owner_name[..i];
            if !prefix.contains(UNKNOWN) {
                return SubReach::OwnerPrefix {
                    prefix: prefix.to_string(),
                };
            }
        }
        return SubReach::AnyRepo;
    }
    // A wildcard in the ID position (`repo:acme@*/…`) is not an owner wildcard.
    let after = &rest[owner_end..];
    let Some(repo_part) = after.strip_prefix('/') else {
        return SubReach::Narrower;
    };
    if repo_part.starts_with('*') {
        // Put the unknown parts' expressions back for messages.
        let mut exprs = pattern.parts.iter().filter_map(|p| match p {
            Part::Unknown(e) => Some(e.as_str()),
            Part::Lit(_) => None,
        });
        let mut owner = String::new();
        for ch in owner_name.chars() {
            if ch == UNKNOWN {
                owner.push_str(&format!("${{{}}}", exprs.next().unwrap_or("…")));
            } else {
                owner.push(ch);
            }
        }
        return SubReach::OrgWide { owner };
    }
    SubReach::Narrower
}

/// Do other positive conditions already pin the repository (so `sub` is not the only scope)?
pub fn repository_pinned(t: &CiTrust, owner_only_ok: bool) -> bool {
    let mut claims = vec!["repository", "repository_id"];
    if owner_only_ok {
        claims.extend(["repository_owner", "repository_owner_id"]);
    }
    claims.iter().any(|claim| {
        t.positive(claim).iter().any(|c| {
            c.values.iter().all(|v| {
                v.value
                    .known()
                    .is_some_and(|k| !(k.is_empty() || c.op().is_like() && k.contains(['*', '?'])))
            })
        })
    })
}

/// The audiences the scan's workflows request from GitHub for AWS.
#[derive(Clone, Debug, Default)]
pub struct RequestedAudiences {
    /// Literal `audience` inputs (or `AUDIENCE` env) of configure-aws-credentials steps.
    pub custom: Vec<String>,
    /// Some configure-aws-credentials step that assumes a role uses the default audience.
    pub default_used: bool,
    /// Some step's audience is an expression (`${{ vars.AUD }}`): not known statically.
    pub unknown: bool,
}

impl RequestedAudiences {
    /// Every literal audience requested, with the default when a step uses it.
    pub fn all(&self, default: &str) -> Vec<String> {
        let mut v = self.custom.clone();
        if self.default_used {
            v.push(default.to_string());
        }
        v.sort();
        v.dedup();
        v
    }
}

/// Audiences requested by configure-aws-credentials steps in the scan (`audience:` input, or
/// the `AUDIENCE` environment variable at step, job or workflow level).
pub fn requested_audiences(scan: &Scan) -> RequestedAudiences {
    let mut out = RequestedAudiences::default();
    for m in &scan.models {
        for w in &m.workflows {
            for j in &w.jobs {
                for s in &j.steps {
                    if !s.is_configure_aws_credentials() {
                        continue;
                    }
                    let env = |kvs: &[crate::model::KeyValue]| {
                        kvs.iter().rev().find(|kv| kv.key == "AUDIENCE").cloned()
                    };
                    let aud = s
                        .input("audience")
                        .cloned()
                        .or_else(|| env(&s.env))
                        .or_else(|| env(&j.env))
                        .or_else(|| env(&w.env));
                    match aud {
                        Some(a) if a.value.value.contains("${{") => out.unknown = true,
                        Some(a) if !a.value.value.trim().is_empty() => {
                            out.custom.push(a.value.value.trim().to_string())
                        }
                        _ => {
                            if super::access::oidc_step(s, j, w).is_some() {
                                out.default_used = true;
                            }
                        }
                    }
                }
            }
        }
    }
    out.custom.sort();
    out.custom.dedup();
    out
}

/// Literal audiences requested by workflows in the scan.
/// An audience given as an expression counts as a custom one (shown as `${{ … }}`).
pub fn custom_audiences(scan: &Scan) -> Vec<String> {
    let r = requested_audiences(scan);
    let mut v = r.custom;
    if r.unknown {
        v.push("${{ … }}".to_string());
    }
    v
}

/// Claims GitHub puts in every token and AWS exposes as condition keys: a negated operator on
/// them is a real exclusion, and `IfExists`/`ForAllValues:` on them change nothing.
pub const ALWAYS_PRESENT_CLAIMS: &[&str] = &[
    "sub",
    "aud",
    "iss",
    "actor",
    "actor_id",
    "repository",
    "repository_id",
    "repository_owner_id",
    "workflow",
    "ref",
    "runner_environment",
];

/// Claims that bind a subject to an owner or a repository (custom `sub` templates).
pub const ANCHOR_CLAIMS: &[&str] = &[
    "repo",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
];

/// Claim names GitHub can put into a customized `sub` template (besides the anchors), and the
/// context forms (`environment:…`, `ref:…`, `pull_request`).
pub const TEMPLATE_CLAIMS: &[&str] = &[
    "actor",
    "actor_id",
    "base_ref",
    "context",
    "enterprise",
    "enterprise_id",
    "environment",
    "event_name",
    "head_ref",
    "job_workflow_ref",
    "job_workflow_sha",
    "ref",
    "ref_type",
    "ref_protected",
    "repository_visibility",
    "runner_environment",
    "workflow",
    "workflow_ref",
    "workflow_sha",
];

/// A literal `sub` value in the default format, split: `repo:OWNER[@ID]/REPO[@ID]:CONTEXT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultSub<'a> {
    /// `OWNER[@ID]/REPO[@ID]`.
    pub repo: &'a str,
    /// Everything after the `:` that ends the repository part (may be empty when absent).
    pub context: Option<&'a str>,
}

/// Split a literal default-format subject. `None` for custom templates and values that do not
/// start with `repo:`.
pub fn split_default_sub(value: &str) -> Option<DefaultSub<'_>> {
    let rest = value.strip_prefix("repo:")?;
    match rest.find(':') {
        Some(i) => Some(DefaultSub {
            repo: &rest[..i],
            context: Some(&rest[i + 1..]),
        }),
        None => Some(DefaultSub {
            repo: rest,
            context: None,
        }),
    }
}

/// The span of `needle` inside the text of `span` (for edits that replace part of a key or a
/// string, keeping its quotes).
pub fn sub_span(src: &SourceFile, span: Span, needle: &str) -> Option<Span> {
    let text = src.slice(span);
    let i = text.find(needle)?;
    let start = span.start as usize + i;
    Some(Span::new(start, start + needle.len()))
}

/// An edit that removes element `idx` of a list of values with its separator, keeping the list
/// valid (JSON/HCL/YAML flow lists and YAML block sequences). `None` when the list has one
/// element (the key would be left without values) or the text cannot be edited.
pub fn remove_list_element(
    src: &SourceFile,
    file: FileId,
    values: &[SStr],
    values_span: Span,
    idx: usize,
) -> Option<Edit> {
    if values.len() < 2 || idx >= values.len() {
        return None;
    }
    // A scalar value span equal to the list span: not a list.
    if values[idx].span == values_span {
        return None;
    }
    let span = if idx + 1 < values.len() {
        Span::new(
            values[idx].span.start as usize,
            values[idx + 1].span.start as usize,
        )
    } else {
        Span::new(
            values[idx - 1].span.end as usize,
            values[idx].span.end as usize,
        )
    };
    if span.start >= span.end || span.end as usize > src.text.len() {
        return None;
    }
    Some(Edit {
        file,
        span,
        replacement: String::new(),
    })
}

/// Whether fixes may edit this policy's text (not a generated plan or export).
pub fn editable(block: Option<&crate::model::MapHandle>) -> bool {
    block.is_some_and(|h| h.syntax != crate::model::Syntax::ReadOnly)
}

/// The model's own view: a `Role` whose permissions are all visible (inline documents and
/// AWS-managed policies that only read, by their contents, as modules attach them)
/// and allow only `Get*`, `List*`, `Describe*`, … actions.
pub fn model_role_read_only(scan: &Scan, policy: &PolicyDoc) -> bool {
    let Some(model) = scan.models.get(policy.file) else {
        return false;
    };
    let Some(idx) = model.policies.iter().position(|p| std::ptr::eq(p, policy)) else {
        return false;
    };
    // The role may sit in another file of its module than its trust policy.
    let me = Some(crate::model::PolicyRef::new(policy.file, idx));
    let Some(role) = std::iter::once(model)
        .chain(scan.models.iter())
        .flat_map(|m| m.roles.iter())
        .find(|r| r.trust == me)
    else {
        return false;
    };
    if role.permission_policies.is_empty() && role.managed_policy_arns.is_empty() {
        return false;
    }
    let managed_ok = role.managed_policy_arns.iter().all(|a| {
        // AWS-managed policies the snapshot knows are judged by their contents.
        if let Some(p) = crate::analysis::managed_policies::lookup_template(&a.value) {
            return p.read_only_by_design();
        }
        a.value.known().is_some_and(|k| {
            k.starts_with("arn:aws")
                && k.contains(":iam::aws:policy/")
                && super::roles::managed_is_read_only(&k)
        })
    });
    let inline_ok = role.permission_policies.iter().all(|&i| {
        scan.policy(i).is_some_and(|p| {
            p.statements.iter().filter(|s| s.is_allow()).all(|s| {
                !s.not_action
                    && s.actions.iter().all(|a| {
                        a.value
                            .known()
                            .is_some_and(|k| super::roles::action_is_read(&k))
                    })
            })
        })
    });
    managed_ok && inline_ok
}

/// A provider's name for messages: `OIDC provider aws_iam_openid_connect_provider.github`
/// (account exports already name it that way).
pub fn provider_name(owner: &str) -> String {
    if owner.starts_with("OIDC provider") {
        owner.to_string()
    } else {
        format!("OIDC provider {owner}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        Template::lit(s)
    }

    #[test]
    fn reach() {
        assert_eq!(sub_reach(&t("*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:*/app:*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:?cme/app:*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:ac?e/app:*")), SubReach::AnyRepo);
        assert_eq!(sub_reach(&t("repo:ac*e/app:*")), SubReach::AnyRepo);
        assert_eq!(
            sub_reach(&t("repo:acme-*/app:*")),
            SubReach::OwnerPrefix {
                prefix: "acme-".into()
            }
        );
        assert_eq!(
            sub_reach(&t("repo:acme*")),
            SubReach::OwnerPrefix {
                prefix: "acme".into()
            }
        );
        assert_eq!(
            sub_reach(&t("repo:acme/*")),
            SubReach::OrgWide {
                owner: "acme".into()
            }
        );
        assert_eq!(
            sub_reach(&t("repo:acme@*/*")),
            SubReach::OrgWide {
                owner: "acme".into()
            }
        );
        assert_eq!(
            sub_reach(&t("repo:acme@*/app@*:ref:refs/heads/main")),
            SubReach::Narrower
        );
        assert_eq!(sub_reach(&t("repo:acme/app:*")), SubReach::Narrower);
        assert_eq!(sub_reach(&t("repo:acme/app-*")), SubReach::Narrower);
        let tpl = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit("/*".into()),
            ],
        };
        assert!(matches!(sub_reach(&tpl), SubReach::OrgWide { .. }));
        let tpl = Template {
            parts: vec![Part::Unknown("var.sub".into())],
        };
        assert_eq!(sub_reach(&tpl), SubReach::Narrower);
    }

    #[test]
    fn issuers() {
        assert!(is_github_issuer("token.actions.githubusercontent.com"));
        assert!(is_github_issuer("token.actions.githubusercontent.com/acme"));
        assert!(is_github_issuer("token.actions.acme.ghe.com"));
        assert!(is_github_issuer("ghes.example.com/_services/token"));
        assert!(!is_github_issuer("oidc.eks.us-east-1.amazonaws.com/id/X"));
    }
}

// ---------------------------------------------------------------------------------------------
// GitHub's subject grammar: which `sub` values a GitHub token can carry.

use crate::analysis::eval::{Hole, StrOp, Tri, Val, value_match};

/// A customized subject template known to the scan (the `oidc-subject-template` setting, or a
/// `github_actions_*_oidc_subject_claim_customization_template` resource).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredTemplate {
    /// The claim keys in order; `None` when written as an expression the scan cannot read.
    pub keys: Option<Vec<String>>,
    /// Declared for a whole organisation (or by the configuration): every repository of the
    /// owner uses it unless a repository overrides it.
    pub org_wide: bool,
}

/// Longest `sub` value [`SubjectGrammar::can_match`] compares.
pub const MAX_JUDGED_SUB: usize = 1024;

/// The subjects GitHub can emit, as values with holes (`repo:<owner>/<repo>:ref:refs/heads/<branch>`),
/// for [`sub_can_match`].
#[derive(Clone, Debug)]
pub struct SubjectGrammar {
    shapes: Vec<Val>,
    /// No declaration says which template is in use: every customized shape (a run of
    /// `claim:value` pairs) stays possible.
    pub open_custom: bool,
    /// A declared template could not be read: no verdict at all.
    pub unknown: bool,
}

type Piece = (String, Option<Hole>);

/// `repo:OWNER/REPO`: one `/`, no `:` (`OWNER@ID/REPO@ID` in the immutable form).
fn repo_pieces() -> Vec<Piece> {
    vec![
        piece("repo:", Some(Hole::Segment)),
        piece("/", Some(Hole::Segment)),
    ]
}

fn piece(lit: &str, hole: Option<Hole>) -> Piece {
    (lit.to_string(), hole)
}

fn shape(parts: &[Piece]) -> Val {
    let mut v = Val::default();
    for (lit, hole) in parts {
        v.push_lit(lit);
        if let Some(h) = hole {
            v.push_hole(*h);
        }
    }
    v
}

/// The default format's context forms (after `repo:OWNER/REPO:`).
fn context_shapes() -> Vec<Vec<Piece>> {
    vec![
        vec![piece("ref:refs/heads/", Some(Hole::NoColon))],
        vec![piece("ref:refs/tags/", Some(Hole::NoColon))],
        vec![piece("environment:", Some(Hole::Any))],
        vec![piece("pull_request", None)],
    ]
}

/// What one claim of a customized template contributes (`repo:acme/app`, `environment:prod`…).
fn claim_shapes(key: &str) -> Vec<Vec<Piece>> {
    match key {
        "context" => context_shapes(),
        "repo" => vec![repo_pieces()],
        "ref" => vec![vec![piece("ref:refs/", Some(Hole::NoColon))]],
        k => vec![vec![(format!("{k}:"), Some(Hole::Any))]],
    }
}

/// Is `key` a claim GitHub can put into a customized subject template?
pub fn is_template_claim(key: &str) -> bool {
    ANCHOR_CLAIMS.contains(&key)
        || TEMPLATE_CLAIMS.contains(&key)
        || key.starts_with("repo_property_")
}

impl SubjectGrammar {
    /// The grammar for the declared templates (none: GitHub's default format plus every
    /// customized shape, since a template may be set outside the scanned code).
    pub fn new(declared: &[DeclaredTemplate]) -> SubjectGrammar {
        let unknown = declared.iter().any(|d| d.keys.is_none());
        let open_custom = !declared.iter().any(|d| d.org_wide);
        let mut shapes: Vec<Val> = context_shapes()
            .into_iter()
            .map(|c| {
                let mut parts = repo_pieces();
                parts.push(piece(":", None));
                parts.extend(c);
                shape(&parts)
            })
            .collect();
        for d in declared {
            let Some(keys) = &d.keys else { continue };
            if keys.is_empty() {
                continue;
            }
            // Each key's alternatives, joined by `:` (at most one `context`, so few products).
            let mut acc: Vec<Vec<Piece>> = vec![vec![]];
            for (i, k) in keys.iter().enumerate() {
                let mut next = Vec::new();
                for a in &acc {
                    for alt in claim_shapes(k) {
                        let mut x = a.clone();
                        if i > 0 {
                            x.push(piece(":", None));
                        }
                        x.extend(alt);
                        next.push(x);
                    }
                }
                acc = next;
                if acc.len() > 64 {
                    return SubjectGrammar {
                        shapes,
                        open_custom,
                        unknown: true,
                    };
                }
            }
            shapes.extend(acc.iter().map(|p| shape(p)));
        }
        if open_custom {
            // Any customized template: a first claim, then anything; or `repo:` followed by
            // another claim. `ref` values always start with `refs/`.
            let mut keys: Vec<&str> = ANCHOR_CLAIMS
                .iter()
                .chain(TEMPLATE_CLAIMS)
                .copied()
                .filter(|k| !matches!(*k, "repo" | "context" | "ref"))
                .collect();
            keys.push("pull_request");
            for k in keys {
                shapes.push(shape(&[(format!("{k}:"), Some(Hole::Any))]));
                let mut with_repo = repo_pieces();
                with_repo.push((format!(":{k}:"), Some(Hole::Any)));
                shapes.push(shape(&with_repo));
            }
            for tail in [
                vec![piece("pull_request", None)],
                vec![piece("repo_property_", Some(Hole::Any))],
                vec![piece("ref:refs/", Some(Hole::Any))],
            ] {
                shapes.push(shape(&tail));
                let mut with_repo = repo_pieces();
                with_repo.push(piece(":", None));
                with_repo.extend(tail);
                shapes.push(shape(&with_repo));
            }
            // (`repo:OWNER/REPO` alone is only a template of `repo` alone, which gives every run
            // of the repository one subject: not assumed unless declared; a bare `repo:acme/app`
            // is the usual mistake of a subject with its context left out)
        }
        SubjectGrammar {
            shapes,
            open_custom,
            unknown,
        }
    }

    /// Can a `sub` condition value (under `op`) match some subject of this grammar? `False`:
    /// no GitHub token can carry a matching subject. Unknown parts of the value may be
    /// anything, so they never make it unmatchable on their own.
    pub fn can_match(&self, op: StrOp, value: &Template) -> Tri {
        // No GitHub subject is anywhere near this long (owner ≤ 39, repository ≤ 100 characters,
        // ref and environment names a few hundred); a longer value is left unjudged rather than
        // spend the matcher's work budget on it (it is judged elsewhere for what it admits).
        if self.unknown || value.display().len() > MAX_JUDGED_SUB {
            return Tri::Unknown;
        }
        Tri::any(self.shapes.iter().map(|s| match value_match(op, value, s) {
            Tri::True => Tri::True,
            Tri::False => Tri::False,
            Tri::Unknown => Tri::Unknown,
        }))
    }
}

/// Issuers whose `sub` never has GitHub's `repo:…` form (GitLab, HCP Terraform, CircleCI,
/// Buildkite): a GitHub subject under one of their keys never matches.
pub fn foreign_sub_issuer(issuer: &str) -> Option<&'static str> {
    let i = issuer.to_ascii_lowercase();
    let host = i.split('/').next().unwrap_or("");
    match host {
        "gitlab.com" => Some("GitLab (`project_path:GROUP/PROJECT:ref_type:…`)"),
        "app.terraform.io" => Some("HCP Terraform (`organization:ORG:project:…`)"),
        "oidc.circleci.com" => Some("CircleCI (`org/ORG_ID/project/PROJECT_ID/user/USER_ID`)"),
        "agent.buildkite.com" => Some("Buildkite (`organization:ORG:pipeline:…`)"),
        _ => None,
    }
}

/// Every customized subject template the scan knows of: the `oidc-subject-template` setting and
/// the `github_actions_*_oidc_subject_claim_customization_template` resources (those with
/// `use_default = true` keep the default format, which is always allowed).
pub fn declared_templates(scan: &Scan) -> Vec<DeclaredTemplate> {
    let mut out = Vec::new();
    if let Some(keys) = &scan.settings.subject_template {
        out.push(DeclaredTemplate {
            keys: Some(keys.clone()),
            org_wide: true,
        });
    }
    for m in &scan.models {
        for t in &m.subject_templates {
            if t.use_default {
                continue;
            }
            out.push(DeclaredTemplate {
                keys: t.keys.clone(),
                org_wide: t.org_wide,
            });
        }
    }
    out
}

#[cfg(test)]
mod grammar_tests {
    use super::*;

    fn judge(g: &SubjectGrammar, op: StrOp, v: &str) -> Tri {
        g.can_match(op, &Template::lit(v))
    }

    #[test]
    fn default_grammar() {
        let g = SubjectGrammar::new(&[]);
        for ok in [
            "repo:acme/app:ref:refs/heads/main",
            "repo:acme/app:ref:refs/tags/v1",
            "repo:acme/app:environment:prod",
            "repo:acme/app:pull_request",
            "repo:acme@1/app@2:ref:refs/heads/main",
            // customized shapes stay possible while no template is declared
            "repository_owner_id:1:environment:prod",
            "repo:acme/app:job_workflow_ref:acme/w/.github/workflows/d.yml@refs/heads/main",
        ] {
            assert_ne!(judge(&g, StrOp::Equals, ok), Tri::False, "{ok}");
        }
        for dead in [
            "repo:acme/app:refs/heads/main",
            "repo:acme/app:ref:main",
            "repo:acme/app:environment",
            "repo:acme/app",
            "repo:acme/app:tag:v1",
            "acme/app:ref:refs/heads/main",
        ] {
            assert_eq!(judge(&g, StrOp::Equals, dead), Tri::False, "{dead}");
        }
        // wildcards: only dead when no subject matches
        assert_ne!(
            judge(&g, StrOp::Like, "repo:acme/*:refs/heads/*"),
            Tri::False
        );
        assert_ne!(judge(&g, StrOp::Like, "repo:acme/app:*"), Tri::False);
        assert_ne!(judge(&g, StrOp::Like, "repo:acme/*"), Tri::False);
        assert_ne!(judge(&g, StrOp::Like, "repo:acme@1/app@2*"), Tri::False);
        // a repository name holds no `/`: `/` where GitHub puts `:`
        assert_eq!(judge(&g, StrOp::Like, "repo:acme/app/*"), Tri::False);
        assert_eq!(judge(&g, StrOp::Equals, "repo:acme/app/main"), Tri::False);
        assert_eq!(
            judge(&g, StrOp::Like, "repo:acme/app:ref:main*"),
            Tri::False
        );
        // unknown parts may be anything
        let t = Template {
            parts: vec![
                Part::Lit("repo:".into()),
                Part::Unknown("var.repo".into()),
                Part::Lit(":refs/heads/main".into()),
            ],
        };
        assert_ne!(g.can_match(StrOp::Equals, &t), Tri::False);
    }

    #[test]
    fn declared_templates_replace_the_open_assumption() {
        let g = SubjectGrammar::new(&[DeclaredTemplate {
            keys: Some(vec![
                "repo".into(),
                "context".into(),
                "job_workflow_ref".into(),
            ]),
            org_wide: true,
        }]);
        assert_ne!(
            judge(
                &g,
                StrOp::Equals,
                "repo:a/b:environment:p:job_workflow_ref:a/w/x.yml@refs/heads/main"
            ),
            Tri::False
        );
        assert_ne!(
            judge(&g, StrOp::Equals, "repo:a/b:ref:refs/heads/main"),
            Tri::False
        );
        assert_eq!(
            judge(&g, StrOp::Equals, "repository_owner_id:1:environment:p"),
            Tri::False
        );
        let unknown = SubjectGrammar::new(&[DeclaredTemplate {
            keys: None,
            org_wide: true,
        }]);
        assert_eq!(
            judge(&unknown, StrOp::Equals, "repo:a/b:refs/heads/main"),
            Tri::Unknown
        );
    }
}
