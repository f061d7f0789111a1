//! The GitHub-OIDC Terraform modules most used in practice: a `module` block calling one of
//! them is expanded into the trust policy the module renders, with the spans of the inputs
//! the user wrote (so `subjects = ["*"]` is reported at that line).
//!
//! - terraform-aws-modules/iam v5 `modules/iam-github-oidc-role`: `subjects` (`repo:` is
//!   prefixed unless present), `subject_condition` (default `StringLike`), `audience`,
//!   `provider_url`, `additional_trust_policy_conditions`, `policies`.
//! - terraform-aws-modules/iam v6 `modules/iam-role` with `enable_github_oidc = true`:
//!   `oidc_subjects` (`StringEquals`), `oidc_wildcard_subjects` (`StringLike`), both with
//!   `repo:` prefixed unless present; `oidc_audiences`; `github_provider`;
//!   `trust_policy_conditions`; no `sub` condition when both subject lists are empty.
//! - unfunco/oidc-github: v3 `github_subjects` (a bare `owner/repo` gets `:` +
//!   `default_subject`, default `ref:refs/heads/main`, `*` meaning `:*`), v2
//!   `github_repositories` (a bare entry gets `:*`); always `StringLike` on `sub` and, from
//!   v1.2.1 on, `StringEquals` on `aud`; `enterprise_slug` (v3) moves the issuer; the role is named
//!   `github` by v0/v1 and `GitHubActions` by v2/v3 unless `iam_role_name` says;
//!   `iam_role_inline_policies` are its inline permission policies.
//! - terraform-aws-modules/iam `modules/iam-user` (v5, v6): the access key it creates by
//!   default (`iac-access-key`).
//! - terraform-aws-modules/iam v5 `modules/iam-github-oidc-provider`: its `url` and `arn`
//!   outputs, for trusts a caller builds from them.
//! - terraform-aws-modules/iam `modules/iam-policy` (v5, v6): the customer-managed policy it
//!   creates from `policy` and `name`, which `module.NAME.arn` designates in attachments and in
//!   a role module's `policies`.
//! - cds-snc/terraform-modules `gh_oidc_role` (v2 to v11): one role per entry of `roles`,
//!   named `name`, `StringLike` on `sub` only (no `aud` condition):
//!   `repo:{org_name}/{repo_name}:{claim}`, or one subject per entry of `claims` (v11).
//!   Its roles are named for attachments in the caller (`role = local.admin_name`).
//! - terraform-module/github-oidc-provider (registry or git; v1 to v2.3): `repositories`, each
//!   `repo:` + the entry, with `:*` appended unless it holds a `:`; `StringLike` on `sub` only;
//!   `role_name`; `oidc_role_attach_policies`; `create_oidc_role = false` creates nothing.
//! - thetestlabs/oidc-with-github-actions (v0.1): `repo:{github_org}/{repo}:*` for each of
//!   `github_repositories`, `StringLike` on `sub` only; `iam_role_name`; the AWS-managed
//!   `iam_role_policy` (`ReadOnlyAccess` by default); `enabled = false` creates nothing.
//!
//! An input that shapes the policy but is not statically known (a variable condition
//! operator, extra conditions from a variable) makes the module unjudgeable: it is skipped
//! rather than guessed.

use crate::frontend::iam_json::{Family, policy_from_tree, strings_of};
use crate::model::PolicyKind;
use crate::model::{Attached, FileModel, PolicyRef, Role, Spanned};
use crate::source::hcl::Block;
use crate::source::tree::{Entry, Node, Part, Style, Template, Value};
use crate::source::{FileId, Span};

const GITHUB: &str = "token.actions.githubusercontent.com";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    TamGithubOidcRole,
    TamIamRole,
    UnfuncoV2,
    UnfuncoV3,
    CdsGhOidcRole,
    TerraformModuleOidcProvider,
    Thetestlabs,
}

fn kind(b: &Block) -> Option<Kind> {
    let source = b.attr("source")?.as_str()?;
    let path = source.split('?').next().unwrap_or("").trim_end_matches('/');
    if path.ends_with("modules/iam-github-oidc-role") {
        return Some(Kind::TamGithubOidcRole);
    }
    if path.ends_with("modules/iam-role") && path.contains("iam") {
        return Some(Kind::TamIamRole);
    }
    let lower = path.to_ascii_lowercase();
    // (`github.com/cds-snc/terraform-modules//gh_oidc_role?ref=v11.4.5`, and the older
    // `github.com/cds-snc/terraform-modules?ref=v2.0.1//gh_oidc_role`)
    let whole = source.to_ascii_lowercase();
    if whole.contains("cds-snc/terraform-modules") && whole.contains("//gh_oidc_role") {
        return Some(Kind::CdsGhOidcRole);
    }
    if lower.contains("terraform-module/github-oidc-provider")
        || lower.contains("terraform-module/terraform-aws-github-oidc-provider")
    {
        return Some(Kind::TerraformModuleOidcProvider);
    }
    if lower.contains("thetestlabs/oidc-with-github-actions")
        || lower.contains("thetestlabs/terraform-aws-oidc-with-github-actions")
    {
        return Some(Kind::Thetestlabs);
    }
    if lower.contains("unfunco/oidc-github") || lower.contains("unfunco/terraform-aws-oidc-github")
    {
        return Some(if b.attr("github_repositories").is_some() {
            Kind::UnfuncoV2
        } else {
            Kind::UnfuncoV3
        });
    }
    None
}

fn lit(span: Span, s: &str) -> Node {
    Node::new(span, Value::Str(Template::lit(s)))
}

fn seq(span: Span, items: Vec<Node>) -> Node {
    Node {
        span,
        value: Value::Seq(items),
        style: Style::Flow,
    }
}

fn map(span: Span, entries: Vec<(String, Span, Node)>) -> Node {
    Node::new(
        span,
        Value::Map(
            entries
                .into_iter()
                .map(|(key, key_span, value)| Entry {
                    key,
                    key_span,
                    value,
                })
                .collect(),
        ),
    )
}

fn items(n: &Node) -> Vec<Node> {
    match &n.value {
        Value::Seq(v) => v.clone(),
        Value::Null => vec![],
        _ => vec![n.clone()],
    }
}

/// A role name a module input gives, where it is written (unknown when not a string).
fn name_of(n: &Node, input: &str) -> Spanned<Template> {
    let t = n.as_template().cloned();
    Spanned::new(t.unwrap_or_else(|| Template::unknown(input)), n.span)
}

/// The role name input `key`, or the module's `default` (at the `module` block's header).
fn name_input(b: &Block, key: &str, default: &str) -> Spanned<Template> {
    match b.attr(key) {
        Some(n) => name_of(n, key),
        None => Spanned::new(Template::lit(default), b.header),
    }
}

/// A boolean input: `Some(b)` when literal, `None` when absent or unknown.
fn flag(b: &Block, key: &str) -> Option<bool> {
    match b.attr(key)?.value {
        Value::Bool(v) => Some(v),
        _ => None,
    }
}

/// A string input: its default when absent, `None` when not statically known.
fn string_input(b: &Block, key: &str, default: &str) -> Option<(String, Span)> {
    match b.attr(key) {
        None => Some((default.to_string(), b.header)),
        Some(n) => n.as_str().map(|s| (s, n.span)),
    }
}

/// `"repo:${trimprefix(subject, "repo:")}"`.
fn with_repo_prefix(n: &Node) -> Node {
    let mut parts = vec![Part::Lit("repo:".into())];
    if let Some(t) = n.as_template() {
        for (i, p) in t.parts.iter().enumerate() {
            match p {
                Part::Lit(s) if i == 0 => {
                    let s = s.strip_prefix("repo:").unwrap_or(s);
                    if let Some(Part::Lit(prev)) = parts.last_mut() {
                        prev.push_str(s);
                    }
                }
                Part::Lit(s) if i > 0 => match parts.last_mut() {
                    Some(Part::Lit(prev)) => prev.push_str(s),
                    _ => parts.push(p.clone()),
                },
                _ => parts.push(p.clone()),
            }
        }
    } else {
        parts.push(Part::Unknown("subject".into()));
    }
    Node::new(n.span, Value::Str(Template { parts }))
}

/// unfunco: `format("repo:%s%s", subject, contains(":") ? "" : suffix)`.
fn with_suffix(n: &Node, suffix: Option<&str>) -> Node {
    let mut out = with_repo_prefix(n);
    let Value::Str(t) = &mut out.value else {
        return out;
    };
    let has_colon = t.parts.iter().enumerate().any(|(i, p)| match p {
        // the first literal holds the `repo:` just added
        Part::Lit(s) if i == 0 => s["repo:".len()..].contains(':'),
        Part::Lit(s) => s.contains(':'),
        Part::Unknown(_) => false,
    });
    if has_colon {
        return out;
    }
    let all_known = t.is_known();
    match (suffix, all_known) {
        (Some(sfx), true) => {
            if let Some(Part::Lit(prev)) = t.parts.last_mut() {
                prev.push_str(sfx);
            }
        }
        // An unknown part may itself hold the `:`: the suffix may or may not be added.
        _ => t.parts.push(Part::Unknown("default_subject".into())),
    }
    out
}

/// Extra conditions given as a literal list of `{test, variable, values}` objects.
/// `(test, test span, variable, variable span, values)`.
type ExtraCondition = (String, Span, String, Span, Node);
/// `(variable, span, values, values span)` under one test.
type CondKey = (String, Span, Vec<Node>, Span);

fn extra_conditions(b: &Block, key: &str) -> Option<Vec<ExtraCondition>> {
    let Some(list) = b.attr(key) else {
        return Some(vec![]);
    };
    let mut out = Vec::new();
    match &list.value {
        Value::Seq(v) => {
            for c in v {
                let (Some(test), Some(var), Some(values)) =
                    (c.get("test"), c.get("variable"), c.get("values"))
                else {
                    return None;
                };
                out.push((
                    test.as_str()?,
                    test.span,
                    var.as_str()?,
                    var.span,
                    seq(values.span, items(values)),
                ));
            }
            Some(out)
        }
        Value::Null => Some(out),
        _ => None,
    }
}

/// Add (or merge into) a `test` → `variable` → values entry.
fn add_condition(
    conds: &mut Vec<(String, Span, Vec<CondKey>)>,
    test: (String, Span),
    var: (String, Span),
    values: Vec<Node>,
    values_span: Span,
) {
    let op = match conds.iter().position(|c| c.0 == test.0) {
        Some(i) => &mut conds[i],
        None => {
            conds.push((test.0, test.1, vec![]));
            conds.last_mut().expect("just pushed")
        }
    };
    match op.2.iter_mut().find(|k| k.0 == var.0) {
        Some(k) => k.2.extend(values),
        None => op.2.push((var.0, var.1, values, values_span)),
    }
}

/// Expand a module call into a role with its trust policy, when it is one of the modules.
/// A `module` block calling one of the modules this file knows (its policy is rendered here
/// rather than read from the module's own files, even when they are in the scan).
pub fn is_known(b: &Block) -> bool {
    kind(b).is_some() || is_tam_iam_user(b)
}

/// Whether the unfunco/oidc-github release a call pins renders an `aud` condition: v1.2.1 and
/// later do (read at the tags; v1.2.0 and earlier check only `sub`). An exact version or a
/// `~>` constraint below 1.2.1 does not; a range, a commit or no version is read as the latest.
fn unfunco_checks_aud(b: &Block) -> bool {
    let raw = match pin(b) {
        Some(Pin::Version(v)) => v.trim().to_string(),
        // (`?ref=v1.1.1&depth=1`)
        Some(Pin::Ref(r)) => {
            let r = r.split('&').next().unwrap_or("");
            r.strip_prefix('v').unwrap_or(r).to_string()
        }
        None => return true,
    };
    let (pessimistic, v) = match raw.strip_prefix("~>") {
        Some(rest) => (true, rest.trim()),
        None => (false, raw.strip_prefix('=').unwrap_or(&raw).trim()),
    };
    let parts: Option<Vec<u32>> = v.split('.').map(|p| p.parse().ok()).collect();
    let Some(parts) = parts.filter(|p| !p.is_empty() && p.len() <= 3) else {
        return true;
    };
    let at = |i: usize| parts.get(i).copied().unwrap_or(0);
    match (pessimistic, parts.len()) {
        // (`~> 1.1` allows every 1.x; `~> 1.1.0` every 1.1.x)
        (true, 2) => at(0) >= 1,
        (true, _) => (at(0), at(1)) >= (1, 2),
        (false, _) => (at(0), at(1), at(2)) >= (1, 2, 1),
    }
}

/// The major version a module call pins (`version = "1.7.1"`, `"~> 1.0"`, `?ref=v2.0.0`), when
/// it names one.
/// What a module call pins: its `version` constraint, else the `?ref=` of its source (a tag or
/// a commit, with any query after it), as written.
enum Pin {
    Version(String),
    Ref(String),
}

fn pin(b: &Block) -> Option<Pin> {
    if let Some(v) = b.attr("version").and_then(|v| v.as_str()) {
        return Some(Pin::Version(v));
    }
    let s = b.attr("source")?.as_str()?;
    Some(Pin::Ref(s.split_once("?ref=")?.1.to_string()))
}

fn major_version(b: &Block) -> Option<u32> {
    let v = match pin(b)? {
        // (`1.7.1`, `= 1.7.1`, `~> 1.0`: that major; `>= 1.0` may be the latest, a range or an
        // exclusion says little)
        Pin::Version(v) => {
            let v = v.trim();
            let v = v
                .strip_prefix("~>")
                .or_else(|| v.strip_prefix('='))
                .unwrap_or(v)
                .trim();
            if v.contains([',', '<', '>', '!']) {
                return None;
            }
            v.to_string()
        }
        // (a tag, `?ref=v1.7.1`; a commit hash says nothing)
        Pin::Ref(r) => r.strip_prefix('v').unwrap_or(&r).to_string(),
    };
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() || !v.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    digits.parse().ok()
}

/// The inline permission policies a known module call gives its role (unfunco/oidc-github
/// `iam_role_inline_policies = { name = document }`), as written.
pub fn inline_policies(b: &Block) -> Vec<&Node> {
    match kind(b) {
        Some(Kind::UnfuncoV2 | Kind::UnfuncoV3) => match b.attr("iam_role_inline_policies") {
            Some(Node {
                value: Value::Map(entries),
                ..
            }) => entries.iter().map(|e| &e.value).collect(),
            _ => vec![],
        },
        _ => vec![],
    }
}

/// terraform-aws-modules/iam v5 `modules/iam-github-oidc-provider` (registry or git): its
/// outputs `url` (the provider's URL without its scheme, as AWS stores it: the module's own
/// example writes `"${module.p.url}:actor"`; GitHub's issuer by default) and `arn` (that
/// provider's ARN in the account), for what a caller builds from them (`"${replace(module.p.url,
/// "https://", "")}:sub"`, `identifiers = [module.p.arn]`). `create = false` (no provider) or
/// an unknown `url` gives none.
pub fn provider_outputs(b: &Block, syms: &super::Syms) -> Option<Vec<Entry>> {
    if !is_tam_submodule(b, "iam-github-oidc-provider") {
        return None;
    }
    if b.attr("create").and_then(super::eval::as_bool) == Some(false) {
        return None;
    }
    let url = match b.attr("url") {
        Some(n) => {
            let mut v = n.clone();
            super::resolve(&mut v, syms);
            v.as_str()?
        }
        None => "https://token.actions.githubusercontent.com".to_string(),
    };
    let host = url.trim_start_matches("https://").trim_end_matches('/');
    let at = b.header;
    Some(vec![
        Entry {
            key: "url".into(),
            key_span: at,
            // (the provider's `url` attribute, as AWS returns it: without the scheme)
            value: Node::new(at, Value::Str(Template::lit(host))),
        },
        Entry {
            key: "arn".into(),
            key_span: at,
            value: Node::new(at, Value::Str(super::provider_arn(host))),
        },
    ])
}

/// A call of terraform-aws-modules/iam `modules/iam-policy` (registry or git, v5 and v6) that
/// creates its policy: its label, for the policy (`policy`, `name`) it defines. Not under
/// `create_policy = false` (v5) or `create = false` (v6), nor with `count`/`for_each` (one
/// address per instance, not modelled).
pub fn policy_module(b: &Block) -> Option<&str> {
    if b.ident != "module"
        || !is_tam_submodule(b, "iam-policy")
        || b.attr("count").is_some()
        || b.attr("for_each").is_some()
        || ["create", "create_policy"]
            .iter()
            .any(|k| b.attr(k).and_then(super::eval::as_bool) == Some(false))
    {
        return None;
    }
    b.label(0)
}

/// terraform-aws-modules/iam `modules/iam-user` (registry or git).
fn is_tam_iam_user(b: &Block) -> bool {
    is_tam_submodule(b, "iam-user")
}

/// A call of terraform-aws-modules/iam's `modules/NAME` (registry or git).
fn is_tam_submodule(b: &Block, name: &str) -> bool {
    let Some(source) = b.attr("source").and_then(|s| s.as_str()) else {
        return false;
    };
    let path = source.split('?').next().unwrap_or("").trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    lower.ends_with(&format!("//modules/{name}"))
        && (lower.contains("terraform-aws-modules/iam/aws")
            || lower.contains("terraform-aws-modules/terraform-aws-iam"))
}

/// terraform-aws-modules/iam `modules/iam-user` creates an access key unless told not to: v5
/// `create_user` and `create_iam_access_key`, v6 `create` and `create_access_key`, all true
/// by default (read at v5.60.0 and v6.5.0). The key is reported at the input that asks for
/// it, or at the `module` block when the default does.
fn tam_user_key(models: &mut super::DirFiles<FileModel>, id: FileId, b: &Block) {
    // (`false` or the string `"false"`, which Terraform converts)
    let off = |k: &str| b.attr(k).and_then(super::eval::as_bool) == Some(false);
    if [
        "create",
        "create_user",
        "create_iam_access_key",
        "create_access_key",
    ]
    .iter()
    .any(|k| off(k))
    {
        return;
    }
    let at = ["create_iam_access_key", "create_access_key"]
        .iter()
        .find_map(|k| b.attr(k))
        .map(|n| n.span)
        .unwrap_or(b.header);
    let name = b.label(0).unwrap_or("");
    let user = b.attr("name").map(|n| name_of(n, "name"));
    models[id].access_keys.push(crate::model::AccessKey {
        file: id,
        span: at,
        owner: format!("module.{name}.aws_iam_access_key.this"),
        user,
    });
}

pub fn module(models: &mut super::DirFiles<FileModel>, id: FileId, b: &Block) {
    if is_tam_iam_user(b) {
        tam_user_key(models, id, b);
        return;
    }
    let Some(kind) = kind(b) else { return };
    if kind == Kind::CdsGhOidcRole {
        cds_roles(models, id, b);
        return;
    }
    if flag(b, "create") == Some(false) {
        return;
    }
    let h = b.header;
    let mut conds = Vec::new();
    let issuer: (String, Span);
    let mut actions = vec!["sts:AssumeRoleWithWebIdentity"];
    let role_name;
    let mut managed = Vec::new();
    match kind {
        Kind::TamGithubOidcRole | Kind::TamIamRole => {
            if kind == Kind::TamIamRole && flag(b, "enable_github_oidc") != Some(true) {
                return;
            }
            let Some((url, us)) = (if kind == Kind::TamGithubOidcRole {
                string_input(b, "provider_url", GITHUB)
            } else {
                string_input(b, "github_provider", GITHUB)
            }) else {
                return;
            };
            let url = url.replace("https://", "");
            issuer = (url.clone(), us);
            actions.insert(0, "sts:TagSession");
            let fav = ("ForAllValues:StringEquals".to_string(), h);
            add_condition(
                &mut conds,
                fav.clone(),
                (format!("{url}:iss"), us),
                vec![lit(us, &format!("https://{url}"))],
                us,
            );
            let (aud, aud_span) = if kind == Kind::TamGithubOidcRole {
                match b.attr("audience") {
                    None => (vec![lit(h, "sts.amazonaws.com")], h),
                    Some(a) => (vec![a.clone()], a.span),
                }
            } else {
                match b.attr("oidc_audiences") {
                    Some(a) if !items(a).is_empty() => (items(a), a.span),
                    _ => (vec![lit(h, "sts.amazonaws.com")], h),
                }
            };
            add_condition(&mut conds, fav, (format!("{url}:aud"), us), aud, aud_span);
            let extra_key = if kind == Kind::TamGithubOidcRole {
                "additional_trust_policy_conditions"
            } else {
                "trust_policy_conditions"
            };
            let Some(extra) = extra_conditions(b, extra_key) else {
                return;
            };
            if kind == Kind::TamGithubOidcRole {
                let Some(test) = string_input(b, "subject_condition", "StringLike") else {
                    return;
                };
                // `subjects` defaults to `[]`: a condition checking `sub` against nothing.
                let (mut subs, span): (Vec<Node>, Span) = match b.attr("subjects") {
                    Some(s) => (items(s).iter().map(with_repo_prefix).collect(), s.span),
                    None => (vec![], h),
                };
                if subs.is_empty() {
                    subs.push(super::empty_values(span));
                }
                add_condition(&mut conds, test, (format!("{url}:sub"), h), subs, span);
            } else {
                for (input, op) in [
                    ("oidc_subjects", "StringEquals"),
                    ("oidc_wildcard_subjects", "StringLike"),
                ] {
                    if let Some(s) = b.attr(input) {
                        let subs: Vec<Node> = items(s).iter().map(with_repo_prefix).collect();
                        if !subs.is_empty() {
                            add_condition(
                                &mut conds,
                                (op.to_string(), s.span),
                                (format!("{url}:sub"), s.span),
                                subs,
                                s.span,
                            );
                        }
                    }
                }
            }
            for (t, ts, v, vs, values) in extra {
                let sp = values.span;
                add_condition(&mut conds, (t, ts), (v, vs), items(&values), sp);
            }
            role_name = b
                .attr("name")
                .and_then(|n| n.as_template().map(|t| Spanned::new(t.clone(), n.span)));
            if let Some(p) = b.attr("policies") {
                for e in p.entries() {
                    managed.extend(strings_of(&e.value));
                }
            }
        }
        Kind::CdsGhOidcRole => return,
        Kind::TerraformModuleOidcProvider | Kind::Thetestlabs => {
            let tm = kind == Kind::TerraformModuleOidcProvider;
            if flag(b, if tm { "create_oidc_role" } else { "enabled" }) == Some(false) {
                return;
            }
            let input = if tm {
                "repositories"
            } else {
                "github_repositories"
            };
            let Some(repos) = b.attr(input) else { return };
            let subs: Vec<Node> = if tm {
                // `repo:${repo}` when it holds a `:`, else `repo:${repo}:*`
                items(repos)
                    .iter()
                    .map(|n| with_suffix(n, Some(":*")))
                    .collect()
            } else {
                // `repo:${var.github_org}/${repo}:*`
                let org = b.attr("github_org");
                items(repos)
                    .iter()
                    .map(|n| {
                        let part =
                            |x: Option<&Node>, what: &str| match x.and_then(Node::as_template) {
                                Some(t) => t.parts.clone(),
                                None => vec![Part::Unknown(what.into())],
                            };
                        let mut parts = vec![Part::Lit("repo:".into())];
                        parts.extend(part(org, "github_org"));
                        parts.push(Part::Lit("/".into()));
                        parts.extend(part(Some(n), "repository"));
                        parts.push(Part::Lit(":*".into()));
                        Node::new(n.span, Value::Str(Template::concat(parts)))
                    })
                    .collect()
            };
            if subs.is_empty() {
                return;
            }
            issuer = (GITHUB.to_string(), h);
            add_condition(
                &mut conds,
                ("StringLike".into(), h),
                (format!("{GITHUB}:sub"), h),
                subs,
                repos.span,
            );
            role_name = Some(if tm {
                name_input(b, "role_name", "github-oidc-provider-aws")
            } else {
                name_input(b, "iam_role_name", "GitHubOIDCRole")
            });
            if tm {
                if let Some(p) = b.attr("oidc_role_attach_policies") {
                    managed.extend(strings_of(p));
                }
            } else {
                // (it creates the provider its role trusts: `oidc_url`, `client_id_list`,
                // `sts.amazonaws.com` by default; read at v0.1.5)
                let client_ids = match b.attr("client_id_list") {
                    Some(l) if matches!(l.value, Value::Seq(_)) => {
                        let v = strings_of(l);
                        v.iter().all(|s| s.value.is_known()).then_some((v, l.span))
                    }
                    Some(_) => None,
                    None => Some((vec![Spanned::new(Template::lit("sts.amazonaws.com"), h)], h)),
                };
                let url = match b.attr("oidc_url") {
                    Some(u) => u.as_template().map(|t| Spanned::new(t.clone(), u.span)),
                    None => Some(Spanned::new(Template::lit(format!("https://{GITHUB}")), h)),
                };
                models[id].providers.push(crate::model::OidcProvider {
                    file: id,
                    span: b.span,
                    owner: format!(
                        "module.{}.aws_iam_openid_connect_provider.github",
                        b.label(0).unwrap_or("?")
                    ),
                    url,
                    client_ids_span: client_ids.as_ref().map(|(_, s)| *s),
                    client_ids: client_ids.map(|(v, _)| v),
                });
                // `arn:aws:iam::aws:policy/${var.iam_role_policy}`, `ReadOnlyAccess` by default
                let (policy, at) = match b.attr("iam_role_policy") {
                    Some(p) => (p.as_template().cloned(), p.span),
                    None => (Some(Template::lit("ReadOnlyAccess")), h),
                };
                if let Some(t) = policy {
                    let mut parts = vec![Part::Lit("arn:aws:iam::aws:policy/".into())];
                    parts.extend(t.parts);
                    managed.push(Spanned::new(Template::concat(parts), at));
                }
            }
        }
        Kind::UnfuncoV2 | Kind::UnfuncoV3 => {
            if flag(b, "create_iam_role") == Some(false) {
                return;
            }
            if let Some(a) = b.attr_entry("attach_admin_policy")
                && matches!(a.value.value, Value::Bool(true))
            {
                managed.push(Spanned::new(
                    Template::lit("arn:aws:iam::aws:policy/AdministratorAccess"),
                    Span::new(a.key_span.start as usize, a.value.span.end as usize),
                ));
            }
            if let Some(p) = b.attr("iam_role_policy_arns") {
                managed.extend(strings_of(p));
            }
            let mut url = GITHUB.to_string();
            let mut us = h;
            if kind == Kind::UnfuncoV3
                && let Some(slug) = b.attr("enterprise_slug")
            {
                let Some(s) = slug.as_str() else { return };
                if !s.is_empty() {
                    url = format!("{GITHUB}/{s}");
                    us = slug.span;
                }
            }
            issuer = (url.clone(), us);
            let (input, suffix) = if kind == Kind::UnfuncoV2 {
                ("github_repositories", Some(":*".to_string()))
            } else {
                let sfx = match b.attr("default_subject") {
                    None => Some(":ref:refs/heads/main".to_string()),
                    Some(d) => d.as_str().map(|s| {
                        let s = s.trim();
                        if s == "*" {
                            ":*".into()
                        } else {
                            format!(":{s}")
                        }
                    }),
                };
                ("github_subjects", sfx)
            };
            let (subs, span) = match b.attr(input) {
                Some(s) => (
                    items(s)
                        .iter()
                        .map(|n| with_suffix(n, suffix.as_deref()))
                        .collect::<Vec<_>>(),
                    s.span,
                ),
                None => (vec![], h),
            };
            if subs.is_empty()
                && b.attr(input)
                    .is_some_and(|s| matches!(s.value, Value::Seq(_)))
            {
                // The module creates nothing without subjects.
                return;
            }
            if b.attr(input).is_none() {
                return;
            }
            add_condition(
                &mut conds,
                ("StringLike".into(), h),
                (format!("{url}:sub"), h),
                subs,
                span,
            );
            // (the `aud` condition came in v1.2.1)
            if unfunco_checks_aud(b) {
                let mut aud = vec![lit(h, "sts.amazonaws.com")];
                if let Some(a) = b.attr("additional_audiences") {
                    aud.extend(items(a));
                }
                add_condition(
                    &mut conds,
                    ("StringEquals".into(), h),
                    (format!("{url}:aud"), h),
                    aud,
                    h,
                );
            }
            // (v0 and v1 name the role `github`, v2 and v3 `GitHubActions`; no version is
            // the latest)
            let pinned = b.attr("version").is_some()
                || b.attr("source")
                    .and_then(|s| s.as_str())
                    .is_some_and(|s| s.contains("?ref="));
            let default_name = match major_version(b) {
                Some(0 | 1) => "github",
                Some(_) => "GitHubActions",
                None if !pinned => "GitHubActions",
                None => "",
            };
            role_name = Some(
                if default_name.is_empty() && b.attr("iam_role_name").is_none() {
                    Spanned::new(Template::unknown("iam_role_name"), h)
                } else {
                    name_input(b, "iam_role_name", default_name)
                },
            );
            if let Some(a) = b.attr_entry("dangerously_attach_admin_policy")
                && a.value.as_template().is_none()
                && matches!(a.value.value, Value::Bool(true))
            {
                managed.push(Spanned::new(
                    Template::lit("arn:aws:iam::aws:policy/AdministratorAccess"),
                    Span::new(a.key_span.start as usize, a.value.span.end as usize),
                ));
            }
            if let Some(p) = b.attr("iam_role_policy_arns") {
                managed.extend(strings_of(p));
            }
        }
    }
    let owner = format!("module.{}", b.label(0).unwrap_or("?"));
    let role = Rendered {
        span: b.span,
        at: h,
        issuer: issuer.0,
        actions,
        conds,
        owner,
        name: role_name,
        managed,
    };
    push_role(models, id, role);
}

/// A role a module call creates, with its trust policy's parts: where the statement is
/// (`span`, the principal `at`), the issuer, actions and conditions.
struct Rendered {
    span: Span,
    at: Span,
    issuer: String,
    actions: Vec<&'static str>,
    conds: Vec<(String, Span, Vec<CondKey>)>,
    owner: String,
    name: Option<Spanned<Template>>,
    managed: Vec<Spanned<Template>>,
}

fn push_role(models: &mut super::DirFiles<FileModel>, id: FileId, r: Rendered) {
    let h = r.at;
    let principal = Node::new(
        h,
        Value::Str(Template {
            parts: vec![
                Part::Lit("arn:".into()),
                Part::Unknown("partition".into()),
                Part::Lit(":iam::".into()),
                Part::Unknown("account_id".into()),
                Part::Lit(format!(":oidc-provider/{}", r.issuer)),
            ],
        }),
    );
    let condition = map(
        h,
        r.conds
            .into_iter()
            .map(|(op, os, keys)| {
                let inner = map(
                    os,
                    keys.into_iter()
                        .map(|(k, ks, vals, vs)| (k, ks, seq(vs, vals)))
                        .collect(),
                );
                (op, os, inner)
            })
            .collect(),
    );
    let statement = map(
        r.span,
        vec![
            ("Effect".into(), h, lit(h, "Allow")),
            (
                "Action".into(),
                h,
                seq(h, r.actions.iter().map(|a| lit(h, a)).collect()),
            ),
            (
                "Principal".into(),
                h,
                map(h, vec![("Federated".into(), h, principal)]),
            ),
            ("Condition".into(), h, condition),
        ],
    );
    let doc = map(
        r.span,
        vec![
            ("Version".into(), h, lit(h, "2012-10-17")),
            ("Statement".into(), h, seq(h, vec![statement])),
        ],
    );
    let policy = policy_from_tree(
        id,
        &doc,
        r.owner.clone(),
        Some(PolicyKind::Trust),
        Family::ReadOnly,
    );
    let m = &mut models[id];
    m.policies.push(policy);
    m.roles.push(Role {
        file: id,
        span: r.span,
        owner: r.owner,
        name: r.name,
        trust: Some(PolicyRef::new(id, m.policies.len() - 1)),
        permission_policies: vec![],
        managed_policy_arns: Attached::all(id, r.managed),
    });
}

/// cds-snc/terraform-modules `gh_oidc_role`: a role per entry of `roles` (named `name`),
/// trusting GitHub's provider with `StringLike` on `sub` only (no `aud` condition), the
/// subjects `repo:{org_name}/{repo_name}:{claim}` (`org_name` defaults to `cds-snc`), or one
/// per entry of the role's `claims` (each may set its own `org_name`; v11). A role list the
/// scan cannot read is skipped.
fn cds_roles(models: &mut super::DirFiles<FileModel>, id: FileId, b: &Block) {
    let Some(roles) = b.attr("roles") else { return };
    let Value::Seq(entries) = &roles.value else {
        return;
    };
    let org = b
        .attr("org_name")
        .cloned()
        .unwrap_or_else(|| lit(b.header, "cds-snc"));
    let label = b.label(0).unwrap_or("?");
    for e in entries {
        if !matches!(e.value, Value::Map(_)) {
            continue;
        }
        let name = e.get("name");
        let at = name.map_or(e.span, |n| n.span);
        let claims: Vec<&Node> = match e.get("claims").map(|c| &c.value) {
            Some(Value::Seq(cs)) if !cs.is_empty() => cs.iter().collect(),
            _ => vec![e],
        };
        let subs: Vec<Node> = claims
            .iter()
            .map(|c| cds_subject(c.get("org_name").unwrap_or(&org), c, e.span))
            .collect();
        let mut conds = Vec::new();
        add_condition(
            &mut conds,
            ("StringLike".into(), at),
            (format!("{GITHUB}:sub"), at),
            subs,
            e.span,
        );
        let shown = name
            .and_then(Node::as_str)
            .unwrap_or_else(|| "?".to_string());
        push_role(
            models,
            id,
            Rendered {
                span: e.span,
                at,
                issuer: GITHUB.into(),
                actions: vec!["sts:AssumeRoleWithWebIdentity"],
                conds,
                owner: format!("module.{label}.aws_iam_role.this[\"{shown}\"]"),
                name: name.map(|n| name_of(n, "name")),
                managed: vec![],
            },
        );
    }
}

/// `"repo:${org}/${c.repo_name}:${c.claim}"`, written where its wildcard is (`repo_name = "*"`,
/// else the claim).
fn cds_subject(org: &Node, c: &Node, fallback: Span) -> Node {
    let mut parts = vec![Part::Lit("repo:".into())];
    let mut push = |n: Option<&Node>, what: &str| match n.and_then(Node::as_template) {
        Some(t) => parts.extend(t.parts.iter().cloned()),
        None => parts.push(Part::Unknown(what.into())),
    };
    push(Some(org), "org_name");
    push(Some(&lit(fallback, "/")), "");
    let repo = c.get("repo_name");
    push(repo, "repo_name");
    push(Some(&lit(fallback, ":")), "");
    let claim = c.get("claim");
    push(claim, "claim");
    let wild = |n: Option<&Node>| n.and_then(Node::as_str).is_some_and(|s| s.contains('*'));
    let span = if wild(repo) {
        repo.map(|n| n.span)
    } else {
        claim.or(repo).map(|n| n.span)
    };
    Node::new(
        span.unwrap_or(fallback),
        Value::Str(Template::concat(parts)),
    )
}
