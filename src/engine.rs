//! The run as a library: an [`Engine`] built from a configuration and a [`RuleSet`] checks
//! paths (or one changed buffer against the rest of a workspace) and returns an [`Outcome`]:
//! the scan, the findings after selection, excludes, severity overrides, suppressions and
//! ordering, and what suppressions silenced. The CLI, `--fix`/`--diff` and a language server are
//! clients of this module; none of it prints or exits.

use crate::config::{self, Loaded, PathMatcher};
use crate::diag::Finding;
use crate::fix::{self, FixReport};
use crate::model::{Scan, Settings};
use crate::rules::{Ctx, RuleMeta, RuleSet};
use crate::scan::{ScanOptions, WalkSettings, scan_with};
use crate::source::discover::WalkOptions;
use crate::suppress::{self, Suppressed};
use rayon::prelude::*;
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
    run_rules_reusing(scan, rules, sel, &[], &|_| false)
}

/// [`run_rules`], taking the findings of the rules `reuse` names from `previous` (an earlier
/// run's) instead of running them again.
fn run_rules_reusing(
    scan: &Scan,
    rules: &RuleSet,
    sel: &Selection,
    previous: &[Finding],
    reuse: &dyn Fn(&RuleMeta) -> bool,
) -> Vec<Finding> {
    let (kept, rules): (Vec<_>, Vec<_>) = rules
        .iter()
        .filter(|r| sel.enabled(r.meta().id))
        .partition(|r| reuse(r.meta()));
    let kept: std::collections::HashSet<&str> = kept.iter().map(|r| r.meta().id).collect();
    let cx = Ctx::new(scan);
    // The shared cross-file views first, side by side: a rule waiting on a view another
    // thread is still computing would leave its core idle. They must all be ready before the
    // rules run: `judged` works in parallel, and a worker waiting inside it could pick up a
    // rule that asks for `judged` again (a re-entrant initialisation, a deadlock).
    rayon::join(
        || {
            cx.judged();
        },
        || {
            cx.github_roles();
            cx.providers();
        },
    );
    let mut findings: Vec<Finding> = previous
        .iter()
        .filter(|f| kept.contains(f.rule))
        .cloned()
        .collect();
    findings.extend(
        rules
            .par_iter()
            .with_max_len(1)
            .flat_map_iter(|r| {
                let mut out = Vec::new();
                r.check(&cx, &mut out);
                out
            })
            .collect::<Vec<_>>(),
    );
    crate::diag::order(scan, &mut findings);
    findings.dedup();
    findings
}

/// Every rule a run with `rules` can report: the set plus `unused-suppression`, in id order.
pub fn reportable(rules: &RuleSet) -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> = rules.iter().map(|r| r.meta()).collect();
    v.push(&suppress::UNUSED_META);
    v.sort_by_key(|m| m.id);
    v
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
    let metas = reportable(rules);
    let known = |id: &str| metas.iter().any(|m| m.id == id);
    match path {
        Some(p) => config::load(&p, &known),
        None => Ok(Loaded::default()),
    }
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
}

impl Outcome {
    /// Drop the findings recorded in `baseline` (`--baseline`).
    pub fn apply_baseline(&mut self, baseline: &crate::baseline::Baseline) {
        baseline.filter(&self.scan, &mut self.findings);
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
        let opts = ScanOptions {
            root,
            paths: paths.to_vec(),
            max_file_size: self.max_file_size,
            settings: self.settings.clone(),
        };
        // The configuration's `exclude`, for the summary's count of excluded files.
        let ex = self.config.excludes();
        let walk = WalkSettings {
            walk: self.walk.clone(),
            excluded: (!ex.is_empty()).then(|| {
                Box::new(move |rel: &str, path: &Path| !ex.matches(rel, path).is_empty())
                    as Box<dyn Fn(&str, &Path) -> bool + Send + Sync>
            }),
        };
        let scan = scan_with(&opts, &walk, overlays);
        self.finish(scan)
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
            ..
        } = previous;
        if crate::scan::rescan(&mut scan, self.max_file_size, changes) {
            let reuse = |m: &RuleMeta| {
                only_workflows
                    && !m
                        .applies_to
                        .iter()
                        .any(|k| *k == "workflow" || *k == "action")
            };
            let found = run_rules_reusing(&scan, &self.rules, &self.selection, &previous, &reuse);
            self.finish_with(scan, found)
        } else {
            drop((scan, previous));
            self.check_with_overlay(paths, overlays)
        }
    }

    /// Rules, excludes, severities and suppressions over a scan.
    fn finish(&self, scan: Scan) -> Outcome {
        let found = run_rules(&scan, &self.rules, &self.selection);
        self.finish_with(scan, found)
    }

    /// Excludes, severities and suppressions over the rules' findings `found` on `scan`.
    fn finish_with(&self, mut scan: Scan, found: Vec<Finding>) -> Outcome {
        let excluded = |rel: &str, path: &Path| !self.excludes.matches(rel, path).is_empty();
        if !self.excludes.is_empty() {
            let root = scan.root.clone();
            scan.errors
                .retain(|e| !excluded(&e.path, &root.join(&e.path)));
        }
        let rule_findings = found.clone();
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
        let out = suppress::apply(&scan, findings, &self.config, &ran, &known);
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
        Outcome {
            scan,
            findings,
            suppressed: out.suppressed,
            rule_findings,
        }
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
