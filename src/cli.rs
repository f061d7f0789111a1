//! Command-line interface: argument parsing, printing and exit codes. The run itself is
//! [`crate::engine`].

use crate::config::FailOn;
use crate::engine::{self, Engine, Outcome, Selection};
use crate::report::{self, Report};
use crate::rules::{self, RuleMeta, RuleSet};
use crate::suppress::Suppressed;
use clap::{CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
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
#[command(group(clap::ArgGroup::new("fixing").multiple(true).args(["fix", "diff"])))]
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
    #[arg(long, requires = "fixing")]
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
    /// Print the number of findings per rule instead of the findings (JSON: add a
    /// `statistics` list).
    #[arg(long)]
    pub statistics: bool,
    /// The repository's default branch (default: `default-branch` in the configuration, the
    /// GitHub Actions event, then the checkout's `origin/HEAD`).
    #[arg(long, value_name = "BRANCH", value_parser = crate::analysis::repo::parse_branch)]
    pub default_branch: Option<String>,
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
        /// Print the list as the Markdown table used in the README (`--format markdown`).
        #[arg(long, conflicts_with = "format")]
        markdown: bool,
        /// Output format: a table, JSON (id, severity, fixable, inputs, summary, url per rule)
        /// or the README's Markdown table.
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
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
    /// Run the language server (LSP over stdin/stdout) for editors.
    Server {
        /// Configuration file (default: `oidc-lint.toml` found in the workspace).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub use crate::report::ColorChoice;
pub use crate::report::Format as OutputFormat;
pub use crate::rules::ListFormat as RulesFormat;

/// Exit codes: 0 clean, 1 findings, 2 usage or input errors.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {}", report::sanitize::inline(msg));
    ExitCode::from(EXIT_ERROR)
}

/// Parse the process's arguments (see [`hoist_global_flags`]) and run.
pub fn main() -> ExitCode {
    let argv = hoist_global_flags(std::env::args_os().collect());
    run(Cli::parse_from(argv))
}

/// Options written before a subcommand go after it (`--format json audit DIR` is
/// `audit --format json DIR`), where the subcommand's own parser accepts them or names the one
/// it does not know. A check's paths end the options, so `oidc-lint DIR audit` still scans a
/// path named `audit`.
pub fn hoist_global_flags(mut argv: Vec<OsString>) -> Vec<OsString> {
    let cmd = Cli::command();
    // `--format`, `-o`: the spellings whose value is the next argument.
    let valued: Vec<String> = (cmd.get_arguments())
        .filter(|a| a.get_action().takes_values())
        .flat_map(|a| {
            [
                a.get_long().map(|l| format!("--{l}")),
                a.get_short().map(|c| format!("-{c}")),
            ]
        })
        .flatten()
        .collect();
    let mut i = 1;
    while let Some(tok) = (argv.get(i).and_then(|t| t.to_str()))
        .filter(|t| t.starts_with('-') && *t != "-" && *t != "--")
    {
        i += 1 + usize::from(valued.iter().any(|v| v == tok));
    }
    let sub = argv.get(i).and_then(|t| t.to_str());
    if i > 1 && sub.is_some_and(|s| cmd.find_subcommand(s).is_some()) {
        let name = argv.remove(i);
        argv.insert(1, name);
    }
    argv
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Explain { rule }) => printed(
            (all_meta().into_iter().find(|m| m.id == rule))
                .map(|m| m.doc.to_string())
                .ok_or_else(|| {
                    let near = rules::suggestion(&rule, all_meta().iter().map(|m| m.id));
                    format!("unknown rule `{rule}`{near} (`oidc-lint rules` lists them)")
                }),
        ),
        Some(Command::Rules { markdown, format }) => {
            let format = [format, RulesFormat::Markdown][usize::from(markdown)];
            printed(Ok(rules::list(format, &all_meta())))
        }
        Some(Command::DumpModel { paths, spans }) => {
            let (scan, out) = crate::custom::dump::run(&paths, spans);
            eprint!("{}", report::human::scan_errors(&scan));
            print_out(&out);
            exit(!scan.errors.is_empty(), false)
        }
        Some(Command::Server { config }) => crate::server::run(config),
        // The audit runs the check: the same worker pool and stack size.
        Some(Command::Audit(a)) => match engine::worker_pool(cli.check.threads) {
            Ok(pool) => printed(
                pool.install(|| crate::audit::run(a))
                    .map(Option::unwrap_or_default),
            ),
            Err(e) => usage_error(&e),
        },
        None => match engine::worker_pool(cli.check.threads) {
            Ok(pool) => pool.install(|| run_check(cli.check)),
            Err(e) => usage_error(&e),
        },
    }
}

/// 2 on input errors, else 1 on (failing) findings, else 0.
fn exit(errors: bool, findings: bool) -> ExitCode {
    ExitCode::from(match (errors, findings) {
        (true, _) => EXIT_ERROR,
        (false, true) => EXIT_FINDINGS,
        (false, false) => EXIT_OK,
    })
}

/// A subcommand's text printed (exit 0), or its error (exit 2).
fn printed(r: Result<String, String>) -> ExitCode {
    match r {
        Ok(text) => {
            print_out(&text);
            ExitCode::from(EXIT_OK)
        }
        Err(e) => usage_error(&e),
    }
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

/// A usage error when the first path does not exist and is close to a subcommand's name
/// (`oidc-lint audti .`): the run would only report a missing file.
fn mistyped_subcommand(paths: &[PathBuf]) -> Option<ExitCode> {
    let word = paths.first().filter(|p| !p.exists())?.to_str()?;
    let cmd = Cli::command();
    let sub = rules::did_you_mean(word, cmd.get_subcommands().map(|c| c.get_name()))
        .filter(|s| *s != word)?;
    Some(usage_error(&format!(
        "`{word}` is neither a file nor a subcommand; did you mean `oidc-lint {sub}`?"
    )))
}

fn run_check(args: CheckArgs) -> ExitCode {
    if let Some(code) = mistyped_subcommand(&args.paths) {
        return code;
    }
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let rule_set = match engine::rule_set(args.rules.as_deref())
        .and_then(|r| engine::check_selection(&selection, &r).map(|()| r))
    {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let metas = engine::reportable(&rule_set);
    let loaded = match engine::load_config(args.config.as_deref(), &args.paths, &rule_set) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    if let Some(mode) = &args.floor {
        let root = crate::scan::root_for(&args.paths);
        return printed(
            crate::floor::run(mode, &root, &args.paths, args.max_file_size).map(|l| l + "\n"),
        );
    }
    let engine = Engine::new(rule_set, loaded, selection)
        .max_file_size(args.max_file_size)
        .repo(args.repo.clone())
        .default_branch(args.default_branch.clone())
        .ci(crate::analysis::repo::CiContext::from_env())
        .no_ignore(args.no_ignore);
    if args.diff {
        return match engine.diff(&args.paths, args.unsafe_fixes) {
            Ok(d) => {
                let patch = report::human::diff(&d);
                print!("{patch}");
                let notes = report::human::fix_notes("Would fix", &d.report, false);
                eprint!("{notes}{}", report::human::scan_errors(&d.before.scan));
                exit(!d.before.scan.errors.is_empty(), !patch.is_empty())
            }
            Err(e) => usage_error(&e),
        };
    }
    if args.fix {
        let (rep, outcome) = engine.fix(&args.paths, args.unsafe_fixes);
        eprint!("{}", report::human::fix_notes("Fixed", &rep, true));
        let code = report_and_exit(&args, &engine, outcome, &metas);
        return if rep.errors.is_empty() {
            code
        } else {
            ExitCode::from(EXIT_ERROR)
        };
    }
    let outcome = engine.check(&args.paths);
    if let Some(path) = &args.write_baseline {
        let n = match outcome.write_baseline(path, &args.paths) {
            Ok(n) => n,
            Err(e) => return usage_error(&e),
        };
        eprint!(
            "{}",
            report::human::baseline_written(n, path, &outcome.scan)
        );
        return exit(!outcome.scan.errors.is_empty(), false);
    }
    report_and_exit(&args, &engine, outcome, &metas)
}

fn report_and_exit(
    args: &CheckArgs,
    engine: &Engine,
    mut a: Outcome,
    metas: &[&'static RuleMeta],
) -> ExitCode {
    eprint!("{}", report::human::warnings(&a.scan, &a.notes()));
    if let Some(Err(e)) = args.baseline.as_deref().map(|p| a.apply_baseline_file(p)) {
        return usage_error(&e);
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
    let severity_for = |id: &str| engine.config().severity_for(id);
    let mut opts = report::RenderOptions {
        color: args.color.wanted() && args.output.is_none(),
        quiet: args.quiet,
        suppressed: shown_suppressed,
        rules: metas,
        severity_for: Some(&severity_for),
        statistics: args.statistics,
    };
    if format == report::Format::Human {
        eprint!("{}", report::human::render_errors(&report));
    }
    let out = report::render(format, &report, &opts);
    match &args.output {
        Some(path) => {
            let trees = engine::report_trees(&args.paths);
            if let Err(e) = crate::write::write_report(path, &trees, out.as_bytes()) {
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
    let failing = !args.exit_zero && engine.fails(&a.findings, args.fail_on);
    let code = exit(!a.scan.errors.is_empty(), failing);
    // The process ends here: freeing every file's text and model one by one would only
    // delay the exit (a few percent of a run); the OS takes the memory back at once.
    std::mem::forget(a);
    code
}
