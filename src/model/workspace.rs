//! The workspace every rule runs on: each analysed file's text and model, the files that could
//! not be read or parsed, and the project settings. Built by [`crate::scan`].

use super::FileModel;
use crate::source::{FileError, FileId, SourceFile};
use std::path::PathBuf;

/// Project knowledge that does not come from the scanned files (CLI flags, configuration).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `OWNER/REPO` of the scanned repository, when known.
    pub repo: Option<String>,
    /// Owners whose repositories may appear in trust subjects (empty: not enforced).
    pub allowed_owners: Vec<String>,
    /// Secret/variable name → role ARN, for `role-to-assume: ${{ secrets.X }}`.
    pub role_mappings: std::collections::BTreeMap<String, String>,
    /// The repository's default branch (`--default-branch`, `default-branch`, the CI event).
    pub default_branch: Option<String>,
    /// Which `sub` form the repository's tokens carry (`subject-format`), when known.
    pub subject_format: Option<SubjectFormat>,
    /// The numeric owner and repository ids (from the CI event), for the immutable form.
    pub repo_ids: Option<(u64, u64)>,
    /// The customized OIDC subject template's claim keys (`oidc-subject-template`), when the
    /// owner uses one.
    pub subject_template: Option<Vec<String>>,
    /// CI issuers the configuration adds (`[[issuers]]`).
    pub custom_issuers: Vec<CustomIssuerSpec>,
}

/// A CI issuer described in the configuration (`[[issuers]]`): a self-managed GitLab,
/// Terraform Enterprise, Spacelift, ….
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomIssuerSpec {
    /// How messages name it (default: the host).
    pub name: Option<String>,
    /// The issuer URL without `https://` (`gitlab.example.com`).
    pub host: String,
    /// Whether many customers share the issuer (a wildcard organization admits strangers).
    pub shared: bool,
    /// The `sub` grammar as a segment template:
    /// `project_path:{group}/{project}:ref_type:{ref_type}:ref:{ref}` (first field: the
    /// organization or group; second: the project).
    pub subject: String,
    /// The audience its tokens carry for AWS, when fixed.
    pub audience: Option<String>,
}

/// The form of the `sub` claim a repository's tokens carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectFormat {
    /// `repo:OWNER/REPO:…` (repositories older than the immutable form that did not opt in).
    Name,
    /// `repo:OWNER@OWNER_ID/REPO@REPO_ID:…`.
    Id,
}

/// Candidates the summary reports as skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Paths left out by ignore rules (`.gitignore`, `.git/info/exclude`, `node_modules`,
    /// `.terraform`), untracked ones only in a git checkout: directories (counted once, not
    /// walked) and files whose name the scan considers.
    pub ignored: usize,
    /// Analysed files whose findings and errors the configuration's `exclude` drops.
    pub excluded: usize,
}

/// Where the scan root is, for showing paths relative to it (`SourceFile::rel`,
/// `FileError::path`) from where the user and their tools are.
#[derive(Clone, Debug, Default)]
pub struct Shown {
    /// The scan root as given, cleaned (`infra/`, `../x/`, empty for `.`): prefixing it makes a
    /// path that opens from the working directory.
    pub here: String,
    /// The scan root relative to the repository root (`infra/`; empty at the root), when it is
    /// inside one (the nearest directory holding `.git`, else the working directory).
    pub repo: Option<String>,
}

/// `a/./b/../c` as `a/c`, lexically; leading `..` are kept.
pub fn clean_path(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            ".." if absolute => {}
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

impl Shown {
    /// `rel` (relative to the scan root) as a path that opens from the working directory.
    pub fn here_path(&self, rel: &str) -> String {
        if self.here.is_empty() || rel.starts_with('/') {
            return rel.to_string();
        }
        clean_path(&format!("{}{rel}", self.here))
    }
    /// `rel` relative to the repository root; the working directory's form outside it.
    pub fn repo_path(&self, rel: &str) -> String {
        match &self.repo {
            Some(prefix) if !rel.starts_with('/') => {
                let p = clean_path(&format!("{prefix}{rel}"));
                if p == ".." || p.starts_with("../") {
                    self.here_path(rel)
                } else {
                    p
                }
            }
            _ => self.here_path(rel),
        }
    }
}

pub struct Scan {
    pub root: PathBuf,
    /// How paths relative to `root` are shown.
    pub shown: Shown,
    /// What ignore rules and `exclude` left out.
    pub skipped: Skipped,
    /// Things to tell the user that are not input errors (an unreadable git index).
    pub warnings: Vec<String>,
    /// Indexed by `FileId`; `None` for files that were not relevant.
    files: Vec<Option<SourceFile>>,
    /// Indexed by `FileId`.
    pub models: Vec<FileModel>,
    pub errors: Vec<FileError>,
    pub settings: Settings,
    scanned: usize,
}

impl Scan {
    /// A workspace from the scan's results: `files` and `models` indexed by `FileId`.
    pub fn new(
        root: PathBuf,
        files: Vec<Option<SourceFile>>,
        models: Vec<FileModel>,
        errors: Vec<FileError>,
        settings: Settings,
        scanned: usize,
    ) -> Scan {
        Scan {
            root,
            shown: Shown::default(),
            skipped: Skipped::default(),
            warnings: Vec::new(),
            files,
            models,
            errors,
            settings,
            scanned,
        }
    }
    /// `rel` (relative to the scan root) as people open it: from the working directory.
    pub fn here_path(&self, rel: &str) -> String {
        self.shown.here_path(rel)
    }
    /// `rel` (relative to the scan root) relative to the repository root, for machine formats
    /// (SARIF, `::error file=`, JSON), fingerprints and baselines.
    pub fn repo_path(&self, rel: &str) -> String {
        self.shown.repo_path(rel)
    }
    pub fn file(&self, id: FileId) -> &SourceFile {
        self.files[id]
            .as_ref()
            .expect("findings only point into analysed files")
    }
    /// The file `id`, when it was analysed.
    pub fn get_file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id)?.as_ref()
    }
    /// The policy document a role refers to.
    pub fn policy(&self, r: super::PolicyRef) -> Option<&super::PolicyDoc> {
        self.models.get(r.file)?.policies.get(r.index)
    }
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i, f)))
    }
    /// Replace file `id`'s text and model (`None`: no longer analysed); an id one past the
    /// last adds a file. For an incremental re-scan ([`crate::scan::rescan`]).
    pub fn set_file(&mut self, id: FileId, file: Option<SourceFile>, model: FileModel) {
        if id == self.files.len() {
            self.files.push(None);
            self.models.push(FileModel::default());
        }
        let was = self.files[id].is_some();
        self.scanned = self.scanned + usize::from(file.is_some()) - usize::from(was);
        self.files[id] = file;
        self.models[id] = model;
    }
    /// Number of file slots (every id below this is valid for [`Scan::set_file`]).
    pub fn slots(&self) -> usize {
        self.files.len()
    }
    /// Number of files analysed (recognised as an input, parsed or not).
    pub fn files_scanned(&self) -> usize {
        self.scanned
    }
    /// Number of paths that could not be analysed (each error names one).
    pub fn files_failed(&self) -> usize {
        let mut paths: Vec<&str> = self.errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        paths.len()
    }
}
