//! Shared knowledge for the permission-policy rules: which permission policies belong to a role
//! that GitHub Actions can assume, and how to read actions and resources out of them.
//!
//! A *subject* is one such role with everything known about its permissions:
//! - an IaC role (`Role` in the model: Terraform, plans, CloudFormation, exports) whose trust
//!   policy trusts GitHub's OIDC issuer, with its inline/attached policies and managed ARNs;
//! - bare IAM JSON files have no role link. A JSON permission policy is judged only when a JSON
//!   trust policy in the **same directory** trusts GitHub (the layout every tutorial uses:
//!   `iam/trust-policy.json` beside `iam/permissions.json`). When every trust policy of the
//!   directory trusts GitHub, all its JSON permission policies are taken together as the role's
//!   permissions; when other roles' trust policies sit there too, a permission policy counts
//!   only if its file name pairs with a GitHub trust file (`deploy-trust.json` ↔
//!   `deploy-policy.json`). A permission policy with no GitHub trust beside it is not judged:
//!   nothing says GitHub can use it.

use super::roles::pairing_stem;
use super::trust::CiTrust;
use crate::model::Scan;
use crate::model::{Attached, PolicyDoc, PolicyKind, Role, SStr, Statement};
use crate::source::tree::Template;
use crate::source::{FileId, Format, Span};

/// A role a CI issuer (GitHub Actions, HCP Terraform, …) can assume, and its permissions.
pub struct CiRole<'a> {
    /// Who can assume it, for messages: `GitHub Actions`, `HCP Terraform and GitLab`.
    pub assumed_by: String,
    /// What its trust admits, for messages: `GitHub's OIDC tokens`.
    pub tokens: String,
    /// What one use of the role is called, for messages: `workflow` (GitHub Actions only),
    /// `GitLab job`, `HCP Terraform run`, `CI job` (several issuers).
    pub run: String,
    /// How messages name it: ``role `aws_iam_role.deploy` `` or ``the role trusted by `iam/trust.json` ``.
    pub describe: String,
    pub role: Option<&'a Role>,
    /// The trust policy's GitHub principal (or statement).
    pub trust_file: FileId,
    pub trust_span: Span,
    pub policies: Vec<&'a PolicyDoc>,
    /// Managed policy ARNs attached (contents unknown unless recognised by name).
    pub managed: Vec<&'a Attached>,
}

impl<'a> CiRole<'a> {
    /// `a workflow`, `a GitLab job`, `an HCP Terraform run`.
    pub fn a_run(&self) -> String {
        let article =
            if self.run.starts_with(['A', 'E', 'I', 'O', 'U']) || self.run.starts_with("HCP") {
                "an"
            } else {
                "a"
            };
        format!("{article} {}", self.run)
    }
    /// `one workflow run` (GitHub Actions), `one GitLab job`, `one HCP Terraform run`.
    pub fn one_run(&self) -> String {
        if self.run == "workflow" {
            "one workflow run".to_string()
        } else {
            format!("one {}", self.run)
        }
    }
    /// Every statement of the subject's permission policies, with its policy.
    pub fn statements(&self) -> impl Iterator<Item = (&'a PolicyDoc, &'a Statement)> + '_ {
        self.policies
            .iter()
            .flat_map(|p| p.statements.iter().map(move |s| (*p, s)))
    }
    /// Allow statements with an `Action` element (not `NotAction`).
    pub fn allows(&self) -> impl Iterator<Item = (&'a PolicyDoc, &'a Statement)> + '_ {
        self.statements()
            .filter(|(_, s)| s.is_allow() && !s.not_action)
    }
}

/// Every role whose trust policy trusts GitHub's OIDC issuer, with its permission policies.
pub fn ci_roles<'a>(scan: &'a Scan, trusts: &[CiTrust<'a>]) -> Vec<CiRole<'a>> {
    // Where a message points for "GitHub can assume this": the Federated principal of the
    // policy's first GitHub statement (by address: one lookup per role, not a scan).
    let mut first_trust: std::collections::HashMap<*const PolicyDoc, Span> = Default::default();
    // The issuers each trust policy admits, in statement order (GitHub's wording kept).
    let mut issuers_of: std::collections::HashMap<*const PolicyDoc, Vec<&str>> = Default::default();
    for t in trusts {
        first_trust
            .entry(t.policy as *const PolicyDoc)
            .or_insert_with(|| t.principal.map(|pr| pr.span).unwrap_or(t.statement.span));
        let names = issuers_of.entry(t.policy as *const PolicyDoc).or_default();
        if !names.contains(&t.ci.name.as_str()) {
            names.push(t.ci.name.as_str());
        }
    }
    let who = |p: &PolicyDoc| -> (String, String, String) {
        let names = issuers_of
            .get(&(p as *const PolicyDoc))
            .cloned()
            .unwrap_or_default();
        let assumed_by = names.join(" and ");
        let tokens = match names.as_slice() {
            ["GitHub Actions"] => "GitHub's OIDC tokens".to_string(),
            [one] => format!("{one}'s OIDC tokens"),
            _ => format!("OIDC tokens of {assumed_by}"),
        };
        let run = match names.as_slice() {
            ["GitHub Actions"] => "workflow".to_string(),
            ["HCP Terraform"] => "HCP Terraform run".to_string(),
            ["Bitbucket Pipelines"] => "Bitbucket pipeline".to_string(),
            [one] => format!("{one} job"),
            _ => "CI job".to_string(),
        };
        (assumed_by, tokens, run)
    };
    let trusted = |p: &PolicyDoc| first_trust.get(&(p as *const PolicyDoc)).copied();
    let mut out = Vec::new();
    // IaC roles.
    for m in &scan.models {
        for r in &m.roles {
            let Some(trust) = r.trust.and_then(|t| scan.policy(t)) else {
                continue;
            };
            let Some(trust_span) = trusted(trust) else {
                continue;
            };
            let (assumed_by, tokens, run) = who(trust);
            out.push(CiRole {
                assumed_by,
                tokens,
                run,
                describe: format!("role `{}`", r.owner),
                role: Some(r),
                trust_file: trust.file,
                trust_span,
                policies: r
                    .permission_policies
                    .iter()
                    .filter_map(|&i| scan.policy(i))
                    .collect(),
                managed: r.managed_policy_arns.iter().collect(),
            });
        }
    }
    // Bare JSON documents: trust and permission policies side by side in one directory.
    let dir_of = |id: FileId| {
        let rel = &scan.file(id).rel;
        rel.rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default()
    };
    // (a document IaC renders is linked, or not, by what renders it: a template read by
    // `templatefile()` for a permissions boundary is no grant of the role beside it)
    let bare = |id: FileId| {
        scan.file(id).format == Format::IamJson
            && scan.models[id].roles.is_empty()
            && scan.models[id].rendered_by.is_empty()
    };
    // The bare JSON documents of each directory, found in one pass.
    let mut by_dir: std::collections::HashMap<String, Vec<FileId>> = Default::default();
    for (id, _) in scan.files() {
        if bare(id) && !scan.models[id].policies.is_empty() {
            by_dir.entry(dir_of(id)).or_default().push(id);
        }
    }
    let github_policies: std::collections::HashSet<*const PolicyDoc> =
        first_trust.keys().copied().collect();
    let mut seen_dirs: std::collections::HashSet<String> = Default::default();
    for t in trusts {
        let f = t.policy.file;
        if !bare(f) {
            continue;
        }
        let dir = dir_of(f);
        if !seen_dirs.insert(dir.clone()) {
            continue;
        }
        let in_dir: &[FileId] = by_dir.get(&dir).map(Vec::as_slice).unwrap_or(&[]);
        // Trust policies of the directory, and whether each trusts GitHub.
        let github_policies = &github_policies;
        let dir_trusts: Vec<(FileId, bool)> = in_dir
            .iter()
            .flat_map(|&id| {
                scan.models[id]
                    .policies
                    .iter()
                    .filter(|p| p.kind == PolicyKind::Trust)
                    .map(move |p| (id, github_policies.contains(&(p as *const PolicyDoc))))
            })
            .collect();
        // Every role of the directory trusts GitHub: any permission policy there is one of
        // theirs. Otherwise a policy is paired with a GitHub trust only by file name
        // (`deploy-trust.json` ↔ `deploy-policy.json`).
        let all_github = dir_trusts.iter().all(|(_, g)| *g);
        let github_stems: Vec<String> = dir_trusts
            .iter()
            .filter(|(_, g)| *g)
            .map(|(id, _)| pairing_stem(&scan.file(*id).rel))
            .filter(|s| !s.is_empty())
            .collect();
        let mut policies = Vec::new();
        for &id in in_dir {
            if !all_github && !github_stems.contains(&pairing_stem(&scan.file(id).rel)) {
                continue;
            }
            policies.extend(
                scan.models[id]
                    .policies
                    .iter()
                    .filter(|p| p.kind == PolicyKind::Permission),
            );
        }
        if policies.is_empty() {
            continue;
        }
        let (assumed_by, tokens, run) = who(t.policy);
        out.push(CiRole {
            assumed_by,
            tokens,
            run,
            describe: format!("the role trusted by `{}`", scan.file(f).rel),
            role: None,
            trust_file: f,
            trust_span: t.principal.map(|pr| pr.span).unwrap_or(t.statement.span),
            policies,
            managed: vec![],
        });
    }
    out
}

/// Each permission policy once, with the first subject it belongs to (a policy attached to two
/// GitHub roles is reported once).
pub fn unique_policies<'s, 'a>(subjects: &'s [CiRole<'a>]) -> Vec<(&'a PolicyDoc, &'s CiRole<'a>)> {
    let mut out: Vec<(&'a PolicyDoc, &'s CiRole<'a>)> = Vec::new();
    // (by address: a set, not a search of `out`, which was quadratic in the policies)
    let mut seen: std::collections::HashSet<*const PolicyDoc> = Default::default();
    for s in subjects {
        for p in &s.policies {
            if seen.insert(*p as *const PolicyDoc) {
                out.push((p, s));
            }
        }
    }
    out
}

/// The AWS-managed policies attached to CI roles that the vendored snapshot knows and that do
/// not grant every action (`AdministratorAccess` is `perm-admin-access`'s alone): each attachment once
/// (an attachment naming several roles), with the first role it is attached to.
pub fn managed_below_everything<'s, 'a>(
    subjects: &'s [CiRole<'a>],
) -> Vec<(
    &'s CiRole<'a>,
    &'a Attached,
    &'static super::managed_policies::ManagedPolicy,
)> {
    // (one line may attach several policies: `policy_arn = each.value` over a list)
    let mut seen: std::collections::HashSet<(
        FileId,
        Span,
        *const super::managed_policies::ManagedPolicy,
    )> = Default::default();
    let mut out = Vec::new();
    for s in subjects {
        for arn in &s.managed {
            let Some(p) = super::managed_policies::lookup_template(&arn.value) else {
                continue;
            };
            if !p.grants_every_action() && seen.insert((arn.file, arn.span, p as *const _)) {
                out.push((s, *arn, p));
            }
        }
    }
    out
}

/// A known pattern that is `*` (or `*:*`): every action.
pub fn is_every_action(t: &Template) -> bool {
    t.known().is_some_and(|k| matches!(k.trim(), "*" | "*:*"))
}

/// The first action element of `s` that is known and matches `action` (IAM glob,
/// case-insensitive). With `skip_star`, a bare `*` does not count (the admin rule owns it).
pub fn granting<'s>(s: &'s Statement, action: &str, skip_star: bool) -> Option<&'s SStr> {
    if s.not_action {
        return None;
    }
    s.actions.iter().find(|a| {
        a.value.known().is_some_and(|k| {
            !(skip_star && is_every_action(&a.value))
                && crate::model::glob_match(&k.to_ascii_lowercase(), &action.to_ascii_lowercase())
        })
    })
}

/// Whether `s` names `action` literally (no wildcard).
pub fn names_exactly<'s>(s: &'s Statement, action: &str) -> Option<&'s SStr> {
    if s.not_action {
        return None;
    }
    s.actions.iter().find(|a| {
        a.value
            .known()
            .is_some_and(|k| k.trim().eq_ignore_ascii_case(action))
    })
}

/// Condition keys that describe where and when a request is made (region, network, time,
/// transport, client), never which resource it acts on, and that a CI role's session can
/// satisfy: a statement conditioned only on them grants its actions on the same resources as
/// without them. Left out on purpose: keys about the caller (`aws:PrincipalArn`,
/// `aws:PrincipalTag/…`) and MFA (a web-identity session has none), which may make the statement
/// never apply to the role, and `aws:CalledVia`/`aws:ViaAWSService` (only through another
/// service); resource keys (tags, `aws:ResourceAccount`) and service keys may select resources.
const CONTEXT_ONLY_KEYS: &[&str] = &[
    "aws:RequestedRegion",
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:VpcSourceIp",
    "aws:SecureTransport",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:UserAgent",
    "aws:Referer",
];

/// The statement's conditions when every one of them is on a request-context key (region,
/// source network, time): they limit when the grant applies, not which resources it covers.
/// `None` when a condition may select resources or keep the grant from the role (a resource
/// tag, the resource's account, the caller, a service key, an unknown key). An unconditional
/// statement gives `Some(vec![])`.
pub fn context_only_conditions(st: &Statement) -> Option<Vec<&str>> {
    let mut keys: Vec<&str> = Vec::new();
    for c in &st.conditions {
        let k = c.key.value.trim();
        if !CONTEXT_ONLY_KEYS.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            return None;
        }
        if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            keys.push(k);
        }
    }
    Some(keys)
}

/// For messages: `` (a condition on `aws:RequestedRegion` does not select resources)``, or empty.
pub fn context_note(keys: &[&str]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let names: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    format!(
        " (a condition on {} does not select resources)",
        names.join(" and ")
    )
}

/// Of the action elements that grant, the first in the document: a finding about a grant is
/// reported where the policy names it.
pub fn first_written<'s>(grants: impl IntoIterator<Item = &'s SStr>) -> Option<&'s SStr> {
    grants.into_iter().min_by_key(|a| a.span.start)
}

/// A resource element that is exactly `*`.
pub fn star_resource(s: &Statement) -> Option<&SStr> {
    if s.not_resource {
        return None;
    }
    s.resources
        .iter()
        .find(|r| r.value.known().is_some_and(|k| k.trim() == "*"))
}

/// A resource element naming every ECR repository by ARN (`arn:aws:ecr:*:*:*`,
/// `arn:aws:ecr:eu-west-1:123456789012:repository/*`, `arn:${partition}:ecr:*`).
pub fn every_ecr_repository_resource(s: &Statement) -> Option<&SStr> {
    if s.not_resource {
        return None;
    }
    s.resources.iter().find(|r| {
        // (an unknown part, `${AWS::Region}`, stands for one region or account: no `:`)
        let text = r.value.flat();
        let parts: Vec<&str> = text.trim().splitn(6, ':').collect();
        if parts.first() != Some(&"arn") || parts.len() < 3 {
            return false;
        }
        let service = parts[2];
        // (an unknown service, a hole, matches neither)
        if !(crate::model::glob_match(service, "ecr")
            || crate::model::glob_match(service, "ecr-public"))
        {
            return false;
        }
        // (fewer parts: the last wildcard spans the rest)
        let resource = match parts.len() {
            6 => parts[5],
            _ => match parts.last() {
                Some(l) if l.chars().all(|c| c == '*') && !l.is_empty() => "*",
                _ => return false,
            },
        };
        ["repository/a1", "repository/zz/b-2"]
            .iter()
            .all(|name| crate::model::glob_match(resource, name))
    })
}

/// A resource element covering every IAM role (of one account or all): `*`,
/// `arn:aws:iam::123456789012:role/*`, `arn:${partition}:iam::*:role/*`.
pub fn any_role_resource(s: &Statement) -> Option<&SStr> {
    every_iam_resource(s, ":role/*")
}

/// A resource element covering every IAM policy: `*`, `arn:aws:iam::123456789012:policy/*`.
pub fn any_policy_resource(s: &Statement) -> Option<&SStr> {
    every_iam_resource(s, ":policy/*")
}

/// A resource element of `s` that is `*` or an ARN ending with `tail` (`:role/*`) as written,
/// not through an unknown part.
fn every_iam_resource<'s>(s: &'s Statement, tail: &str) -> Option<&'s SStr> {
    if s.not_resource {
        return None;
    }
    s.resources.iter().find(|r| {
        let d = r.value.display();
        let d = d.trim();
        d == "*"
            || (d.starts_with("arn:")
                && d.ends_with(tail)
                && r.value.parts.last().is_some_and(
                    |p| matches!(p, crate::source::tree::Part::Lit(l) if l.ends_with(tail)),
                ))
    })
}

pub fn is_deny(s: &Statement) -> bool {
    s.effect
        .as_ref()
        .and_then(|e| e.value.known())
        .is_some_and(|e| e == "Deny")
}

/// The role's ARN parts a resource pattern can be compared with: its literal name, and the
/// IaC reference prefix (`aws_iam_role.deploy.` / CFN logical id) unknown parts use for it.
pub fn resource_is_self(r: &Template, role: Option<&Role>, policy_owner: &str) -> bool {
    let Some(role) = role else { return false };
    // `${aws_iam_role.deploy.arn}`, `!GetAtt Deploy.Arn`: the reference names the role. In a
    // local module's instance (`module.app.aws_iam_role.deploy (in envs/dev)`) the module's
    // text names it by its own address, from a policy of the same instance.
    if let [crate::source::tree::Part::Unknown(e)] = r.parts.as_slice() {
        let e = e.trim();
        let (prefix, owner, suffix) = instance_address(&role.owner);
        let (p_prefix, _, p_suffix) = instance_address(policy_owner);
        if (e.starts_with(&format!("{owner}.")) || e == owner)
            && (prefix, suffix) == (p_prefix, p_suffix)
        {
            return true;
        }
    }
    let Some(name) = role.name.as_ref().and_then(|n| n.value.known()) else {
        return false;
    };
    // `arn:aws:iam::123456789012:role/path/NAME` (role names are case-insensitive); the
    // partition or account may be unknown (`arn:aws:iam::${account_id}:role/ci-*`) when the
    // role part is written.
    use crate::source::tree::Part;
    let k = match r.known() {
        Some(k) => k,
        None => match (r.parts.first(), r.parts.last()) {
            (Some(Part::Lit(first)), Some(Part::Lit(last)))
                if first.starts_with("arn:") && last.contains(":role/") =>
            {
                format!("arn:{last}")
            }
            _ => return false,
        },
    };
    let k = k.to_ascii_lowercase();
    if !k.starts_with("arn:") || !k.contains(":role/") {
        return false;
    }
    let tail = k.rsplit_once(":role/").map(|(_, t)| t).unwrap_or("");
    let name = name.to_ascii_lowercase();
    // (`role/team/*`: the role may have that path, which the scan does not model; but
    // `role/aws-service-role/…` is reserved for service-linked roles, never the CI role)
    crate::model::glob_match(tail, &name)
        || (!tail.starts_with("aws-service-role/")
            && tail
                .rsplit_once('/')
                .is_some_and(|(_, last)| crate::model::glob_match(last, &name)))
}

/// An owner as (module instance prefix, address in its module, instance suffix):
/// `module.a.module.b.aws_iam_role.x (in envs/dev)` is (`module.a.module.b.`,
/// `aws_iam_role.x`, ` (in envs/dev)`); an owner outside a module instance has neither.
fn instance_address(owner: &str) -> (&str, &str, &str) {
    let (body, suffix) = match owner.find(" (in ") {
        Some(i) if owner.ends_with(')') => (&owner[..i], &owner[i..]),
        _ => (owner, ""),
    };
    let mut prefix_len = 0;
    let mut rest = body;
    while let Some(after) = rest.strip_prefix("module.") {
        let Some(dot) = after.find('.') else { break };
        prefix_len += "module.".len() + dot + 1;
        rest = &after[dot + 1..];
    }
    (&body[..prefix_len], &body[prefix_len..], suffix)
}

/// How a message names a policy: `` `ecr.json` ``, or the owner as is when it already quotes
/// (`Role (policy `name`)`).
pub fn policy_name(p: &PolicyDoc) -> String {
    if p.owner.contains('`') {
        p.owner.clone()
    } else {
        format!("`{}`", p.owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_reference() {
        let role = Role {
            file: 0,
            span: Span::default(),
            owner: "aws_iam_role.ci".into(),
            name: Some(crate::model::Spanned::new(
                Template::lit("github-ci"),
                Span::default(),
            )),
            trust: None,
            permission_policies: vec![],
            managed_policy_arns: vec![],
        };
        let r = Some(&role);
        assert!(resource_is_self(
            &Template::unknown("aws_iam_role.ci.arn"),
            r,
            "aws_iam_role_policy.ci"
        ));
        assert!(!resource_is_self(
            &Template::unknown("aws_iam_role.cis.arn"),
            r,
            "p"
        ));
        assert!(resource_is_self(
            &Template::lit("arn:aws:iam::123456789012:role/GitHub-CI"),
            r,
            "p"
        ));
        assert!(resource_is_self(
            &Template::lit("arn:aws:iam::123456789012:role/ci/github-*"),
            r,
            "p"
        ));
        assert!(!resource_is_self(
            &Template::lit("arn:aws:iam::123456789012:role/app-*"),
            r,
            "p"
        ));
        let partial = |tail: &str| Template {
            parts: vec![
                crate::source::tree::Part::Lit("arn:aws:iam::".into()),
                crate::source::tree::Part::Unknown("account_id".into()),
                crate::source::tree::Part::Lit(tail.into()),
            ],
        };
        assert!(resource_is_self(&partial(":role/github-*"), r, "p"));
        assert!(!resource_is_self(&partial(":role/app-*"), r, "p"));
        assert!(!resource_is_self(&partial(":user/github-*"), r, "p"));
        assert!(!resource_is_self(
            &Template::lit("arn:aws:iam::123456789012:role/github-ci"),
            None,
            "p"
        ));
    }

    #[test]
    fn every_action() {
        assert!(is_every_action(&Template::lit("*")));
        assert!(is_every_action(&Template::lit("*:*")));
        assert!(!is_every_action(&Template::lit("iam:*")));
    }
}
