//! Command-line interface.

use crate::diag::Severity;
use crate::report::{self, Report};
use crate::scan::{ScanOptions, root_for, scan};
use crate::{Selection, check, rules};
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
    /// Files or directories to scan (directories honour .gitignore).
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
    /// Skip files larger than this many bytes (reported as errors when they would be analysed).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_file_size: u64,
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
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_ERROR)
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Explain { rule }) => match rules::find(&rule) {
            Some(r) => {
                print!("{}", r.meta().doc);
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
                    "{:<32} {:<8} {:<4} {}\n",
                    m.id,
                    m.severity.as_str(),
                    if m.fixable { "fix" } else { "-" },
                    m.summary
                ));
            }
            print!("{out}");
            ExitCode::from(EXIT_OK)
        }
        Some(Command::DumpModel { paths, spans }) => crate::custom::dump::run(&paths, spans),
        Some(Command::Audit(a)) => crate::audit::run(a),
        None => run_check(cli.check),
    }
}

fn run_check(args: CheckArgs) -> ExitCode {
    if let Some(dir) = &args.rules
        && let Err(e) = crate::custom::install(std::slice::from_ref(dir))
    {
        return usage_error(&e.to_string());
    }
    for id in args.select.iter().chain(&args.ignore) {
        if rules::find(id).is_none() {
            return usage_error(&format!("unknown rule `{id}` in --select/--ignore"));
        }
    }
    let root = root_for(&args.paths);
    let opts = ScanOptions {
        root,
        paths: args.paths.clone(),
        max_file_size: args.max_file_size,
        settings: crate::scan::Settings {
            repo: args.repo.clone(),
            ..Default::default()
        },
    };
    let scan = scan(&opts);
    let sel = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let findings = check(&scan, &sel);
    let report = Report {
        scan: &scan,
        findings: &findings,
    };
    let out = match args.format {
        OutputFormat::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::stdout().is_terminal()
                }
            };
            eprint!("{}", report::human::render_errors(&report));
            report::human::render(&report, color, args.quiet)
        }
        OutputFormat::Json => report::json::render(&report),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    if !scan.errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if findings.iter().any(|f| f.severity >= Severity::Warning) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}
