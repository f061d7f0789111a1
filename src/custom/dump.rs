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
    let mut s = crate::source::sanitize::to_json_pretty(&json!({
        "version": MODEL_VERSION,
        "documents": documents,
    }));
    s.push('\n');
    s
}

/// Scan `paths`: the scan (its input errors are the caller's to print) and its view as
/// `dump-model` prints it.
pub fn run(paths: &[PathBuf], spans: bool) -> (Scan, String) {
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
    let out = render(&scan, spans);
    (scan, out)
}
