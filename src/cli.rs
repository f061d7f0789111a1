//! Command-line interface.

use crate::config::{self, FailOn, Loaded};
use crate::diag::Finding;
use crate::report::{self, Report};
use crate::rules::RuleMeta;
use crate::scan::{Scan, ScanOptions, WalkSettings, root_for, scan_with};
use crate::suppress::{self, Suppressed};
use crate::{Selection, check, rules};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "oidc-lint",
    version,
    about = "Checks that a GitHub Actions → AWS OIDC setup is safe and will work",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(clap::Args, Debug, Default)]
pub struct CheckArgs {
    /// Files or directories to scan (directories honour .gitignore for untracked files).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// When to colour human output (NO_COLOR is honoured).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print findings only, no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Honour no ignore rule: scan untracked files that .gitignore, .git/info/exclude,
    /// node_modules or .terraform would skip.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip files larger than this many bytes (reported as errors when they would be analysed).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Worker threads for parsing and rules (default or 0: all cores; at most 4 per core; output is the same for any N).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Benchmark floor (undocumented): `read` only reads every candidate file, `parse` also
    /// parses the analysed ones with the same parsers; no model, no rules, no report.
    #[arg(long, hide = true, value_name = "read|parse")]
    pub floor: Option<String>,
    /// Write the report to FILE (atomically) instead of stdout; human output still goes to the
    /// terminal.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file (default: oidc-lint.toml or .oidc-lint.toml found upward from the
    /// first scanned path).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also list findings silenced by suppressions.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Record the current findings in FILE and exit.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fix", "diff"])]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings not recorded in FILE (written by --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Apply safe fixes, then report what is left.
    #[arg(long)]
    pub fix: bool,
    /// Also apply unsafe fixes (with --fix or --diff).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Show the fixes as a unified diff without writing anything.
    #[arg(long)]
    pub diff: bool,
    /// Lowest severity that fails the run (default: warning, or `fail-on` in the configuration).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Exit 0 even with findings (input errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Load custom rules (`*.yml`/`*.yaml`) from this directory.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// `OWNER/REPO` of the scanned repository (default: its `origin` remote).
    #[arg(long)]
    pub repo: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. trust-missing-sub.
        rule: String,
    },
    /// List all rules.
    Rules {
        /// Print the list as the Markdown table used in the README.
        #[arg(long)]
        markdown: bool,
    },
    /// Print the model view custom rules select from (JSON, one object per document).
    DumpModel {
        /// Files or directories to read.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Add an `@span` member (FILE:LINE:COL-LINE:COL) to every object.
        #[arg(long)]
        spans: bool,
    },
    /// Inventory every job that reaches AWS, and how to migrate static keys to OIDC.
    Audit(crate::audit::AuditArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Exit codes: 0 clean, 1 findings, 2 usage or input errors.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {}", report::sanitize::inline(msg));
    ExitCode::from(EXIT_ERROR)
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Explain { rule }) => match find_meta(&rule) {
            Some(m) => {
                print!("{}", m.doc);
                ExitCode::from(EXIT_OK)
            }
            None => usage_error(&format!(
                "unknown rule `{rule}`; `oidc-lint rules` lists them"
            )),
        },
        Some(Command::Rules { markdown: true }) => {
            print!("{}", rules::markdown_table());
            ExitCode::from(EXIT_OK)
        }
        Some(Command::Rules { markdown: false }) => {
            let mut out = String::new();
            for r in rules::registry() {
                let m = r.meta();
                out.push_str(&format!(
                    "{:<36} {:<8} {:<4} {:<52} {}\n",
                    m.id,
                    m.severity.as_str(),
                    if m.fixable { "fix" } else { "-" },
                    m.applies_to.join(","),
                    m.summary
                ));
            }
            print!("{out}");
            ExitCode::from(EXIT_OK)
        }
        Some(Command::DumpModel { paths, spans }) => crate::custom::dump::run(&paths, spans),
        Some(Command::Audit(a)) => crate::audit::run(a),
        // A local pool (0 = all cores, clamped) whose threads have room for the deepest
        // nesting the parsers accept, even in debug builds; stacks are reserved, not touched.
        None => match rayon::ThreadPoolBuilder::new()
            .num_threads(crate::config::worker_threads(cli.check.threads))
            .stack_size(64 << 20)
            .build()
        {
            Ok(pool) => pool.install(|| run_check(cli.check)),
            Err(e) => usage_error(&format!("cannot start worker threads: {e}")),
        },
    }
}

/// Every rule the tool can report: the registry plus `unused-suppression`.
pub fn all_meta() -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> = rules::registry().into_iter().map(|r| r.meta()).collect();
    v.push(&suppress::UNUSED_META);
    v.sort_by_key(|m| m.id);
    v
}

fn find_meta(id: &str) -> Option<&'static RuleMeta> {
    all_meta().into_iter().find(|m| m.id == id)
}

fn known_rule(id: &str) -> bool {
    find_meta(id).is_some()
}

/// One analysis of the files as they are now.
struct Analysis {
    scan: Scan,
    findings: Vec<Finding>,
    suppressed: Vec<Suppressed>,
}

struct Pipeline {
    opts: ScanOptions,
    walk: WalkSettings,
    sel: Selection,
    config: Loaded,
    excludes: config::PathMatcher,
}

impl Pipeline {
    fn analyse(&self) -> Analysis {
        let mut scan = scan_with(&self.opts, &self.walk);
        if !self.excludes.is_empty() {
            let ex = &self.excludes;
            scan.errors
                .retain(|e| ex.matches(&e.path, &scan.root.join(&e.path)).is_empty());
        }
        let mut findings = check(&scan, &self.sel);
        if !self.excludes.is_empty() {
            findings.retain(|f| {
                let src = scan.file(f.file);
                self.excludes.matches(&src.rel, &src.path).is_empty()
            });
        }
        for f in &mut findings {
            if let Some(s) = self.config.severity_for(f.rule) {
                f.severity = s;
            }
        }
        let ran = |id: &str| self.sel.enabled(id);
        let out = suppress::apply(&scan, findings, &self.config, &ran, &known_rule);
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
                self.excludes.matches(&src.rel, &src.path).is_empty()
            });
        }
        Analysis {
            scan,
            findings,
            suppressed: out.suppressed,
        }
    }
}

/// The walk: `--no-ignore`, and the configuration's `exclude` for the summary's count.
fn walk_settings(no_ignore: bool, loaded: &Loaded) -> WalkSettings {
    let ex = loaded.excludes();
    WalkSettings {
        walk: crate::source::discover::WalkOptions { no_ignore },
        excluded: (!ex.is_empty()).then(|| {
            Box::new(move |rel: &str, path: &Path| !ex.matches(rel, path).is_empty())
                as Box<dyn Fn(&str, &Path) -> bool + Send + Sync>
        }),
    }
}

fn load_config(args: &CheckArgs) -> Result<Loaded, String> {
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => args.paths.first().and_then(|p| config::find(p)),
    };
    match path {
        Some(p) => config::load(&p, &known_rule),
        None => Ok(Loaded::default()),
    }
}

fn run_check(args: CheckArgs) -> ExitCode {
    if let Some(dir) = &args.rules
        && let Err(e) = crate::custom::install(std::slice::from_ref(dir))
    {
        return usage_error(&e.to_string());
    }
    for id in args.select.iter().chain(&args.ignore) {
        if !known_rule(id) {
            return usage_error(&format!("unknown rule `{id}` in --select/--ignore"));
        }
    }
    if args.unsafe_fixes && !args.fix && !args.diff {
        return usage_error("--unsafe-fixes needs --fix or --diff");
    }
    let loaded = match load_config(&args) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let root = root_for(&args.paths);
    if let Some(mode) = &args.floor {
        return crate::floor::run(mode, &root, &args.paths, args.max_file_size);
    }
    let mut ignore = args.ignore.clone();
    ignore.extend(loaded.disabled());
    let excludes = loaded.excludes();
    let mut settings = loaded.settings();
    if args.repo.is_some() {
        settings.repo = args.repo.clone();
    }
    let pipeline = Pipeline {
        opts: ScanOptions {
            root,
            paths: args.paths.clone(),
            max_file_size: args.max_file_size,
            settings,
        },
        sel: Selection {
            select: args.select.clone(),
            ignore,
        },
        walk: walk_settings(args.no_ignore, &loaded),
        excludes,
        config: loaded,
    };
    if args.diff {
        return run_diff(&args, &pipeline);
    }
    if args.fix {
        let rep = crate::fix::fix_to_fixed_point(
            || {
                let a = pipeline.analyse();
                (a.scan, a.findings)
            },
            args.unsafe_fixes,
            &fix_bases(&args, &pipeline),
        );
        for e in &rep.errors {
            eprintln!("error: {}", report::sanitize::inline(&e.to_string()));
        }
        if !rep.converged {
            eprintln!(
                "warning: fixes still applicable after {} passes; run --fix again",
                crate::fix::MAX_PASSES
            );
        }
        if rep.applied > 0 {
            eprintln!(
                "Fixed {} finding{} in {} file{}.",
                rep.applied,
                if rep.applied == 1 { "" } else { "s" },
                rep.files.len(),
                if rep.files.len() == 1 { "" } else { "s" }
            );
        }
        let code = report_and_exit(&args, &pipeline, pipeline.analyse());
        if !rep.errors.is_empty() {
            return ExitCode::from(EXIT_ERROR);
        }
        return code;
    }
    let analysis = pipeline.analyse();
    if let Some(path) = &args.write_baseline {
        let b = crate::baseline::Baseline::build(&analysis.scan, &analysis.findings);
        if let Err(e) =
            crate::write::write_report(path, &report_trees(&pipeline), b.to_json().as_bytes())
        {
            return usage_error(&e.0);
        }
        eprintln!(
            "Wrote {} finding{} to {}.",
            b.findings.len(),
            if b.findings.len() == 1 { "" } else { "s" },
            path.display()
        );
        eprint!(
            "{}",
            report::human::render_errors(&Report {
                scan: &analysis.scan,
                findings: &[],
            })
        );
        return ExitCode::from(if analysis.scan.errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        });
    }
    report_and_exit(&args, &pipeline, analysis)
}

fn use_color(args: &CheckArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn report_and_exit(args: &CheckArgs, pipeline: &Pipeline, mut a: Analysis) -> ExitCode {
    for w in &a.scan.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(path) = &args.baseline {
        let b = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| crate::baseline::Baseline::parse(&t))
        {
            Ok(b) => b,
            Err(e) => return usage_error(&format!("baseline {}: {e}", path.display())),
        };
        b.filter(&a.scan, &mut a.findings);
    }
    let shown_suppressed: &[Suppressed] = if args.show_suppressed {
        &a.suppressed
    } else {
        &[]
    };
    let report = Report {
        scan: &a.scan,
        findings: &a.findings,
    };
    let color = use_color(args) && args.output.is_none();
    let human = || {
        let mut s = report::human::render(&report, color, args.quiet);
        s.push_str(&report::human::render_suppressed(&a.scan, shown_suppressed));
        s
    };
    if let Some(note) = crate::wildcard::over_limit_note() {
        eprintln!("{note}");
    }
    let out = match args.format {
        OutputFormat::Human => {
            eprint!("{}", report::human::render_errors(&report));
            if args.output.is_some() {
                let mut s = report::human::render(&report, false, args.quiet);
                s.push_str(&report::human::render_suppressed(&a.scan, shown_suppressed));
                s
            } else {
                human()
            }
        }
        OutputFormat::Json => report::json::render_with_suppressed(&report, shown_suppressed),
        OutputFormat::Sarif => report::sarif::render(&report, &all_meta(), shown_suppressed),
        OutputFormat::Github => report::github::render(&report),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) =
                crate::write::write_report(path, &report_trees(pipeline), out.as_bytes())
            {
                return usage_error(&e.0);
            }
            if args.format != OutputFormat::Human {
                eprint!("{}", report::human::render_errors(&report));
                print!("{}", human());
            }
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
        }
    }
    let code = exit_code(args, pipeline, &a.scan, &a.findings);
    // The process ends here: freeing every file's text and model one by one would only
    // delay the exit (a few percent of a run); the OS takes the memory back at once.
    std::mem::forget(a);
    code
}

fn exit_code(args: &CheckArgs, pipeline: &Pipeline, scan: &Scan, findings: &[Finding]) -> ExitCode {
    let fail_on = args
        .fail_on
        .or(pipeline.config.config.fail_on)
        .unwrap_or(FailOn::Warning);
    if !scan.errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if !args.exit_zero && findings.iter().any(|f| fail_on.fails(f.severity)) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// `--diff`: run the fixes on a copy of the analysed files and print what would change.
fn run_diff(args: &CheckArgs, pipeline: &Pipeline) -> ExitCode {
    let first = pipeline.analyse();
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => return usage_error(&format!("cannot create a temporary directory: {e}")),
    };
    let mut originals: Vec<(String, String, PathBuf)> = Vec::new();
    let mut layout = crate::write::CopyLayout::new(tmp.path());
    for (_, src) in first.scan.files() {
        let dest = layout.place(&src.rel);
        let copied = dest
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .and_then(|_| std::fs::copy(&src.path, &dest));
        if let Err(e) = copied {
            return usage_error(&format!("cannot copy {}: {e}", src.rel));
        }
        originals.push((src.rel.clone(), src.text.clone(), dest));
    }
    let copy = Pipeline {
        opts: ScanOptions {
            root: tmp.path().to_path_buf(),
            paths: vec![tmp.path().to_path_buf()],
            max_file_size: pipeline.opts.max_file_size,
            settings: pipeline.opts.settings.clone(),
        },
        sel: pipeline.sel.clone(),
        walk: WalkSettings::default(),
        config: pipeline.config.clone(),
        excludes: pipeline.config.excludes(),
    };
    let rep = crate::fix::fix_to_fixed_point(
        || {
            let a = copy.analyse();
            (a.scan, a.findings)
        },
        args.unsafe_fixes,
        &std::fs::canonicalize(tmp.path())
            .into_iter()
            .collect::<Vec<_>>(),
    );
    for e in &rep.errors {
        eprintln!("error: {e}");
    }
    let mut out = String::new();
    for (rel, before, dest) in &originals {
        let Ok(after) = std::fs::read_to_string(dest) else {
            continue;
        };
        let after = if before.starts_with("   ") && after.starts_with('\u{feff}') {
            after.replacen('\u{feff}', "   ", 1)
        } else {
            after
        };
        if &after != before {
            let patch = diffy::DiffOptions::new()
                .set_original_filename(format!("a/{}", report::sanitize::inline(rel)))
                .set_modified_filename(format!("b/{}", report::sanitize::inline(rel)))
                .create_patch(before, &after);
            out.push_str(&patch.to_string());
        }
    }
    print!("{}", report::sanitize::block(&out));
    if rep.applied > 0 {
        eprintln!(
            "Would fix {} finding{} in {} file{}.",
            rep.applied,
            if rep.applied == 1 { "" } else { "s" },
            rep.files.len(),
            if rep.files.len() == 1 { "" } else { "s" }
        );
    }
    if !first.scan.errors.is_empty() {
        eprint!(
            "{}",
            report::human::render_errors(&Report {
                scan: &first.scan,
                findings: &[],
            })
        );
        ExitCode::from(EXIT_ERROR)
    } else if out.is_empty() {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_FINDINGS)
    }
}

/// Where `--fix` may write: the scan root and each path argument, as they are on disk.
fn fix_bases(args: &CheckArgs, pipeline: &Pipeline) -> Vec<PathBuf> {
    let mut paths = args.paths.clone();
    paths.push(pipeline.opts.root.clone());
    crate::write::bases(&paths)
}

/// The trees `--output` and `--write-baseline` must not leave through a symbolic link: the
/// current directory and the scan root.
fn report_trees(pipeline: &Pipeline) -> Vec<PathBuf> {
    vec![PathBuf::from("."), pipeline.opts.root.clone()]
}
