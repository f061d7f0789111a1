//! Hostile inputs: limits. Work, memory, recursion and thread counts stay bounded whatever the
//! repository (or a rules directory inside it) holds.

#[allow(unused_imports)]
use super::common::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run to completion, killing the child if it outlives a generous hang guard.
fn run_guarded(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // drain the pipes on threads so a big report cannot block the child
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).unwrap();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("hang guard: still running after 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

const TRUST_HEAD: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
 "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
  "StringLike": {"token.actions.githubusercontent.com:sub": ""#;

fn workflow(environment: &str) -> String {
    format!(
        "on:\n  push:\n    branches: [main]\npermissions:\n  id-token: write\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: {environment}\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n"
    )
}

/// A megabyte `StringLike` pattern (`*a*a*…`) against a megabyte environment name: the
/// evaluator must neither allocate pattern × subject (a terabyte) nor give up on what a linear
/// pass decides.
#[test]
fn huge_pattern_against_huge_subject_is_decided_in_linear_space() {
    let n = 1_000_000;
    let d = tempfile::tempdir().unwrap();
    let pattern = format!("repo:acme/app:environment:{}b", "*a".repeat(n / 2));
    write_files(
        d.path(),
        &[
            (
                "iam/deploy-trust.json".into(),
                format!("{TRUST_HEAD}{pattern}\"}}}}}}]}}"),
            ),
            (
                ".github/workflows/deploy.yml".into(),
                workflow(&"a".repeat(n)),
            ),
        ],
    );
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules: Vec<String> = hits(&v).into_iter().map(|h| h.0).collect();
    // the pattern ends in `b`, the name in `a`: the trust policy rejects the job, for certain
    assert!(
        rules.contains(&"role-trust-rejects-job".to_string()),
        "{rules:?}"
    );
    assert!(v["errors"].as_array().unwrap().is_empty());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("work limit"));
}

/// When no linear pass decides (a hole in the subject: `${{ github.ref_name }}`), the
/// comparison is unknown past the work limit, and the user is told; no finding is guessed.
#[test]
fn comparison_over_the_work_limit_is_unknown_with_a_note() {
    let n = 1_000_000;
    let d = tempfile::tempdir().unwrap();
    let pattern = format!("repo:acme/app:environment:{}", "*a".repeat(n / 2));
    write_files(
        d.path(),
        &[
            (
                "iam/deploy-trust.json".into(),
                format!("{TRUST_HEAD}{pattern}\"}}}}}}]}}"),
            ),
            (
                ".github/workflows/deploy.yml".into(),
                workflow(&format!("${{{{ github.ref_name }}}}{}", "a".repeat(n))),
            ),
        ],
    );
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exceeded the matcher's work limit") && stderr.contains("unknown"),
        "{stderr}"
    );
    let rules: Vec<String> = hits(&v).into_iter().map(|h| h.0).collect();
    assert!(
        !rules.contains(&"role-trust-rejects-job".to_string()),
        "an unknown comparison must not become a rejection: {rules:?}"
    );
    assert!(v["errors"].as_array().unwrap().is_empty());
}

const RULE: &str = "id: acme/role-duration
severity: warning
summary: Sessions last at most an hour
message: m
applies-to: [workflow]
select: \"$.jobs[*].steps[?@.action == 'aws-actions/configure-aws-credentials']\"
path: \"$.with['role-duration-seconds']\"
less-than: 3601
";

fn rules_outside_tree(rules: &[(&str, &str)]) -> (tempfile::TempDir, tempfile::TempDir) {
    let rules_dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = rules
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    write_files(rules_dir.path(), &files);
    let repo = tempfile::tempdir().unwrap();
    (rules_dir, repo)
}

fn run_rules(rules: &Path, repo: &Path) -> Output {
    run_guarded(
        bin()
            .current_dir(repo)
            .args(["--format", "json", "--rules"])
            .arg(rules)
            .arg("."),
    )
}

#[cfg(unix)]
#[test]
fn rules_dir_with_links_to_itself_loads_each_file_once() {
    let (rules, repo) = rules_outside_tree(&[("r.yml", RULE)]);
    for l in ["a", "b", "c"] {
        std::os::unix::fs::symlink(".", rules.path().join(l)).unwrap();
    }
    std::os::unix::fs::symlink("..", rules.path().join("up")).unwrap_or(());
    // the same rule reached through a link inside the directory is not loaded twice (which
    // would be a duplicate id)
    std::fs::create_dir(rules.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("../r.yml", rules.path().join("sub/again.yml")).unwrap();
    let out = run_rules(rules.path(), repo.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `..` leads out of the rules directory: refused, named
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("up: symbolic link leads out of the rules directory"),
        "{stderr}"
    );
    std::fs::remove_file(rules.path().join("up")).unwrap();
    let out = run_rules(rules.path(), repo.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rules_dir_depth_is_bounded() {
    let deep = vec!["d"; 40].join("/");
    let (rules, repo) = rules_outside_tree(&[(&format!("{deep}/r.yml"), RULE)]);
    let out = run_rules(rules.path(), repo.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nested more than 32 directories deep"),
        "{stderr}"
    );
}

/// 100,000 parentheses in a JSONPath (select, path, or a message placeholder) overflowed the
/// parser's stack: refused before parsing, with file and line.
#[test]
fn deeply_nested_rule_expressions_are_refused_before_parsing() {
    let n = 100_000;
    let deep = format!(
        "$.statements[?{}@.effect == 'Allow'{}]",
        "(".repeat(n),
        ")".repeat(n)
    );
    let cases = [
        (
            format!("select: \"{deep}\"\nmust-exist: true\n"),
            6,
            "select",
        ),
        (
            format!("select: $.statements[*]\npath: \"{deep}\"\nmust-exist: true\n"),
            7,
            "path",
        ),
    ];
    for (tail, line, field) in cases {
        let text = format!(
            "id: acme/deep\nseverity: error\nsummary: s\nmessage: m\napplies-to: trust-policy\n{tail}"
        );
        let (rules, repo) = rules_outside_tree(&[("r.yml", &text)]);
        let out = run_rules(rules.path(), repo.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "r.yml:{line}: field `{field}`: expression nested deeper than 64 brackets"
            )),
            "{stderr}"
        );
    }
    let text = format!(
        "id: acme/deep\nseverity: error\nsummary: s\nmessage: \"m {{$.a{}}}\"\napplies-to: trust-policy\nselect: $.statements[*]\nmust-exist: true\n",
        "[?".to_string() + &"(".repeat(n) + "@.b == 1" + &")".repeat(n) + "]"
    );
    let (rules, repo) = rules_outside_tree(&[("r.yml", &text)]);
    let out = run_rules(rules.path(), repo.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("r.yml:4: field `message`:") && stderr.contains("nested deeper"),
        "{stderr}"
    );
    // the rule file's own YAML nesting is bounded too
    let text = format!(
        "id: acme/deep\nseverity: error\nsummary: s\nmessage: m\napplies-to: trust-policy\nselect: $.statements[*]\nmust-exist: true\npath: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    let (rules, repo) = rules_outside_tree(&[("r.yml", &text)]);
    let out = run_rules(rules.path(), repo.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("r.yml:8: invalid YAML: nesting deeper than"),
        "{stderr}"
    );
}

/// Custom-rule bounds are finite numbers (`1e999` is infinity), and a scanned `NaN` never
/// passes one (it compares false with everything).
#[test]
fn custom_rule_numbers_are_finite() {
    for bad in ["1e999", "-1e999", ".inf", ".nan"] {
        let text = RULE.replace("less-than: 3601", &format!("less-than: {bad}"));
        assert_ne!(text, RULE);
        let (rules, repo) = rules_outside_tree(&[("r.yml", &text)]);
        let out = run_rules(rules.path(), repo.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("r.yml:8: field `less-than`:"),
            "{bad}: {stderr}"
        );
    }
    let (rules, repo) = rules_outside_tree(&[("r.yml", RULE)]);
    let wf = "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          role-duration-seconds: NaN\n";
    write_files(
        repo.path(),
        &[(".github/workflows/deploy.yml".into(), wf.into())],
    );
    let out = run_rules(rules.path(), repo.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = hits(&v);
    assert!(
        h.iter().any(|(r, p, l)| r == "acme/role-duration"
            && p == ".github/workflows/deploy.yml"
            && *l == 9),
        "{h:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--threads 100000` tried to start 100,000 workers with large stacks; it is clamped, and 0
/// means the default. The output is the same.
#[test]
fn thread_count_is_clamped() {
    let root = fixtures().join("scenarios/quiet-environments");
    let run = |n: &str| {
        run_guarded(
            bin()
                .current_dir(&root)
                .args(["--format", "json", "--threads", n, "."]),
        )
    };
    let one = run("1");
    for n in ["0", "100000", &usize::MAX.to_string()] {
        let o = run(n);
        assert_eq!(o.status.code(), one.status.code(), "--threads {n}");
        assert_eq!(o.stdout, one.stdout, "--threads {n}");
    }
}

/// hcl-edit backtracks exponentially on unclosed nesting (`{G = r * 6 % ` twenty times took
/// 15 s, twenty-five over a minute): unbalanced text is refused by a linear pre-scan before
/// hcl-edit sees it, with the error at the unclosed bracket, whatever hides the imbalance
/// (template openers in strings and heredocs, comments). The other files are still scanned.
#[test]
fn unclosed_hcl_nesting_is_refused_before_parsing() {
    // below the depth cap, so each reaches the unclosed-bracket check (2^100 steps in hcl-edit)
    let n = 100;
    let d = tempfile::tempdir().unwrap();
    let trust = "resource \"aws_iam_role\" \"deploy\" {\n  assume_role_policy = jsonencode({\n    Statement = [{\n      Effect = \"Allow\"\n      Principal = { Federated = \"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\" }\n      Action = \"sts:AssumeRoleWithWebIdentity\"\n      Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\" } }\n    }]\n  })\n}\n";
    write_files(
        d.path(),
        &[
            (
                "a-ops.tf".into(),
                format!("a = {}1", "{G = r * 6 % ".repeat(n)),
            ),
            (
                "b-template.tf".into(),
                format!("a = \"{}1", "${ {G = r * 6 % \"%{ if ".repeat(n / 5)),
            ),
            (
                "c-heredoc.tf".into(),
                format!("a = <<EOF\n${{ {}1\nEOF\n", "(x % # )\n".repeat(n)),
            ),
            (
                "d-closer.tf".into(),
                format!("a = {}1}}", "[r * 6 % ".repeat(n)),
            ),
            (
                "e-deep.tf".into(),
                format!("a = {}1{}\n", "[".repeat(20 * n), "]".repeat(20 * n)),
            ),
            ("z-trust.tf".into(), trust.into()),
        ],
    );
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, u64, u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ops_col = 5 + 13 * (n as u64 - 1);
    let e = |p: &str, l: u64, c: u64, m: &str| (p.to_string(), l, c, format!("invalid HCL: {m}"));
    assert_eq!(
        errors,
        vec![
            e("a-ops.tf", 1, ops_col, "unclosed `{` (opened here)"),
            // the innermost open thing: the last `%{`, inside a string inside `{` inside `${`
            e(
                "b-template.tf",
                1,
                5 + 23 * (n as u64 / 5 - 1) + 18,
                "unclosed `%{` (opened here)"
            ),
            // `#` comments out each `)`
            e(
                "c-heredoc.tf",
                2 + n as u64 - 1,
                1,
                "unclosed `(` (opened here)"
            ),
            e(
                "d-closer.tf",
                1,
                6 + 9 * n as u64,
                "mismatched `}`: expected `]` to close the `[` on line 1"
            ),
            e("e-deep.tf", 1, 5 + 128, "nesting deeper than 128 levels"),
        ]
    );
    // the well-formed file is still analysed: its trust policy has no `sub` condition
    let rules: Vec<String> = hits(&v).into_iter().map(|h| h.0).collect();
    assert!(
        rules.contains(&"trust-missing-sub".to_string()),
        "{rules:?}"
    );
}

/// A trust policy of `statements` statements, none admitting the jobs below (they run on
/// `main`; the statements admit other branches).
fn many_statement_trust(statements: usize) -> String {
    let st: Vec<String> = (0..statements)
        .map(|i| format!(r#"{{"Effect": "Allow", "Principal": {{"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {{"StringEquals": {{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/b{i}"}}}}}}"#))
        .collect();
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        st.join(", ")
    )
}

fn deploy_jobs(jobs: usize) -> String {
    let mut w = String::from(
        "on:\n  push:\n    branches: [main]\npermissions:\n  id-token: write\njobs:\n",
    );
    for i in 0..jobs {
        w.push_str(&format!("  j{i}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n"));
    }
    w
}

fn count(v: &serde_json::Value, rule: &str) -> usize {
    hits(v).iter().filter(|h| h.0 == rule).count()
}

/// Jobs × statements: 2,000 jobs presenting the same claims to a role trusting 2,000
/// statements are judged once (it was minutes before), and every job still gets its verdict.
#[test]
fn identical_job_requests_are_judged_once() {
    let d = tempfile::tempdir().unwrap();
    write_files(
        d.path(),
        &[
            ("iam/deploy-trust.json".into(), many_statement_trust(2000)),
            (".github/workflows/deploy.yml".into(), deploy_jobs(2000)),
        ],
    );
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(count(&v, "role-trust-rejects-job"), 2000);
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

/// Distinct requests past the judging work budget (300 workflows, each its own
/// `job_workflow_ref`, against 1,000 statements) are unknown, with one note; none is guessed.
#[test]
fn judging_past_the_work_budget_is_unknown_with_a_note() {
    let d = tempfile::tempdir().unwrap();
    let mut files = vec![(
        "iam/deploy-trust.json".to_string(),
        many_statement_trust(1000),
    )];
    for i in 0..300 {
        files.push((format!(".github/workflows/w{i:03}.yml"), deploy_jobs(1)));
    }
    write_files(d.path(), &files);
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notes: Vec<&str> = stderr.lines().collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    let unknown: usize = notes[0]
        .strip_prefix(
            "note: judging jobs against their roles' trust policies exceeded the work budget of ",
        )
        .and_then(|r| r.split("; ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    let rejected = count(&v, "role-trust-rejects-job");
    assert!(unknown > 0 && rejected > 0, "{stderr}");
    assert_eq!(
        rejected + unknown,
        300,
        "an unknown verdict is never reported"
    );
    // the cut is in file order: the last workflows are the unjudged ones
    let last = hits(&v)
        .into_iter()
        .filter(|h| h.0 == "role-trust-rejects-job")
        .map(|h| h.1)
        .max()
        .unwrap();
    assert_eq!(last, format!(".github/workflows/w{:03}.yml", rejected - 1));
}

/// A custom rule's `glob` (`*aaa…ab*`, and one with a `?` in the run) against a megabyte
/// value (`aaa…`): backtracking glob matching retried the run at every position, pattern ×
/// text steps (over a minute); the piece-by-piece matcher is linear (KMP, shift-and for runs
/// with `?`), and the verdict is exact (no `b`: the value matches none of the patterns).
#[test]
fn custom_rule_glob_is_matched_in_linear_time() {
    let a = "a".repeat(20_000);
    let pattern = format!("[\"*{a}b*\", \"*{}?{}b*\"]", &a[..500], &a[..500]);
    let rule = format!(
        "id: acme/env-name\nseverity: warning\nsummary: s\nmessage: m\napplies-to: [workflow]\nselect: \"$.jobs[*]\"\npath: \"$.environment\"\nglob: {pattern}\n"
    );
    let (rules, repo) = rules_outside_tree(&[("r.yml", &rule)]);
    write_files(
        repo.path(),
        &[(
            ".github/workflows/ci.yml".into(),
            format!(
                "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    environment: {}\n    steps:\n      - run: echo\n",
                "a".repeat(1 << 20)
            ),
        )],
    );
    let out = run_rules(rules.path(), repo.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        count(&v, "acme/env-name"),
        1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(v["errors"].as_array().unwrap().is_empty());
}

/// hcl-edit re-parses the operand after a chain's second operator once more when it fails
/// (`a < b < (…` ends the chain, sees `<` and tries again), so operands of chains nested in
/// one another cost `2^depth` parses however balanced their brackets: twenty levels took a
/// minute. The pre-scan charges each byte its re-parses and refuses text over the budget, at
/// the operand where it runs out, whatever carries the nesting: string templates, parentheses,
/// heredocs opened right after an operator (`<<<EOF` is `<` and a heredoc). The fuzzer's
/// input is refused too (read as hcl-edit reads it, it does not even balance); real nesting of chains (`a && b && (c || d || (e))`) is still parsed
/// and analysed.
#[test]
fn nested_operands_of_hcl_operator_chains_are_refused_before_parsing() {
    let n = 40;
    let d = tempfile::tempdir().unwrap();
    // each level: the operand after a second `<` holds a template whose interpolation does it
    // again; the innermost `%{zz}` is no directive, so every level fails and is parsed twice
    let templates = format!(
        "a = x < y < {}\"%{{zz}}\"{}\n",
        "\"${x < y < ".repeat(n),
        "}\"".repeat(n)
    );
    // the same with parentheses, failing at a lone `&`
    let parens = format!(
        "a = x && y && {}(1 & 2){}\n",
        "(p || q || ".repeat(n),
        ")".repeat(n)
    );
    // the same inside a heredoc opened right after an operator (`<<<EOF` is `<` and a
    // heredoc, so `#` is heredoc text, not a comment hiding the line)
    let heredoc = format!(
        "a = x < y <<<EOF\n# ${{x < y < {}\"%{{zz}}\"{}}}\nEOF\n",
        "\"${x < y < ".repeat(n),
        "}\"".repeat(n)
    );
    // a real-looking role whose condition nests chains two levels deep (as real modules do)
    let trust = "locals {\n  create = var.create && var.enabled && (length(var.subjects) > 0 || length(var.repos) > 0 || var.any != null)\n}\nresource \"aws_iam_role\" \"deploy\" {\n  count = local.create ? 1 : 0\n  assume_role_policy = jsonencode({\n    Statement = [{\n      Effect = \"Allow\"\n      Principal = { Federated = \"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\" }\n      Action = \"sts:AssumeRoleWithWebIdentity\"\n      Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\" } }\n    }]\n  })\n}\n";
    write_files(
        d.path(),
        &[
            ("a-templates.tf".into(), templates),
            ("b-parens.tf".into(), parens),
            ("c-heredoc.tf".into(), heredoc),
            (
                "d-fuzz.tf".into(),
                include_str!("../../fuzz/regressions/hcl-slow-balanced-1.tf").into(),
            ),
            ("z-trust.tf".into(), trust.into()),
        ],
    );
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, u64, u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // refused where the re-parses pass 1 MiB: 16 levels of 11 bytes (the heredoc is one)
    let e = |p: &str, l: u64, c: u64, depth: u32| {
        (
            p.to_string(),
            l,
            c,
            format!(
                "invalid HCL: operands after chained operators (`a < b < (…`) nested {depth} \
                 deep: the HCL parser would parse this text up to {} times, too slow to allow",
                1u64 << depth
            ),
        )
    };
    assert_eq!(
        errors,
        vec![
            e("a-templates.tf", 1, 13 + 11 * 15, 16),
            e("b-parens.tf", 1, 15 + 11 * 15, 16),
            e("c-heredoc.tf", 2, 13 + 11 * 14, 16),
            // read as hcl-edit reads it (`<<<f` opens a heredoc) the fuzzer's input does not
            // balance: that error wins over the re-parse budget (line 15 there, 14 levels)
            (
                "d-fuzz.tf".to_string(),
                20,
                85,
                "invalid HCL: unclosed string (opened here)".to_string()
            ),
        ]
    );
    let rules: Vec<String> = hits(&v).into_iter().map(|h| h.0).collect();
    assert!(
        rules.contains(&"trust-missing-sub".to_string()),
        "{rules:?}"
    );
}

/// Terragrunt configurations that read themselves and each other without end, and Terraform
/// modules whose outputs read each other's: the scan reads a bounded number of files and ends,
/// and a unit whose include reads its values still gets them.
#[test]
fn configurations_reading_each_other_are_read_a_bounded_number_of_times() {
    let d = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, String)> = Vec::new();
    let mut root = String::from("locals {\n");
    for i in 0..300 {
        root.push_str(&format!(
            "  self{i} = read_terragrunt_config(find_in_parent_folders(\"root.hcl\"))\n"
        ));
    }
    root.push_str("}\ninputs = { actions = [\"iam:*\"] }\n");
    files.push(("root.hcl".into(), root));
    for u in 0..40 {
        files.push((
            format!("live/u{u}/terragrunt.hcl"),
            "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\nterraform {\n  source = \"../../modules/m\"\n}\n".into(),
        ));
    }
    // a module whose outputs come from modules calling it back, fanned out
    let mut m = String::from("variable \"actions\" {}\n");
    for i in 0..20 {
        m.push_str(&format!(
            "module \"again{i}\" {{\n  source = \"../n\"\n  x = module.again{}.out\n}}\n",
            (i + 1) % 20
        ));
    }
    m.push_str(
        "resource \"aws_iam_role\" \"r\" {\n  name = \"r\"\n  assume_role_policy = jsonencode({ Statement = [{ Effect = \"Allow\", Action = \"sts:AssumeRoleWithWebIdentity\", Principal = { Federated = \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\" }, Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\", \"token.actions.githubusercontent.com:sub\" = \"repo:acme/app:ref:refs/heads/main\" } } }] })\n}\nresource \"aws_iam_role_policy\" \"p\" {\n  role = aws_iam_role.r.name\n  policy = jsonencode({ Statement = [{ Effect = \"Allow\", Action = var.actions, Resource = \"*\" }] })\n}\n",
    );
    files.push(("modules/m/main.tf".into(), m));
    let mut n = String::from("variable \"x\" {}\n");
    for i in 0..20 {
        n.push_str(&format!(
            "module \"back{i}\" {{\n  source = \"../m\"\n  actions = [module.back{}.out]\n}}\n",
            (i + 1) % 20
        ));
    }
    n.push_str("output \"out\" {\n  value = var.x\n}\n");
    files.push(("modules/n/main.tf".into(), n));
    write_files(d.path(), &files);
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // every unit: `iam:*` on `*` from the included inputs
    assert_eq!(count(&v, "perm-passrole-wildcard"), 40, "{v}");
}

#[test]
fn stacks_nesting_each_other_and_units_depending_on_each_other_end() {
    let d = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, String)> = Vec::new();
    files.push((
        "oidc-lint.toml".into(),
        "repository = \"acme/catalog\"\n".into(),
    ));
    // two stacks nesting each other (by this repository's remote and by the repository root),
    // each fanning out to 30 units that depend on each other in a ring
    for (me, other) in [("a", "b"), ("b", "a")] {
        let mut s = format!(
            "stack \"again\" {{\n  source = \"git::git@github.com:acme/catalog.git//stacks/{other}?ref=v1\"\n  path = \"again\"\n  values = {{ subjects = values.subjects }}\n}}\nstack \"root\" {{\n  source = \"${{get_repo_root()}}/stacks/{other}\"\n  path = \"root\"\n  values = {{ subjects = [\"repo:acme/app:*\"] }}\n}}\n"
        );
        for u in 0..30 {
            s.push_str(&format!(
                "unit \"u{u}\" {{\n  source = \"${{get_repo_root()}}/units/u\"\n  path = \"u{u}\"\n  values = {{ subjects = [\"repo:acme/app:*\"], next = \"u{}\" }}\n}}\n",
                (u + 1) % 30
            ));
        }
        files.push((format!("stacks/{me}/terragrunt.stack.hcl"), s));
    }
    files.push((
        "units/u/terragrunt.hcl".into(),
        "terraform {\n  source = \"github.com/acme/catalog//modules/m?ref=v1\"\n}\ndependency \"next\" {\n  config_path = \"../${values.next}\"\n}\ndependency \"self\" {\n  config_path = \".\"\n}\ninputs = {\n  subjects = values.subjects\n  name = dependency.next.outputs.name\n}\n".into(),
    ));
    files.push((
        "modules/m/main.tf".into(),
        "variable \"subjects\" {}\nvariable \"name\" {}\nresource \"aws_iam_role\" \"r\" {\n  name = var.name\n  assume_role_policy = jsonencode({ Statement = [{ Effect = \"Allow\", Action = \"sts:AssumeRoleWithWebIdentity\", Principal = { Federated = \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\" }, Condition = { StringEquals = { \"token.actions.githubusercontent.com:aud\" = \"sts.amazonaws.com\" }, StringLike = { \"token.actions.githubusercontent.com:sub\" = var.subjects } } }] })\n}\noutput \"name\" {\n  value = aws_iam_role.r.name\n}\n".into(),
    ));
    write_files(d.path(), &files);
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // the units' module is judged with the stacks' subjects, a bounded number of times
    let n = count(&v, "trust-sub-repo-wide");
    assert!((1..=64).contains(&n), "{n}: {v}");
}

#[test]
fn policy_resources_repeated_by_for_each_are_copied_a_bounded_number_of_times() {
    let d = tempfile::tempdir().unwrap();
    // 4,000 attachments, each over a 32-item list: read one by one, that would be 128,000
    // blocks; past the budget the rest stay one block each.
    let mut t = String::from("locals {\n  arns = [");
    for i in 0..32 {
        t.push_str(&format!("\"arn:aws:iam::aws:policy/P{i}\", "));
    }
    t.push_str("]\n}\n");
    for i in 0..4000 {
        t.push_str(&format!(
            "resource \"aws_iam_role_policy_attachment\" \"a{i}\" {{\n  for_each = toset(local.arns)\n  role = \"r\"\n  policy_arn = each.value\n}}\nresource \"aws_iam_role_policy_attachment\" \"c{i}\" {{\n  count = length(local.arns)\n  role = \"r\"\n  policy_arn = local.arns[count.index]\n}}\n"
        ));
    }
    write_files(d.path(), &[("main.tf".to_string(), t)]);
    let out = run_guarded(bin().current_dir(d.path()).args(["--format", "json", "."]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn var_files_deploy_a_directory_a_bounded_number_of_times() {
    let d = tempfile::tempdir().unwrap();
    // A configuration calling a module 40 times, with 60 variables files beside it and below
    // it: at most 8 deployments, each with its own bounded instance budget.
    let mut root =
        String::from("variable \"sub\" {\n  default = \"repo:acme/app:ref:refs/heads/main\"\n}\n");
    for i in 0..40 {
        root.push_str(&format!(
            "module \"m{i}\" {{\n  source = \"./mod\"\n  sub = var.sub\n}}\n"
        ));
    }
    let module = "variable \"sub\" {}\nresource \"aws_iam_role\" \"r\" {\n  name = \"r\"\n  assume_role_policy = jsonencode({Statement = [{Effect = \"Allow\", Action = \"sts:AssumeRoleWithWebIdentity\", Principal = {Federated = \"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\"}, Condition = {StringLike = {\"token.actions.githubusercontent.com:sub\" = var.sub}}}]})\n}\n";
    let mut files = vec![
        ("main.tf".to_string(), root),
        ("mod/main.tf".to_string(), module.to_string()),
    ];
    for i in 0..30 {
        files.push((
            format!("env{i}.tfvars"),
            format!("sub = \"repo:acme/app{i}:*\"\n"),
        ));
        files.push((
            format!("envs/e{i}/inputs.tfvars"),
            format!("sub = \"repo:acme/other{i}:*\"\n"),
        ));
    }
    write_files(d.path(), &files);
    let out =
        run_guarded(
            bin()
                .current_dir(d.path())
                .args(["--format", "json", "--exit-zero", "."]),
        );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wide = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "trust-sub-repo-wide")
        .count();
    // 8 deployments (the first 8 files by path), each judging the module's 32 instances at most
    assert!(wide > 0 && wide <= 8 * 32, "{wide}");
}
