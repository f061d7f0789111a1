//! Command-line interface: argument parsing, printing and exit codes. The run itself is
//! [`crate::engine`].

use crate::config::FailOn;
use crate::engine::{self, Engine, Outcome, Selection};
use crate::report::{self, Report};
use crate::rules::{self, RuleMeta, RuleSet};
use crate::suppress::Suppressed;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
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

pub use crate::report::Format as OutputFormat;

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
            print!("{}", rules::plain_table());
            ExitCode::from(EXIT_OK)
        }
        Some(Command::DumpModel { paths, spans }) => {
            let (scan, out) = crate::custom::dump::run(&paths, spans);
            eprint!(
                "{}",
                report::human::render_errors(&Report {
                    scan: &scan,
                    findings: &[],
                })
            );
            print_out(&out);
            exit(!scan.errors.is_empty(), false)
        }
        Some(Command::Audit(a)) => match crate::audit::run(a) {
            Ok(text) => {
                print_out(&text);
                ExitCode::from(EXIT_OK)
            }
            Err(e) => usage_error(&e),
        },
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

/// 2 on input errors, else 1 on (failing) findings, else 0.
fn exit(errors: bool, findings: bool) -> ExitCode {
    ExitCode::from(if errors {
        EXIT_ERROR
    } else if findings {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Every built-in rule the tool can report: the registry plus `unused-suppression`.
pub fn all_meta() -> Vec<&'static RuleMeta> {
    engine::reportable(&RuleSet::builtin())
}

fn find_meta(id: &str) -> Option<&'static RuleMeta> {
    all_meta().into_iter().find(|m| m.id == id)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `Fixed 2 findings in 1 file.` on stderr, when fixes were applied.
fn summarise(verb: &str, rep: &crate::fix::FixReport) {
    if rep.applied > 0 {
        let files = rep.files.len();
        eprintln!(
            "{verb} {} finding{} in {files} file{}.",
            rep.applied,
            plural(rep.applied),
            plural(files)
        );
    }
}

fn run_check(args: CheckArgs) -> ExitCode {
    let mut rule_set = RuleSet::builtin();
    if let Some(dir) = &args.rules {
        match crate::custom::load(std::slice::from_ref(dir)) {
            Ok(custom) => rule_set = rule_set.with(custom),
            Err(e) => return usage_error(&e.to_string()),
        }
    }
    let metas = engine::reportable(&rule_set);
    for id in args.select.iter().chain(&args.ignore) {
        if !metas.iter().any(|m| m.id == id) {
            return usage_error(&format!("unknown rule `{id}` in --select/--ignore"));
        }
    }
    if args.unsafe_fixes && !args.fix && !args.diff {
        return usage_error("--unsafe-fixes needs --fix or --diff");
    }
    let loaded = match engine::load_config(args.config.as_deref(), &args.paths, &rule_set) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    if let Some(mode) = &args.floor {
        let root = crate::scan::root_for(&args.paths);
        return match crate::floor::run(mode, &root, &args.paths, args.max_file_size) {
            Ok(line) => {
                println!("{line}");
                ExitCode::from(EXIT_OK)
            }
            Err(e) => usage_error(&e),
        };
    }
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let engine = Engine::new(rule_set, loaded, selection)
        .max_file_size(args.max_file_size)
        .repo(args.repo.clone())
        .no_ignore(args.no_ignore);
    if args.diff {
        return match engine.diff(&args.paths, args.unsafe_fixes) {
            Ok(d) => {
                for e in &d.report.errors {
                    eprintln!("error: {}", report::sanitize::inline(&e.to_string()));
                }
                let patch = d.patch(|rel| report::sanitize::inline(rel).into_owned());
                print!("{}", report::sanitize::block(&patch));
                summarise("Would fix", &d.report);
                let errors = !d.before.scan.errors.is_empty();
                if errors {
                    eprint!("{}", errors_only(&d.before));
                }
                exit(errors, !patch.is_empty())
            }
            Err(e) => usage_error(&e),
        };
    }
    if args.fix {
        let (rep, outcome) = engine.fix(&args.paths, args.unsafe_fixes);
        for e in &rep.errors {
            eprintln!("error: {}", report::sanitize::inline(&e.to_string()));
        }
        if !rep.converged {
            eprintln!(
                "warning: fixes still applicable after {} passes; run --fix again",
                crate::fix::MAX_PASSES
            );
        }
        summarise("Fixed", &rep);
        let code = report_and_exit(&args, &engine, outcome, &metas);
        if !rep.errors.is_empty() {
            return ExitCode::from(EXIT_ERROR);
        }
        return code;
    }
    let outcome = engine.check(&args.paths);
    if let Some(path) = &args.write_baseline {
        let b = crate::baseline::Baseline::build(&outcome.scan, &outcome.findings);
        if let Err(e) =
            crate::write::write_report(path, &report_trees(&args), b.to_json().as_bytes())
        {
            return usage_error(&e.0);
        }
        eprintln!(
            "Wrote {} finding{} to {}.",
            b.findings.len(),
            plural(b.findings.len()),
            report::sanitize::inline(&path.display().to_string())
        );
        eprint!("{}", errors_only(&outcome));
        return exit(!outcome.scan.errors.is_empty(), false);
    }
    report_and_exit(&args, &engine, outcome, &metas)
}

/// The input errors of a check, as the human report prints them.
fn errors_only(o: &Outcome) -> String {
    report::human::render_errors(&Report {
        scan: &o.scan,
        findings: &[],
    })
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

fn report_and_exit(
    args: &CheckArgs,
    engine: &Engine,
    mut a: Outcome,
    metas: &[&'static RuleMeta],
) -> ExitCode {
    for w in &a.scan.warnings {
        eprintln!("warning: {}", report::sanitize::inline(w));
    }
    for note in crate::analysis::notes() {
        eprintln!("{}", report::sanitize::inline(&note));
    }
    if let Some(path) = &args.baseline {
        match crate::baseline::Baseline::read(path) {
            Ok(b) => a.apply_baseline(&b),
            Err(e) => return usage_error(&format!("baseline {}: {e}", path.display())),
        }
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
    let format = args.format;
    let mut opts = report::RenderOptions {
        color: use_color(args) && args.output.is_none(),
        quiet: args.quiet,
        suppressed: shown_suppressed,
        rules: metas,
    };
    if format == report::Format::Human {
        eprint!("{}", report::human::render_errors(&report));
    }
    let out = report::render(format, &report, &opts);
    match &args.output {
        Some(path) => {
            if let Err(e) = crate::write::write_report(path, &report_trees(args), out.as_bytes()) {
                return usage_error(&e.0);
            }
            if format != report::Format::Human {
                eprint!("{}", report::human::render_errors(&report));
                opts.color = false;
                print!("{}", report::render(report::Format::Human, &report, &opts));
            }
        }
        None => print_out(&out),
    }
    let fail_on = args
        .fail_on
        .or(engine.config().config.fail_on)
        .unwrap_or(FailOn::Warning);
    let failing = !args.exit_zero && a.findings.iter().any(|f| fail_on.fails(f.severity));
    let code = exit(!a.scan.errors.is_empty(), failing);
    // The process ends here: freeing every file's text and model one by one would only
    // delay the exit (a few percent of a run); the OS takes the memory back at once.
    std::mem::forget(a);
    code
}

/// The trees `--output` and `--write-baseline` must not leave through a symbolic link: the
/// current directory and the scan root.
fn report_trees(args: &CheckArgs) -> Vec<PathBuf> {
    vec![PathBuf::from("."), crate::scan::root_for(&args.paths)]
}
