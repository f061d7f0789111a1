//! Writing files the scan's owner asked for — fixed sources (`--fix`), reports (`--output`),
//! baselines — only where intended: never through a symbolic link (of the file or of a parent
//! directory) out of the tree it belongs to, never splitting a hard link, never over a
//! read-only file, and atomically (a temporary file in the same directory, then a rename) so a
//! reader sees the old or the new text, never half of it.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// A file could not or must not be written. The message names the path and says why.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `p` made absolute (against the current directory) with `.` and `..` resolved lexically.
pub fn lexical_absolute(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The trees writes may land in, from the path arguments (a directory argument is a tree, a
/// file argument a tree of one file). An argument that is a symbolic link, or is reached
/// through one below the current directory (`iam/trust.json` a link, `linked/p.json` under a
/// linked directory), gives no tree of its own: whatever it leads to must lie in another tree
/// (the scan root), so a link planted in the repository cannot carry `--fix` out of it. Links
/// above the current directory (a linked home or temporary directory) are the machine's, not
/// the repository's. Arguments that cannot be resolved are left out.
pub fn bases(paths: &[PathBuf]) -> Vec<PathBuf> {
    let cwd = std::env::current_dir().ok().map(|c| lexical_absolute(&c));
    paths
        .iter()
        .filter_map(|p| {
            let lex = lexical_absolute(p);
            let linked = lex.ancestors().any(|a| {
                let repository_part =
                    a == lex || cwd.as_ref().is_some_and(|c| a.starts_with(c) && a != c);
                repository_part
                    && std::fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink())
            });
            if linked {
                None
            } else {
                std::fs::canonicalize(&lex).ok()
            }
        })
        .collect()
}

fn inside(p: &Path, bases: &[PathBuf]) -> bool {
    bases.iter().any(|b| p.starts_with(b))
}

/// Write a fixed source file found by the scan at `path`. `bases` are [`bases`] of the
/// scanned paths. A symbolic link stays a link: its target is edited when it lies inside the
/// scanned trees, otherwise the file is refused; so is a file reached through a linked
/// directory pointing out of them. Files with several hard links are refused (editing in place
/// would change the other names too, possibly outside the tree; a rename would silently split
/// them), and so are read-only files. The file's permissions are kept.
pub fn write_fixed(path: &Path, bases: &[PathBuf], contents: &[u8]) -> Result<(), Refused> {
    let shown = path.display();
    let real = std::fs::canonicalize(path)
        .map_err(|e| Refused(format!("{shown}: cannot resolve: {e}; not fixed")))?;
    let link = std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if !inside(&real, bases) {
        let how = if link {
            "is a symbolic link"
        } else {
            "is reached through a symbolic link"
        };
        return Err(Refused(format!(
            "{shown}: {how} to {}, outside the scanned tree; not fixed",
            real.display()
        )));
    }
    let meta = std::fs::metadata(&real)
        .map_err(|e| Refused(format!("{shown}: cannot read metadata: {e}; not fixed")))?;
    if !meta.is_file() {
        return Err(Refused(format!("{shown}: not a regular file; not fixed")));
    }
    if meta.permissions().readonly() {
        return Err(Refused(format!(
            "{shown}: the file is read-only; not fixed"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(Refused(format!(
                "{shown}: the file has {} hard links; not fixed (editing it would change every name, replacing it would split them: break the link or fix it by hand)",
                meta.nlink()
            )));
        }
    }
    write_atomic(&real, contents).map_err(|e| Refused(format!("{shown}: cannot write: {e}")))
}

/// Write a report or baseline the user named on the command line. `trees` are the directories
/// the write must not escape when the path lies in them (the current directory and the scan
/// root): a parent directory or an existing file that is a symbolic link leading out of such a
/// tree is refused. A path the user names outside every tree (`/tmp/report.json`) is theirs. A
/// link to a file inside the tree is kept (its target is replaced).
pub fn write_report(path: &Path, trees: &[PathBuf], contents: &[u8]) -> Result<(), Refused> {
    let shown = path.display();
    let lexical = lexical_absolute(path);
    let Some(name) = lexical.file_name().map(|n| n.to_os_string()) else {
        return Err(Refused(format!("{shown}: not a file name")));
    };
    let parent = lexical.parent().unwrap_or(Path::new("/"));
    let real_parent = std::fs::canonicalize(parent)
        .map_err(|e| Refused(format!("{shown}: cannot write: {e}")))?;
    let mut target = real_parent.join(&name);
    let is_link = std::fs::symlink_metadata(&target)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if is_link {
        target = std::fs::canonicalize(&target).map_err(|e| {
            Refused(format!(
                "{shown}: is a symbolic link that cannot be resolved ({e}); not written"
            ))
        })?;
    }
    for t in trees {
        let lex_tree = lexical_absolute(t);
        let Ok(real_tree) = std::fs::canonicalize(t) else {
            continue;
        };
        if lexical.starts_with(&lex_tree) && !target.starts_with(&real_tree) {
            return Err(Refused(format!(
                "{shown}: leads through a symbolic link to {}, outside {}; not written",
                target.display(),
                lex_tree.display()
            )));
        }
    }
    if let Ok(meta) = std::fs::metadata(&target)
        && meta.permissions().readonly()
    {
        return Err(Refused(format!(
            "{shown}: the file is read-only; not written"
        )));
    }
    write_atomic(&target, contents).map_err(|e| Refused(format!("{shown}: cannot write: {e}")))
}

/// Write a file atomically: a temporary file in the same directory, then a rename. An existing
/// file's permissions are kept; a new file gets `rw-r--r--`.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
        }
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Where `--diff` puts its copy of each scanned file: under one temporary root, each file
/// at its own place. A report path keeps its shape (`iam/t.json` stays `iam/t.json`, so path
/// rules and configuration excludes see the same names); `..` becomes `__parent__`; and when
/// two files would land on one place (`iam/t.json` and `../iam/t.json` given together, or a
/// name that is a directory of another), the later one moves under a fresh `__copy-N__`
/// directory: two files never share a copy.
pub struct CopyLayout {
    root: PathBuf,
    files: std::collections::HashSet<PathBuf>,
    dirs: std::collections::HashSet<PathBuf>,
    next: usize,
}

impl CopyLayout {
    pub fn new(root: &Path) -> CopyLayout {
        CopyLayout {
            root: root.to_path_buf(),
            files: Default::default(),
            dirs: Default::default(),
            next: 0,
        }
    }

    fn free(&self, rel: &Path) -> bool {
        !self.files.contains(rel)
            && !self.dirs.contains(rel)
            && rel.ancestors().skip(1).all(|a| !self.files.contains(a))
    }

    /// The copy's path for the file reported as `rel`.
    pub fn place(&mut self, rel: &str) -> PathBuf {
        let mut shaped = PathBuf::new();
        for c in Path::new(rel).components() {
            match c {
                Component::Normal(p) => shaped.push(p),
                Component::ParentDir => shaped.push("__parent__"),
                _ => {}
            }
        }
        if shaped.as_os_str().is_empty() {
            shaped.push("__file__");
        }
        let mut chosen = shaped.clone();
        while !self.free(&chosen) {
            self.next += 1;
            chosen = Path::new(&format!("__copy-{}__", self.next)).join(&shaped);
        }
        for a in chosen.ancestors().skip(1) {
            if !a.as_os_str().is_empty() {
                self.dirs.insert(a.to_path_buf());
            }
        }
        self.files.insert(chosen.clone());
        self.root.join(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_never_share_a_place() {
        let mut l = CopyLayout::new(Path::new("/t"));
        let a = l.place("iam/t.json");
        let b = l.place("../iam/t.json");
        let c = l.place("__parent__/iam/t.json");
        let d = l.place("iam/t.json/x");
        let all = [&a, &b, &c, &d];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert!(!x.starts_with(y) && !y.starts_with(x), "{x:?} {y:?}");
            }
        }
        assert_eq!(a, PathBuf::from("/t/iam/t.json"));
    }

    #[test]
    fn lexical() {
        assert_eq!(
            lexical_absolute(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
