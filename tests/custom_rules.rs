//! Custom rules: the five examples in `rules/examples/` fire on their `bad` fixtures (in every
//! file, whatever its format) and stay quiet on their `good` ones; each kind of loading
//! mistake gives one precise line and exit 2; custom rules behave like built-in ones.

mod common;
use common::*;
use std::path::{Path, PathBuf};

const EXAMPLES: &[&str] = &[
    "ecr-push-team-repos",
    "pin-aws-actions-sha",
    "role-duration",
    "subject-owners",
    "trust-pin-main-or-environment",
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/examples")
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

/// Human output of the example rule `name` on `fixtures/custom-rules/NAME/KIND`.
fn run_example(name: &str, kind: &str, format: &str) -> (i32, String) {
    let dir = fixtures().join("custom-rules").join(name).join(kind);
    let out = bin()
        .current_dir(&dir)
        .arg("--rules")
        .arg(examples_dir())
        .args(["--select", &format!("acme/{name}")])
        .args(["--format", format, "--color", "never", "."])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{name}/{kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn examples_fire_on_every_bad_file() {
    for name in EXAMPLES {
        let (code, json) = run_example(name, "bad", "json");
        assert_eq!(code, 1, "{name}/bad: {json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let hits = hits(&v);
        assert!(
            hits.iter().all(|h| h.0 == format!("acme/{name}")),
            "{hits:?}"
        );
        let dir = fixtures().join("custom-rules").join(name).join("bad");
        for f in files_under(&dir) {
            assert!(
                hits.iter().any(|h| h.1 == f),
                "{name}: bad file {f} has no finding: {hits:?}"
            );
        }
        let (_, human) = run_example(name, "bad", "human");
        insta::assert_snapshot!(format!("example-{name}"), human);
    }
}

#[test]
fn examples_are_quiet_on_good_files() {
    for name in EXAMPLES {
        let (code, json) = run_example(name, "good", "json");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(hits(&v), vec![], "{name}/good");
        assert_eq!(code, 0, "{name}/good");
        assert!(v["summary"]["files_scanned"].as_u64().unwrap() > 0);
    }
}

/// The input formats each example's `bad` and `good` fixtures cover (as `dump-model` names them).
const FORMATS: &[(&str, &[&str])] = &[
    ("ecr-push-team-repos", &["iam-json", "terraform"]),
    ("pin-aws-actions-sha", &["action", "workflow"]),
    ("role-duration", &["action", "workflow"]),
    ("subject-owners", &["iam-json", "terraform"]),
    ("trust-pin-main-or-environment", &["iam-json", "terraform"]),
];

#[test]
fn examples_cover_every_input_format() {
    for (name, formats) in FORMATS {
        for kind in ["bad", "good"] {
            let dir = fixtures().join("custom-rules").join(name).join(kind);
            let out = bin()
                .current_dir(&dir)
                .args(["dump-model", "."])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{name}/{kind}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut seen: Vec<String> = v["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["format"].as_str().unwrap().to_string())
                .collect();
            seen.sort();
            seen.dedup();
            assert_eq!(&seen, formats, "{name}/{kind}");
        }
    }
}

#[test]
fn every_example_has_fixtures() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".yml")
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, EXAMPLES);
}

/// Run with a rules directory holding `rules` (name, text) on a repo of `files`.
fn run_with(
    rules: &[(&str, &str)],
    files: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<(String, String)> = rules
        .iter()
        .map(|(n, t)| (format!("policy-rules/{n}"), t.to_string()))
        .collect();
    all.extend(files.iter().map(|(n, t)| (n.to_string(), t.to_string())));
    write_files(dir.path(), &all);
    let out = bin()
        .current_dir(dir.path())
        .args(["--rules", "policy-rules", "--color", "never"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"
        }
      }
    }
  ]
}
"#;

const WORKFLOW: &str = "on: push
permissions:
  id-token: write
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: prod
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::111122223333:role/deploy
          aws-region: us-east-1
          role-duration-seconds: 900
";

/// A loading mistake: exit 2, nothing on stdout, exactly `expected` on stderr.
fn load_error(rule: &str, expected: &str) {
    let (code, out, err) = run_with(&[("r.yml", rule)], &[("iam/trust.json", TRUST)], &["."]);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
    assert_eq!(out, "");
    assert_eq!(err, format!("error: {expected}\n"));
}

const OK_RULE: &str = "id: acme/x
severity: error
message: bad {value}
select: $.statements[*].effect
one-of: [Allow]
";

#[test]
fn load_error_invalid_yaml() {
    load_error(
        "id: acme/x\nseverity: [error\n",
        "policy-rules/r.yml:3: invalid YAML: while parsing a flow sequence, expected ',' or ']'",
    );
}

#[test]
fn load_error_not_a_mapping() {
    load_error(
        "- id: acme/x\n",
        "policy-rules/r.yml:1: expected a rule (a mapping with `id`, `select`, …), found a list",
    );
}

#[test]
fn load_error_empty_file() {
    load_error(
        "# nothing yet\n",
        "policy-rules/r.yml:1: expected a rule (a mapping with `id`, `select`, …), found an empty file",
    );
}

#[test]
fn load_error_missing_field() {
    load_error(
        "id: acme/x\nseverity: error\nselect: $.statements\nmust-exist: true\n",
        "policy-rules/r.yml:1: field `message`: missing; expected the finding's message",
    );
}

#[test]
fn load_error_unknown_field() {
    load_error(
        &format!("{OK_RULE}serverity: error\n"),
        "policy-rules/r.yml:6: field `serverity`: unknown field; expected one of id, severity, summary, message, help, applies-to, select, path, must-exist, must-not-exist, matches, not-matches, one-of, glob, less-than, greater-than, model-version",
    );
}

#[test]
fn load_error_duplicate_field() {
    load_error(
        &format!("{OK_RULE}severity: note\n"),
        "policy-rules/r.yml:6: invalid YAML: duplicated key in mapping",
    );
}

#[test]
fn load_error_wrong_type() {
    load_error(
        &OK_RULE.replace("message: bad {value}", "message: [bad]"),
        "policy-rules/r.yml:3: field `message`: expected a string, found a list",
    );
}

#[test]
fn load_error_bad_severity() {
    load_error(
        &OK_RULE.replace("severity: error", "severity: critical"),
        "policy-rules/r.yml:2: field `severity`: expected one of error, warning, note; found `critical`",
    );
}

#[test]
fn load_error_id_without_namespace() {
    load_error(
        &OK_RULE.replace("id: acme/x", "id: trust-missing-sub"),
        "policy-rules/r.yml:1: field `id`: expected NAMESPACE/NAME (letters, digits, `-`, `_`, `.`), such as `acme/pin-main-branch`; found `trust-missing-sub`",
    );
}

#[test]
fn load_error_duplicate_id() {
    let (code, out, err) = run_with(
        &[("a.yml", OK_RULE), ("b.yml", &format!("# copy\n{OK_RULE}"))],
        &[("iam/trust.json", TRUST)],
        &["."],
    );
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: policy-rules/b.yml:2: field `id`: `acme/x` is already defined by `policy-rules/a.yml`; expected a unique id\n"
    );
}

#[test]
fn load_error_bad_jsonpath() {
    load_error(
        &OK_RULE.replace("$.statements[*].effect", "$.statements[*.effect"),
        "policy-rules/r.yml:4: field `select`: expected an RFC 9535 JSONPath such as `$.statements[*]`; invalid at character 15 (`$.statements[*.effect`): in long-hand segment, expected closing ']'",
    );
}

#[test]
fn load_error_bad_relative_path() {
    load_error(
        &format!("{OK_RULE}path: with\n"),
        "policy-rules/r.yml:6: field `path`: expected an RFC 9535 JSONPath starting with `$`, such as `$.statements[*]`; found `with`",
    );
}

#[test]
fn load_error_bad_regex() {
    load_error(
        &OK_RULE.replace("one-of: [Allow]", "matches: '^(Allow'"),
        "policy-rules/r.yml:5: field `matches`: expected a regular expression; `^(Allow` is invalid: unclosed group",
    );
}

#[test]
fn load_error_bad_document_kind() {
    load_error(
        &format!("{OK_RULE}applies-to: [trust-policy, terraform]\n"),
        "policy-rules/r.yml:6: field `applies-to`: expected document kinds among trust-policy, permission-policy, oidc-provider, role, access-key, workflow, action, azure-identity, azure-credential, gcp-wif-provider, gcp-iam-member; found `terraform`",
    );
}

#[test]
fn load_error_no_assertion() {
    load_error(
        &OK_RULE.replace("one-of: [Allow]\n", ""),
        "policy-rules/r.yml:1: no assertion; expected at least one of must-exist, must-not-exist, matches, not-matches, one-of, glob, less-than, greater-than",
    );
}

#[test]
fn load_error_conflicting_assertions() {
    load_error(
        &format!("{OK_RULE}must-not-exist: true\n"),
        "policy-rules/r.yml:6: field `must-not-exist`: cannot be combined with value assertions (matches, one-of, …); expected it alone",
    );
}

#[test]
fn load_error_not_a_number() {
    load_error(
        &OK_RULE.replace("one-of: [Allow]", "less-than: '3600'"),
        "policy-rules/r.yml:5: field `less-than`: expected a number, found a string",
    );
}

#[test]
fn load_error_not_a_boolean() {
    load_error(
        &OK_RULE.replace("one-of: [Allow]", "must-exist: yes"),
        "policy-rules/r.yml:5: field `must-exist`: expected true or false, found a string",
    );
}

#[test]
fn load_error_empty_list() {
    load_error(
        &OK_RULE.replace("one-of: [Allow]", "one-of: []"),
        "policy-rules/r.yml:5: field `one-of`: expected a non-empty list of values",
    );
}

#[test]
fn load_error_unknown_placeholder() {
    load_error(
        &OK_RULE.replace("bad {value}", "bad {vlaue}"),
        "policy-rules/r.yml:3: field `message`: unknown placeholder `{vlaue}`; expected one of {value}, {path}, {file}, {owner}, {kind}, {rule} or a JSONPath `{$.…}` relative to the selected node",
    );
}

#[test]
fn load_error_unbalanced_brace() {
    load_error(
        &OK_RULE.replace("bad {value}", "'bad {value'"),
        "policy-rules/r.yml:3: field `message`: unclosed `{` (write `{{` for a literal brace)",
    );
}

#[test]
fn load_error_model_version() {
    load_error(
        &format!("model-version: 2\n{OK_RULE}"),
        "policy-rules/r.yml:1: field `model-version`: expected 1 (the model view this oidc-lint provides)",
    );
}

#[test]
fn load_error_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["--rules", "nope", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: nope: the rules directory does not exist\n"
    );
}

#[test]
fn a_rule_selecting_nothing_is_not_an_error() {
    let rule = "id: acme/no-wildcard-principals
severity: error
message: no
select: \"$.statements[?@.principals[?@.value == '*']]\"
must-not-exist: true
";
    let (code, out, err) = run_with(&[("r.yml", rule)], &[("iam/trust.json", TRUST)], &["."]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    // and an empty rules directory is fine too
    let (code, _, err) = run_with(
        &[("README.md", "notes")],
        &[("iam/trust.json", TRUST)],
        &["."],
    );
    assert_eq!((code, err.as_str()), (0, ""));
}

/// Every assertion kind and placeholder, on one small repository.
#[test]
fn assertions_and_placeholders() {
    let rules: &[(&str, &str)] = &[
        (
            "doc-level.yml",
            "id: t/needs-aud
severity: warning
message: '{kind} {owner} in {file} has no aud condition ({path})'
applies-to: trust-policy
select: \"$.statements[*].conditions[?@.claim == 'aud']\"
must-exist: true
",
        ),
        (
            "must-not-exist.yml",
            "id: t/no-string-like
severity: note
message: \"{value} at {path}\"
select: \"$.statements[*].conditions[?@['base-operator'] == 'StringLike'].operator\"
must-not-exist: true
",
        ),
        (
            "one-of.yml",
            "id: t/regions
severity: error
message: 'job {$.id}: region {value}'
select: \"$.jobs[*]\"
path: \"$.steps[*].with['aws-region']\"
one-of: [eu-west-1, eu-central-1]
",
        ),
        (
            "not-matches.yml",
            "id: t/no-admin
severity: error
message: '{rule}: {value}'
select: $.statements[*].actions
not-matches: '^(\\*|iam:\\*)$'
",
        ),
        (
            "greater-than.yml",
            "id: t/min-duration
severity: note
message: '{value} is too short'
select: \"$.jobs[*].steps[*].with['role-duration-seconds']\"
greater-than: 900
",
        ),
    ];
    let perm = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": "*"}]}"#;
    let trust_like = TRUST.replace("StringEquals", "StringLike").replace(
        "\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\",\n",
        "",
    );
    let (code, out, err) = run_with(
        rules,
        &[
            ("iam/trust.json", &trust_like),
            ("iam/perm.json", perm),
            (".github/workflows/deploy.yml", WORKFLOW),
        ],
        &[
            "--select",
            "t/needs-aud,t/no-string-like,t/regions,t/no-admin,t/min-duration",
            ".",
        ],
    );
    assert_eq!(err, "");
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn custom_rules_take_part_in_select_and_ignore() {
    let rules = &[("r.yml", OK_RULE.replace("[Allow]", "[Deny]"))];
    let rules: Vec<(&str, &str)> = rules.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let files = &[("iam/trust.json", TRUST)];
    let ids = |args: &[&str]| {
        let mut a = vec!["--format", "json", "."];
        a.extend_from_slice(args);
        let (code, out, err) = run_with(&rules, files, &a);
        assert_eq!(err, "");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut ids: Vec<String> = hits(&v).into_iter().map(|h| h.0).collect();
        ids.dedup();
        (code, ids)
    };
    assert_eq!(ids(&[]), (1, vec!["acme/x".to_string()]));
    assert_eq!(
        ids(&["--select", "acme/x"]),
        (1, vec!["acme/x".to_string()])
    );
    assert_eq!(ids(&["--ignore", "acme/x"]), (0, vec![]));
    assert_eq!(ids(&["--select", "trust-missing-sub"]), (0, vec![]));
    // an unknown id is still a usage error
    let (code, _, err) = run_with(&rules, files, &["--select", "acme/y", "."]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: unknown rule `acme/y` in --select/--ignore; did you mean `acme/x`?\n"
    );
}

#[test]
fn dump_model_of_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("iam/trust.json".into(), TRUST.into()),
            (".github/workflows/deploy.yml".into(), WORKFLOW.into()),
        ],
    );
    let run = |args: &[&str]| {
        let out = bin()
            .current_dir(dir.path())
            .arg("dump-model")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    insta::assert_snapshot!("dump-model", run(&["."]));
    insta::assert_snapshot!("dump-model-spans", run(&["--spans", "iam"]));
}

#[test]
fn dump_model_reports_unparsable_inputs() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(".github/workflows/x.yml".into(), "jobs: [\n".into())],
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["dump-model", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: .github/workflows/x.yml:"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["documents"], serde_json::json!([]));
}

#[test]
fn readme_shows_an_example_rule_as_it_is() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let rule = std::fs::read_to_string(examples_dir().join("role-duration.yml")).unwrap();
    for line in rule.lines().filter(|l| !l.starts_with('#')) {
        assert!(readme.contains(line), "README lacks `{line}`");
    }
}
