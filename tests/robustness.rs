//! Hostile and malformed inputs: every one gives a clean per-file error (or is skipped), the rest
//! of the scan goes on, nothing panics or overflows the stack, and every case is bounded in time.
//! Also: `--threads` never changes the output.

mod common;

use common::{bin, fixtures, run_json, write_files};
use oidc_lint::report::{self, Report};
use oidc_lint::scan::{ScanOptions, scan};
use oidc_lint::{Selection, check};
use proptest::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// A trust policy that fires `trust-sub-any-repo`: proves the scan went on past the bad files.
const BAD_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}
    }
  }]
}
"#;

fn write_bytes(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Run the binary (JSON output) and time it; asserts the run stays under `limit`.
fn run_bounded(dir: &Path, args: &[&str], limit: Duration) -> (i32, serde_json::Value) {
    let t = Instant::now();
    let r = run_json(dir, args);
    assert!(
        t.elapsed() < limit,
        "took {:?} (limit {limit:?})",
        t.elapsed()
    );
    r
}

fn error_for<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a str> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .map(|e| e["message"].as_str().unwrap())
}

fn finding_paths(v: &serde_json::Value) -> Vec<String> {
    let mut p: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    p.dedup();
    p
}

#[test]
fn threads_do_not_change_output() {
    let root = fixtures();
    for format in ["json", "human"] {
        let run = |extra: &[&str]| {
            let out = bin()
                .current_dir(&root)
                .args(["--format", format, "--color", "never", "."])
                .args(extra)
                .output()
                .unwrap();
            (out.status.code(), out.stdout, out.stderr)
        };
        let default = run(&[]);
        assert!(!default.1.is_empty());
        // 0 is the default; huge counts are clamped (4 per core), not started
        for n in ["1", "2", "7", "0", "100000"] {
            assert_eq!(run(&["--threads", n]), default, "--threads {n}, {format}");
        }
    }
}

#[test]
fn deep_nesting_is_a_per_file_error() {
    let d = tempfile::tempdir().unwrap();
    let n = 100_000;
    write_files(
        d.path(),
        &[
            ("iam/trust.json".into(), BAD_TRUST.into()),
            (
                "deep-array.json".into(),
                format!("{{\"Statement\": {}{}}}", "[".repeat(n), "]".repeat(n)),
            ),
            (
                "deep-object.json".into(),
                format!(
                    "{{\"Statement\": [{}1{}]}}",
                    "{\"a\": ".repeat(n),
                    "}".repeat(n)
                ),
            ),
            (
                ".github/workflows/flow.yml".into(),
                format!("on: {}{}\n", "[".repeat(n), "]".repeat(n)),
            ),
            (
                ".github/workflows/dashes.yml".into(),
                format!("jobs:\n  {}x\n", "- ".repeat(n)),
            ),
            (
                ".github/workflows/indent.yml".into(),
                (0..3000)
                    .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                    .collect(),
            ),
            (
                ".github/workflows/mixed.yml".into(),
                format!(
                    "jobs:\n{}{}{}{}\n",
                    (1..200)
                        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                        .collect::<String>(),
                    " ".repeat(200),
                    "[".repeat(200),
                    "]".repeat(200)
                ),
            ),
        ],
    );
    let (code, v) = run_bounded(d.path(), &["."], Duration::from_secs(20));
    assert_eq!(code, 2);
    for (path, what) in [
        ("deep-array.json", "nesting"),
        ("deep-object.json", "nesting"),
        (".github/workflows/flow.yml", "nesting deeper"),
        (".github/workflows/dashes.yml", "nesting deeper"),
        (".github/workflows/indent.yml", "nesting deeper"),
        (".github/workflows/mixed.yml", "nesting deeper"),
    ] {
        let msg = error_for(&v, path).unwrap_or_else(|| panic!("no error for {path}: {v}"));
        assert!(msg.contains(what), "{path}: {msg}");
    }
    assert_eq!(finding_paths(&v), ["iam/trust.json"]);
}

/// Just under the limits: accepted and walked by the model builders and rules without
/// overflowing a worker thread's stack, even in a debug build.
#[test]
fn deepest_accepted_nesting_does_not_overflow() {
    let d = tempfile::tempdir().unwrap();
    let cond = format!("{}1{}", "{\"a\": ".repeat(240), "}".repeat(240));
    write_files(
        d.path(),
        &[
            (
                "trust.json".into(),
                BAD_TRUST.replace(
                    "\"Condition\": {",
                    &format!("\"Condition\": {{\"Deep\": {cond},"),
                ),
            ),
            (
                ".github/workflows/deep.yml".into(),
                format!(
                    "on: push\njobs:\n{}{}{}\n",
                    (1..255)
                        .map(|i| format!("{}k{i}:\n", " ".repeat(i * 2)))
                        .collect::<String>(),
                    " ".repeat(510),
                    "x"
                ),
            ),
        ],
    );
    let (_, v) = run_bounded(d.path(), &["."], Duration::from_secs(20));
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(finding_paths(&v), ["trust.json"]);
}

#[test]
fn alias_bomb_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let mut y = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        y.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(", ")
        ));
    }
    y.push_str("on: push\n");
    write_files(
        d.path(),
        &[
            (".github/workflows/bomb.yml".into(), y),
            ("trust.json".into(), BAD_TRUST.into()),
        ],
    );
    let (code, v) = run_bounded(d.path(), &["."], Duration::from_secs(20));
    assert_eq!(code, 2);
    let msg = error_for(&v, ".github/workflows/bomb.yml").unwrap();
    assert!(msg.contains("alias"), "{msg}");
    assert_eq!(finding_paths(&v), ["trust.json"]);
}

#[test]
fn encodings_binary_and_size() {
    let d = tempfile::tempdir().unwrap();
    let utf16 = |be: bool, s: &str| -> Vec<u8> {
        let mut out = if be {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in s.encode_utf16() {
            out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    };
    write_bytes(d.path(), "trust.json", BAD_TRUST.as_bytes());
    write_bytes(
        d.path(),
        ".github/workflows/latin1.yml",
        b"on: push # caf\xe9\n",
    );
    write_bytes(d.path(), ".github/workflows/nul.yml", b"on: push\x00\n");
    write_bytes(
        d.path(),
        ".github/workflows/utf16.yml",
        &utf16(false, "on: push\n"),
    );
    write_bytes(d.path(), "iam/utf16le.json", &utf16(false, BAD_TRUST));
    write_bytes(d.path(), "iam/utf16be.json", &utf16(true, BAD_TRUST));
    write_bytes(
        d.path(),
        "iam/nul.json",
        &[BAD_TRUST.as_bytes(), b"\0"].concat(),
    );
    // Not policies: skipped silently whatever their bytes.
    write_bytes(d.path(), "data/blob.json", b"\x00\x01\x02\xff\xfe");
    write_bytes(
        d.path(),
        "data/u16.json",
        &utf16(false, "{\"name\": \"x\"}"),
    );
    write_bytes(d.path(), "data/array.json", b"[\"Statement\"]");
    write_bytes(d.path(), "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00");
    // A UTF-8 BOM is fine and keeps byte offsets.
    write_bytes(
        d.path(),
        "bom/trust.json",
        &[b"\xEF\xBB\xBF", BAD_TRUST.as_bytes()].concat(),
    );
    write_bytes(
        d.path(),
        ".github/workflows/big.yml",
        format!("on: push\n# {}\n", "x".repeat(5000)).as_bytes(),
    );
    let (code, v) = run_bounded(
        d.path(),
        &["--max-file-size", "4096", "."],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2);
    for (path, what) in [
        (".github/workflows/latin1.yml", "not valid UTF-8"),
        (".github/workflows/nul.yml", "NUL"),
        (".github/workflows/utf16.yml", "UTF-16"),
        ("iam/utf16le.json", "UTF-16"),
        ("iam/utf16be.json", "UTF-16"),
        ("iam/nul.json", "NUL"),
        (".github/workflows/big.yml", "over the 4096-byte limit"),
    ] {
        let msg = error_for(&v, path).unwrap_or_else(|| panic!("no error for {path}: {v}"));
        assert!(msg.contains(what), "{path}: {msg}");
    }
    assert_eq!(v["errors"].as_array().unwrap().len(), 7, "{v}");
    assert_eq!(finding_paths(&v), ["bom/trust.json", "trust.json"]);
    let bom = &v["findings"].as_array().unwrap()[0];
    let plain = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "trust.json")
        .unwrap();
    assert_eq!(bom["line"], plain["line"]);
    assert_eq!(bom["column"], plain["column"]);
}

/// A 5 MB policy on one line with thousands of findings: parsing, columns and snippets are
/// linear (a quadratic step would take minutes here).
#[test]
fn huge_one_line_file_stays_linear() {
    let d = tempfile::tempdir().unwrap();
    let stmt = r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}},"Sid":"é"}"#;
    let good = stmt.replace("repo:*", "repo:acme/app:ref:refs/heads/main");
    let total = 5_000_000 / good.len();
    let n = total / 50;
    // one bad statement in fifty
    let doc = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}",
        (0..total)
            .map(|i| if i.is_multiple_of(50) && i / 50 < n {
                stmt
            } else {
                good.as_str()
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    write_files(d.path(), &[("plan.json".into(), doc)]);
    let t = Instant::now();
    let (code, v) = run_json(d.path(), &["."]);
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    assert_eq!(code, 1);
    let f = v["findings"].as_array().unwrap();
    let any_repo: Vec<_> = f
        .iter()
        .filter(|f| f["rule"] == "trust-sub-any-repo")
        .collect();
    assert_eq!(any_repo.len(), n);
    // Columns count characters (each statement has one two-byte `é`).
    let col = |k: usize| any_repo[k]["column"].as_u64().unwrap() as usize;
    let per = good.chars().count() + 1;
    assert_eq!(col(1) - col(0), stmt.chars().count() + 1 + 49 * per);
    // Human output: snippets are bounded windows of the line, not the whole line per finding.
    let t = Instant::now();
    let out = bin()
        .current_dir(d.path())
        .args(["--color", "never", "--select", "trust-sub-any-repo", "."])
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    assert!(out.stdout.len() / n < 20_000, "{} bytes", out.stdout.len());
}

#[cfg(unix)]
#[test]
fn symlinks_stay_inside_the_root_and_loops_are_reported() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    write_files(outside.path(), &[("secret.json".into(), BAD_TRUST.into())]);
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write_files(r, &[("iam/trust.json".into(), BAD_TRUST.into())]);
    std::fs::create_dir_all(r.join("links")).unwrap();
    symlink(outside.path(), r.join("links/outside-dir")).unwrap();
    symlink(
        outside.path().join("secret.json"),
        r.join("links/outside.json"),
    )
    .unwrap();
    symlink("../iam/trust.json", r.join("links/inside.json")).unwrap();
    symlink("../iam", r.join("links/iam-dir")).unwrap();
    symlink("..", r.join("links/loop")).unwrap();
    symlink("nowhere.json", r.join("links/dangling.json")).unwrap();
    let (code, v) = run_bounded(r, &["."], Duration::from_secs(20));
    assert_eq!(code, 2);
    // The file inside is scanned once, under its real name; nothing outside is read.
    assert_eq!(finding_paths(&v), ["iam/trust.json"]);
    assert_eq!(v["summary"]["files_scanned"], 1);
    let msg = error_for(&v, "links/loop").unwrap_or_else(|| panic!("{v}"));
    assert!(msg.contains("loop"), "{msg}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v}");
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_directories_are_reported_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write_files(
        r,
        &[
            ("ok/trust.json".into(), BAD_TRUST.into()),
            ("locked-dir/trust.json".into(), BAD_TRUST.into()),
            (".github/workflows/locked.yml".into(), "on: push\n".into()),
        ],
    );
    let set = |p: &Path, mode| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
    set(&r.join("locked-dir"), 0o000).unwrap();
    set(&r.join(".github/workflows/locked.yml"), 0o000).unwrap();
    // Privileged users (root in a container) read anything: then the files are simply scanned.
    let privileged = std::fs::read(r.join(".github/workflows/locked.yml")).is_ok();
    let (code, v) = run_bounded(r, &["."], Duration::from_secs(20));
    set(&r.join("locked-dir"), 0o755).unwrap();
    if privileged {
        assert_eq!(code, 1);
        assert_eq!(
            finding_paths(&v),
            ["locked-dir/trust.json", "ok/trust.json"]
        );
    } else {
        assert_eq!(code, 2);
        assert!(
            error_for(&v, ".github/workflows/locked.yml").is_some(),
            "{v}"
        );
        assert!(error_for(&v, "locked-dir").is_some(), "{v}");
        assert_eq!(finding_paths(&v), ["ok/trust.json"]);
    }
}

// ---- generated malformed inputs through the whole pipeline, in process ----

/// Every fixture file, as (relative path inside its repository, bytes).
fn fixture_files() -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&fixtures(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let s = p.to_string_lossy().replace('\\', "/");
            let rel = if let Some(i) = s.find("/.github/") {
                s[i + 1..].to_string()
            } else {
                p.file_name()?.to_string_lossy().into_owned()
            };
            Some((rel, std::fs::read(&p).ok()?))
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        &b"{"[..],
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b":",
        b",",
        b"- ",
        b"\n",
        b"\r\n",
        b"\t",
        b"&a ",
        b"*a",
        b"!Sub ",
        b"${{ ",
        b"\xff",
        b"\x00",
        b"\xe2\x80",
        b"\xef\xbb\xbf",
        b"#",
        b"'",
        b"|",
        b">-\n",
        b"\\u00",
        b"\\ud800",
        b"repo:*",
        b"${var.x}",
    ]);
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), tokens).prop_map(|(i, t)| Mutation::Insert(i, t.to_vec())),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match m {
            Mutation::Truncate(i) => b.truncate(at(*i)),
            Mutation::Flip(i, x) if len > 0 => b[i % len] ^= x | 1,
            Mutation::Flip(..) => {}
            Mutation::Insert(i, t) => {
                let i = at(*i);
                b.splice(i..i, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = at(*i);
                let e = (i + n).min(len);
                b.drain(i..e);
            }
            Mutation::Duplicate(i, n) => {
                let i = at(*i);
                let e = (i + n).min(len);
                let seg = b[i..e].to_vec();
                b.splice(e..e, seg);
            }
        }
    }
    b
}

/// The whole pipeline on one directory, as the binary runs it: scan, rules, both reports.
fn pipeline(dir: &Path) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .stack_size(64 << 20)
        .build()
        .unwrap();
    pool.install(|| {
        let s = scan(&ScanOptions {
            root: dir.to_path_buf(),
            paths: vec![dir.to_path_buf()],
            max_file_size: 10 << 20,
            settings: Default::default(),
        });
        let findings = check(&s, &Selection::default());
        let r = Report {
            scan: &s,
            findings: &findings,
        };
        let human = report::human::render(&r, false, false);
        let errors = report::human::render_errors(&r);
        let json = report::json::render(&r);
        assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        std::hint::black_box((human, errors));
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        other in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let files = fixture_files();
        let (rel, bytes) = &files[pick.index(files.len())];
        let (rel2, bytes2) = &files[other.index(files.len())];
        let d = tempfile::tempdir().unwrap();
        write_bytes(d.path(), rel, &apply(bytes.clone(), &muts));
        // A second, untouched file: cross-file rules see a mutated and a sound document.
        if rel2 != rel {
            write_bytes(d.path(), rel2, bytes2);
        }
        let t = Instant::now();
        pipeline(d.path());
        prop_assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
    }
}
