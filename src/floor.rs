//! Benchmark floors behind the hidden `--floor` flag: how long the unavoidable work takes, so
//! `bench/run.sh` can report oidc-lint's overhead over it.
//!
//! - `read`: discover the files like a scan and read every one of them (no parsing).
//! - `parse`: a full scan (read, classify, parse with the same parsers, extract the model) with
//!   no rule and no report.
//!
//! Both print one line (`floor=read files=N bytes=B errors=E`, `floor=parse files=N
//! kept_bytes=B errors=E`) and exit 0.

use crate::scan::{ScanOptions, scan};
use crate::source::discover::discover;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Run one floor; `mode` is `read` or `parse`.
pub fn run(
    mode: &str,
    root: &Path,
    paths: &[PathBuf],
    max_file_size: u64,
) -> Result<String, String> {
    let line = match mode {
        "read" => {
            let (candidates, walk_errors) = discover(root, paths);
            let (bytes, errors) = candidates
                .par_iter()
                .map(|c| match std::fs::read(&c.path) {
                    Ok(b) => (b.len() as u64, 0usize),
                    Err(_) => (0, 1),
                })
                .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            format!(
                "floor=read files={} bytes={bytes} errors={}",
                candidates.len(),
                errors + walk_errors.len()
            )
        }
        "parse" => {
            let s = scan(&ScanOptions {
                root: root.to_path_buf(),
                paths: paths.to_vec(),
                max_file_size,
                settings: Default::default(),
            });
            // Bytes of the files kept for the rules (the others were dropped once parsed).
            let kept: usize = s.files().map(|(_, f)| f.text.len()).sum();
            format!(
                "floor=parse files={} kept_bytes={kept} errors={}",
                s.files_scanned(),
                s.errors.len()
            )
        }
        other => return Err(format!("unknown --floor mode `{other}` (read|parse)")),
    };
    Ok(line)
}
