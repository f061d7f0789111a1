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

pub struct Scan {
    pub root: PathBuf,
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
            skipped: Skipped::default(),
            warnings: Vec::new(),
            files,
            models,
            errors,
            settings,
            scanned,
        }
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
