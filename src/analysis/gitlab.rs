//! GitLab CI: what a GitLab job presents to AWS and how it gets there.
//!
//! - **The pipeline** ([`pipelines`]): a `.gitlab-ci.yml` (one that no other root includes) and
//!   the files it pulls with `include: local:` (read by the scan, bounded there), merged as
//!   GitLab merges them: the including file's definitions override the included ones', a later
//!   include a former one's; `extends:` (up to 11 levels, later parents override earlier ones,
//!   the job its parents) and `default:` fill what a job leaves unset; `!reference [job, key]`
//!   in scripts is resolved (up to 10 levels). Includes that are never fetched (remote, project,
//!   template, component) leave a job whose parents or tokens may come from them unknown.
//! - **The subject** GitLab puts in a job's ID token: `project_path:GROUP/PROJECT:ref_type:
//!   branch|tag:ref:NAME` (<https://docs.gitlab.com/ci/secrets/id_token_authentication/>). The
//!   refs a job can run on come from `rules: - if:` on `$CI_COMMIT_BRANCH`, `$CI_COMMIT_TAG`,
//!   `$CI_COMMIT_REF_NAME`, `$CI_DEFAULT_BRANCH` and `$CI_PIPELINE_SOURCE ==
//!   "merge_request_event"` (a merge request pipeline runs on its source branch), or `only:`;
//!   without either, any branch or tag. What the scan cannot pin is a hole, never a guess: the
//!   set of refs is a superset of what GitLab runs.
//! - **The AWS step**: `aws sts assume-role-with-web-identity --role-arn X
//!   --web-identity-token $TOKEN`, or `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN` (the
//!   SDKs' web identity provider), the role ARN literal or through `variables:` (or the
//!   configuration's `role-mappings` for a CI/CD variable of the project's settings).
//! - **The project path**: `Settings.repo` (`--repo`, configuration, `CI_PROJECT_PATH` in a
//!   GitLab job), else the checkout's `origin` remote (nested groups kept), else the single
//!   project a trust names, else unknown.
//!
//! A job is judged with the generic IAM evaluator ([`super::eval`]): the trust's GitLab issuer
//! (`gitlab.com` or a self-managed host), `sub` and `aud` set, every other claim unknown.

use crate::analysis::eval::{self, Hole, Presence, Request, Tri, Val};
use crate::analysis::roles::RoleDef;
use crate::model::gitlab::{GitlabFile, IdTokenDef, IncludeKind, JobDef, RuleDef, ScriptItem};
use crate::model::{KeyValue, PolicyDoc, Scan, Spanned};
use crate::source::{FileId, Span};
use std::collections::{BTreeMap, HashMap, HashSet};

/// GitLab.com's issuer (condition-key prefix).
pub const GITLAB_COM: &str = "gitlab.com";
/// Deepest `extends:` chain GitLab resolves.
const MAX_EXTENDS: usize = 11;
/// Deepest `!reference` nesting GitLab resolves.
const MAX_REFERENCE: usize = 10;
/// Most definitions one job's `extends:` chain gathers (a wide fan-out of parents would
/// otherwise grow exponentially with the depth).
const MAX_CHAIN: usize = 256;
/// Most `!reference`s resolved in one pipeline.
const MAX_REFERENCES: usize = 4096;
/// Most refs kept for one job: past it, any branch or tag (a superset).
const MAX_REFS: usize = 64;
/// Work budget of judging GitLab jobs and HCP Terraform runs, in trust statements evaluated
/// against a request; past it, the rest is left unjudged (never a guessed verdict).
pub const JUDGE_BUDGET: usize = 1 << 18;
/// Most disjuncts one `rules: if:` expression is expanded into before it counts as any ref.
const MAX_DNF: usize = 64;
/// CI/CD variables GitLab removed in 17.0 (the pre-`id_tokens` job JWTs).
pub const REMOVED_JWT_VARIABLES: &[&str] = &["CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2"];

/// One GitLab pipeline: its root file and every file it includes that the scan read.
#[derive(Clone, Debug)]
pub struct Pipeline<'a> {
    pub root: FileId,
    /// Files in priority order (the root first: its definitions override its includes').
    pub files: Vec<&'a GitlabFile>,
    /// Some include was not read (never fetched, refused, not in the scan): a job may get
    /// parents, tokens or variables the scan does not see.
    pub incomplete: bool,
}

/// A value and the file it was written in.
pub type At<T> = (FileId, T);

/// Which kind of ref a job runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefType {
    Branch,
    Tag,
}

impl RefType {
    pub fn as_str(self) -> &'static str {
        match self {
            RefType::Branch => "branch",
            RefType::Tag => "tag",
        }
    }
}

/// A ref a job can run on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct JobRef {
    pub ref_type: RefType,
    /// The branch or tag name (holes where the scan cannot pin it).
    pub name: Val,
}

impl JobRef {
    /// The `sub` this ref gives for a project path.
    pub fn sub(&self, project: &Val) -> Val {
        Val::concat(&[
            &Val::lit("project_path:"),
            project,
            &Val::lit(format!(":ref_type:{}:ref:", self.ref_type.as_str())),
            &self.name,
        ])
    }
}

/// What the job's token is, for `--web-identity-token $X`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenUse {
    /// An `id_tokens:` entry of the job.
    IdToken(IdTokenDef),
    /// A variable GitLab removed in 17.0 (`CI_JOB_JWT`, …).
    Removed(String),
    /// A variable the job does not declare in `id_tokens` nor define.
    Undeclared(String),
    /// The scan cannot tell.
    Unknown,
}

/// What names the role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleTarget {
    Name(String),
    Unresolved(String),
}

/// One AWS call of a job through OIDC.
#[derive(Clone, Debug)]
pub struct GitlabAssumption {
    /// The job (index into [`GitlabAnalysis::jobs`]).
    pub job: usize,
    /// Where the role is named (the `--role-arn` value, or the `AWS_ROLE_ARN` variable), and
    /// the file.
    pub role_at: At<Span>,
    pub role_text: String,
    /// The role ARN after variables, when the scan resolves it.
    pub role_arn: Option<String>,
    pub target: RoleTarget,
    /// Where the token is passed (`--web-identity-token` value, or the role's span).
    pub token_at: At<Span>,
    pub token: TokenUse,
    /// How the token reaches AWS, for messages (`assume-role-with-web-identity`,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE`).
    pub how: &'static str,
}

impl GitlabAssumption {
    /// The audiences the token carries (`None`: unknown).
    pub fn audiences(&self) -> Option<Vec<String>> {
        match &self.token {
            TokenUse::IdToken(t) if !t.aud_unknown && !t.aud.is_empty() => {
                Some(t.aud.iter().map(|a| a.value.clone()).collect())
            }
            _ => None,
        }
    }
}

/// A GitLab job of a pipeline, assembled.
#[derive(Clone, Debug)]
pub struct GitlabJob {
    pub pipeline: usize,
    /// The job's name, where its (highest-priority) definition names it.
    pub name: Spanned<String>,
    pub file: FileId,
    /// Its `id_tokens` (`None`: unknown: unreadable, or possibly from an include never read).
    pub id_tokens: Option<Vec<At<IdTokenDef>>>,
    pub environment: Option<At<Spanned<String>>>,
    /// The refs it can run on (a superset).
    pub refs: Vec<JobRef>,
    /// Its definition (or a parent) is incomplete: an `extends:` target the scan does not
    /// have, or a pipeline with includes never read.
    pub partial: bool,
}

/// The whole GitLab analysis of a scan.
pub struct GitlabAnalysis {
    pub pipelines: Vec<PipelineInfo>,
    pub jobs: Vec<GitlabJob>,
    pub assumptions: Vec<GitlabAssumption>,
    /// The project path (`GROUP/…/PROJECT`), when known.
    pub project: Option<String>,
}

/// A pipeline's root and whether it is incomplete.
#[derive(Clone, Debug)]
pub struct PipelineInfo {
    pub root: FileId,
    pub incomplete: bool,
}

// ---------------------------------------------------------------------------------------------
// Pipelines

fn local_target(dir: &str, path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for seg in path.trim_start_matches('/').split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s => parts.push(s),
        }
    }
    Some(if dir.is_empty() {
        parts.join("/")
    } else {
        format!("{dir}/{}", parts.join("/"))
    })
}

/// Every pipeline of the scan: each `.gitlab-ci.yml` no other one includes, with its includes.
pub fn pipelines(scan: &Scan) -> Vec<Pipeline<'_>> {
    let by_rel: HashMap<&str, FileId> = scan
        .files()
        .filter(|(id, _)| scan.models[*id].gitlab.is_some())
        .map(|(id, f)| (f.rel.as_str(), id))
        .collect();
    let gl = |id: FileId| scan.models[id].gitlab.as_deref();
    let mut out: Vec<Pipeline> = Vec::new();
    let mut included_roots: HashSet<FileId> = HashSet::new();
    let mut roots: Vec<FileId> = by_rel
        .values()
        .copied()
        .filter(|&id| gl(id).is_some_and(|g| g.root))
        .collect();
    roots.sort_unstable();
    for &root in &roots {
        let rel = &scan.file(root).rel;
        let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let mut incomplete = false;
        // priority order: a file, then its includes from the last to the first (depth first)
        let mut order: Vec<FileId> = Vec::new();
        let mut seen: HashSet<FileId> = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((id, depth)) = stack.pop() {
            if !seen.insert(id) || order.len() > crate::model::gitlab::MAX_INCLUDES {
                continue;
            }
            order.push(id);
            let Some(g) = gl(id) else { continue };
            if id != root && g.root {
                included_roots.insert(id);
            }
            for inc in &g.includes {
                match &inc.kind {
                    IncludeKind::Local(p) => {
                        match local_target(dir, p).and_then(|t| by_rel.get(t.as_str())) {
                            Some(&t) if depth < crate::model::gitlab::MAX_INCLUDE_DEPTH => {
                                // pushed in order: popped last-first
                                stack.push((t, depth + 1));
                            }
                            Some(_) => incomplete = true,
                            None => incomplete = true,
                        }
                    }
                    IncludeKind::External(_) | IncludeKind::Unknown(_) => incomplete = true,
                }
            }
        }
        out.push(Pipeline {
            root,
            files: order.into_iter().filter_map(gl).collect(),
            incomplete,
        });
    }
    out.retain(|p| !included_roots.contains(&p.root));
    out
}

/// The definitions of one pipeline, by job name, in priority order.
struct Defs<'a> {
    jobs: BTreeMap<&'a str, Vec<At<&'a JobDef>>>,
    default: Vec<At<&'a JobDef>>,
    variables: Vec<At<&'a KeyValue>>,
    incomplete: bool,
    /// `!reference`s left to resolve ([`MAX_REFERENCES`]).
    references: std::cell::Cell<usize>,
}

impl<'a> Defs<'a> {
    fn of(p: &Pipeline<'a>) -> Defs<'a> {
        let mut jobs: BTreeMap<&str, Vec<At<&JobDef>>> = BTreeMap::new();
        let mut default = Vec::new();
        let mut variables = Vec::new();
        for f in &p.files {
            for j in &f.jobs {
                jobs.entry(j.name.value.as_str())
                    .or_default()
                    .push((f.file, j));
            }
            if let Some(d) = &f.default {
                default.push((f.file, d));
            }
            variables.extend(f.variables.iter().map(|v| (f.file, v)));
        }
        Defs {
            jobs,
            default,
            variables,
            incomplete: p.incomplete,
            references: std::cell::Cell::new(MAX_REFERENCES),
        }
    }

    /// The definitions a job's values come from, highest priority first: its own, then its
    /// `extends:` parents (the last listed first), each with theirs. `bool`: some parent is
    /// missing or the chain is too deep (values may come from where the scan cannot see).
    fn chain(&self, name: &str) -> (Vec<At<&'a JobDef>>, bool) {
        let mut out = Vec::new();
        let mut missing = false;
        let mut visiting = Vec::new();
        self.chain_into(name, 0, &mut out, &mut missing, &mut visiting);
        (out, missing)
    }

    fn chain_into(
        &self,
        name: &str,
        depth: usize,
        out: &mut Vec<At<&'a JobDef>>,
        missing: &mut bool,
        visiting: &mut Vec<String>,
    ) {
        if depth > MAX_EXTENDS || out.len() >= MAX_CHAIN || visiting.iter().any(|v| v == name) {
            *missing = true;
            return;
        }
        let Some(defs) = self.jobs.get(name) else {
            *missing = true;
            return;
        };
        out.extend(defs.iter().copied());
        let parents = defs
            .iter()
            .find(|(_, d)| !d.extends.is_empty())
            .map(|(_, d)| d.extends.clone())
            .unwrap_or_default();
        visiting.push(name.to_string());
        for p in parents.iter().rev() {
            self.chain_into(&p.value, depth + 1, out, missing, visiting);
        }
        visiting.pop();
    }

    /// A job's variable (its chain's, then the pipeline's), with the file it is in.
    fn variable(&self, chain: &[At<&'a JobDef>], name: &str) -> Option<At<&'a KeyValue>> {
        chain
            .iter()
            .find_map(|(f, d)| d.variables.iter().find(|v| v.key == name).map(|v| (*f, v)))
            .or_else(|| self.variables.iter().find(|(_, v)| v.key == name).copied())
    }

    /// A script key (`script`, `before_script`) of a chain, `!reference`s resolved.
    fn script(
        &self,
        chain: &[At<&'a JobDef>],
        key: &str,
        with_default: bool,
        depth: usize,
    ) -> (Vec<At<Spanned<String>>>, bool) {
        let pick = |d: &'a JobDef| match key {
            "script" => d.script.as_ref(),
            "before_script" => d.before_script.as_ref(),
            _ => None,
        };
        let found = chain
            .iter()
            .find_map(|(f, d)| pick(d).map(|s| (*f, s)))
            .or_else(|| {
                if with_default {
                    self.default
                        .iter()
                        .find_map(|(f, d)| pick(d).map(|s| (*f, s)))
                } else {
                    None
                }
            });
        let Some((file, items)) = found else {
            return (vec![], false);
        };
        let mut out = Vec::new();
        let mut unknown = false;
        for i in items {
            match i {
                ScriptItem::Line(l) => out.push((file, l.clone())),
                ScriptItem::Reference(path, _) => {
                    if depth >= MAX_REFERENCE || path.len() != 2 || self.references.get() == 0 {
                        unknown = true;
                        continue;
                    }
                    self.references.set(self.references.get() - 1);
                    let (c, missing) = self.chain(&path[0]);
                    unknown |= missing;
                    let (lines, u) = self.script(&c, &path[1], false, depth + 1);
                    unknown |= u;
                    out.extend(lines);
                }
            }
        }
        (out, unknown)
    }
}

// ---------------------------------------------------------------------------------------------
// Refs

#[derive(Clone, Debug)]
struct Cons {
    branch: bool,
    tag: bool,
    name: Option<Val>,
}

impl Cons {
    fn any() -> Cons {
        Cons {
            branch: true,
            tag: true,
            name: None,
        }
    }
    /// Both constraints at once (`None`: none can hold).
    fn and(&self, o: &Cons) -> Option<Cons> {
        let branch = self.branch && o.branch;
        let tag = self.tag && o.tag;
        if !branch && !tag {
            return None;
        }
        let name = match (&self.name, &o.name) {
            (Some(a), Some(b)) => match (a.known(), b.known()) {
                (Some(x), Some(y)) if x != y => return None,
                (Some(_), _) => Some(a.clone()),
                _ => Some(b.clone()),
            },
            (a, b) => a.clone().or(b.clone()),
        };
        Some(Cons { branch, tag, name })
    }
    fn refs(&self, out: &mut Vec<JobRef>) {
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| Val::hole(Hole::NoColon));
        if self.branch {
            out.push(JobRef {
                ref_type: RefType::Branch,
                name: name.clone(),
            });
        }
        if self.tag {
            out.push(JobRef {
                ref_type: RefType::Tag,
                name,
            });
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Var(String),
    Str(String),
    Re(String),
    Op(&'static str),
    And,
    Or,
    Open,
    Close,
    Other,
}

fn tokens(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let prev_is_match = |out: &Vec<Tok>| matches!(out.last(), Some(Tok::Op("=~" | "!~")));
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1
            }
            b')' => {
                out.push(Tok::Close);
                i += 1
            }
            b'&' if b.get(i + 1) == Some(&b'&') => {
                out.push(Tok::And);
                i += 2
            }
            b'|' if b.get(i + 1) == Some(&b'|') => {
                out.push(Tok::Or);
                i += 2
            }
            b'=' | b'!' if matches!(b.get(i + 1), Some(b'=') | Some(b'~')) => {
                out.push(Tok::Op(match (c, b[i + 1]) {
                    (b'=', b'=') => "==",
                    (b'=', _) => "=~",
                    (_, b'=') => "!=",
                    _ => "!~",
                }));
                i += 2
            }
            b'"' | b'\'' => {
                let end = s[i + 1..].find(c as char).map(|e| i + 1 + e);
                let e = end.unwrap_or(b.len());
                out.push(Tok::Str(s.get(i + 1..e).unwrap_or_default().to_string()));
                i = (e + 1).min(b.len().max(e + 1));
            }
            b'/' if prev_is_match(&out) => {
                // a regex: up to the next unescaped `/`, then flags
                let mut j = i + 1;
                while j < b.len() && b[j] != b'/' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let e = j.min(b.len());
                out.push(Tok::Re(s.get(i + 1..e).unwrap_or_default().to_string()));
                j = e + 1;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                i = j;
            }
            b'$' => {
                let mut j = i + 1;
                let braced = b.get(j) == Some(&b'{');
                if braced {
                    j += 1;
                }
                let st = j;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push(Tok::Var(s.get(st..j).unwrap_or_default().to_string()));
                if braced && b.get(j) == Some(&b'}') {
                    j += 1;
                }
                i = j.max(i + 1);
            }
            _ => {
                let mut j = i;
                while j < b.len() && !b" \t\n\r()&|=!".contains(&b[j]) {
                    j += 1;
                }
                let w = s.get(i..j.max(i + 1).min(b.len())).unwrap_or_default();
                out.push(if w == "null" {
                    Tok::Str(String::new())
                } else {
                    Tok::Other
                });
                i = j.max(i + 1);
            }
        }
    }
    out
}

/// A branch/tag regex as a value: a `^literal` prefix then a hole (a superset), a fully
/// anchored literal as itself.
fn regex_val(re: &str) -> Val {
    let Some(body) = re.strip_prefix('^') else {
        return Val::hole(Hole::NoColon);
    };
    let mut lit = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) if !n.is_ascii_alphanumeric() => lit.push(n),
                _ => return hole_after(&lit),
            },
            '$' if chars.peek().is_none() => return Val::lit(lit),
            '.' | '*' | '+' | '?' | '[' | ']' | '(' | ')' | '{' | '}' | '|' | '$' | '^' => {
                return hole_after(&lit);
            }
            c => lit.push(c),
        }
    }
    hole_after(&lit)
}

fn hole_after(lit: &str) -> Val {
    let mut v = Val::lit(lit);
    v.push_hole(Hole::NoColon);
    v
}

struct RefCtx<'d> {
    default_branch: &'d Val,
}

impl RefCtx<'_> {
    /// One comparison (or bare variable) as a constraint.
    fn atom(&self, t: &[Tok]) -> Cons {
        let mut c = Cons::any();
        let (var, op, rhs) = match t {
            [Tok::Var(v)] => (v.as_str(), None, None),
            [Tok::Var(v), Tok::Op(op), r] => (v.as_str(), Some(*op), Some(r)),
            [l, Tok::Op(op), Tok::Var(v)] if matches!(l, Tok::Str(_)) => {
                (v.as_str(), Some(*op), Some(l))
            }
            _ => return c,
        };
        // a negation, or a comparison with null/empty, only narrows: no constraint
        let value = match (op, rhs) {
            (None, None) => None,
            (Some("=="), Some(Tok::Str(s))) if !s.is_empty() => Some(Val::lit(s.clone())),
            (Some("=="), Some(Tok::Var(v))) if v == "CI_DEFAULT_BRANCH" => {
                Some(self.default_branch.clone())
            }
            (Some("=~"), Some(Tok::Re(r))) => Some(regex_val(r)),
            (Some("=="), Some(Tok::Str(_))) => return c,
            _ => return c,
        };
        match var {
            "CI_COMMIT_BRANCH" => {
                c.tag = false;
                c.name = value;
            }
            "CI_COMMIT_TAG" => {
                c.branch = false;
                c.name = value;
            }
            "CI_COMMIT_REF_NAME" => c.name = value,
            "CI_PIPELINE_SOURCE"
                if value.as_ref().and_then(Val::known).as_deref()
                    == Some("merge_request_event") =>
            {
                c.tag = false;
            }
            "CI_MERGE_REQUEST_ID" | "CI_MERGE_REQUEST_IID" if op.is_none() => c.tag = false,
            _ => {}
        }
        c
    }

    /// expr := and ('||' and)*; and := primary ('&&' primary)*; primary := '(' expr ')' | atom.
    /// Returns the disjuncts (capped: past [`MAX_DNF`], any ref).
    fn expr(&self, t: &[Tok], pos: &mut usize, depth: usize) -> Vec<Cons> {
        let mut out = self.and(t, pos, depth);
        while t.get(*pos) == Some(&Tok::Or) {
            *pos += 1;
            out.extend(self.and(t, pos, depth));
            if out.len() > MAX_DNF {
                return vec![Cons::any()];
            }
        }
        out
    }

    fn and(&self, t: &[Tok], pos: &mut usize, depth: usize) -> Vec<Cons> {
        let mut acc = self.primary(t, pos, depth);
        while t.get(*pos) == Some(&Tok::And) {
            *pos += 1;
            let rhs = self.primary(t, pos, depth);
            let mut next = Vec::new();
            for a in &acc {
                for b in &rhs {
                    next.extend(a.and(b));
                }
            }
            if next.len() > MAX_DNF {
                return vec![Cons::any()];
            }
            acc = next;
        }
        acc
    }

    fn primary(&self, t: &[Tok], pos: &mut usize, depth: usize) -> Vec<Cons> {
        if t.get(*pos) == Some(&Tok::Open) {
            *pos += 1;
            let inner = if depth > 32 {
                // skip to the matching close: no constraint
                let mut level = 1;
                while *pos < t.len() && level > 0 {
                    match t[*pos] {
                        Tok::Open => level += 1,
                        Tok::Close => level -= 1,
                        _ => {}
                    }
                    *pos += 1;
                }
                return vec![Cons::any()];
            } else {
                self.expr(t, pos, depth + 1)
            };
            if t.get(*pos) == Some(&Tok::Close) {
                *pos += 1;
            }
            return inner;
        }
        let start = *pos;
        while *pos < t.len() && !matches!(t[*pos], Tok::And | Tok::Or | Tok::Close) {
            *pos += 1;
        }
        if *pos == start {
            // a stray token: skip it
            *pos = (*pos + 1).min(t.len());
            return vec![Cons::any()];
        }
        vec![self.atom(&t[start..*pos])]
    }

    fn condition(&self, s: &str) -> Vec<Cons> {
        let t = tokens(s);
        if t.contains(&Tok::Other) && t.iter().all(|x| !matches!(x, Tok::Var(_))) {
            return vec![Cons::any()];
        }
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < t.len() {
            let before = pos;
            out.extend(self.expr(&t, &mut pos, 0));
            if pos == before {
                pos += 1;
            }
            // trailing garbage: the whole expression is unknown
            if pos < t.len() {
                return vec![Cons::any()];
            }
        }
        if out.is_empty() && t.is_empty() {
            out.push(Cons::any());
        }
        out
    }

    fn rules_refs(&self, rules: &[RuleDef]) -> Vec<JobRef> {
        let mut out = Vec::new();
        for r in rules {
            if r.opaque {
                Cons::any().refs(&mut out);
                continue;
            }
            if r.when.as_deref() == Some("never") {
                continue;
            }
            match &r.condition {
                None => Cons::any().refs(&mut out),
                Some(c) => self
                    .condition(&c.value)
                    .iter()
                    .for_each(|c| c.refs(&mut out)),
            }
        }
        out
    }

    fn only_refs(&self, only: &[Spanned<String>]) -> Vec<JobRef> {
        let mut out = Vec::new();
        for o in only {
            let v = o.value.split('@').next().unwrap_or("").trim();
            let c = match v {
                "branches" | "merge_requests" => Cons {
                    branch: true,
                    tag: false,
                    name: None,
                },
                "tags" => Cons {
                    branch: false,
                    tag: true,
                    name: None,
                },
                "" => continue,
                r if r.starts_with('/') && r.len() > 1 => {
                    let inner = r[1..].rsplit_once('/').map(|(a, _)| a).unwrap_or(&r[1..]);
                    Cons {
                        branch: true,
                        tag: true,
                        name: Some(regex_val(inner)),
                    }
                }
                // pipeline sources (`schedules`, `web`, `api`, `pushes`, `triggers`, …) run on
                // any ref
                "schedules"
                | "web"
                | "api"
                | "pushes"
                | "triggers"
                | "pipelines"
                | "external"
                | "chat"
                | "external_pull_requests" => Cons::any(),
                name => Cons {
                    branch: true,
                    tag: true,
                    name: Some(Val::lit(name)),
                },
            };
            c.refs(&mut out);
        }
        out
    }
}

fn dedup(mut v: Vec<JobRef>) -> Vec<JobRef> {
    v.sort();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------------------------
// Scripts: the AWS call

fn var_name(tok: &str) -> Option<String> {
    let t = tok.trim_matches(|c| c == '"' || c == '\'');
    let t = t.strip_prefix('$')?;
    let t = t
        .strip_prefix('{')
        .map(|x| x.trim_end_matches('}'))
        .unwrap_or(t);
    (!t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| t.to_string())
}

/// The shell words of a line, with each word's byte range in the line (quotes stripped only
/// around the whole word).
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let st = i;
        let mut q: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match q {
                Some(x) if c == x => q = None,
                Some(_) => {}
                None if c == b'"' || c == b'\'' => q = Some(c),
                None if c.is_ascii_whitespace() => break,
                None => {}
            }
            i += 1;
        }
        if i > st {
            out.push((st, &line[st..i]));
        }
    }
    out
}

/// The span of a part of a script line: exact for a plain scalar (its text is the file's),
/// else the whole line.
fn sub_span(line: &Spanned<String>, file_text: &str, start: usize, len: usize) -> Span {
    let s = line.span;
    let raw = file_text.get(s.range()).unwrap_or("");
    if raw == line.value {
        return Span::new(s.start as usize + start, s.start as usize + start + len);
    }
    // a folded or quoted scalar: the part's text where it first occurs in the scalar
    let part = line.value.get(start..start + len).unwrap_or("");
    match raw.find(part).filter(|_| !part.is_empty()) {
        Some(i) => Span::new(s.start as usize + i, s.start as usize + i + len),
        None => s,
    }
}

struct Call {
    role: Option<(FileId, Span, String)>,
    token: Option<(FileId, Span, String)>,
    at: (FileId, Span),
}

fn sts_calls(scan: &Scan, lines: &[At<Spanned<String>>]) -> Vec<Call> {
    let mut out = Vec::new();
    for (file, line) in lines {
        let text = &scan.file(*file).text;
        // join `\`-continued lines, keeping offsets: the backslash-newline becomes two spaces
        let joined = line.value.replace("\\\r\n", "   ").replace("\\\n", "  ");
        for (off, _) in joined.match_indices("assume-role-with-web-identity") {
            let rest_end = joined[off..].find('\n').map_or(joined.len(), |e| off + e);
            let seg = &joined[off..rest_end];
            let ws = words(seg);
            let mut call = Call {
                role: None,
                token: None,
                at: (
                    *file,
                    sub_span(line, text, off, "assume-role-with-web-identity".len()),
                ),
            };
            let mut k = 0;
            while k < ws.len() {
                let (wo, w) = ws[k];
                let (flag, val) = match w.split_once('=') {
                    Some((f, v)) if f.starts_with("--") => (f, Some((wo + f.len() + 1, v))),
                    _ => (w, ws.get(k + 1).map(|(o, v)| (*o, *v))),
                };
                let slot = match flag {
                    "--role-arn" => &mut call.role,
                    "--web-identity-token" => &mut call.token,
                    _ => {
                        k += 1;
                        continue;
                    }
                };
                if let Some((vo, v)) = val {
                    let v = v.trim_end_matches([')', ';']);
                    *slot = Some((
                        *file,
                        sub_span(line, text, off + vo, v.len()),
                        v.to_string(),
                    ));
                }
                k += 2;
            }
            out.push(call);
        }
    }
    out
}

/// `export NAME=value` (or `NAME=value`) in a script, the last one.
fn script_assignment(lines: &[At<Spanned<String>>], name: &str) -> Option<(FileId, Span, String)> {
    let mut found = None;
    for (file, line) in lines {
        for l in line.value.lines() {
            let t = l.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
            if let Some(v) = t.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                let v = v.split_whitespace().next().unwrap_or("");
                let v = v.trim_matches(|c| c == '"' || c == '\'');
                found = Some((*file, line.span, v.to_string()));
            }
        }
    }
    found
}

/// The variable a script writes into the token file (`echo "$TOKEN" > $AWS_WEB_IDENTITY_TOKEN_FILE`).
fn token_file_writer(lines: &[At<Spanned<String>>]) -> Option<String> {
    for (_, line) in lines {
        for l in line.value.lines() {
            let Some((lhs, _)) = l.split_once('>') else {
                continue;
            };
            let lhs = lhs.trim_start();
            if !(lhs.starts_with("echo") || lhs.starts_with("printf")) {
                continue;
            }
            for (_, w) in words(lhs) {
                if let Some(v) = var_name(w)
                    && v != "AWS_WEB_IDENTITY_TOKEN_FILE"
                {
                    return Some(v);
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Analysis

/// The project path: `Settings.repo`, else the checkout's `origin` remote (nested groups kept).
pub fn project_path(scan: &Scan) -> Option<String> {
    scan.settings
        .repo
        .clone()
        .or_else(|| super::repo::origin_path(&scan.root))
}

/// The default branch as a value (a hole when unknown).
fn default_branch_val(scan: &Scan) -> Val {
    match super::repo::default_branch(scan) {
        Some(b) => Val::lit(b),
        None => Val::hole(Hole::NoColon),
    }
}

/// Every GitLab job of the scan, and each one's AWS calls through OIDC.
pub fn analyze(scan: &Scan, role_mappings: &BTreeMap<String, String>) -> GitlabAnalysis {
    let pipes = pipelines(scan);
    let default_branch = default_branch_val(scan);
    let rc = RefCtx {
        default_branch: &default_branch,
    };
    let mut jobs = Vec::new();
    let mut assumptions = Vec::new();
    for (pi, p) in pipes.iter().enumerate() {
        let defs = Defs::of(p);
        for (name, own) in &defs.jobs {
            let (file, def) = own[0];
            if def.hidden {
                continue;
            }
            let (chain, missing) = defs.chain(name);
            let partial = missing || defs.incomplete;
            let id_tokens = match chain
                .iter()
                .find_map(|(f, d)| d.id_tokens.as_ref().map(|t| (*f, t)))
                .or_else(|| {
                    defs.default
                        .iter()
                        .find_map(|(f, d)| d.id_tokens.as_ref().map(|t| (*f, t)))
                }) {
                Some((f, Some(list))) => Some(list.iter().map(|t| (f, t.clone())).collect()),
                Some((_, None)) => None,
                None if partial => None,
                None => Some(vec![]),
            };
            let environment = chain
                .iter()
                .find_map(|(f, d)| d.environment.clone().map(|e| (*f, e)));
            let refs = match (
                chain.iter().find_map(|(_, d)| d.rules.as_ref()),
                chain.iter().find_map(|(_, d)| d.only.as_ref()),
            ) {
                (Some(r), _) => rc.rules_refs(r),
                (None, Some(o)) => rc.only_refs(o),
                (None, None) => {
                    let mut v = Vec::new();
                    Cons::any().refs(&mut v);
                    v
                }
            };
            let ji = jobs.len();
            jobs.push(GitlabJob {
                pipeline: pi,
                name: def.name.clone(),
                file,
                id_tokens,
                environment,
                refs: {
                    let refs = dedup(refs);
                    if refs.len() > MAX_REFS {
                        let mut any = Vec::new();
                        Cons::any().refs(&mut any);
                        any
                    } else {
                        refs
                    }
                },
                partial,
            });
            let job = &jobs[ji];
            // the AWS calls
            let (mut lines, u1) = defs.script(&chain, "before_script", true, 0);
            let (main, u2) = defs.script(&chain, "script", false, 0);
            lines.extend(main);
            let scripts_unknown = u1 || u2;
            let resolve = |raw: &str| -> (String, RoleTarget, Option<String>) {
                let mut v = raw.to_string();
                for _ in 0..4 {
                    let Some(n) = var_name(&v) else { break };
                    match defs.variable(&chain, &n) {
                        Some((_, kv)) => v = kv.value.value.clone(),
                        None => match role_mappings.get(&n) {
                            Some(m) => v = m.clone(),
                            None => return (raw.to_string(), RoleTarget::Unresolved(n), None),
                        },
                    }
                }
                let target = match role_name(&v) {
                    Some(n) => RoleTarget::Name(n),
                    None => RoleTarget::Unresolved(v.clone()),
                };
                (raw.to_string(), target, (!v.contains('$')).then_some(v))
            };
            let token_of = |name: Option<&str>| -> TokenUse {
                let Some(mut n) = name.map(str::to_string) else {
                    return TokenUse::Unknown;
                };
                for _ in 0..4 {
                    if REMOVED_JWT_VARIABLES.contains(&n.as_str()) {
                        return TokenUse::Removed(n);
                    }
                    if let Some(ts) = &job.id_tokens
                        && let Some((_, t)) = ts.iter().find(|(_, t)| t.name.value == n)
                    {
                        return TokenUse::IdToken(t.clone());
                    }
                    match defs
                        .variable(&chain, &n)
                        .and_then(|(_, kv)| var_name(&kv.value.value))
                    {
                        Some(next) => n = next,
                        None if defs.variable(&chain, &n).is_some() => return TokenUse::Unknown,
                        None => break,
                    }
                }
                if job.id_tokens.is_none() || scripts_unknown {
                    TokenUse::Unknown
                } else {
                    TokenUse::Undeclared(n)
                }
            };
            for call in sts_calls(scan, &lines) {
                let (role_at, role_text, target, role_arn) = match &call.role {
                    Some((f, s, raw)) => {
                        let (t, target, arn) = resolve(raw);
                        ((*f, *s), t, target, arn)
                    }
                    None => (
                        call.at,
                        String::new(),
                        RoleTarget::Unresolved(String::new()),
                        None,
                    ),
                };
                let (token_at, token) = match &call.token {
                    Some((f, s, raw)) => ((*f, *s), token_of(var_name(raw).as_deref())),
                    None => (call.at, TokenUse::Unknown),
                };
                assumptions.push(GitlabAssumption {
                    job: ji,
                    role_at,
                    role_text,
                    role_arn,
                    target,
                    token_at,
                    token,
                    how: "aws sts assume-role-with-web-identity",
                });
            }
            // the SDKs' web identity provider
            let token_file = defs
                .variable(&chain, "AWS_WEB_IDENTITY_TOKEN_FILE")
                .map(|(f, kv)| (f, kv.key_span))
                .or_else(|| {
                    script_assignment(&lines, "AWS_WEB_IDENTITY_TOKEN_FILE").map(|(f, s, _)| (f, s))
                });
            if let Some(tf) = token_file {
                let role = defs
                    .variable(&chain, "AWS_ROLE_ARN")
                    .map(|(f, kv)| (f, kv.value.span, kv.value.value.clone()))
                    .or_else(|| script_assignment(&lines, "AWS_ROLE_ARN"));
                if let Some((f, span, raw)) = role {
                    let (role_text, target, role_arn) = resolve(&raw);
                    let writer = token_file_writer(&lines);
                    let token = match writer {
                        Some(w) => token_of(Some(&w)),
                        None => match &job.id_tokens {
                            Some(ts) if ts.len() == 1 => TokenUse::IdToken(ts[0].1.clone()),
                            _ => TokenUse::Unknown,
                        },
                    };
                    assumptions.push(GitlabAssumption {
                        job: ji,
                        role_at: (f, span),
                        role_text,
                        role_arn,
                        target,
                        token_at: tf,
                        token,
                        how: "AWS_WEB_IDENTITY_TOKEN_FILE",
                    });
                }
            }
        }
    }
    GitlabAnalysis {
        pipelines: pipes
            .iter()
            .map(|p| PipelineInfo {
                root: p.root,
                incomplete: p.incomplete,
            })
            .collect(),
        jobs,
        assumptions,
        project: project_path(scan),
    }
}

/// The role name in an ARN (`arn:aws:iam::1:role/path/NAME`); `None` when any part is a
/// variable or it is no role ARN.
fn role_name(v: &str) -> Option<String> {
    if v.contains('$') {
        return None;
    }
    let tail = v.split_once(":role/")?.1;
    let name = tail.rsplit('/').next()?;
    (!name.is_empty() && !name.contains('*')).then(|| name.to_string())
}

// ---------------------------------------------------------------------------------------------
// Judging

/// Issuers that are certainly not GitLab (another CI service's).
const OTHER_ISSUERS: &[&str] = &[
    "token.actions.githubusercontent.com",
    "app.terraform.io",
    "agent.buildkite.com",
    "oidc.circleci.com",
    "api.bitbucket.org",
];

fn looks_gitlab(issuer: &str, trust: &PolicyDoc) -> bool {
    let i = issuer.to_ascii_lowercase();
    if OTHER_ISSUERS
        .iter()
        .any(|o| i == *o || i.starts_with(&format!("{o}/")))
    {
        return false;
    }
    i == GITLAB_COM
        || i.contains("gitlab")
        || trust.statements.iter().any(|s| {
            s.conditions.iter().any(|c| {
                c.is_claim(&i, "sub")
                    && c.values
                        .iter()
                        .any(|v| v.value.known_prefix().starts_with("project_path:"))
            })
        })
}

/// The GitLab issuer a trust names (its `Federated` principal or its condition keys' prefix),
/// when it names one; `gitlab.com` when it names none the scan can read.
pub fn gitlab_issuer(trust: &PolicyDoc) -> String {
    for s in &trust.statements {
        for p in &s.principals {
            if p.kind == "Federated"
                && let Some(i) = super::trust::federated_issuer(&p.value.value)
                && looks_gitlab(&i, trust)
            {
                return i.to_ascii_lowercase();
            }
        }
        for c in &s.conditions {
            if let Some((iss, _)) = c.key.value.rsplit_once(':')
                && looks_gitlab(iss, trust)
            {
                return iss.to_ascii_lowercase();
            }
        }
    }
    GITLAB_COM.to_string()
}

/// The single project path a trust's GitLab `sub` values name, if exactly one.
pub fn trust_project(trust: &PolicyDoc, issuer: &str) -> Option<String> {
    let mut names = std::collections::BTreeSet::new();
    for s in &trust.statements {
        for c in &s.conditions {
            if !c.is_claim(issuer, "sub") {
                continue;
            }
            for v in &c.values {
                let t = v.value.known_prefix();
                if let Some(p) = t.strip_prefix("project_path:")
                    && let Some((p, _)) = p.split_once(':')
                    && !p.contains(['*', '?'])
                {
                    names.insert(p.to_string());
                }
            }
        }
    }
    (names.len() == 1).then(|| names.into_iter().next().unwrap_or_default())
}

/// The provider issuer a `Federated` principal ARN names (`…:oidc-provider/<issuer>`), any
/// issuer, lower-cased; `None` when it is not literal.
pub fn provider_issuer(value: &crate::source::tree::Template) -> Option<String> {
    let text = value.known()?;
    let idx = text.find("oidc-provider/")?;
    Some(text[idx + "oidc-provider/".len()..].to_ascii_lowercase())
}

/// Whether a trust's literal GitLab `sub` values use another form than the default
/// `project_path:…:ref_type:…:ref:…`: a project may set `ci_id_token_sub_claim_components` to
/// `project_path,ref`, `project_path,ref_type` or `project_path,ref,ref_type`, which the scan
/// cannot see; a job judged against such a trust presents an unknown subject.
fn custom_subject(trust: &PolicyDoc, issuer: &str) -> bool {
    trust.statements.iter().any(|s| {
        s.conditions.iter().any(|c| {
            c.is_claim(issuer, "sub")
                && c.values.iter().any(|v| {
                    v.value.known().is_some_and(|t| {
                        let default_shape = t
                            .strip_prefix("project_path:")
                            .and_then(|r| r.split_once(':'))
                            .is_some_and(|(_, rest)| {
                                rest.starts_with("ref_type:branch:ref:")
                                    || rest.starts_with("ref_type:tag:ref:")
                            });
                        !t.contains(['*', '?']) && !default_shape
                    })
                })
        })
    })
}

/// A GitLab assumption judged against the trust policy of the one role it names.
#[derive(Clone, Debug)]
pub struct GitlabJudgement<'a> {
    /// Index into the role analysis' `roles`.
    pub role: usize,
    pub trust: &'a PolicyDoc,
    /// The trust as judged.
    pub view: PolicyDoc,
    pub issuer: String,
    pub project: Val,
    /// (statement, condition) of `view` rejecting every audience the token carries, if any.
    audience: Option<(usize, usize)>,
    /// The subjects the job presents and, for each, the verdict.
    pub subjects: Vec<(Val, Tri)>,
}

impl GitlabJudgement<'_> {
    pub fn rejects_all(&self) -> bool {
        !self.subjects.is_empty() && self.subjects.iter().all(|(_, t)| *t == Tri::False)
    }
    /// The condition rejecting every audience the token carries, whatever its subject.
    pub fn audience_rejection(&self) -> Option<&crate::model::Condition> {
        let (s, c) = self.audience?;
        self.view.statements.get(s)?.conditions.get(c)
    }
}

/// The request a GitLab job makes with one subject and audience.
pub fn request(issuer: &str, sub: Val, aud: Option<&str>) -> Request {
    let mut r = Request::new(issuer);
    r.set_sub(sub, None);
    r.set(
        "aud",
        match aud {
            Some(a) => Presence::Present(Val::lit(a)),
            None => Presence::Unknown,
        },
    );
    r
}

/// Admitted with any of the audiences (a token with an `aud` list carries them all).
pub fn admits_any(trust: &PolicyDoc, issuer: &str, sub: &Val, auds: &Option<Vec<String>>) -> Tri {
    match auds {
        None => eval::eval_policy(trust, &request(issuer, sub.clone(), None)),
        Some(list) => Tri::any(
            list.iter()
                .map(|a| eval::eval_policy(trust, &request(issuer, sub.clone(), Some(a)))),
        ),
    }
}

/// The audience condition (statement, condition) rejecting every audience of the token,
/// whatever its subject.
pub fn audience_rejection(
    trust: &PolicyDoc,
    issuer: &str,
    auds: &[String],
) -> Option<(usize, usize)> {
    let mut cond = None;
    for a in auds {
        let mut req = Request::new(issuer);
        req.set("aud", Presence::Present(Val::lit(a)));
        if eval::eval_policy(trust, &req) != Tri::False {
            return None;
        }
        match eval::explain(trust, &req, "aud") {
            eval::Rejection::Condition(st, c) if c.is_claim(issuer, "aud") => {
                let si = trust.statements.iter().position(|x| std::ptr::eq(x, st))?;
                let ci = st.conditions.iter().position(|x| std::ptr::eq(x, c))?;
                cond.get_or_insert((si, ci));
            }
            _ => return None,
        }
    }
    cond
}

impl GitlabAnalysis {
    /// The single role an assumption names (index into `roles`), when exactly one has its name.
    pub fn resolve(&self, roles: &[RoleDef<'_>], a: &GitlabAssumption) -> Option<usize> {
        let RoleTarget::Name(n) = &a.target else {
            return None;
        };
        resolve_name(roles, n)
    }

    /// Each assumption against the trust of the role it names (indexed like `assumptions`).
    pub fn judge<'a>(&self, roles: &[RoleDef<'a>]) -> Vec<Option<GitlabJudgement<'a>>> {
        let mut spent = 0usize;
        self.assumptions
            .iter()
            .map(|a| {
                let role = self.resolve(roles, a)?;
                let trust = roles[role].trust?;
                let cost = trust.statements.len().max(1)
                    * self.jobs[a.job].refs.len().max(1)
                    * a.audiences().map_or(1, |l| l.len().max(1));
                spent = spent.saturating_add(cost);
                if spent > JUDGE_BUDGET {
                    return None;
                }
                let issuer = gitlab_issuer(trust);
                let view = trust.clone();
                let project = match &self.project {
                    Some(p) => Val::lit(p.clone()),
                    None => match trust_project(trust, &issuer) {
                        Some(p) => Val::lit(p),
                        None => Val::hole(Hole::NoColon),
                    },
                };
                let auds = a.audiences();
                let job = &self.jobs[a.job];
                let custom = custom_subject(trust, &issuer);
                let subjects = job
                    .refs
                    .iter()
                    .map(|r| {
                        // a project may customize its `sub` (GitLab's projects API): a trust
                        // written for another form is judged against an unknown subject
                        let sub = if custom {
                            Val::hole(Hole::Any)
                        } else {
                            r.sub(&project)
                        };
                        let t = admits_any(&view, &issuer, &sub, &auds);
                        (sub, t)
                    })
                    .collect();
                Some(GitlabJudgement {
                    role,
                    audience: auds
                        .as_ref()
                        .and_then(|l| audience_rejection(&view, &issuer, l)),
                    trust,
                    view,
                    issuer,
                    project,
                    subjects,
                })
            })
            .collect()
    }
}

/// The scan's OIDC provider for `issuer` when every such provider has a known client id list
/// holding none of the token's audiences (STS then rejects the token before the trust policy).
pub fn provider_rejection<'s>(
    providers: &crate::analysis::subjects::Providers<'s>,
    issuer: &str,
    auds: &[String],
) -> Option<&'s crate::model::OidcProvider> {
    providers.rejection(issuer, |k| auds.iter().any(|a| a == k))
}

/// The single role of the scan with this name (index into `roles`).
pub fn resolve_name(roles: &[RoleDef<'_>], name: &str) -> Option<usize> {
    let mut it = roles.iter().enumerate().filter(|(_, r)| r.name == name);
    match (it.next(), it.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(cond: &str) -> Vec<String> {
        let d = Val::lit("main");
        let rc = RefCtx { default_branch: &d };
        let mut v = Vec::new();
        for c in rc.condition(cond) {
            c.refs(&mut v);
        }
        dedup(v)
            .iter()
            .map(|r| format!("{}:{}", r.ref_type.as_str(), r.name.pattern()))
            .collect()
    }

    #[test]
    fn rules_if_gives_refs() {
        assert_eq!(refs(r#"$CI_COMMIT_BRANCH == "main""#), ["branch:main"]);
        assert_eq!(
            refs(r#"$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"#),
            ["branch:main"]
        );
        assert_eq!(refs("$CI_COMMIT_TAG"), ["tag:*"]);
        assert_eq!(refs(r#"$CI_COMMIT_TAG =~ /^v\d+/"#), ["tag:v*"]);
        assert_eq!(
            refs(r#"$CI_PIPELINE_SOURCE == "merge_request_event""#),
            ["branch:*"]
        );
        assert_eq!(
            refs(r#"$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG"#),
            ["branch:main", "tag:*"]
        );
        assert_eq!(
            refs(
                r#"$CI_COMMIT_BRANCH == "main" && ($CI_PIPELINE_SOURCE == "push" || $CI_PIPELINE_SOURCE == "web")"#
            ),
            ["branch:main"]
        );
        // contradictions run nowhere
        assert!(refs(r#"$CI_COMMIT_BRANCH == "main" && $CI_COMMIT_TAG"#).is_empty());
        // negations only narrow
        assert_eq!(
            refs(r#"$CI_COMMIT_BRANCH != "main""#),
            ["branch:*", "tag:*"]
        );
        assert_eq!(
            refs(r#"$CI_COMMIT_REF_NAME == "prod""#),
            ["branch:prod", "tag:prod"]
        );
        // unreadable: any ref
        assert_eq!(refs("(((("), ["branch:*", "tag:*"]);
    }

    #[test]
    fn regexes_are_supersets() {
        assert_eq!(regex_val("^main$").known().as_deref(), Some("main"));
        assert_eq!(regex_val(r"^release\/.*$").pattern(), "release/*");
        assert_eq!(regex_val("main").pattern(), "*");
    }

    #[test]
    fn sts_words() {
        assert_eq!(var_name("\"${TOKEN}\""), Some("TOKEN".into()));
        assert_eq!(var_name("$(cat x)"), None);
    }
}
