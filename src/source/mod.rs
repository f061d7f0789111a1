//! Source files, spans and the format-neutral spanned tree every front end produces.

pub mod discover;
pub mod embedded;
pub mod gitindex;
pub mod hcl;
mod hcl_brackets;
pub mod json;
pub mod lines;
pub mod read;
pub mod sanitize;
pub mod tree;
pub mod yaml;

/// Why a file could not be parsed, and where: the one parse-error type of every parser and
/// front end (the message names the syntax).
#[derive(Debug, Clone)]
pub struct ParseFailure {
    pub offset: usize,
    pub message: String,
}

use std::ops::Range;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// Index of a file in the scan (position in `Scan::files`).
pub type FileId = usize;

/// Which input format a file was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `.github/workflows/*.yml`
    Workflow,
    /// `action.yml` (composite or other action metadata)
    Action,
    /// A bare IAM policy document (`*.json` with `Statement`).
    IamJson,
    /// `terraform show -json` output (a plan or a state).
    TerraformPlan,
    /// A CloudFormation template (YAML or JSON, SAM and CDK output included).
    CloudFormation,
    /// Output of `aws iam get-account-authorization-details`, `get-role`, `list-roles` or
    /// `get-open-id-connect-provider`.
    AwsExport,
    /// Terraform configuration (`*.tf`).
    Terraform,
    /// GitLab CI configuration: `.gitlab-ci.yml`, and the files it includes.
    GitlabCi,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Workflow => "workflow",
            Format::Action => "action",
            Format::IamJson => "iam-json",
            Format::TerraformPlan => "terraform-plan",
            Format::CloudFormation => "cloudformation",
            Format::AwsExport => "aws-export",
            Format::Terraform => "terraform",
            Format::GitlabCi => "gitlab-ci",
        }
    }
}

/// One file read from disk.
pub struct SourceFile {
    /// Path as given/found on disk.
    pub path: std::path::PathBuf,
    /// Path relative to the scan root, `/`-separated: used in every report.
    pub rel: String,
    pub text: String,
    pub format: Format,
    lines: lines::Lines,
    /// Whether the text holds a CRLF (worked out once: fixes ask per finding).
    crlf: bool,
    /// Whether the file starts with a UTF-8 byte order mark, which `text` holds as three
    /// spaces (byte offsets stay the file's); not a column (editors and GitHub do not count it).
    bom: bool,
}

/// A 1-based position for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    /// 1-based column counted in Unicode scalar values.
    pub column: u32,
}

impl SourceFile {
    pub fn new(path: std::path::PathBuf, rel: String, text: String, format: Format) -> Self {
        let lines = lines::Lines::new(&text);
        SourceFile {
            lines,
            crlf: text.contains("\r\n"),
            bom: false,
            path,
            rel,
            text,
            format,
        }
    }

    /// The file started with a UTF-8 byte order mark, which `text` holds as its first three
    /// bytes (three spaces).
    pub fn with_bom(mut self, bom: bool) -> Self {
        self.bom = bom && self.text.starts_with("   ");
        self
    }

    /// Whether the file started with a UTF-8 byte order mark ([`SourceFile::with_bom`]).
    pub fn bom(&self) -> bool {
        self.bom
    }

    /// A column counted from the line start, without the byte order mark's three stand-in
    /// spaces on the first line.
    fn column(&self, line: u32, column: u32) -> u32 {
        if self.bom && line == 0 {
            column.saturating_sub(3)
        } else {
            column
        }
    }

    fn clamp(&self, offset: u32) -> u32 {
        let mut o = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o as u32
    }

    /// 1-based line and character column of a byte offset.
    pub fn pos(&self, offset: u32) -> Pos {
        let lc = self.lines.line_cols(self.clamp(offset));
        Pos {
            line: lc.line + 1,
            column: self.column(lc.line, lc.chars) + 1,
        }
    }

    /// 1-based line and UTF-16 column (SARIF `utf16CodeUnits`).
    pub fn pos_utf16(&self, offset: u32) -> Pos {
        let lc = self.lines.line_cols(self.clamp(offset));
        Pos {
            line: lc.line + 1,
            column: self.column(lc.line, lc.utf16) + 1,
        }
    }

    /// Byte range of line `line` (1-based), without its terminator.
    pub fn line_range(&self, line: u32) -> Range<usize> {
        match self.lines.line(line.saturating_sub(1), self.text.len()) {
            Some(r) => {
                let s = r.start;
                let mut e = r.end;
                let bytes = self.text.as_bytes();
                while e > s && (bytes[e - 1] == b'\n' || bytes[e - 1] == b'\r') {
                    e -= 1;
                }
                s..e
            }
            None => self.text.len()..self.text.len(),
        }
    }

    pub fn slice(&self, span: Span) -> &str {
        let s = self.clamp(span.start) as usize;
        let e = self.clamp(span.end.max(span.start)) as usize;
        &self.text[s..e]
    }

    /// Whether the file uses CRLF line endings.
    pub fn crlf(&self) -> bool {
        self.crlf
    }

    /// Byte offset of the start of the line holding `offset` (O(log n), whatever the line's
    /// length).
    pub fn line_start(&self, offset: usize) -> usize {
        self.line_range(self.pos(offset.min(u32::MAX as usize) as u32).line)
            .start
    }

    /// Byte offset of the end of the line holding `offset`, before its terminator (`\n` or
    /// `\r\n`).
    pub fn line_end(&self, offset: usize) -> usize {
        self.line_range(self.pos(offset.min(u32::MAX as usize) as u32).line)
            .end
    }
}

/// A file the tool should have analysed but could not (reported under `errors`, exit 2).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileError {
    pub path: String,
    pub line: u32,
    /// 1-based, in characters (0: no position).
    pub column: u32,
    pub message: String,
    /// The same column in UTF-16 code units, for SARIF.
    pub column_utf16: u32,
}
