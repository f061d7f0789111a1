//! The CI issuers that federate with AWS: one file per issuer with what its own documentation
//! says (hosts, whether one issuer serves many customers, claims, the grammar of `sub`, the
//! audience), and the common type the trust analysis reads. Custom issuers (`[[issuers]]` in
//! the configuration: a self-managed GitLab, Terraform Enterprise, Spacelift, …) are built from
//! a segment template such as `project_path:{group}/{project}:ref_type:{ref_type}:ref:{ref}`.
//!
//! An issuer is recognised by the host of a `Federated` principal (`…:oidc-provider/<host…>`)
//! or, when the principal is a module output or a parameter, by the prefix of the condition
//! keys (`app.terraform.io:sub`).

pub mod bitbucket;
pub mod buildkite;
pub mod circleci;
pub mod github;
pub mod gitlab;
pub mod hcp_terraform;

use crate::analysis::eval::{Hole, StrOp, Tri, Val, value_match};
use crate::model::CustomIssuerSpec;
use crate::source::tree::{Part, Template};
use std::sync::{Arc, OnceLock};

/// Which issuer a registry entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Github,
    Gitlab,
    HcpTerraform,
    Circleci,
    Buildkite,
    Bitbucket,
    /// From `[[issuers]]` in the configuration.
    Custom,
}

/// What a field of the subject says about the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The customer: organization, group, owner. A wildcard here admits other customers.
    Tenant,
    /// What narrows a customer down to one unit: project, repository, pipeline, workspace.
    /// When every scope field is open, the subject admits the whole tenant.
    Scope,
    /// Anything else (ref, run phase, commit, step, user).
    Detail,
}

/// One field of a subject (`{organization}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub role: Role,
    /// The characters a value may hold (`Hole::NoColon` for names that never contain `:`).
    pub hole: Hole,
    /// The only values the issuer emits, when a closed set (`plan`, `apply`).
    pub values: Option<Vec<String>>,
    /// An identifier shape that never appears here because the issuer writes a name
    /// (HCP Terraform's `org-…` id where the organization name belongs): the prefix, and the
    /// number of alphanumeric characters after it.
    pub not_an_id: Option<(&'static str, usize)>,
}

/// A piece of a subject template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Lit(String),
    Field(Field),
}

/// The subjects an issuer emits: one or more templates (Bitbucket has one with and one
/// without a deployment environment).
#[derive(Clone, Debug)]
pub struct SubjectGrammar {
    pub alternatives: Vec<Vec<Seg>>,
    /// How messages write it: `organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:plan|apply`.
    pub display: String,
    /// Whether every shape the issuer can emit is listed, so a value matching none of them
    /// never matches (`trust-sub-never-matches`). Off when the issuer lets the owner change
    /// the format (GitLab's configurable `sub` components) or its documentation does not
    /// pin it down.
    pub complete: bool,
}

/// What the issuer puts into `aud` for AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// A fixed default the CI side requests unless told otherwise (`sts.amazonaws.com`,
    /// `aws.workload.identity`).
    Default(&'static str),
    /// The organization id, which also ends the issuer URL (CircleCI): the provider's client
    /// id list already pins it.
    OrganizationId,
    /// `ari:cloud:bitbucket::workspace/<uuid>`: per workspace, shown in the repository settings.
    Workspace,
    /// Whatever the job configures (GitLab `id_tokens: NAME: aud:`); no default.
    Configured,
    /// A custom issuer's configured audience.
    Custom(String),
}

/// One CI issuer.
#[derive(Clone, Debug)]
pub struct Issuer {
    pub kind: Kind,
    /// Short id (`hcp-terraform`), what `oidc-lint rules` lists.
    pub id: String,
    /// How messages name it (`HCP Terraform`).
    pub name: String,
    /// Hosts as written after `oidc-provider/` (lowercase; a trailing `/` in a host here means
    /// "this prefix followed by an organization-specific path").
    pub hosts: Vec<String>,
    /// Whether one issuer URL serves every customer (a wildcard tenant admits strangers).
    pub shared: bool,
    /// Claims the issuer puts in its tokens (documentation; AWS exposes `sub` and `aud`).
    pub claims: Vec<&'static str>,
    pub subject: SubjectGrammar,
    pub audience: Audience,
    /// The issuer's documentation for AWS federation.
    pub docs: String,
}

impl Issuer {
    pub fn is_github(&self) -> bool {
        self.kind == Kind::Github
    }
    /// Does this issuer own `host` (the text after `oidc-provider/` or before `:claim`)?
    pub fn owns(&self, host: &str) -> bool {
        let h = host.trim();
        let h = h.strip_prefix("https://").unwrap_or(h);
        let h = h.trim_end_matches('/').to_ascii_lowercase();
        if self.kind == Kind::Github {
            return super::trust::is_github_issuer(&h);
        }
        self.hosts.iter().any(|p| match p.strip_suffix('/') {
            // `oidc.circleci.com/org/` + an org id (one path segment, not empty).
            Some(prefix) => h
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('/'))
                // (an id known only at apply time, `${var.org_id}`, is still this issuer's)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
            None => h == *p,
        }) || self.kind == Kind::Bitbucket && bitbucket::is_issuer(&h)
    }
    /// What one customer is called (`workspace` on Bitbucket, else `organization`).
    pub fn tenant_word(&self) -> &'static str {
        if self.kind == Kind::Bitbucket {
            "workspace"
        } else {
            "organization"
        }
    }
    /// What the customer's units are called (`repository`, `pipeline`, `project`).
    pub fn unit_word(&self) -> &'static str {
        match self.kind {
            Kind::Bitbucket | Kind::Github => "repository",
            Kind::Buildkite => "pipeline",
            _ => "project",
        }
    }
    /// ` (DOCS_URL)` for a message, or nothing for a custom issuer without documentation.
    pub fn docs_ref(&self) -> String {
        if self.docs.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.docs)
        }
    }
    /// The subject grammar as messages show it.
    pub fn grammar(&self) -> &str {
        &self.subject.display
    }
}

/// The built-in issuers, in a fixed order (GitHub first).
pub fn builtin() -> &'static [Arc<Issuer>] {
    static B: OnceLock<Vec<Arc<Issuer>>> = OnceLock::new();
    B.get_or_init(|| {
        vec![
            Arc::new(github::issuer()),
            Arc::new(gitlab::issuer()),
            Arc::new(hcp_terraform::issuer()),
            Arc::new(circleci::issuer()),
            Arc::new(buildkite::issuer()),
            Arc::new(bitbucket::issuer()),
        ]
    })
}

/// The issuers of one check: the configuration's custom ones first (a configured host wins),
/// then the built-in ones.
#[derive(Clone, Debug)]
pub struct Registry {
    pub issuers: Vec<Arc<Issuer>>,
}

impl Registry {
    pub fn new(custom: &[CustomIssuerSpec]) -> Registry {
        let mut issuers: Vec<Arc<Issuer>> = custom
            .iter()
            .filter_map(|c| custom_issuer(c).ok())
            .map(Arc::new)
            .collect();
        issuers.extend(builtin().iter().cloned());
        Registry { issuers }
    }
    /// The issuer owning `host`.
    pub fn recognize(&self, host: &str) -> Option<&Arc<Issuer>> {
        // The issuer itself unknown (`${var.tfc_hostname}`): not guessed.
        if host.starts_with("${") || host.is_empty() {
            return None;
        }
        self.issuers.iter().find(|i| i.owns(host))
    }
}

/// The host a `Federated` principal ARN names (`…:oidc-provider/<host>`), when its start is
/// literal (CircleCI's `oidc.circleci.com/org/${var.org_id}` keeps the unknown id).
pub fn federated_host(value: &Template) -> Option<String> {
    let text = value.display();
    let idx = text.find("oidc-provider/")?;
    let host = &text[idx + "oidc-provider/".len()..];
    (!host.starts_with("${") && !host.is_empty()).then(|| host.to_string())
}

/// The hosts a statement's `Federated` principals name (as written after `oidc-provider/`,
/// lowercase, without a trailing `/`), when there is at least one and every one is a literal
/// host; `None` when a provider is known only at apply time, has an apply-time part
/// (`oidc.circleci.com/org/${var.org_id}`), or sits inside a larger expression
/// (`${cond ? "…oidc-provider/HOST" : "…"}`): then the condition keys name the issuer.
pub fn literal_federated_hosts(s: &crate::model::Statement) -> Option<Vec<String>> {
    let hosts: Vec<String> = s
        .principals
        .iter()
        .filter(|p| p.kind == "Federated")
        .filter_map(|p| federated_host(&p.value.value))
        .map(|h| h.trim_end_matches('/').to_ascii_lowercase())
        .collect();
    let literal = |h: &String| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':'))
    };
    (!hosts.is_empty() && hosts.iter().all(literal)).then_some(hosts)
}

// ---------------------------------------------------------------------------------------------
// Subject templates.

/// A field of a built-in grammar.
pub fn field(name: &str, role: Role, hole: Hole) -> Seg {
    Seg::Field(Field {
        name: name.to_string(),
        role,
        hole,
        values: None,
        not_an_id: None,
    })
}

pub fn lit(s: &str) -> Seg {
    Seg::Lit(s.to_string())
}

/// Parse a segment template: literal text with `{name}` fields (`{{` and `}}` are literal
/// braces). The first field is the tenant, the second the scope, the rest details. Errors say
/// what is wrong in words a configuration error can show.
pub fn parse_template(t: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut lit_buf = String::new();
    let mut names: Vec<String> = Vec::new();
    let mut chars = t.chars().peekable();
    let mut last_was_field = false;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit_buf.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit_buf.push('}');
            }
            '}' => return Err("a `}` without its `{` (write `}}` for a literal brace)".into()),
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) if ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' => {
                            name.push(ch)
                        }
                        Some(ch) => {
                            return Err(format!(
                                "field names are letters, digits, `_` and `-`; found `{}`",
                                ch.escape_default()
                            ));
                        }
                        None => return Err("a `{` without its `}`".into()),
                    }
                }
                if name.is_empty() {
                    return Err("an empty field `{}`".into());
                }
                if names.contains(&name) {
                    return Err(format!("the field `{{{name}}}` appears twice"));
                }
                if !lit_buf.is_empty() {
                    segs.push(Seg::Lit(std::mem::take(&mut lit_buf)));
                } else if last_was_field {
                    return Err(format!(
                        "the field `{{{name}}}` follows another field with no text between them, so where one ends is unknown"
                    ));
                }
                let role = match names.len() {
                    0 => Role::Tenant,
                    1 => Role::Scope,
                    _ => Role::Detail,
                };
                names.push(name.clone());
                segs.push(Seg::Field(Field {
                    name,
                    role,
                    hole: Hole::Any,
                    values: None,
                    not_an_id: None,
                }));
                last_was_field = true;
                continue;
            }
            ch => lit_buf.push(ch),
        }
        last_was_field = false;
    }
    if !lit_buf.is_empty() {
        segs.push(Seg::Lit(lit_buf));
    }
    if names.is_empty() {
        return Err("a subject template needs at least one `{field}`".into());
    }
    Ok(segs)
}

/// How a template reads in messages: fields in capitals (`project_path:GROUP/PROJECT:…`).
pub fn display_template(segs: &[Seg]) -> String {
    segs.iter()
        .map(|s| match s {
            Seg::Lit(l) => l.clone(),
            Seg::Field(f) => match &f.values {
                Some(v) => v.join("|"),
                None => f.name.to_ascii_uppercase(),
            },
        })
        .collect()
}

/// A custom issuer from `[[issuers]]`. Errors name the key at fault.
pub fn custom_issuer(c: &CustomIssuerSpec) -> Result<Issuer, String> {
    let host = c
        .host
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_ascii_lowercase();
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains(':') {
        return Err(format!(
            "`host` must be the issuer URL without `https://` (`gitlab.example.com`), got `{}`",
            c.host
        ));
    }
    let segs = parse_template(&c.subject).map_err(|e| format!("`subject`: {e}"))?;
    let name = c.name.clone().unwrap_or_else(|| host.clone());
    Ok(Issuer {
        kind: Kind::Custom,
        id: format!("custom:{host}"),
        name,
        hosts: vec![host],
        shared: c.shared,
        claims: vec!["sub", "aud"],
        subject: SubjectGrammar {
            display: display_template(&segs),
            alternatives: vec![segs],
            complete: true,
        },
        audience: match &c.audience {
            Some(a) => Audience::Custom(a.clone()),
            None => Audience::Configured,
        },
        docs: String::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// How wide a `sub` pattern is, and whether the issuer can ever emit it.

/// How wide a `StringLike` `sub` pattern is for one issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Admits other customers of a shared issuer (`organization:*`, `project_path:*`).
    AnyTenant,
    /// Admits every project of one customer (`organization:acme:*`, `project_path:group/*`);
    /// for an issuer of one organization (CircleCI, Bitbucket), every project of it.
    TenantWide { tenant: String },
    /// Narrower, or a shape this classification does not judge.
    Narrower,
}

/// Placeholder for an unknown part (`${var.org}`) while reading a pattern.
const UNKNOWN: char = crate::source::tree::HOLE;

fn restore(t: &Template, s: &str) -> String {
    let mut exprs = t.parts.iter().filter_map(|p| match p {
        Part::Unknown(e) => Some(e.as_str()),
        Part::Lit(_) => None,
    });
    let mut out = String::new();
    for ch in s.chars() {
        if ch == UNKNOWN {
            out.push_str(&format!("${{{}}}", exprs.next().unwrap_or("…")));
        } else {
            out.push(ch);
        }
    }
    out
}

/// What a pattern does with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// A value without wildcards (unknown parts are some fixed value).
    Pinned(String),
    /// A value with a wildcard after a literal start (`app-*`).
    Partial(String),
    /// A path value whose wildcard follows a `/` (GitLab's `sub/*` below a group): open below
    /// the literal path before it.
    OpenBelow(String),
    /// The value starts with a wildcard, or a wildcard before it swallowed the field.
    Open,
}

impl Slot {
    fn open(&self) -> bool {
        matches!(self, Slot::Open | Slot::OpenBelow(_))
    }
}

fn is_wild(c: char) -> bool {
    c == '*' || c == '?'
}

/// Read `pattern` (flattened) against one alternative: each field's slot, or `None` when the
/// literal text does not follow the template.
fn slots(pattern: &str, segs: &[Seg]) -> Option<Vec<(Field, Slot)>> {
    let mut out = Vec::new();
    let mut p = 0usize;
    // After a wildcard swallowed a marker, fields are open until the next marker is found.
    let mut swallowed = false;
    for (i, seg) in segs.iter().enumerate() {
        let rest = &pattern[p..];
        match seg {
            Seg::Lit(l) => {
                if swallowed {
                    if let Some(j) = rest.find(l.as_str()) {
                        p += j + l.len();
                        swallowed = false;
                    }
                } else if rest.starts_with(l.as_str()) {
                    p += l.len();
                } else {
                    // A wildcard reached inside the marker (`organization:acme:*`).
                    let k = rest.find(is_wild)?;
                    if !l.starts_with(&rest[..k]) {
                        return None;
                    }
                    p += k;
                    swallowed = true;
                }
            }
            Seg::Field(f) => {
                if swallowed {
                    out.push((f.clone(), Slot::Open));
                    continue;
                }
                let next_lit = segs[i + 1..].iter().find_map(|s| match s {
                    Seg::Lit(l) => Some(l.as_str()),
                    Seg::Field(_) => None,
                });
                let mut end = next_lit.and_then(|l| rest.find(l)).unwrap_or(rest.len());
                // A value never holds a character its field cannot (a `:` in a name).
                if let Some(j) = rest[..end].find(|c: char| !is_wild(c) && !f.hole.admits(c)) {
                    end = j;
                }
                let mut value = &rest[..end];
                // `acme:*` with the marker `:project:` missing: the wildcard continues the
                // marker the literal text began (`:`), so the value is `acme`.
                if let (Some(l), Some(k)) = (next_lit, value.find(is_wild))
                    && !rest[end..].starts_with(l)
                    && let Some(n) = (1..=k)
                        .rev()
                        .find(|&n| value.is_char_boundary(k - n) && l.starts_with(&value[k - n..k]))
                {
                    end = k - n;
                    value = &rest[..end];
                }
                let slot = if value.starts_with(is_wild) {
                    Slot::Open
                } else if let Some(j) = value.find("/*") {
                    Slot::OpenBelow(value[..j].to_string())
                } else if value.contains(is_wild) {
                    Slot::Partial(value.to_string())
                } else {
                    Slot::Pinned(value.to_string())
                };
                if next_lit.is_some_and(|l| !rest[end..].starts_with(l)) {
                    // The marker after this field is not next: a wildcard in the value stands
                    // for it (`project_path:*:ref_type:…` spans `GROUP/PROJECT`); else the
                    // marker's own reading decides (`…:deploy:*` reaches it by a wildcard).
                    if value.contains(is_wild) {
                        swallowed = true;
                    } else if end == rest.len() {
                        return None;
                    }
                }
                out.push((f.clone(), slot));
                p += end;
            }
        }
    }
    Some(out)
}

/// How wide a `StringLike` pattern for `sub` is under `issuer`.
pub fn reach(issuer: &Issuer, pattern: &Template) -> Reach {
    let s = pattern.flat();
    let whole = || format!("this {} {}", issuer.name, issuer.tenant_word());
    if s.starts_with(is_wild) {
        return if issuer.shared {
            Reach::AnyTenant
        } else {
            Reach::TenantWide { tenant: whole() }
        };
    }
    for alt in &issuer.subject.alternatives {
        let Some(sl) = slots(&s, alt) else { continue };
        let tenant = sl.iter().find(|(f, _)| f.role == Role::Tenant);
        let tenant_name = match tenant {
            Some((_, Slot::Pinned(v))) => Some(restore(pattern, v)),
            Some(_) if issuer.shared => return Reach::AnyTenant,
            _ => None,
        };
        let scopes: Vec<&Slot> = sl
            .iter()
            .filter(|(f, _)| f.role == Role::Scope)
            .map(|(_, s)| s)
            .collect();
        if scopes.is_empty() || !scopes.iter().all(|s| s.open()) {
            return Reach::Narrower;
        }
        let mut tenant = tenant_name.unwrap_or_else(whole);
        if let Some(Slot::OpenBelow(below)) = scopes.first() {
            tenant = format!("{tenant}/{}", restore(pattern, below));
        }
        return Reach::TenantWide { tenant };
    }
    Reach::Narrower
}

/// Every subject shape of the grammar, as values with holes (closed sets expanded).
fn shapes(g: &SubjectGrammar) -> Vec<Val> {
    let mut out = Vec::new();
    for alt in &g.alternatives {
        let mut acc: Vec<Val> = vec![Val::default()];
        for seg in alt {
            match seg {
                Seg::Lit(l) => acc.iter_mut().for_each(|v| v.push_lit(l)),
                Seg::Field(f) => match &f.values {
                    Some(vals) => {
                        acc = acc
                            .iter()
                            .flat_map(|v| {
                                vals.iter().map(move |x| {
                                    let mut v = v.clone();
                                    v.push_lit(x);
                                    v
                                })
                            })
                            .collect();
                    }
                    None => acc.iter_mut().for_each(|v| v.push_hole(f.hole)),
                },
            }
        }
        out.extend(acc);
    }
    out
}

/// Longest `sub` value judged (no CI subject is anywhere near this long).
pub const MAX_JUDGED_SUB: usize = 1024;

/// Why a positive `sub` value can never match a token of `issuer` (trusted as `host`, the
/// condition-key prefix), if it cannot.
pub fn never_matches(issuer: &Issuer, host: &str, op: StrOp, value: &Template) -> Option<String> {
    if !issuer.subject.complete || issuer.is_github() {
        return None;
    }
    let shown = value.display();
    if shown.len() > MAX_JUDGED_SUB {
        return None;
    }
    // An identifier where the issuer writes a name.
    let s = value.flat();
    for alt in &issuer.subject.alternatives {
        if let Some(sl) = slots(&s, alt) {
            for (f, slot) in &sl {
                let (Some((prefix, n)), Slot::Pinned(v)) = (f.not_an_id, slot) else {
                    continue;
                };
                if let Some(rest) = v.strip_prefix(prefix)
                    && rest.len() == n
                    && rest.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Some(format!(
                        "`{v}` is an id, but {} writes the {} name here",
                        issuer.name, f.name
                    ));
                }
            }
        }
    }
    // CircleCI: the organization in `sub` is the one the issuer URL names.
    if issuer.kind == Kind::Circleci
        && let Some(own) = circleci::org_id(host).filter(|o| !o.contains("${"))
        && let Some(sl) = issuer
            .subject
            .alternatives
            .iter()
            .find_map(|alt| slots(&s, alt))
        && let Some((_, Slot::Pinned(v))) = sl.iter().find(|(f, _)| f.role == Role::Tenant)
        && !v.contains(UNKNOWN)
        && !v.eq_ignore_ascii_case(own)
    {
        return Some(format!(
            "the organization `{v}` is not the one this issuer belongs to (`{own}`), and CircleCI's tokens name their own organization"
        ));
    }
    let verdict = Tri::any(
        shapes(&issuer.subject)
            .iter()
            .map(|v| value_match(op, value, v)),
    );
    (verdict == Tri::False).then(|| {
        format!(
            "{} never emits a subject of this shape (its subjects read `{}`)",
            issuer.name,
            issuer.grammar()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        Template::lit(s)
    }
    fn by(kind: Kind) -> Arc<Issuer> {
        builtin().iter().find(|i| i.kind == kind).unwrap().clone()
    }

    #[test]
    fn recognises_hosts() {
        let r = Registry::new(&[]);
        let k = |h: &str| r.recognize(h).map(|i| i.kind);
        assert_eq!(k("token.actions.githubusercontent.com"), Some(Kind::Github));
        assert_eq!(k("gitlab.com"), Some(Kind::Gitlab));
        assert_eq!(k("https://gitlab.com/"), Some(Kind::Gitlab));
        assert_eq!(k("app.terraform.io"), Some(Kind::HcpTerraform));
        assert_eq!(
            k("oidc.circleci.com/org/0f9e7a4c-1d2b-4c3d-9e8f-0a1b2c3d4e5f"),
            Some(Kind::Circleci)
        );
        assert_eq!(k("oidc.circleci.com/org/"), None);
        assert_eq!(k("oidc.circleci.com"), None);
        assert_eq!(k("agent.buildkite.com"), Some(Kind::Buildkite));
        assert_eq!(
            k("api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"),
            Some(Kind::Bitbucket)
        );
        assert_eq!(
            k("api.bitbucket.org/2.0/workspaces//pipelines-config/identity/oidc"),
            None
        );
        assert_eq!(k("oidc.eks.us-east-1.amazonaws.com/id/X"), None);
        assert_eq!(k("${var.host}"), None);
        assert_eq!(
            k("oidc.circleci.com/org/${CIRCLECI_ORG_ID}"),
            Some(Kind::Circleci)
        );
        assert_eq!(k("app.terraform.io${var.x}"), None);
        let custom = Registry::new(&[CustomIssuerSpec {
            name: Some("GitLab (self-managed)".into()),
            host: "https://gitlab.example.com/".into(),
            shared: false,
            subject: "project_path:{group}/{project}:ref_type:{ref_type}:ref:{ref}".into(),
            audience: Some("https://gitlab.example.com".into()),
        }]);
        assert_eq!(
            custom.recognize("gitlab.example.com").map(|i| i.kind),
            Some(Kind::Custom)
        );
    }

    #[test]
    fn templates() {
        let segs =
            parse_template("project_path:{group}/{project}:ref_type:{ref_type}:ref:{ref}").unwrap();
        assert_eq!(segs.len(), 8);
        assert_eq!(
            display_template(&segs),
            "project_path:GROUP/PROJECT:ref_type:REF_TYPE:ref:REF"
        );
        assert!(matches!(&segs[1], Seg::Field(f) if f.role == Role::Tenant));
        assert!(matches!(&segs[3], Seg::Field(f) if f.role == Role::Scope));
        assert_eq!(parse_template("{{{repo}}}:{step}").unwrap().len(), 4);
        for bad in ["no fields", "{a}{b}", "{a", "a}", "{}", "{a}:{a}", "{a b}"] {
            assert!(parse_template(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reach_per_issuer() {
        let tfc = by(Kind::HcpTerraform);
        let r = |i: &Issuer, s: &str| reach(i, &t(s));
        assert_eq!(r(&tfc, "organization:*"), Reach::AnyTenant);
        assert_eq!(
            r(&tfc, "organization:*:project:*:workspace:*:run_phase:*"),
            Reach::AnyTenant
        );
        assert_eq!(r(&tfc, "*"), Reach::AnyTenant);
        assert_eq!(
            r(
                &tfc,
                "organization:acme-*:project:p:workspace:w:run_phase:*"
            ),
            Reach::AnyTenant
        );
        assert_eq!(
            r(&tfc, "organization:acme:*"),
            Reach::TenantWide {
                tenant: "acme".into()
            }
        );
        assert_eq!(
            r(&tfc, "organization:acme:project:*:workspace:*:run_phase:*"),
            Reach::TenantWide {
                tenant: "acme".into()
            }
        );
        // project-scoped, and one workspace by name: narrower
        assert_eq!(
            r(&tfc, "organization:acme:project:P:workspace:*"),
            Reach::Narrower
        );
        assert_eq!(
            r(
                &tfc,
                "organization:acme:project:*:workspace:prod:run_phase:apply"
            ),
            Reach::Narrower
        );
        let gl = by(Kind::Gitlab);
        assert_eq!(r(&gl, "project_path:*"), Reach::AnyTenant);
        assert_eq!(
            r(&gl, "project_path:*:ref_type:branch:ref:main"),
            Reach::AnyTenant
        );
        assert_eq!(r(&gl, "project_path:grp*"), Reach::AnyTenant);
        assert_eq!(
            r(&gl, "project_path:group/*"),
            Reach::TenantWide {
                tenant: "group".into()
            }
        );
        assert_eq!(
            r(&gl, "project_path:group/sub/*:ref_type:branch:ref:main"),
            Reach::TenantWide {
                tenant: "group/sub".into()
            }
        );
        assert_eq!(
            r(&gl, "project_path:group/app:ref_type:branch:ref:*"),
            Reach::Narrower
        );
        assert_eq!(r(&gl, "project_path:group/app-*"), Reach::Narrower);
        let cc = by(Kind::Circleci);
        assert!(matches!(r(&cc, "*"), Reach::TenantWide { .. }));
        assert!(matches!(
            r(&cc, "org/O/project/*"),
            Reach::TenantWide { .. }
        ));
        assert_eq!(r(&cc, "org/O/project/P/user/*"), Reach::Narrower);
        let bk = by(Kind::Buildkite);
        assert_eq!(r(&bk, "organization:*"), Reach::AnyTenant);
        assert_eq!(
            r(&bk, "organization:acme:*"),
            Reach::TenantWide {
                tenant: "acme".into()
            }
        );
        assert_eq!(
            r(&bk, "organization:acme:pipeline:deploy:*"),
            Reach::Narrower
        );
        let bb = by(Kind::Bitbucket);
        assert!(matches!(r(&bb, "*"), Reach::TenantWide { .. }));
        assert_eq!(
            r(&bb, "{6f1c0e2a-1111-4222-8333-944455556666}:*"),
            Reach::Narrower
        );
        // unknown parts are a fixed value, never a wildcard
        let tpl = Template {
            parts: vec![
                Part::Lit("organization:".into()),
                Part::Unknown("var.org".into()),
                Part::Lit(":*".into()),
            ],
        };
        assert_eq!(
            reach(&tfc, &tpl),
            Reach::TenantWide {
                tenant: "${var.org}".into()
            }
        );
    }

    #[test]
    fn never_emitted_shapes() {
        let tfc = by(Kind::HcpTerraform);
        let n = |i: &Issuer, op, s: &str| never_matches(i, "app.terraform.io", op, &t(s)).is_some();
        assert!(!n(
            &tfc,
            StrOp::Equals,
            "organization:acme:project:Default Project:workspace:w:run_phase:apply"
        ));
        assert!(!n(
            &tfc,
            StrOp::Like,
            "organization:acme:project:*:workspace:w:run_phase:*"
        ));
        assert!(!n(&tfc, StrOp::Like, "organization:acme:*"));
        // no run_phase
        assert!(n(
            &tfc,
            StrOp::Equals,
            "organization:acme:project:p:workspace:w"
        ));
        // out of order
        assert!(n(
            &tfc,
            StrOp::Like,
            "organization:acme:workspace:w:project:p:run_phase:*"
        ));
        // a run phase that does not exist
        assert!(n(
            &tfc,
            StrOp::Equals,
            "organization:acme:project:p:workspace:w:run_phase:deploy"
        ));
        // the organization id where the name belongs
        assert!(n(
            &tfc,
            StrOp::Like,
            "organization:org-AbCdEfGh12345678:project:*:workspace:w:run_phase:*"
        ));
        let bk = by(Kind::Buildkite);
        assert!(!n(
            &bk,
            StrOp::Like,
            "organization:acme:pipeline:deploy:ref:refs/heads/main:commit:*:step:*"
        ));
        assert!(n(
            &bk,
            StrOp::Like,
            "organization:acme:pipeline:deploy:branch:main:*"
        ));
        let cc = by(Kind::Circleci);
        assert!(!n(&cc, StrOp::Like, "org/O/project/P/user/*"));
        assert!(n(&cc, StrOp::Like, "project/P/*"));
        let own = "oidc.circleci.com/org/0f9e7a4c-1d2b-4c3d-9e8f-0a1b2c3d4e5f";
        let m = |s: &str| never_matches(&cc, own, StrOp::Like, &t(s)).is_some();
        assert!(!m(
            "org/0f9e7a4c-1d2b-4c3d-9e8f-0a1b2c3d4e5f/project/P/user/*"
        ));
        assert!(!m(
            "org/0F9E7A4C-1D2B-4C3D-9E8F-0A1B2C3D4E5F/project/P/user/*"
        ));
        assert!(m(
            "org/11111111-2222-4333-8444-555555555555/project/P/user/*"
        ));
        let unknown = "oidc.circleci.com/org/${var.org}";
        assert!(never_matches(&cc, unknown, StrOp::Like, &t("org/X/project/P/user/*")).is_none());
        // GitLab lets owners configure the components: never judged
        let gl = by(Kind::Gitlab);
        assert!(!n(&gl, StrOp::Equals, "group/app"));
    }
}
