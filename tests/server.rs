//! `oidc-lint server` driven over stdio with JSON-RPC, the way an editor drives it.

mod common;

use common::{bin, write_files};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// A hang guard only: every wait ends well before this on a working server.
const HANG_GUARD: Duration = Duration::from_secs(120);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Messages read while waiting for something else.
    seen: Vec<Value>,
}

impl Client {
    fn start(dir: &std::path::Path) -> Client {
        let mut child = bin()
            .arg("server")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if out.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("Content-Length header")];
                out.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            rx,
            next_id: 0,
            seen: vec![],
        }
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let r = self.wait(|m| m["id"] == json!(id) && m.get("method").is_none());
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// The next message matching `pred` (answering the server's own requests on the way).
    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i);
        }
        let end = Instant::now() + HANG_GUARD;
        loop {
            let m = match self
                .rx
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no matching message; seen {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("server closed stdout; seen {:?}", self.seen)
                }
            };
            if m.get("method").is_some() && m.get("id").is_some() {
                let id = m["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            if pred(&m) {
                return m;
            }
            self.seen.push(m);
        }
    }

    /// The next diagnostics published for the file whose URI ends with `suffix`.
    fn diagnostics(&mut self, suffix: &str) -> Vec<Value> {
        let m = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"].as_str().unwrap().ends_with(suffix)
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

fn uri(p: &std::path::Path) -> String {
    format!("file://{}", p.display())
}

const TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
      },
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

const RELEASE: &str = "name: deploy
on:
  release:
    types: [published]
permissions:
  contents: read
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy
          aws-region: eu-west-1
      - run: ./deploy.sh
";

fn codes(d: &[Value]) -> Vec<&str> {
    d.iter().filter_map(|d| d["code"].as_str()).collect()
}

#[test]
fn diagnostics_follow_edits_across_files_with_fixes_and_hover() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    write_files(
        &root,
        &[
            (".github/workflows/release.yml".into(), RELEASE.into()),
            ("iam/deploy-trust.json".into(), TRUST.into()),
        ],
    );
    let mut c = Client::start(&root);
    let init = c.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": null,
            "workspaceFolders": [{"uri": uri(&root), "name": "ws"}],
            "capabilities": {"window": {"workDoneProgress": true}},
        }),
    );
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 2);
    c.notify("initialized", json!({}));

    // The background check of the workspace, reported as work-done progress.
    c.wait(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin");
    let d = c.diagnostics("release.yml");
    assert_eq!(codes(&d), ["role-trust-rejects-job"], "{d:?}");
    let d0 = &d[0];
    assert_eq!(d0["range"]["start"], json!({"line": 14, "character": 26}));
    assert_eq!(d0["severity"], 1);
    assert!(
        d0["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/rules/role-trust-rejects-job.md")
    );
    let rel = &d0["relatedInformation"][0];
    assert_eq!(
        rel["location"]["uri"],
        uri(&root.join("iam/deploy-trust.json"))
    );
    assert_eq!(rel["location"]["range"]["start"]["line"], 12);
    c.wait(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");

    // Hover on the diagnostic shows the rule's documentation.
    let release = uri(&root.join(".github/workflows/release.yml"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": release, "languageId": "yaml", "version": 1, "text": RELEASE}}),
    );
    // (Published again under the URI the client opened it with.)
    assert_eq!(c.diagnostics("release.yml"), d);
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": release}, "position": {"line": 14, "character": 30}}),
    );
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("# role-trust-rejects-job"), "{md}");
    let none = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": release}, "position": {"line": 0, "character": 1}}),
    );
    assert_eq!(none, Value::Null);

    // Editing the trust policy (an incremental change) clears the workflow's finding.
    let trust = uri(&root.join("iam/deploy-trust.json"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": trust, "languageId": "json", "version": 1, "text": TRUST}}),
    );
    let line = TRUST.lines().nth(12).unwrap();
    let col = line.find("refs/heads/main").unwrap();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": trust, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 12, "character": col}, "end": {"line": 12, "character": col + "refs/heads/main".len()}},
             "text": "refs/tags/*"},
            {"range": {"start": {"line": 10, "character": 9}, "end": {"line": 10, "character": 21}},
             "text": "StringLike"},
        ]}),
    );
    let cleared = c.diagnostics("release.yml");
    assert_eq!(cleared, Vec::<Value>::new());
    // Pull diagnostics agree.
    let pulled = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": release}}),
    );
    assert_eq!(pulled["kind"], "full");
    assert_eq!(pulled["items"], json!([]));
    // And back: the finding reappears.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": trust, "version": 3}, "contentChanges": [{"text": TRUST}]}),
    );
    assert_eq!(
        codes(&c.diagnostics("release.yml")),
        ["role-trust-rejects-job"]
    );

    // A new workflow with a fixable finding: a preferred quick fix and an ignore comment.
    let ci_path = root.join(".github/workflows/ci.yml");
    let ci = uri(&ci_path);
    let ci_text = RELEASE.replace("  id-token: write\n", "");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": ci, "languageId": "yaml", "version": 1, "text": ci_text}}),
    );
    let d = c.diagnostics("ci.yml");
    let missing = d
        .iter()
        .find(|d| d["code"] == "workflow-missing-id-token")
        .unwrap_or_else(|| panic!("{d:?}"))
        .clone();
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": ci}, "range": missing["range"], "context": {"diagnostics": [missing]}}),
    );
    let actions = actions.as_array().unwrap();
    let fix = actions
        .iter()
        .find(|a| a["isPreferred"] == true)
        .unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(fix["kind"], "quickfix");
    assert!(
        fix["title"]
            .as_str()
            .unwrap()
            .starts_with("Fix workflow-missing-id-token")
    );
    let edits = fix["edit"]["changes"][&ci].as_array().unwrap();
    assert!(!edits.is_empty());
    let ignore = actions
        .iter()
        .find(|a| a["title"] == "Ignore workflow-missing-id-token here")
        .unwrap_or_else(|| panic!("{actions:?}"));
    let ins = &ignore["edit"]["changes"][&ci][0];
    assert_eq!(ins["range"]["start"], ins["range"]["end"]);
    assert!(
        ins["newText"]
            .as_str()
            .unwrap()
            .contains("# oidc-lint: ignore[workflow-missing-id-token]")
    );
    // Applying the ignore comment silences the finding.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": ci, "version": 2}, "contentChanges": [
            {"range": ins["range"], "text": ins["newText"]}]}),
    );
    let after = c.diagnostics("ci.yml");
    assert!(
        !codes(&after).contains(&"workflow-missing-id-token"),
        "{after:?}"
    );

    // A JSON file has no comments: no ignore action there.
    let trust_diag = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": trust}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 20, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert!(
        trust_diag
            .as_array()
            .unwrap()
            .iter()
            .all(|a| !a["title"].as_str().unwrap().starts_with("Ignore")),
        "{trust_diag:?}"
    );

    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn watched_config_change_and_hostile_text() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    write_files(
        &root,
        &[(
            "iam/deploy-trust.json".into(),
            TRUST.replace("sts.amazonaws.com", "x\u{1b}[31m\u{7}"),
        )],
    );
    let mut c = Client::start(&root);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {"general": {"positionEncodings": ["utf-8"]}}}),
    );
    c.notify("initialized", json!({}));
    let d = c.diagnostics("deploy-trust.json");
    assert!(codes(&d).contains(&"trust-aud-mismatch"), "{d:?}");
    // Disabling the rule in the configuration on disk is picked up when the client reports it.
    std::fs::write(
        root.join("oidc-lint.toml"),
        "[rules.trust-aud-mismatch]\nenabled = false\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&root.join("oidc-lint.toml")), "type": 1}]}),
    );
    let d = c.diagnostics("deploy-trust.json");
    assert!(!codes(&d).contains(&"trust-aud-mismatch"), "{d:?}");
    // Broken JSON becomes an input error at its position, and the server keeps going.
    let trust = uri(&root.join("iam/deploy-trust.json"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": trust, "languageId": "json", "version": 1, "text": "{\"Statement\": [\u{1b}"}}),
    );
    let d = c.diagnostics("deploy-trust.json");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["severity"], 1);
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_workflow_edit_keeps_the_findings_of_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let any_repo = TRUST.replace("StringEquals\": {\n          \"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\",\n          \"token", "StringEquals\": {\n          \"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\"\n        },\n        \"StringLike\": {\n          \"token").replace("repo:acme/app:ref:refs/heads/main", "repo:*");
    write_files(
        &root,
        &[
            (".github/workflows/release.yml".into(), RELEASE.into()),
            ("iam/deploy-trust.json".into(), any_repo),
        ],
    );
    let mut c = Client::start(&root);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    let before = c.diagnostics("deploy-trust.json");
    assert!(codes(&before).contains(&"trust-sub-any-repo"), "{before:?}");
    let release = uri(&root.join(".github/workflows/release.yml"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": release, "languageId": "yaml", "version": 1, "text": RELEASE}}),
    );
    for v in 2..5 {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": release, "version": v}, "contentChanges": [{"text": format!("{RELEASE}# edit {v}\n")}]}),
        );
        let trust = uri(&root.join("iam/deploy-trust.json"));
        let pulled = c.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": trust}}),
        );
        assert_eq!(pulled["items"].as_array().unwrap(), &before);
    }
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// Every file's diagnostics as the server holds them (pull diagnostics), by path under `root`.
fn all_diagnostics(c: &mut Client, root: &std::path::Path) -> Vec<(String, Value)> {
    let mut files: Vec<std::path::PathBuf> = walk(root);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let got = c.request(
                "textDocument/diagnostic",
                json!({"textDocument": {"uri": uri(&p)}}),
            );
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            (rel, got["items"].clone())
        })
        .collect()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// After a sequence of edits (findings appearing and going in the edited file and in files
/// related to it, text shifting under other files' related locations, a buffer only the editor
/// has), what the server holds for every file equals what a server started on the final texts
/// holds: diagnostics kept from earlier edits are never stale.
#[test]
fn diagnostics_after_edits_equal_a_fresh_servers() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    // Scenarios whose role names are distinct (a name defined twice is judged differently).
    for name in [
        "pr-vs-branch",
        "static-keys",
        "tag-vs-branch",
        "wider-than-use",
    ] {
        std::fs::create_dir_all(root.join(name)).unwrap();
        common::copy_tree(
            &common::fixtures().join("scenarios").join(name),
            &root.join(name),
        );
    }
    let wf = root.join("pr-vs-branch/.github/workflows/plan.yml");
    let trust = root.join("pr-vs-branch/iam/plan-trust.json");
    let new_wf = root.join("static-keys/.github/workflows/new.yml");
    let plan = std::fs::read_to_string(&wf).unwrap();
    let policy = std::fs::read_to_string(&trust).unwrap();
    let new_text = |v: &str| {
        format!(
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@{v}\n        with:\n          role-to-assume: deploy\n          aws-region: eu-west-1\n"
        )
    };
    let wf_final = format!("# one\n# two\n{plan}");
    // The trust policy last, with every byte offset kept but a line added above the condition
    // the workflow's finding points to: that finding is the same, its related line is not.
    let trust_final = policy.replacen("  ", "\n ", 1);
    // Before it, the same policy admitting the pull request (`StringLike`, `repo:acme/app:*`),
    // every byte offset of the document kept (whitespace makes up the length): the verdicts of
    // the edit before must not be taken for the final text's (`JudgeMemo`).
    let trust_like = trust_final
        .replacen("\"StringEquals\": {", "\"StringLike\":   {", 1)
        .replacen(
            "\"repo:acme/app:ref:refs/heads/main\"",
            &format!("\"repo:acme/app:*\"{}", " ".repeat(18)),
            1,
        );
    assert_eq!(trust_like.len(), trust_final.len());
    assert_ne!(trust_like, trust_final);
    let texts = [
        (&new_wf, vec![new_text("v1"), new_text("main")]),
        (
            &wf,
            vec![
                plan.replace(
                    "configure-aws-credentials@v6",
                    "configure-aws-credentials@v2",
                ),
                plan.replace("id-token: write", "id-token: read"),
                wf_final.clone(),
            ],
        ),
        (&trust, vec![trust_like, trust_final.clone()]),
    ];
    let mut c = Client::start(&root);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    for (path, versions) in &texts {
        let u = uri(path);
        let first = std::fs::read_to_string(path).unwrap_or_default();
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": u, "languageId": "yaml", "version": 1, "text": first}}),
        );
        for (v, t) in versions.iter().enumerate() {
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": u, "version": v + 2}, "contentChanges": [{"text": t}]}),
            );
            // settle after each edit (each is checked on its own)
            c.request(
                "textDocument/diagnostic",
                json!({"textDocument": {"uri": u}}),
            );
        }
    }
    // The final texts on disk too (the open buffers, unchanged, are what the server reads).
    std::fs::write(&wf, &wf_final).unwrap();
    std::fs::write(&trust, &trust_final).unwrap();
    std::fs::write(&new_wf, new_text("main")).unwrap();
    let edited = all_diagnostics(&mut c, &root);
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
    // A fresh server on the final texts.
    let mut fresh = Client::start(&root);
    fresh.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
    );
    fresh.notify("initialized", json!({}));
    let expected = all_diagnostics(&mut fresh, &root);
    fresh.request("shutdown", Value::Null);
    fresh.notify("exit", Value::Null);
    let _ = fresh.child.wait();
    let nonempty = expected.iter().filter(|(_, d)| d != &json!([])).count();
    assert!(nonempty >= 4, "{expected:?}");
    // The workflow's finding that points into the edited trust policy is there.
    let plan_diags = &expected
        .iter()
        .find(|(p, _)| p == "pr-vs-branch/.github/workflows/plan.yml")
        .unwrap()
        .1;
    assert!(
        plan_diags.to_string().contains("role-trust-rejects-job"),
        "{plan_diags}"
    );
    for ((a, da), (b, db)) in edited.iter().zip(&expected) {
        assert_eq!(a, b);
        assert_eq!(
            da, db,
            "{a}: the edited server's diagnostics differ from a fresh server's"
        );
    }
}
