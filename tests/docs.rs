//! Every rule has a doc page; each page's bad example fires the rule and its good example
//! does not (the examples are executed, through the binary); the README's table is current.

mod common;
use common::*;

#[test]
fn every_rule_doc_examples_run() {
    for rule in oidc_lint::rules::registry() {
        let m = rule.meta();
        assert!(
            m.doc.starts_with(&format!("# {}\n", m.id)),
            "{}: doc must start with its id",
            m.id
        );
        for section in ["## What it finds", "## Why it matters", "## Fix"] {
            assert!(m.doc.contains(section), "{}: doc lacks {section}", m.id);
        }
        for (heading, should_fire) in [("## Bad example", true), ("## Good example", false)] {
            let files = example_files(m.doc, heading);
            assert!(!files.is_empty(), "{}: no files in {heading}", m.id);
            let dir = tempfile::tempdir().unwrap();
            write_files(dir.path(), &files);
            let (code, v) = run_json(dir.path(), &["."]);
            assert!(
                v["errors"].as_array().unwrap().is_empty(),
                "{}: {heading} has errors: {v}",
                m.id
            );
            let fired = hits(&v).iter().any(|(r, _, _)| r == m.id);
            assert_eq!(fired, should_fire, "{}: {heading}: {v:#}", m.id);
            if should_fire {
                assert_ne!(code, 2);
            }
        }
    }
}

#[test]
fn readme_rule_table_is_current() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- rules:start -->\n")
        .expect("README marker")
        + "<!-- rules:start -->\n".len();
    let end = readme
        .find("<!-- rules:end -->")
        .expect("README end marker");
    assert_eq!(
        &readme[start..end],
        oidc_lint::rules::markdown_table(),
        "README rule table is stale; replace it with the expected text"
    );
}

#[test]
fn explain_prints_each_doc() {
    for rule in oidc_lint::rules::registry() {
        let out = bin().args(["explain", rule.meta().id]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), rule.meta().doc);
    }
    let out = bin().args(["explain", "no-such-rule"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
