//! The engine as a library: `check_with_overlay` reads editor buffers instead of the files on
//! disk (a language server's entry point), and custom rules are a `RuleSet` value.

use oidc_lint::config::Loaded;
use oidc_lint::engine::{Engine, Selection};
use oidc_lint::rules::RuleSet;
use std::path::PathBuf;

const CLEAN: &str = "on: push\npermissions:\n  id-token: write\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: us-east-1\n";

fn dirty() -> String {
    CLEAN.replace("  id-token: write\n", "  contents: read\n")
}

fn engine() -> Engine {
    Engine::new(
        RuleSet::builtin(),
        Loaded::default(),
        Selection {
            select: vec!["workflow-missing-id-token".into()],
            ignore: vec![],
        },
    )
}

fn rules_hit(o: &oidc_lint::engine::Outcome) -> Vec<(String, &'static str)> {
    o.findings
        .iter()
        .map(|f| (o.scan.file(f.file).rel.clone(), f.rule))
        .collect()
}

#[test]
fn an_overlay_replaces_the_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows/deploy.yml");
    std::fs::create_dir_all(wf.parent().unwrap()).unwrap();
    std::fs::write(&wf, CLEAN).unwrap();
    let paths = [dir.path().to_path_buf()];
    let e = engine();
    assert!(e.check(&paths).findings.is_empty());
    let o = e.check_with_overlay(&paths, &[(wf.clone(), dirty())]);
    assert_eq!(
        rules_hit(&o),
        [(
            ".github/workflows/deploy.yml".to_string(),
            "workflow-missing-id-token"
        )]
    );
    // The file on disk is untouched, and the buffer is what the findings point into.
    assert_eq!(std::fs::read_to_string(&wf).unwrap(), CLEAN);
    assert_eq!(o.scan.file(o.findings[0].file).text, dirty());
}

#[test]
fn an_overlay_for_an_unsaved_file_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    let new: PathBuf = dir.path().join(".github/workflows/new.yml");
    let paths = [dir.path().to_path_buf()];
    let o = engine().check_with_overlay(&paths, &[(new.clone(), dirty())]);
    assert_eq!(
        rules_hit(&o),
        [(
            ".github/workflows/new.yml".to_string(),
            "workflow-missing-id-token"
        )]
    );
    assert!(!new.exists());
}

#[test]
fn custom_rules_are_a_value_not_process_state() {
    // Two rule sets in one process: loading custom rules twice is no error, and a set
    // without them does not know their ids.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/examples");
    let a = RuleSet::builtin().with(oidc_lint::custom::load(std::slice::from_ref(&dir)).unwrap());
    let b = RuleSet::builtin().with(oidc_lint::custom::load(std::slice::from_ref(&dir)).unwrap());
    assert!(a.find("acme/role-duration").is_some());
    assert!(b.find("acme/role-duration").is_some());
    assert!(RuleSet::builtin().find("acme/role-duration").is_none());
}
