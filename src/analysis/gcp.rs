//! Google Cloud workload identity federation: which providers trust a shared CI issuer, what
//! their `attribute_condition` admits (through [`super::gcp_cel`]), how IAM members name a
//! pool, which service accounts a pool reaches, and what a `google-github-actions/auth` step's
//! job presents to them.

use super::eval::{Hole, Tri, Val};
use super::gcp_cel::{self, CelError, Claim, E, Env, Ns, Outcomes};
use crate::model::{GcpCondition, GcpMember, GcpProvider, GcpTarget, Scan};
use crate::source::Span;
use crate::source::tree::{Part, Template};

/// A CI issuer whose tokens every customer of the service receives (one issuer URL for all
/// tenants), with the claims that name the tenant.
#[derive(Clone, Copy, Debug)]
pub struct SharedIssuer {
    pub url: &'static str,
    pub name: &'static str,
    /// Claims naming the owner/namespace/organisation (by name or id), or one repository of it.
    pub tenant_claims: &'static [&'static str],
    /// Of those, the immutable ids.
    pub id_claims: &'static [&'static str],
    /// Of those, the owner-level ones (every repository of the owner shares the value).
    pub owner_claims: &'static [&'static str],
    /// What a tenant is called in messages.
    pub tenant: &'static str,
    /// How a tenant claim is shaped around the tenant's name: `(claim, prefix, delimiter)`
    /// (`sub` = `repo:` OWNER `/`…); a tenant claim not listed is the name alone.
    pub shapes: &'static [(&'static str, &'static str, Option<char>)],
    /// Every claim the issuer documents (empty: not known). Another tenant's token is taken
    /// to carry no other, so a condition reading only undocumented claims is not called open;
    /// a job's token is never judged on this list (a new claim stays unknown).
    pub claims: &'static [&'static str],
}

/// The claims of GitHub's OIDC token (GitHub's "About security hardening with OpenID Connect").
const GITHUB_CLAIMS: &[&str] = &[
    "actor",
    "actor_id",
    "aud",
    "base_ref",
    "check_run_id",
    "enterprise",
    "enterprise_id",
    "environment",
    "environment_node_id",
    "event_name",
    "exp",
    "head_ref",
    "iat",
    "iss",
    "jti",
    "job_workflow_ref",
    "job_workflow_sha",
    "nbf",
    "ref",
    "ref_protected",
    "ref_type",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "repository_visibility",
    "run_attempt",
    "run_id",
    "run_number",
    "runner_environment",
    "sha",
    "sub",
    "workflow",
    "workflow_ref",
    "workflow_sha",
];

/// The shared issuers (kept here until the issuer registry of `analysis::issuers` joins them).
/// CircleCI and Bitbucket Pipelines issue per organisation/workspace (the issuer URL names the
/// tenant), so they are not shared.
pub const SHARED_ISSUERS: &[SharedIssuer] = &[
    SharedIssuer {
        url: "https://token.actions.githubusercontent.com",
        name: "GitHub Actions",
        tenant_claims: &[
            "repository_owner",
            "repository_owner_id",
            "repository",
            "repository_id",
            "sub",
            "job_workflow_ref",
            "workflow_ref",
            "enterprise",
            "enterprise_id",
        ],
        id_claims: &["repository_owner_id", "repository_id", "enterprise_id"],
        owner_claims: &[
            "repository_owner",
            "repository_owner_id",
            "enterprise",
            "enterprise_id",
        ],
        tenant: "owner",
        shapes: &[
            ("sub", "repo:", Some('/')),
            ("repository", "", Some('/')),
            ("job_workflow_ref", "", Some('/')),
            ("workflow_ref", "", Some('/')),
        ],
        claims: GITHUB_CLAIMS,
    },
    SharedIssuer {
        url: "https://gitlab.com",
        name: "GitLab.com",
        tenant_claims: &[
            "namespace_path",
            "namespace_id",
            "project_path",
            "project_id",
            "sub",
            "ci_config_ref_uri",
        ],
        id_claims: &["namespace_id", "project_id"],
        owner_claims: &["namespace_path", "namespace_id"],
        tenant: "namespace",
        shapes: &[
            ("sub", "project_path:", Some('/')),
            ("project_path", "", Some('/')),
            ("namespace_path", "", Some('/')),
            ("ci_config_ref_uri", "gitlab.com/", Some('/')),
        ],
        claims: &[],
    },
    SharedIssuer {
        url: "https://app.terraform.io",
        name: "HCP Terraform",
        tenant_claims: &[
            "terraform_organization_name",
            "terraform_organization_id",
            "sub",
            "terraform_workspace_id",
            "terraform_project_id",
            "terraform_full_workspace",
        ],
        id_claims: &[
            "terraform_organization_id",
            "terraform_workspace_id",
            "terraform_project_id",
        ],
        owner_claims: &["terraform_organization_name", "terraform_organization_id"],
        tenant: "organization",
        shapes: &[
            ("sub", "organization:", Some(':')),
            ("terraform_full_workspace", "organization:", Some(':')),
        ],
        claims: &[],
    },
    SharedIssuer {
        url: "https://agent.buildkite.com",
        name: "Buildkite",
        tenant_claims: &["organization_slug", "organization_id", "sub", "pipeline_id"],
        id_claims: &["organization_id", "pipeline_id"],
        owner_claims: &["organization_slug", "organization_id"],
        tenant: "organization",
        shapes: &[("sub", "organization:", Some(':'))],
        claims: &[],
    },
];

/// The shared issuer an `issuer_uri` names.
pub fn shared_issuer(uri: &str) -> Option<&'static SharedIssuer> {
    let u = uri.trim().trim_end_matches('/');
    SHARED_ISSUERS
        .iter()
        .find(|i| i.url.eq_ignore_ascii_case(u))
}

/// The state of a provider's `attribute_condition`.
#[derive(Clone, Debug)]
pub enum Cond {
    Absent,
    Unknown,
    Invalid(String, Span),
    /// Too long or too deep to analyse.
    Skipped,
    Parsed(E, Span),
}

/// One `attribute_mapping` entry, parsed.
#[derive(Clone, Debug)]
pub struct MapEntry {
    pub key: String,
    pub key_span: Span,
    pub value_span: Span,
    pub expr: Option<E>,
    pub error: Option<String>,
}

/// A provider with its condition and mapping parsed.
#[derive(Clone, Debug)]
pub struct Provider<'a> {
    pub p: &'a GcpProvider,
    pub issuer: Option<&'static SharedIssuer>,
    pub cond: Cond,
    /// `None`: the mapping is not statically known.
    pub mapping: Option<Vec<MapEntry>>,
}

impl<'a> Provider<'a> {
    fn new(p: &'a GcpProvider, parsed: &dyn Fn(&str) -> Result<E, CelError>) -> Self {
        let issuer = p
            .issuer
            .as_ref()
            .and_then(|i| i.value.known())
            .and_then(|u| shared_issuer(&u));
        let cond = match &p.condition {
            GcpCondition::Absent(_) => Cond::Absent,
            GcpCondition::Unknown(_) => Cond::Unknown,
            GcpCondition::Known(s) if s.value.trim().is_empty() => Cond::Absent,
            GcpCondition::Known(s) => match parsed(s.value.trim()) {
                Ok(e) => Cond::Parsed(e, s.span),
                Err(CelError::Syntax(m)) => {
                    Cond::Invalid(format!("it is not valid CEL ({m})"), s.span)
                }
                Err(CelError::TooLong(n)) => Cond::Invalid(
                    format!(
                        "it is {n} characters long; Google accepts at most {}",
                        gcp_cel::MAX_LEN
                    ),
                    s.span,
                ),
                Err(CelError::TooDeep) => Cond::Skipped,
            },
        };
        let mapping = p.mapping.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let (expr, error) = match v.value.known() {
                        Some(text) => match parsed(text.trim()) {
                            Ok(e) => (Some(e), None),
                            Err(CelError::Syntax(m)) => (None, Some(m)),
                            Err(_) => (None, None),
                        },
                        None => (None, None),
                    };
                    MapEntry {
                        key: k.value.clone(),
                        key_span: k.span,
                        value_span: v.span,
                        expr,
                        error,
                    }
                })
                .collect()
        });
        Provider {
            p,
            issuer,
            cond,
            mapping,
        }
    }

    /// The mapping entry for `google.subject` / `attribute.NAME`.
    pub fn mapped(&self, ns: Ns, name: &str) -> Option<&MapEntry> {
        let key = match ns {
            Ns::Google => format!("google.{name}"),
            Ns::Attribute => format!("attribute.{name}"),
            Ns::Assertion => return None,
        };
        self.mapping.as_ref()?.iter().rev().find(|e| e.key == key)
    }

    /// The assertion claims a condition reads, directly or through the attributes it reads;
    /// `None` when an attribute's mapping is not known (not literal, not parsed).
    pub fn claims_read(&self, e: &E) -> Option<Vec<String>> {
        let mut vars = Vec::new();
        e.vars(&mut vars);
        let mut out = Vec::new();
        for (ns, n) in vars {
            match ns {
                Ns::Assertion => out.push(n),
                _ => match self.mapped(ns, &n) {
                    Some(me) => {
                        let x = me.expr.as_ref()?;
                        let mut inner = Vec::new();
                        x.vars(&mut inner);
                        out.extend(
                            inner
                                .into_iter()
                                .filter(|(ns, _)| *ns == Ns::Assertion)
                                .map(|(_, n)| n),
                        );
                    }
                    // an attribute the (known) mapping lacks: the condition fails, reads nothing
                    None if self.mapping.is_some() => {}
                    None => return None,
                },
            }
        }
        out.sort();
        out.dedup();
        Some(out)
    }

    /// Can a token of another tenant of the shared issuer pass the condition? `Some(true)`:
    /// yes (no condition, or one that never reads a tenant claim, or admits a foreign
    /// tenant whatever else it holds); `Some(false)`: the condition pins the tenant; `None`:
    /// not known, or not a shared issuer.
    pub fn admits_foreign(&self) -> Option<bool> {
        let iss = self.issuer?;
        match &self.cond {
            Cond::Absent => Some(true),
            Cond::Unknown | Cond::Skipped | Cond::Invalid(..) => None,
            Cond::Parsed(e, _) => {
                let env = Foreign {
                    p: self,
                    iss,
                    fixed: &[],
                };
                let o = gcp_cel::eval_bool(e, &env);
                if !o.t {
                    return Some(false);
                }
                if o == Outcomes::TRUE {
                    return Some(true);
                }
                // a condition that never reads a tenant claim admits every tenant
                let read = self.claims_read(e)?;
                if !read.iter().any(|c| iss.tenant_claims.contains(&c.as_str())) {
                    return Some(true);
                }
                self.foreign_witness(e, iss, &read).then_some(true)
            }
        }
    }
}

impl Provider<'_> {
    /// Whether another tenant can choose the claims it controls (every claim but the tenant
    /// claims) so that the condition surely admits its token: each such claim the condition
    /// reads takes each string the condition names (or another), a bounded search.
    fn foreign_witness(&self, e: &E, iss: &'static SharedIssuer, read: &[String]) -> bool {
        let free: Vec<&str> = read
            .iter()
            .map(String::as_str)
            .filter(|c| !iss.tenant_claims.contains(c))
            .collect();
        if free.is_empty() || free.len() > 4 {
            return false;
        }
        let mut cands = Vec::new();
        e.strings(&mut cands);
        for me in self.mapping.iter().flatten() {
            if let Some(x) = &me.expr {
                x.strings(&mut cands);
            }
        }
        cands.push(String::new());
        cands.sort();
        cands.dedup();
        cands.truncate(12);
        let total = cands.len().pow(free.len() as u32);
        if total > 4096 {
            return false;
        }
        for n in 0..total {
            let mut k = n;
            let fixed: Vec<(&str, &str)> = free
                .iter()
                .map(|c| {
                    let v = cands[k % cands.len()].as_str();
                    k /= cands.len();
                    (*c, v)
                })
                .collect();
            let env = Foreign {
                p: self,
                iss,
                fixed: &fixed,
            };
            if gcp_cel::eval_bool(e, &env) == Outcomes::TRUE {
                return true;
            }
        }
        false
    }
}

/// A token of another tenant: its tenant claims hold a name no literal matches, the claims
/// in `fixed` the values that tenant chose, the rest unknown.
struct Foreign<'p, 'a> {
    p: &'p Provider<'a>,
    iss: &'static SharedIssuer,
    fixed: &'p [(&'p str, &'p str)],
}

impl Env for Foreign<'_, '_> {
    fn assertion(&self, name: &str) -> Claim {
        if self.iss.tenant_claims.contains(&name) {
            let (prefix, delim) = self
                .iss
                .shapes
                .iter()
                .find(|(c, _, _)| *c == name)
                .map(|(_, p, d)| (*p, *d))
                .unwrap_or(("", None));
            return Claim::Foreign { prefix, delim };
        }
        if !self.iss.claims.is_empty() && !self.iss.claims.contains(&name) {
            return Claim::Absent;
        }
        match self.fixed.iter().find(|(c, _)| *c == name) {
            Some((_, v)) => Claim::Str(Val::lit(*v)),
            None => Claim::Unknown,
        }
    }
    fn mapped(&self, ns: Ns, name: &str) -> Claim {
        map_through(self.p, ns, name, self)
    }
}

fn map_through(p: &Provider<'_>, ns: Ns, name: &str, env: &dyn Env) -> Claim {
    match p.mapped(ns, name) {
        Some(me) => match &me.expr {
            Some(e) => gcp_cel::eval_str(e, &AssertOnly(env)),
            None => Claim::Unknown,
        },
        None if p.mapping.is_none() => Claim::Unknown,
        None => Claim::Absent,
    }
}

/// A mapping expression may read only `assertion`.
struct AssertOnly<'e>(&'e dyn Env);
impl Env for AssertOnly<'_> {
    fn assertion(&self, name: &str) -> Claim {
        self.0.assertion(name)
    }
    fn mapped(&self, _: Ns, _: &str) -> Claim {
        Claim::Unknown
    }
}

// ---------------------------------------------------------------------------------------------
// Members

/// A member naming a workload identity pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolMember {
    /// `principal://…/POOL/subject/S`.
    Subject(Val),
    /// `principalSet://…/POOL/attribute.NAME/VALUE`.
    Attribute(String, Val),
    /// `principalSet://…/POOL/group/G`.
    Group(Val),
    /// `principalSet://…/POOL/*`.
    All,
}

/// A parsed pool member: the pool id as written (`${expr}` for unknown parts) and what it
/// selects.
#[derive(Clone, Debug)]
pub struct ParsedMember {
    pub pool: Option<String>,
    pub what: PoolMember,
}

/// Parse a member naming a pool. `Ok(None)`: not a pool member; `Err(why)`: a malformed one.
pub fn parse_member(t: &Template) -> Result<Option<ParsedMember>, String> {
    let d = t.display();
    let (set, rest) = if let Some(r) = d.strip_prefix("principalSet://") {
        (true, r)
    } else if let Some(r) = d.strip_prefix("principal://") {
        (false, r)
    } else {
        return Ok(None);
    };
    let Some(path) = rest.strip_prefix("iam.googleapis.com/") else {
        if rest.starts_with("${") {
            return Ok(None);
        }
        return Err("the host must be `iam.googleapis.com`".into());
    };
    let segs: Vec<&str> = path.split('/').collect();
    // projects/N/locations/global/workloadIdentityPools/POOL/...
    if segs.len() < 6
        || segs[0] != "projects"
        || segs[2] != "locations"
        || segs[4] != "workloadIdentityPools"
    {
        if path.starts_with("${") {
            return Ok(None);
        }
        if path.starts_with("locations/global/workforcePools/") {
            return Ok(None); // workforce identity, not workload
        }
        return Err("the pool path must be `projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/…`".into());
    }
    let number = segs[1];
    if !number.contains("${") && !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{number}` is not a project number: Google names the pool by the project's number, not its id"
        ));
    }
    if !segs[3].contains("${") && segs[3] != "global" {
        return Err(format!(
            "workload identity pools live in location `global`, not `{}`",
            segs[3]
        ));
    }
    let pool = Some(segs[5].to_string());
    let tail = segs[6..].join("/");
    let v = |s: &str| val_of_display(s);
    let what = if !set {
        match tail.strip_prefix("subject/") {
            Some(s) if !s.is_empty() => PoolMember::Subject(v(s)),
            _ if tail.starts_with("attribute.") || tail == "*" || tail.starts_with("group/") => {
                return Err(format!(
                    "`principal://` names one subject (`…/subject/VALUE`); `{tail}` belongs under `principalSet://`"
                ));
            }
            _ => {
                return Err(format!(
                    "`principal://` must end in `/subject/VALUE`, not `/{tail}`"
                ));
            }
        }
    } else if tail == "*" {
        PoolMember::All
    } else if let Some(g) = tail.strip_prefix("group/") {
        PoolMember::Group(v(g))
    } else if let Some(a) = tail.strip_prefix("attribute.") {
        match a.split_once('/') {
            Some((name, value)) if !name.is_empty() && !value.is_empty() => {
                PoolMember::Attribute(name.to_string(), v(value))
            }
            _ => return Err(format!("`attribute.{a}` must be `attribute.NAME/VALUE`")),
        }
    } else if tail.starts_with("subject/") {
        return Err(
            "a single subject is `principal://…/subject/VALUE`, not `principalSet://`".into(),
        );
    } else if tail.contains("${") {
        return Ok(None);
    } else {
        return Err(format!(
            "`principalSet://` must end in `/*`, `/group/G` or `/attribute.NAME/VALUE`, not `/{tail}`"
        ));
    };
    Ok(Some(ParsedMember { pool, what }))
}

/// A display string (`${expr}` for unknown parts) as a value with holes.
fn val_of_display(s: &str) -> Val {
    let mut v = Val::default();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        v.push_lit(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => {
                v.push_hole(Hole::Any);
                rest = &rest[i + j + 1..];
            }
            None => {
                v.push_hole(Hole::Any);
                return v;
            }
        }
    }
    v.push_lit(rest);
    v
}

/// The service account a `serviceAccount:` member names, keyed as the Terraform front end keys
/// a member's target (`google_service_account.NAME`, or a lower-cased email).
pub fn member_service_account(t: &Template) -> Option<String> {
    let first = t.parts.first()?;
    match (first, t.parts.get(1), t.parts.len()) {
        (Part::Lit(l), Some(Part::Unknown(e)), 2) if l == "serviceAccount:" => {
            let k: String = e.chars().filter(|c| !c.is_whitespace()).collect();
            for ty in ["google_service_account", "data.google_service_account"] {
                if let Some(rest) = k.strip_prefix(ty).and_then(|r| r.strip_prefix('.')) {
                    let name = rest.split(['.', '[']).next()?;
                    return Some(format!("{ty}.{name}"));
                }
            }
            None
        }
        _ => {
            let s = t.known()?;
            Some(s.strip_prefix("serviceAccount:")?.to_ascii_lowercase())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scan's view

/// Every provider, member and link of the scan.
pub struct GcpView<'a> {
    scan: &'a Scan,
    pub providers: Vec<Provider<'a>>,
    /// Members naming a pool, parsed (or malformed).
    pub members: Vec<(&'a GcpMember, Result<ParsedMember, String>)>,
    /// Every member of the scan (service-account grants included).
    pub all_members: Vec<&'a GcpMember>,
    /// `google_service_account.NAME` → its literal account id, when known.
    accounts: std::collections::HashMap<&'a str, Option<&'a str>>,
}

impl<'a> GcpView<'a> {
    pub fn new(scan: &'a Scan) -> Self {
        let mut providers = Vec::new();
        let mut members = Vec::new();
        let mut all_members = Vec::new();
        // every expression of the scan parsed at once, on one parser thread
        let mut texts: Vec<String> = Vec::new();
        for p in scan.models.iter().flat_map(|m| &m.gcp.providers) {
            if let GcpCondition::Known(s) = &p.condition {
                texts.push(s.value.trim().to_string());
            }
            for (_, v) in p.mapping.iter().flatten() {
                if let Some(t) = v.value.known() {
                    texts.push(t.trim().to_string());
                }
            }
        }
        texts.sort();
        texts.dedup();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let results = gcp_cel::parse_many(&refs);
        let lookup = |t: &str| match texts.binary_search_by(|x| x.as_str().cmp(t)) {
            Ok(i) => results[i].clone(),
            Err(_) => gcp_cel::parse(t),
        };
        for m in &scan.models {
            providers.extend(m.gcp.providers.iter().map(|p| Provider::new(p, &lookup)));
            for mem in &m.gcp.members {
                all_members.push(mem);
                match parse_member(&mem.member.value) {
                    Ok(Some(p)) => members.push((mem, Ok(p))),
                    Ok(None) => {}
                    Err(e) => members.push((mem, Err(e))),
                }
            }
        }
        // one address in several modules with different ids: not known which
        let mut accounts: std::collections::HashMap<&str, Option<&str>> = Default::default();
        for (addr, id) in scan.models.iter().flat_map(|m| &m.gcp.service_accounts) {
            let id = id.as_deref();
            accounts
                .entry(addr.as_str())
                .and_modify(|v| {
                    if *v != id {
                        *v = None
                    }
                })
                .or_insert(id);
        }
        GcpView {
            scan,
            providers,
            members,
            all_members,
            accounts,
        }
    }

    /// The providers of the pool a member names (by reference, else by pool id). Empty when
    /// the pool is not in the scan.
    pub fn providers_of(&self, mem: &GcpMember, pm: &ParsedMember) -> Vec<&Provider<'a>> {
        let all: Vec<&Provider<'a>> = self
            .providers
            .iter()
            .filter(|p| self.same_pool(p.p, mem, pm.pool.as_deref()))
            .collect();
        // pools of one id in several directories (projects): the member's own directory's
        let near: Vec<&Provider<'a>> = all
            .iter()
            .copied()
            .filter(|p| self.dir(p.p.file) == self.dir(mem.file))
            .collect();
        if near.is_empty() { all } else { near }
    }

    fn dir(&self, f: crate::source::FileId) -> &str {
        let rel = &self.scan.file(f).rel;
        rel.rsplit_once('/').map(|(d, _)| d).unwrap_or_default()
    }

    /// Whether a member's service account (`google_service_account.NAME`, or an email) may be
    /// the one a `service_account` input (an email) names: a resource whose literal
    /// `account_id` is the email's local part, or whose id is not known.
    fn sa_matches(&self, key: &str, input: &str) -> bool {
        let input = input.trim().to_ascii_lowercase();
        if key.starts_with("google_service_account.") {
            let local = input.split('@').next().unwrap_or("");
            return match self.accounts.get(key) {
                Some(Some(id)) => id.eq_ignore_ascii_case(local),
                _ => true,
            };
        }
        if key.starts_with("data.") {
            return true;
        }
        key == input
    }

    /// Whether a provider is in the pool a member names: the same pool resource, the same
    /// known pool id, or (in the same directory, where the expressions mean the same) the same
    /// partly-unknown id as written (`terraform-cloud-${var.env}`).
    fn same_pool(&self, p: &GcpProvider, mem: &GcpMember, mem_pool: Option<&str>) -> bool {
        if let (Some(a), Some(b)) = (p.pool_ref.as_deref(), mem.pool_ref.as_deref())
            && a == b
        {
            return true;
        }
        let (Some(a), Some(b)) = (p.pool_id.as_ref().map(|s| s.value.display()), mem_pool) else {
            return false;
        };
        if a != b {
            return false;
        }
        if !a.contains("${") {
            return true;
        }
        self.dir(p.file) == self.dir(mem.file)
    }

    /// Whether a pool member can be presented by any token a provider of its pool admits.
    /// `Tri::False` only when every provider of the pool is known and each rejects it.
    pub fn member_reachable(
        &self,
        mem: &GcpMember,
        pm: &ParsedMember,
    ) -> (Tri, Vec<&Provider<'a>>) {
        let provs = self.providers_of(mem, pm);
        if provs.is_empty() {
            return (Tri::Unknown, provs);
        }
        let mut acc = Tri::False;
        for p in &provs {
            acc = acc.or(reach(p, &pm.what));
        }
        (acc, provs)
    }

    /// Service accounts reachable from a pool: `roles/iam.workloadIdentityUser` (or token
    /// creator) granted to a pool member on the account.
    pub fn reachable_accounts(&self) -> Vec<(String, &'a GcpMember)> {
        let mut out = Vec::new();
        for (mem, pm) in &self.members {
            let Ok(_) = pm else { continue };
            let GcpTarget::ServiceAccount(sa) = &mem.target else {
                continue;
            };
            let role = mem
                .role
                .as_ref()
                .and_then(|r| r.value.known())
                .unwrap_or_default();
            if matches!(
                role.as_str(),
                "roles/iam.workloadIdentityUser" | "roles/iam.serviceAccountTokenCreator"
            ) && sa != "?"
            {
                out.push((sa.clone(), *mem));
            }
        }
        out
    }
}

/// Does some token the provider admits present the member? Tokens are as unknown as they
/// can be, except for the claims the member fixes through a plain `assertion.X` mapping.
fn reach(p: &Provider<'_>, what: &PoolMember) -> Tri {
    let (ns, name, val) = match what {
        PoolMember::Subject(v) => (Ns::Google, "subject".to_string(), v.clone()),
        PoolMember::Attribute(n, v) => (Ns::Attribute, n.clone(), v.clone()),
        PoolMember::Group(_) | PoolMember::All => return Tri::Unknown,
    };
    let entry = p.mapped(ns, &name);
    if p.mapping.is_some() && entry.is_none() {
        // nothing maps the attribute: no token carries it
        return Tri::False;
    }
    let fixed = entry.and_then(|e| match &e.expr {
        Some(E::Var(Ns::Assertion, c)) => Some(c.clone()),
        _ => None,
    });
    let Some(claim) = fixed else {
        return Tri::Unknown;
    };
    let Cond::Parsed(cond, _) = &p.cond else {
        return match p.cond {
            Cond::Absent => Tri::True,
            _ => Tri::Unknown,
        };
    };
    let env = Fixed {
        p,
        claim: &claim,
        val: &val,
    };
    let o = gcp_cel::eval_bool(cond, &env);
    if !o.t { Tri::False } else { Tri::Unknown }
}

struct Fixed<'p, 'a> {
    p: &'p Provider<'a>,
    claim: &'p str,
    val: &'p Val,
}

impl Env for Fixed<'_, '_> {
    fn assertion(&self, name: &str) -> Claim {
        if name == self.claim {
            Claim::Str(self.val.clone())
        } else {
            Claim::Unknown
        }
    }
    fn mapped(&self, ns: Ns, name: &str) -> Claim {
        map_through(self.p, ns, name, self)
    }
}

// ---------------------------------------------------------------------------------------------
// What a GitHub job presents

/// The claims of one GitHub job run, for judging a provider and its members.
pub struct JobClaims {
    pub claims: Vec<(&'static str, Claim)>,
}

impl Env for (&JobClaims, &Provider<'_>) {
    fn assertion(&self, name: &str) -> Claim {
        // a claim GitHub does not document stays unknown here (it may be new): a job is
        // never judged rejected on an outdated list
        self.0
            .claims
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Claim::Unknown)
    }
    fn mapped(&self, ns: Ns, name: &str) -> Claim {
        map_through(self.1, ns, name, self)
    }
}

/// Does the provider's condition admit the job, and does some member on the service account
/// match it? `Tri::False`: rejected for certain.
pub fn judge_job(
    view: &GcpView<'_>,
    p: &Provider<'_>,
    sa: Option<&str>,
    job: &JobClaims,
) -> (Tri, Option<String>) {
    let env = (job, p);
    let cond = match &p.cond {
        Cond::Absent => Tri::True,
        Cond::Parsed(e, _) => gcp_cel::eval_bool(e, &env).admits(),
        _ => Tri::Unknown,
    };
    if cond == Tri::False {
        return (
            Tri::False,
            Some("the provider's `attribute_condition` rejects it".into()),
        );
    }
    let Some(sa) = sa else { return (cond, None) };
    let mut any_binding = false;
    let mut acc = Tri::False;
    for (mem, pm) in &view.members {
        let Ok(pm) = pm else { continue };
        let GcpTarget::ServiceAccount(key) = &mem.target else {
            continue;
        };
        if !view.sa_matches(key, sa)
            || !view
                .providers_of(mem, pm)
                .iter()
                .any(|x| std::ptr::eq(x.p, p.p))
        {
            continue;
        }
        any_binding = true;
        let t = match &pm.what {
            PoolMember::All => Tri::True,
            PoolMember::Group(_) => Tri::Unknown,
            PoolMember::Subject(v) => member_match(map_through(p, Ns::Google, "subject", &env), v),
            PoolMember::Attribute(n, v) => member_match(map_through(p, Ns::Attribute, n, &env), v),
        };
        acc = acc.or(t);
    }
    if !any_binding {
        return (cond.and(Tri::Unknown), None);
    }
    if acc == Tri::False {
        return (
            Tri::False,
            Some(format!(
                "no workload identity member on `{sa}` matches what it presents"
            )),
        );
    }
    (cond.and(acc), None)
}

fn member_match(c: Claim, v: &Val) -> Tri {
    match c {
        Claim::Str(x) => match (x.known(), v.known()) {
            (_, Some(lit)) => super::eval::value_match(
                super::eval::StrOp::Equals,
                &Template::lit(lit.replace('$', "${$}")),
                &x,
            ),
            (Some(lit), None) => super::eval::value_match(
                super::eval::StrOp::Equals,
                &Template::lit(lit.replace('$', "${$}")),
                v,
            ),
            _ => Tri::Unknown,
        },
        Claim::Absent => Tri::False,
        Claim::Unknown | Claim::Foreign { .. } => Tri::Unknown,
    }
}

/// The provider a `workload_identity_provider` input names
/// (`projects/N/locations/global/workloadIdentityPools/P/providers/X`).
pub fn provider_named<'v, 'a>(view: &'v GcpView<'a>, name: &str) -> Option<&'v Provider<'a>> {
    let segs: Vec<&str> = name
        .trim()
        .trim_start_matches("//iam.googleapis.com/")
        .split('/')
        .collect();
    if segs.len() != 8
        || segs[0] != "projects"
        || segs[4] != "workloadIdentityPools"
        || segs[6] != "providers"
    {
        return None;
    }
    let (pool, prov) = (segs[5], segs[7]);
    let mut found = view.providers.iter().filter(|p| {
        p.p.pool_id
            .as_ref()
            .and_then(|s| s.value.known())
            .as_deref()
            == Some(pool)
            && p.p
                .provider_id
                .as_ref()
                .and_then(|s| s.value.known())
                .as_deref()
                == Some(prov)
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// A job authenticating to a provider of the scan through `google-github-actions/auth`, and
/// the verdict on what it presents.
pub struct GcpAuth<'a> {
    pub file: crate::source::FileId,
    pub job: &'a crate::model::Job,
    /// The `workload_identity_provider` value's span.
    pub provider_span: Span,
    pub provider: &'a GcpProvider,
    pub service_account: Option<String>,
    /// The first subject the job presents (for messages), and how many it can present.
    pub first: Val,
    pub subjects: usize,
    /// `Tri::False`: every subject is rejected, with why.
    pub verdict: Tri,
    pub why: Option<String>,
}

/// Every `google-github-actions/auth` step of the scan naming a provider of the scan, judged:
/// the provider's condition and the members on the service account against each subject the
/// job can present (its claims from `subjects`; what is not known stays unknown).
pub fn judge_auth<'a>(
    scan: &'a Scan,
    view: &GcpView<'a>,
    callers: &super::subjects::Callers<'a>,
    repo_of: &dyn Fn(crate::source::FileId) -> Option<String>,
) -> Vec<GcpAuth<'a>> {
    let mut out = Vec::new();
    for m in &scan.models {
        for w in &m.workflows {
            if w.kind != crate::model::WorkflowKind::Workflow {
                continue;
            }
            for job in &w.jobs {
                for step in &job.steps {
                    let Some(((name, span), sa)) = super::access::gcp_oidc_step(step) else {
                        continue;
                    };
                    let Some(p) = provider_named(view, &name) else {
                        continue;
                    };
                    let repo = repo_val(repo_of(w.file).as_deref());
                    let subjects = super::subjects::job_subjects(
                        scan,
                        &super::subjects::WorkflowRuns::of(scan, callers, w),
                        w,
                        job,
                        step,
                    );
                    if subjects.is_empty() {
                        continue;
                    }
                    let sa_lit = sa.as_deref().filter(|s| !s.contains("${{"));
                    let mut verdict = Tri::False;
                    let mut why = None;
                    for s in &subjects {
                        let claims = github_claims(scan, &repo, s);
                        let (t, w) = judge_job(view, p, sa_lit, &claims);
                        if t != Tri::False {
                            verdict = verdict.or(t);
                        } else if why.is_none() {
                            why = w;
                        }
                    }
                    out.push(GcpAuth {
                        file: w.file,
                        job,
                        provider_span: span,
                        provider: p.p,
                        service_account: sa.clone(),
                        first: subjects[0].sub(&repo),
                        subjects: subjects.len(),
                        verdict,
                        why,
                    });
                }
            }
        }
    }
    out
}

/// The claims of GitHub's token for one subject of a job.
fn github_claims(scan: &Scan, repo: &Val, s: &super::subjects::Subject) -> JobClaims {
    let mut claims: Vec<(&'static str, Claim)> = Vec::new();
    if s.foreign {
        return JobClaims { claims };
    }
    claims.push(("sub", Claim::Str(s.sub(repo))));
    claims.push(("repository", Claim::Str(repo.clone())));
    if let Some(r) = gcp_cel::lit_of(repo)
        && let Some((owner, _)) = r.split_once('/')
    {
        claims.push(("repository_owner", Claim::Str(Val::lit(owner))));
    }
    if let Some((owner_id, repo_id)) = scan.settings.repo_ids {
        claims.push((
            "repository_owner_id",
            Claim::Str(Val::lit(owner_id.to_string())),
        ));
        claims.push(("repository_id", Claim::Str(Val::lit(repo_id.to_string()))));
    }
    claims.push((
        "environment",
        match &s.environment {
            Some(e) => Claim::Str(e.clone()),
            None => Claim::Absent,
        },
    ));
    if let Some(r) = &s.git_ref {
        claims.push(("ref", Claim::Str(r.clone())));
    }
    if !s.event.contains(' ') {
        claims.push(("event_name", Claim::Str(Val::lit(s.event.clone()))));
    }
    JobClaims { claims }
}

/// Whether a role is a basic role.
pub fn basic_role(role: &str) -> bool {
    matches!(role, "roles/owner" | "roles/editor")
}

/// A repository value as `Val` for a job (known `OWNER/REPO`, else a hole).
pub fn repo_val(repo: Option<&str>) -> Val {
    match repo {
        Some(r) => Val::lit(r),
        None => Val::hole(Hole::NoColon),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        Template::lit(s)
    }

    fn provider(cond: &str) -> GcpProvider {
        let sp = Span::new(0, 0);
        let kv = |k: &str, v: &str| {
            (
                crate::model::Spanned::new(k.to_string(), sp),
                crate::model::Spanned::new(t(v), sp),
            )
        };
        GcpProvider {
            file: 0,
            span: sp,
            header: sp,
            owner: "p".into(),
            pool_ref: None,
            pool_id: None,
            provider_id: None,
            issuer: Some(crate::model::Spanned::new(
                t("https://token.actions.githubusercontent.com"),
                sp,
            )),
            mapping: Some(vec![
                kv("google.subject", "assertion.sub"),
                kv("attribute.repository", "assertion.repository"),
                kv("attribute.owner", "assertion.repository_owner"),
            ]),
            mapping_span: sp,
            condition: GcpCondition::Known(crate::model::Spanned::new(cond.to_string(), sp)),
        }
    }

    #[test]
    fn foreign_tenants() {
        let parse = |x: &str| gcp_cel::parse(x);
        let open = |c: &str| Provider::new(&provider(c), &parse).admits_foreign();
        // pinned
        for c in [
            "assertion.repository_owner_id == '1'",
            "attribute.owner == 'acme'",
            "assertion.repository.startsWith('acme/')",
            "assertion.sub.startsWith('repo:acme/app:')",
            "'e968c2ef' in assertion.groups",
            "assertion.repository in ['acme/a', 'acme/b'] && assertion.ref == 'refs/heads/main'",
            "assertion.repository_owner_id == '1' && assertion.ref == 'refs/heads/main'",
        ] {
            assert_eq!(open(c), Some(false), "{c}");
        }
        // open: no tenant claim, or a foreign tenant can pick the other claims
        for c in [
            "assertion.ref == 'refs/heads/main'",
            "assertion.repository_owner != 'evil'",
            "assertion.repository_owner_id == '1' || assertion.ref == 'refs/heads/main'",
            "assertion.ref == 'refs/heads/main' && (attribute.owner == 'acme' || assertion.event_name == 'push')",
        ] {
            assert_eq!(open(c), Some(true), "{c}");
        }
        // not known: a prefix inside the owner's name, functions outside the subset
        for c in [
            "assertion.repository_owner.startsWith('acme')",
            "assertion.repository_owner.lowerAscii() == 'acme'",
            "assertion.repository.matches('^acme/')",
        ] {
            assert_eq!(open(c), None, "{c}");
        }
    }

    #[test]
    fn members() {
        let p = |s: &str| parse_member(&t(s));
        let base = "iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh";
        assert!(matches!(
            p(&format!("principalSet://{base}/*")),
            Ok(Some(ParsedMember {
                what: PoolMember::All,
                ..
            }))
        ));
        assert!(matches!(
            p(&format!(
                "principal://{base}/subject/repo:a/b:ref:refs/heads/main"
            )),
            Ok(Some(ParsedMember {
                what: PoolMember::Subject(_),
                ..
            }))
        ));
        assert!(matches!(
            p(&format!("principalSet://{base}/attribute.repository/a/b")),
            Ok(Some(ParsedMember {
                what: PoolMember::Attribute(..),
                ..
            }))
        ));
        assert!(p(&format!("principal://{base}/attribute.repository/a/b")).is_err());
        assert!(p(&format!("principalSet://{base}/subject/x")).is_err());
        assert!(p("principalSet://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/gh/*").is_err());
        assert!(matches!(
            p("serviceAccount:x@y.iam.gserviceaccount.com"),
            Ok(None)
        ));
        let tpl = Template {
            parts: vec![
                Part::Lit("principalSet://iam.googleapis.com/projects/".into()),
                Part::Unknown("project_number".into()),
                Part::Lit(
                    "/locations/global/workloadIdentityPools/gh/attribute.repository/".into(),
                ),
                Part::Unknown("var.repo".into()),
            ],
        };
        let m = parse_member(&tpl).unwrap().unwrap();
        assert_eq!(m.pool.as_deref(), Some("gh"));
    }
}
