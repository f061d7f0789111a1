//! The scan: discover files, read, classify, parse and extract each one (in parallel), then
//! hold the project-wide model every rule runs on.

use crate::model::{self, FileModel};
use crate::source::discover::{Candidate, discover};
use crate::source::{FileError, FileId, Format, SourceFile, json, yaml};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub struct ScanOptions {
    pub root: PathBuf,
    pub paths: Vec<PathBuf>,
    pub max_file_size: u64,
    pub settings: Settings,
}

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
    /// The model view custom rules select from, built on first use.
    pub custom_views: std::sync::OnceLock<Vec<crate::custom::view::Doc>>,
}

impl Scan {
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
    pub fn file_by_rel(&self, rel: &str) -> Option<FileId> {
        self.files().find(|(_, f)| f.rel == rel).map(|(i, _)| i)
    }
}

/// What the name of a file says it may be.
fn classify_by_name(rel: &str) -> Option<Format> {
    let lower = rel.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let name = *parts.last()?;
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if yaml
        && parts.len() >= 3
        && parts[parts.len() - 2] == "workflows"
        && parts[parts.len() - 3] == ".github"
    {
        return Some(Format::Workflow);
    }
    if name == "action.yml" || name == "action.yaml" {
        return Some(Format::Action);
    }
    if name.ends_with(".json") {
        return Some(Format::IamJson);
    }
    if name.ends_with(".tf") {
        return Some(Format::Terraform);
    }
    // Outside workflow directories, YAML and `.template` files may be CloudFormation
    // templates; their content decides.
    if yaml || name.ends_with(".template") {
        return Some(Format::CloudFormation);
    }
    None
}

#[allow(clippy::large_enum_variant)]
enum Outcome {
    Skip,
    File(SourceFile, FileModel),
    Error(FileError),
}

fn error(rel: &str, line: u32, column: u32, message: impl Into<String>) -> Outcome {
    Outcome::Error(FileError {
        path: rel.to_string(),
        line,
        column,
        message: message.into(),
    })
}

/// Would this JSON text be analysed? (It mentions an IAM policy's `Statement`, or is a plan,
/// a CloudFormation template or an account export; `frontend::json_format` decides which.)
fn json_is_relevant(text: &str) -> bool {
    text.contains("\"Statement\"") || crate::frontend::json_format(text).is_some()
}

fn decode(bytes: Vec<u8>) -> Result<String, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("file is UTF-16 encoded; save it as UTF-8".into());
    }
    if bytes.contains(&0) {
        return Err("file contains NUL bytes (binary?)".into());
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            // A UTF-8 BOM becomes three spaces: byte offsets stay those of the file.
            if s.starts_with('\u{feff}') {
                s.replace_range(..3, "   ");
            }
            Ok(s)
        }
        Err(e) => Err(format!(
            "file is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )),
    }
}

fn process(id: FileId, c: &Candidate, max: u64) -> Outcome {
    let Some(format) = classify_by_name(&c.rel) else {
        return Outcome::Skip;
    };
    // Formats recognised by name are always errors when unreadable; formats recognised by
    // content (JSON) only when their text shows they would have been analysed.
    let by_content = matches!(format, Format::IamJson | Format::CloudFormation);
    let size = match std::fs::metadata(&c.path) {
        Ok(m) => m.len(),
        Err(e) => return error(&c.rel, 0, 0, format!("cannot read file: {e}")),
    };
    if size > max {
        if by_content {
            return Outcome::Skip;
        }
        return error(
            &c.rel,
            0,
            0,
            format!("file is {size} bytes, over the {max}-byte limit (see --max-file-size)"),
        );
    }
    let bytes = match std::fs::read(&c.path) {
        Ok(b) => b,
        Err(e) => return error(&c.rel, 0, 0, format!("cannot read file: {e}")),
    };
    let text = match decode(bytes) {
        Ok(t) => t,
        Err(msg) => {
            return if by_content {
                Outcome::Skip
            } else {
                error(&c.rel, 0, 0, msg)
            };
        }
    };
    if format == Format::IamJson && !json_is_relevant(&text) {
        return Outcome::Skip;
    }
    // Which JSON input (plan, template, export, policy) the text is; YAML templates by content.
    let format = match format {
        Format::IamJson => match crate::frontend::json_format(&text) {
            Some(f) => f,
            None => return Outcome::Skip,
        },
        Format::CloudFormation if !text.trim_start().starts_with('{') => {
            if !crate::frontend::maybe_cloudformation(&text) {
                return Outcome::Skip;
            }
            format
        }
        f => f,
    };
    let src = SourceFile::new(c.path.clone(), c.rel.clone(), text, format);
    match extract(id, &src) {
        Ok(Some(m)) => Outcome::File(src, m),
        Ok(None) => Outcome::Skip,
        Err(e) => {
            let p = src.pos(e.offset as u32);
            error(&c.rel, p.line, p.column, e.message)
        }
    }
}

/// A file that could not be parsed: where, and why (the message names the syntax).
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// Parse one file and extract its model. `Ok(None)`: the file turned out not to be an input
/// (a JSON file without a top-level `Statement`).
fn extract(id: FileId, src: &SourceFile) -> Result<Option<FileModel>, ParseError> {
    let mut m = FileModel::default();
    match src.format {
        Format::IamJson => {
            let root = match json::parse_template(&src.text) {
                Ok(root) => root,
                // A Terraform/envsubst template that is only JSON once rendered.
                Err((_, true)) => return Ok(None),
                Err((e, false)) => {
                    return Err(ParseError {
                        offset: e.offset,
                        message: format!("invalid JSON: {}", e.message),
                    });
                }
            };
            if root.get("Statement").is_none() {
                return Ok(None);
            }
            let owner = src.rel.rsplit('/').next().unwrap_or(&src.rel).to_string();
            m.policies.push(model::policy_from_tree(
                id,
                &root,
                owner,
                None,
                model::Family::Json,
            ));
        }
        Format::Terraform => {
            let f = model::terraform::parse_file(src).map_err(|e| ParseError {
                offset: e.offset,
                message: format!("invalid HCL: {}", e.message),
            })?;
            m.terraform = Some(Box::new(f));
        }
        Format::TerraformPlan | Format::AwsExport => {
            let root = match json::parse_template(&src.text) {
                Ok(root) => root,
                Err((_, true)) => return Ok(None),
                Err((e, false)) => {
                    return Err(ParseError {
                        offset: e.offset,
                        message: format!("invalid JSON: {}", e.message),
                    });
                }
            };
            let got = if src.format == Format::TerraformPlan {
                crate::frontend::plan::extract(id, src, &root)
            } else {
                crate::frontend::export::extract(id, src, &root)
            };
            return Ok(got);
        }
        Format::CloudFormation => return crate::frontend::cfn::extract_file(id, src),
        Format::Workflow | Format::Action => {
            let docs = yaml::parse(&src.text).map_err(|e| ParseError {
                offset: e.offset,
                message: format!("invalid YAML: {}", e.message),
            })?;
            if let Some(root) = docs.first().filter(|d| d.is_map()) {
                m.workflows.push(if src.format == Format::Workflow {
                    model::workflow_from_tree(id, root)
                } else {
                    model::action_from_tree(id, root)
                });
            }
        }
    }
    Ok(Some(m))
}

pub fn scan(opts: &ScanOptions) -> Scan {
    let (candidates, walk_errors) = discover(&opts.root, &opts.paths);
    let outcomes: Vec<Outcome> = candidates
        .par_iter()
        .enumerate()
        .map(|(id, c)| process(id, c, opts.max_file_size))
        .collect();
    let scanned = outcomes
        .iter()
        .filter(|o| !matches!(o, Outcome::Skip))
        .count();
    let mut files = Vec::with_capacity(outcomes.len());
    let mut models = Vec::with_capacity(outcomes.len());
    let mut errors: Vec<FileError> = walk_errors
        .into_iter()
        .map(|(path, message)| FileError {
            path,
            line: 0,
            column: 0,
            message,
        })
        .collect();
    for o in outcomes {
        match o {
            Outcome::Skip => {
                files.push(None);
                models.push(FileModel::default());
            }
            Outcome::File(src, m) => {
                files.push(Some(src));
                models.push(m);
            }
            Outcome::Error(e) => {
                files.push(None);
                models.push(FileModel::default());
                errors.push(e);
            }
        }
    }
    model::terraform::link(&files, &mut models);
    errors.sort();
    Scan {
        root: opts.root.clone(),
        files,
        models,
        errors,
        settings: opts.settings.clone(),
        scanned,
        custom_views: Default::default(),
    }
}

/// The scan root for reporting: the directory given, the parent of a file given, or `.`.
pub fn root_for(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    }
}

pub fn relative_display(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}
