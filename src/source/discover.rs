//! Finding the files to scan. Files named on the command line are always taken; directories are
//! walked. The walk is built for a hostile tree:
//!
//! - Ignore files cannot hide what git tracks. `.ignore`/`.rgignore` are not read at all. In a
//!   git checkout the index says which files are tracked ([`super::gitindex`]): every tracked
//!   file is scanned whatever `.gitignore` says, and `.gitignore` (with `.git/info/exclude`) only
//!   skips untracked files. Outside a checkout `.gitignore` is honoured. When the index cannot be
//!   used, no ignore rule is trusted and a warning says so. Every path left out by an ignore rule
//!   is counted ([`Walk::ignored`]); `--no-ignore` walks everything.
//! - Each real directory is visited once. The tree is first walked without following symbolic
//!   links; links are then resolved one by one in sorted order, and a link to a directory is only
//!   walked (under the link's name) when that directory was not visited yet. Two links per level
//!   over twenty levels cost forty link look-ups, not a million directories.
//! - Only regular files become candidates. FIFOs, sockets and devices in a walked tree are
//!   skipped by their type (never opened: opening a FIFO blocks); named on the command line, they
//!   are errors.
//! - Paths are kept as the OS gives them; the relative path shown in reports renders bytes that
//!   are not UTF-8 as `\xFF` (and a backslash as `\\`), so two distinct names never print alike.

use super::gitindex::{self, Git, Tracked};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

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

/// How to walk.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Honour no ignore rule (`.gitignore`, `.git/info/exclude`, the built-in `node_modules`
    /// and `.terraform`): walk everything but `.git`.
    pub no_ignore: bool,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Sorted by path; one per real file.
    pub candidates: Vec<Candidate>,
    /// `(relative path, message)`, sorted.
    pub errors: Vec<(String, String)>,
    /// Paths left out by an ignore rule, `(relative path, is a directory)`, sorted. A directory
    /// counts once; what it holds is not walked.
    pub ignored: Vec<(String, bool)>,
    /// Things the user should know that are not errors (an unreadable git index).
    pub warnings: Vec<String>,
}

/// Never descended into (git's own database).
const GIT_DIR: &str = ".git";
/// Directories skipped like ignored ones (dependencies and tool caches), unless tracked.
const SKIP_DIRS: &[&str] = &["node_modules", ".terraform"];
/// Largest `.gitignore` read; a larger one is not honoured (more is scanned, never less).
const MAX_GITIGNORE_BYTES: u64 = 4 << 20;

/// Append `name` to `out`, reversibly: invalid UTF-8 bytes as `\xHH`, a backslash as `\\`.
fn push_escaped(out: &mut String, name: &OsStr) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        for chunk in name.as_bytes().utf8_chunks() {
            for ch in chunk.valid().chars() {
                if ch == '\\' {
                    out.push_str("\\\\");
                } else {
                    out.push(ch);
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02X}"));
            }
        }
    }
    #[cfg(not(unix))]
    {
        out.push_str(&name.to_string_lossy());
    }
}

/// The bytes a relative path shown by [`rel_path`] stands for (`\xHH` and `\\` undone).
pub fn rel_bytes(rel: &str) -> Vec<u8> {
    let b = rel.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'x')
                && let Some(h) = b.get(i + 2..i + 4)
                && let Ok(v) = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("-"), 16)
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The path reports show for `path`: relative to `root`, `/`-separated, escaped reversibly.
pub fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    let mut push = |s: &OsStr| {
        if !out.is_empty() {
            out.push('/');
        }
        push_escaped(&mut out, s);
    };
    for c in rel.components() {
        match c {
            Component::Normal(p) => push(p),
            Component::ParentDir => push(OsStr::new("..")),
            _ => {}
        }
    }
    if out.is_empty()
        && let Some(f) = path.file_name()
    {
        push_escaped(&mut out, f);
    }
    out
}

/// A path for people (messages), escaped like [`rel_path`].
pub fn display(path: &Path) -> String {
    let mut out = String::new();
    push_escaped(&mut out, path.as_os_str());
    out
}

/// What kind of non-regular file this is, for messages.
pub fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Open a file for reading without ever blocking in `open` (a FIFO swapped in after the type
/// check would otherwise hang the scan), and refuse anything that is not a regular file.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    let f = o.open(path)?;
    let t = f.metadata()?.file_type();
    if !t.is_file() {
        return Err(std::io::Error::other(format!(
            "{}, not a regular file; not read",
            file_kind(&t)
        )));
    }
    Ok(f)
}

/// Walk `paths` with the default options. Returns candidates sorted by path, and walk errors.
pub fn discover(root: &Path, paths: &[PathBuf]) -> (Vec<Candidate>, Vec<(String, String)>) {
    let w = walk(root, paths, &WalkOptions::default());
    (w.candidates, w.errors)
}

/// Walk `paths` (see the module documentation).
///
/// Symbolic links are followed only when their target lies inside the directory being walked
/// (a link out of the repository is skipped); a link back to an ancestor is a loop, reported
/// as an error and not descended into. A file reached under several names (through a link) is
/// scanned once, under its real name when that is one of them. Unreadable files and directories
/// are reported and the walk goes on.
pub fn walk(root: &Path, paths: &[PathBuf], opts: &WalkOptions) -> Walk {
    let mut w = Walk::default();
    let mut saw_link = false;
    for p in paths {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                let msg = if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file or directory".to_string()
                } else {
                    format!("cannot read: {e}")
                };
                w.errors.push((display(p), msg));
                continue;
            }
        };
        if meta.is_file() {
            w.candidates.push(Candidate {
                path: p.clone(),
                rel: rel_path(root, p),
                explicit: true,
                size: meta.len(),
            });
            continue;
        }
        if !meta.is_dir() {
            w.errors.push((
                display(p),
                format!(
                    "{}, not a regular file or a directory; not read",
                    file_kind(&meta.file_type())
                ),
            ));
            continue;
        }
        let base = match p.canonicalize() {
            Ok(b) => b,
            Err(e) => {
                w.errors.push((display(p), format!("cannot read: {e}")));
                continue;
            }
        };
        saw_link |= walk_dir(root, p, &base, opts, &mut w);
    }
    // One candidate per path, however it was named (`a.json`, `./a.json`): compared on the
    // path itself, never on the text shown for it.
    let mut keyed: Vec<(PathBuf, bool, Candidate)> = std::mem::take(&mut w.candidates)
        .into_iter()
        .map(|c| {
            let key = c
                .path
                .components()
                .filter(|c| !matches!(c, Component::CurDir))
                .collect();
            (key, !c.explicit, c)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    keyed.dedup_by(|a, b| a.0 == b.0);
    w.candidates = keyed.into_iter().map(|(_, _, c)| c).collect();
    if saw_link {
        dedup_links(&mut w.candidates);
    }
    w.errors.sort();
    w.errors.dedup();
    w.ignored.sort();
    w.ignored.dedup();
    w.warnings.sort();
    w.warnings.dedup();
    w
}

/// How ignore rules apply in one walked directory.
enum Rules {
    /// None applies.
    Off,
    /// `.gitignore` rules apply to every path (no git checkout).
    All,
    /// `.gitignore` rules apply to untracked paths only.
    Untracked(Tracked),
}

/// The ignore state of a directory being walked.
#[derive(Clone)]
struct DirState {
    /// `.gitignore` matchers from the outermost to this directory's own.
    stack: Arc<Vec<Arc<Gitignore>>>,
    /// The directory itself is ignored (entered only because it holds tracked files).
    ignored: bool,
}

struct Ctx {
    rules: Rules,
    /// Keyed by the directory's path as an `OsString` (hashed as bytes: a `PathBuf` key hashes
    /// component by component, a measurable cost per entry).
    states: Mutex<HashMap<std::ffi::OsString, DirState>>,
    /// Where `Tracked` paths are relative to.
    work_tree: PathBuf,
    /// Paths skipped by an ignore rule (absolute), with whether each is a directory.
    ignored: Mutex<Vec<(PathBuf, bool)>>,
}

fn load_gitignore(dir: &Path) -> Option<Arc<Gitignore>> {
    let file = dir.join(".gitignore");
    let bytes = gitindex::read_bounded(&file, MAX_GITIGNORE_BYTES).ok()?;
    gitignore_from(dir, &file, &bytes)
}

fn gitignore_from(dir: &Path, file: &Path, bytes: &[u8]) -> Option<Arc<Gitignore>> {
    let mut b = GitignoreBuilder::new(dir);
    for line in String::from_utf8_lossy(bytes).lines() {
        // A pattern that is not a valid glob is skipped (more is scanned, never less).
        let _ = b.add_line(Some(file.to_path_buf()), line);
    }
    b.build().ok().filter(|g| !g.is_empty()).map(Arc::new)
}

/// The path of `path` relative to `work_tree`, as `/`-separated bytes (the index's form).
fn tracked_key(work_tree: &Path, path: &Path) -> Option<Vec<u8>> {
    let rel = path.strip_prefix(work_tree).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(rel.as_os_str().as_bytes().to_vec())
    }
    #[cfg(not(unix))]
    {
        Some(rel.to_string_lossy().replace('\\', "/").into_bytes())
    }
}

impl Ctx {
    fn state(&self, dir: &Path) -> Option<DirState> {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(dir.as_os_str())
            .cloned()
    }

    /// Enter directory `dir` with its parent's state.
    fn enter(&self, dir: &Path, parent: &DirState, ignored: bool) {
        let mut stack = parent.stack.clone();
        if !ignored
            && !matches!(self.rules, Rules::Off)
            && let Some(g) = load_gitignore(dir)
        {
            Arc::make_mut(&mut stack).push(g);
        }
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.as_os_str().to_owned(), DirState { stack, ignored });
    }

    /// Is `path` (a directory when `is_dir`) skipped? Enters it when it is a directory that is
    /// walked. `real`: the path is in the real tree (not under a followed link), so the index
    /// applies to it.
    fn skip(&self, path: &Path, is_dir: bool, real: bool) -> bool {
        let name = path.file_name().unwrap_or_default();
        if is_dir && name == GIT_DIR {
            return true;
        }
        let parent = path
            .parent()
            .and_then(|p| self.state(p))
            .unwrap_or_else(|| DirState {
                stack: Default::default(),
                ignored: false,
            });
        let ignored = match &self.rules {
            Rules::Off => false,
            Rules::All | Rules::Untracked(_) => {
                parent.ignored
                    || (is_dir && SKIP_DIRS.iter().any(|d| name == *d))
                    || parent
                        .stack
                        .iter()
                        .rev()
                        .find_map(|g| match g.matched(path, is_dir) {
                            ignore::Match::None => None,
                            m => Some(m.is_ignore()),
                        })
                        == Some(true)
            }
        };
        if ignored {
            let tracked = match &self.rules {
                Rules::Untracked(t) if real => tracked_key(&self.work_tree, path)
                    .is_some_and(|k| if is_dir { t.dir(&k) } else { t.file(&k) }),
                _ => false,
            };
            if !tracked {
                self.ignored
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((path.to_path_buf(), is_dir));
                return true;
            }
        }
        if is_dir {
            self.enter(path, &parent, ignored);
        }
        false
    }
}

/// What one run of the walker over a directory found (absolute paths).
#[derive(Default)]
struct Found {
    files: Vec<(PathBuf, u64)>,
    links: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    errors: Vec<(PathBuf, String)>,
}

/// Walk the directory `start` (its state already entered) without following links, in
/// parallel. `real`: `start` is in the real tree.
fn run_walker(start: &Path, ctx: &Arc<Ctx>, real: bool) -> Found {
    let filter_ctx = Arc::clone(ctx);
    let walker = ignore::WalkBuilder::new(start)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            !filter_ctx.skip(e.path(), is_dir, real)
        })
        // One walking thread per worker of the scan (`--threads`); the order entries
        // arrive in does not matter: everything is sorted afterwards.
        .threads(rayon::current_num_threads())
        .build_parallel();
    let found: Mutex<Found> = Default::default();
    walker.run(|| {
        let found = &found;
        Box::new(move |entry| {
            let push = |f: &mut dyn FnMut(&mut Found)| {
                f(&mut found.lock().unwrap_or_else(|p| p.into_inner()))
            };
            match entry {
                Ok(e) if e.depth() > 0 => {
                    let Some(t) = e.file_type() else {
                        return ignore::WalkState::Continue;
                    };
                    if t.is_file() {
                        let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                        push(&mut |f| f.files.push((e.path().to_path_buf(), size)));
                    } else if t.is_dir() {
                        push(&mut |f| f.dirs.push(e.path().to_path_buf()));
                    } else if t.is_symlink() {
                        push(&mut |f| f.links.push(e.path().to_path_buf()));
                    }
                    // FIFOs, sockets and devices: skipped by their type, never opened.
                }
                Ok(_) => {}
                Err(err) => {
                    let (path, msg) = walk_error(&err);
                    push(&mut |f| {
                        let p = path.clone().unwrap_or_else(|| start.to_path_buf());
                        f.errors.push((p, msg.clone()))
                    });
                }
            }
            ignore::WalkState::Continue
        })
    });
    found.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// A walk error as (path, message).
fn walk_error(err: &ignore::Error) -> (Option<PathBuf>, String) {
    match err {
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::WithPath { path, err } => {
            let (_, m) = walk_error(err);
            (Some(path.clone()), m)
        }
        ignore::Error::Io(io) => (None, format!("cannot read: {io}")),
        other => (None, other.to_string()),
    }
}

/// The ignore stack in force at `base` from the directories above it inside the work tree
/// (their `.gitignore` files, and `.git/info/exclude` below them all).
fn outer_stack(work_tree: &Path, base: &Path) -> Vec<Arc<Gitignore>> {
    let mut stack = Vec::new();
    let exclude = work_tree.join(".git/info/exclude");
    if let Ok(bytes) = gitindex::read_bounded(&exclude, MAX_GITIGNORE_BYTES)
        && let Some(g) = gitignore_from(work_tree, &exclude, &bytes)
    {
        stack.push(g);
    }
    let mut dirs: Vec<&Path> = base
        .ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(work_tree))
        .collect();
    dirs.reverse();
    stack.extend(dirs.into_iter().filter_map(load_gitignore));
    stack
}

/// Walk one directory named on the command line (`p`, canonical `base`). Returns whether a
/// symbolic link was met.
fn walk_dir(root: &Path, p: &Path, base: &Path, opts: &WalkOptions, w: &mut Walk) -> bool {
    let (rules, work_tree) = if opts.no_ignore {
        (Rules::Off, PathBuf::new())
    } else {
        match gitindex::find(base) {
            Git::None => (Rules::All, PathBuf::new()),
            Git::Index(t) => {
                let wt = t.work_tree.clone();
                (Rules::Untracked(t), wt)
            }
            Git::Unreadable { work_tree, reason } => {
                w.warnings.push(format!(
                    "{}: {reason}; ignore rules are not applied, every file is scanned",
                    display(&work_tree)
                ));
                (Rules::Off, work_tree)
            }
        }
    };
    let outer = match &rules {
        Rules::Untracked(_) => outer_stack(&work_tree, base),
        _ => Vec::new(),
    };
    let ctx = Arc::new(Ctx {
        rules,
        states: Default::default(),
        work_tree,
        ignored: Default::default(),
    });
    ctx.enter(
        base,
        &DirState {
            stack: Arc::new(outer),
            ignored: false,
        },
        false,
    );
    // The path a report shows for an absolute path under `base`: as the user named it.
    let shown = |abs: &Path| -> PathBuf {
        match abs.strip_prefix(base) {
            Ok(sub) if sub.as_os_str().is_empty() => p.to_path_buf(),
            Ok(sub) => p.join(sub),
            Err(_) => abs.to_path_buf(),
        }
    };
    let mut visited: HashSet<PathBuf> = HashSet::new();
    visited.insert(base.to_path_buf());
    let mut files: Vec<(PathBuf, u64)> = Vec::new();
    let mut errors: Vec<(PathBuf, String)> = Vec::new();
    let first = run_walker(base, &ctx, true);
    visited.extend(first.dirs);
    files.extend(first.files);
    errors.extend(first.errors);
    let mut links = first.links;
    let saw_link = !links.is_empty();
    // Links, one by one in sorted order (the same tree gives the same result), round after
    // round for links found behind links.
    while !links.is_empty() {
        links.sort();
        let mut next = Vec::new();
        for link in std::mem::take(&mut links) {
            let meta = match std::fs::metadata(&link) {
                Ok(m) => m,
                // A dangling link: nothing to read.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    errors.push((link, format!("cannot read: {e}")));
                    continue;
                }
            };
            // Links out of the walked directory are not followed.
            let Ok(target) = link.canonicalize() else {
                continue;
            };
            if !target.starts_with(base) {
                continue;
            }
            if meta.is_file() {
                files.push((link, meta.len()));
                continue;
            }
            if !meta.is_dir() {
                continue;
            }
            let real_parent = link.parent().and_then(|d| d.canonicalize().ok());
            if real_parent.is_some_and(|d| d.starts_with(&target)) {
                errors.push((
                    link,
                    "symbolic link loop: it points to a directory that contains it (not followed)"
                        .into(),
                ));
                continue;
            }
            if !visited.insert(target.clone()) {
                // Already walked under another name.
                continue;
            }
            let Some(parent) = link.parent().and_then(|d| ctx.state(d)) else {
                continue;
            };
            ctx.enter(&link, &parent, false);
            let more = run_walker(&link, &ctx, false);
            for d in more.dirs {
                if let Ok(sub) = d.strip_prefix(&link) {
                    visited.insert(target.join(sub));
                }
            }
            files.extend(more.files);
            errors.extend(more.errors);
            next.extend(more.links);
        }
        links = next;
    }
    w.candidates.extend(files.into_iter().map(|(abs, size)| {
        let path = shown(&abs);
        Candidate {
            rel: rel_path(root, &path),
            path,
            explicit: false,
            size,
        }
    }));
    w.errors.extend(
        errors
            .into_iter()
            .map(|(abs, msg)| (rel_path(root, &shown(&abs)), msg)),
    );
    let ignored = std::mem::take(&mut *ctx.ignored.lock().unwrap_or_else(|p| p.into_inner()));
    w.ignored.extend(
        ignored
            .into_iter()
            .map(|(abs, is_dir)| (rel_path(root, &shown(&abs)), is_dir)),
    );
    saw_link
}

/// Keep one candidate per real file: the one whose own path is not behind a link when there is
/// one, else the first by relative path. Only run when the walk met a symbolic link.
fn dedup_links(out: &mut Vec<Candidate>) {
    // real path -> (index kept, whether that candidate's own path has no link in it)
    let mut by_real: HashMap<PathBuf, (usize, bool)> = Default::default();
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
