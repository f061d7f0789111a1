//! `oidc-lint.toml`: discovery, unknown keys, rule switches and severities, excludes,
//! path-based ignores and the fail threshold.

mod common;
use common::*;

const TRUST_ANY: &str = r#"{"Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
 "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
   "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}}]}"#;

fn repo(config: Option<(&str, &str)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let mut files = vec![
        ("iam/trust.json".to_string(), TRUST_ANY.to_string()),
        ("vendor/mod/trust.json".to_string(), TRUST_ANY.to_string()),
    ];
    if let Some((name, text)) = config {
        files.push((name.to_string(), text.to_string()));
    }
    write_files(dir.path(), &files);
    dir
}

fn rules_hit(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn without_configuration_both_files_warn() {
    let dir = repo(None);
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(rules_hit(&v).len(), 2, "{v:#}");
}

#[test]
fn severity_override_exclude_and_fail_threshold() {
    let cfg = "fail-on = \"error\"\nexclude = [\"vendor\"]\n\n[rules.trust-sub-org-wide]\nseverity = \"note\"\n";
    let dir = repo(Some(("oidc-lint.toml", cfg)));
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(
        rules_hit(&v),
        vec![(
            "trust-sub-org-wide".into(),
            "iam/trust.json".into(),
            "note".into()
        )]
    );
    assert_eq!(code, 0, "a note does not reach fail-on = error");
    // The command line wins over the file.
    let (code, _) = run_json(dir.path(), &["--fail-on", "note", "."]);
    assert_eq!(code, 1);
}

#[test]
fn hidden_name_found_upward_from_a_subdirectory() {
    let dir = repo(Some((
        ".oidc-lint.toml",
        "[rules.trust-sub-org-wide]\nenabled = false\n",
    )));
    let (code, v) = run_json(&dir.path().join("iam"), &["."]);
    assert_eq!(code, 0, "{v:#}");
    assert!(rules_hit(&v).is_empty());
}

#[test]
fn explicit_config_flag() {
    let dir = repo(None);
    write_files(
        dir.path(),
        &[(
            "conf/lint.toml".into(),
            "[rules.trust-sub-org-wide]\nenabled = false\n".into(),
        )],
    );
    let (code, _) = run_json(dir.path(), &["--config", "conf/lint.toml", "."]);
    assert_eq!(code, 0);
}

#[test]
fn unknown_keys_are_errors_naming_the_line() {
    for (cfg, line, needle) in [
        (
            "repository = \"acme/app\"\n\nallowed-owner = [\"acme\"]\n",
            3,
            "allowed-owner",
        ),
        (
            "[rules.trust-sub-org-wide]\nenabled = false\nseverity = \"error\"\nlevel = 1\n",
            4,
            "level",
        ),
        ("[rules.no-such-rule]\nenabled = false\n", 1, "no-such-rule"),
        ("[[ignore]]\npath = \"x\"\nrule = [\"a\"]\n", 3, "rule"),
    ] {
        let dir = repo(Some(("oidc-lint.toml", cfg)));
        let out = bin().current_dir(dir.path()).arg(".").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cfg}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!("oidc-lint.toml:line {line}:")),
            "{cfg}\n{err}"
        );
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn ignore_entries_silence_json_files_by_path_and_rule() {
    let cfg = "[[ignore]]\npath = \"vendor/**\"\nrules = [\"trust-sub-org-wide\"]\nreason = \"third-party module\"\n";
    let dir = repo(Some(("oidc-lint.toml", cfg)));
    let (_, v) = run_json(dir.path(), &["--show-suppressed", "."]);
    assert_eq!(rules_hit(&v).len(), 1);
    assert_eq!(v["findings"][0]["path"], "iam/trust.json");
    let sup = v["suppressed"].as_array().unwrap();
    assert_eq!(sup.len(), 1);
    assert_eq!(sup[0]["path"], "vendor/mod/trust.json");
    assert_eq!(sup[0]["suppressed_by"], "config:1");
    assert_eq!(sup[0]["reason"], "third-party module");
    // Without --show-suppressed there is no `suppressed` key (the JSON contract is unchanged).
    let (_, v) = run_json(dir.path(), &["."]);
    assert!(v.get("suppressed").is_none());
}

#[test]
fn repository_must_be_owner_slash_repo() {
    let dir = repo(Some(("oidc-lint.toml", "repository = \"acme\"\n")));
    let out = bin().current_dir(dir.path()).arg(".").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn custom_issuers_are_judged_and_checked() {
    // A self-managed GitLab: its trusts are judged by the configured subject grammar.
    let trust = r#"{"Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/gitlab.example.com"},
 "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringEquals": {"gitlab.example.com:aud": "https://gitlab.example.com"},
   "StringLike": {"gitlab.example.com:sub": "project_path:platform/*:ref_type:branch:ref:main"}}}]}"#;
    let cfg = "[[issuers]]\nname = \"GitLab (self-managed)\"\nhost = \"gitlab.example.com\"\nshared = false\nsubject = \"project_path:{group}/{project}:ref_type:{ref_type}:ref:{ref}\"\naudience = \"https://gitlab.example.com\"\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write_files(
        dir.path(),
        &[
            ("iam/trust.json".to_string(), trust.to_string()),
            ("oidc-lint.toml".to_string(), cfg.to_string()),
        ],
    );
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{v:#}");
    let hits = rules_hit(&v);
    assert_eq!(
        hits,
        [(
            "trust-sub-org-wide".to_string(),
            "iam/trust.json".to_string(),
            "warning".to_string()
        )],
        "{v:#}"
    );
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("GitLab (self-managed)"),
        "{v:#}"
    );
    // Without the configuration the host is nobody's: nothing is judged.
    std::fs::remove_file(dir.path().join("oidc-lint.toml")).unwrap();
    let (code, v) = run_json(dir.path(), &["."]);
    assert_eq!(code, 0, "{v:#}");

    // A bad description is an input error naming the file, the line and the key.
    for (cfg, needle) in [
        (
            "[[issuers]]\nhost = \"ci.example.com\"\nshared = true\nsubject = \"org:{org}{project}\"\n",
            "`subject`: the field `{project}` follows another field",
        ),
        (
            "[[issuers]]\nhost = \"agent.buildkite.com\"\nshared = true\nsubject = \"o:{o}\"\n",
            "`host` `agent.buildkite.com` is Buildkite's",
        ),
        (
            "[[issuers]]\nhost = \"ci.example.com\"\nsubject = \"o:{o}\"\n",
            "missing field `shared`",
        ),
    ] {
        let dir = repo(Some(("oidc-lint.toml", cfg)));
        let out = bin().current_dir(dir.path()).arg(".").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cfg}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("oidc-lint.toml:line "), "{cfg}\n{err}");
        assert!(err.contains(needle), "{cfg}\n{err}");
    }
}
