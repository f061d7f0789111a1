//! Custom rules: declarative YAML rules that select nodes of the model view with RFC 9535
//! JSONPath and assert on them. Once [`load`]ed into a [`crate::rules::RuleSet`] they are
//! ordinary rules: they take part in `--select`/`--ignore` and emit ordinary `Finding`s.
//!
//! Ids are `NAMESPACE/NAME` (`acme/pin-main-branch`); built-in ids never contain `/`, so the
//! two can never clash. A loaded rule's metadata (id, summary, page) is leaked to become
//! `&'static` like a built-in's: a few hundred bytes per rule per load.

pub mod dump;
pub mod load;
pub mod view;

pub use load::{LoadError, load_dir, load_file, load_str};

use crate::diag::{Finding, Severity};
use crate::model::Scan;
use crate::rules::Ctx;
use crate::rules::{Rule, RuleMeta};
use crate::source::{SourceFile, Span};
use regex::Regex;
use serde_json::Value;
use serde_json_path::{JsonPath, NormalizedPath};
use std::path::PathBuf;
use std::sync::Arc;
use view::{Doc, DocKind, Loc};

/// A piece of a message template.
#[derive(Clone, Debug)]
pub enum Piece {
    Lit(String),
    /// `{value}`, `{path}`, `{file}`, `{owner}`, `{kind}`, `{rule}`.
    Var(String),
    /// `{$.x}`: a JSONPath relative to the selected node; its first match's text.
    Query(JsonPath),
}

/// What must hold of the nodes a rule selects.
#[derive(Clone, Debug, Default)]
pub struct Assertions {
    pub must_exist: bool,
    pub must_not_exist: bool,
    pub matches: Option<Regex>,
    pub not_matches: Option<Regex>,
    pub one_of: Option<Vec<String>>,
    /// IAM `StringLike` patterns; the value must match at least one.
    pub glob: Option<Vec<String>>,
    pub less_than: Option<f64>,
    pub greater_than: Option<f64>,
}

impl Assertions {
    pub fn has_value_assertions(&self) -> bool {
        self.matches.is_some()
            || self.not_matches.is_some()
            || self.one_of.is_some()
            || self.glob.is_some()
            || self.less_than.is_some()
            || self.greater_than.is_some()
    }

    /// `Some(label)` when a scalar fails an assertion. Unknown values and `null` pass.
    fn check_scalar(&self, v: &Value, loc: &Loc) -> Option<String> {
        if loc.unknown {
            return None;
        }
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        if let Some(re) = &self.matches
            && !re.is_match(&text)
        {
            return Some(format!("does not match `{}`", re.as_str()));
        }
        if let Some(re) = &self.not_matches
            && re.is_match(&text)
        {
            return Some(format!("matches `{}`", re.as_str()));
        }
        if let Some(list) = &self.one_of
            && !list.contains(&text)
        {
            return Some(format!("not one of: {}", list.join(", ")));
        }
        if let Some(globs) = &self.glob
            && !globs.iter().any(|g| crate::model::glob_match(g, &text))
        {
            return Some(format!("matches none of: {}", globs.join(", ")));
        }
        if self.less_than.is_some() || self.greater_than.is_some() {
            // `NaN` compares false with everything: it must not pass a bound.
            let Some(n) = text.trim().parse::<f64>().ok().filter(|n| n.is_finite()) else {
                return Some("not a finite number".into());
            };
            if let Some(max) = self.less_than
                && n >= max
            {
                return Some(format!("not less than {max}"));
            }
            if let Some(min) = self.greater_than
                && n <= min
            {
                return Some(format!("not greater than {min}"));
            }
        }
        None
    }
}

/// One loaded custom rule.
#[derive(Clone, Debug)]
pub struct CustomRule {
    pub id: String,
    pub severity: Severity,
    pub summary: String,
    pub message: Vec<Piece>,
    pub help: Vec<Piece>,
    /// Empty: every kind.
    pub applies_to: Vec<DocKind>,
    pub select: JsonPath,
    pub path: Option<JsonPath>,
    pub assertions: Assertions,
    /// The rule file it came from (as given).
    pub source: String,
    /// Line of the `id` field in `source`.
    pub id_line: u32,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn exists(v: &Value) -> bool {
    !v.is_null()
}

/// A normalized path relative to a parent path: `$['a'][0]` + `$['b']` = `$['a'][0]['b']`.
fn join_path(parent: &str, child: &NormalizedPath) -> String {
    let c = child.to_string();
    format!("{parent}{}", c.strip_prefix('$').unwrap_or(&c))
}

/// Objects and lists point at their first line with more than a bracket on it.
fn report_span(v: &Value, loc: &Loc, src: &SourceFile) -> Span {
    let span = loc.span;
    if !(v.is_object() || v.is_array()) {
        return span;
    }
    let slice = src.slice(span);
    let mut offset = 0usize;
    for line in slice.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.trim_start_matches('-').trim().len() > 1 {
            let lead = line.len() - line.trim_start().len();
            let start = span.start as usize + offset + lead;
            return Span::new(start, start + trimmed.len());
        }
        offset += line.len();
    }
    span
}

struct Hit<'a> {
    value: &'a Value,
    loc: &'a Loc,
    path: String,
    label: String,
    subject: &'a Value,
}

impl CustomRule {
    fn render(&self, pieces: &[Piece], id: &str, doc: &Doc, hit: &Hit, src: &SourceFile) -> String {
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Var(v) => out.push_str(&match v.as_str() {
                    "value" => text_of(hit.value),
                    "path" => hit.path.clone(),
                    "file" => src.rel.clone(),
                    "owner" => doc.owner().to_string(),
                    "kind" => doc.kind.name().to_string(),
                    _ => id.to_string(),
                }),
                Piece::Query(q) => {
                    if let Some(v) = q.query(hit.subject).first() {
                        out.push_str(&text_of(v));
                    }
                }
            }
        }
        out
    }

    fn applies(&self, kind: DocKind) -> bool {
        self.applies_to.is_empty() || self.applies_to.contains(&kind)
    }

    /// Evaluate the rule on one document.
    pub fn eval_doc(&self, id: &'static str, doc: &Doc, src: &SourceFile, out: &mut Vec<Finding>) {
        if !self.applies(doc.kind) {
            return;
        }
        let a = &self.assertions;
        let mut hits: Vec<Hit> = Vec::new();
        let subjects = self.select.query_located(&doc.value);
        if self.path.is_none() && a.must_exist && !subjects.iter().any(|s| exists(s.node())) {
            hits.push(Hit {
                value: &doc.value,
                loc: &doc.loc,
                path: "$".into(),
                label: "the selection is empty in this document".into(),
                subject: &doc.value,
            });
        }
        for s in subjects.iter() {
            let sloc = doc.loc.locate(s.location().iter());
            let spath = s.location().to_string();
            let subject = s.node();
            let targets: Vec<(&Value, &Loc, String)> = match &self.path {
                None => vec![(subject, sloc, spath.clone())],
                Some(p) => {
                    let t = p.query_located(subject);
                    if a.must_exist && !t.iter().any(|t| exists(t.node())) {
                        hits.push(Hit {
                            value: subject,
                            loc: sloc,
                            path: spath.clone(),
                            label: format!("`{}` selects nothing here", p),
                            subject,
                        });
                    }
                    t.iter()
                        .map(|t| {
                            (
                                t.node(),
                                sloc.locate(t.location().iter()),
                                join_path(&spath, t.location()),
                            )
                        })
                        .collect()
                }
            };
            for (v, loc, path) in targets {
                if !exists(v) {
                    continue;
                }
                if a.must_not_exist {
                    hits.push(Hit {
                        value: v,
                        loc,
                        path,
                        label: "must not exist".into(),
                        subject,
                    });
                    continue;
                }
                if !a.has_value_assertions() {
                    continue;
                }
                match v {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            let iloc = loc.child_index(i).unwrap_or(loc);
                            if let Some(label) = a.check_scalar(item, iloc) {
                                hits.push(Hit {
                                    value: item,
                                    loc: iloc,
                                    path: format!("{path}[{i}]"),
                                    label,
                                    subject,
                                });
                            }
                        }
                    }
                    _ => {
                        if let Some(label) = a.check_scalar(v, loc) {
                            hits.push(Hit {
                                value: v,
                                loc,
                                path,
                                label,
                                subject,
                            });
                        }
                    }
                }
            }
        }
        for h in hits {
            out.push(
                Finding::new(
                    id,
                    self.severity,
                    doc.file,
                    report_span(h.value, h.loc, src),
                )
                .message(self.render(&self.message, id, doc, &h, src))
                .label(h.label.clone())
                .help(self.render(&self.help, id, doc, &h, src)),
            );
        }
    }

    /// Evaluate the rule on every document of a scan's view.
    pub fn eval(&self, id: &'static str, scan: &Scan, docs: &[Doc], out: &mut Vec<Finding>) {
        for d in docs {
            self.eval_doc(id, d, scan.file(d.file), out);
        }
    }

    fn doc_page(&self) -> String {
        let kinds = if self.applies_to.is_empty() {
            "every document".to_string()
        } else {
            self.applies_to
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "# {}\n\nCustom rule loaded from `{}`.\n\n{}\n\n- severity: {}\n- applies to: {}\n- select: `{}`\n",
            self.id,
            self.source,
            self.summary,
            self.severity.as_str(),
            kinds,
            self.select
        )
    }
}

/// A custom rule installed in the registry.
struct Installed {
    meta: &'static RuleMeta,
    rule: CustomRule,
}

impl Rule for Installed {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let docs: &Vec<view::Doc> = ctx.extension(|| view::build(ctx));
        self.rule.eval(self.meta.id, ctx, docs, out);
    }
}

/// Check ids for clashes with built-in rules and with each other.
pub fn check_ids(rules: &[CustomRule]) -> Result<(), LoadError> {
    let builtin: Vec<&str> = crate::rules::registry()
        .iter()
        .map(|r| r.meta().id)
        .collect();
    for (i, r) in rules.iter().enumerate() {
        let clash = if builtin.contains(&r.id.as_str()) {
            Some("a built-in rule".to_string())
        } else {
            rules[..i]
                .iter()
                .find(|p| p.id == r.id)
                .map(|p| format!("`{}`", p.source))
        };
        if let Some(other) = clash {
            return Err(LoadError {
                file: r.source.clone(),
                line: r.id_line,
                field: Some("id".into()),
                message: format!(
                    "`{}` is already defined by {other}; expected a unique id",
                    r.id
                ),
            });
        }
    }
    Ok(())
}

/// Load every rule under `dirs` as members of a [`crate::rules::RuleSet`]
/// (`RuleSet::builtin().with(load(dirs)?)`).
pub fn load(dirs: &[PathBuf]) -> Result<Vec<Arc<dyn Rule>>, LoadError> {
    let mut all = Vec::new();
    for d in dirs {
        all.extend(load_dir(d)?);
    }
    check_ids(&all)?;
    let rules = all
        .into_iter()
        .map(|rule| {
            let id: &'static str = Box::leak(rule.id.clone().into_boxed_str());
            let applies: Vec<&'static str> = if rule.applies_to.is_empty() {
                DocKind::ALL.iter().map(|k| k.name()).collect()
            } else {
                rule.applies_to.iter().map(|k| k.name()).collect()
            };
            let meta: &'static RuleMeta = Box::leak(Box::new(RuleMeta {
                id,
                severity: rule.severity,
                summary: Box::leak(rule.summary.clone().into_boxed_str()),
                applies_to: Box::leak(applies.into_boxed_slice()),
                fixable: false,
                doc: Box::leak(rule.doc_page().into_boxed_str()),
                builtin: false,
            }));
            Arc::new(Installed { meta, rule }) as Arc<dyn Rule>
        })
        .collect();
    Ok(rules)
}
