//! Hostile inputs: output. Nothing the scanned repository wrote reaches a terminal or a CI log
//! raw: no control, format or bidi character, no line that GitHub Actions (or Azure Pipelines)
//! would read as a workflow command, in any output format, on stdout or stderr. And a one-line
//! file with thousands of findings prints a bounded human report while JSON keeps every finding.

#[allow(unused_imports)]
use super::common::*;
use std::path::Path;
use std::process::Output;

/// Terminal and log attacks: OSC 8 hyperlink, clear screen, cursor up, OSC 52 clipboard write,
/// 8-bit CSI, bidi override and isolate, zero-width space, legacy and Azure log commands.
const BAD: &str = "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \x1b[2J\x1b[1A\x1b[2K \x1b]52;c;ZXZpbA==\x07 \u{9b}2K \u{202e}gnp.exe\u{2066}\u{200b} ##[group]g ##vso[task.setvariable variable=x]1";

/// The same attack as YAML double-quoted escapes (YAML files cannot hold ESC or BEL raw).
const BAD_YAML: &str = r"\e]8;;http://evil.example\alink\e]8;;\a \e[2J\e[1A\e[2K \e]52;c;ZXZpbA==\a \x9b2K \u202egnp.exe\u2066\u200b ##[group]g ##vso[task.setvariable variable=x]1";

/// A file name that, printed raw, puts a forged annotation at column 0 of a log.
const EVIL_NAME: &str = "iam/evil\n::error file=x,line=1::forged\x1b[31m\u{202e}.json";

fn trust_policy(sub: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": format!("deny\u{9b}\u{202e}\u{7f}##[group]{}", "\u{2028}x"),
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": sub}},
        }]
    }))
    .unwrap()
}

/// A repository whose every printable corner carries an attack.
fn hostile_repo(dir: &Path) {
    let workflow = format!(
        "on: push
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo start
          ::add-mask::inside-run
          ##[group]grouped
      - uses: aws-actions/configure-aws-credentials@v2 # oidc-lint: ignore[workflow-deprecated-action] reason\u{202e} ##[endgroup] ::add-mask::r
        with:
          role-to-assume: \"not-an-arn\\n  ::add-mask::s3cr3t\\n::stop-commands::tok {BAD_YAML}\"
          aws-region: us-east-1
"
    );
    // The fix inserts after the `StringLike` line: both attacks are in the diff's context.
    let tf = format!(
        "# {BAD}
resource \"aws_iam_role\" \"r\" {{
  name = \"r\"
  assume_role_policy = jsonencode({{
    Version = \"2012-10-17\"
    Statement = [{{
      Effect    = \"Allow\"
      Principal = {{ Federated = \"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\" }}
      Action    = \"sts:AssumeRoleWithWebIdentity\"
      Condition = {{
        # top \x1b[2A\x1b[2K hidden {BAD}
        StringLike = {{ \"token.actions.githubusercontent.com:sub\" = \"repo:acme/app:*\" }}
      }}
      Sid = <<EOT
::add-mask::heredoc
EOT
    }}]
  }})
}}
"
    );
    let config = "[[ignore]]\npath = \"iam/**\"\nrules = [\"trust-missing-aud\"]\nreason = \"cfg\\n::add-mask::cfgreason\\u001b[2J\\u202e##[group]\"\n";
    write_files(
        dir,
        &[
            (".github/workflows/deploy.yml".into(), workflow),
            ("main.tf".into(), tf),
            (EVIL_NAME.into(), trust_policy(&format!("repo:*{BAD}"))),
            ("oidc-lint.toml".into(), config.into()),
            (
                "rules/role.yml".into(),
                "id: t/role\nseverity: error\nmessage: 'role {value} in {file} at {path}'\nselect: \"$.jobs[*].steps[*].with['role-to-assume']\"\none-of: [nothing]\n"
                    .into(),
            ),
        ],
    );
}

/// Our colour codes: SGR sequences only.
fn strip_sgr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        let seq = &rest[i + 1..];
        let body = seq
            .strip_prefix('[')
            .expect("ESC not starting an SGR sequence");
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap();
        assert_eq!(&body[end..end + 1], "m", "ESC sequence that is not SGR");
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Characters no output may hold raw: C0 but newline and tab, DEL, C1, bidi and other
/// invisible format characters, line and paragraph separators.
fn forbidden(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x08 | 0x0b..=0x1f | 0x7f..=0x9f | 0xad | 0x061c | 0x180e | 0x200b..=0x200f
        | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xe0000..=0xe007f)
}

/// `out` is safe: UTF-8, no forbidden character (after removing our SGR codes when `color`),
/// no CR but before LF, no `##[`/`##vso[`, and no line that starts with `::` unless it is one
/// of our own `--format github` commands, of which there are exactly `commands`.
fn assert_clean(what: &str, out: &[u8], color: bool, commands: usize) -> String {
    let text = String::from_utf8(out.to_vec()).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    let plain = if color {
        strip_sgr(&text)
    } else {
        text.clone()
    };
    for c in plain.chars() {
        assert!(!forbidden(c), "{what}: raw {c:?} in output:\n{plain}");
    }
    assert!(
        !plain.replace("\r\n", "\n").contains('\r'),
        "{what}: lone CR (a line break for the runner)"
    );
    let mut ours = 0;
    for line in plain.split(['\n', '\r']) {
        let lower = line.to_ascii_lowercase();
        assert!(
            !lower.contains("##[") && !lower.contains("##vso["),
            "{what}: log command in {line:?}"
        );
        if line.trim_start().starts_with("::") {
            let cmd = line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file=");
            assert!(
                cmd && line.contains(",title=oidc-lint"),
                "{what}: workflow command not ours: {line:?}"
            );
            ours += 1;
        }
    }
    assert_eq!(ours, commands, "{what}: workflow commands:\n{plain}");
    text
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

/// Every output path of `check`, on stdout and stderr.
#[test]
fn check_prints_nothing_raw_in_any_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    hostile_repo(dir);
    let base = ["--rules", "rules", "--show-suppressed", "."];

    // JSON keeps exact values (escaped as JSON) and says how many commands github must print.
    let json = run(dir, &[&["--format", "json"][..], &base].concat());
    let text = assert_clean("json", &json.stdout, false, 0);
    assert_clean("json stderr", &json.stderr, false, 0);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let errors = v["errors"].as_array().unwrap().len();
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&EVIL_NAME),
        "the evil file is scanned: {paths:?}"
    );
    let role = findings
        .iter()
        .find(|f| f["rule"] == "t/role")
        .expect("custom rule finding");
    assert!(
        role["message"]
            .as_str()
            .unwrap()
            .contains("\n  ::add-mask::s3cr3t\n"),
        "JSON carries the exact value"
    );
    let suppressed = v["suppressed"].as_array().unwrap();
    assert!(
        suppressed
            .iter()
            .any(|s| s["reason"].as_str().unwrap().contains("\u{1b}[2J")),
        "config reason kept exactly: {suppressed:?}"
    );
    assert!(
        suppressed.iter().any(|s| s["suppressed_by"] == "source"),
        "in-source suppression: {suppressed:?}"
    );

    for (what, args, color) in [
        ("human --color never", vec!["--color", "never"], false),
        ("human --color always", vec!["--color", "always"], true),
        ("sarif", vec!["--format", "sarif"], false),
        ("--diff", vec!["--diff", "--unsafe-fixes"], false),
    ] {
        let out = run(dir, &[&args[..], &base].concat());
        let text = assert_clean(what, &out.stdout, color, 0);
        assert_clean(&format!("{what} stderr"), &out.stderr, false, 0);
        assert!(!text.is_empty(), "{what}: no output");
        if what.starts_with("human") {
            // The attack is shown, visibly.
            assert!(
                text.contains("\\x1b]8;;http://evil.example"),
                "{what}:\n{text}"
            );
            assert!(text.contains("\\u{202e}"), "{what}:\n{text}");
            assert!(text.contains("evil⏎"), "{what}:\n{text}");
            assert!(text.contains("suppressed ("), "{what}:\n{text}");
        }
        if what == "--diff" {
            assert!(text.contains("\\x1b[2A\\x1b[2K hidden"), "{what}:\n{text}");
            assert!(text.contains(" \\x3a:add-mask::heredoc"), "{what}:\n{text}");
        }
    }
    // Colour is ours only: without it the text is the same.
    let never = run(dir, &[&["--color", "never"][..], &base].concat());
    let always = run(dir, &[&["--color", "always"][..], &base].concat());
    assert_eq!(
        strip_sgr(&String::from_utf8(always.stdout).unwrap()),
        String::from_utf8(never.stdout).unwrap()
    );

    // GitHub annotations: exactly ours, one per finding and per error.
    let gh = run(dir, &[&["--format", "github"][..], &base].concat());
    assert_clean("github", &gh.stdout, false, findings.len() + errors);
    assert_clean("github stderr", &gh.stderr, false, 0);
}

#[test]
fn audit_and_dump_model_print_nothing_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    hostile_repo(dir);
    // A second job with static keys, so audit prints a migration (patch, policy, Terraform).
    write_files(
        dir,
        &[(
            ".github/workflows/keys.yml".into(),
            format!(
                "on: push
jobs:
  \"ship\\e[2J::add-mask::j\":
    runs-on: ubuntu-latest
    steps:
      - run: |
          ::add-mask::near-the-patch
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{{{ secrets.KEY }}}}
          aws-secret-access-key: ${{{{ secrets.SECRET }}}}
          aws-region: \"{BAD_YAML}\"
"
            ),
        )],
    );
    for format in ["table", "markdown", "json"] {
        let out = run(
            dir,
            &["audit", "--repo", "acme/app", "--format", format, "."],
        );
        let text = assert_clean(&format!("audit {format}"), &out.stdout, false, 0);
        assert_clean(&format!("audit {format} stderr"), &out.stderr, false, 0);
        assert!(text.contains("keys.yml"), "audit {format}:\n{text}");
    }
    let out = run(dir, &["dump-model", "."]);
    assert_clean("dump-model", &out.stdout, false, 0);
    assert_clean("dump-model stderr", &out.stderr, false, 0);
}

/// Markdown from repository values stays inside its cell, code span and fence.
#[test]
fn audit_markdown_escapes_markdown_and_html() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_files(
        dir,
        &[(
            ".github/workflows/w.yml".into(),
            "on: push
jobs:
  \"a|b`<img src=x>`**c**\":
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{ secrets.KEY }}
          aws-secret-access-key: ${{ secrets.SECRET }}
          aws-region: us-east-1
      - run: |
          ```
          </details><script>alert(1)</script>
"
            .into(),
        )],
    );
    let out = run(
        dir,
        &["audit", "--repo", "acme/app", "--format", "markdown", "."],
    );
    let md = assert_clean("audit markdown", &out.stdout, false, 0);
    // The job id is a code span (longer fence than its backticks, pipe escaped) in the table
    // and HTML-escaped in the summary; the run block's ``` cannot close the diff fence.
    assert!(md.contains("| ``a\\|b`<img src=x>`**c**`` |"), "{md}");
    assert!(
        md.contains("job <code>a&#124;b`&lt;img src=x&gt;`**c**</code>"),
        "{md}"
    );
    let fenced = md
        .split("````diff\n")
        .nth(1)
        .expect("a fence of four backticks");
    let body = &fenced[..fenced.find("\n````\n").expect("its end")];
    assert!(body.contains("\n           ```"), "{body}");
}

/// A bad configuration file is an error that names it, printed sanitised.
#[test]
fn config_errors_are_sanitised() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_files(
        dir,
        &[(
            "oidc-lint.toml".into(),
            "fail-on = \"\\u001b[2J\\n::error::cfg\u{202e}##[group]\"\n".into(),
        )],
    );
    let out = run(dir, &["."]);
    assert_eq!(out.status.code(), Some(2));
    let err = assert_clean("config error", &out.stderr, false, 0);
    assert!(err.contains("oidc-lint.toml"), "{err}");
    // One error, one line: the value's newline is shown, not obeyed.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("\\x1b[2J⏎::error::cfg\\u{202e}#\\x23[group]"),
        "{err}"
    );
}

/// A 240 KB one-line policy with thousands of findings: the human report shows at most 50 per
/// file, each with a bounded snippet; JSON lists all.
#[test]
fn one_line_file_with_many_findings_prints_bounded_human_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let n = 1000;
    let st = r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}}"#;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        vec![st; n].join(",")
    );
    assert!(policy.len() > 200_000 && !policy.contains('\n'));
    write_files(dir, &[("policy.json".into(), policy)]);

    let (_, v) = run_json(dir, &["policy.json"]);
    let total = v["findings"].as_array().unwrap().len();
    assert_eq!(
        total,
        2 * n,
        "JSON has every finding (missing aud and any-repo sub)"
    );

    let out = run(dir, &["--color", "never", "policy.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = assert_clean("human", &out.stdout, false, 0);
    assert!(
        text.len() < 256 * 1024,
        "human output is {} bytes",
        text.len()
    );
    assert!(
        text.lines().all(|l| l.len() < 2048),
        "a line over 2 KB: {}",
        text.lines().map(str::len).max().unwrap_or(0)
    );
    assert_eq!(text.matches("\n --> policy.json:1:").count(), 50);
    assert!(
        text.contains(&format!(
            "… and {} more findings in policy.json (--format json or sarif lists all)",
            total - 50
        )),
        "{}",
        &text[text.len().saturating_sub(2000)..]
    );
    // Every shown location is the true one (the snippet is cut, the column is not).
    let cols: Vec<u64> = v["findings"].as_array().unwrap()[..50]
        .iter()
        .map(|f| f["column"].as_u64().unwrap())
        .collect();
    let shown: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix(" --> policy.json:1:"))
        .map(|c| c.parse().unwrap())
        .collect();
    assert_eq!(shown, cols);
}
