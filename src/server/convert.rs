//! Between the engine's byte offsets and file paths and the protocol's positions and URIs.

use crate::diag::{Finding, Severity};
use crate::model::Scan;
use crate::source::{FileError, SourceFile};
use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, Uri,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How `character` counts (the negotiated `positionEncoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

/// Bytes kept as they are in a `file:` URI path.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn uri_for(path: &Path) -> Option<Uri> {
    let s = path.to_string_lossy().replace('\\', "/");
    let s = if s.starts_with('/') {
        s
    } else {
        format!("/{s}")
    };
    Uri::from_str(&format!("file://{}", utf8_percent_encode(&s, PATH))).ok()
}

pub fn path_for(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let decoded = percent_decode_str(rest).decode_utf8().ok()?;
    // `file:///C:/x` on Windows.
    #[cfg(windows)]
    let decoded = decoded.trim_start_matches('/').to_string();
    Some(PathBuf::from(decoded.as_ref() as &str))
}

/// The position of byte `offset` of `text` (clamped to a character boundary).
#[cfg(test)]
pub fn position(text: &str, offset: usize, enc: Encoding) -> Position {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    let before = &text[..o];
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = before.bytes().filter(|&b| b == b'\n').count();
    let seg = &text[line_start..o];
    let character = match enc {
        Encoding::Utf8 => seg.len(),
        Encoding::Utf16 => seg.encode_utf16().count(),
        Encoding::Utf32 => seg.chars().count(),
    };
    Position::new(line as u32, character as u32)
}

/// [`position`] for a file the scan holds, with its line index (O(log n) for the line).
pub fn file_position(src: &SourceFile, offset: usize, enc: Encoding) -> Position {
    let ls = src.line_start(offset.min(src.text.len()));
    let line = src
        .pos(offset.min(u32::MAX as usize) as u32)
        .line
        .saturating_sub(1);
    let mut o = offset.min(src.text.len());
    while !src.text.is_char_boundary(o) {
        o -= 1;
    }
    let seg = &src.text[ls.min(o)..o];
    let character = match enc {
        Encoding::Utf8 => seg.len(),
        Encoding::Utf16 => seg.encode_utf16().count(),
        Encoding::Utf32 => seg.chars().count(),
    };
    Position::new(line, character as u32)
}

pub fn file_range(src: &SourceFile, span: crate::source::Span, enc: Encoding) -> Range {
    Range::new(
        file_position(src, span.start as usize, enc),
        file_position(src, span.end.max(span.start) as usize, enc),
    )
}

/// The byte offset of `pos` in `text` (clamped to the line's end and the text's end).
pub fn offset(text: &str, pos: Position, enc: Encoding) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    let mut units = 0usize;
    for (i, ch) in text[start..end].char_indices() {
        if units >= pos.character as usize {
            return start + i;
        }
        units += match enc {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
            Encoding::Utf32 => 1,
        };
    }
    end
}

/// The page of a built-in rule (custom rules have none), as SARIF's `helpUri` gives it.
pub fn doc_href(rule: &str) -> Option<Uri> {
    // The built-in rules' metadata, listed once per process (not once per diagnostic).
    static BUILTIN: std::sync::OnceLock<Vec<&'static crate::rules::RuleMeta>> =
        std::sync::OnceLock::new();
    let meta = BUILTIN
        .get_or_init(|| crate::engine::reportable(&crate::rules::RuleSet::builtin()))
        .iter()
        .find(|m| m.id == rule)?;
    Uri::from_str(&crate::rules::doc_url(meta)?).ok()
}

pub fn diagnostic(scan: &Scan, f: &Finding, enc: Encoding) -> Diagnostic {
    let src = scan.file(f.file);
    let related: Vec<DiagnosticRelatedInformation> = f
        .related
        .iter()
        .filter_map(|l| {
            let other = scan.file(l.file);
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri_for(&other.path)?, file_range(other, l.span, enc)),
                message: l.message.clone(),
            })
        })
        .collect();
    let mut message = f.message.clone();
    if !f.help.is_empty() {
        message.push_str("\nhelp: ");
        message.push_str(&f.help);
    }
    Diagnostic {
        range: file_range(src, f.span, enc),
        severity: Some(match f.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(f.rule.to_string())),
        code_description: doc_href(f.rule).map(|href| CodeDescription { href }),
        source: Some("oidc-lint".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// An input error (a file that could not be read or parsed) at its line and column; `text`
/// is the file's text when the server holds it (for UTF-8 columns).
pub fn error_diagnostic(e: &FileError, text: Option<&str>, enc: Encoding) -> Diagnostic {
    let line = e.line.saturating_sub(1);
    let character = match enc {
        Encoding::Utf16 => e.column_utf16.saturating_sub(1),
        Encoding::Utf32 => e.column.saturating_sub(1),
        Encoding::Utf8 => text
            .and_then(|t| t.split('\n').nth(line as usize))
            .map(|l| {
                l.chars()
                    .take(e.column.saturating_sub(1) as usize)
                    .map(char::len_utf8)
                    .sum::<usize>() as u32
            })
            .unwrap_or(e.column.saturating_sub(1)),
    };
    let p = Position::new(line, character);
    Diagnostic {
        range: Range::new(p, p),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("oidc-lint".into()),
        message: e.message.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_in_every_encoding() {
        let text = "a: é\n😀x: 1\r\nlast";
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            for (o, _) in text.char_indices() {
                let p = position(text, o, enc);
                assert_eq!(offset(text, p, enc), o, "{enc:?} at {o}");
            }
        }
        assert_eq!(position(text, 10, Encoding::Utf16), Position::new(1, 2));
        assert_eq!(position(text, 10, Encoding::Utf8), Position::new(1, 4));
        assert_eq!(position(text, 10, Encoding::Utf32), Position::new(1, 1));
        let src = SourceFile::new(
            "x.yml".into(),
            "x.yml".into(),
            text.into(),
            crate::source::Format::Workflow,
        );
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            for (o, _) in text.char_indices() {
                assert_eq!(file_position(&src, o, enc), position(text, o, enc));
            }
        }
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/ü#x%.yml");
        let u = uri_for(p).unwrap();
        assert_eq!(u.as_str(), "file:///tmp/a%20b/%C3%BC%23x%25.yml");
        assert_eq!(path_for(&u).unwrap(), p);
    }
}
