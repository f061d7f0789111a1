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
}

pub struct Scan {
    pub root: PathBuf,
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
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i, f)))
    }
    /// Number of files analysed (recognised as an input, parsed or not).
    pub fn files_scanned(&self) -> usize {
        self.scanned
    }
}
