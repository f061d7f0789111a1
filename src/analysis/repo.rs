//! Which repository is scanned: `Settings.repo` (`--repo`, the configuration, or the CI run's
//! `GITHUB_REPOSITORY` applied by the engine), else the `origin` remote read from the scanned
//! checkout's `.git/config` (text only: git is never run), else unknown. Its default branch:
//! `Settings.default_branch` (`--default-branch`, `default-branch`, the CI event), else the
//! checkout's `refs/remotes/origin/HEAD`, else the branch of a checkout holding one local branch
//! only (what `actions/checkout` leaves), else unknown.

use crate::model::{Scan, Settings, SubjectFormat};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A plausible branch name (no control characters, spaces or ref syntax git rejects).
pub fn valid_branch(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 255
        && !b.starts_with(['-', '/'])
        && !b.ends_with(['/', '.'])
        && !b.contains("..")
        && !b.contains("//")
        && !b.ends_with(".lock")
        && !b
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// Largest event file read (GitHub's payloads are far smaller).
pub const MAX_EVENT_BYTES: u64 = 16 * 1024 * 1024;

/// What a GitHub Actions run tells about the repository it runs for: `GITHUB_REPOSITORY`, and
/// from the event file (`GITHUB_EVENT_PATH`) `repository.full_name`, `default_branch`, `id` and
/// `owner.id`; `GITHUB_BASE_REF` as the branch when the event names no default branch. The event
/// file is read as data: bounded in size, and a malformed one only leaves the values unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CiContext {
    pub repository: Option<String>,
    pub default_branch: Option<String>,
    pub repo_ids: Option<(u64, u64)>,
    /// `GITHUB_WORKSPACE`: the identity applies to scans inside it.
    pub workspace: Option<PathBuf>,
}

impl CiContext {
    /// From the process environment (`None` outside GitHub Actions).
    pub fn from_env() -> Option<CiContext> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if var("GITHUB_ACTIONS").as_deref() != Some("true") {
            if var("GITLAB_CI").as_deref() == Some("true") {
                return CiContext::from_gitlab_vars(
                    var("CI_PROJECT_PATH"),
                    var("CI_DEFAULT_BRANCH"),
                    var("CI_PROJECT_DIR").map(PathBuf::from),
                );
            }
            return None;
        }
        CiContext::from_vars(
            var("GITHUB_REPOSITORY"),
            var("GITHUB_EVENT_PATH").map(PathBuf::from),
            var("GITHUB_BASE_REF"),
            var("GITHUB_WORKSPACE").map(PathBuf::from),
        )
    }
    pub fn from_vars(
        repository: Option<String>,
        event_path: Option<PathBuf>,
        base_ref: Option<String>,
        workspace: Option<PathBuf>,
    ) -> Option<CiContext> {
        let event = event_path.and_then(|p| read_event(&p));
        let repo_obj = event.as_ref().and_then(|e| e.get("repository"));
        let field = |k: &str| repo_obj.and_then(|r| r.get(k));
        let full_name = field("full_name")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let repository = repository.or(full_name.clone()).filter(|r| valid_repo(r));
        // The event's repository must be the one GITHUB_REPOSITORY names.
        let same = match (&repository, &full_name) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        let default_branch = field("default_branch")
            .filter(|_| same)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or(base_ref)
            .filter(|b| valid_branch(b));
        let repo_ids = match (
            field("id").and_then(|v| v.as_u64()),
            field("owner")
                .and_then(|o| o.get("id"))
                .and_then(|v| v.as_u64()),
        ) {
            (Some(r), Some(o)) if same => Some((o, r)),
            _ => None,
        };
        if repository.is_none() && default_branch.is_none() {
            return None;
        }
        Some(CiContext {
            repository,
            default_branch,
            repo_ids,
            workspace,
        })
    }
    /// What a GitLab CI job tells: `CI_PROJECT_PATH` (`GROUP/…/PROJECT`), `CI_DEFAULT_BRANCH`,
    /// and `CI_PROJECT_DIR` as the workspace.
    pub fn from_gitlab_vars(
        project_path: Option<String>,
        default_branch: Option<String>,
        project_dir: Option<PathBuf>,
    ) -> Option<CiContext> {
        let repository = project_path
            .filter(|p| path_from_url(&format!("https://h/{p}")).as_deref() == Some(p.as_str()));
        let default_branch = default_branch.filter(|b| valid_branch(b));
        if repository.is_none() && default_branch.is_none() {
            return None;
        }
        Some(CiContext {
            repository,
            default_branch,
            repo_ids: None,
            workspace: project_dir,
        })
    }
    /// Fill what `settings` does not know yet, for a scan rooted at `root`: only inside the
    /// run's workspace (when it names one), and not for a checkout whose `origin` names another
    /// repository (a second repository checked out beside the first).
    pub fn apply(&self, settings: &mut Settings, root: &Path) {
        if let Some(ws) = &self.workspace {
            let (Ok(ws), Ok(r)) = (std::fs::canonicalize(ws), std::fs::canonicalize(root)) else {
                return;
            };
            if !r.starts_with(&ws) {
                return;
            }
        }
        if let (Some(ci), Some(git)) = (&self.repository, origin_repo(root))
            && !ci.eq_ignore_ascii_case(&git)
        {
            return;
        }
        if settings.repo.is_none() {
            settings.repo = self.repository.clone();
        }
        if settings.default_branch.is_none() {
            settings.default_branch = self.default_branch.clone();
        }
        if settings.repo_ids.is_none()
            && settings
                .repo
                .as_deref()
                .zip(self.repository.as_deref())
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
        {
            settings.repo_ids = self.repo_ids;
        }
    }
}

fn valid_repo(r: &str) -> bool {
    let mut it = r.split('/');
    let ok = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && s.len() <= 100
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
    };
    ok(it.next()) && ok(it.next()) && it.next().is_none()
}

/// The event payload, when the file is readable, not too large and JSON.
fn read_event(path: &Path) -> Option<serde_json::Value> {
    // A regular file only (opening a FIFO would block).
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(MAX_EVENT_BYTES + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > MAX_EVENT_BYTES {
        return None;
    }
    serde_json::from_slice(&buf).ok()
}

/// `OWNER/REPO` from a git remote URL on GitHub (https, ssh or scp-like).
pub fn repo_from_url(url: &str) -> Option<String> {
    let u = url.trim();
    let path = if let Some(rest) = u.strip_prefix("git@") {
        rest.split_once(':')?.1
    } else if let Some((_, rest)) = u.split_once("://") {
        let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
        rest.split_once('/')?.1
    } else {
        return None;
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let mut it = path.split('/');
    let (owner, name) = (it.next()?, it.next()?);
    if it.next().is_some() || owner.is_empty() || name.is_empty() {
        return None;
    }
    Some(format!("{owner}/{name}"))
}

/// The whole path of a git remote URL (`GROUP/SUBGROUP/PROJECT` on GitLab, whose projects
/// nest in groups), without `.git`.
pub fn path_from_url(url: &str) -> Option<String> {
    let u = url.trim();
    let path = if let Some(rest) = u.strip_prefix("git@") {
        rest.split_once(':')?.1
    } else if let Some((_, rest)) = u.split_once("://") {
        let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
        rest.split_once('/')?.1
    } else {
        return None;
    };
    let path = path.trim_matches('/').trim_end_matches(".git");
    let ok = path.split('/').count() >= 2
        && path.split('/').all(|s| {
            !s.is_empty()
                && s.len() <= 255
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    ok.then(|| path.to_string())
}

/// The whole project path of the checkout at `root` from its `origin` remote.
pub fn origin_path(root: &Path) -> Option<String> {
    let dir = git_dir(root)?;
    let config = std::fs::read_to_string(dir.join("config")).ok()?;
    path_from_url(&origin_url(&config)?)
}

/// The git directory of the checkout whose top is `root`, following a `.git` file. Only the
/// scanned directory itself counts: a directory scanned inside some other checkout (a fixture, a
/// vendored copy) must not take that checkout's identity or default branch.
fn git_dir(root: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(root).ok()?;
    let dot = dir.join(".git");
    if dot.is_dir() {
        return Some(dot);
    }
    if dot.is_file() {
        let text = std::fs::read_to_string(&dot).ok()?;
        let target = text.trim().strip_prefix("gitdir:")?.trim();
        let p = dir.join(target);
        // a worktree's config lives in the common dir
        if let Ok(common) = std::fs::read_to_string(p.join("commondir")) {
            return Some(p.join(common.trim()));
        }
        return Some(p);
    }
    None
}

/// The `url` of `[remote "origin"]` in a git config text.
pub fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            in_origin = compact == "[remote\"origin\"]";
            continue;
        }
        if in_origin
            && let Some((k, v)) = l.split_once('=')
            && k.trim() == "url"
        {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// `OWNER/REPO` of the checkout at `root` from its `origin` remote.
fn origin_repo(root: &Path) -> Option<String> {
    let dir = git_dir(root)?;
    let config = std::fs::read_to_string(dir.join("config")).ok()?;
    repo_from_url(&origin_url(&config)?)
}

/// `OWNER/REPO` of the checkout holding the file at `path` inside the scan root `root`: the
/// nearest directory strictly below the root with a `.git` (its `origin` remote). A scan of
/// several checkouts together (a directory of them) judges each job with its own repository;
/// nothing above the root counts. `cache` remembers each directory's answer.
pub fn checkout_identity(
    root: &Path,
    path: &Path,
    cache: &mut std::collections::HashMap<PathBuf, Option<Option<String>>>,
) -> Option<String> {
    let inside = path.starts_with(root) || (root == Path::new(".") && path.is_relative());
    if !inside {
        return None;
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || d.as_os_str().is_empty() {
            break;
        }
        let found = cache
            .entry(d.to_path_buf())
            .or_insert_with(|| {
                let git = git_dir(d)?;
                let config = std::fs::read_to_string(git.join("config")).ok();
                Some(config.and_then(|c| repo_from_url(&origin_url(&c)?)))
            })
            .clone();
        // a checkout without a GitHub origin ends the search: its identity is unknown
        if let Some(id) = found {
            return id;
        }
        dir = d.parent();
    }
    None
}

/// `OWNER/REPO` of the scanned repository: `--repo`, else the checkout's `origin` remote.
pub fn repo_identity(scan: &Scan) -> Option<String> {
    repo_identity_exact(scan).map(|(r, _)| r)
}

/// `OWNER/REPO` of the repository at the scan root, before the scan exists: the configured
/// repository, else the checkout's `origin` remote ([`repo_identity_exact`] once it does).
pub fn root_repo(settings: &crate::model::Settings, root: &Path) -> Option<String> {
    settings.repo.clone().or_else(|| origin_repo(root))
}

/// [`repo_identity`], and whether its letter case is GitHub's: a name from `--repo`, the
/// configuration or `GITHUB_REPOSITORY` is taken as written; one from a git URL is not (GitHub
/// resolves `github.com/ACME/App` to `acme/app`).
pub fn repo_identity_exact(scan: &Scan) -> Option<(String, bool)> {
    if let Some(r) = &scan.settings.repo {
        return Some((r.clone(), true));
    }
    origin_repo(&scan.root).map(|r| (r, false))
}

/// The default branch: `Settings.default_branch`, else the checkout's
/// `refs/remotes/origin/HEAD`, else the branch `HEAD` is on in a checkout with that one local
/// branch (a CI checkout; a working copy with several branches may be on any of them).
pub fn default_branch(scan: &Scan) -> Option<String> {
    if let Some(b) = &scan.settings.default_branch {
        return Some(b.clone());
    }
    let dir = git_dir(&scan.root)?;
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).ok();
    if let Some(text) = read("refs/remotes/origin/HEAD")
        && let Some(r) = text.trim().strip_prefix("ref: refs/remotes/origin/")
        && valid_branch(r)
    {
        return Some(r.to_string());
    }
    let head = read("HEAD")?;
    let b = head.trim().strip_prefix("ref: refs/heads/")?;
    if !valid_branch(b) {
        return None;
    }
    // The local branches: loose refs (one level deep is enough to see a second one) and packed.
    let mut others = 0usize;
    if let Ok(rd) = std::fs::read_dir(dir.join("refs/heads")) {
        for e in rd.flatten().take(64) {
            if e.file_name().to_string_lossy() != b {
                others += 1;
            }
        }
    }
    if let Some(packed) = read("packed-refs") {
        others += packed
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(_, r)| r))
            .filter(|r| r.starts_with("refs/heads/") && *r != format!("refs/heads/{b}"))
            .count();
    }
    (others == 0).then(|| b.to_string())
}

/// The subject form and ids the scan knows (see [`Settings::subject_format`]).
pub fn subject_format(scan: &Scan) -> (Option<SubjectFormat>, Option<(u64, u64)>) {
    (scan.settings.subject_format, scan.settings.repo_ids)
}

/// A branch name given by the user (`--default-branch`), as a command-line value parser.
pub fn parse_branch(s: &str) -> Result<String, String> {
    if valid_branch(s) {
        Ok(s.to_string())
    } else {
        Err("not a branch name".into())
    }
}
