//! Finding the files to scan: a .gitignore-aware walk of directories; files named explicitly
//! are always taken.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A candidate file and the path reports will show.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    pub rel: String,
    /// Named on the command line (always considered).
    pub explicit: bool,
    /// Size when walked (0 if unknown): only to start the biggest files first.
    pub size: u64,
}

/// A walk error: (relative path, message).
type WalkError = (String, String);

/// Directories never descended into.
const SKIP_DIRS: &[&str] = &[".git", "node_modules", ".terraform"];

fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    if s.is_empty() {
        path.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        s.join("/")
    }
}

/// Walk `paths`. Returns candidates sorted by relative path, and walk errors as
/// `(path, message)`.
///
/// Symbolic links are followed only when their target lies inside the directory being walked
/// (a link out of the repository is skipped); a link back to an ancestor is a loop, reported
/// as an error and not descended into. A file reached under several names (through a link) is
/// scanned once, under its real name when that is one of them. Unreadable files and directories
/// are reported and the walk goes on.
pub fn discover(root: &Path, paths: &[PathBuf]) -> (Vec<Candidate>, Vec<(String, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let saw_link = Arc::new(AtomicBool::new(false));
    for p in paths {
        if p.is_file() {
            out.push(Candidate {
                path: p.clone(),
                rel: rel_path(root, p),
                explicit: true,
                size: p.metadata().map(|m| m.len()).unwrap_or(0),
            });
            continue;
        }
        if !p.exists() {
            errors.push((
                p.display().to_string(),
                "no such file or directory".to_string(),
            ));
            continue;
        }
        let base = match p.canonicalize() {
            Ok(b) => b,
            Err(e) => {
                errors.push((p.display().to_string(), e.to_string()));
                continue;
            }
        };
        let link_seen = Arc::clone(&saw_link);
        let walker = ignore::WalkBuilder::new(p)
            .hidden(false)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .follow_links(true)
            .filter_entry(move |e| {
                if e.file_type().is_some_and(|t| t.is_dir())
                    && SKIP_DIRS.iter().any(|d| e.file_name() == *d)
                {
                    return false;
                }
                if e.path_is_symlink() {
                    link_seen.store(true, Ordering::Relaxed);
                    // Dangling links and links out of the walked directory are not followed.
                    return e
                        .path()
                        .canonicalize()
                        .is_ok_and(|target| target.starts_with(&base));
                }
                true
            })
            // One walking thread per worker of the scan (`--threads`); the order entries
            // arrive in does not matter: candidates are sorted below.
            .threads(rayon::current_num_threads())
            .build_parallel();
        let found: std::sync::Mutex<(Vec<Candidate>, Vec<WalkError>)> = Default::default();
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        if e.file_type().is_some_and(|t| t.is_file()) {
                            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                            let path = e.into_path();
                            let c = Candidate {
                                rel: rel_path(root, &path),
                                path,
                                explicit: false,
                                size,
                            };
                            found.lock().unwrap_or_else(|p| p.into_inner()).0.push(c);
                        }
                    }
                    Err(err) => {
                        if let Some(e) = walk_error(root, &err) {
                            found.lock().unwrap_or_else(|p| p.into_inner()).1.push(e);
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
        let (cands, errs) = found.into_inner().unwrap_or_else(|p| p.into_inner());
        out.extend(cands);
        errors.extend(errs);
    }
    errors.sort();
    errors.dedup();
    out.sort();
    out.dedup_by(|a, b| a.rel == b.rel);
    if saw_link.load(Ordering::Relaxed) {
        dedup_links(&mut out);
    }
    (out, errors)
}

/// A walk error as `(relative path, message)`; `None` for a dangling link (nothing to read,
/// skipped like every link that is not followed).
fn walk_error(root: &Path, err: &ignore::Error) -> Option<(String, String)> {
    match err {
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(root, err)
        }
        ignore::Error::Loop { child, .. } => Some((
            rel_path(root, child),
            "symbolic link loop: it points to a directory that contains it (not followed)".into(),
        )),
        ignore::Error::WithPath { path, err } => {
            if let Some(io) = io_error(err) {
                if io.kind() == std::io::ErrorKind::NotFound && path.is_symlink() {
                    return None;
                }
                return Some((rel_path(root, path), format!("cannot read: {io}")));
            }
            walk_error(root, err).map(|(_, m)| (rel_path(root, path), m))
        }
        other => Some((rel_path(root, root), other.to_string())),
    }
}

fn io_error(err: &ignore::Error) -> Option<&std::io::Error> {
    match err {
        ignore::Error::Io(io) => Some(io),
        ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. }
        | ignore::Error::WithPath { err, .. } => io_error(err),
        _ => None,
    }
}

/// Keep one candidate per real file: the one whose own path is not behind a link when there is
/// one, else the first by relative path. Only run when the walk met a symbolic link.
fn dedup_links(out: &mut Vec<Candidate>) {
    // real path -> (index kept, whether that candidate's own path has no link in it)
    let mut by_real: std::collections::HashMap<PathBuf, (usize, bool)> = Default::default();
    let mut keep = vec![true; out.len()];
    for (i, c) in out.iter().enumerate() {
        let Ok(real) = c.path.canonicalize() else {
            continue;
        };
        let direct = match (c.path.parent(), c.path.file_name()) {
            (Some(d), Some(n)) => {
                let d = if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                };
                d.canonicalize().is_ok_and(|d| d.join(n) == real)
            }
            _ => false,
        };
        match by_real.get(&real).copied() {
            None => {
                by_real.insert(real, (i, direct));
            }
            Some((j, j_direct)) => {
                if direct && !j_direct {
                    keep[j] = false;
                    by_real.insert(real, (i, true));
                } else {
                    keep[i] = false;
                }
            }
        }
    }
    let mut k = keep.into_iter();
    out.retain(|_| k.next().unwrap_or(true));
}
