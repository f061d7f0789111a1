//! Which repository is scanned: `Settings.repo` (`--repo`), else the `origin` remote read from
//! the scanned checkout's `.git/config` (text only: git is never run), else unknown.

use crate::model::Scan;
use std::path::{Path, PathBuf};

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

/// `OWNER/REPO` of the scanned repository: `--repo`, else the checkout's `origin` remote.
pub fn repo_identity(scan: &Scan) -> Option<String> {
    if let Some(r) = &scan.settings.repo {
        return Some(r.clone());
    }
    let dir = git_dir(&scan.root)?;
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

/// The default branch, from the checkout's `refs/remotes/origin/HEAD` symbolic ref.
pub fn default_branch(scan: &Scan) -> Option<String> {
    let dir = git_dir(&scan.root)?;
    let text = std::fs::read_to_string(dir.join("refs/remotes/origin/HEAD")).ok()?;
    let r = text.trim().strip_prefix("ref: refs/remotes/origin/")?;
    (!r.is_empty()).then(|| r.to_string())
}
