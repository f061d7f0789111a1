//! `--format github`: workflow commands with the escaping of @actions/core.

mod common;
use common::*;

fn github(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = bin()
        .current_dir(dir)
        .args(["--format", "github"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn insecure_example_snapshot() {
    // run at the example repository's root, as the composite action runs in a checkout
    let (code, out) = github(&fixtures().join("repos/insecure-example"), &["."]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("github-insecure-example", out);
}

/// Undo the toolkit's escaping, as the runner does.
fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn commas_colons_newlines_and_percent_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // A path with `,`, `:` and `%`; the message names the file, so it carries them too.
    let name = "iam/a,b:c%41 d.json";
    let trust = r#"{"Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
 "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}"#;
    write_files(dir.path(), &[(name.into(), trust.into())]);
    let (code, out) = github(dir.path(), &["."]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one command per finding, no raw newline: {out}"
    );
    let line = lines[0];
    assert!(
        line.starts_with("::error file=iam/a%2Cb%3Ac%2541 d.json,line="),
        "{line}"
    );
    let (props, data) = line
        .trim_start_matches("::error ")
        .split_once("::")
        .unwrap();
    // Properties: split on unescaped `,`, each `key=value`.
    let mut file = None;
    for p in props.split(',') {
        let (k, v) = p.split_once('=').unwrap();
        assert!(!v.contains(':') && !v.contains('\n'), "{p}");
        if k == "file" {
            file = Some(unescape(v));
        }
    }
    assert_eq!(file.as_deref(), Some(name));
    // Data: no raw CR/LF, `%` escaped; the message round-trips and keeps its colons.
    assert!(!data.contains('\n') && !data.contains('\r'));
    assert!(data.contains("%0A%0Ahelp: "), "{data}");
    let msg = unescape(data);
    assert!(msg.contains("a,b:c%41 d.json"), "{msg}");
    assert!(
        msg.contains("token.actions.githubusercontent.com:sub"),
        "{msg}"
    );
    assert!(msg.contains("\n\nhelp: "));
}
