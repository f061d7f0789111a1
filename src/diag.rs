//! Findings, their labels and their fixes.

use crate::source::{FileId, Span};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" => Some(Severity::Note),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A replacement of one byte range of one file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub file: FileId,
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub description: String,
    /// Safe fixes keep the configuration's intent and are applied by `--fix`; unsafe ones only
    /// with `--unsafe-fixes`.
    pub safe: bool,
    pub edits: Vec<Edit>,
}

/// A secondary location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: FileId,
    pub span: Span,
    /// Text under the primary caret.
    pub label: String,
    pub related: Vec<Label>,
    pub help: String,
    pub fix: Option<Fix>,
    /// The source shown with this finding holds a credential: reporters that print source
    /// text mask the primary span and anything that looks like a secret key.
    pub redact: bool,
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, file: FileId, span: Span) -> Self {
        Finding {
            rule,
            severity,
            message: String::new(),
            file,
            span,
            label: String::new(),
            related: vec![],
            help: String::new(),
            fix: None,
            redact: false,
        }
    }
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }
    pub fn label(mut self, m: impl Into<String>) -> Self {
        self.label = m.into();
        self
    }
    pub fn help(mut self, m: impl Into<String>) -> Self {
        self.help = m.into();
        self
    }
    pub fn related(mut self, file: FileId, span: Span, m: impl Into<String>) -> Self {
        self.related.push(Label {
            file,
            span,
            message: m.into(),
        });
        self
    }
    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }
    pub fn fix(mut self, f: Option<Fix>) -> Self {
        self.fix = f;
        self
    }
}

/// Sort findings the way every output shows them: path, line, column, rule, then message.
pub fn order(scan: &crate::model::Scan, findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let fa = scan.file(a.file);
        let fb = scan.file(b.file);
        (
            fa.rel.as_str(),
            a.span.start,
            a.rule,
            a.span.end,
            &a.message,
        )
            .cmp(&(
                fb.rel.as_str(),
                b.span.start,
                b.rule,
                b.span.end,
                &b.message,
            ))
    });
}
