//! The whole pipeline on one file: the first byte picks the file's name (so every format is
//! reached), the rest is its content; scan, all rules, human and JSON reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_lint::report::{self, Report};
use oidc_lint::scan::{ScanOptions, scan};
use oidc_lint::{Selection, check};

const NAMES: &[&str] = &[
    ".github/workflows/ci.yml",
    "action.yml",
    "iam/trust.json",
    "main.tf",
    "template.yaml",
    "plan.json",
    "cfn/stack.json",
    "policy.json.tpl",
    ".gitlab-ci.yml",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rel = NAMES[pick as usize % NAMES.len()];
    let path = dir.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, body).unwrap();
    let s = scan(&ScanOptions {
        root: dir.path().to_path_buf(),
        paths: vec![dir.path().to_path_buf()],
        max_file_size: 1 << 20,
        settings: Default::default(),
    });
    let findings = check(&s, &Selection::default());
    let r = Report {
        scan: &s,
        findings: &findings,
    };
    let _ = report::human::render(&r, false, false);
    let _ = report::human::render_errors(&r);
    let _ = report::json::render(&r);
});
