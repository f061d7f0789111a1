//! Azure workload identity federation: which `azure/login` steps request a GitHub OIDC token
//! and for which identity (its `client-id`), which federated identity credentials that identity
//! has, and whether any of them admits what the job presents.
//!
//! Microsoft Entra ID exchanges a token only when a credential of the identity has the token's
//! issuer, one of its audiences is the token's `aud`, and its subject is exactly the token's
//! `sub` (a flexible credential: its claims-matching expression holds). Nothing is a pattern
//! in a plain credential: `repo:acme/app:*` admits only that literal text.
//!
//! A job's client id names an identity when it is a literal client id the scan knows, or
//! `${{ secrets.X }}` / `${{ vars.X }}` (possibly through `${{ env.X }}`) where `X` is mapped in
//! `role-mappings` (to a client id, the identity's Terraform address or its name) or set by a
//! `github_actions_*_secret`/`…_variable` resource of the scan from the identity's `client_id`
//! (an environment's value for jobs in that environment first, then the repository's, then the
//! organisation's). Anything else leaves the job unjudged.

use crate::analysis::eval::{self, Hole, StrOp, Tri, VPart, Val};
use crate::analysis::subjects::{Callers, Subject, SubjectForm, WorkflowRuns, job_subjects};
use crate::model::azure::{AzureIdentity, ClientIdRef, FederatedCredential, ValueKind};
use crate::model::{Job, Scan, Step, Workflow, WorkflowKind};
use crate::source::tree::{Part, Template};
use crate::source::{FileId, Span};
use std::collections::HashMap;

/// GitHub Actions' token issuer, as Entra compares it (no trailing slash).
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// `azure/login`'s default audience, Entra ID's in the public cloud.
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The token-exchange audiences Microsoft documents, per cloud.
pub const AUDIENCES: &[(&str, &str)] = &[
    ("api://AzureADTokenExchange", "the Azure public cloud"),
    ("api://AzureADTokenExchangeUSGov", "Azure US Government"),
    (
        "api://AzureADTokenExchangeChina",
        "Azure operated by 21Vianet",
    ),
    ("api://AzureADTokenExchangeUSNat", "Azure US National"),
    ("api://AzureADTokenExchangeUSSec", "Azure US Secret"),
];

/// The `azure/login` action (any ref).
pub fn is_azure_login(step: &Step) -> bool {
    step.action().as_deref() == Some("azure/login")
}

/// The client id an `azure/login` step signs in with through OIDC, with its span; `None` when
/// the step does not request an OIDC token (a managed identity `auth-type: IDENTITY`, a
/// service principal secret in `creds` with no `client-id`/`tenant-id`/`subscription-id`).
pub fn oidc_login(step: &Step) -> Option<(String, Span)> {
    if !is_azure_login(step) {
        return None;
    }
    let set = |k: &str| {
        step.input(k)
            .map(|v| v.value.value.trim())
            .filter(|v| !v.is_empty())
    };
    if set("auth-type").is_some_and(|t| t.eq_ignore_ascii_case("identity")) {
        return None;
    }
    // `creds` is ignored as soon as one of these is set (azure/login's LoginConfig).
    let direct = set("client-id").is_some() || set("tenant-id").is_some();
    if set("creds").is_some() && !direct && set("subscription-id").is_none() {
        return None;
    }
    let kv = step.input("client-id")?;
    let v = kv.value.value.trim();
    (!v.is_empty()).then(|| (v.to_string(), kv.value.span))
}

/// The audience an `azure/login` step requests (`None`: an expression the scan cannot read).
pub fn login_audience(step: &Step) -> Option<String> {
    match step.input("audience").map(|kv| kv.value.value.trim()) {
        None | Some("") => Some(DEFAULT_AUDIENCE.to_string()),
        Some(a) if a.contains("${{") => None,
        Some(a) => Some(a.to_string()),
    }
}

/// Which identity a login names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The owner (Terraform address) of an identity of the scan.
    Identity(String),
    /// Why the scan cannot tell.
    Unresolved(String),
}

/// One `azure/login` OIDC sign-in of a job, and what the scan knows about it.
pub struct Login<'a> {
    pub file: FileId,
    pub workflow: &'a Workflow,
    pub job: &'a Job,
    pub step: &'a Step,
    pub client_id: String,
    pub client_id_span: Span,
    pub target: Target,
    pub audience: Option<String>,
    pub subjects: Vec<Subject>,
}

/// Every identity of the scan and every credential, with the logins of every job.
pub struct AzureAnalysis<'a> {
    pub identities: Vec<&'a AzureIdentity>,
    by_owner: HashMap<&'a str, &'a AzureIdentity>,
    /// Identity owner → its credentials (indices into `credentials`).
    by_identity: HashMap<&'a str, Vec<usize>>,
    pub credentials: Vec<&'a FederatedCredential>,
    pub logins: Vec<Login<'a>>,
    /// `OWNER/REPO`, when known.
    pub repo: Option<String>,
    /// Whether `repo`'s letter case is GitHub's (not read from a git URL).
    pub repo_exact: bool,
    pub form: SubjectForm,
    /// A customized subject template is declared (`oidc-subject-template`, IaC): the `sub`
    /// a job presents is not the default one, and is not judged.
    pub customized: bool,
}

pub fn analyze<'a>(scan: &'a Scan, callers: &Callers<'a>) -> AzureAnalysis<'a> {
    let identities: Vec<&AzureIdentity> = scan
        .models
        .iter()
        .flat_map(|m| &m.azure.identities)
        .collect();
    let credentials: Vec<&FederatedCredential> = scan
        .models
        .iter()
        .flat_map(|m| &m.azure.credentials)
        .collect();
    let (repo, repo_exact) = match super::repo::repo_identity_exact(scan) {
        Some((r, e)) => (Some(r), e),
        None => (None, false),
    };
    let mut by_identity: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in credentials.iter().enumerate() {
        if let Some(o) = &c.identity {
            by_identity.entry(o.as_str()).or_default().push(i);
        }
    }
    let mut refs: HashMap<(ValueKind, String), Vec<&ClientIdRef>> = HashMap::new();
    for r in scan.models.iter().flat_map(|m| &m.azure.client_id_refs) {
        refs.entry((r.kind, r.name.to_ascii_lowercase()))
            .or_default()
            .push(r);
    }
    // An identity by its owner, its literal client id (lower-cased) or its literal name; the
    // first in scan order wins.
    let mut by_value: HashMap<String, &AzureIdentity> = HashMap::new();
    for i in &identities {
        by_value.entry(i.owner.clone()).or_insert(i);
        if let Some(c) = i.client_id.as_ref().and_then(|c| c.value.known()) {
            by_value.entry(c.to_ascii_lowercase()).or_insert(i);
        }
        if let Some(n) = i.name.as_ref().and_then(|n| n.value.known()) {
            by_value.entry(n).or_insert(i);
        }
    }
    let mut logins = Vec::new();
    for m in &scan.models {
        for w in &m.workflows {
            if w.kind != WorkflowKind::Workflow {
                continue;
            }
            // The workflow's runs only for workflows that sign in to a known identity.
            let mut runs: Option<WorkflowRuns> = None;
            for job in &w.jobs {
                for step in &job.steps {
                    let Some((client_id, span)) = oidc_login(step) else {
                        continue;
                    };
                    let target = resolve(
                        scan,
                        callers,
                        &by_value,
                        &refs,
                        repo.as_deref(),
                        w,
                        job,
                        step,
                        &client_id,
                    );
                    let subjects = if matches!(target, Target::Identity(_)) {
                        let runs = runs.get_or_insert_with(|| WorkflowRuns::of(scan, callers, w));
                        job_subjects(scan, runs, w, job, step)
                    } else {
                        vec![]
                    };
                    logins.push(Login {
                        file: w.file,
                        workflow: w,
                        job,
                        step,
                        client_id,
                        client_id_span: span,
                        target,
                        audience: login_audience(step),
                        subjects,
                    });
                }
            }
        }
    }
    let customized = !crate::analysis::trust::declared_templates(scan).is_empty();
    let mut by_owner: HashMap<&str, &AzureIdentity> = HashMap::new();
    for i in &identities {
        by_owner.entry(i.owner.as_str()).or_insert(i);
    }
    AzureAnalysis {
        identities,
        by_owner,
        by_identity,
        credentials,
        logins,
        repo,
        repo_exact,
        form: SubjectForm::of(scan),
        customized,
    }
}

/// The secret of this repository that a reusable workflow's `secrets.NAME` is in every run:
/// what each local caller passes as `NAME` (its own secret of that name under `secrets:
/// inherit`, or `NAME: ${{ secrets.OTHER }}`), followed up a chain of reusable callers. An error
/// (why) when there is no local caller, a caller passes something else or nothing, or callers
/// disagree.
fn passed_secret(
    callers: &Callers<'_>,
    w: &Workflow,
    name: &str,
    depth: usize,
    budget: &mut usize,
) -> Result<String, String> {
    use crate::model::CallSecrets;
    let of = callers.of(w.file);
    if of.is_empty() {
        return Err("no caller in the scan passes it".into());
    }
    // (callers fanning out at every level: the work stays bounded)
    if depth >= 4 || *budget < of.len() {
        return Err("its chain of callers is too deep or wide to follow".into());
    }
    *budget -= of.len();
    let mut found: Option<String> = None;
    for (cw, cj) in of {
        let own = match &cj.secrets {
            Some(CallSecrets::Inherit) => name.to_string(),
            Some(CallSecrets::Map(kvs)) => {
                let Some(kv) = kvs.iter().find(|kv| kv.key.eq_ignore_ascii_case(name)) else {
                    return Err(format!(
                        "job `{}` calling it does not pass `{name}`",
                        cj.id.value
                    ));
                };
                match whole_expr(kv.value.value.trim()).and_then(|e| e.strip_prefix("secrets.")) {
                    Some(n) => n.trim().to_string(),
                    None => {
                        return Err(format!(
                            "job `{}` calling it passes `{}`",
                            cj.id.value,
                            kv.value.value.trim()
                        ));
                    }
                }
            }
            None => {
                return Err(format!(
                    "job `{}` calling it passes no secrets",
                    cj.id.value
                ));
            }
        };
        // A reusable caller's secret is its own caller's in turn (and its own for its other
        // triggers: the two must agree).
        let own = if cw.has_trigger("workflow_call") {
            let up = passed_secret(callers, cw, &own, depth + 1, budget)?;
            if cw.triggers.iter().any(|t| t.event != "workflow_call")
                && !up.eq_ignore_ascii_case(&own)
            {
                return Err(format!("its callers pass both `{own}` and `{up}`"));
            }
            up
        } else {
            own
        };
        match &found {
            Some(f) if !f.eq_ignore_ascii_case(&own) => {
                return Err(format!("its callers pass `{f}` and `{own}`"));
            }
            Some(_) => {}
            None => found = Some(own),
        }
    }
    found.ok_or_else(|| "no caller in the scan passes it".into())
}

/// The identity a `client-id` value names.
#[allow(clippy::too_many_arguments)]
fn resolve(
    scan: &Scan,
    callers: &Callers<'_>,
    identities: &HashMap<String, &AzureIdentity>,
    refs: &HashMap<(ValueKind, String), Vec<&ClientIdRef>>,
    repo: Option<&str>,
    w: &Workflow,
    job: &Job,
    step: &Step,
    text: &str,
) -> Target {
    let mut text = text.trim().to_string();
    // `${{ env.X }}` through the step, job and workflow env (one level).
    if let Some(k) = whole_expr(&text).and_then(|e| e.strip_prefix("env.").map(str::to_string)) {
        match [&step.env, &job.env, &w.env]
            .iter()
            .find_map(|kvs| kvs.iter().rev().find(|kv| kv.key == k))
        {
            Some(kv) => text = kv.value.value.trim().to_string(),
            None => return Target::Unresolved(format!("`env.{k}` is not set in the workflow")),
        }
    }
    let by_value = |v: &str| -> Option<String> {
        let v = v.trim();
        identities
            .get(v)
            .or_else(|| identities.get(&v.to_ascii_lowercase()))
            .map(|i| i.owner.clone())
    };
    let Some(expr) = whole_expr(&text) else {
        if text.contains("${{") {
            return Target::Unresolved(format!("`{text}` cannot be resolved statically"));
        }
        // A literal client id: an identity whose client id the scan knows, or one mapped in
        // `role-mappings` (`"CLIENT-ID" = "azurerm_user_assigned_identity.deploy"`).
        let mapped = scan
            .settings
            .role_mappings
            .get(&text)
            .and_then(|v| by_value(v));
        return match mapped.or_else(|| by_value(&text)) {
            Some(o) => Target::Identity(o),
            None => Target::Unresolved(format!(
                "no identity of the scan has the client id `{text}` (map it to the identity in `role-mappings` in oidc-lint.toml)"
            )),
        };
    };
    let (kind, name) = if let Some(n) = expr.strip_prefix("secrets.") {
        (ValueKind::Secret, n)
    } else if let Some(n) = expr.strip_prefix("vars.") {
        (ValueKind::Variable, n)
    } else {
        return Target::Unresolved(format!("`{text}` cannot be resolved statically"));
    };
    // In a reusable workflow a secret is the one its caller passes under this name (`secrets:
    // {X: ${{ secrets.OTHER }}}`, or `secrets: inherit`): followed through the local callers.
    let passed;
    let name = if kind == ValueKind::Secret && w.has_trigger("workflow_call") {
        match passed_secret(callers, w, name, 0, &mut 256) {
            // (its runs of other triggers read this repository's own `NAME`)
            Ok(n)
                if !n.eq_ignore_ascii_case(name)
                    && w.triggers.iter().any(|t| t.event != "workflow_call") =>
            {
                return Target::Unresolved(format!(
                    "`{text}` in a reusable workflow: its callers pass `{n}`, its other triggers read `{name}`"
                ));
            }
            Ok(n) => {
                passed = n;
                passed.as_str()
            }
            Err(why) => {
                return Target::Unresolved(format!("`{text}` in a reusable workflow: {why}"));
            }
        }
    } else {
        name
    };
    if let Some(v) = scan.settings.role_mappings.get(name) {
        return match by_value(v) {
            Some(o) => Target::Identity(o),
            None => Target::Unresolved(format!(
                "`role-mappings` maps `{name}` to `{v}`, which is no identity of the scan"
            )),
        };
    }
    let repo_name = repo.and_then(|r| r.split_once('/')).map(|(_, n)| n);
    let env = job.environment.as_ref().map(|e| e.value.trim());
    let refs: Vec<&&ClientIdRef> = refs
        .get(&(kind, name.to_ascii_lowercase()))
        .into_iter()
        .flatten()
        .filter(|r| match (&r.repository, repo_name) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        })
        .collect();
    // An environment's value wins, then the repository's, then the organisation's.
    let scoped: Vec<_> = refs.iter().filter(|r| r.environment.is_some()).collect();
    if !scoped.is_empty() && env.is_some_and(|e| e.contains("${{")) {
        return Target::Unresolved(format!(
            "`{name}` is set per environment and the job's environment is an expression"
        ));
    }
    let tiers = [
        refs.iter()
            .filter(|r| r.environment.is_some() && r.environment.as_deref() == env)
            .collect::<Vec<_>>(),
        refs.iter()
            .filter(|r| r.environment.is_none() && r.repository.is_some())
            .collect(),
        refs.iter()
            .filter(|r| r.environment.is_none() && r.repository.is_none())
            .collect(),
    ];
    for tier in tiers {
        let mut ids: Vec<&String> = tier.iter().map(|r| &r.identity).collect();
        ids.sort();
        ids.dedup();
        match ids.as_slice() {
            [] => continue,
            [one] => return Target::Identity((*one).clone()),
            _ => {
                return Target::Unresolved(format!(
                    "`{name}` is set from several identities' client ids"
                ));
            }
        }
    }
    Target::Unresolved(format!(
        "`{text}` cannot be resolved statically (set it with a `github_actions_{}` resource in the scan, or map it in `role-mappings` in oidc-lint.toml)",
        if kind == ValueKind::Secret {
            "secret"
        } else {
            "variable"
        }
    ))
}

/// `X` when the whole text is `${{ X }}`.
fn whole_expr(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${{")?.strip_suffix("}}")?;
    (!inner.contains("${{") && !inner.contains("}}")).then(|| inner.trim())
}

/// An issuer value as Entra compares it with GitHub's, and what is wrong with it.
pub fn issuer_problem(issuer: &str) -> Option<String> {
    if issuer != issuer.trim() {
        return Some("has leading or trailing whitespace, which blocks the token exchange".into());
    }
    let lower = issuer.to_ascii_lowercase();
    let host_path = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    if !host_path.starts_with("token.actions.githubusercontent.com") {
        return None;
    }
    let gh = GITHUB_ISSUER;
    if issuer == gh {
        return None;
    }
    if !issuer.starts_with("https://") {
        return Some(format!(
            "is not the URL GitHub puts in `iss`: the token's issuer is `{gh}`, with the scheme"
        ));
    }
    let rest = &issuer["https://".len()..];
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host != "token.actions.githubusercontent.com" {
        return Some(format!(
            "differs from the token's issuer `{gh}` in letter case; Entra compares issuers exactly"
        ));
    }
    if path.is_empty() {
        return Some(format!(
            "ends with `/`, but the token's issuer is `{gh}` without one; Entra compares issuers exactly"
        ));
    }
    // `https://token.actions.githubusercontent.com/ENTERPRISE`: an enterprise's own issuer.
    if path.ends_with('/') || path.contains('/') {
        return Some(format!(
            "is not an issuer GitHub uses (`{gh}`, or `{gh}/ENTERPRISE` for an enterprise with its own issuer)"
        ));
    }
    None
}

/// A documented token-exchange audience, or the cloud it is for.
pub fn documented_audience(a: &str) -> Option<&'static str> {
    AUDIENCES.iter().find(|(x, _)| *x == a).map(|(_, c)| *c)
}

/// A documented audience `a` resembles (another letter case, a trailing slash or `/.default`).
pub fn near_audience(a: &str) -> Option<&'static str> {
    let norm = |s: &str| {
        s.trim()
            .trim_end_matches("/.default")
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    let n = norm(a);
    AUDIENCES
        .iter()
        .map(|(x, _)| *x)
        .find(|x| norm(x) == n || norm(x).trim_start_matches("api://") == n)
}

/// Whether a credential's issuer is the token's (`Unknown`: not a literal).
fn issuer_admits(c: &FederatedCredential) -> Tri {
    match c.issuer.as_ref().map(|i| i.value.known()) {
        None => Tri::False,
        Some(None) => Tri::Unknown,
        Some(Some(i)) => {
            let gh_enterprise = i
                .strip_prefix(GITHUB_ISSUER)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|r| !r.is_empty() && !r.contains('/'));
            if i == GITHUB_ISSUER {
                Tri::True
            } else if gh_enterprise {
                // an enterprise's own issuer: whether this repository's tokens carry it is
                // not known
                Tri::Unknown
            } else {
                Tri::False
            }
        }
    }
}

/// Whether a credential's audiences include the job's.
fn audience_admits(c: &FederatedCredential, aud: Option<&str>) -> Tri {
    let Some(list) = &c.audiences else {
        return Tri::Unknown;
    };
    let Some(aud) = aud else {
        return Tri::Unknown;
    };
    Tri::any(list.iter().map(|a| match a.value.known() {
        Some(k) => Tri::from_bool(k == aud),
        None => Tri::Unknown,
    }))
}

/// The `sub` values a credential subject is compared with for a subject presented from `repo`.
fn sub_vals(s: &Subject, repo: &Val, form: SubjectForm, credential: &Template) -> Val {
    let sub = s.sub(repo);
    match form.format {
        Some(crate::model::SubjectFormat::Id) => form.present(sub),
        Some(crate::model::SubjectFormat::Name) => sub,
        None if eval::is_id_form(credential) => eval::id_form_with(&sub, form.ids).unwrap_or(sub),
        None => sub,
    }
}

/// Whether a credential's subject (or flexible expression) admits a subject.
fn subject_admits(c: &FederatedCredential, s: &Subject, repo: &Val, form: SubjectForm) -> Tri {
    if s.foreign {
        return Tri::Unknown;
    }
    if let Some(sub) = &c.subject {
        let v = sub_vals(s, repo, form, &sub.value);
        let exact = eval::value_match(StrOp::Equals, &sub.value, &v);
        // Which letter case of an environment's name GitHub puts in `sub` (the workflow's or
        // the repository setting's) is not documented: a case-only difference is unknown.
        if exact == Tri::False
            && s.environment.is_some()
            && eval::value_match(StrOp::EqualsIgnoreCase, &sub.value, &v) != Tri::False
        {
            return Tri::Unknown;
        }
        return exact;
    }
    if let Some(e) = &c.claims_expression {
        let Some(text) = e.value.known() else {
            return Tri::Unknown;
        };
        return match flexible_sub(&text) {
            Some(clauses) => Tri::all(clauses.iter().map(|(op, pat)| {
                let t = Template {
                    parts: vec![Part::Lit(pat.clone())],
                };
                let v = sub_vals(s, repo, form, &t);
                match op {
                    FlexOp::Eq => eval::value_match(StrOp::Equals, &t, &v),
                    FlexOp::Matches => like(pat, &v),
                }
            })),
            None => Tri::Unknown,
        };
    }
    Tri::False
}

/// `matches` with `*` as the only wildcard (the flexible credential language has no `?`).
fn like(pattern: &str, v: &Val) -> Tri {
    let escaped: String = pattern.replace('?', "${?}");
    let t = Template {
        parts: vec![Part::Lit(escaped)],
    };
    eval::value_match(StrOp::Like, &t, v)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FlexOp {
    Eq,
    Matches,
}

/// The `sub` clauses of a flexible credential's expression, when it is a conjunction of
/// `claims['sub'] matches|eq '…'` clauses only (anything else: `None`, unknown).
fn flexible_sub(expr: &str) -> Option<Vec<(FlexOp, String)>> {
    let mut out = Vec::new();
    for clause in expr.split(" and ") {
        let c = clause.trim();
        let rest = c
            .strip_prefix("claims['sub']")
            .or_else(|| c.strip_prefix("claims[\"sub\"]"))?
            .trim_start();
        let (op, rest) = if let Some(r) = rest.strip_prefix("matches") {
            (FlexOp::Matches, r)
        } else if let Some(r) = rest.strip_prefix("eq") {
            (FlexOp::Eq, r)
        } else {
            return None;
        };
        let lit = rest.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        if lit.contains('\'') {
            return None;
        }
        out.push((op, lit.to_string()));
    }
    (!out.is_empty()).then_some(out)
}

/// A login judged against the credentials of its identity.
pub struct Verdict<'a> {
    pub identity: &'a AzureIdentity,
    pub credentials: Vec<&'a FederatedCredential>,
    /// The repository value subjects were judged with.
    pub repo: Val,
    /// Per subject of the login: does some credential admit it?
    pub admits: Vec<Tri>,
}

impl Verdict<'_> {
    /// Every subject is rejected by every credential (and there is a subject and a credential).
    pub fn rejects_all(&self) -> bool {
        !self.admits.is_empty()
            && !self.credentials.is_empty()
            && self.admits.iter().all(|t| *t == Tri::False)
    }
}

impl<'a> AzureAnalysis<'a> {
    pub fn identity(&self, owner: &str) -> Option<&'a AzureIdentity> {
        self.by_owner.get(owner).copied()
    }
    pub fn credentials_of(&self, owner: &str) -> Vec<&'a FederatedCredential> {
        self.by_identity
            .get(owner)
            .into_iter()
            .flatten()
            .map(|&i| self.credentials[i])
            .collect()
    }
    /// The repository value for judging: the known identity, else the one repository every
    /// GitHub subject of the credentials names ("this repository"), else unknown.
    fn repo_value(&self, creds: &[&FederatedCredential]) -> Val {
        let named = Self::named_repos(creds);
        if let Some(r) = &self.repo {
            // A name from a git URL is not in GitHub's letter case: a credential naming the
            // same repository in another case gives GitHub's spelling.
            if !self.repo_exact
                && let Some(n) = named.iter().find(|n| n.eq_ignore_ascii_case(r))
            {
                return Val::lit(n.clone());
            }
            return Val::lit(r.clone());
        }
        match named.as_slice() {
            [one] => Val::lit(one.clone()),
            _ => Val::hole(Hole::NoColon),
        }
    }
    /// The repositories the credentials' GitHub subjects name, sorted and deduplicated.
    fn named_repos(creds: &[&FederatedCredential]) -> Vec<String> {
        let mut named: Vec<String> = creds
            .iter()
            .filter_map(|c| c.subject.as_ref()?.value.known())
            .filter_map(|s| {
                let rest = s.strip_prefix("repo:")?;
                let repo = rest.split(':').next()?;
                (!repo.contains('@')).then(|| repo.to_string())
            })
            .collect();
        named.sort();
        named.dedup();
        named
    }
    /// Judge a login (`None`: not resolved to an identity of the scan, or a customized subject
    /// template makes the `sub` unknown).
    pub fn judge(&self, l: &Login<'a>) -> Option<Verdict<'a>> {
        let Target::Identity(owner) = &l.target else {
            return None;
        };
        if self.customized {
            return None;
        }
        let identity = self.identity(owner)?;
        let credentials = self.credentials_of(owner);
        let repo = self.repo_value(&credentials);
        let aud = l.audience.as_deref();
        let admits = l
            .subjects
            .iter()
            .map(|s| {
                Tri::any(credentials.iter().map(|c| {
                    issuer_admits(c)
                        .and(audience_admits(c, aud))
                        .and(subject_admits(c, s, &repo, self.form))
                }))
            })
            .collect();
        Some(Verdict {
            identity,
            credentials,
            repo,
            admits,
        })
    }
}

/// A presented subject for messages.
pub fn show(s: &Subject, repo: &Val, form: SubjectForm) -> String {
    let v = form.present(s.sub(repo));
    let mut out = String::new();
    for p in &v.parts {
        match p {
            VPart::Lit(l) => out.push_str(l),
            VPart::Hole(_) => out.push('*'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers() {
        assert_eq!(issuer_problem(GITHUB_ISSUER), None);
        assert_eq!(
            issuer_problem("https://token.actions.githubusercontent.com/acme"),
            None
        );
        assert_eq!(issuer_problem("https://gitlab.com"), None);
        for bad in [
            "https://token.actions.githubusercontent.com/",
            "token.actions.githubusercontent.com",
            "http://token.actions.githubusercontent.com",
            "https://Token.Actions.GitHubUserContent.com",
            " https://token.actions.githubusercontent.com",
            "https://token.actions.githubusercontent.com/acme/",
        ] {
            assert!(issuer_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn flexible_expressions() {
        assert_eq!(
            flexible_sub("claims['sub'] matches 'repo:a/b:ref:refs/heads/*'"),
            Some(vec![(FlexOp::Matches, "repo:a/b:ref:refs/heads/*".into())])
        );
        assert_eq!(
            flexible_sub(
                "claims['sub'] matches 'repo:a/*' and claims['job_workflow_ref'] matches 'x'"
            ),
            None
        );
        let v = Val::lit("repo:a/b:ref:refs/heads/main");
        assert_eq!(like("repo:a/b:ref:refs/heads/*", &v), Tri::True);
        assert_eq!(like("repo:a/c:*", &v), Tri::False);
        assert_eq!(like("repo:a/b:ref:refs/heads/ma?n", &v), Tri::False);
    }

    #[test]
    fn audiences() {
        assert_eq!(
            documented_audience("api://AzureADTokenExchange"),
            Some("the Azure public cloud")
        );
        assert_eq!(documented_audience("api://AzureADTokenExchange/"), None);
        assert_eq!(
            near_audience("api://AzureADTokenExchange/"),
            Some("api://AzureADTokenExchange")
        );
        assert_eq!(
            near_audience("AzureADTokenExchange"),
            Some("api://AzureADTokenExchange")
        );
        assert_eq!(near_audience("sts.amazonaws.com"), None);
    }
}
