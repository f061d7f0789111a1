//! `Engine::recheck` (what the language server runs after an edit) must say exactly what a
//! fresh check of the same files says: over a sequence of edits of every kind (a workflow
//! buffer, a new file only the editor has, a trust policy, a parse error, an action written to
//! disk, a file deleted, a buffer closed, Terraform), the findings, their related labels and
//! fixes, the suppressed findings, the input errors and the warnings of the incremental check
//! equal those of a full check.

mod common;

use oidc_lint::config::Loaded;
use oidc_lint::engine::{Engine, Outcome, Selection};
use oidc_lint::rules::RuleSet;
use std::path::{Path, PathBuf};

/// Everything a client can see of an outcome, with file ids replaced by paths (a file added
/// by an edit has another id than in a fresh scan; ids are not output).
fn canon(o: &Outcome) -> String {
    let rel = |id| o.scan.file(id).rel.clone();
    let finding = |f: &oidc_lint::diag::Finding| {
        let related: Vec<_> = f
            .related
            .iter()
            .map(|l| (rel(l.file), l.span, l.message.clone()))
            .collect();
        let fix = f.fix.as_ref().map(|x| {
            (
                x.description.clone(),
                x.safe,
                x.edits
                    .iter()
                    .map(|e| (rel(e.file), e.span, e.replacement.clone()))
                    .collect::<Vec<_>>(),
            )
        });
        format!(
            "{} {:?} {} {:?} {:?} {:?} {:?} {:?}\n",
            rel(f.file),
            f.severity,
            f.rule,
            f.span,
            f.message,
            f.help,
            related,
            fix
        )
    };
    let mut out = String::new();
    for f in &o.findings {
        out.push_str(&finding(f));
    }
    out.push_str("-- suppressed\n");
    for s in &o.suppressed {
        out.push_str(&finding(&s.finding));
        out.push_str(&format!("  {:?}\n", s.reason));
    }
    out.push_str(&format!(
        "-- errors\n{:?}\n-- warnings\n{:?}\n-- notes\n{:?}\n",
        o.scan.errors,
        o.scan.warnings,
        o.notes()
    ));
    out
}

enum Edit {
    /// The editor's buffer for a file (on disk or not).
    Buffer(&'static str, String),
    /// The buffer is closed: the file on disk counts again.
    Close(&'static str),
    /// The file is written on disk (no buffer).
    Write(&'static str, String),
    /// The file is deleted on disk.
    Delete(&'static str),
}

#[test]
fn recheck_after_each_edit_equals_a_full_check() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    common::copy_tree(&common::fixtures().join("scenarios"), &root);
    let wf = "pr-vs-branch/.github/workflows/plan.yml";
    let trust = "pr-vs-branch/iam/plan-trust.json";
    let text = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    let plan = text(wf);
    let new_wf = "pr-vs-branch/.github/workflows/new.yml";
    let action = "pr-vs-branch/.github/actions/aws/action.yml";
    let edits = vec![
        // a finding appears (no id-token) and disappears
        Edit::Buffer(wf, plan.replace("id-token: write", "id-token: read")),
        Edit::Buffer(wf, plan.clone()),
        // a file only the editor has, assuming the same role on push
        Edit::Buffer(
            new_wf,
            plan.replace("pull_request:", "push:")
                .replace("name: plan", "name: new"),
        ),
        // a policy of the original's length admitting the pull request, then the original: the
        // re-check judges the job again (the verdicts kept from edit to edit are of unchanged
        // trust policies only)
        Edit::Buffer(
            trust,
            text(trust)
                .replacen("\"StringEquals\": {", "\"StringLike\":   {", 1)
                .replacen(
                    "\"repo:acme/app:ref:refs/heads/main\"",
                    &format!("\"repo:acme/app:*\"{}", " ".repeat(18)),
                    1,
                ),
        ),
        Edit::Buffer(trust, text(trust)),
        // the trust policy now admits the pull request (role-trust-rejects-job goes away)
        Edit::Buffer(
            trust,
            text(trust).replace(
                "repo:acme/app:ref:refs/heads/main",
                "repo:acme/app:pull_request",
            ),
        ),
        // a parse error, then fixed
        Edit::Buffer(wf, format!("{plan}\n  bad: [\n")),
        Edit::Buffer(
            wf,
            plan.replace(
                "      - run: terraform plan\n",
                "      - uses: ./.github/actions/aws\n        with:\n          role: arn:aws:iam::123456789012:role/plan\n",
            ),
        ),
        // a local action written to disk, assuming the role it is given, then with static keys
        Edit::Write(
            action,
            "name: aws\nruns:\n  using: composite\n  steps:\n    - uses: aws-actions/configure-aws-credentials@v4\n      with:\n        role-to-assume: ${{ inputs.role }}\n        aws-region: eu-west-1\n".into(),
        ),
        Edit::Write(
            action,
            "name: aws\nruns:\n  using: composite\n  steps:\n    - uses: aws-actions/configure-aws-credentials@v4\n      with:\n        aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n        aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n        aws-region: eu-west-1\n".into(),
        ),
        // a suppression comment
        Edit::Buffer(
            wf,
            plan.replace(
                "      - uses: aws-actions/configure-aws-credentials@v6\n",
                "      # oidc-lint: ignore[role-trust-rejects-job]\n      - uses: aws-actions/configure-aws-credentials@v6\n",
            ),
        ),
        // findings of per-file rules (kept for the files an edit does not touch): they appear
        // in the edited buffer, in a file written to disk, and go with that file
        Edit::Buffer(
            wf,
            plan.replace("configure-aws-credentials@v6", "configure-aws-credentials@v2")
                .replace("    steps:\n", "    env:\n      KEY: AKIAQ3EGRYZKHWL5TNV2\n    steps:\n"),
        ),
        Edit::Write(
            "pr-vs-branch/.github/workflows/old.yml",
            "on: push\njobs:\n  old:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: AKIAQ3EGRYZKHWL5TNV3\n      AWS_SECRET_ACCESS_KEY: ${{ secrets.K }}\n    steps:\n      - uses: aws-actions/configure-aws-credentials@main\n        with:\n          role-to-assume: deploy\n          aws-region: eu-west-1\n      - uses: aws-actions/amazon-ecr-login@v1\n".into(),
        ),
        Edit::Buffer(wf, plan.clone()),
        Edit::Delete("pr-vs-branch/.github/workflows/old.yml"),
        Edit::Delete("reusable-caller/.github/workflows/release.yml"),
        Edit::Close(trust),
        Edit::Close(wf),
        Edit::Delete(action),
        // Terraform: the engine checks everything again
        Edit::Buffer(
            "tf-custom-audience-provider/infra/github.tf",
            text("tf-custom-audience-provider/infra/github.tf").replace("sts.amazonaws.com", "sts.example"),
        ),
        Edit::Buffer(wf, plan.replace("id-token: write", "id-token: none")),
        Edit::Close(new_wf),
    ];
    let engine = Engine::new(RuleSet::builtin(), Loaded::default(), Selection::default());
    let paths = vec![root.clone()];
    let mut buffers: std::collections::BTreeMap<PathBuf, String> = Default::default();
    let overlays = |b: &std::collections::BTreeMap<PathBuf, String>| {
        b.iter()
            .map(|(p, t)| (p.clone(), t.clone()))
            .collect::<Vec<_>>()
    };
    let mut outcome = engine.check(&paths);
    let mut seen: std::collections::BTreeSet<(String, &str)> = Default::default();
    for (n, edit) in edits.into_iter().enumerate() {
        let abs = |rel: &str| root.join(rel);
        let change: (PathBuf, Option<String>) = match edit {
            Edit::Buffer(rel, t) => {
                buffers.insert(abs(rel), t.clone());
                (abs(rel), Some(t))
            }
            Edit::Close(rel) => {
                buffers.remove(&abs(rel));
                (abs(rel), None)
            }
            Edit::Write(rel, t) => {
                let p = abs(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, t).unwrap();
                (p, None)
            }
            Edit::Delete(rel) => {
                std::fs::remove_file(abs(rel)).unwrap();
                (abs(rel), None)
            }
        };
        let ov = overlays(&buffers);
        outcome = engine.recheck(outcome, &[change], &paths, &ov);
        let full = engine.check_with_overlay(&paths, &ov);
        seen.extend(
            outcome
                .findings
                .iter()
                .map(|f| (outcome.scan.file(f.file).rel.clone(), f.rule)),
        );
        let (inc, full) = (canon(&outcome), canon(&full));
        if inc != full {
            let first = inc
                .lines()
                .zip(full.lines())
                .find(|(a, b)| a != b)
                .unwrap_or(("(shorter)", "(longer)"));
            panic!(
                "edit {n}: the re-check differs from a full check:\n  re-check: {}\n  full:     {}",
                first.0, first.1
            );
        }
    }
    // The sequence changed what was found (the property above is not about an empty output),
    // including what the per-file rules find in an edited buffer and in a file that comes and goes.
    assert!(!outcome.findings.is_empty());
    for rule in [
        "workflow-deprecated-action",
        "workflow-action-branch-pin",
        "workflow-role-not-arn",
        "workflow-long-lived-keys",
        "hardcoded-aws-key",
    ] {
        assert!(
            seen.contains(&("pr-vs-branch/.github/workflows/old.yml".to_string(), rule)),
            "{rule} never reported in old.yml: {seen:?}"
        );
    }
    assert!(seen.contains(&(wf.to_string(), "workflow-deprecated-action")));
    assert!(seen.contains(&(wf.to_string(), "hardcoded-aws-key")));
    let _ = Path::new("");
}
