//! `oidc-lint dump-model PATH…`: print the model view custom rules select from.

use super::view::{self, MODEL_VERSION};
use crate::model::Scan;
use crate::scan::{ScanOptions, root_for, scan};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The view of a scan as printed by `dump-model`: `{"version", "documents": [...]}`.
pub fn render(scan: &Scan, spans: bool) -> String {
    let docs = view::build(scan);
    let documents: Vec<Value> = docs
        .iter()
        .map(|d| view::printable(d, scan.file(d.file), spans))
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({
        "version": MODEL_VERSION,
        "documents": documents,
    }))
    .unwrap_or_default();
    s.push('\n');
    s
}

/// Scan `paths` and print their view; `Err` when an input could not be read or parsed (the
/// errors are printed).
#[allow(clippy::result_unit_err)]
pub fn run(paths: &[PathBuf], spans: bool) -> Result<(), ()> {
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
    for e in &scan.errors {
        if e.line > 0 {
            eprintln!("error: {}:{}:{}: {}", e.path, e.line, e.column, e.message);
        } else {
            eprintln!("error: {}: {}", e.path, e.message);
        }
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(render(&scan, spans).as_bytes());
    let _ = out.flush();
    if scan.errors.is_empty() {
        Ok(())
    } else {
        Err(())
    }
}
