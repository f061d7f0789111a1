//! The run as a library: an [`Engine`] built from a configuration and a [`RuleSet`] checks
//! paths (or one changed buffer against the rest of a workspace) and returns an [`Outcome`]:
//! the scan, the findings after selection, excludes, severity overrides, suppressions and
//! ordering, and what suppressions silenced. The CLI, `--fix`/`--diff` and a language server are
//! clients of this module; none of it prints or exits.

use crate::analysis::repo::CiContext;
use crate::analysis::subjects::JudgeMemo;
use crate::config::{self, Loaded, PathMatcher};
use crate::diag::Finding;
use crate::fix::{self, FixReport};
use crate::model::{Scan, Settings};
use crate::rules::{Ctx, RuleMeta, RuleSet};
use crate::scan::{ScanOptions, WalkSettings, scan_with};
use crate::source::FileId;
use crate::source::discover::WalkOptions;
use crate::suppress::{self, Suppressed};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Rule selection (`--select`, `--ignore`, rules the configuration disables).
#[derive(Default, Clone)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    pub fn enabled(&self, id: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == id))
            && !self.ignore.iter().any(|s| s == id)
    }
}

/// Run every selected built-in rule over a scan; findings come back ordered and deduplicated.
pub fn check(scan: &Scan, sel: &Selection) -> Vec<Finding> {
    run_rules(scan, &RuleSet::builtin(), sel)
}

/// Run every selected rule of `rules` over a scan; findings come back ordered and deduplicated.
pub fn run_rules(scan: &Scan, rules: &RuleSet, sel: &Selection) -> Vec<Finding> {
    run_rules_reusing(scan, rules, sel, &[], &|_| false).0
}

/// What the analyses of one check left unknown because they hit a work limit (the notes the
/// command line prints).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Limits {
    /// [`crate::analysis::wildcard::take_over_limit`] over the check.
    wildcard: Option<u64>,
    /// [`crate::analysis::subjects::RoleAnalysis::over_budget`] of the check.
    judge: Option<u64>,
}

/// [`run_rules`], taking the findings of the rules `reuse` names from `previous` (an earlier
/// run's) instead of running them again.
fn run_rules_reusing(
    scan: &Scan,
    rules: &RuleSet,
    sel: &Selection,
    previous: &[Finding],
    reuse: &dyn Fn(&RuleMeta) -> bool,
) -> (Vec<Finding>, Limits) {
    rules_on(&Ctx::new(scan), rules, sel, previous, reuse, None)
}

/// [`run_rules_reusing`] with the check's views `cx` (kept by a caller that reads them after
/// the rules: the audit).
fn rules_on(
    cx: &Ctx<'_>,
    rules: &RuleSet,
    sel: &Selection,
    previous: &[Finding],
    reuse: &dyn Fn(&RuleMeta) -> bool,
    focus: Option<&HashSet<FileId>>,
) -> (Vec<Finding>, Limits) {
    let scan: &Scan = cx;
    let (kept, rules): (Vec<_>, Vec<_>) = rules
        .iter()
        .filter(|r| sel.enabled(r.meta().id))
        .partition(|r| reuse(r.meta()));
    let kept: HashSet<&str> = kept.iter().map(|r| r.meta().id).collect();
    // Per-file rules keep their findings in the files outside the focus (they run on the
    // focus only: `Ctx::in_focus`).
    let per_file: HashSet<&str> = match focus {
        Some(_) => rules
            .iter()
            .filter(|r| r.per_file())
            .map(|r| r.meta().id)
            .collect(),
        None => HashSet::new(),
    };
    let unchanged = |f: &Finding| focus.is_some_and(|focus| !focus.contains(&f.file));
    // The matcher's record of given-up comparisons is this check's from here on.
    let _ = crate::analysis::wildcard::take_over_limit();
    // The shared cross-file views first, side by side: a rule waiting on a view another
    // thread is still computing would leave its core idle. They must all be ready before the
    // rules run: `judged` works in parallel, and a worker waiting inside it could pick up a
    // rule that asks for `judged` again (a re-entrant initialisation, a deadlock).
    // The roles CI can assume with their permissions are read only by rules about IaC: when
    // those keep their previous findings (only workflows changed), no rule asks for them and
    // they are not worked out (the view uses no rayon, so a rule may still ask for it).
    rayon::join(
        || {
            cx.judged();
        },
        || {
            if kept.is_empty() {
                cx.ci_roles();
            }
            // (beside the judgement rather than inside the first rule asking)
            cx.trusts();
            cx.providers();
        },
    );
    let mut findings: Vec<Finding> = previous
        .iter()
        .filter(|f| kept.contains(f.rule) || (per_file.contains(f.rule) && unchanged(f)))
        .cloned()
        .collect();
    let mut fresh: Vec<Finding> = rules
        .par_iter()
        .with_max_len(1)
        .flat_map_iter(|r| {
            let mut out = Vec::new();
            r.check(cx, &mut out);
            out
        })
        .collect();
    // Only the findings of this run: kept ones were marked when they were found.
    when_enabled(scan, &mut fresh);
    rendered_at(scan, &mut fresh);
    findings.extend(fresh);
    crate::diag::order(scan, &mut findings);
    findings.dedup();
    merge_deployments(&mut findings);
    let limits = Limits {
        wildcard: crate::analysis::wildcard::take_over_limit(),
        judge: cx.analysis().over_budget(),
    };
    (findings, limits)
}

/// The deployments a message names: the text of each `(in …)` (`module.a.aws_iam_role.x (in
/// envs/dev)`), and the message without them.
fn deployments(message: &str) -> (Vec<&str>, String) {
    let mut named = Vec::new();
    let mut rest = String::with_capacity(message.len());
    let mut tail = message;
    while let Some(i) = tail.find(" (in ") {
        let after = &tail[i + 5..];
        // (the closing parenthesis of this `(in …)`, nested ones counted)
        let mut depth = 0usize;
        let end = after.char_indices().find_map(|(j, c)| match c {
            '(' => {
                depth += 1;
                None
            }
            ')' if depth == 0 => Some(j),
            ')' => {
                depth -= 1;
                None
            }
            _ => None,
        });
        let Some(end) = end else { break };
        rest.push_str(&tail[..i]);
        named.push(&after[..end]);
        tail = &after[end + 1..];
    }
    rest.push_str(tail);
    (named, rest)
}

/// One finding for what several deployments of one configuration (a module two roots call, a
/// root with two `-var-file`s) report on the same line in the same words but for the name of the
/// deployment: the first, saying the others, with their related locations (`findings` ordered).
fn merge_deployments(findings: &mut Vec<Finding>) {
    let mut out: Vec<(Finding, Vec<String>)> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        if let Some((last, also)) = out.last_mut()
            && last.rule == f.rule
            && last.file == f.file
            && last.span == f.span
            && last.severity == f.severity
        {
            let (a, a_rest) = deployments(&last.message);
            let (b, b_rest) = deployments(&f.message);
            if !a.is_empty() && a_rest == b_rest && a.len() == b.len() {
                let other = b.iter().find(|x| !a.contains(x)).map(|x| x.to_string());
                if let Some(other) = other {
                    if !also.contains(&other) {
                        also.push(other);
                    }
                    for l in f.related {
                        if !last.related.contains(&l) {
                            last.related.push(l);
                        }
                    }
                    continue;
                }
            }
        }
        out.push((f, vec![]));
    }
    findings.extend(out.into_iter().map(|(mut f, also)| {
        if !also.is_empty() {
            let listed: Vec<String> = also.iter().map(|d| format!("`{d}`")).collect();
            f.message = format!("{} (the same in {})", f.message, listed.join(", "));
        }
        f
    }));
}

/// A finding in a template's policy points at where the template is rendered (the
/// `templatefile(…)` call), and one in a local module's at the `module` block calling it: the
/// values it was judged with come from there. A template several callers
/// render: the callers the message names (each is judged on its own values), else all.
fn rendered_at(scan: &Scan, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        let Some(m) = scan.models.get(f.file) else {
            continue;
        };
        let inside: Vec<(&crate::model::RenderedBy, &str)> = m
            .rendered_by
            .iter()
            .filter_map(|r| {
                let p = m.policies.get(r.policy)?;
                (p.span.start <= f.span.start && f.span.end <= p.span.end)
                    .then_some((r, p.owner.as_str()))
            })
            .collect();
        let named: Vec<(&crate::model::RenderedBy, &str)> = inside
            .iter()
            .filter(|(_, owner)| names(&f.message, owner))
            .copied()
            .collect();
        let chosen: Vec<(&crate::model::RenderedBy, &str)> = if !named.is_empty() {
            named
        } else if !inside.is_empty() {
            inside
        } else {
            // Not in a policy (an attached ARN of a module's role): the module instance the
            // message names, by its policies' callers.
            instance_of(scan, f).into_iter().collect()
        };
        if chosen.is_empty() {
            continue;
        }
        // A value a single caller passes whole (`values = var.subjects`): the finding is about
        // the caller's argument, the module's line is where it is used.
        // Through a chain of modules, up to the outermost caller passing it.
        if let [(r, _)] = chosen.as_slice() {
            let var_at = |file, span| -> Option<String> {
                let text = scan.get_file(file)?.slice(span).trim();
                // (`values.x`: a Terragrunt unit passing on its stack's value)
                let name = text
                    .strip_prefix("var.")
                    .or_else(|| text.strip_prefix("values."))?;
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    .then(|| name.to_string())
            };
            let mut at = (f.file, f.span);
            let mut first = None;
            let mut outer = None;
            for (file, inputs) in &r.callers {
                let Some(name) = var_at(at.0, at.1) else {
                    break;
                };
                let Some(arg) = inputs.iter().find(|a| a.name == name) else {
                    break;
                };
                first.get_or_insert(name);
                at = (*file, arg.span);
                outer = Some(arg);
            }
            // The first value the finding quotes (`` `repo:acme/app:pull_request` lets … ``,
            // ``allows `iam:*` on …``) that is written exactly once inside the outermost
            // argument (a list item, a statement's action): the finding is about that literal.
            // (A module may prefix `repo:` to what its caller passes.)
            if let Some(arg) = outer {
                let narrowed = quoted(&f.message).find_map(|q| written_once(q, arg.strings.iter()));
                // (only where the file's text there is a quoted string)
                if let Some(one) = narrowed
                    && one != arg.span
                    && arg.span.start <= one.start
                    && one.end <= arg.span.end
                    && scan.get_file(at.0).is_some_and(|src| is_quoted(src, one))
                {
                    at.1 = one;
                }
            }
            if let Some(name) = first {
                let used = crate::diag::Label {
                    file: f.file,
                    span: f.span,
                    message: format!("the module uses `var.{name}` here"),
                };
                (f.file, f.span) = at;
                f.related.insert(0, used);
            } else if let Some((file, one)) = caller_literal(scan, f, r) {
                // An expression of the module (`each.value.policy`, `var.arns[count.index]`)
                // whose value is one literal the outermost caller writes: the finding is
                // about that literal.
                let expr = scan
                    .get_file(f.file)
                    .map(|src| src.slice(f.span).trim().to_string())
                    .unwrap_or_default();
                let used = crate::diag::Label {
                    file: f.file,
                    span: f.span,
                    message: format!("the module uses `{expr}` here"),
                };
                (f.file, f.span) = (file, one);
                f.related.insert(0, used);
            }
        }
        let mut seen = Vec::new();
        for (r, owner) in chosen {
            if seen.contains(&(r.file, r.span)) {
                continue;
            }
            seen.push((r.file, r.span));
            f.related.push(crate::diag::Label {
                file: r.file,
                span: r.span,
                message: format!("{} here, for {owner}", r.how),
            });
        }
    }
}

/// Whether `message` names `owner` as a whole (`module.b.x` is not named by a message about
/// `module.a.module.b.x`).
fn names(message: &str, owner: &str) -> bool {
    message.match_indices(owner).any(|(i, _)| {
        let before = message[..i].chars().next_back();
        let after = message[i + owner.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '[')
    })
}

/// The caller of the module instance a finding outside any policy is about: the first policy
/// (in file order) of a module instance whose owner the message names (`module.a.aws_iam_role.x
/// (in live)`), with its callers.
fn instance_of<'s>(scan: &'s Scan, f: &Finding) -> Option<(&'s crate::model::RenderedBy, &'s str)> {
    if !f.message.contains("module.") {
        return None;
    }
    scan.models.iter().find_map(|m| {
        m.rendered_by.iter().find_map(|r| {
            let owner = m.policies.get(r.policy)?.owner.as_str();
            (!r.callers.is_empty() && owner.starts_with("module.") && names(&f.message, owner))
                .then_some((r, owner))
        })
    })
}

/// Where the outermost caller of `r` writes the one literal a finding quotes, when the
/// finding sits on an expression of the module (not on a literal of its own): the first value
/// the message quotes that is written exactly once, as a quoted string, among everything that
/// caller passes.
fn caller_literal(
    scan: &Scan,
    f: &Finding,
    r: &crate::model::RenderedBy,
) -> Option<(crate::source::FileId, crate::source::Span)> {
    let (file, inputs) = r.callers.last()?;
    let here = scan.get_file(f.file)?.slice(f.span).trim();
    // (`"${var.arns[count.index]}"`: one interpolation is the expression)
    let here = here
        .strip_prefix("\"${")
        .and_then(|h| h.strip_suffix("}\""))
        .filter(|h| !h.contains("${"))
        .unwrap_or(here);
    // (an expression of a caller's value: `each.…`, `count.index`, `var.…`, a `dynamic`
    // block's iterator `condition.value.…`; only the argument `var.NAME` names, when it names
    // one)
    let iterator = || {
        here.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .any(|r| matches!(r.split('.').nth(1), Some("value" | "key")))
    };
    let expression = here.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !here.contains(['"', '\n'])
        && (here.contains("each.")
            || here.contains("count.index")
            || here.contains("var.")
            || iterator());
    if !expression {
        return None;
    }
    // (`var.arns[count.index]`, one reference: that argument; a conditional or a call may
    // take its value from anywhere)
    let single = !here.contains(|c: char| c.is_whitespace() || c == '(' || c == '?');
    let only: Option<&str> = here.strip_prefix("var.").filter(|_| single).map(|v| {
        let end = v
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(v.len());
        &v[..end]
    });
    let src = scan.get_file(*file)?;
    quoted(&f.message)
        // (a value as short as `*` says nothing about where it comes from)
        .filter(|q| q.len() >= 3)
        .find_map(|q| {
            let strings = inputs
                .iter()
                .filter(|a| only.is_none_or(|n| a.name == n))
                .flat_map(|a| &a.strings);
            written_once(q, strings).filter(|one| is_quoted(src, *one))
        })
        .map(|one| (*file, one))
}

/// The values a message quotes (`` `repo:acme/app:*` lets … ``), in order.
fn quoted(message: &str) -> impl Iterator<Item = &str> {
    message.split('`').skip(1).step_by(2)
}

/// Where `quoted` is written exactly once among a caller's known strings (a module may prefix
/// `repo:` to what its caller passes).
fn written_once<'a>(
    quoted: &str,
    strings: impl Iterator<Item = &'a (String, crate::source::Span)>,
) -> Option<crate::source::Span> {
    // (the value as quoted first; what a module prefixed `repo:` to only when it is not
    // written whole)
    let (mut exact, mut bare): (Vec<crate::source::Span>, Vec<crate::source::Span>) =
        Default::default();
    for (text, span) in strings {
        if text == quoted {
            exact.push(*span);
        } else if quoted.strip_prefix("repo:") == Some(text.as_str()) {
            bare.push(*span);
        }
    }
    let mut spans = if exact.is_empty() { bare } else { exact };
    spans.sort();
    spans.dedup();
    match spans.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Whether the file's text at `span` is a quoted string (a literal the user wrote).
fn is_quoted(src: &crate::source::SourceFile, span: crate::source::Span) -> bool {
    let t = src.slice(span).trim();
    t.len() >= 2 && t.starts_with('"') && t.ends_with('"')
}

/// A finding located in (or pointing into) a block that is not created by default
/// (`count = var.enable_x ? 1 : 0`, `default = false`) is about what happens when the switch is
/// turned on: say so, and point at the switch. The severity stays: the scan cannot know the
/// value the switch has where the code is deployed.
fn when_enabled(scan: &Scan, findings: &mut [Finding]) {
    let switch_of = |file: crate::source::FileId, span: crate::source::Span| {
        scan.models
            .get(file)?
            .switches
            .iter()
            .find(|s| s.span.start <= span.start && span.end <= s.span.end)
    };
    for f in findings.iter_mut() {
        let hit = std::iter::once((f.file, f.span))
            .chain(f.related.iter().map(|l| (l.file, l.span)))
            .find_map(|(file, span)| switch_of(file, span).map(|s| (file, s)));
        if let Some((file, s)) = hit {
            f.message = format!("when enabled ({}): {}", s.note, f.message);
            f.related.push(crate::diag::Label {
                file,
                span: s.at,
                message: format!(
                    "created only when this is non-empty: empty by default ({})",
                    s.note
                ),
            });
        }
    }
}

/// Every rule a run with `rules` can report: the set plus `unused-suppression`, in id order.
pub fn reportable(rules: &RuleSet) -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> = rules.iter().map(|r| r.meta()).collect();
    v.push(&suppress::UNUSED_META);
    v.sort_by_key(|m| m.id);
    v
}

/// The worker pool of a run: `threads` workers ([`config::worker_threads`]: 0 or none is all
/// cores, clamped), whose stacks have room for the deepest nesting the parsers accept, even in
/// debug builds (stacks are reserved, not touched).
pub fn worker_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(config::worker_threads(threads))
        .stack_size(64 << 20)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))
}

/// The rules of a run: the built-ins, plus the custom rules of `custom_dir` (`--rules`).
pub fn rule_set(custom_dir: Option<&Path>) -> Result<RuleSet, String> {
    let builtin = RuleSet::builtin();
    match custom_dir {
        Some(dir) => crate::custom::load(&[dir.to_path_buf()])
            .map(|custom| builtin.with(custom))
            .map_err(|e| e.to_string()),
        None => Ok(builtin),
    }
}

/// Every id of `sel` must name a rule of `rules` (one `rules` can report); else the error
/// names the first unknown one and the closest known id.
pub fn check_selection(sel: &Selection, rules: &RuleSet) -> Result<(), String> {
    let metas = reportable(rules);
    match sel
        .select
        .iter()
        .chain(&sel.ignore)
        .find(|id| !metas.iter().any(|m| m.id == *id))
    {
        Some(id) => Err(format!(
            "unknown rule `{id}` in --select/--ignore{}",
            crate::rules::suggestion(id, metas.iter().map(|m| m.id))
        )),
        None => Ok(()),
    }
}

/// The configuration for `paths`: `explicit` if given, else `oidc-lint.toml` or
/// `.oidc-lint.toml` found upward from the first path, else the defaults. Rule ids in it are
/// checked against `rules`.
pub fn load_config(
    explicit: Option<&Path>,
    paths: &[PathBuf],
    rules: &RuleSet,
) -> Result<Loaded, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => paths.first().and_then(|p| config::find(p)),
    };
    let known: Vec<&str> = reportable(rules).iter().map(|m| m.id).collect();
    match path {
        Some(p) => config::load(&p, &known),
        None => Ok(Loaded::default()),
    }
}

/// The trees a report file (`--output`, `--write-baseline`) must not leave through a symbolic
/// link: the current directory and the scan root.
pub fn report_trees(paths: &[PathBuf]) -> Vec<PathBuf> {
    vec![PathBuf::from("."), crate::scan::root_for(paths)]
}

/// One check of the files as they are now.
pub struct Outcome {
    pub scan: Scan,
    pub findings: Vec<Finding>,
    /// Findings silenced by suppressions, with where they were silenced.
    pub suppressed: Vec<Suppressed>,
    /// What the rules found, before excludes, severities and suppressions (for
    /// [`Engine::recheck`] to keep the findings of rules a change cannot affect).
    rule_findings: Vec<Finding>,
    limits: Limits,
    /// How many of `scan.warnings` (the last ones) the check added to the scan's own (a
    /// re-check takes them off before adding its own).
    added_warnings: usize,
    /// The verdicts of the check's judgement of jobs against trust policies, for a re-check
    /// after workflows changed (empty when an analysis gave up on a comparison: such a verdict
    /// is not kept, so a later check says so again).
    judge_memo: JudgeMemo,
}

impl Outcome {
    /// The notes of this check (on stderr in the command line): what its analyses left unknown
    /// because they hit a work limit. Each check's own, also in a long-running server.
    pub fn notes(&self) -> Vec<String> {
        crate::analysis::notes(self.limits.wildcard, self.limits.judge)
    }
    /// Drop the findings recorded in `baseline` (`--baseline`).
    pub fn apply_baseline(&mut self, baseline: &crate::baseline::Baseline) {
        baseline.filter(&self.scan, &mut self.findings);
    }
    /// Drop the findings recorded in the baseline file at `path`.
    pub fn apply_baseline_file(&mut self, path: &Path) -> Result<(), String> {
        let b = crate::baseline::Baseline::read(path)
            .map_err(|e| format!("baseline {}: {e}", path.display()))?;
        self.apply_baseline(&b);
        Ok(())
    }
    /// Record the findings in a baseline file at `path` (written only inside the current
    /// directory or the scan root of `paths`); returns how many.
    pub fn write_baseline(&self, path: &Path, paths: &[PathBuf]) -> Result<usize, String> {
        let b = crate::baseline::Baseline::build(&self.scan, &self.findings);
        crate::write::write_report(path, &report_trees(paths), b.to_json().as_bytes())
            .map_err(|e| e.0)?;
        Ok(b.findings.len())
    }
}

/// What `--diff` found: the fixes applied to copies of the analysed files, none written.
pub struct Diff {
    /// `(relative path, text before, text after)` of every file the fixes change.
    pub changed: Vec<(String, String, String)>,
    pub report: FixReport,
    /// The check of the original files (for their input errors).
    pub before: Outcome,
}

/// Everything a run needs besides the paths.
pub struct Engine {
    rules: RuleSet,
    config: Loaded,
    selection: Selection,
    excludes: PathMatcher,
    settings: Settings,
    max_file_size: u64,
    walk: WalkOptions,
    /// The CI run's repository identity, applied per scan root.
    ci: Option<CiContext>,
}

impl Diff {
    /// The changes as a unified diff (`a/PATH`, `b/PATH`), empty when nothing would change;
    /// `name` renders a path for the headers (a printer sanitises it).
    pub fn patch(&self, name: impl Fn(&str) -> String) -> String {
        let mut patch = String::new();
        for (rel, before, after) in &self.changed {
            let p = diffy::DiffOptions::new()
                .set_original_filename(format!("a/{}", name(rel)))
                .set_modified_filename(format!("b/{}", name(rel)))
                .create_patch(before, after);
            patch.push_str(&p.to_string());
        }
        patch
    }
}

impl Engine {
    /// An engine running the selected members of `rules` under `config`; rules the
    /// configuration disables are dropped from the selection.
    pub fn new(rules: RuleSet, config: Loaded, mut selection: Selection) -> Engine {
        selection.ignore.extend(config.disabled());
        Engine {
            excludes: config.excludes(),
            settings: config.settings(),
            rules,
            config,
            selection,
            max_file_size: 10 * 1024 * 1024,
            walk: WalkOptions::default(),
            ci: None,
        }
    }
    /// Skip files larger than this many bytes.
    pub fn max_file_size(mut self, bytes: u64) -> Engine {
        self.max_file_size = bytes;
        self
    }
    /// Honour no ignore rule (`--no-ignore`): untracked files `.gitignore` skips are scanned.
    pub fn no_ignore(mut self, no_ignore: bool) -> Engine {
        self.walk.no_ignore = no_ignore;
        self
    }
    /// The repository's default branch (`--default-branch`), over the configuration's.
    pub fn default_branch(mut self, branch: Option<String>) -> Engine {
        if branch.is_some() {
            self.settings.default_branch = branch;
        }
        self
    }
    /// What the GitHub Actions run this scan happens in tells about the repository
    /// ([`CiContext::from_env`]): it fills what flags and configuration leave unknown.
    pub fn ci(mut self, ci: Option<CiContext>) -> Engine {
        self.ci = ci;
        self
    }
    /// `OWNER/REPO` of the scanned repository, over the configuration's.
    pub fn repo(mut self, repo: Option<String>) -> Engine {
        if repo.is_some() {
            self.settings.repo = repo;
        }
        self
    }
    pub fn config(&self) -> &Loaded {
        &self.config
    }
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }
    /// Whether `findings` fail the run: any at or above `fail_on` (the flag), else the
    /// configuration's `fail-on`, else warning.
    pub fn fails(&self, findings: &[Finding], fail_on: Option<config::FailOn>) -> bool {
        let fail_on = fail_on
            .or(self.config.config.fail_on)
            .unwrap_or(config::FailOn::Warning);
        findings.iter().any(|f| fail_on.fails(f.severity))
    }
    /// Whether the configuration's `exclude` drops the file at `(relative path, path)`.
    fn excluded(&self, rel: &str, path: &Path) -> bool {
        !self.excludes.matches(rel, path).is_empty()
    }
    /// Whether `id` names a rule this engine can report (a member of its set or
    /// `unused-suppression`).
    pub fn knows(&self, id: &str) -> bool {
        id == suppress::UNUSED_META.id || self.rules.find(id).is_some()
    }

    /// Check `paths` as they are on disk.
    pub fn check(&self, paths: &[PathBuf]) -> Outcome {
        self.check_with_overlay(paths, &[])
    }

    /// Check `paths` with in-memory contents replacing files on disk: each `(path, text)` is
    /// read instead of the file at `path` (an editor's unsaved buffer checked against the rest
    /// of its workspace). Findings in every file come back; a client keeps those it wants.
    pub fn check_with_overlay(&self, paths: &[PathBuf], overlays: &[(PathBuf, String)]) -> Outcome {
        self.check_under(crate::scan::root_for(paths), paths, overlays)
    }

    fn check_under(
        &self,
        root: PathBuf,
        paths: &[PathBuf],
        overlays: &[(PathBuf, String)],
    ) -> Outcome {
        let scan = self.scan_under(root, paths, overlays);
        self.finish_then(scan, &[], &|_| false, None, JudgeMemo::default(), |_, _| ())
            .0
    }

    /// Check `paths` as they are on disk and hand the check's shared views (the role analysis,
    /// the judgements) and its findings to `then`, before they are dropped: a client that reads
    /// them (the audit) reads the check's own result instead of analysing the scan again.
    pub fn check_then<R>(
        &self,
        paths: &[PathBuf],
        then: impl FnOnce(&Ctx<'_>, &[Finding]) -> R,
    ) -> (Outcome, R) {
        let scan = self.scan_under(crate::scan::root_for(paths), paths, &[]);
        self.finish_then(scan, &[], &|_| false, None, JudgeMemo::default(), then)
    }

    fn scan_under(&self, root: PathBuf, paths: &[PathBuf], overlays: &[(PathBuf, String)]) -> Scan {
        let mut settings = self.settings.clone();
        if let Some(ci) = &self.ci {
            ci.apply(&mut settings, &root);
        }
        let opts = ScanOptions {
            root,
            paths: paths.to_vec(),
            max_file_size: self.max_file_size,
            settings,
        };
        // The configuration's `exclude` (the engine's own matcher), for the summary's count of
        // excluded files.
        let excluded = |rel: &str, path: &Path| self.excluded(rel, path);
        let walk = WalkSettings {
            walk: self.walk.clone(),
            excluded: (!self.excludes.is_empty())
                .then_some(&excluded as &crate::scan::ExcludeFn<'_>),
        };
        scan_with(&opts, &walk, overlays)
    }

    /// Check again after some files changed, re-reading only those files into the previous
    /// check's `scan` (see [`crate::scan::rescan`]: `(path, Some(buffer))` or `(path, None)` to
    /// read the disk), then running the rules over the whole workspace (when only workflows and
    /// actions changed, the rules that read neither keep their previous findings). When a change cannot be
    /// applied file by file, the workspace `paths` is checked in full with `overlays`.
    pub fn recheck(
        &self,
        previous: Outcome,
        changes: &[(PathBuf, Option<String>)],
        paths: &[PathBuf],
        overlays: &[(PathBuf, String)],
    ) -> Outcome {
        // Rules that read no workflow or action keep their findings when only workflows and
        // actions changed (file ids survive a re-scan; those rules' files did not change).
        let only_workflows = changes.iter().all(|(p, _)| {
            matches!(
                crate::frontend::classify_by_name(&p.to_string_lossy().replace('\\', "/")),
                Some(crate::source::Format::Workflow | crate::source::Format::Action)
            )
        });
        let Outcome {
            mut scan,
            rule_findings: previous,
            limits: previous_limits,
            added_warnings,
            judge_memo,
            ..
        } = previous;
        let own = scan.warnings.len().saturating_sub(added_warnings);
        scan.warnings.truncate(own);
        // The files the changes touch, before and after the re-scan (a deleted file is only in
        // the first, a new one only in the second): per-file rules judge these again and keep
        // their findings elsewhere.
        let key = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let changed: HashSet<PathBuf> = changes.iter().map(|(p, _)| key(p)).collect();
        let touched = |scan: &Scan| -> Vec<FileId> {
            scan.files()
                .filter(|(_, f)| {
                    changed.iter().any(|c| crate::scan::may_be_same(c, &f.path))
                        && changed.contains(&key(&f.path))
                })
                .map(|(id, _)| id)
                .collect()
        };
        let mut focus: HashSet<FileId> = touched(&scan).into_iter().collect();

        if crate::scan::rescan(&mut scan, self.max_file_size, changes) {
            focus.extend(touched(&scan));
            let reuse = |m: &RuleMeta| {
                only_workflows
                    && !m
                        .applies_to
                        .iter()
                        .any(|k| *k == "workflow" || *k == "action")
            };
            // The verdicts of the previous check hold while no role or policy changed: kept
            // when only workflows and actions did (which hold none).
            let memo = if only_workflows {
                judge_memo
            } else {
                JudgeMemo::default()
            };
            let (mut out, ()) =
                self.finish_then(scan, &previous, &reuse, Some(&focus), memo, |_, _| ());
            // The kept findings' rules did not run again: what they gave up on still holds
            // (the matcher's record cannot tell which rule gave up, so the previous one is kept
            // whenever some findings were).
            if only_workflows {
                out.limits.wildcard = out.limits.wildcard.max(previous_limits.wildcard);
            }
            out
        } else {
            drop((scan, previous));
            self.check_with_overlay(paths, overlays)
        }
    }

    /// Rules (keeping the findings of those `reuse` names from `previous`), excludes,
    /// severities and suppressions over a scan; `then` reads the check's views and findings.
    fn finish_then<R>(
        &self,
        mut scan: Scan,
        previous: &[Finding],
        reuse: &dyn Fn(&RuleMeta) -> bool,
        focus: Option<&HashSet<FileId>>,
        judge_memo: JudgeMemo,
        then: impl FnOnce(&Ctx<'_>, &[Finding]) -> R,
    ) -> (Outcome, R) {
        let excluded = |rel: &str, path: &Path| self.excluded(rel, path);
        if !self.excludes.is_empty() {
            let root = scan.root.clone();
            scan.errors
                .retain(|e| !excluded(&e.path, &root.join(&e.path)));
        }
        let cx = Ctx::focused(&scan, focus).with_judge_memo(judge_memo);
        let (found, limits) = rules_on(&cx, &self.rules, &self.selection, previous, reuse, focus);
        // Judging jobs against trust policies without knowing the default branch or subject
        // form is said once in the summary, not skipped silently. (No rule reads warnings.)
        let unknown = if [
            "role-trust-rejects-job",
            "role-trust-admits-untrusted-events",
        ]
        .iter()
        .any(|id| self.selection.enabled(id))
        {
            crate::analysis::subjects::unknown_context(&scan, cx.trusts(), cx.analysis().form)
        } else {
            vec![]
        };
        let rule_findings = found.clone();
        let (findings, suppressed) = self.select(&scan, found);
        let r = then(&cx, &findings);
        // A verdict whose evaluation gave up on a comparison is not kept: a later check that
        // took it from the memo would not say that it gave up.
        let judge_memo = if limits.wildcard.is_none() {
            cx.take_judge_memo()
        } else {
            JudgeMemo::default()
        };
        drop(cx);
        let added_warnings = unknown.len();
        scan.warnings.extend(unknown);
        let out = Outcome {
            scan,
            findings,
            suppressed,
            rule_findings,
            limits,
            added_warnings,
            judge_memo,
        };
        (out, r)
    }

    /// Excludes, severities and suppressions over the rules' findings `found` on `scan`.
    fn select(&self, scan: &Scan, found: Vec<Finding>) -> (Vec<Finding>, Vec<Suppressed>) {
        let excluded = |rel: &str, path: &Path| self.excluded(rel, path);
        let mut findings = found;
        if !self.excludes.is_empty() {
            findings.retain(|f| {
                let src = scan.file(f.file);
                !excluded(&src.rel, &src.path)
            });
        }
        for f in &mut findings {
            if let Some(s) = self.config.severity_for(f.rule) {
                f.severity = s;
            }
        }
        let ran = |id: &str| self.selection.enabled(id);
        let known = |id: &str| self.knows(id);
        let out = suppress::apply(scan, findings, &self.config, &ran, &known);
        let mut findings = out.findings;
        if let Some(s) = self.config.severity_for(suppress::UNUSED_META.id) {
            for f in findings
                .iter_mut()
                .filter(|f| f.rule == suppress::UNUSED_META.id)
            {
                f.severity = s;
            }
        }
        if !self.excludes.is_empty() {
            findings.retain(|f| {
                let src = scan.file(f.file);
                !excluded(&src.rel, &src.path)
            });
        }
        (findings, out.suppressed)
    }

    /// `--fix`: apply fixes to the files under `paths` until none is left, then check again.
    /// Files are written only inside the scan root and the path arguments (see
    /// [`crate::write::bases`]).
    pub fn fix(&self, paths: &[PathBuf], unsafe_fixes: bool) -> (FixReport, Outcome) {
        let mut bases = paths.to_vec();
        bases.push(crate::scan::root_for(paths));
        let bases = crate::write::bases(&bases);
        let rep = fix::fix_to_fixed_point(
            || {
                let a = self.check(paths);
                (a.scan, a.findings)
            },
            unsafe_fixes,
            &bases,
        );
        (rep, self.check(paths))
    }

    /// `--diff`: run the fixes on a copy of the analysed files and return what would change.
    pub fn diff(&self, paths: &[PathBuf], unsafe_fixes: bool) -> Result<Diff, String> {
        let before = self.check(paths);
        let tmp =
            tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let mut originals: Vec<(String, String, PathBuf)> = Vec::new();
        // One copy per analysed file, even when two arguments name it differently.
        let mut layout = crate::write::CopyLayout::new(tmp.path());
        for (_, src) in before.scan.files() {
            let dest = layout.place(&src.rel);
            dest.parent()
                .map(std::fs::create_dir_all)
                .unwrap_or(Ok(()))
                .and_then(|_| std::fs::copy(&src.path, &dest))
                .map_err(|e| format!("cannot copy {}: {e}", src.rel))?;
            originals.push((src.rel.clone(), src.text.clone(), dest));
        }
        let copy = tmp.path().to_path_buf();
        let rep = fix::fix_to_fixed_point(
            || {
                let a = self.check_under(copy.clone(), std::slice::from_ref(&copy), &[]);
                (a.scan, a.findings)
            },
            unsafe_fixes,
            &std::fs::canonicalize(tmp.path())
                .into_iter()
                .collect::<Vec<_>>(),
        );
        let mut changed = Vec::new();
        for (rel, before, dest) in &originals {
            let Ok(after) = std::fs::read_to_string(dest) else {
                continue;
            };
            // The scan reads a UTF-8 BOM as three spaces; compare like with like.
            let after = if before.starts_with("   ") && after.starts_with('\u{feff}') {
                after.replacen('\u{feff}', "   ", 1)
            } else {
                after
            };
            if &after != before {
                changed.push((rel.clone(), before.clone(), after));
            }
        }
        Ok(Diff {
            changed,
            report: rep,
            before,
        })
    }
}
