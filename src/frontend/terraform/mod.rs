//! Terraform (`*.tf`) to the normalized model.
//!
//! Files are parsed one at a time (in parallel) into [`TfFile`]; Terraform resolves names
//! within a module, which is a directory, so [`link`] then groups the files of each directory,
//! resolves what is statically known (`var.x` with a literal `default`, `local.y`, provider
//! ARNs, `data.aws_iam_policy_document.x.json`) and builds policies, roles, providers and
//! access keys. What stays unknown is kept as an unknown part, never guessed.

use crate::frontend::iam_json::{Family, policy_from_tree, strings_of};
use crate::model::{
    AccessKey, Attached, FileModel, PolicyRef, Role, SStr, Spanned, SubjectTemplate, Switch,
};
use crate::model::{OidcProvider, PolicyKind};
use crate::source::embedded::Embedded;
use crate::source::hcl::{self, Block};
use crate::source::json::{self, ParseFailure};
use crate::source::tree::{Entry, Node, Part, Style, Template, Value};
use crate::source::{FileId, SourceFile, Span};
use std::collections::HashMap;

pub mod gcp;
pub mod modules;

/// One parsed `.tf` file, waiting for its directory to be linked.
#[derive(Debug, Default)]
pub struct TfFile {
    pub blocks: Vec<Block>,
}

pub fn parse_file(src: &SourceFile) -> Result<TfFile, ParseFailure> {
    Ok(TfFile {
        blocks: hcl::parse_blocks(&src.text, &relevant_block)?,
    })
}

/// The top-level blocks linking reads: variables and locals (references), modules (the
/// GitHub-OIDC modules), and IAM resources and data sources. Everything else in a `.tf` file
/// (buckets, instances, outputs, providers…) is parsed for syntax but never converted or kept.
pub fn relevant_block(ident: &str, labels: &[&str]) -> bool {
    match ident {
        "variable" | "locals" | "module" => true,
        "resource" | "data" => labels.first().is_some_and(|t| {
            t.starts_with("aws_iam_") || is_subject_template_resource(t) || gcp::relevant(t)
        }),
        _ => false,
    }
}

/// `github_actions_{organization,repository}_oidc_subject_claim_customization_template`.
fn is_subject_template_resource(ty: &str) -> bool {
    ty.starts_with("github_actions_") && ty.ends_with("_oidc_subject_claim_customization_template")
}

/// The files of one directory, addressed by their scan-wide [`FileId`] (a directory's ids are
/// few and sorted: a binary search finds one).
pub struct DirFiles<T> {
    ids: Vec<FileId>,
    items: Vec<T>,
}

impl<T> DirFiles<T> {
    /// `pairs` sorted by id.
    pub fn new(pairs: Vec<(FileId, T)>) -> Self {
        let (ids, items) = pairs.into_iter().unzip();
        DirFiles { ids, items }
    }
    fn slot(&self, id: FileId) -> usize {
        self.ids
            .binary_search(&id)
            .expect("a directory's models only point into its own files")
    }
    pub fn into_pairs(self) -> impl Iterator<Item = (FileId, T)> {
        self.ids.into_iter().zip(self.items)
    }
}

impl<T> std::ops::Index<FileId> for DirFiles<T> {
    type Output = T;
    fn index(&self, id: FileId) -> &T {
        &self.items[self.slot(id)]
    }
}

impl<T> std::ops::IndexMut<FileId> for DirFiles<T> {
    fn index_mut(&mut self, id: FileId) -> &mut T {
        let i = self.slot(id);
        &mut self.items[i]
    }
}

/// Link the Terraform files of one directory (a module): resolve references and fill the
/// models. `files`, `parsed` and `models` hold the directory's files, by id.
pub fn link_dir(
    files: &DirFiles<&SourceFile>,
    mut parsed: Vec<(FileId, TfFile)>,
    models: &mut DirFiles<FileModel>,
) {
    if parsed.is_empty() {
        return;
    }
    let syms = symbols(&parsed);
    for (_, f) in parsed.iter_mut() {
        for b in f.blocks.iter_mut() {
            resolve_block(b, &syms);
        }
    }
    gcp::link(&parsed, models);
    Module::new(&parsed, files, syms).build(models);
}

// ---------------------------------------------------------------------------------------
// Resolution

type Syms = HashMap<String, Node>;

/// A reference as a lookup key: whitespace and index/splat segments removed
/// (`data.x.this[0].json` → `data.x.this.json`).
fn ref_key(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut depth = 0usize;
    for c in expr.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && !c.is_whitespace() => out.push(c),
            _ => {}
        }
    }
    out.replace(".*.", ".")
}

fn is_literal(n: &Node) -> bool {
    let mut ok = true;
    n.walk(&mut |x| match &x.value {
        Value::Str(t) if !t.is_known() => ok = false,
        Value::Tagged(..) => ok = false,
        _ => {}
    });
    ok
}

fn symbols(files: &[(FileId, TfFile)]) -> Syms {
    let mut syms = Syms::new();
    for (_, f) in files {
        for b in f.blocks.iter().filter(|b| b.ident == "variable") {
            if let (Some(name), Some(d)) = (b.label(0), b.attr("default"))
                && !matches!(d.value, Value::Null)
                && is_literal(d)
            {
                syms.insert(format!("var.{name}"), d.clone());
            }
        }
    }
    // Locals may use variables, other locals and provider ARNs: a few rounds settle chains.
    for _ in 0..4 {
        let mut next = syms.clone();
        for (_, f) in files {
            for b in &f.blocks {
                if b.ident == "locals" {
                    for e in &b.attrs {
                        let mut v = e.value.clone();
                        resolve(&mut v, &syms);
                        next.insert(format!("local.{}", e.key), v);
                    }
                }
                let provider = match (b.ident.as_str(), b.label(0), b.label(1)) {
                    ("resource", Some("aws_iam_openid_connect_provider"), Some(n)) => {
                        Some(format!("aws_iam_openid_connect_provider.{n}"))
                    }
                    ("data", Some("aws_iam_openid_connect_provider"), Some(n)) => {
                        Some(format!("data.aws_iam_openid_connect_provider.{n}"))
                    }
                    _ => None,
                };
                if let (Some(p), Some(url)) = (provider, b.attr("url")) {
                    let mut url = url.clone();
                    resolve(&mut url, &syms);
                    if let Some(u) = url.as_str() {
                        let host = u.trim_start_matches("https://").trim_end_matches('/');
                        next.insert(
                            format!("{p}.arn"),
                            Node::new(url.span, Value::Str(provider_arn(host))),
                        );
                    }
                }
            }
        }
        syms = next;
    }
    syms
}

/// `arn:${partition}:iam::${account}:oidc-provider/<host>`.
fn provider_arn(host: &str) -> Template {
    Template {
        parts: vec![
            Part::Lit("arn:".into()),
            Part::Unknown("partition".into()),
            Part::Lit(":iam::".into()),
            Part::Unknown("account_id".into()),
            Part::Lit(format!(":oidc-provider/{host}")),
        ],
    }
}

fn respan(n: &mut Node, span: Span) {
    n.span = span;
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| respan(i, span)),
        Value::Map(entries) => entries.iter_mut().for_each(|e| {
            e.key_span = span;
            respan(&mut e.value, span)
        }),
        Value::Tagged(_, inner) => respan(inner, span),
        _ => {}
    }
}

fn push_part(parts: &mut Vec<Part>, p: Part) {
    match (parts.last_mut(), p) {
        (Some(Part::Lit(prev)), Part::Lit(s)) => prev.push_str(&s),
        (_, p) => parts.push(p),
    }
}

/// Replace references with what is statically known about them. Resolved values take the
/// span of the reference (the definition may be in another file).
pub fn resolve(n: &mut Node, syms: &Syms) {
    match &mut n.value {
        Value::Str(t) => {
            if let [Part::Unknown(e)] = t.parts.as_slice()
                && let Some(v) = syms.get(&ref_key(e))
            {
                let mut v = v.clone();
                respan(&mut v, n.span);
                n.value = v.value;
                n.style = v.style;
                return;
            }
            let mut parts = Vec::with_capacity(t.parts.len());
            for p in t.parts.drain(..) {
                match p {
                    Part::Unknown(e) => match syms.get(&ref_key(&e)).map(|v| &v.value) {
                        Some(Value::Str(tv)) => tv
                            .parts
                            .iter()
                            .for_each(|x| push_part(&mut parts, x.clone())),
                        Some(Value::Num(s)) => push_part(&mut parts, Part::Lit(s.clone())),
                        Some(Value::Bool(b)) => push_part(&mut parts, Part::Lit(b.to_string())),
                        _ => push_part(&mut parts, Part::Unknown(e)),
                    },
                    lit => push_part(&mut parts, lit),
                }
            }
            t.parts = parts;
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| resolve(i, syms)),
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                if e.key.contains("${") {
                    e.key = resolve_key(&e.key, syms);
                }
                resolve(&mut e.value, syms);
            }
        }
        Value::Tagged(_, inner) => resolve(inner, syms),
        _ => {}
    }
}

/// Substitute `${ref}` in a key written as a template when `ref` is a known string.
fn resolve_key(key: &str, syms: &Syms) -> String {
    let mut out = String::new();
    let mut rest = key;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let expr = &after[..j];
        match syms.get(&ref_key(expr)).and_then(|v| v.as_str()) {
            Some(s) => out.push_str(&s),
            None => {
                out.push_str("${");
                out.push_str(expr);
                out.push('}');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

fn resolve_block(b: &mut Block, syms: &Syms) {
    for e in b.attrs.iter_mut() {
        resolve(&mut e.value, syms);
    }
    for c in b.blocks.iter_mut() {
        resolve_block(c, syms);
    }
}

// ---------------------------------------------------------------------------------------
// Heredoc JSON

const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

/// Decode a heredoc (`<<EOF`/`<<-EOF` at `span` of `text`) into its body, with `<<-`
/// indentation removed and every `${…}`/`%{…}` sequence replaced by a placeholder (inside a
/// JSON string) or a placeholder string (outside one). Returns the embedded text and the
/// expressions, by placeholder index.
fn decode_heredoc(text: &str, span: Span) -> Option<(Embedded, Vec<String>)> {
    let raw = text.get(span.range())?;
    let base = span.start as usize;
    let indented = raw.starts_with("<<-");
    let body_start = raw.find('\n')? + 1;
    let body_end = raw[..raw.len().min(raw.trim_end().len())]
        .rfind('\n')
        .map(|i| i + 1)?;
    if body_end < body_start {
        return None;
    }
    let body = &raw[body_start..body_end];
    let strip = if indented {
        body.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
            .min()
            .unwrap_or(0)
    } else {
        0
    };
    let mut out = String::with_capacity(body.len());
    let mut map: Vec<u32> = Vec::with_capacity(body.len() + 1);
    let mut exprs = Vec::new();
    let b = body.as_bytes();
    let mut i = 0usize;
    let mut at_line_start = true;
    let mut in_string = false;
    let mut escaped = false;
    let outer = |i: usize| (base + body_start + i) as u32;
    while i < b.len() {
        if at_line_start {
            at_line_start = false;
            let mut k = 0;
            while k < strip && i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
                k += 1;
            }
            continue;
        }
        let c = b[i];
        if (c == b'$' || c == b'%') && b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') {
            // `$${` / `%%{` are the literal `${` / `%{`
            out.push(c as char);
            map.push(outer(i));
            out.push('{');
            map.push(outer(i + 2));
            i += 3;
            continue;
        }
        if (c == b'$' || c == b'%') && b.get(i + 1) == Some(&b'{') {
            let end = close_brace(body, i + 2)?;
            let expr = body[i + 2..end].trim().to_string();
            let idx = exprs.len();
            exprs.push(if c == b'%' {
                format!("%{{{expr}}}")
            } else {
                expr
            });
            let ph = format!("{MARK_OPEN}{idx}{MARK_CLOSE}");
            let ph = if in_string { ph } else { format!("\"{ph}\"") };
            for _ in 0..ph.len() {
                map.push(outer(i));
            }
            out.push_str(&ph);
            i = end + 1;
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        }
        let len = utf8_len(c).min(b.len() - i);
        out.push_str(body.get(i..i + len)?);
        for k in 0..len {
            map.push(outer(i + k));
        }
        if c == b'\n' {
            at_line_start = true;
        }
        i += len;
    }
    map.push(outer(b.len()));
    Some((
        Embedded {
            text: out,
            to_outer: map,
        },
        exprs,
    ))
}

fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Index of the `}` closing an interpolation whose expression starts at `from`.
fn close_brace(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'{' if !in_str => depth += 1,
            b'}' if !in_str => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Turn placeholders back into unknown parts (values) and `${expr}` text (keys).
fn unmark(n: &mut Node, exprs: &[String]) {
    match &mut n.value {
        Value::Str(t) => {
            if let Some(s) = t.known()
                && s.contains(MARK_OPEN)
            {
                let mut parts = Vec::new();
                let mut rest = s.as_str();
                while let Some(i) = rest.find(MARK_OPEN) {
                    if i > 0 {
                        push_part(&mut parts, Part::Lit(rest[..i].to_string()));
                    }
                    let after = &rest[i + MARK_OPEN.len_utf8()..];
                    let j = after.find(MARK_CLOSE).unwrap_or(after.len());
                    let idx: usize = after[..j].parse().unwrap_or(usize::MAX);
                    push_part(
                        &mut parts,
                        Part::Unknown(exprs.get(idx).cloned().unwrap_or_default()),
                    );
                    rest = after.get(j + MARK_CLOSE.len_utf8()..).unwrap_or("");
                }
                if !rest.is_empty() {
                    push_part(&mut parts, Part::Lit(rest.to_string()));
                }
                t.parts = parts;
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| unmark(i, exprs)),
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                if e.key.contains(MARK_OPEN) {
                    let t = Template {
                        parts: vec![Part::Lit(e.key.clone())],
                    };
                    let mut k = Node::new(e.key_span, Value::Str(t));
                    unmark(&mut k, exprs);
                    e.key = k.as_template().map(|t| t.display()).unwrap_or_default();
                }
                unmark(&mut e.value, exprs);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// aws_iam_policy_document → IAM-shaped tree

fn str_node(span: Span, s: &str) -> Node {
    Node::new(span, Value::Str(Template::lit(s)))
}

fn entry(key: &str, key_span: Span, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        key_span,
        value,
    }
}

fn map_node(span: Span, entries: Vec<Entry>) -> Node {
    Node {
        span,
        value: Value::Map(entries),
        style: Style::Block,
    }
}

fn seq_node(span: Span, items: Vec<Node>) -> Node {
    Node {
        span,
        value: Value::Seq(items),
        style: Style::Flow,
    }
}

/// The items of a list attribute (or a single unknown standing for the whole list).
fn list_items(n: &Node) -> Vec<Node> {
    match &n.value {
        Value::Seq(items) => items.clone(),
        Value::Null => vec![],
        _ => vec![n.clone()],
    }
}

fn principals_node(blocks: &[&Block]) -> Option<Node> {
    if blocks.is_empty() {
        return None;
    }
    let mut entries: Vec<Entry> = Vec::new();
    for p in blocks {
        let (Some(ty), Some(ids)) = (p.attr_entry("type"), p.attr("identifiers")) else {
            continue;
        };
        let kind = ty
            .value
            .as_template()
            .map(|t| t.display())
            .unwrap_or_default();
        let items = list_items(ids);
        // `{type = "*" | "AWS", identifiers = ["*"]}` is rendered as `"Principal": "*"`.
        let star = (kind == "*" || kind == "AWS")
            && items.len() == 1
            && items[0].as_str().as_deref() == Some("*");
        if star && blocks.len() == 1 {
            return Some(str_node(items[0].span, "*"));
        }
        if let Some(prev) = entries.iter_mut().find(|e| e.key == kind) {
            if let Value::Seq(v) = &mut prev.value.value {
                v.extend(items);
            }
        } else {
            entries.push(entry(&kind, ty.value.span, seq_node(ids.span, items)));
        }
    }
    Some(map_node(blocks[0].span, entries))
}

/// The condition blocks of a statement as `{test: {variable: [values]}}`, with repeated
/// `test`+`variable` pairs merged into one OR-ed list as the AWS provider does. `None` when
/// a `dynamic "condition"` could add conditions this scan cannot see.
fn conditions_node(st: &Block) -> Option<Option<Node>> {
    let mut conds: Vec<&Block> = st.blocks("condition").collect();
    for d in st.blocks("dynamic") {
        if d.label(0) != Some("condition") {
            continue;
        }
        let content = d.blocks("content").next()?;
        let known = |k: &str| content.attr(k).and_then(|n| n.as_str()).is_some();
        if !known("test") || !known("variable") {
            return None;
        }
        conds.push(content);
    }
    if conds.is_empty() {
        return Some(None);
    }
    let mut ops: Vec<Entry> = Vec::new();
    for c in conds {
        let (Some(test), Some(var)) = (c.attr("test"), c.attr("variable")) else {
            continue;
        };
        let values = c.attr("values");
        let items = values.map(list_items).unwrap_or_default();
        let vspan = values.map(|v| v.span).unwrap_or(c.span);
        let tkey = test.as_template().map(|t| t.display()).unwrap_or_default();
        let vkey = var.as_template().map(|t| t.display()).unwrap_or_default();
        let op = match ops.iter_mut().position(|e| e.key == tkey) {
            Some(i) => &mut ops[i],
            None => {
                ops.push(entry(&tkey, test.span, map_node(c.span, vec![])));
                ops.last_mut().expect("just pushed")
            }
        };
        let Value::Map(keys) = &mut op.value.value else {
            continue;
        };
        match keys.iter_mut().find(|e| e.key == vkey) {
            Some(k) => {
                if let Value::Seq(v) = &mut k.value.value {
                    v.extend(items);
                }
            }
            None => keys.push(entry(&vkey, var.span, seq_node(vspan, items))),
        }
    }
    Some(Some(map_node(st.span, ops)))
}

/// An `aws_iam_policy_document` data block as an IAM JSON-shaped tree.
fn policy_document(b: &Block) -> Node {
    let mut statements = Vec::new();
    for st in b.blocks("statement") {
        let Some(cond) = conditions_node(st) else {
            continue;
        };
        let mut e = Vec::new();
        if let Some(sid) = st.attr_entry("sid") {
            e.push(entry("Sid", sid.key_span, sid.value.clone()));
        }
        match st.attr_entry("effect") {
            Some(eff) => e.push(entry("Effect", eff.key_span, eff.value.clone())),
            None => e.push(entry("Effect", st.header, str_node(st.header, "Allow"))),
        }
        for (attr, key) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            if let Some(a) = st.attr_entry(attr) {
                e.push(entry(key, a.key_span, a.value.clone()));
            }
        }
        for (block, key) in [
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
        ] {
            let blocks: Vec<&Block> = st.blocks(block).collect();
            if let Some(p) = principals_node(&blocks) {
                e.push(entry(key, blocks[0].header, p));
            }
        }
        if let Some(c) = cond {
            e.push(entry("Condition", c.span, c));
        }
        statements.push(map_node(st.span, e));
    }
    let mut top = Vec::new();
    if let Some(v) = b.attr_entry("version") {
        top.push(entry("Version", v.key_span, v.value.clone()));
    }
    top.push(entry("Statement", b.header, seq_node(b.span, statements)));
    map_node(b.span, top)
}

// ---------------------------------------------------------------------------------------
// Building the model of one directory

struct Module<'a> {
    files: &'a [(FileId, TfFile)],
    sources: &'a DirFiles<&'a SourceFile>,
    /// `data.aws_iam_policy_document.NAME` → (file, block).
    documents: HashMap<String, (FileId, &'a Block)>,
    /// Documents already turned into a policy: name → (file, policy index).
    documents_built: HashMap<String, (FileId, usize)>,
    /// `aws_iam_policy.NAME` → (file, policy index).
    policies: HashMap<String, (FileId, usize)>,
    /// `aws_iam_role.NAME` → (file, role index).
    roles: HashMap<String, (FileId, usize)>,
    /// `aws_iam_user.NAME` → user name.
    users: HashMap<String, Node>,
    /// `data.aws_iam_policy.NAME` → its block (`arn` or `name`).
    data_policies: HashMap<String, &'a Block>,
    /// A role's literal name → `aws_iam_role.NAME` (attachments naming the role by its name).
    role_names: HashMap<String, String>,
    /// `var.NAME` → its default (`None`: required, the caller decides).
    var_defaults: HashMap<String, Option<&'a Node>>,
    syms: Syms,
}

/// A variable's default, as far as a switch needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Default {
    Bool(bool),
    Null,
    Zero,
    Empty,
    Other,
}

fn default_of(n: &Node) -> Default {
    match &n.value {
        Value::Bool(b) => Default::Bool(*b),
        Value::Null => Default::Null,
        Value::Num(x) if x.trim() == "0" => Default::Zero,
        Value::Seq(v) if v.is_empty() => Default::Empty,
        Value::Map(v) if v.is_empty() => Default::Empty,
        _ => Default::Other,
    }
}

fn show(d: Default) -> &'static str {
    match d {
        Default::Bool(true) => "true",
        Default::Bool(false) => "false",
        Default::Null => "null",
        Default::Zero => "0",
        Default::Empty => "empty",
        Default::Other => "?",
    }
}

/// Is a `count`/`for_each` expression empty with every variable at its default? Returns the
/// note naming the switch (`var.enable_x` default false). Only the usual shapes are read
/// (`var.x ? 1 : 0`, `!var.x ? …`, `var.x == null ? …`, `var.x`, `length(var.x)`,
/// `toset(var.x)`); anything else, or a variable without a default, is not a verdict.
fn empty_by_default(expr: &str, vars: &HashMap<String, Option<&Node>>) -> Option<String> {
    let e: String = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut e = e.trim();
    while let Some(inner) = e.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        e = inner.trim();
    }
    let var = |name: &str| -> Option<(String, Default)> {
        let n = name.trim().strip_prefix("var.")?;
        if !n
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return None;
        }
        let d = (*vars.get(n)?)?;
        Some((format!("var.{n}"), default_of(d)))
    };
    let empty_branch = |b: &str| {
        matches!(
            b.trim(),
            "0" | "[]" | "{}" | "toset([])" | "tomap({})" | "null"
        )
    };
    if let Some((cond, rest)) = e.split_once('?') {
        if rest.contains('?') {
            return None;
        }
        let (yes, no) = rest.split_once(':')?;
        let cond = cond.trim();
        let (name, truth) = if let Some(v) = cond.strip_prefix('!') {
            let (n, d) = var(v)?;
            let Default::Bool(b) = d else { return None };
            (format!("`{n}` defaults to {}", show(d)), !b)
        } else if let Some((l, r)) = cond.split_once("==").or_else(|| cond.split_once("!=")) {
            let (n, d) = var(l)?;
            let eq = cond.contains("==");
            let same = match (r.trim(), d) {
                ("null", Default::Null) => true,
                ("null", Default::Bool(_) | Default::Zero | Default::Empty) => false,
                ("true", Default::Bool(b)) => b,
                ("false", Default::Bool(b)) => !b,
                _ => return None,
            };
            (format!("`{n}` defaults to {}", show(d)), same == eq)
        } else {
            let (n, d) = var(cond)?;
            let Default::Bool(b) = d else { return None };
            (format!("`{n}` defaults to {}", show(d)), b)
        };
        let taken = if truth { yes } else { no };
        return empty_branch(taken).then_some(name);
    }
    let inner = ["length(", "toset(", "tomap(", "tolist("]
        .iter()
        .find_map(|f| e.strip_prefix(f)?.strip_suffix(')'))
        .unwrap_or(e);
    let (n, d) = var(inner)?;
    matches!(d, Default::Zero | Default::Empty | Default::Null)
        .then(|| format!("`{n}` defaults to {}", show(d)))
}

fn resource_name(b: &Block, ty: &str) -> Option<String> {
    (b.ident == "resource" && b.label(0) == Some(ty))
        .then(|| b.label(1).map(str::to_string))
        .flatten()
}

/// The resource named by a reference such as `aws_iam_role.deploy.name` (`aws_iam_role.deploy`).
fn referenced(n: &Node, ty: &str) -> Option<String> {
    let t = n.as_template()?;
    let [Part::Unknown(e)] = t.parts.as_slice() else {
        return None;
    };
    let k = ref_key(e);
    let rest = k.strip_prefix(ty)?.strip_prefix('.')?;
    let name = rest.split('.').next()?;
    Some(format!("{ty}.{name}"))
}

impl<'a> Module<'a> {
    fn new(
        files: &'a [(FileId, TfFile)],
        sources: &'a DirFiles<&'a SourceFile>,
        syms: Syms,
    ) -> Self {
        let mut documents = HashMap::new();
        let mut data_policies = HashMap::new();
        let mut var_defaults = HashMap::new();
        for (id, f) in files {
            for b in &f.blocks {
                if b.ident == "variable"
                    && let Some(n) = b.label(0)
                {
                    var_defaults.insert(n.to_string(), b.attr("default"));
                }
                if b.ident == "data"
                    && b.label(0) == Some("aws_iam_policy")
                    && let Some(n) = b.label(1)
                {
                    data_policies.insert(format!("data.aws_iam_policy.{n}"), b);
                }
                if b.ident == "data"
                    && b.label(0) == Some("aws_iam_policy_document")
                    && let Some(n) = b.label(1)
                {
                    documents.insert(format!("data.aws_iam_policy_document.{n}"), (*id, b));
                }
            }
        }
        Module {
            files,
            sources,
            documents,
            documents_built: HashMap::new(),
            policies: HashMap::new(),
            roles: HashMap::new(),
            users: HashMap::new(),
            data_policies,
            role_names: HashMap::new(),
            var_defaults,
            syms,
        }
    }

    fn text(&self, id: FileId) -> &str {
        self.sources[id].text.as_str()
    }

    /// Add the policy given by an attribute value (`jsonencode(...)`, heredoc JSON, or a
    /// reference to a policy document) to the models; returns (file, index).
    fn add_policy(
        &mut self,
        models: &mut DirFiles<FileModel>,
        id: FileId,
        value: &Node,
        owner: &str,
        kind: Option<PolicyKind>,
    ) -> Option<(FileId, usize)> {
        match &value.value {
            Value::Tagged(tag, inner) if tag == "jsonencode" && inner.is_map() => {
                let p = policy_from_tree(id, inner, owner.to_string(), kind, Family::Hcl);
                models[id].policies.push(p);
                Some((id, models[id].policies.len() - 1))
            }
            Value::Tagged(tag, _) if tag == "heredoc" => {
                let (emb, exprs) = decode_heredoc(self.text(id), value.span)?;
                let mut doc = json::parse_embedded(&emb).ok()?;
                unmark(&mut doc, &exprs);
                resolve(&mut doc, &self.syms);
                if !doc.is_map() {
                    return None;
                }
                let p = policy_from_tree(id, &doc, owner.to_string(), kind, Family::Json);
                models[id].policies.push(p);
                Some((id, models[id].policies.len() - 1))
            }
            _ => {
                let name = referenced(value, "data.aws_iam_policy_document")?;
                if let Some(done) = self.documents_built.get(&name) {
                    return Some(*done);
                }
                let (did, block) = *self.documents.get(&name)?;
                let doc = policy_document(block);
                let p = policy_from_tree(did, &doc, owner.to_string(), kind, Family::ReadOnly);
                models[did].policies.push(p);
                let at = (did, models[did].policies.len() - 1);
                self.documents_built.insert(name, at);
                Some(at)
            }
        }
    }

    fn build(mut self, models: &mut DirFiles<FileModel>) {
        let files = self.files;
        // Users first (access keys name them), then policies, roles, and what attaches.
        for (_, f) in files {
            for b in &f.blocks {
                if let Some(n) = resource_name(b, "aws_iam_user")
                    && let Some(name) = b.attr("name")
                {
                    self.users.insert(format!("aws_iam_user.{n}"), name.clone());
                }
            }
        }
        for (id, f) in files {
            for b in &f.blocks {
                if let Some(n) = resource_name(b, "aws_iam_policy")
                    && let Some(v) = b.attr("policy")
                {
                    let owner = format!("aws_iam_policy.{n}");
                    if let Some(at) =
                        self.add_policy(models, *id, v, &owner, Some(PolicyKind::Permission))
                    {
                        self.policies.insert(owner, at);
                    }
                }
            }
        }
        for (id, f) in files {
            for b in &f.blocks {
                if let Some(n) = resource_name(b, "aws_iam_role") {
                    self.role(models, *id, b, &n);
                } else if b.ident == "module" {
                    modules::module(models, *id, b);
                }
            }
        }
        for (id, f) in files {
            for b in &f.blocks {
                self.other(models, *id, b);
            }
        }
        self.link_roles(models);
        for (id, f) in files {
            for b in &f.blocks {
                if !matches!(b.ident.as_str(), "resource" | "module" | "data") {
                    continue;
                }
                let Some(v) = b.attr("count").or_else(|| b.attr("for_each")) else {
                    continue;
                };
                let text = self.text(*id);
                let Some(expr) = text.get(v.span.start as usize..v.span.end as usize) else {
                    continue;
                };
                if let Some(note) = empty_by_default(expr, &self.var_defaults) {
                    models[*id].switches.push(Switch {
                        span: b.span,
                        at: v.span,
                        note,
                    });
                }
            }
        }
        // Policy documents no resource in this directory uses (outputs, other modules).
        let mut rest: Vec<(&String, &(FileId, &Block))> = self
            .documents
            .iter()
            .filter(|(k, _)| !self.documents_built.contains_key(*k))
            .collect();
        rest.sort_by_key(|(k, _)| k.as_str());
        for (name, (did, block)) in rest {
            let doc = policy_document(block);
            models[*did].policies.push(policy_from_tree(
                *did,
                &doc,
                name.clone(),
                None,
                Family::ReadOnly,
            ));
        }
    }

    fn role(&mut self, models: &mut DirFiles<FileModel>, id: FileId, b: &Block, n: &str) {
        let owner = format!("aws_iam_role.{n}");
        let mut role = Role {
            file: id,
            span: b.span,
            owner: owner.clone(),
            name: b
                .attr("name")
                .and_then(|v| v.as_template().map(|t| Spanned::new(t.clone(), v.span))),
            trust: None,
            permission_policies: vec![],
            managed_policy_arns: vec![],
        };
        // The trust and inline policies may be documents in another file of the module.
        if let Some(v) = b.attr("assume_role_policy")
            && let Some((f, i)) = self.add_policy(models, id, v, &owner, Some(PolicyKind::Trust))
        {
            role.trust = Some(PolicyRef::new(f, i));
        }
        for ip in b.blocks("inline_policy") {
            if let Some(v) = ip.attr("policy")
                && let Some((f, i)) =
                    self.add_policy(models, id, v, &owner, Some(PolicyKind::Permission))
            {
                role.permission_policies.push(PolicyRef::new(f, i));
            }
        }
        if let Some(arns) = b.attr("managed_policy_arns") {
            for item in list_items(arns) {
                role.managed_policy_arns
                    .extend(Attached::all(id, strings_of(&item)));
            }
        }
        if let Some(name) = role.name.as_ref().and_then(|n| n.value.known()) {
            self.role_names.entry(name).or_insert_with(|| owner.clone());
        }
        models[id].roles.push(role);
        self.roles.insert(owner, (id, models[id].roles.len() - 1));
    }

    /// The role a `role`/`roles` value names: `aws_iam_role.x.name`/`.id`/`.arn`, or the literal
    /// name of a role of this module.
    fn role_of(&self, n: &Node) -> Option<(FileId, usize)> {
        let key = match referenced(n, "aws_iam_role") {
            Some(k) => k,
            None => self.role_names.get(&n.as_template()?.known()?)?.clone(),
        };
        self.roles.get(&key).copied()
    }

    /// What an attached ARN designates: a policy of this module (`aws_iam_policy.x.arn`), the
    /// policy a `data "aws_iam_policy"` names (its `arn`, or its `name`, which the managed-policy
    /// snapshot resolves), else the ARN as written. The location stays the attachment's value.
    fn link_arn(&self, arn: &SStr) -> Result<PolicyRef, SStr> {
        if let [Part::Unknown(e)] = arn.value.parts.as_slice() {
            let k = ref_key(e);
            let name_of = |prefix: &str| {
                let rest = k.strip_prefix(prefix)?.strip_prefix('.')?;
                Some(format!("{prefix}.{}", rest.split('.').next()?))
            };
            if let Some(p) = name_of("aws_iam_policy")
                && let Some(&(f, i)) = self.policies.get(&p)
            {
                return Ok(PolicyRef::new(f, i));
            }
            if let Some(d) = name_of("data.aws_iam_policy")
                && let Some(b) = self.data_policies.get(&d)
            {
                let by = b
                    .attr("arn")
                    .or_else(|| b.attr("name"))
                    .and_then(|v| v.as_template())
                    .filter(|t| t.is_known());
                if let Some(t) = by {
                    return Err(Spanned::new(t.clone(), arn.span));
                }
            }
        }
        Err(arn.clone())
    }

    /// Every role of the module: attached ARNs that designate a policy of the scan become
    /// its permission policies (wherever in the module it is defined).
    fn link_roles(&self, models: &mut DirFiles<FileModel>) {
        for (id, _) in self.files {
            let mut roles = std::mem::take(&mut models[*id].roles);
            for r in &mut roles {
                let mut kept = Vec::new();
                for a in std::mem::take(&mut r.managed_policy_arns) {
                    match self.link_arn(&a.arn) {
                        Ok(p) => {
                            if !r.permission_policies.contains(&p) {
                                r.permission_policies.push(p);
                            }
                        }
                        Err(arn) => kept.push(Attached::new(a.file, arn)),
                    }
                }
                r.managed_policy_arns = kept;
            }
            models[*id].roles = roles;
        }
    }

    fn other(&mut self, models: &mut DirFiles<FileModel>, id: FileId, b: &Block) {
        let (Some(ty), Some(n)) = (b.label(0), b.label(1)) else {
            return;
        };
        if b.ident != "resource" {
            return;
        }
        match ty {
            "aws_iam_role_policy" => {
                let owner = format!("aws_iam_role_policy.{n}");
                let Some(v) = b.attr("policy") else { return };
                let at = self.add_policy(models, id, v, &owner, Some(PolicyKind::Permission));
                if let (Some((f, i)), Some(r)) = (at, b.attr("role"))
                    && let Some((rf, ri)) = self.role_of(r)
                {
                    models[rf].roles[ri]
                        .permission_policies
                        .push(PolicyRef::new(f, i));
                }
            }
            "aws_iam_role_policy_attachment" | "aws_iam_policy_attachment" => {
                let Some(arn) = b.attr("policy_arn") else {
                    return;
                };
                let targets: Vec<Node> = match (b.attr("role"), b.attr("roles")) {
                    (Some(r), _) => vec![r.clone()],
                    (None, Some(rs)) => list_items(rs),
                    (None, None) => return,
                };
                for t in &targets {
                    if let Some((rf, ri)) = self.role_of(t) {
                        models[rf].roles[ri]
                            .managed_policy_arns
                            .extend(Attached::all(id, strings_of(arn)));
                    }
                }
            }
            "aws_iam_openid_connect_provider" => {
                let url = b
                    .attr("url")
                    .and_then(|v| v.as_template().map(|t| Spanned::new(t.clone(), v.span)));
                let ids = b.attr("client_id_list");
                let client_ids: Option<Vec<SStr>> = ids.and_then(|l| match &l.value {
                    Value::Seq(_) => {
                        let v = strings_of(l);
                        v.iter().all(|s| s.value.is_known()).then_some(v)
                    }
                    _ => None,
                });
                models[id].providers.push(OidcProvider {
                    file: id,
                    span: b.span,
                    owner: format!("aws_iam_openid_connect_provider.{n}"),
                    url,
                    client_ids,
                    client_ids_span: ids.map(|l| l.span),
                });
            }
            t if is_subject_template_resource(t) => {
                let use_default = matches!(
                    b.attr("use_default").map(|v| &v.value),
                    Some(Value::Bool(true))
                );
                let keys = b.attr("include_claim_keys").and_then(|l| match &l.value {
                    Value::Seq(items) => {
                        let v = strings_of(l);
                        (v.len() == items.len())
                            .then(|| {
                                v.iter()
                                    .map(|s| s.value.known())
                                    .collect::<Option<Vec<_>>>()
                            })
                            .flatten()
                    }
                    _ => None,
                });
                models[id].subject_templates.push(SubjectTemplate {
                    file: id,
                    span: b.span,
                    org_wide: t.starts_with("github_actions_organization_"),
                    use_default,
                    keys,
                });
            }
            "aws_iam_access_key" => {
                let user = b.attr("user").map(|u| {
                    let resolved = referenced(u, "aws_iam_user")
                        .and_then(|r| self.users.get(&r))
                        .and_then(|n| n.as_template().cloned());
                    Spanned::new(
                        resolved.unwrap_or_else(|| {
                            u.as_template()
                                .cloned()
                                .unwrap_or_else(|| Template::unknown(""))
                        }),
                        u.span,
                    )
                });
                models[id].access_keys.push(AccessKey {
                    file: id,
                    span: b.span,
                    owner: format!("aws_iam_access_key.{n}"),
                    user,
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_empty_by_default() {
        let f = Node::new(Span::new(0, 0), Value::Bool(false));
        let t = Node::new(Span::new(0, 0), Value::Bool(true));
        let nul = Node::new(Span::new(0, 0), Value::Null);
        let empty = Node::new(Span::new(0, 0), Value::Seq(vec![]));
        let vars: HashMap<String, Option<&Node>> = [
            ("off".to_string(), Some(&f)),
            ("on".to_string(), Some(&t)),
            ("none".to_string(), Some(&nul)),
            ("list".to_string(), Some(&empty)),
            ("required".to_string(), None),
        ]
        .into_iter()
        .collect();
        let e = |x: &str| empty_by_default(x, &vars);
        assert!(e("var.off ? 1 : 0").is_some_and(|n| n.contains("`var.off` defaults to false")));
        assert!(e("!var.on ? 1 : 0").is_some());
        assert!(e("var.none != null ? 1 : 0").is_some());
        assert!(e("var.none == null ? 1 : 0").is_none());
        assert!(e("var.none == null ? 0 : 1").is_some());
        assert!(e("toset(var.list)").is_some());
        assert!(e("length(var.list)").is_some());
        assert!(e("var.on ? 1 : 0").is_none());
        assert!(e("var.off ? 0 : 1").is_none());
        // unknown stays unknown: no default, other shapes
        assert!(e("var.required ? 1 : 0").is_none());
        assert!(e("local.enabled ? 1 : 0").is_none());
        assert!(e("var.off && var.on ? 1 : 0").is_none());
    }

    #[test]
    fn heredoc_indented_maps_to_file_bytes() {
        let text = "x = <<-EOF\n    {\n      \"k\": \"repo:${var.org}/*\",\n      \"n\": ${var.n}\n    }\n    EOF\n";
        let start = text.find("<<-").unwrap();
        let end = text.rfind("EOF").unwrap() + 3;
        let (emb, exprs) = decode_heredoc(text, Span::new(start, end)).unwrap();
        assert_eq!(exprs, ["var.org", "var.n"]);
        let mut doc = json::parse_embedded(&emb).unwrap();
        unmark(&mut doc, &exprs);
        let k = doc.get("k").unwrap();
        assert_eq!(&text[k.span.range()], "\"repo:${var.org}/*\"");
        assert_eq!(k.as_template().unwrap().display(), "repo:${var.org}/*");
        let n = doc.get("n").unwrap();
        assert_eq!(n.as_template().unwrap().display(), "${var.n}");
        assert!(emb.text.starts_with("{\n  \"k\""), "{:?}", emb.text);
    }

    #[test]
    fn ref_keys() {
        assert_eq!(
            ref_key("data.aws_iam_policy_document.this[0].json"),
            "data.aws_iam_policy_document.this.json"
        );
        assert_eq!(ref_key(" local.x "), "local.x");
    }
}
