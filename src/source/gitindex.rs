//! Which files git tracks: read from the checkout's index (`.git/index`) with `gix-index`, the
//! index decoder of the gitoxide project (pure Rust, maintained, no `git` binary, bounded
//! allocation and entry-count checks for hostile files).
//!
//! The scan uses this so that `.gitignore` can only skip *untracked* files: a committed policy
//! beside a `.gitignore` that lists it is still scanned. The index is read from bytes this module
//! reads itself (only a regular file, opened without blocking, at most [`MAX_INDEX_BYTES`]), so a
//! FIFO, a device or a huge file planted as `.git/index` cannot hang or exhaust the scan.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Largest index read (git's own index for a million-file repository is about 100 MiB).
pub const MAX_INDEX_BYTES: u64 = 256 << 20;
/// Largest `.git` file (a `gitdir: PATH` pointer) read.
const MAX_GITFILE_BYTES: u64 = 4096;

/// The tracked paths of one git checkout, relative to its work tree, `/`-separated bytes.
#[derive(Debug, Default)]
pub struct Tracked {
    /// The work tree (the directory holding `.git`), canonical.
    pub work_tree: PathBuf,
    files: HashSet<Vec<u8>>,
    /// Every directory that holds a tracked file, at any depth.
    dirs: HashSet<Vec<u8>>,
    /// Directories tracked whole: submodules (gitlinks) and sparse-index directory entries.
    whole: HashSet<Vec<u8>>,
}

/// What was found about git above a directory.
#[derive(Debug)]
pub enum Git {
    /// Not inside a git work tree.
    None,
    /// A work tree whose index was read.
    Index(Tracked),
    /// A work tree whose index could not be used: why (the caller then trusts no ignore rule).
    Unreadable { work_tree: PathBuf, reason: String },
}

impl Tracked {
    /// Is this path (relative to the work tree, `/`-separated) a tracked file, or inside a
    /// directory tracked whole?
    pub fn file(&self, rel: &[u8]) -> bool {
        self.files.contains(rel) || self.under_whole(rel)
    }

    /// Does this directory (relative to the work tree) hold a tracked file, or is it (inside) a
    /// directory tracked whole?
    pub fn dir(&self, rel: &[u8]) -> bool {
        self.dirs.contains(rel) || self.whole.contains(rel) || self.under_whole(rel)
    }

    fn under_whole(&self, rel: &[u8]) -> bool {
        if self.whole.is_empty() {
            return false;
        }
        let mut end = rel.len();
        while let Some(i) = rel[..end].iter().rposition(|&b| b == b'/') {
            if self.whole.contains(&rel[..i]) {
                return true;
            }
            end = i;
        }
        false
    }

    fn insert(&mut self, path: &[u8], whole: bool) {
        let mut end = path.len();
        while let Some(i) = path[..end].iter().rposition(|&b| b == b'/') {
            if !self.dirs.insert(path[..i].to_vec()) {
                break;
            }
            end = i;
        }
        if whole {
            self.whole.insert(path.to_vec());
        } else {
            self.files.insert(path.to_vec());
        }
    }
}

/// Find the git work tree holding `dir` (canonical) and read its index.
pub fn find(dir: &Path) -> Git {
    let Some((work_tree, dot_git)) = dir
        .ancestors()
        .find_map(|a| {
            let g = a.join(".git");
            std::fs::symlink_metadata(&g).ok().map(|m| (a, g, m))
        })
        .map(|(a, g, m)| (a.to_path_buf(), (g, m)))
    else {
        return Git::None;
    };
    let (dot_git, meta) = dot_git;
    let unreadable = |reason: String| Git::Unreadable {
        work_tree: work_tree.clone(),
        reason,
    };
    let git_dir = if meta.is_dir() {
        dot_git
    } else if meta.is_file() {
        // Linked work trees and submodules: a file `gitdir: PATH`.
        match read_bounded(&dot_git, MAX_GITFILE_BYTES) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                match text.trim_end().strip_prefix("gitdir:") {
                    Some(p) => work_tree.join(p.trim()),
                    None => return unreadable("`.git` is a file without a `gitdir:` line".into()),
                }
            }
            Err(e) => return unreadable(format!("cannot read `.git`: {e}")),
        }
    } else {
        return unreadable("`.git` is neither a directory nor a file".into());
    };
    let index = git_dir.join("index");
    let bytes = match read_bounded(&index, MAX_INDEX_BYTES) {
        Ok(b) => b,
        // A repository with nothing staged yet has no index: nothing is tracked.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && git_dir.is_dir() => {
            return Git::Index(Tracked {
                work_tree,
                ..Default::default()
            });
        }
        Err(e) => return unreadable(format!("cannot read the git index: {e}")),
    };
    match parse(&bytes) {
        Ok(mut t) => {
            t.work_tree = work_tree;
            Git::Index(t)
        }
        Err(e) => unreadable(format!("cannot decode the git index: {e}")),
    }
}

/// Decode an index (SHA-1 repositories, then SHA-256 ones).
fn parse(bytes: &[u8]) -> Result<Tracked, String> {
    let opts = gix_index::decode::Options {
        thread_limit: Some(1),
        alloc_limit_bytes: Some(4 * MAX_INDEX_BYTES as usize),
        ..Default::default()
    };
    let mut first_err = None;
    for kind in [gix_index::hash::Kind::Sha1, gix_index::hash::Kind::Sha256] {
        match gix_index::State::from_bytes(bytes, filetime::FileTime::zero(), kind, opts) {
            Ok((state, _)) => {
                if state.link().is_some() {
                    return Err("split index (core.splitIndex) is not supported".into());
                }
                let mut t = Tracked::default();
                for e in state.entries() {
                    let path: &[u8] = e.path(&state);
                    let whole = e.mode.is_submodule() || e.mode.is_sparse();
                    t.insert(path, whole);
                }
                return Ok(t);
            }
            Err(e) => {
                first_err.get_or_insert_with(|| e.to_string());
            }
        }
    }
    Err(first_err.unwrap_or_default())
}

/// Read a regular file of at most `max` bytes without ever blocking on the open (a FIFO or a
/// device is refused by its type before it is opened).
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "{}, not a regular file",
            super::discover::file_kind(&meta.file_type())
        )));
    }
    if meta.len() > max {
        return Err(std::io::Error::other(format!(
            "{} bytes, over the {max}-byte limit",
            meta.len()
        )));
    }
    let file = super::discover::open_regular(path)?;
    let mut out = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max + 1), &mut out)?;
    if out.len() as u64 > max {
        return Err(std::io::Error::other(format!("over the {max}-byte limit")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracked_dirs_and_whole_directories() {
        let mut t = Tracked::default();
        t.insert(b"iam/prod/trust.json", false);
        t.insert(b"vendor/sub", true);
        assert!(t.file(b"iam/prod/trust.json"));
        assert!(!t.file(b"iam/prod/other.json"));
        assert!(t.dir(b"iam") && t.dir(b"iam/prod"));
        assert!(!t.dir(b"ia"));
        assert!(t.dir(b"vendor/sub") && t.dir(b"vendor/sub/x"));
        assert!(t.file(b"vendor/sub/x/y.json"));
        assert!(!t.file(b"vendor/other.json"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"DIRC",
            b"DIRC\0\0\0\x02\xff\xff\xff\xff",
            &[0u8; 100],
        ] {
            assert!(parse(bytes).is_err());
        }
    }
}
