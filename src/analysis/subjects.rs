//! What each job presents and which role it assumes: the OIDC subjects (`sub`) and audience
//! (`aud`) of every job reaching AWS, and each job judged against its role's trust policy.
//!
//! Subject synthesis follows GitHub's documented defaults (first match wins): a job with
//! `environment:` presents `repo:O/R:environment:NAME` whatever the event; a `pull_request`
//! run presents `repo:O/R:pull_request`; everything else presents `repo:O/R:ref:REF`, where
//! REF is the branch or tag the event runs on (the default branch for `schedule`,
//! `issue_comment`, `workflow_run`, …). What the scan cannot pin (the branch a
//! `workflow_dispatch` runs on, a `release/**` filter, an unresolved expression) is a hole in
//! the value, which the evaluator never guesses.
//!
//! Repository identity ([`super::repo`]): when it is unknown, rules treat the repository a
//! trust policy names (when it names exactly one) as "this repository".
//!
//! Role resolution: `role-to-assume` (or the `ROLE_TO_ASSUME` env) as a literal ARN gives the
//! role name (the last path segment after `:role/`); `${{ secrets.X }}` / `${{ vars.X }}` go
//! through the secrets and variables IaC in the scan sets to a role
//! ([`crate::analysis::access::role_mappings`]), then `Settings.role_mappings`; an
//! `aws sts assume-role-with-web-identity --role-arn …` script with the job's own token
//! names its role by `--role-arn`; `${{ env.X }}` through the step, job and workflow `env`;
//! `${{ matrix.X }}` and `${{ inputs.X }}` through the job's matrix and its local callers. The
//! name is matched to roles in the scan: IaC roles by their `name`/`RoleName`, and bare IAM
//! JSON trust policy files by their file stem, with a trailing `-trust-policy`, `-trust`,
//! `_trust_policy`, `_trust`, `.trust` or `-assume-role-policy` removed
//! (`iam/deploy-trust.json` is role `deploy`). Permission policies for such a role are the
//! JSON files beside it whose stem, with `-policy`, `-permissions`, `-permission-policy`,
//! `-permissions-policy` (or the `_` forms) removed, is the same name.

pub use crate::analysis::access::Access;
use crate::analysis::access::{classify, step_value};
use crate::analysis::eval::{self, Hole, Presence, Request, Tri, Val};
pub use crate::analysis::repo::{default_branch, origin_url, repo_from_url, repo_identity};
pub use crate::analysis::roles::{RoleDef, WriteAccess, roles, trust_issuer, trust_repo};
use crate::model::Scan;
use crate::model::{Job, KeyValue, PolicyDoc, Step, Workflow, WorkflowKind};
use crate::source::tree::Node;
use crate::source::{FileId, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// Work budget of [`RoleAnalysis::judge`], in trust-policy statements evaluated against a
/// request, audience checks included (262,144: a fraction of a second in a release build; a
/// real repository needs a few dozen, the whole shared corpus of 1,866 files 17).
pub const JUDGE_BUDGET: u64 = 1 << 18;

/// The note the command line prints (on stderr) when [`RoleAnalysis::judge`] left `n`
/// requests unjudged ([`RoleAnalysis::over_budget`]).
pub fn over_budget_note(n: u64) -> String {
    format!(
        "note: judging jobs against their roles' trust policies exceeded the work budget of {JUDGE_BUDGET} statement evaluations; {n} remaining requests were taken as unknown, so findings that depend on them may be missing"
    )
}

// ---------------------------------------------------------------------------------------------
// Subjects

/// One subject a job can present (the part after `repo:OWNER/REPO:`), with the claims that
/// come with it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    /// `ref:refs/heads/main`, `pull_request`, `environment:prod`.
    pub context: Val,
    pub environment: Option<Val>,
    /// The ref the run is on (`None`: not known).
    pub git_ref: Option<Val>,
    /// The event (or `workflow_call` chain) it comes from, for messages.
    pub event: String,
    /// Presented by a caller in another repository: the whole subject is unknown.
    pub foreign: bool,
}

impl Subject {
    /// The full `sub` for a repository value.
    pub fn sub(&self, repo: &Val) -> Val {
        if self.foreign {
            return Val::hole(Hole::Any);
        }
        Val::concat(&[&Val::lit("repo:"), repo, &Val::lit(":"), &self.context])
    }
}

/// The subject of a run on the ref `r` (`ref:…`).
pub fn ref_subject(event: &str, r: Val) -> Subject {
    Subject {
        context: Val::concat(&[&Val::lit("ref:"), &r]),
        environment: None,
        git_ref: Some(r),
        event: event.to_string(),
        foreign: false,
    }
}

/// The subject of a pull request run (`pull_request`, on `refs/pull/N/merge`).
pub fn pr_subject(event: &str) -> Subject {
    let mut r = Val::lit("refs/pull/");
    r.push_hole(Hole::Digits);
    r.push_lit("/merge");
    Subject {
        context: Val::lit("pull_request"),
        environment: None,
        git_ref: Some(r),
        event: event.to_string(),
        foreign: false,
    }
}

/// A GitHub branch/tag filter pattern as a value: literal up to the first glob character,
/// then a hole (a superset of what the filter admits).
fn filter_val(prefix: &str, pattern: &str) -> Option<Val> {
    if pattern.starts_with('!') {
        return None;
    }
    let mut v = Val::lit(prefix);
    match pattern.find(['*', '?', '+', '[', ']']) {
        Some(i) => {
            v.push_lit(&pattern[..i]);
            v.push_hole(Hole::NoColon);
        }
        None => v.push_lit(pattern),
    }
    Some(v)
}

fn refs_of(prefix: &str, filters: &Option<Vec<crate::model::Spanned<String>>>) -> Vec<Val> {
    let any = || {
        let mut v = Val::lit(prefix);
        v.push_hole(Hole::NoColon);
        v
    };
    match filters {
        Some(list) => {
            let vals: Vec<Val> = list
                .iter()
                .filter_map(|f| filter_val(prefix, f.value.trim()))
                .collect();
            if vals.is_empty() { vec![any()] } else { vals }
        }
        None => vec![any()],
    }
}

fn any_ref(prefix: &str) -> Val {
    let mut v = Val::lit(prefix);
    v.push_hole(Hole::NoColon);
    v
}

/// Events anyone who can open an issue or a pull request can start, running with the
/// repository's own privileges.
pub const OUTSIDER_EVENTS: &[&str] = &[
    "pull_request_target",
    "issue_comment",
    "issues",
    "discussion",
    "discussion_comment",
    "workflow_run",
    "fork",
    "watch",
];

/// Subjects presented by runs of a workflow's (non-`workflow_call`) triggers.
fn trigger_subjects(w: &Workflow, default: Option<&str>) -> Vec<Subject> {
    let default_ref = || match default {
        Some(b) => Val::lit(format!("refs/heads/{b}")),
        None => any_ref("refs/heads/"),
    };
    let mut out = Vec::new();
    for t in &w.triggers {
        let e = t.event.as_str();
        match e {
            "push" => {
                let (b, tg) = (&t.branches, &t.tags);
                if b.is_some() || tg.is_none() {
                    for r in refs_of("refs/heads/", b) {
                        out.push(ref_subject(e, r));
                    }
                }
                if tg.is_some() || b.is_none() {
                    for r in refs_of("refs/tags/", tg) {
                        out.push(ref_subject(e, r));
                    }
                }
            }
            "pull_request" | "pull_request_review" | "pull_request_review_comment" => {
                out.push(pr_subject(e))
            }
            "pull_request_target" => {
                // GITHUB_REF is the base branch; which form the token's `sub` takes is not
                // documented: both.
                out.push(pr_subject(e));
                for r in refs_of("refs/heads/", &t.branches) {
                    out.push(ref_subject(e, r));
                }
            }
            "workflow_dispatch" | "create" | "delete" => {
                out.push(ref_subject(e, any_ref("refs/heads/")));
                out.push(ref_subject(e, any_ref("refs/tags/")));
            }
            "release" => out.push(ref_subject(e, any_ref("refs/tags/"))),
            "merge_group" => out.push(ref_subject(e, any_ref("refs/heads/gh-readonly-queue/"))),
            "workflow_call" => {}
            "schedule"
            | "workflow_run"
            | "issue_comment"
            | "issues"
            | "discussion"
            | "discussion_comment"
            | "repository_dispatch"
            | "check_run"
            | "check_suite"
            | "fork"
            | "watch"
            | "gollum"
            | "label"
            | "milestone"
            | "page_build"
            | "project"
            | "project_card"
            | "project_column"
            | "public"
            | "status"
            | "branch_protection_rule"
            | "registry_package" => out.push(ref_subject(e, default_ref())),
            _ => out.push(ref_subject(e, any_ref("refs/"))),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// What expressions can be resolved against.
#[derive(Default, Clone)]
struct Scope<'a> {
    matrix: Option<&'a BTreeMap<String, String>>,
    inputs: Option<&'a BTreeMap<String, String>>,
    env: Vec<&'a [KeyValue]>,
    mappings: Option<&'a BTreeMap<String, String>>,
}

/// `${{ … }}` substituted where the scope knows the value; anything else is a hole.
fn subst(text: &str, scope: &Scope, depth: u8) -> Val {
    let mut out = Val::default();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        out.push_lit(&rest[..i]);
        let Some(j) = rest[i..].find("}}") else {
            out.push_hole(Hole::Any);
            return out;
        };
        let inner = rest[i + 3..i + j].trim();
        rest = &rest[i + j + 2..];
        let resolved = if let Some(k) = inner.strip_prefix("matrix.") {
            scope.matrix.and_then(|m| m.get(k)).cloned()
        } else if let Some(k) = inner.strip_prefix("inputs.") {
            scope.inputs.and_then(|m| m.get(k)).cloned()
        } else if let Some(k) = inner
            .strip_prefix("secrets.")
            .or_else(|| inner.strip_prefix("vars."))
        {
            scope.mappings.and_then(|m| m.get(k)).cloned()
        } else if let Some(k) = inner.strip_prefix("env.") {
            scope
                .env
                .iter()
                .find_map(|kvs| kvs.iter().rev().find(|kv| kv.key == k))
                .map(|kv| kv.value.value.clone())
        } else {
            None
        };
        match resolved {
            Some(v) if depth < 4 => out.push(&subst(&v, scope, depth + 1)),
            _ => out.push_hole(Hole::Any),
        }
    }
    out.push_lit(rest);
    out
}

/// The expanded combinations of a literal `strategy.matrix` (`None`: not literal).
fn matrix_combos(m: &Node) -> Option<Vec<BTreeMap<String, String>>> {
    if !m.is_map() {
        return None;
    }
    let scalar = |n: &Node| n.scalar_text();
    let mut combos: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    for e in m.entries() {
        if e.key == "include" || e.key == "exclude" {
            continue;
        }
        let vals: Vec<String> = match &e.value.value {
            crate::source::tree::Value::Seq(items) => items.iter().filter_map(scalar).collect(),
            _ => return None,
        };
        let mut next = Vec::new();
        for c in &combos {
            for v in &vals {
                let mut c = c.clone();
                c.insert(e.key.clone(), v.clone());
                next.push(c);
            }
        }
        combos = next;
        if combos.len() > 256 {
            return None;
        }
    }
    let base_keys: BTreeSet<String> = combos
        .first()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(ex) = m.get("exclude") {
        for x in ex.items() {
            let pairs: Vec<(String, String)> = x
                .entries()
                .iter()
                .filter_map(|e| Some((e.key.clone(), scalar(&e.value)?)))
                .collect();
            combos.retain(|c| !pairs.iter().all(|(k, v)| c.get(k) == Some(v)));
        }
    }
    if combos.len() == 1 && combos[0].is_empty() {
        combos.clear();
    }
    if let Some(inc) = m.get("include") {
        for x in inc.items() {
            let pairs: Vec<(String, String)> = x
                .entries()
                .iter()
                .filter_map(|e| Some((e.key.clone(), scalar(&e.value)?)))
                .collect();
            // extends every combination whose original values it does not overwrite;
            // otherwise it is a combination of its own
            let mut extended = false;
            for c in combos.iter_mut() {
                let clashes = pairs
                    .iter()
                    .any(|(k, v)| base_keys.contains(k) && c.get(k).is_some_and(|cv| cv != v));
                if !clashes && !base_keys.is_empty() {
                    for (k, v) in &pairs {
                        c.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    extended = true;
                }
            }
            if !extended {
                combos.push(pairs.into_iter().collect());
            }
        }
    }
    Some(combos)
}

// ---------------------------------------------------------------------------------------------
// Assumptions

/// What `role-to-assume` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleTarget {
    Name(String),
    Unresolved(String),
}

/// One job (matrix instance merged) reaching AWS.
#[derive(Clone, Debug)]
pub struct Assumption<'a> {
    pub file: FileId,
    pub workflow: &'a Workflow,
    pub job: &'a Job,
    pub step: &'a Step,
    pub access: Access,
    /// `role-to-assume` as written, and where.
    pub role_text: Option<String>,
    pub role_span: Span,
    pub target: RoleTarget,
    /// `None`: the audience is an expression the scan cannot resolve.
    pub audience: Option<String>,
    pub audience_span: Option<Span>,
    pub environment_span: Option<Span>,
    pub subjects: Vec<Subject>,
    /// Subjects the triggers present that the job's or step's `if:` rules out (kept apart: an
    /// entry only they match is not "unused", the condition may be a guard, not the design).
    pub ruled_out: Vec<Subject>,
    /// The local composite action (`uses: ./…`, followed through nested ones) whose
    /// configure-aws-credentials step this is; `step` is then the job's step running it, and
    /// the role and audience come from that action's inputs.
    pub through: Option<&'a Workflow>,
}

/// The role name in an ARN-like value (`arn:aws:iam::1:role/path/NAME`, or a bare name).
fn role_name(v: &Val) -> Option<String> {
    let p = v.pattern();
    let tail = match p.find(":role/") {
        Some(i) => &p[i + ":role/".len()..],
        None if !p.starts_with("arn:") => p.as_str(),
        None => return None,
    };
    let name = tail.rsplit('/').next().unwrap_or("");
    // a hole in the name part leaves it unknown
    let lit_tail = match v.parts.last() {
        Some(eval::VPart::Lit(l)) => l.rsplit('/').next().unwrap_or(""),
        _ => "",
    };
    (!name.is_empty() && name == lit_tail && !name.contains('*')).then(|| name.to_string())
}

/// The jobs of the scan calling each local reusable workflow, indexed once (one pass over
/// every job), so looking up a workflow's callers does not walk the scan again.
#[derive(Default)]
pub struct Callers<'a> {
    by_callee: std::collections::HashMap<FileId, Vec<(&'a Workflow, &'a Job)>>,
}

impl<'a> Callers<'a> {
    pub fn index(scan: &'a Scan) -> Self {
        let by_rel: std::collections::HashMap<&str, FileId> = scan
            .files()
            .filter(|(id, _)| !scan.models[*id].workflows.is_empty())
            .map(|(id, f)| (f.rel.as_str(), id))
            .collect();
        let mut by_callee: std::collections::HashMap<FileId, Vec<(&Workflow, &Job)>> =
            Default::default();
        for (id, f) in scan.files() {
            for w in &scan.models[id].workflows {
                for j in &w.jobs {
                    if let Some(callee) = j.local_callee(&f.rel)
                        && let Some(&cid) = by_rel.get(callee.as_str())
                    {
                        by_callee.entry(cid).or_default().push((w, j));
                    }
                }
            }
        }
        Callers { by_callee }
    }
    /// The (workflow, job) pairs calling the reusable workflow in `file`, in scan order.
    pub fn of(&self, file: FileId) -> &[(&'a Workflow, &'a Job)] {
        self.by_callee.get(&file).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Callers of a reusable workflow inside the scan: (caller workflow, caller job node `with`).
fn local_callers<'a>(
    callers: &Callers<'a>,
    file: FileId,
) -> Vec<(&'a Workflow, BTreeMap<String, String>)> {
    callers
        .of(file)
        .iter()
        .map(|(w, j)| {
            let with = j
                .with
                .iter()
                .map(|kv| (kv.key.clone(), kv.value.value.clone()))
                .collect();
            (*w, with)
        })
        .collect()
}

/// Subjects from one source of runs, with the `inputs` its caller passes.
type TriggerContext = (Vec<Subject>, Option<BTreeMap<String, String>>);

/// Trigger contexts of a workflow: its own triggers, and for `workflow_call` the contexts of
/// its local callers (with the inputs they pass), or a foreign caller when there is none.
fn contexts<'a>(
    scan: &'a Scan,
    callers_index: &Callers<'a>,
    w: &'a Workflow,
    default: Option<&str>,
    depth: u8,
) -> Vec<TriggerContext> {
    let mut out = Vec::new();
    let own = trigger_subjects(w, default);
    if !own.is_empty() {
        out.push((own, None));
    }
    if w.has_trigger("workflow_call") {
        let callers = if depth < 4 {
            local_callers(callers_index, w.file)
        } else {
            vec![]
        };
        if callers.is_empty() {
            out.push((
                vec![Subject {
                    context: Val::hole(Hole::Any),
                    environment: None,
                    git_ref: None,
                    event: "workflow_call".into(),
                    foreign: true,
                }],
                None,
            ));
        }
        for (cw, with) in callers {
            for (subjects, _) in contexts(scan, callers_index, cw, default, depth + 1) {
                let subjects = subjects
                    .into_iter()
                    .map(|mut s| {
                        s.event = format!(
                            "{} (workflow_call from {})",
                            s.event,
                            scan.file(cw.file).rel
                        );
                        s
                    })
                    .collect();
                out.push((subjects, Some(with.clone())));
            }
        }
    }
    out
}

/// Encode `:` in an environment name as GitHub does in `sub`.
fn encode_env(v: &Val) -> Val {
    let mut out = Val::default();
    for p in &v.parts {
        match p {
            eval::VPart::Lit(s) => out.push_lit(&s.replace(':', "%3A")),
            eval::VPart::Hole(h) => out.push_hole(*h),
        }
    }
    out
}

/// An OIDC assumption judged against the trust policy of the one role it names.
pub struct Judgement<'a> {
    /// Index into [`RoleAnalysis::roles`].
    pub role: usize,
    pub trust: &'a PolicyDoc,
    /// The condition rejecting the requested audience whatever the subject, if any.
    pub audience_rejection: Option<&'a crate::model::Condition>,
    /// The repository value the subjects were judged with ([`RoleAnalysis::repo_for`]).
    pub repo: Val,
    /// [`admits`] for each of the assumption's subjects, in order.
    pub admits: Vec<Tri>,
}

impl Judgement<'_> {
    /// Every subject the job presents is rejected (and there is one).
    pub fn rejects_all(&self) -> bool {
        !self.admits.is_empty() && self.admits.iter().all(|t| *t == Tri::False)
    }
}

/// At most this many definitions of one role name are judged for a job; a name defined more
/// often is left unjudged (a generated name, not one role).
const MAX_DEFINITIONS: usize = 8;

/// One judgement for a job whose role name has several definitions: a subject is rejected only
/// when every definition rejects it ([`Tri::any`] over the definitions), and the audience only
/// when every definition rejects it. The definition shown is the first that does not reject
/// every subject, else the first.
fn combine(mut judged: Vec<Judgement<'_>>) -> Option<Judgement<'_>> {
    if judged.len() <= 1 {
        return judged.pop();
    }
    let n = judged[0].admits.len();
    let admits: Vec<Tri> = (0..n)
        .map(|i| {
            Tri::any(
                judged
                    .iter()
                    .map(|j| j.admits.get(i).copied().unwrap_or(Tri::Unknown)),
            )
        })
        .collect();
    let every_audience_rejected = judged.iter().all(|j| j.audience_rejection.is_some());
    let shown = judged.iter().position(|j| !j.rejects_all()).unwrap_or(0);
    let mut j = judged.swap_remove(shown);
    j.admits = admits;
    if !every_audience_rejected {
        j.audience_rejection = None;
    }
    Some(j)
}

/// The verdicts of an earlier [`RoleAnalysis::judge_with`] (owned, so a language server keeps
/// them from one edit to the next): a request of an unchanged workflow against an unchanged
/// trust policy is not evaluated again. Keyed by everything a verdict depends on — the role
/// (its index, with the roles the verdicts were judged with), the repository value, the
/// subject with its claims, the audience, the workflow path — under one subject form.
#[derive(Default)]
pub struct JudgeMemo {
    roles: Vec<RoleStamp>,
    form: SubjectForm,
    /// [`memo_hash`] of a request → the requests with that hash and their verdicts.
    verdicts: HashMap<u64, Vec<(MemoKey, Tri)>>,
    /// Role → each audience judged against its trust policy, and the condition rejecting it
    /// whatever the subject (statement and condition index), if any.
    audiences: HashMap<usize, Vec<(String, Option<ConditionAt>)>>,
}

/// A condition's place in its policy: statement index, condition index.
type ConditionAt = (usize, usize);

impl JudgeMemo {
    /// How many verdicts it holds.
    pub fn len(&self) -> usize {
        self.verdicts.values().map(Vec::len).sum::<usize>()
            + self.audiences.values().map(Vec::len).sum::<usize>()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A role as the memo's verdicts were judged with it: where it and its trust policy are, and
/// its name. (The policy's contents are the caller's to vouch for: see
/// [`RoleAnalysis::judge_with`].)
#[derive(PartialEq)]
struct RoleStamp {
    file: FileId,
    span: Span,
    name: String,
    trust: Option<(FileId, Span)>,
}

impl RoleStamp {
    fn of(r: &RoleDef<'_>) -> RoleStamp {
        RoleStamp {
            file: r.file,
            span: r.span,
            name: r.name.clone(),
            trust: r.trust.map(|t| (t.file, t.span)),
        }
    }
    fn is(&self, r: &RoleDef<'_>) -> bool {
        self.file == r.file
            && self.span == r.span
            && self.name == r.name
            && self.trust == r.trust.map(|t| (t.file, t.span))
    }
}

/// One judged request, owned ([`JudgeMemo`]).
struct MemoKey {
    role: usize,
    repo: Val,
    subject: Subject,
    audience: Option<String>,
    workflow: String,
}

impl MemoKey {
    fn is(&self, role: usize, repo: &Val, s: &Subject, aud: Option<&str>, wf: &str) -> bool {
        self.role == role
            && self.audience.as_deref() == aud
            && self.workflow == wf
            && self.repo == *repo
            && self.subject == *s
    }
}

/// The hash of a request, from borrowed parts (a look-up copies nothing).
fn memo_hash(role: usize, repo: &Val, s: &Subject, aud: Option<&str>, wf: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (role, repo, s, aud, wf).hash(&mut h);
    h.finish()
}

/// The whole analysis of a scan.
pub struct RoleAnalysis<'a> {
    /// `OWNER/REPO`, when known.
    pub repo: Option<String>,
    /// Whether `repo`'s letter case is GitHub's (see [`super::repo::repo_identity_exact`]).
    pub repo_exact: bool,
    /// The `sub` form the repository's tokens carry.
    pub form: SubjectForm,
    pub roles: Vec<RoleDef<'a>>,
    pub assumptions: Vec<Assumption<'a>>,
    /// Role name → indices into `roles`.
    by_name: std::collections::HashMap<String, Vec<usize>>,
    /// Workflow file → `OWNER/REPO` of the checkout holding it, when `repo` is unknown (a
    /// directory of checkouts scanned together).
    file_repo: std::collections::HashMap<FileId, String>,
    /// How many requests [`Self::judge`] left unknown because its budget was spent.
    skipped: AtomicU64,
}

pub fn analyze(scan: &Scan) -> RoleAnalysis<'_> {
    analyze_with(scan, &Callers::index(scan))
}

/// [`analyze`] with the callers index already built.
pub fn analyze_with<'a>(scan: &'a Scan, callers: &Callers<'a>) -> RoleAnalysis<'a> {
    let (repo, repo_exact) = match super::repo::repo_identity_exact(scan) {
        Some((r, e)) => (Some(r), e),
        None => (None, false),
    };
    let default = default_branch(scan);
    let actions = LocalActions::index(scan);
    // What secrets and variables hold (a pass over every file's CI values): once per
    // analysis, for the first step reaching AWS, not once per step.
    let mut mappings = None;
    let mut assumptions = Vec::new();
    for m in &scan.models {
        for w in &m.workflows {
            if w.kind != WorkflowKind::Workflow {
                continue;
            }
            let rel = scan.file(w.file).rel.as_str();
            // The trigger contexts only for workflows that reach AWS at all.
            let mut ctxs = None;
            for job in &w.jobs {
                let jnode = job.matrix.as_ref();
                let mut found: Vec<Reach<'_>> = classify(w, job)
                    .into_iter()
                    .map(|(step, access)| (step, access, None))
                    .collect();
                for step in &job.steps {
                    let at = step.uses.as_ref().map(|u| u.span).unwrap_or(step.span);
                    for (action, inner, access) in actions.reached(rel, step) {
                        let access = match access {
                            Access::StaticKeys(_) => Access::StaticKeys(at),
                            a => a,
                        };
                        found.push((step, access, Some((action, inner))));
                    }
                }
                found.sort_by_key(|(step, _, _)| step.span.start);
                for (step, access, inner) in found {
                    let ctxs = ctxs
                        .get_or_insert_with(|| contexts(scan, callers, w, default.as_deref(), 0));
                    let mappings = mappings
                        .get_or_insert_with(|| crate::analysis::access::role_mappings(scan));
                    assumptions.extend(assumption(
                        w, job, step, access, inner, jnode, ctxs, mappings,
                    ));
                }
            }
        }
    }
    let roles = roles(scan);
    let form = SubjectForm::inferred(scan, &super::trust::ci_trusts(scan), repo.as_deref());
    let mut by_name: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (i, r) in roles.iter().enumerate() {
        by_name.entry(r.name.clone()).or_default().push(i);
    }
    let mut file_repo = std::collections::HashMap::new();
    if repo.is_none() {
        let mut cache = Default::default();
        for a in &assumptions {
            if let std::collections::hash_map::Entry::Vacant(e) = file_repo.entry(a.file) {
                let path = &scan.file(a.file).path;
                if let Some(r) =
                    crate::analysis::repo::checkout_identity(&scan.root, path, &mut cache)
                {
                    e.insert(r);
                }
            }
        }
    }
    RoleAnalysis {
        repo,
        repo_exact,
        form,
        roles,
        assumptions,
        by_name,
        file_repo,
        skipped: AtomicU64::new(0),
    }
}

/// A step of a job reaching AWS, and the local action and its step it does so through.
type Reach<'a> = (&'a Step, Access, Option<(&'a Workflow, &'a Step)>);

/// How deep `uses: ./…` is followed from a job's step into local composite actions that run
/// other local actions.
const MAX_ACTION_DEPTH: usize = 8;

/// The scan's local composite actions (`action.yml`) by path.
pub struct LocalActions<'a> {
    by_path: std::collections::HashMap<&'a str, &'a Workflow>,
}

impl<'a> LocalActions<'a> {
    pub fn index(scan: &'a Scan) -> Self {
        let mut by_path = std::collections::HashMap::new();
        for m in &scan.models {
            for w in &m.workflows {
                if w.kind == WorkflowKind::Action {
                    by_path.insert(scan.file(w.file).rel.as_str(), w);
                }
            }
        }
        LocalActions { by_path }
    }
    /// The local action a `uses: ./DIR` step of the file `caller_rel` runs: `DIR/action.yml`
    /// (or `.yaml`) under the root of the repository holding `caller_rel`. A path with an
    /// empty, `.` or `..` component resolves to nothing: nothing outside the tree is followed.
    pub fn resolve(&self, caller_rel: &str, uses: &str) -> Option<&'a Workflow> {
        let local = uses.trim().strip_prefix("./")?.trim_end_matches('/');
        if local
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return None;
        }
        let root = match caller_rel.rfind(".github/") {
            Some(i) => &caller_rel[..i],
            None => "",
        };
        ["action.yml", "action.yaml"].iter().find_map(|f| {
            self.by_path
                .get(format!("{root}{local}/{f}").as_str())
                .copied()
        })
    }
    /// The steps reaching AWS ([`classify`]) inside the local actions `step` runs, directly or
    /// through nested local actions (at most [`MAX_ACTION_DEPTH`] deep, each action once per
    /// chain), with the outermost action.
    pub fn reached(&self, caller_rel: &str, step: &Step) -> Vec<(&'a Workflow, &'a Step, Access)> {
        let mut out = Vec::new();
        let Some(outer) = step
            .uses
            .as_ref()
            .and_then(|u| self.resolve(caller_rel, &u.value))
        else {
            return out;
        };
        let mut chain = vec![outer.file];
        self.walk(outer, outer, &mut chain, &mut out);
        out
    }
    fn walk(
        &self,
        outer: &'a Workflow,
        action: &'a Workflow,
        chain: &mut Vec<FileId>,
        out: &mut Vec<(&'a Workflow, &'a Step, Access)>,
    ) {
        let rel = match self.by_path.iter().find(|(_, w)| w.file == action.file) {
            Some((rel, _)) => *rel,
            None => return,
        };
        for job in &action.jobs {
            for (s, access) in classify(action, job) {
                out.push((outer, s, access));
            }
            if chain.len() >= MAX_ACTION_DEPTH {
                continue;
            }
            for s in &job.steps {
                let Some(next) = s.uses.as_ref().and_then(|u| self.resolve(rel, &u.value)) else {
                    continue;
                };
                if chain.contains(&next.file) {
                    continue;
                }
                chain.push(next.file);
                self.walk(outer, next, chain, out);
                chain.pop();
            }
        }
    }
}

/// The input a whole `${{ inputs.NAME }}` value of a local action's step reads: `NAME`, as
/// written.
pub fn input_reference(text: &str) -> Option<&str> {
    text.trim()
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .map(str::trim)
        .and_then(|t| t.strip_prefix("inputs."))
}

/// The value of `key` of `inner` (a step inside a local action) as the calling step `caller`
/// gives it: `${{ inputs.NAME }}` is the caller's `with: NAME` (absent: `None`), any other
/// value is taken as written, located at the caller's `uses`.
fn through_input(inner: &Step, caller: &Step, key: &str) -> Option<(String, Span)> {
    let v = inner.input(key)?;
    let text = v.value.value.trim();
    let input = input_reference(text).filter(|n| {
        n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    match input {
        Some(name) => caller
            .input(name)
            .map(|kv| (kv.value.value.clone(), kv.value.span)),
        None => Some((
            text.to_string(),
            caller.uses.as_ref().map(|u| u.span).unwrap_or(caller.span),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
fn assumption<'a>(
    w: &'a Workflow,
    job: &'a Job,
    step: &'a Step,
    access: Access,
    inner: Option<(&'a Workflow, &'a Step)>,
    jnode: Option<&Node>,
    ctxs: &[TriggerContext],
    mappings: &BTreeMap<String, String>,
) -> Vec<Assumption<'a>> {
    let web_identity = !inner
        .map_or(step, |(_, i)| i)
        .is_configure_aws_credentials();
    let role = match inner {
        None if web_identity => crate::analysis::access::web_identity_role(step, job, w),
        None => step_value(step, job, w, "role-to-assume", "ROLE_TO_ASSUME"),
        Some((iw, i)) if web_identity => crate::analysis::access::web_identity_role(i, job, iw),
        Some((_, i)) => through_input(i, step, "role-to-assume"),
    };
    let combos = jnode.and_then(matrix_combos);
    let combos: Vec<Option<BTreeMap<String, String>>> = match combos {
        Some(c) if !c.is_empty() => c.into_iter().map(Some).collect(),
        _ => vec![None],
    };
    type Group = (RoleTarget, Option<Option<String>>, BTreeSet<Subject>);
    let mut groups: Vec<Group> = Vec::new();
    let envs: Vec<&[KeyValue]> = vec![&step.env, &job.env, &w.env];
    // The job's and the step's `if:` on the event (`if: github.event_name == 'pull_request'`):
    // the triggers they rule out present nothing (a condition ruling out every trigger is
    // not believed: no narrowing then).
    let conds: Vec<crate::analysis::expr::Cond> = [&job.condition, &step.condition]
        .into_iter()
        .flatten()
        .map(|c| crate::analysis::expr::Cond::new(Some(c.value.as_str())))
        .collect();
    let narrowed: Vec<TriggerContext>;
    let mut ruled_out: Vec<Subject> = vec![];
    let ctxs: &[TriggerContext] = if conds.is_empty() {
        ctxs
    } else {
        let runs = |s: &Subject| {
            let event = s.event.split(" (").next().unwrap_or("");
            event == "workflow_call" || conds.iter().all(|c| c.may_run_for_anyone(event))
        };
        let mut out = Vec::new();
        narrowed = ctxs
            .iter()
            .map(|(trig, inputs)| {
                let (kept, dropped): (Vec<Subject>, Vec<Subject>) =
                    trig.iter().cloned().partition(|s| runs(s));
                out.extend(dropped);
                (kept, inputs.clone())
            })
            .collect();
        if narrowed.iter().all(|(t, _)| t.is_empty()) {
            ctxs
        } else {
            // (as the job would present them: in its environment when that is written plainly)
            let env = job
                .environment
                .as_ref()
                .map(|e| e.value.trim())
                .filter(|e| !e.is_empty() && !e.contains("${{"))
                .map(Val::lit);
            ruled_out = match &env {
                Some(e) => out.iter().map(|s| env_subject(s, e)).collect(),
                None => out,
            };
            &narrowed
        }
    };
    for combo in &combos {
        for (trig, inputs) in ctxs {
            let scope = Scope {
                matrix: combo.as_ref(),
                inputs: inputs.as_ref(),
                env: envs.clone(),
                mappings: Some(mappings),
            };
            let target = match &role {
                Some((text, _)) => {
                    let v = subst(text, &scope, 0);
                    match role_name(&v) {
                        Some(n) => RoleTarget::Name(n),
                        None => RoleTarget::Unresolved(format!(
                            "`{text}` cannot be resolved statically (map the secret or variable in `role-mappings` in oidc-lint.toml)"
                        )),
                    }
                }
                None => RoleTarget::Unresolved("no `role-to-assume`".into()),
            };
            let aud_value = match inner {
                None => step_value(step, job, w, "audience", "AUDIENCE"),
                Some((_, i)) => through_input(i, step, "audience"),
            };
            let aud = match aud_value {
                _ if web_identity => crate::analysis::access::web_identity_audience(job),
                Some((a, _)) => subst(&a, &scope, 0).known(),
                None => Some(DEFAULT_AUDIENCE.to_string()),
            };
            let idx = match groups.iter().position(|g| g.0 == target) {
                Some(i) => i,
                None => {
                    groups.push((target, None, BTreeSet::new()));
                    groups.len() - 1
                }
            };
            let g = &mut groups[idx];
            g.1 = Some(match g.1.take() {
                None => aud,
                Some(prev) if prev == aud => prev,
                Some(_) => None,
            });
            let subjects = &mut g.2;
            let env = job
                .environment
                .as_ref()
                .map(|e| subst(e.value.trim(), &scope, 0));
            match env {
                Some(e) if e.known().is_some_and(|k| !k.is_empty()) => {
                    for s in trig {
                        subjects.insert(env_subject(s, &e));
                    }
                }
                Some(e) => {
                    // an expression: some environment, or none when it evaluates empty
                    for s in trig {
                        subjects.insert(env_subject(s, &e));
                        subjects.insert(s.clone());
                    }
                }
                None => subjects.extend(trig.iter().cloned()),
            }
        }
    }
    groups
        .into_iter()
        .map(|(target, audience, subjects)| {
            // Subjects differing only by the event that presents them: keep the first.
            let mut seen = BTreeSet::new();
            let subjects: Vec<Subject> = subjects
                .into_iter()
                .filter(|s| seen.insert((s.context.clone(), s.foreign)))
                .collect();
            Assumption {
                file: w.file,
                workflow: w,
                job,
                step,
                access: access.clone(),
                role_text: role.as_ref().map(|(t, _)| t.clone()),
                role_span: role
                    .as_ref()
                    .map(|(_, s)| *s)
                    .unwrap_or_else(|| step.uses.as_ref().map(|u| u.span).unwrap_or(step.span)),
                target,
                audience: audience.unwrap_or(Some(DEFAULT_AUDIENCE.to_string())),
                audience_span: step.input("audience").map(|kv| kv.value.span),
                environment_span: job.environment.as_ref().map(|e| e.span),
                subjects,
                ruled_out: ruled_out.clone(),
                through: inner.map(|(a, _)| a),
            }
        })
        .collect()
}

/// The runs of one workflow (its triggers and local callers), worked out once for every job of
/// it that requests a token ([`job_subjects`]).
pub struct WorkflowRuns(Vec<TriggerContext>);

impl WorkflowRuns {
    pub fn of<'a>(scan: &'a Scan, callers: &Callers<'a>, w: &'a Workflow) -> WorkflowRuns {
        let default = default_branch(scan);
        WorkflowRuns(contexts(scan, callers, w, default.as_deref(), 0))
    }
}

/// The subjects a job presents to any OIDC relying party (an Azure or Google Cloud login
/// step): its triggers, local callers, `environment:` and matrix, worked out exactly as for an
/// AWS role assumption, for the step that requests the token.
pub fn job_subjects<'a>(
    scan: &'a Scan,
    runs: &WorkflowRuns,
    w: &'a Workflow,
    job: &'a Job,
    step: &'a Step,
) -> Vec<Subject> {
    let mut seen = BTreeSet::new();
    assumption(
        w,
        job,
        step,
        Access::Oidc,
        None,
        job.matrix.as_ref(),
        &runs.0,
        &crate::analysis::access::role_mappings(scan),
    )
    .into_iter()
    .flat_map(|a| a.subjects)
    .filter(|s| seen.insert((s.context.clone(), s.foreign)))
    .collect()
}

fn env_subject(s: &Subject, e: &Val) -> Subject {
    Subject {
        context: Val::concat(&[&Val::lit("environment:"), &encode_env(e)]),
        environment: Some(e.clone()),
        git_ref: s.git_ref.clone(),
        event: s.event.clone(),
        foreign: s.foreign,
    }
}

impl<'a> RoleAnalysis<'a> {
    /// The roles in the scan a role name resolves to.
    pub fn roles_named(&self, name: &str) -> Vec<&RoleDef<'_>> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.roles[i])
            .collect()
    }
    /// The single role an assumption resolves to, if exactly one role in the scan has its name.
    pub fn resolve(&self, a: &Assumption) -> Option<&RoleDef<'_>> {
        self.resolve_index(a).map(|i| &self.roles[i])
    }
    /// [`RoleAnalysis::resolve`], as an index into `roles`.
    fn resolve_index(&self, a: &Assumption) -> Option<usize> {
        let RoleTarget::Name(n) = &a.target else {
            return None;
        };
        match self.by_name.get(n).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }
    /// How the trust policy of the role each OIDC assumption resolves to judges it (indexed
    /// like `assumptions`; `None`: not OIDC, or no single role with a known trust policy).
    /// Worked out once, in parallel, for every rule about roles and jobs.
    ///
    /// Bounded work: many jobs present the same claims, so each distinct request (role,
    /// subject, audience, and the workflow path when the request carries it) is judged once,
    /// and so is each role's audience check. Judging a request costs one step per statement of
    /// the trust policy; once [`JUDGE_BUDGET`] steps are spent, the remaining requests (in
    /// assumption order, so the cut is deterministic) are [`Tri::Unknown`] and the remaining
    /// audience checks find no rejection — never a guessed verdict — and [`over_budget_note`]
    /// tells the user.
    pub fn judge(&self, scan: &Scan) -> Vec<Option<Judgement<'a>>> {
        self.judge_with(scan, &mut JudgeMemo::default())
    }
    /// [`Self::judge`], taking the verdicts of requests `memo` holds from it instead of
    /// evaluating the trust policy again, and leaving in it this judgement's verdicts (and only
    /// those: it does not grow over edits). `memo` must come from a judgement of a scan whose
    /// trust policies are the same as this one's (the caller drops it when any file holding a
    /// role or policy changed); it is not used when the roles or the subject form differ.
    pub fn judge_with(&self, scan: &Scan, memo: &mut JudgeMemo) -> Vec<Option<Judgement<'a>>> {
        use rayon::prelude::*;
        // (role, index into `repos`, subject, audience, workflow path)
        type Key<'k> = (usize, usize, &'k Subject, Option<&'k str>, &'k str);
        struct Job<'k> {
            role: usize,
            trust: &'k PolicyDoc,
            /// index into `repos`
            repo: usize,
            /// index into `audiences`
            audience: usize,
            /// indices into `requests`
            requests: Vec<usize>,
        }
        // The repository value per (role, checkout): a directory of checkouts judges each
        // workflow with its own checkout's repository.
        let mut repos: Vec<Val> = Vec::new();
        let mut repo_ix: BTreeMap<(usize, Option<&str>), usize> = BTreeMap::new();
        let mut requests: Vec<(Key<'_>, bool)> = Vec::new();
        let mut request_ix: BTreeMap<Key<'_>, usize> = BTreeMap::new();
        let mut audiences: Vec<((usize, Option<&str>), bool)> = Vec::new();
        let mut audience_ix: BTreeMap<(usize, Option<&str>), usize> = BTreeMap::new();
        let mut spent: u64 = 0;
        let mut skipped: u64 = 0;
        // within the budget, charging `cost` if so
        let mut afford = |cost: usize, skipped_ref: &mut u64| {
            let cost = cost.max(1) as u64;
            if spent.saturating_add(cost) <= JUDGE_BUDGET && *skipped_ref == 0 {
                spent += cost;
                true
            } else {
                *skipped_ref += 1;
                false
            }
        };
        // Each assumption is judged against every definition of its role's name (at most
        // [`MAX_DEFINITIONS`]): the same name defined twice (a module called twice, a root and a
        // module) is one role in AWS, and which definition deploys is not known here.
        let jobs: Vec<Vec<Job<'a>>> = self
            .assumptions
            .iter()
            .map(|a| {
                if a.access != Access::Oidc {
                    return Vec::new();
                }
                self.definitions(a)
                    .into_iter()
                    .filter_map(|role| {
                        let trust = self.roles[role].trust?;
                        let checkout = match self.repo {
                            None => self.file_repo.get(&a.file).map(String::as_str),
                            Some(_) => None,
                        };
                        let repo = *repo_ix.entry((role, checkout)).or_insert_with(|| {
                            repos.push(self.repo_value(a.file, trust));
                            repos.len() - 1
                        });
                        let wf = scan.file(a.file).rel.as_str();
                        let aud = a.audience.as_deref();
                        let cost = trust.statements.len();
                        let audience = *audience_ix.entry((role, aud)).or_insert_with(|| {
                            let ok = afford(cost, &mut skipped);
                            audiences.push(((role, aud), ok));
                            audiences.len() - 1
                        });
                        let requests = a
                            .subjects
                            .iter()
                            .map(|s| {
                                // the workflow path is part of the request only with a known ref
                                let wf = if s.git_ref.is_some() && !s.foreign {
                                    wf
                                } else {
                                    ""
                                };
                                let key = (role, repo, s, aud, wf);
                                *request_ix.entry(key).or_insert_with(|| {
                                    let ok = afford(cost, &mut skipped);
                                    requests.push((key, ok));
                                    requests.len() - 1
                                })
                            })
                            .collect();
                        Some(Job {
                            role,
                            trust,
                            repo,
                            audience,
                            requests,
                        })
                    })
                    .collect()
            })
            .collect();
        self.skipped.fetch_max(skipped, Ordering::Relaxed);
        let roles = &self.roles;
        let trust_of = |role: usize| {
            roles[role]
                .trust
                .expect("only roles with a trust are judged")
        };
        // Each judged role's issuer, once (many requests share a role).
        let mut issuers: BTreeMap<usize, String> = BTreeMap::new();
        for ((role, ..), _) in &requests {
            issuers
                .entry(*role)
                .or_insert_with(|| trust_issuer(trust_of(*role)));
        }
        // What an earlier judgement found for the same request of the same role.
        let same_roles = memo.form == self.form
            && memo.roles.len() == roles.len()
            && memo.roles.iter().zip(roles).all(|(m, r)| m.is(r));
        let mut old = if same_roles {
            std::mem::take(&mut memo.verdicts)
        } else {
            memo.roles = roles.iter().map(RoleStamp::of).collect();
            memo.form = self.form;
            HashMap::new()
        };
        let hashes: Vec<u64> = requests
            .iter()
            .map(|&((role, repo, s, aud, wf), _)| memo_hash(role, &repos[repo], s, aud, wf))
            .collect();
        let remembered: Vec<Option<Tri>> = requests
            .iter()
            .zip(&hashes)
            .map(|(&((role, repo, s, aud, wf), ok), h)| {
                if !ok {
                    return None;
                }
                old.get(h)?
                    .iter()
                    .find(|(k, _)| k.is(role, &repos[repo], s, aud, wf))
                    .map(|(_, t)| *t)
            })
            .collect();
        let verdicts: Vec<Tri> = requests
            .par_iter()
            .zip(&remembered)
            .map(|(&((role, repo, s, aud, wf), ok), remembered)| {
                if let Some(t) = remembered {
                    *t
                } else if ok {
                    admits_as(
                        &issuers[&role],
                        trust_of(role),
                        &repos[repo],
                        s,
                        aud,
                        wf,
                        self.form,
                    )
                } else {
                    Tri::Unknown
                }
            })
            .collect();
        // The memo holds this judgement's verdicts (those judged within the budget): the
        // remembered ones moved over, the new ones copied.
        let mut kept: HashMap<u64, Vec<(MemoKey, Tri)>> = HashMap::with_capacity(requests.len());
        for ((&((role, repo, s, aud, wf), ok), &h), &t) in
            requests.iter().zip(&hashes).zip(&verdicts)
        {
            if !ok {
                continue;
            }
            let taken = old.get_mut(&h).and_then(|bucket| {
                let i = bucket
                    .iter()
                    .position(|(k, _)| k.is(role, &repos[repo], s, aud, wf))?;
                Some(bucket.swap_remove(i).0)
            });
            let bucket = kept.entry(h).or_default();
            if bucket
                .iter()
                .any(|(k, _)| k.is(role, &repos[repo], s, aud, wf))
            {
                continue;
            }
            let key = taken.unwrap_or_else(|| MemoKey {
                role,
                repo: repos[repo].clone(),
                subject: s.clone(),
                audience: aud.map(str::to_string),
                workflow: wf.to_string(),
            });
            bucket.push((key, t));
        }
        memo.verdicts = kept;
        let mut old_audiences = if same_roles {
            std::mem::take(&mut memo.audiences)
        } else {
            HashMap::new()
        };
        // A remembered rejection, by its place in the trust policy.
        let remembered = |role: usize, aud: &str| -> Option<Option<&'a crate::model::Condition>> {
            let (_, at) = old_audiences.get(&role)?.iter().find(|(a, _)| a == aud)?;
            match *at {
                None => Some(None),
                Some((st, c)) => Some(Some(trust_of(role).statements.get(st)?.conditions.get(c)?)),
            }
        };
        let rejections: Vec<Option<&'a crate::model::Condition>> = audiences
            .par_iter()
            .map(|&((role, aud), ok)| {
                let x = aud.filter(|_| ok)?;
                remembered(role, x).unwrap_or_else(|| audience_rejection(trust_of(role), x))
            })
            .collect();
        let mut kept: HashMap<usize, Vec<(String, Option<ConditionAt>)>> = HashMap::new();
        for (&((role, aud), ok), rejection) in audiences.iter().zip(&rejections) {
            let Some(x) = aud.filter(|_| ok) else {
                continue;
            };
            let at = match rejection {
                None => None,
                Some(c) => {
                    let found = trust_of(role)
                        .statements
                        .iter()
                        .enumerate()
                        .find_map(|(i, st)| {
                            let j = st.conditions.iter().position(|d| std::ptr::eq(d, *c))?;
                            Some((i, j))
                        });
                    match found {
                        Some(at) => Some(at),
                        // (not in the policy's statements: judged again next time)
                        None => continue,
                    }
                }
            };
            let name = old_audiences
                .get_mut(&role)
                .and_then(|v| {
                    let i = v.iter().position(|(a, _)| a == x)?;
                    Some(v.swap_remove(i).0)
                })
                .unwrap_or_else(|| x.to_string());
            kept.entry(role).or_default().push((name, at));
        }
        memo.audiences = kept;
        jobs.into_iter()
            .map(|defs| {
                let judged: Vec<Judgement<'a>> = defs
                    .into_iter()
                    .map(|j| Judgement {
                        role: j.role,
                        trust: j.trust,
                        audience_rejection: rejections[j.audience],
                        admits: j.requests.iter().map(|&r| verdicts[r]).collect(),
                        repo: repos[j.repo].clone(),
                    })
                    .collect();
                combine(judged)
            })
            .collect()
    }
    /// The roles an assumption's name resolves to: the single definition, or every one of
    /// several definitions of the name when there are at most [`MAX_DEFINITIONS`].
    pub fn definitions(&self, a: &Assumption) -> Vec<usize> {
        let RoleTarget::Name(n) = &a.target else {
            return Vec::new();
        };
        match self.by_name.get(n) {
            Some(v) if v.len() <= MAX_DEFINITIONS => v.clone(),
            _ => Vec::new(),
        }
    }
    /// How many requests [`Self::judge`] left unknown because its work budget was spent, if
    /// any (for the note the command line prints).
    pub fn over_budget(&self) -> Option<u64> {
        match self.skipped.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }
    /// `OWNER/REPO` of the repository holding a workflow file: the scan's, else that of the
    /// checkout holding the file (a directory of checkouts scanned together).
    pub fn repo_of(&self, file: FileId) -> Option<&str> {
        self.repo
            .as_deref()
            .or_else(|| self.file_repo.get(&file).map(String::as_str))
    }
    /// The repository value for judging `trust` from a workflow in `file`: the scan's identity
    /// ([`Self::repo_for`]), else that of the checkout holding the file — a name from a git URL,
    /// so a trust naming it in another letter case gives GitHub's spelling — else as
    /// [`Self::repo_for`].
    pub fn repo_value(&self, file: FileId, trust: &PolicyDoc) -> Val {
        match (&self.repo, self.file_repo.get(&file)) {
            (None, Some(r)) => match trust_repo(trust, &trust_issuer(trust)) {
                Some(t) if t.eq_ignore_ascii_case(r) => Val::lit(t),
                _ => Val::lit(r.clone()),
            },
            _ => self.repo_for(trust),
        }
    }
    /// The repository value for judging a trust policy: the known identity, else the single
    /// repository the trust names ("this repository"), else a hole.
    /// A name taken from a git URL is not in GitHub's letter case: when the trust names the
    /// same repository in another case, the trust's spelling is taken as GitHub's.
    pub fn repo_for(&self, trust: &PolicyDoc) -> Val {
        match &self.repo {
            Some(r) if !self.repo_exact => match trust_repo(trust, &trust_issuer(trust)) {
                Some(t) if t.eq_ignore_ascii_case(r) => Val::lit(t),
                _ => Val::lit(r.clone()),
            },
            Some(r) => Val::lit(r.clone()),
            None => match trust_repo(trust, &trust_issuer(trust)) {
                Some(r) => Val::lit(r),
                None => Val::hole(Hole::NoColon),
            },
        }
    }
}

/// Which `sub` form a job presents: `repo:OWNER/REPO:…` or the immutable
/// `repo:OWNER@OWNER_ID/REPO@REPO_ID:…` (the default for repositories created, renamed or
/// transferred since mid-2026, opt-in for the rest). Unknown: trust values in either form are
/// judged against their own form, and an immutable one can at best be unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubjectForm {
    pub format: Option<crate::model::SubjectFormat>,
    /// Owner and repository ids, when known.
    pub ids: Option<(u64, u64)>,
}

impl SubjectForm {
    pub fn of(scan: &Scan) -> SubjectForm {
        SubjectForm {
            format: scan.settings.subject_format,
            ids: scan.settings.repo_ids,
        }
    }

    /// [`Self::of`], and when neither the form nor the ids are set: the form the scan's own
    /// GitHub trusts name the scanned repository `repo` in. When every `sub` value naming
    /// `OWNER/REPO` is in the immutable form with one pair of literal ids
    /// (`repo:acme@123/app@456:…`), the repository's tokens carry that form with those ids: a
    /// trust written for the repository states them, and one written in the other form could
    /// never be used by it. Values naming it in both forms, two id pairs, or none leave the form
    /// unknown.
    pub fn inferred(
        scan: &Scan,
        trusts: &[super::trust::CiTrust<'_>],
        repo: Option<&str>,
    ) -> SubjectForm {
        let set = Self::of(scan);
        let Some(repo) = repo else { return set };
        if set.format.is_some() || set.ids.is_some() {
            return set;
        }
        let mut ids: Option<(u64, u64)> = None;
        for t in trusts.iter().filter(|t| t.ci.is_github()) {
            for c in &t.statement.conditions {
                if c.claim_of(&t.issuer).as_deref() != Some("sub") {
                    continue;
                }
                for v in &c.values {
                    match named_repo(&v.value.known_prefix()) {
                        Some((named, _)) if !named.eq_ignore_ascii_case(repo) => {}
                        Some((_, Some(pair))) if ids.is_none_or(|p| p == pair) => ids = Some(pair),
                        // (the name form, or another id pair, for this repository)
                        Some(_) => return set,
                        None => {}
                    }
                }
            }
        }
        match ids {
            Some(pair) => SubjectForm {
                format: Some(crate::model::SubjectFormat::Id),
                ids: Some(pair),
            },
            None => set,
        }
    }
    /// The `sub` a job presents, for messages: the immutable form when the repository uses it.
    pub fn present(&self, sub: Val) -> Val {
        match self.format {
            Some(crate::model::SubjectFormat::Id) => {
                eval::id_form_with(&sub, self.ids).unwrap_or(sub)
            }
            _ => sub,
        }
    }
}

/// The repository a `sub` value's literal prefix names (`repo:OWNER/REPO:…` or the immutable
/// `repo:OWNER@ID/REPO@ID:…`), with the ids of the immutable form; `None` when the prefix ends
/// before the repository is whole or a wildcard is in it.
fn named_repo(prefix: &str) -> Option<(String, Option<(u64, u64)>)> {
    // (the repository is whole only when a `:` follows it)
    let sub = super::trust::split_default_sub(prefix).filter(|s| s.context.is_some())?;
    let seg = sub.repo;
    if seg.contains(['*', '?']) {
        return None;
    }
    let (owner, name) = seg.split_once('/')?;
    match (owner.split_once('@'), name.split_once('@')) {
        (None, None) => Some((format!("{owner}/{name}"), None)),
        (Some((o, oid)), Some((n, rid))) => {
            let num = |x: &str| {
                (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| x.parse::<u64>().ok())
                    .flatten()
            };
            Some((format!("{o}/{n}"), Some((num(oid)?, num(rid)?))))
        }
        _ => None,
    }
}

/// The repository a trust names when it differs from the known identity only in letter case
/// and the identity's case is GitHub's (`--repo`, configuration, `GITHUB_REPOSITORY`).
pub fn case_only_mismatch(an: &RoleAnalysis<'_>, trust: &PolicyDoc) -> Option<String> {
    if !an.repo_exact {
        return None;
    }
    let r = an.repo.as_ref()?;
    let t = trust_repo(trust, &trust_issuer(trust))?;
    (t != *r && t.eq_ignore_ascii_case(r)).then_some(t)
}

/// The request a subject makes to a trust policy.
pub fn request(
    issuer: &str,
    repo: &Val,
    subject: &Subject,
    audience: Option<&str>,
    workflow_path: &str,
    form: SubjectForm,
) -> Request {
    let mut r = Request::new(issuer);
    let sub = subject.sub(repo);
    let id = eval::id_form_with(&sub, form.ids);
    match (form.format, id) {
        (None, id) => r.set_sub(sub, id),
        (Some(crate::model::SubjectFormat::Name), _) | (_, None) => r.set_sub(sub, None),
        (Some(crate::model::SubjectFormat::Id), Some(id)) => r.set_sub(id, None),
    }
    r.set(
        "aud",
        match audience {
            Some(a) => Presence::Present(Val::lit(a)),
            None => Presence::Unknown,
        },
    );
    if subject.foreign {
        return r;
    }
    r.set("repository", Presence::Present(repo.clone()));
    if let Some(eval::VPart::Lit(l)) = repo.parts.first()
        && let Some((owner, _)) = l.split_once('/')
    {
        r.set("repository_owner", Presence::Present(Val::lit(owner)));
    }
    r.set(
        "environment",
        match &subject.environment {
            Some(e) => Presence::Present(e.clone()),
            None => Presence::Absent,
        },
    );
    if let Some(g) = &subject.git_ref {
        r.set("ref", Presence::Present(g.clone()));
        if workflow_path.is_empty() {
            return r;
        }
        let path = match workflow_path.find(".github/") {
            Some(i) => &workflow_path[i..],
            None => workflow_path,
        };
        let jwr = Val::concat(&[repo, &Val::lit(format!("/{path}@")), g]);
        r.set("job_workflow_ref", Presence::Present(jwr));
    }
    r
}

/// Judge one subject against a trust policy.
pub fn admits(
    trust: &PolicyDoc,
    repo: &Val,
    s: &Subject,
    audience: Option<&str>,
    workflow_path: &str,
    form: SubjectForm,
) -> Tri {
    admits_as(
        &trust_issuer(trust),
        trust,
        repo,
        s,
        audience,
        workflow_path,
        form,
    )
}

/// [`admits`] with the trust's issuer ([`trust_issuer`]) already known.
fn admits_as(
    issuer: &str,
    trust: &PolicyDoc,
    repo: &Val,
    s: &Subject,
    audience: Option<&str>,
    workflow_path: &str,
    form: SubjectForm,
) -> Tri {
    let req = request(issuer, repo, s, audience, workflow_path, form);
    eval::eval_policy(trust, &req)
}

/// The audience condition that rejects a job's audience whatever its subject, if any.
pub fn audience_rejection<'p>(
    trust: &'p PolicyDoc,
    audience: &str,
) -> Option<&'p crate::model::Condition> {
    let issuer = trust_issuer(trust);
    let mut req = Request::new(&issuer);
    req.set("aud", Presence::Present(Val::lit(audience)));
    if eval::eval_policy(trust, &req) != Tri::False {
        return None;
    }
    match eval::explain(trust, &req, "aud") {
        eval::Rejection::Condition(_, c) if c.claim_of(&issuer).as_deref() == Some("aud") => {
            Some(c)
        }
        _ => None,
    }
}

/// The scan's OIDC providers, indexed by issuer (built once per check: a job-by-job filter over
/// every provider made the audience check quadratic on large workspaces).
#[derive(Default)]
pub struct Providers<'a> {
    pub all: Vec<&'a crate::model::OidcProvider>,
    /// Issuer host (lower case, no scheme, no trailing `/`) → providers with that known URL.
    by_issuer: HashMap<String, Vec<&'a crate::model::OidcProvider>>,
}

impl<'a> Providers<'a> {
    /// Every OIDC provider the scan defines.
    pub fn new(scan: &'a Scan) -> Providers<'a> {
        let all: Vec<&crate::model::OidcProvider> =
            scan.models.iter().flat_map(|m| &m.providers).collect();
        let mut by_issuer: HashMap<String, Vec<&crate::model::OidcProvider>> = HashMap::new();
        for p in &all {
            if let Some(u) = p.url.as_ref().and_then(|u| u.value.known()) {
                let host = u
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_ascii_lowercase();
                by_issuer.entry(host).or_default().push(p);
            }
        }
        Providers { all, by_issuer }
    }
    /// The providers whose known URL is `issuer` (compared without letter case).
    pub fn for_issuer(&self, issuer: &str) -> &[&'a crate::model::OidcProvider] {
        self.by_issuer
            .get(&issuer.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
    /// The provider for `issuer` when every such provider has a known client id list none of
    /// whose ids `accepted` takes (STS then rejects the token before the trust policy).
    pub fn rejection(
        &self,
        issuer: &str,
        accepted: impl Fn(&str) -> bool,
    ) -> Option<&'a crate::model::OidcProvider> {
        let mine = self.for_issuer(issuer);
        let all_reject = !mine.is_empty()
            && mine.iter().all(|p| {
                p.client_ids.as_ref().is_some_and(|ids| {
                    ids.iter()
                        .all(|i| i.value.known().is_some_and(|k| !accepted(&k)))
                })
            });
        if all_reject {
            mine.first().copied()
        } else {
            None
        }
    }
}

/// The scan's OIDC provider for the trust's issuer, when every such provider has a known
/// client id list without the audience (STS then rejects the token before the trust policy).
pub fn provider_rejection<'s>(
    providers: &Providers<'s>,
    trust: &PolicyDoc,
    audience: &str,
) -> Option<&'s crate::model::OidcProvider> {
    providers.rejection(&trust_issuer(trust), |k| k == audience)
}

/// `StringEquals` on `KEY` admits only "a", "b"
pub fn describe_condition(c: &crate::model::Condition) -> String {
    let vals: Vec<String> = c
        .values
        .iter()
        .take(4)
        .map(|v| format!("`{}`", v.value.display()))
        .collect();
    let more = if c.values.len() > 4 {
        format!(" and {} more", c.values.len() - 4)
    } else {
        String::new()
    };
    let op = crate::model::Operator::parse(&c.operator.value);
    let verb =
        if op.base.to_ascii_lowercase().contains("not") || op.base.eq_ignore_ascii_case("null") {
            "requires"
        } else {
            "admits only"
        };
    format!(
        "`{}` on `{}` {verb} {}{more}",
        c.operator.value,
        c.key.value,
        vals.join(", ")
    )
}

/// `a`, `b`, `c` (with holes shown as `*`).
pub fn list_subjects(subs: &[Val]) -> String {
    let mut seen = BTreeSet::new();
    subs.iter()
        .map(|s| s.pattern())
        .filter(|p| seen.insert(p.clone()))
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Events whose runs present the default branch's ref.
/// Events only people with write access to the repository can start (a push, a dispatch, a
/// release, a schedule they wrote): a `workflow_run` of workflows triggered only by these is
/// theirs too.
const INSIDER_EVENTS: &[&str] = &[
    "push",
    "workflow_dispatch",
    "schedule",
    "release",
    "create",
    "delete",
    "merge_group",
    "repository_dispatch",
];

/// Whether every run of `w`'s `workflow_run` trigger comes from insiders: it names its upstream
/// workflows (`workflows:`), each is a workflow of the scan beside `w` (matched by `name:`, or
/// by its path when it has none), and each runs only on [`INSIDER_EVENTS`] (or on a
/// `workflow_run` of such workflows). An upstream the scan does not hold, or one a pull
/// request, a comment or an issue can start, leaves `workflow_run` an outsider's event.
pub fn workflow_run_from_insiders(scan: &Scan, w: &Workflow) -> bool {
    from_insiders(scan, w, 0)
}

fn from_insiders(scan: &Scan, w: &Workflow, depth: u8) -> bool {
    let Some(t) = w.triggers.iter().find(|t| t.event == "workflow_run") else {
        return false;
    };
    let Some(names) = t.workflows.as_ref().filter(|n| !n.is_empty()) else {
        return false;
    };
    if depth > 3 {
        return false;
    }
    let rel = scan.file(w.file).rel.as_str();
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let beside: Vec<&Workflow> = scan
        .models
        .iter()
        .flat_map(|m| &m.workflows)
        .filter(|u| {
            u.kind == WorkflowKind::Workflow
                && scan
                    .file(u.file)
                    .rel
                    .rsplit_once('/')
                    .map_or("", |(d, _)| d)
                    == dir
        })
        .collect();
    names.iter().all(|name| {
        let upstream: Vec<&&Workflow> = beside
            .iter()
            .filter(|u| match &u.name {
                Some(n) => n == name,
                None => {
                    let path = scan.file(u.file).rel.as_str();
                    path == name.as_str() || path.ends_with(&format!("/{name}"))
                }
            })
            .collect();
        !upstream.is_empty()
            && upstream.iter().all(|u| {
                !u.triggers.is_empty()
                    && u.triggers.iter().all(|ut| {
                        INSIDER_EVENTS.contains(&ut.event.as_str())
                            || (ut.event == "workflow_run" && from_insiders(scan, u, depth + 1))
                    })
            })
    })
}

const DEFAULT_BRANCH_EVENTS: &[&str] = &[
    "schedule",
    "workflow_run",
    "issue_comment",
    "issues",
    "discussion",
    "discussion_comment",
    "repository_dispatch",
    "check_run",
    "check_suite",
    "fork",
    "watch",
    "gollum",
    "label",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "status",
    "branch_protection_rule",
    "registry_package",
    "pull_request_target",
];

/// What the judging of jobs against trust policies needed but did not know, once each, for
/// the summary: the default branch (when a job assuming a role through OIDC runs on an event
/// that presents it, and the scan has GitHub trust policies), and the subject form (when a trust
/// policy is written in the immutable `repo:OWNER@ID/REPO@ID:…` form). `trusts`: the scan's
/// GitHub trusts (`Ctx::trusts`).
pub fn unknown_context(
    scan: &Scan,
    trusts: &[crate::analysis::trust::CiTrust<'_>],
    form: SubjectForm,
) -> Vec<String> {
    if trusts.is_empty() {
        return vec![];
    }
    let mut out = Vec::new();
    if default_branch(scan).is_none() {
        let needs = scan.models.iter().flat_map(|m| &m.workflows).any(|w| {
            w.kind == WorkflowKind::Workflow
                && DEFAULT_BRANCH_EVENTS.iter().any(|e| w.has_trigger(e))
                && w.jobs
                    .iter()
                    .any(|j| classify(w, j).iter().any(|(_, a)| *a == Access::Oidc))
        });
        if needs {
            out.push("default branch unknown: set default-branch (or --default-branch); jobs on events that run on the default branch were judged without it".to_string());
        }
    }
    let s = &scan.settings;
    // (the form set, or the one the scan's trusts name the repository in)
    let known = match form.format {
        Some(crate::model::SubjectFormat::Name) => true,
        Some(crate::model::SubjectFormat::Id) => form.ids.is_some(),
        None => false,
    };
    if !known {
        let id_form = trusts.iter().any(|t| {
            t.statement
                .conditions
                .iter()
                .filter(|c| c.claim_of(&t.issuer).as_deref() == Some("sub"))
                .flat_map(|c| &c.values)
                .any(|v| eval::is_id_form(&v.value))
        });
        if id_form {
            out.push(if s.subject_format.is_some() {
                "repository ids unknown: trust subjects in the immutable `repo:OWNER@ID/REPO@ID:…` form could not be checked (run in GitHub Actions, where the event names them)".to_string()
            } else {
                "subject format unknown: set subject-format (`name` or `id`); trust subjects in the immutable `repo:OWNER@ID/REPO@ID:…` form could not be checked".to_string()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls() {
        assert_eq!(
            repo_from_url("git@github.com:acme/app.git").as_deref(),
            Some("acme/app")
        );
        assert_eq!(
            repo_from_url("https://github.com/acme/app").as_deref(),
            Some("acme/app")
        );
        assert_eq!(
            repo_from_url("ssh://git@github.com/acme/app.git").as_deref(),
            Some("acme/app")
        );
        assert_eq!(repo_from_url("https://github.com/acme").as_deref(), None);
        let cfg = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/x/y\n[remote \"origin\"]\n\turl = git@github.com:acme/app.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";
        assert_eq!(
            origin_url(cfg).as_deref(),
            Some("git@github.com:acme/app.git")
        );
    }

    #[test]
    fn role_names() {
        assert_eq!(
            role_name(&Val::lit("arn:aws:iam::123456789012:role/ci/deploy")).as_deref(),
            Some("deploy")
        );
        let mut v = Val::lit("arn:aws:iam::");
        v.push_hole(Hole::Any);
        v.push_lit(":role/deploy");
        assert_eq!(role_name(&v).as_deref(), Some("deploy"));
        assert_eq!(role_name(&Val::hole(Hole::Any)), None);
        let mut v = Val::lit("arn:aws:iam::1:role/deploy-");
        v.push_hole(Hole::Any);
        assert_eq!(role_name(&v), None);
    }

    #[test]
    fn filters() {
        assert_eq!(
            filter_val("refs/heads/", "main"),
            Some(Val::lit("refs/heads/main"))
        );
        assert_eq!(
            filter_val("refs/heads/", "release/**")
                .map(|v| v.pattern())
                .as_deref(),
            Some("refs/heads/release/*")
        );
        assert_eq!(filter_val("refs/heads/", "!old"), None);
    }
}
