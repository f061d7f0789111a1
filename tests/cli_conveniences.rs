//! What ruff users expect from the CLI (issue #19 item 7): "did you mean", `rules --format
//! json`, FORCE_COLOR/CLICOLOR_FORCE, a doc link per finding, the unsafe-fix hint, SARIF
//! `helpUri` and `security-severity`, options before a subcommand, `--statistics`. Every test
//! drives the binary.

mod common;
use common::{bin, fixtures, write_files};
use serde_json::Value;
use std::path::Path;

/// (exit code, stdout, stderr) of `oidc-lint ARGS` in `dir`.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = bin();
    c.current_dir(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const OPEN_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{
  "Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
}]}
"#;

/// A temporary repository with `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    write_files(dir.path(), &files);
    dir
}

fn version_url(id: &str) -> String {
    format!(
        "https://github.com/oidc-lint/oidc-lint/blob/v{}/rules/{id}.md",
        env!("CARGO_PKG_VERSION")
    )
}

#[test]
fn mistyped_rule_ids_get_the_closest_id() {
    let d = repo(&[("trust.json", OPEN_TRUST)]);
    let (code, _, err) = run(d.path(), &["--select", "trust-mising-sub", "."], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: unknown rule `trust-mising-sub` in --select/--ignore; did you mean `trust-missing-sub`?\n"
    );
    let (code, _, err) = run(d.path(), &["--ignore", "trust-sub-org-wid", "."], &[]);
    assert_eq!(code, 2);
    assert!(
        err.ends_with("did you mean `trust-sub-org-wide`?\n"),
        "{err}"
    );
    // nothing close: no guess
    let (code, _, err) = run(d.path(), &["--select", "zzzz", "."], &[]);
    assert_eq!(code, 2);
    assert_eq!(err, "error: unknown rule `zzzz` in --select/--ignore\n");
    let (code, out, err) = run(d.path(), &["explain", "trust-wrong-actoin"], &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: unknown rule `trust-wrong-actoin`; did you mean `trust-wrong-action`? (`oidc-lint rules` lists them)\n"
    );
}

#[test]
fn mistyped_configuration_keys_and_rule_ids_get_the_closest_one() {
    let cases = [
        (
            "fial-on = \"error\"\n",
            "line 1: unknown field `fial-on`",
            "did you mean `fail-on`?",
        ),
        (
            "[rules.trust-missing-sub]\nseverty = \"note\"\n",
            "line 2: unknown field `severty`",
            "did you mean `severity`?",
        ),
        (
            "[rules.trust-misssing-sub]\nenabled = false\n",
            "line 1: unknown rule `trust-misssing-sub` under [rules]",
            "did you mean `trust-missing-sub`?",
        ),
        (
            "[[ignore]]\npath = \"x\"\nrules = [\"trust-sub-any-rep\"]\n",
            "line 1: unknown rule `trust-sub-any-rep` in [[ignore]]",
            "did you mean `trust-sub-any-repo`?",
        ),
    ];
    for (toml, what, hint) in cases {
        let d = repo(&[("trust.json", OPEN_TRUST), ("oidc-lint.toml", toml)]);
        let (code, out, err) = run(d.path(), &["."], &[]);
        assert_eq!((code, out.as_str()), (2, ""), "{toml}");
        assert!(
            err.contains(what) && err.trim_end().ends_with(hint),
            "{toml}: {err}"
        );
    }
    // a key far from every known key: the known keys are listed, no guess is made
    let d = repo(&[("oidc-lint.toml", "zzz = 1\n")]);
    let (code, _, err) = run(d.path(), &["."], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown field `zzz`, expected one of") && !err.contains("did you mean"),
        "{err}"
    );
}

#[test]
fn a_huge_unknown_key_in_a_scanned_configuration_is_refused_promptly() {
    // The configuration belongs to the scanned repository: guessing must stay cheap for any key.
    let key = "trust-missing-sub".repeat(20_000);
    let d = repo(&[(
        "oidc-lint.toml",
        &format!("[rules.{key}]\nenabled = false\n"),
    )]);
    let err_path = d.path().join("stderr.txt");
    let mut child = bin()
        .current_dir(d.path())
        .arg("oidc-lint.toml")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    // A hang guard only (the check itself takes milliseconds).
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("still running after 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(child.wait().unwrap().code(), Some(2));
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        err.contains("line 1: unknown rule `trust-missing-subtrust")
            && !err.contains("did you mean")
    );
}

#[test]
fn a_missing_path_close_to_a_subcommand_suggests_it() {
    let d = repo(&[("trust.json", OPEN_TRUST)]);
    let (code, out, err) = run(d.path(), &["audti", "."], &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: `audti` is neither a file nor a subcommand; did you mean `oidc-lint audit`?\n"
    );
    // an existing file of that name is scanned, not second-guessed
    std::fs::create_dir(d.path().join("audti")).unwrap();
    let (code, _, err) = run(d.path(), &["--format", "json", "audti", "."], &[]);
    assert_eq!((code, err.as_str()), (1, ""));
    // a missing path far from every subcommand is an input error as before
    let (code, _, err) = run(d.path(), &["nothing-here"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing-here: no such file"), "{err}");
}

#[test]
fn options_before_a_subcommand_apply_to_it() {
    let d = repo(&[(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n",
    )]);
    let after = run(d.path(), &["audit", "--format", "json", "."], &[]);
    assert_eq!(after.0, 0, "{}", after.2);
    assert!(after.1.starts_with('{'));
    for args in [
        &["--format", "json", "audit", "."][..],
        &["--format=json", "audit", "."],
        &["--repo", "acme/app", "--format", "json", "audit", "."],
    ] {
        let before = run(d.path(), args, &[]);
        assert_eq!(before.0, 0, "{args:?}: {}", before.2);
        if !args.contains(&"--repo") {
            assert_eq!(before.1, after.1, "{args:?}");
        } else {
            assert!(before.1.contains("\"acme/app\""), "{}", before.1);
        }
    }
    assert_eq!(
        run(d.path(), &["--format", "json", "rules"], &[]).1,
        run(d.path(), &["rules", "--format", "json"], &[]).1
    );
    // an option the subcommand does not take is named, as after it
    let (code, out, err) = run(d.path(), &["--fix", "audit", "."], &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("unexpected argument '--fix'"), "{err}");
    // after a path, a subcommand's name is a path again
    std::fs::create_dir(d.path().join("audit")).unwrap();
    std::fs::write(d.path().join("audit/trust.json"), OPEN_TRUST).unwrap();
    let (code, out, _) = run(d.path(), &["--format", "json", "audit/..", "audit"], &[]);
    assert_eq!(code, 1);
    assert!(out.contains("\"trust-missing-sub\""));
    // and `./audit` or `-- audit` scan the directory
    for args in [
        &["--format", "json", "./audit"][..],
        &["--format", "json", "--", "audit"],
    ] {
        let (code, out, err) = run(d.path(), args, &[]);
        assert_eq!(code, 1, "{args:?}: {err}");
        // paths are relative to the repository root (here the working directory)
        assert!(
            out.contains("\"path\": \"audit/trust.json\""),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn rules_as_json() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = run(d.path(), &["rules", "--format", "json"], &[]);
    assert_eq!(code, 0);
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    let metas = oidc_lint::cli::all_meta();
    assert_eq!(v.len(), metas.len());
    for (o, m) in v.iter().zip(&metas) {
        assert_eq!(o["id"], m.id);
        assert_eq!(o["severity"], m.severity.as_str());
        assert_eq!(o["fixable"], m.fixable);
        assert_eq!(o["summary"], m.summary);
        assert_eq!(o["url"], version_url(m.id));
        assert_eq!(
            o["applies_to"].as_array().unwrap().len(),
            m.applies_to.len()
        );
    }
    assert_eq!(
        run(d.path(), &["rules", "--markdown"], &[]).1,
        run(d.path(), &["rules", "--format", "markdown"], &[]).1
    );
}

#[test]
fn colour_follows_force_color_clicolor_force_and_no_color() {
    let d = repo(&[("trust.json", OPEN_TRUST)]);
    let coloured = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = extra.to_vec();
        args.push(".");
        let (code, out, _) = run(d.path(), &args, env);
        assert_eq!(code, 1);
        out.contains("\x1b[")
    };
    // not a terminal: plain by default
    assert!(!coloured(&[], &[]));
    assert!(coloured(&[("FORCE_COLOR", "1")], &[]));
    assert!(coloured(&[("CLICOLOR_FORCE", "1")], &[]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "0")], &[]));
    assert!(!coloured(&[("FORCE_COLOR", "")], &[]));
    // NO_COLOR wins over forcing; the flag wins over everything
    assert!(!coloured(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")], &[]));
    assert!(!coloured(&[("FORCE_COLOR", "1")], &["--color", "never"]));
    assert!(coloured(&[("NO_COLOR", "1")], &["--color", "always"]));
    // never in machine output
    assert!(!coloured(&[("FORCE_COLOR", "1")], &["--format", "json"]));
}

#[test]
fn human_findings_link_the_rule_page_of_this_version() {
    let d = repo(&[("trust.json", OPEN_TRUST)]);
    let (code, out, _) = run(d.path(), &["."], &[]);
    assert_eq!(code, 1);
    let link = format!(
        "= help: for further information visit {}\n",
        version_url("trust-missing-sub")
    );
    assert!(out.contains(&link), "{out}");
    assert_eq!(
        out.matches("for further information visit").count(),
        out.matches("\n --> ").count() + out.matches("\n  --> ").count()
    );
}

const CUSTOM_RULE: &str = "id: acme/allow\nseverity: warning\nmessage: allowed {value}\nselect: $.statements[*].effect\none-of: [Deny]\n";

#[test]
fn custom_rules_have_no_doc_link() {
    let d = repo(&[("trust.json", OPEN_TRUST), ("r/x.yml", CUSTOM_RULE)]);
    let (code, out, err) = run(
        d.path(),
        &["--rules", "r", "--select", "acme/allow", "."],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("warning[acme/allow]"), "{out}");
    assert!(!out.contains("for further information"), "{out}");
    let (_, sarif, _) = run(d.path(), &["--rules", "r", "--format", "sarif", "."], &[]);
    let v: Value = serde_json::from_str(&sarif).unwrap();
    for r in v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        if id == "acme/allow" {
            assert!(r.get("helpUri").is_none());
        } else {
            assert_eq!(r["helpUri"], version_url(id));
        }
    }
}

#[test]
fn unsafe_fixes_are_announced() {
    let wf = fixtures().join("rules/workflow-deprecated-action/bad-old-majors");
    let (code, out, _) = run(&wf, &["."], &[]);
    assert_eq!(code, 1);
    let hidden = out
        .matches("fix (unsafe, applied with --unsafe-fixes)")
        .count();
    assert!(hidden > 0);
    assert!(
        out.contains(&format!("{hidden} fixable with `oidc-lint --fix --unsafe-fixes` (unsafe: review the changes first with `--diff --unsafe-fixes`).\n")),
        "{out}"
    );
    // only safe fixes: no hint
    let d = repo(&[("trust.json", OPEN_TRUST)]);
    let (_, out, _) = run(d.path(), &["."], &[]);
    assert!(!out.contains("--unsafe-fixes"), "{out}");
}

/// The SARIF descriptor of `id`.
fn descriptor(sarif: &str, id: &str) -> Value {
    let v: Value = serde_json::from_str(sarif).unwrap();
    v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
        .clone()
}

#[test]
fn sarif_severity_follows_the_configuration() {
    let d = repo(&[("trust.json", OPEN_TRUST)]);
    let (_, sarif, _) = run(d.path(), &["--format", "sarif", "."], &[]);
    let r = descriptor(&sarif, "trust-missing-sub");
    assert_eq!(r["defaultConfiguration"]["level"], "error");
    assert_eq!(r["properties"]["security-severity"], "9.3");
    let r = descriptor(&sarif, "trust-sub-repo-wide");
    assert_eq!(r["properties"]["security-severity"], "2.0");
    // lowered to a warning: medium, not critical; raised to an error: high, not low
    std::fs::write(
        d.path().join("oidc-lint.toml"),
        "[rules.trust-missing-sub]\nseverity = \"warning\"\n[rules.trust-sub-repo-wide]\nseverity = \"error\"\n",
    )
    .unwrap();
    let (_, sarif, _) = run(d.path(), &["--format", "sarif", "."], &[]);
    let r = descriptor(&sarif, "trust-missing-sub");
    assert_eq!(r["defaultConfiguration"]["level"], "warning");
    assert_eq!(r["properties"]["problem.severity"], "warning");
    assert_eq!(r["properties"]["security-severity"], "5.0");
    let r = descriptor(&sarif, "trust-sub-repo-wide");
    assert_eq!(r["defaultConfiguration"]["level"], "error");
    assert_eq!(r["properties"]["security-severity"], "8.0");
    let v: Value = serde_json::from_str(&sarif).unwrap();
    let result = &v["runs"][0]["results"][0];
    assert_eq!(
        (&result["ruleId"], &result["level"]),
        (&Value::from("trust-missing-sub"), &Value::from("warning"))
    );
    // a change that keeps the band keeps the table's score
    std::fs::write(
        d.path().join("oidc-lint.toml"),
        "[rules.trust-missing-sub]\nseverity = \"error\"\n",
    )
    .unwrap();
    let (_, sarif, _) = run(d.path(), &["--format", "sarif", "."], &[]);
    assert_eq!(
        descriptor(&sarif, "trust-missing-sub")["properties"]["security-severity"],
        "9.3"
    );
}

#[test]
fn statistics_count_findings_per_rule() {
    let root = fixtures().join("rules/trust-missing-sub");
    let (code, json, _) = run(&root, &["--format", "json", "."], &[]);
    assert_eq!(code, 1);
    let plain: Value = serde_json::from_str(&json).unwrap();
    assert!(plain.get("statistics").is_none(), "only with --statistics");
    let (code, json, _) = run(&root, &["--format", "json", "--statistics", "."], &[]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&json).unwrap();
    // the rest of the document is unchanged
    let mut without = v.clone();
    without.as_object_mut().unwrap().remove("statistics");
    assert_eq!(without, plain);
    let stats = v["statistics"].as_array().unwrap();
    let findings = v["findings"].as_array().unwrap();
    let mut expected: Vec<(i64, String)> = Vec::new();
    for f in findings {
        let rule = f["rule"].as_str().unwrap().to_string();
        match expected.iter_mut().find(|e| e.1 == rule) {
            Some(e) => e.0 -= 1,
            None => expected.push((-1, rule)),
        }
    }
    expected.sort();
    let got: Vec<(i64, String)> = stats
        .iter()
        .map(|s| {
            (
                -s["count"].as_i64().unwrap(),
                s["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(stats.len() > 1);
    for s in stats {
        let n = findings.iter().filter(|f| f["rule"] == s["rule"]).count() as u64;
        let fixable = findings
            .iter()
            .filter(|f| f["rule"] == s["rule"] && !f["fix"].is_null())
            .count() as u64;
        assert_eq!(s["count"], n);
        assert_eq!(
            s["fixable"].as_u64().unwrap() + s["unsafe_fixable"].as_u64().unwrap(),
            fixable
        );
        assert!(!s["summary"].as_str().unwrap().is_empty());
    }
    // human: one line per rule in the same order, then the summary; no snippets
    let (code, out, _) = run(&root, &["--statistics", "."], &[]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), stats.len(), "{out}");
    for (l, s) in lines.iter().zip(stats) {
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(cols[0], s["count"].to_string());
        assert_eq!(cols[1], s["rule"].as_str().unwrap());
        assert_eq!(cols[2], s["severity"].as_str().unwrap());
    }
    assert!(!out.contains(" --> "), "{out}");
    assert!(
        out.contains(&format!("Found {} findings", findings.len())),
        "{out}"
    );
}
