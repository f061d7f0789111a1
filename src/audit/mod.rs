//! `oidc-lint audit [PATH...]`: a migration inventory for the people who plan the migration.
//! For every job that reaches AWS: how (static keys or an OIDC role), the role and whether its
//! trust admits the job, the subjects it presents, and for each static-key job the exact change
//! to migrate — a workflow patch and a least-privilege trust policy (IAM JSON and Terraform).
//!
//! The audit is a reading of the check, not a second scan: it runs [`Engine::check`] over the
//! same paths with the same configuration, and reads the same views the rules read
//! ([`Ctx::analysis`], [`Ctx::judged`]), so a role defined in one checkout resolves for a job in
//! another exactly as in `oidc-lint PATH...`, and the audit's verdict for a job is the one the
//! rules act on. Several checkouts (or a directory of them) give one report with a summary
//! first; `--merge` combines the JSON reports of separate runs (a CI matrix) into one.

mod azure;
mod gcp;
mod gitlab;
mod html;
mod migrate;
mod render;

pub use migrate::trust_documents;

use crate::analysis::eval::{Tri, Val};
use crate::analysis::subjects::{self, Access, Assumption, Judgement, RoleAnalysis, RoleTarget};
use crate::engine::{self, Engine, Selection};
use crate::model::Scan;
use crate::rules::{Ctx, RuleSet};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Repository checkouts, or directories of checkouts, audited together (one scan: a role
    /// defined in one checkout resolves for jobs in another).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// `OWNER/REPO` of the repository (else read from its `origin` remote).
    #[arg(long)]
    pub repo: Option<String>,
    /// Configuration file (default: `oidc-lint.toml` or `.oidc-lint.toml` found upward from the
    /// first path), read as by the check: `role-mappings`, `repository`, `exclude`….
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Combine JSON reports of earlier runs (`--format json`, e.g. one per repository in a CI
    /// matrix) instead of scanning: the PATH arguments are those report files.
    #[arg(long)]
    pub merge: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A summary and one table per repository, at most 100 columns wide.
    Table,
    /// Everything, for machines and `--merge`.
    Json,
    /// A pull-request comment (under GitHub's 65,536-character limit).
    Markdown,
    /// One self-contained page: summary, trust graph, tables, patches.
    Html,
    /// One row per job.
    Csv,
}

/// The version of the JSON report (`--merge` refuses other versions).
pub const REPORT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize, Debug)]
pub struct Audit {
    pub version: u32,
    pub summary: Summary,
    pub repositories: Vec<RepoAudit>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct Summary {
    pub repositories: usize,
    /// Jobs reaching a cloud.
    pub jobs: usize,
    /// Jobs by how they reach it (`oidc`, `static-keys`).
    pub by_access: BTreeMap<String, usize>,
    pub verdicts: BTreeMap<String, usize>,
    /// Graph edge colours: `admitted`, `rejected`, `too-wide`, `unknown`.
    pub edges: BTreeMap<String, usize>,
    /// Account id (or `unknown`) → the role names jobs assume in it.
    pub roles_by_account: BTreeMap<String, Vec<String>>,
    /// The roles whose trust admits the most (by the check's findings), widest first.
    pub widest_trusts: Vec<WideTrust>,
    /// Static-key jobs for which an existing OIDC role is proposed, and for which a new one is.
    pub reuse_proposals: usize,
    pub new_role_proposals: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct WideTrust {
    pub repository: String,
    pub role: String,
    pub defined_in: String,
    pub score: u32,
    /// The check's rules that found the trust too wide.
    pub findings: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct RepoAudit {
    pub path: String,
    /// `OWNER/REPO`, when known.
    pub repository: Option<String>,
    pub jobs: Vec<JobAudit>,
    /// Roles defined in this checkout that GitHub's OIDC can assume.
    pub roles: Vec<RoleInfo>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RoleInfo {
    pub name: String,
    pub defined_in: String,
    /// Rules of the check that found this role's trust wider than it should be.
    pub wide_findings: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct JobAudit {
    pub workflow: String,
    pub job: String,
    pub line: u32,
    /// `oidc` or `static-keys`.
    pub access: String,
    pub role: RoleAudit,
    pub audience: Option<String>,
    pub subjects: Vec<String>,
    /// `admitted`, `partly-admitted`, `rejected`, `audience-rejected`, `unknown`,
    /// `role-not-in-scan`, `role-unresolved`, `static-keys`.
    pub verdict: String,
    /// The graph's colour for the job → role edge: `admitted`, `rejected`, `too-wide`,
    /// `unknown`.
    pub edge: String,
    pub migration: Option<Migration>,
    /// For a job that reaches AWS through a reusable workflow it calls: that workflow and its
    /// job (`PATH job ID`), where the step assuming the role is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RoleAudit {
    /// `role-to-assume` as written.
    pub reference: Option<String>,
    pub name: Option<String>,
    /// The AWS account in the role's ARN, when literal.
    pub account: Option<String>,
    /// Where the role (or its trust policy) is defined in the scan.
    pub defined_in: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Migration {
    pub role_name: String,
    /// `Some`: an OIDC role already defined in the scan fits this job; the trust policy is the
    /// statement to add to it (the `sub` values this job presents). `None`: a new role.
    pub reuse: Option<Reuse>,
    /// Unified diff of the workflow.
    pub workflow_patch: String,
    /// The trust policy as IAM JSON (`${AWS_ACCOUNT_ID}` to be substituted, e.g. by envsubst).
    pub trust_policy: serde_json::Value,
    pub terraform: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Reuse {
    /// Where the existing role is defined.
    pub defined_in: String,
    /// Why it fits.
    pub reason: String,
}

/// Whether `p` is a repository checkout (a `.git`, or workflows).
fn is_repo(p: &Path) -> bool {
    p.join(".git").exists() || p.join(".github").is_dir()
}

/// The repositories under `path`: itself when it is a checkout (or has workflows), else its
/// subdirectories that are (sorted), else itself.
pub fn repositories(path: &Path) -> Vec<PathBuf> {
    if is_repo(path) || !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut subs: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .filter(|p| is_repo(p))
                .collect()
        })
        .unwrap_or_default();
    subs.sort();
    if subs.is_empty() {
        vec![path.to_path_buf()]
    } else {
        subs
    }
}

/// `OWNER/REPO` from a checkout's own `origin` remote (text only; git is never run).
fn checkout_identity(dir: &Path) -> Option<String> {
    use crate::analysis::repo::{origin_url, repo_from_url};
    let dot = dir.join(".git");
    let git = if dot.is_file() {
        let text = std::fs::read_to_string(&dot).ok()?;
        dir.join(text.trim().strip_prefix("gitdir:")?.trim())
    } else {
        dot
    };
    let config = std::fs::read_to_string(git.join("config")).ok()?;
    repo_from_url(&origin_url(&config)?)
}

/// A file's path inside its checkout (`/`-separated), else its path in the scan.
fn in_checkout(dir: &Path, path: &Path, rel: &str) -> String {
    match path.strip_prefix(dir) {
        Ok(p) if !p.as_os_str().is_empty() => p
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        _ => rel.to_string(),
    }
}

/// The account id in an IAM role ARN written literally.
fn account_of(reference: &str) -> Option<String> {
    let rest = reference.trim().strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, account) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (service == "iam" && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

/// The account of a role named through a secret or variable the configuration maps
/// (`role-mappings`).
fn mapped_account(scan: &Scan, reference: &str) -> Option<String> {
    let compact: String = reference.chars().filter(|c| !c.is_whitespace()).collect();
    scan.settings.role_mappings.iter().find_map(|(k, arn)| {
        (compact == format!("${{{{secrets.{k}}}}}") || compact == format!("${{{{vars.{k}}}}}"))
            .then(|| account_of(arn))
            .flatten()
    })
}

/// How much wider than needed each check rule says a trust is (for the widest-trusts list).
fn width_score(rule: &str) -> Option<u32> {
    Some(match rule {
        "trust-principal-wildcard" | "trust-missing-sub" | "trust-sub-any-repo" => 5,
        "trust-sub-untrusted-owner" | "trust-fail-open-operator" | "trust-missing-aud" => 4,
        "trust-sub-org-wide" | "trust-unanchored-custom-sub" | "trust-stringequals-wildcard" => 3,
        "trust-sub-repo-wide" | "trust-sub-admits-pull-request" | "trust-sub-prefix-collision" => 2,
        "role-trust-wider-than-use" | "role-trust-admits-untrusted-events" => 1,
        _ => return None,
    })
}

/// Audit `args.paths` (one check over all of them).
pub fn audit(args: &AuditArgs) -> Result<Audit, String> {
    for p in &args.paths {
        if !p.exists() {
            return Err(format!("{} does not exist", p.display()));
        }
    }
    let rules = RuleSet::builtin();
    let config = engine::load_config(args.config.as_deref(), &args.paths, &rules)?;
    let engine = Engine::new(rules, config, Selection::default()).repo(args.repo.clone());
    // The check's own views (roles, judgements) and findings: one analysis for both.
    let (_outcome, audit) =
        engine.check_then(&args.paths, |cx, findings| audit_from(args, cx, findings));
    Ok(audit)
}

/// The audit, read from a check's views `cx` and its `findings`.
fn audit_from(args: &AuditArgs, cx: &Ctx<'_>, findings: &[crate::diag::Finding]) -> Audit {
    let scan: &crate::model::Scan = cx;
    let an = cx.analysis();
    let judged = cx.judged();
    let providers = cx.providers();

    // The checkouts, in argument order, each owning the files under it.
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // a directory of checkouts also stands for the files under it outside every checkout
    let mut catch_all = Vec::new();
    for p in &args.paths {
        let found = repositories(p);
        if found.as_slice() != std::slice::from_ref(p) {
            catch_all.push(p.clone());
        }
        for d in found {
            if seen.insert(d.clone()) {
                dirs.push(d);
            }
        }
    }
    let first_catch_all = dirs.len();
    for p in catch_all {
        if seen.insert(p.clone()) {
            dirs.push(p);
        }
    }
    // the nearest checkout above a file: a lookup per ancestor, not a pass over every checkout
    let by_dir: std::collections::HashMap<&Path, usize> = dirs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, d)| (d.as_path(), i))
        .collect();
    let owner = |path: &Path| -> usize {
        path.ancestors()
            .find_map(|a| by_dir.get(a).copied())
            .unwrap_or(0)
    };
    let identities: Vec<Option<String>> = dirs
        .iter()
        .map(|d| an.repo.clone().or_else(|| checkout_identity(d)))
        .collect();

    // The check's findings about each role's trust, by role index.
    let mut wide: Vec<BTreeSet<&'static str>> = vec![BTreeSet::new(); an.roles.len()];
    let mut roles_in_file: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, r) in an.roles.iter().enumerate() {
        roles_in_file.entry(r.file).or_default().push(i);
    }
    for f in findings {
        if width_score(f.rule).is_none() {
            continue;
        }
        let Some(in_file) = roles_in_file.get(&(f.file)) else {
            continue;
        };
        let holding: Vec<usize> = in_file
            .iter()
            .copied()
            .filter(|&i| {
                let s = an.roles[i].span;
                s.start <= f.span.start && f.span.end <= s.end
            })
            .collect();
        let targets = if holding.is_empty() && in_file.len() == 1 {
            in_file.clone()
        } else {
            holding
        };
        for i in targets {
            wide[i].insert(f.rule);
        }
    }

    let mut repos: Vec<RepoAudit> = dirs
        .iter()
        .zip(&identities)
        .map(|(d, id)| RepoAudit {
            path: d.display().to_string(),
            repository: id.clone(),
            jobs: vec![],
            roles: vec![],
        })
        .collect();
    // GitHub roles per checkout
    for (i, r) in an.roles.iter().enumerate() {
        if r.trust.is_none() {
            continue;
        }
        let src = scan.file(r.file);
        let o = owner(&src.path);
        repos[o].roles.push(RoleInfo {
            name: r.name.clone(),
            defined_in: in_checkout(&dirs[o], &src.path, &src.rel),
            wide_findings: wide[i].iter().map(|s| s.to_string()).collect(),
        });
    }

    let existing = ExistingRoles::new(scan, an);
    let mut edits: BTreeMap<usize, migrate::Edits> = Default::default();
    let mut located: Vec<(usize, usize, JobAudit)> = Vec::new();
    for (a, judgement) in an.assumptions.iter().zip(judged) {
        let src = scan.file(a.file);
        let repo_ix = owner(&src.path);
        let ctx = JobCtx {
            scan,
            an,
            providers,
            wide: &wide,
            identity: an.repo_of(a.file).or(identities[repo_ix].as_deref()),
            existing: &existing,
        };
        let (mut j, e) = job_audit(&ctx, a, judgement.as_ref());
        j.workflow = in_checkout(&dirs[repo_ix], &src.path, &src.rel);
        edits.entry(a.file).or_default().extend(e);
        // A reusable workflow's job is listed under each job calling it (the caller is what
        // a team migrates and what the token's subject names); the workflow alone when no
        // job in the scan calls it.
        let callers = cx.callers_of(a.file);
        if callers.is_empty() {
            located.push((repo_ix, a.file, j));
        } else {
            let via = format!("{} job {}", j.workflow, j.job);
            for (cw, cj) in callers {
                let csrc = scan.file(cw.file);
                let crepo = owner(&csrc.path);
                let mut c = j.clone();
                c.workflow = in_checkout(&dirs[crepo], &csrc.path, &csrc.rel);
                c.job = cj.id.value.clone();
                c.line = csrc.pos(cj.id.span.start).line;
                c.via = Some(via.clone());
                located.push((crepo, a.file, c));
            }
        }
    }
    for (file, mut j) in azure::jobs(scan, cx) {
        let src = scan.file(file);
        let repo_ix = owner(&src.path);
        j.workflow = in_checkout(&dirs[repo_ix], &src.path, &src.rel);
        located.push((repo_ix, file, j));
    }
    // one patch per workflow file, holding every job's change
    for (file, e) in edits {
        if e.is_empty() {
            continue;
        }
        let src = scan.file(file);
        let rel = in_checkout(&dirs[owner(&src.path)], &src.path, &src.rel);
        let patch = migrate::patch_for(&rel, &src.text, e);
        for (_, _, j) in located.iter_mut().filter(|(_, f, _)| *f == file) {
            if let Some(m) = &mut j.migration {
                m.workflow_patch = patch.clone();
            }
        }
    }
    for (file, mut j) in gitlab::jobs(cx, &wide) {
        let src = scan.file(file);
        let o = owner(&src.path);
        j.workflow = in_checkout(&dirs[o], &src.path, &src.rel);
        located.push((o, file, j));
    }
    // Google Cloud jobs (google-github-actions/auth)
    for (file, mut j) in gcp::jobs(scan, cx) {
        let src = scan.file(file);
        let repo_ix = owner(&src.path);
        j.workflow = in_checkout(&dirs[repo_ix], &src.path, &src.rel);
        located.push((repo_ix, file, j));
    }
    for (r, _, j) in located {
        repos[r].jobs.push(j);
    }
    // a catch-all directory holding nothing outside its checkouts is no repository
    let mut i = 0;
    repos.retain(|r| {
        let keep = i < first_catch_all || !r.jobs.is_empty() || !r.roles.is_empty();
        i += 1;
        keep
    });
    finish(repos)
}

/// The report for these repositories, with its summary.
pub fn finish(repositories: Vec<RepoAudit>) -> Audit {
    Audit {
        version: REPORT_VERSION,
        summary: summarize(&repositories),
        repositories,
    }
}

fn summarize(repos: &[RepoAudit]) -> Summary {
    let mut s = Summary {
        repositories: repos.len(),
        ..Default::default()
    };
    let mut by_account: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in repos {
        for j in &r.jobs {
            s.jobs += 1;
            *s.by_access.entry(j.access.clone()).or_default() += 1;
            *s.verdicts.entry(j.verdict.clone()).or_default() += 1;
            *s.edges.entry(j.edge.clone()).or_default() += 1;
            if let Some(n) = &j.role.name {
                by_account
                    .entry(j.role.account.clone().unwrap_or_else(|| "unknown".into()))
                    .or_default()
                    .insert(n.clone());
            }
            if let Some(m) = &j.migration {
                if m.reuse.is_some() {
                    s.reuse_proposals += 1;
                } else {
                    s.new_role_proposals += 1;
                }
            }
        }
        for role in &r.roles {
            let score: u32 = role
                .wide_findings
                .iter()
                .filter_map(|f| width_score(f))
                .sum();
            if score > 0 {
                s.widest_trusts.push(WideTrust {
                    repository: r.repository.clone().unwrap_or_else(|| r.path.clone()),
                    role: role.name.clone(),
                    defined_in: role.defined_in.clone(),
                    score,
                    findings: role.wide_findings.clone(),
                });
            }
        }
    }
    s.roles_by_account = by_account
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect();
    s.widest_trusts.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.defined_in.cmp(&b.defined_in))
            .then_with(|| a.role.cmp(&b.role))
    });
    s.widest_trusts.truncate(10);
    s
}

/// Roles in the scan GitHub's OIDC can already assume, for reuse before creating new ones.
struct ExistingRoles {
    /// (name, defined in, repositories its trust names)
    roles: Vec<(String, String, Vec<String>)>,
}

impl ExistingRoles {
    fn new(scan: &Scan, an: &RoleAnalysis) -> Self {
        let mut roles = Vec::new();
        for r in &an.roles {
            let Some(trust) = r.trust else { continue };
            let subs = trust_subs(trust);
            if !subs.iter().any(|s| s.starts_with("repo:"))
                && !trust_mentions_issuer(trust, crate::analysis::trust::DEFAULT_ISSUER)
            {
                continue;
            }
            let repos = subs
                .iter()
                .filter_map(|s| {
                    let rest = s.strip_prefix("repo:")?;
                    let mut it = rest.splitn(3, ':');
                    let owner_repo = it.next()?;
                    (!owner_repo.contains('*')).then(|| owner_repo.to_string())
                })
                .collect();
            roles.push((r.name.clone(), scan.file(r.file).rel.clone(), repos));
        }
        roles.sort();
        roles.dedup();
        ExistingRoles { roles }
    }
    /// An existing role for a static-key job of `repo`: one whose trust already names the
    /// repository (the job's subjects are then added to it).
    fn fitting(&self, repo: Option<&str>) -> Option<&(String, String, Vec<String>)> {
        let repo = repo?;
        self.roles.iter().find(|(_, _, repos)| {
            repos
                .iter()
                .any(|r| r.eq_ignore_ascii_case(repo) && !r.is_empty())
        })
    }
    /// A new role's name, following the naming of existing roles when they share a prefix
    /// (`gha-…`, `github-…`).
    fn new_name(&self, repo: Option<&str>, job: &str) -> String {
        let default = migrate::role_name_for(repo, job);
        let prefixes: BTreeSet<&str> = self
            .roles
            .iter()
            .filter_map(|(n, _, _)| n.split_once('-').map(|(p, _)| p))
            .collect();
        match (prefixes.len(), prefixes.iter().next()) {
            (1, Some(p)) if self.roles.len() >= 2 && *p != "github" => {
                let tail = default.strip_prefix("github-").unwrap_or(&default);
                format!("{p}-{tail}").chars().take(64).collect()
            }
            _ => default,
        }
    }
}

/// The literal `sub` values of a trust policy's conditions.
fn trust_subs(trust: &crate::model::PolicyDoc) -> Vec<String> {
    let mut out = Vec::new();
    for st in &trust.statements {
        for c in &st.conditions {
            if c.key.value.to_ascii_lowercase().ends_with(":sub") {
                out.extend(c.values.iter().filter_map(|v| v.value.known()));
            }
        }
    }
    out
}

fn trust_mentions_issuer(trust: &crate::model::PolicyDoc, issuer: &str) -> bool {
    trust
        .statements
        .iter()
        .flat_map(|s| &s.conditions)
        .any(|c| c.key.value.contains(issuer))
}

struct JobCtx<'c, 'a> {
    scan: &'a Scan,
    an: &'c RoleAnalysis<'a>,
    providers: &'c crate::analysis::subjects::Providers<'a>,
    wide: &'c [BTreeSet<&'static str>],
    identity: Option<&'c str>,
    existing: &'c ExistingRoles,
}

fn job_audit(
    cx: &JobCtx,
    a: &Assumption,
    judged: Option<&Judgement>,
) -> (JobAudit, migrate::Edits) {
    let (scan, an) = (cx.scan, cx.an);
    let mut edits = Vec::new();
    let src = scan.file(a.file);
    let line = src.pos(a.step.span.start).line;
    let mut role = RoleAudit {
        reference: a.role_text.clone(),
        name: None,
        account: a
            .role_text
            .as_deref()
            .and_then(|t| account_of(t).or_else(|| mapped_account(scan, t))),
        defined_in: None,
        note: None,
    };
    let mut subjects_out = Vec::new();
    let verdict;
    let mut too_wide = false;
    let mut migration = None;
    let repo_val = || {
        cx.identity
            .map(|r| Val::lit(r.to_string()))
            .unwrap_or_else(|| Val::lit("OWNER/REPO"))
    };
    match &a.access {
        Access::StaticKeys(_) => {
            verdict = "static-keys";
            let repo = repo_val();
            let subs: Vec<Val> = a.subjects.iter().map(|s| s.sub(&repo)).collect();
            subjects_out = subs.iter().map(|s| s.pattern()).collect();
            let reuse = cx.existing.fitting(cx.identity);
            let name = match reuse {
                Some((n, _, _)) => n.clone(),
                None => cx.existing.new_name(cx.identity, &a.job.id.value),
            };
            let (mut m, e) = migrate::migrate(scan, name, a, &subs);
            if let Some((_, file, _)) = reuse {
                m.reuse = Some(Reuse {
                    defined_in: file.clone(),
                    reason: "its trust already admits jobs of this repository: add this job's \
                             subjects to its `sub` condition instead of creating a role"
                        .into(),
                });
            }
            migration = Some(m);
            edits = e;
        }
        Access::Oidc => {
            if let RoleTarget::Name(n) = &a.target {
                role.name = Some(n.clone());
            }
            let found = match &a.target {
                RoleTarget::Name(n) => an.roles_named(n),
                RoleTarget::Unresolved(why) => {
                    role.note = Some(why.clone());
                    vec![]
                }
            };
            match (found.as_slice(), &a.target) {
                (_, RoleTarget::Unresolved(_)) => verdict = "role-unresolved",
                ([], _) => {
                    role.note = Some("no role of this name is defined in the scan".into());
                    verdict = "role-not-in-scan";
                }
                ([r], _) => {
                    role.defined_in = Some(scan.file(r.file).rel.clone());
                    match judged {
                        None => {
                            role.note = Some("its trust policy is not known statically".into());
                            verdict = "unknown";
                        }
                        Some(j) => {
                            too_wide = !cx.wide[j.role].is_empty();
                            subjects_out = a
                                .subjects
                                .iter()
                                .map(|s| s.sub(&j.repo).pattern())
                                .collect();
                            if j.audience_rejection.is_some()
                                || a.audience.as_deref().is_some_and(|x| {
                                    subjects::provider_rejection(cx.providers, j.trust, x).is_some()
                                })
                            {
                                verdict = "audience-rejected";
                            } else {
                                let r = &j.admits;
                                verdict = if r.is_empty() {
                                    "unknown"
                                } else if r.iter().all(|t| *t == Tri::True) {
                                    "admitted"
                                } else if r.iter().all(|t| *t == Tri::False) {
                                    "rejected"
                                } else if r.contains(&Tri::True) {
                                    "partly-admitted"
                                } else {
                                    "unknown"
                                };
                            }
                        }
                    }
                }
                (many, _) => {
                    role.defined_in = Some(
                        many.iter()
                            .map(|r| scan.file(r.file).rel.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                    role.note = Some("several roles of this name are defined in the scan".into());
                    verdict = "unknown";
                }
            }
            if subjects_out.is_empty() {
                let repo = an
                    .repo
                    .clone()
                    .map(Val::lit)
                    .unwrap_or_else(|| Val::lit("OWNER/REPO"));
                subjects_out = a.subjects.iter().map(|s| s.sub(&repo).pattern()).collect();
            }
        }
    }
    subjects_out.dedup();
    let edge = match verdict {
        "admitted" | "partly-admitted" if too_wide => "too-wide",
        "admitted" | "partly-admitted" => "admitted",
        "rejected" | "audience-rejected" => "rejected",
        _ => "unknown",
    };
    let job = JobAudit {
        workflow: src.rel.clone(),
        job: a.job.id.value.clone(),
        line,
        access: match a.access {
            Access::Oidc => "oidc",
            Access::StaticKeys(_) => "static-keys",
        }
        .into(),
        role,
        audience: a.audience.clone(),
        subjects: subjects_out,
        verdict: verdict.into(),
        edge: edge.into(),
        migration,
        via: None,
    };
    (job, edits)
}

/// Combine JSON reports (`--format json` of earlier runs) into one, with a fresh summary.
pub fn merge(files: &[PathBuf]) -> Result<Audit, String> {
    let mut repos = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let a: Audit = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not an audit report: {e}", f.display()))?;
        if a.version != REPORT_VERSION {
            return Err(format!(
                "{}: audit report version {} (this oidc-lint reads {REPORT_VERSION})",
                f.display(),
                a.version
            ));
        }
        repos.extend(a.repositories);
    }
    Ok(finish(repos))
}

/// The report in the chosen format.
pub fn render(a: &Audit, format: AuditFormat) -> String {
    match format {
        AuditFormat::Json => crate::report::sanitize::to_json_pretty(a) + "\n",
        AuditFormat::Markdown => render::markdown(a),
        AuditFormat::Table => render::table(a),
        AuditFormat::Csv => render::csv(a),
        AuditFormat::Html => html::page(a),
    }
}

/// Run `oidc-lint audit`: the report text, or `None` when it was written to `--output`.
pub fn run(args: AuditArgs) -> Result<Option<String>, String> {
    let a = if args.merge {
        merge(&args.paths)?
    } else {
        audit(&args)?
    };
    let text = render(&a, args.format);
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map(|_| None)
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => Ok(Some(text)),
    }
}
