//! The pre-commit hooks, end to end with the real client: a temporary venv gets `pre-commit` from PyPI,
//! then `pre-commit try-repo` runs a hook on a sample git repository, once with a bad staged workflow
//! (must fail) and once with a good one (must pass).
//!
//! - `language: rust`: this repository's hook at its git HEAD (commit first); pre-commit compiles it.
//! - `language: python`: the pre-commit mirror made by `scripts/make-pre-commit-mirror.sh`, whose package
//!   depends on the oidc-lint wheel; pip may only use the locally built wheel (`OIDC_LINT_WHEEL_DIR`, as
//!   `.ci/run` sets it after `scripts/test-wheel.sh`; without it the test builds one with maturin), so the
//!   hook installs the prebuilt binary and compiles nothing.
//!
//! Both are `#[ignore]`d (slow, need PyPI) and run by `.ci/run` with `--ignored`. Without Python's venv or
//! PyPI a test prints why it is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

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

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A venv under `dir` with `packages` from PyPI; its bin directory, or why it could not be made.
fn venv(dir: &Path, packages: &[&str]) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Err(format!(
                "`{python} -m venv` failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Err(e) => return Err(format!("no {python}: {e}")),
    }
    let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let pip = run(Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "20",
        ])
        .args(packages));
    if !pip.status.success() {
        return Err(format!(
            "PyPI unreachable, `pip install {}` failed: {}",
            packages.join(" "),
            String::from_utf8_lossy(&pip.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(bin)
}

/// Stages `workflow` in the sample repository and runs `pre-commit try-repo REPO oidc-lint --ref REF`.
struct TryRepo<'a> {
    bin: &'a Path,
    sample: PathBuf,
    cache: PathBuf,
    repo: &'a Path,
    rev: &'a str,
    env: Vec<(&'static str, PathBuf)>,
}

impl TryRepo<'_> {
    fn new<'a>(tmp: &Path, bin: &'a Path, repo: &'a Path, rev: &'a str) -> TryRepo<'a> {
        let sample = tmp.join("sample");
        std::fs::create_dir_all(sample.join(".github/workflows")).unwrap();
        git(&sample, &["init", "-q"]);
        git(&sample, &["config", "user.email", "t@example.com"]);
        git(&sample, &["config", "user.name", "t"]);
        std::fs::write(sample.join("README.md"), "sample\n").unwrap();
        TryRepo {
            bin,
            sample,
            cache: tmp.join("cache"),
            repo,
            rev,
            env: Vec::new(),
        }
    }

    fn with(&self, label: &str, workflow: &str) -> Output {
        std::fs::write(self.sample.join(".github/workflows/deploy.yml"), workflow).unwrap();
        git(&self.sample, &["add", "."]);
        let started = Instant::now();
        let mut cmd = Command::new(self.bin.join("pre-commit"));
        cmd.current_dir(&self.sample)
            .env("PRE_COMMIT_HOME", &self.cache)
            .args([
                "try-repo",
                self.repo.to_str().unwrap(),
                "oidc-lint",
                "--ref",
                self.rev,
                "--color",
                "never",
            ]);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        println!(
            "--- try-repo ({label}) exit {:?} in {:.1} s\n{}\n{}",
            out.status.code(),
            started.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The bad workflow must block the commit, the good one must pass.
    fn blocks_bad_and_passes_good(&self) {
        let bad = self.with("bad", BAD);
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
        let ok = self.with("good", &good);
        assert!(
            ok.status.success(),
            "the good workflow must pass: {}",
            String::from_utf8_lossy(&ok.stdout)
        );
        assert!(String::from_utf8_lossy(&ok.stdout).contains("Passed"));
    }
}

#[test]
#[ignore = "slow real client (builds the hook in release mode): run by .ci/run with --ignored"]
fn pre_commit_try_repo_blocks_bad_and_passes_good() {
    let manifest = manifest();
    let head = run(Command::new("git")
        .current_dir(&manifest)
        .args(["rev-parse", "HEAD"]));
    if !head.status.success() {
        return skip("this checkout is not a git repository (try-repo needs a commit)");
    }
    let head = String::from_utf8(head.stdout).unwrap().trim().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let bin = match venv(tmp.path(), &["pre-commit"]) {
        Ok(bin) => bin,
        Err(why) => return skip(&why),
    };
    let mut hook = TryRepo::new(tmp.path(), &bin, &manifest, &head);
    // Cargo's build directory is shared between the two try-repo runs (each clones the hook
    // repository anew), so the second build is incremental.
    hook.env
        .push(("CARGO_TARGET_DIR", manifest.join("target/pre-commit-build")));
    hook.blocks_bad_and_passes_good();
}

#[test]
#[ignore = "real client, needs PyPI and a wheel (OIDC_LINT_WHEEL_DIR, else built here): run by .ci/run with --ignored"]
fn pre_commit_python_hook_installs_the_wheel_without_compiling() {
    let manifest = manifest();
    let tmp = tempfile::tempdir().unwrap();
    // pre-commit for the client; setuptools is downloaded as a file so that pip, restricted to local
    // files below, can build the mirror's package (it has no code, only the dependency on the wheel).
    let bin = match venv(tmp.path(), &["pre-commit"]) {
        Ok(bin) => bin,
        Err(why) => return skip(&why),
    };
    let wheels = tmp.path().join("wheels");
    let dl = run(Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary",
            ":all:",
            "setuptools>=61",
            "-d",
        ])
        .arg(&wheels));
    assert!(
        dl.status.success(),
        "pip download setuptools: {}",
        String::from_utf8_lossy(&dl.stderr)
    );
    match std::env::var_os("OIDC_LINT_WHEEL_DIR") {
        Some(dir) => {
            let mut found = 0;
            for e in std::fs::read_dir(&dir).expect("OIDC_LINT_WHEEL_DIR is not a directory") {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "whl") {
                    std::fs::copy(&p, wheels.join(p.file_name().unwrap())).unwrap();
                    found += 1;
                }
            }
            assert!(found > 0, "no wheel in OIDC_LINT_WHEEL_DIR");
        }
        None => {
            let maturin = run(Command::new(bin.join("python")).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "maturin>=1.9,<2",
            ]));
            assert!(maturin.status.success(), "pip install maturin failed");
            let build = run(Command::new(bin.join("maturin"))
                .current_dir(&manifest)
                .env("CARGO_TARGET_DIR", manifest.join("target/pre-commit-build"))
                .args(["build", "--locked", "--profile", "release", "--out"])
                .arg(&wheels));
            assert!(
                build.status.success(),
                "maturin build: {}",
                String::from_utf8_lossy(&build.stderr)
            );
        }
    }

    let version = env!("CARGO_PKG_VERSION");
    let mirror = tmp.path().join("mirror");
    let made = run(Command::new("bash")
        .arg(manifest.join("scripts/make-pre-commit-mirror.sh"))
        .arg(version)
        .arg(&mirror));
    assert!(
        made.status.success(),
        "make-pre-commit-mirror.sh: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let hooks = std::fs::read_to_string(mirror.join(".pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains("language: python") && !hooks.contains("language: rust"));

    let tag = format!("v{version}");
    let mut hook = TryRepo::new(tmp.path(), &bin, &mirror, &tag);
    // Only local files: the wheel (a source build would need maturin, which is not offered) and setuptools.
    hook.env.push(("PIP_NO_INDEX", PathBuf::from("1")));
    hook.env.push(("PIP_FIND_LINKS", wheels));
    hook.blocks_bad_and_passes_good();
    // try-repo installs into a throw-away store, so the environment cannot be inspected afterwards; the
    // proof that the hook ran the wheel's binary is that pip could see nothing else (PIP_NO_INDEX: no
    // maturin, hence no source build) and the bad workflow was reported by oidc-lint itself.
}
