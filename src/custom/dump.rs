//! `oidc-lint dump-model PATH…`: print the model view custom rules select from.

use super::view::{self, MODEL_VERSION};
use crate::scan::{Scan, ScanOptions, root_for, scan};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The view of a scan as printed by `dump-model`: `{"version", "documents": [...]}`.
pub fn render(scan: &Scan, spans: bool) -> String {
    let docs = scan.custom_views.get_or_init(|| view::build(scan));
    let documents: Vec<Value> = docs
        .iter()
        .map(|d| view::printable(d, scan.file(d.file), spans))
        .collect();
    let mut s = crate::report::sanitize::to_json_pretty(&json!({
        "version": MODEL_VERSION,
        "documents": documents,
    }));
    s.push('\n');
    s
}

/// Scan `paths` and print their view; exit 2 when an input could not be read or parsed.
pub fn run(paths: &[PathBuf], spans: bool) -> std::process::ExitCode {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let opts = ScanOptions {
        root: root_for(&paths),
        paths: paths.clone(),
        max_file_size: 10 * 1024 * 1024,
        settings: Default::default(),
    };
    let scan = scan(&opts);
    eprint!(
        "{}",
        crate::report::human::render_errors(&crate::report::Report {
            scan: &scan,
            findings: &[],
        })
    );
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(render(&scan, spans).as_bytes());
    let _ = out.flush();
    std::process::ExitCode::from(if scan.errors.is_empty() {
        crate::cli::EXIT_OK
    } else {
        crate::cli::EXIT_ERROR
    })
}
