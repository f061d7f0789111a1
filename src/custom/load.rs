//! Loading custom rule files (YAML, parsed by saphyr through `source::yaml` for line numbers).
//! Every mistake is one line naming the file, the line, the field and what was expected.

use super::view::{DocKind, MODEL_VERSION};
use super::{Assertions, CustomRule, Piece};
use crate::diag::Severity;
use crate::source::tree::{Node, Value};
use crate::source::yaml;
use regex::Regex;
use serde_json_path::JsonPath;
use std::fmt;
use std::path::{Path, PathBuf};

/// A rule file that cannot be loaded: `FILE:LINE: field `F`: what was expected`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    /// 1-based; 0 when the error concerns the whole file or directory.
    pub line: u32,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        match &self.field {
            Some(field) => write!(f, ": field `{field}`: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for LoadError {}

const FIELDS: &[&str] = &[
    "id",
    "severity",
    "summary",
    "message",
    "help",
    "applies-to",
    "select",
    "path",
    "must-exist",
    "must-not-exist",
    "matches",
    "not-matches",
    "one-of",
    "glob",
    "less-than",
    "greater-than",
    "model-version",
];

/// The placeholders a message or help text may use (besides `{$…}` JSONPaths).
pub const PLACEHOLDERS: &[&str] = &["value", "path", "file", "owner", "kind", "rule"];

/// How deep below the rules directory rule files are looked for.
pub const MAX_DIR_DEPTH: usize = 32;

/// Files a rules directory contributes: `*.yml`/`*.yaml` at any depth up to
/// [`MAX_DIR_DEPTH`] (hidden entries skipped), in path order. The directory may come from the
/// scanned repository: every real directory and file is visited once (links to `.` or to a
/// parent cannot loop), and a symbolic link is followed only when it stays inside the rules
/// directory (one leading out is an error, never read).
pub fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let err = |m: String| LoadError {
        file: dir.display().to_string(),
        line: 0,
        field: None,
        message: m,
    };
    if !dir.is_dir() {
        return Err(err(if dir.exists() {
            "the rules directory is not a directory".into()
        } else {
            "the rules directory does not exist".into()
        }));
    }
    let root = std::fs::canonicalize(dir)
        .map_err(|e| err(format!("cannot read {}: {e}", dir.display())))?;
    let mut seen = std::collections::HashSet::from([root.clone()]);
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        // In name order, so which path of a file reached twice is kept does not depend on
        // the file system's order.
        let mut entries = std::fs::read_dir(&d)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| err(format!("cannot read {}: {e}", d.display())))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries.into_iter().rev() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let p = e.path();
            let ft = e
                .file_type()
                .map_err(|e| err(format!("cannot read {}: {e}", p.display())))?;
            let rule_name = name.ends_with(".yml") || name.ends_with(".yaml");
            // What the entry really is, links resolved, and whether it lies inside the root.
            let real = if ft.is_symlink() {
                let Ok(real) = std::fs::canonicalize(&p) else {
                    if rule_name {
                        return Err(err(format!("{}: broken symbolic link", p.display())));
                    }
                    continue;
                };
                if !real.starts_with(&root) {
                    return Err(err(format!(
                        "{}: symbolic link leads out of the rules directory (to {}); not followed",
                        p.display(),
                        real.display()
                    )));
                }
                real
            } else if ft.is_dir() || rule_name {
                p.clone()
            } else {
                continue;
            };
            if real.is_dir() {
                if depth + 1 > MAX_DIR_DEPTH {
                    return Err(err(format!(
                        "{}: nested more than {MAX_DIR_DEPTH} directories deep",
                        p.display()
                    )));
                }
                let key = std::fs::canonicalize(&real).unwrap_or(real);
                if seen.insert(key) {
                    stack.push((p, depth + 1));
                }
            } else if rule_name && real.is_file() {
                let key = std::fs::canonicalize(&real).unwrap_or(real);
                if seen.insert(key) {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Load every rule under `dir` (no clash check against other directories or built-ins; see
/// [`super::install`]).
pub fn load_dir(dir: &Path) -> Result<Vec<CustomRule>, LoadError> {
    let mut rules = Vec::new();
    for f in rule_files(dir)? {
        rules.extend(load_file(&f)?);
    }
    Ok(rules)
}

pub fn load_file(path: &Path) -> Result<Vec<CustomRule>, LoadError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: name.clone(),
        line: 0,
        field: None,
        message: format!("cannot read rule file: {e}"),
    })?;
    load_str(&name, &text)
}

/// Parse rule text (one rule per YAML document). `name` is used in errors.
pub fn load_str(name: &str, text: &str) -> Result<Vec<CustomRule>, LoadError> {
    let cx = Cx { name, text };
    let docs = yaml::parse(text).map_err(|e| LoadError {
        file: name.into(),
        line: cx.line(e.offset as u32),
        field: None,
        message: format!("invalid YAML: {}", one_line(&e.message)),
    })?;
    if docs.is_empty() {
        return Err(cx.err(
            0,
            None,
            "expected a rule (a mapping with `id`, `select`, …), found an empty file",
        ));
    }
    docs.iter().map(|d| cx.rule(d)).collect()
}

fn one_line(s: &str) -> String {
    // regex errors end in "error: WHAT" after a caret diagram; keep that line
    if let Some(l) = s.lines().rev().find(|l| l.starts_with("error: ")) {
        return l.trim_start_matches("error: ").trim().to_string();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text around character `pos` of `s` (all of it when short).
fn excerpt(s: &str, pos: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 40 {
        return s.to_string();
    }
    let from = pos.saturating_sub(20).min(chars.len());
    let to = (pos + 20).min(chars.len());
    format!(
        "{}{}{}",
        if from > 0 { "…" } else { "" },
        chars[from..to].iter().collect::<String>(),
        if to < chars.len() { "…" } else { "" }
    )
}

struct Cx<'a> {
    name: &'a str,
    text: &'a str,
}

fn describe(n: &Node) -> &'static str {
    match &n.value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Num(_) => "a number",
        Value::Str(_) => "a string",
        Value::Seq(_) => "a list",
        Value::Map(_) => "a mapping",
        Value::Tagged(..) => "a tagged value",
    }
}

impl Cx<'_> {
    fn line(&self, offset: u32) -> u32 {
        let o = (offset as usize).min(self.text.len());
        let mut o = o;
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        // lines end at `\n`, `\r\n` or a lone `\r`, as everywhere else
        crate::source::lines::Lines::new(self.text)
            .line_cols(o as u32)
            .line
            + 1
    }
    fn err(&self, offset: u32, field: Option<&str>, msg: impl Into<String>) -> LoadError {
        LoadError {
            file: self.name.into(),
            line: if offset == 0 && self.text.is_empty() {
                0
            } else {
                self.line(offset)
            },
            field: field.map(str::to_string),
            message: msg.into(),
        }
    }
    fn at(&self, n: &Node, field: &str, msg: impl Into<String>) -> LoadError {
        self.err(n.span.start, Some(field), msg)
    }
    fn string(&self, n: &Node, field: &str) -> Result<String, LoadError> {
        match &n.value {
            Value::Str(t) => Ok(t.display()),
            _ => Err(self.at(
                n,
                field,
                format!("expected a string, found {}", describe(n)),
            )),
        }
    }
    fn bool(&self, n: &Node, field: &str) -> Result<bool, LoadError> {
        match &n.value {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.at(
                n,
                field,
                format!("expected true or false, found {}", describe(n)),
            )),
        }
    }
    fn number(&self, n: &Node, field: &str) -> Result<f64, LoadError> {
        match &n.value {
            // `1e999` parses as infinity, `nan` as NaN: neither bounds anything.
            Value::Num(s) => s
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| self.at(n, field, format!("expected a finite number, found `{s}`"))),
            _ => Err(self.at(
                n,
                field,
                format!("expected a number, found {}", describe(n)),
            )),
        }
    }
    /// A string or a list of strings (not empty).
    fn strings<'n>(&self, n: &'n Node, field: &str) -> Result<Vec<(String, &'n Node)>, LoadError> {
        let items: Vec<&Node> = match &n.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![n],
        };
        if items.is_empty() {
            return Err(self.at(
                n,
                field,
                "expected a string or a non-empty list of strings, found an empty list",
            ));
        }
        items
            .into_iter()
            .map(|i| match &i.value {
                Value::Str(t) => Ok((t.display(), i)),
                _ => Err(self.at(
                    i,
                    field,
                    format!(
                        "expected a string or a list of strings, found {}",
                        describe(i)
                    ),
                )),
            })
            .collect()
    }
    fn jsonpath(&self, n: &Node, field: &str) -> Result<JsonPath, LoadError> {
        let s = self.string(n, field)?;
        check_nesting(&s).map_err(|m| self.at(n, field, m))?;
        if !s.trim_start().starts_with('$') {
            return Err(self.at(
                n,
                field,
                format!("expected an RFC 9535 JSONPath starting with `$`, such as `$.statements[*]`; found `{}`", excerpt(&s, 0)),
            ));
        }
        JsonPath::parse(&s).map_err(|e| {
            self.at(
                n,
                field,
                format!(
                    "expected an RFC 9535 JSONPath such as `$.statements[*]`; invalid at character {} (`{}`): {}",
                    e.position() + 1,
                    excerpt(&s, e.position()),
                    one_line(e.message())
                ),
            )
        })
    }
    fn regex(&self, n: &Node, field: &str) -> Result<Regex, LoadError> {
        let s = self.string(n, field)?;
        Regex::new(&s).map_err(|e| {
            self.at(
                n,
                field,
                format!(
                    "expected a regular expression; `{s}` is invalid: {}",
                    one_line(&e.to_string())
                ),
            )
        })
    }
    fn template(&self, n: &Node, field: &str) -> Result<Vec<Piece>, LoadError> {
        let s = self.string(n, field)?;
        parse_template(&s).map_err(|m| self.at(n, field, m))
    }

    fn rule(&self, doc: &Node) -> Result<CustomRule, LoadError> {
        let Value::Map(entries) = &doc.value else {
            return Err(self.err(
                doc.span.start,
                None,
                format!(
                    "expected a rule (a mapping with `id`, `select`, …), found {}",
                    describe(doc)
                ),
            ));
        };
        // (duplicate keys are rejected by the YAML parser)
        for e in entries {
            if !FIELDS.contains(&e.key.as_str()) {
                return Err(self.err(
                    e.key_span.start,
                    Some(&e.key),
                    format!("unknown field; expected one of {}", FIELDS.join(", ")),
                ));
            }
        }
        let get = |k: &str| doc.get(k);
        let require = |k: &str, what: &str| {
            get(k).ok_or_else(|| {
                self.err(doc.span.start, Some(k), format!("missing; expected {what}"))
            })
        };

        if let Some(v) = get("model-version") {
            let n = self.number(v, "model-version")?;
            if n != MODEL_VERSION as f64 {
                return Err(self.at(
                    v,
                    "model-version",
                    format!("expected {MODEL_VERSION} (the model view this oidc-lint provides)"),
                ));
            }
        }

        let idn = require("id", "a rule id such as `acme/pin-main-branch`")?;
        let id = self.string(idn, "id")?;
        if !valid_id(&id) {
            return Err(self.at(
                idn,
                "id",
                format!(
                    "expected NAMESPACE/NAME (letters, digits, `-`, `_`, `.`), such as `acme/pin-main-branch`; found `{id}`"
                ),
            ));
        }

        let sevn = require("severity", "one of error, warning, note")?;
        let sev = self.string(sevn, "severity")?;
        let severity = Severity::parse(&sev).ok_or_else(|| {
            self.at(
                sevn,
                "severity",
                format!("expected one of error, warning, note; found `{sev}`"),
            )
        })?;

        let message = self.template(require("message", "the finding's message")?, "message")?;
        let help = match get("help") {
            Some(h) => self.template(h, "help")?,
            None => vec![],
        };
        let summary = match get("summary") {
            Some(s) => self.string(s, "summary")?,
            None => self.string(require("message", "")?, "message")?,
        };

        let mut applies_to = Vec::new();
        if let Some(a) = get("applies-to") {
            for (s, n) in self.strings(a, "applies-to")? {
                let k = DocKind::parse(&s).ok_or_else(|| {
                    self.at(
                        n,
                        "applies-to",
                        format!(
                            "expected document kinds among {}; found `{s}`",
                            DocKind::SELECTABLE.map(|k| k.name()).join(", ")
                        ),
                    )
                })?;
                if !applies_to.contains(&k) {
                    applies_to.push(k);
                }
            }
        }

        let select = self.jsonpath(
            require("select", "a JSONPath such as `$.statements[*]`")?,
            "select",
        )?;
        let path = match get("path") {
            Some(p) => Some(self.jsonpath(p, "path")?),
            None => None,
        };

        let flag = |k: &str| -> Result<bool, LoadError> {
            match get(k) {
                Some(n) => self.bool(n, k),
                None => Ok(false),
            }
        };
        let mut a = Assertions {
            must_exist: flag("must-exist")?,
            must_not_exist: flag("must-not-exist")?,
            ..Default::default()
        };
        if let Some(n) = get("matches") {
            a.matches = Some(self.regex(n, "matches")?);
        }
        if let Some(n) = get("not-matches") {
            a.not_matches = Some(self.regex(n, "not-matches")?);
        }
        if let Some(n) = get("one-of") {
            let Value::Seq(items) = &n.value else {
                return Err(self.at(
                    n,
                    "one-of",
                    format!("expected a list of values, found {}", describe(n)),
                ));
            };
            if items.is_empty() {
                return Err(self.at(n, "one-of", "expected a non-empty list of values"));
            }
            let mut vals = Vec::new();
            for i in items {
                match i.scalar_text() {
                    Some(t) => vals.push(t),
                    None => {
                        return Err(self.at(
                            i,
                            "one-of",
                            format!(
                                "expected strings, numbers or booleans, found {}",
                                describe(i)
                            ),
                        ));
                    }
                }
            }
            a.one_of = Some(vals);
        }
        if let Some(n) = get("glob") {
            a.glob = Some(
                self.strings(n, "glob")?
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
            );
        }
        if let Some(n) = get("less-than") {
            a.less_than = Some(self.number(n, "less-than")?);
        }
        if let Some(n) = get("greater-than") {
            a.greater_than = Some(self.number(n, "greater-than")?);
        }

        let value_assertions = a.has_value_assertions();
        if !a.must_exist && !a.must_not_exist && !value_assertions {
            return Err(self.err(
                doc.span.start,
                None,
                "no assertion; expected at least one of must-exist, must-not-exist, matches, not-matches, one-of, glob, less-than, greater-than",
            ));
        }
        if a.must_not_exist {
            let other = if a.must_exist {
                Some("must-exist")
            } else if value_assertions {
                Some("value assertions (matches, one-of, …)")
            } else {
                None
            };
            if let Some(other) = other {
                return Err(self.at(
                    get("must-not-exist").unwrap_or(doc),
                    "must-not-exist",
                    format!("cannot be combined with {other}; expected it alone"),
                ));
            }
        }

        Ok(CustomRule {
            id,
            severity,
            summary,
            message,
            help,
            applies_to,
            select,
            path,
            assertions: a,
            source: self.name.to_string(),
            id_line: self.line(idn.span.start),
        })
    }
}

/// Deepest bracket nesting accepted in a JSONPath (`select`, `path`, `{$…}` placeholders).
/// The JSONPath parser recurses on nesting, so deeper expressions are refused before parsing
/// (a rule file may come from the scanned repository); real selections nest a few levels.
pub const MAX_EXPR_DEPTH: usize = 64;

/// Refuse a JSONPath nested deeper than [`MAX_EXPR_DEPTH`] brackets (`(`, `[`, `{`), counted
/// outside quoted string literals.
fn check_nesting(s: &str) -> Result<(), String> {
    let (mut depth, mut quote, mut escaped) = (0usize, None::<char>, false);
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_EXPR_DEPTH {
                    return Err(format!(
                        "expression nested deeper than {MAX_EXPR_DEPTH} brackets (at character {})",
                        s[..i].chars().count() + 1
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// `NAMESPACE/NAME[/…]`: built-in ids never contain `/`, so custom ids cannot shadow them.
pub fn valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

/// Split a message into literal text and `{placeholder}`s; `{{` and `}}` are literal braces.
pub fn parse_template(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                lit.push('}');
            }
            '}' => return Err("unmatched `}` (write `}}` for a literal brace)".into()),
            '{' => {
                let rest = &s[i + 1..];
                let Some(end) = rest.find('}') else {
                    return Err("unclosed `{` (write `{{` for a literal brace)".into());
                };
                let name = rest[..end].trim();
                for _ in 0..rest[..=end].chars().count() {
                    chars.next();
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                if name.starts_with('$') {
                    check_nesting(name)?;
                    let p = JsonPath::parse(name).map_err(|e| {
                        format!(
                            "placeholder `{{{name}}}` is not a valid JSONPath: {}",
                            one_line(e.message())
                        )
                    })?;
                    out.push(Piece::Query(p));
                } else if PLACEHOLDERS.contains(&name) {
                    out.push(Piece::Var(name.to_string()));
                } else {
                    return Err(format!(
                        "unknown placeholder `{{{name}}}`; expected one of {} or a JSONPath `{{$.…}}` relative to the selected node",
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_need_a_namespace() {
        assert!(valid_id("acme/pin-main"));
        assert!(valid_id("org-sec/iam/no_admin.v2"));
        for bad in ["pin-main", "/x", "acme/", "acme//x", "acme/a b", "acme/ü"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn templates() {
        let t = parse_template("{{literal}} {value} at {$.id}!").unwrap();
        assert!(matches!(&t[0], Piece::Lit(s) if s == "{literal} "));
        assert!(matches!(&t[1], Piece::Var(v) if v == "value"));
        assert!(matches!(&t[3], Piece::Query(_)));
        assert!(matches!(&t[4], Piece::Lit(s) if s == "!"));
        assert!(parse_template("a } b").is_err());
        assert!(parse_template("{$.[}").is_err());
    }

    #[test]
    fn one_rule_per_document() {
        let text = "id: a/b\nseverity: note\nmessage: m\nselect: $.x\nmust-exist: true\n---\nid: a/c\nseverity: error\nmessage: m\nselect: $.y\nmust-not-exist: true\n";
        let rules = load_str("r.yml", text).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!((rules[1].id.as_str(), rules[1].id_line), ("a/c", 7));
    }
}
