//! The pre-commit hook, end to end: a temporary venv gets `pre-commit` from PyPI, then
//! `pre-commit try-repo` runs this repository's hook (at its git HEAD: commit first) on a sample
//! git repository, once with a bad staged workflow (must fail) and once with a good one (must
//! pass). Without Python's venv or PyPI the test prints why it is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn skip(why: &str) {
    println!("SKIPPED pre-commit test: {why}");
    eprintln!("SKIPPED pre-commit test: {why}");
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = run(Command::new("git").current_dir(dir).args(args));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

const BAD: &str = "on: push\npermissions:\n  contents: read\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v6\n        with:\n          role-to-assume: arn:aws:iam::123456789012:role/deploy\n          aws-region: eu-west-1\n";

#[test]
#[ignore = "slow real client (builds the hook in release mode): run by .ci/run with --ignored"]
fn pre_commit_try_repo_blocks_bad_and_passes_good() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let head = run(Command::new("git")
        .current_dir(&manifest)
        .args(["rev-parse", "HEAD"]));
    if !head.status.success() {
        return skip("this checkout is not a git repository (try-repo needs a commit)");
    }
    let head = String::from_utf8(head.stdout).unwrap().trim().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let venv = tmp.path().join("venv");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return skip(&format!(
                "`{python} -m venv` failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Err(e) => return skip(&format!("no {python}: {e}")),
    }
    let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let pip = run(Command::new(bin.join("python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--timeout",
        "20",
        "pre-commit",
    ]));
    if !pip.status.success() {
        return skip(&format!(
            "PyPI unreachable, `pip install pre-commit` failed: {}",
            String::from_utf8_lossy(&pip.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    let sample = tmp.path().join("sample");
    std::fs::create_dir_all(sample.join(".github/workflows")).unwrap();
    git(&sample, &["init", "-q"]);
    git(&sample, &["config", "user.email", "t@example.com"]);
    git(&sample, &["config", "user.name", "t"]);
    // Cargo's build directory is shared between the two try-repo runs (each clones the hook
    // repository anew), so the second build is incremental.
    let target = manifest.join("target/pre-commit-build");
    let try_repo = |label: &str| -> Output {
        let out = run(Command::new(bin.join("pre-commit"))
            .current_dir(&sample)
            .env("PRE_COMMIT_HOME", tmp.path().join("cache"))
            .env("CARGO_TARGET_DIR", &target)
            .args([
                "try-repo",
                manifest.to_str().unwrap(),
                "oidc-lint",
                "--ref",
                &head,
                "--color",
                "never",
            ]));
        println!(
            "--- try-repo ({label}) exit {:?}\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    std::fs::write(sample.join(".github/workflows/deploy.yml"), BAD).unwrap();
    std::fs::write(sample.join("README.md"), "sample\n").unwrap();
    git(&sample, &["add", "."]);
    let bad = try_repo("bad");
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(
        !bad.status.success(),
        "the bad workflow must block the commit"
    );
    assert!(text.contains("workflow-missing-id-token"), "{text}");
    assert!(text.contains("Failed"), "{text}");

    let good = BAD.replace(
        "  contents: read\n",
        "  contents: read\n  id-token: write\n",
    );
    std::fs::write(sample.join(".github/workflows/deploy.yml"), good).unwrap();
    git(&sample, &["add", "."]);
    let ok = try_repo("good");
    assert!(
        ok.status.success(),
        "the good workflow must pass: {}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Passed"));
}
