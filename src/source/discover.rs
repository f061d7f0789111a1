//! Finding the files to scan: a .gitignore-aware walk of directories; files named explicitly
//! are always taken.

use std::path::{Path, PathBuf};

/// A candidate file and the path reports will show.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    pub rel: String,
    /// Named on the command line (always considered).
    pub explicit: bool,
}

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
pub fn discover(root: &Path, paths: &[PathBuf]) -> (Vec<Candidate>, Vec<(String, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(Candidate {
                path: p.clone(),
                rel: rel_path(root, p),
                explicit: true,
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
        let walker = ignore::WalkBuilder::new(p)
            .hidden(false)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && SKIP_DIRS.iter().any(|d| e.file_name() == *d))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    if e.file_type().is_some_and(|t| t.is_file()) {
                        let path = e.into_path();
                        out.push(Candidate {
                            rel: rel_path(root, &path),
                            path,
                            explicit: false,
                        });
                    }
                }
                Err(err) => errors.push((p.display().to_string(), err.to_string())),
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.rel == b.rel);
    (out, errors)
}
