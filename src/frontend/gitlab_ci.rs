//! GitLab CI configuration (`.gitlab-ci.yml` and the files it includes) from its YAML tree: one
//! file's job definitions as written ([`crate::model::gitlab`]). YAML anchors and aliases are
//! resolved by the parser, merge keys (`<<: *base`) here; `extends:`, `default:`, includes and
//! `!reference` are resolved across files when the pipeline is assembled (`analysis::gitlab`).

use crate::model::gitlab::*;
use crate::model::{KeyValue, Spanned};
use crate::source::FileId;
use crate::source::tree::{Node, Value};

/// Top-level keys that are not jobs.
const GLOBAL_KEYS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

/// Most merge-key sources followed for one mapping (`<<: [*a, *b, …]`).
const MAX_MERGE: usize = 16;

/// A mapping's value for `key`: its own entry, else the first `<<` merge source holding it.
fn field<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
    field_depth(n, key, 0)
}

fn field_depth<'a>(n: &'a Node, key: &str, depth: u8) -> Option<&'a Node> {
    if let Some(v) = n.get(key) {
        return Some(v);
    }
    if depth >= 8 {
        return None;
    }
    let merge = n.get("<<")?;
    for src in merge.items().into_iter().take(MAX_MERGE) {
        if let Some(v) = field_depth(src, key, depth + 1) {
            return Some(v);
        }
    }
    None
}

/// The keys a mapping has, merge sources included (own keys first).
fn keys(n: &Node) -> Vec<&str> {
    let mut out: Vec<&str> = n
        .entries()
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| *k != "<<")
        .collect();
    if let Some(m) = n.get("<<") {
        for src in m.items().into_iter().take(MAX_MERGE) {
            for e in src.entries() {
                if e.key != "<<" && !out.contains(&e.key.as_str()) {
                    out.push(&e.key);
                }
            }
        }
    }
    out
}

fn text(n: &Node) -> Option<String> {
    match &n.value {
        Value::Tagged(t, _) if t == "!reference" => None,
        Value::Tagged(_, inner) => text(inner),
        _ => n.scalar_text(),
    }
}

fn spanned(n: &Node) -> Option<Spanned<String>> {
    Some(Spanned::new(text(n)?, n.span))
}

fn reference(n: &Node) -> Option<Vec<String>> {
    match &n.value {
        Value::Tagged(t, inner) if t == "!reference" => inner
            .items()
            .into_iter()
            .map(text)
            .collect::<Option<Vec<_>>>(),
        _ => None,
    }
}

fn string_list(n: &Node) -> Vec<Spanned<String>> {
    n.items().into_iter().filter_map(spanned).collect()
}

fn script(n: &Node) -> Vec<ScriptItem> {
    if let Some(path) = reference(n) {
        return vec![ScriptItem::Reference(path, n.span)];
    }
    let mut out = Vec::new();
    for i in n.items() {
        if let Some(path) = reference(i) {
            out.push(ScriptItem::Reference(path, i.span));
        } else if let Value::Seq(inner) = &i.value {
            // a nested list (what an alias of a list gives) is flattened, as GitLab does
            out.extend(inner.iter().filter_map(spanned).map(ScriptItem::Line));
        } else if let Some(s) = spanned(i) {
            out.push(ScriptItem::Line(s));
        }
    }
    out
}

/// `variables:`: `NAME: value` or `NAME: {value: …, description: …}`.
pub fn variables(n: Option<&Node>) -> Vec<KeyValue> {
    let Some(n) = n else { return vec![] };
    keys(n)
        .into_iter()
        .filter_map(|k| {
            let e = n.get_entry(k).or_else(|| {
                n.get("<<")?
                    .items()
                    .into_iter()
                    .find_map(|s| s.get_entry(k))
            })?;
            let v = if e.value.is_map() {
                e.value.get("value")?
            } else {
                &e.value
            };
            Some(KeyValue {
                key: e.key.clone(),
                key_span: e.key_span,
                value: spanned(v)?,
            })
        })
        .collect()
}

fn id_tokens(n: &Node) -> Option<Vec<IdTokenDef>> {
    if !n.is_map() {
        return None;
    }
    Some(
        n.entries()
            .iter()
            .map(|e| {
                let aud = e.value.get_entry("aud");
                let (list, unknown) = match aud.map(|a| &a.value) {
                    None => (vec![], false),
                    Some(v) => {
                        let items = v.items();
                        let list: Vec<Spanned<String>> =
                            items.iter().filter_map(|i| spanned(i)).collect();
                        let unknown = list.len() != items.len()
                            || list.iter().any(|a| a.value.contains('$'))
                            || v.is_map();
                        (list, unknown)
                    }
                };
                IdTokenDef {
                    name: Spanned::new(e.key.clone(), e.key_span),
                    aud: list,
                    aud_span: aud.map(|a| a.value.span).unwrap_or(e.key_span),
                    aud_unknown: unknown,
                }
            })
            .collect(),
    )
}

fn rules(n: &Node) -> Vec<RuleDef> {
    n.items()
        .into_iter()
        .map(|r| {
            if !r.is_map() {
                return RuleDef {
                    span: r.span,
                    condition: None,
                    when: None,
                    opaque: true,
                };
            }
            RuleDef {
                span: r.span,
                condition: field(r, "if").and_then(spanned),
                when: field(r, "when").and_then(text),
                opaque: false,
            }
        })
        .collect()
}

fn job(name: Spanned<String>, n: &Node) -> JobDef {
    // (`only: {variables: …}` without `refs:` leaves the refs as without `only:`)
    let only = field(n, "only").and_then(|o| {
        if o.is_map() {
            o.get("refs").map(string_list)
        } else {
            Some(string_list(o))
        }
    });
    let environment = field(n, "environment").and_then(|e| {
        if e.is_map() {
            e.get("name").and_then(spanned)
        } else {
            spanned(e)
        }
    });
    JobDef {
        hidden: name.value.starts_with('.'),
        name,
        span: n.span,
        extends: field(n, "extends").map(string_list).unwrap_or_default(),
        id_tokens: field(n, "id_tokens").map(id_tokens),
        rules: field(n, "rules").map(rules),
        only,
        environment,
        variables: variables(field(n, "variables")),
        before_script: field(n, "before_script").map(script),
        script: field(n, "script").map(script),
        trigger: field(n, "trigger").is_some(),
    }
}

fn include_entry(n: &Node) -> Include {
    let kind = if let Some(s) = text(n) {
        // The string form: a URL is `remote:`, anything else a local path.
        if s.starts_with("https://") || s.starts_with("http://") {
            IncludeKind::External(s)
        } else if s.contains('$') {
            IncludeKind::Unknown(s)
        } else {
            IncludeKind::Local(s)
        }
    } else if let Some(l) = field(n, "local") {
        match text(l) {
            Some(s) if !s.contains('$') => IncludeKind::Local(s),
            Some(s) => IncludeKind::Unknown(s),
            None => IncludeKind::Unknown("local".into()),
        }
    } else if let Some((k, v)) = ["remote", "project", "template", "component"]
        .iter()
        .find_map(|k| field(n, k).map(|v| (*k, v)))
    {
        let what = text(v).unwrap_or_default();
        let file = field(n, "file")
            .map(|f| {
                string_list(f)
                    .into_iter()
                    .map(|s| s.value)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|f| !f.is_empty());
        IncludeKind::External(match file {
            Some(f) => format!("{k}: {what} ({f})"),
            None => format!("{k}: {what}"),
        })
    } else {
        IncludeKind::Unknown(String::new())
    };
    Include { kind, span: n.span }
}

/// The model of one GitLab CI file (`root`: it is a `.gitlab-ci.yml`).
pub fn file_from_tree(file: FileId, root_node: &Node, root: bool) -> GitlabFile {
    let includes = root_node
        .get("include")
        .map(|i| i.items().into_iter().map(include_entry).collect())
        .unwrap_or_default();
    let mut default = root_node
        .get_entry("default")
        .filter(|e| e.value.is_map())
        .map(|e| job(Spanned::new("default".into(), e.key_span), &e.value));
    // The deprecated global `before_script:` is the default's.
    if let Some(bs) = root_node.get("before_script") {
        let d = default
            .get_or_insert_with(|| JobDef::empty(Spanned::new("default".into(), bs.span), bs.span));
        if d.before_script.is_none() {
            d.before_script = Some(script(bs));
        }
    }
    let jobs = root_node
        .entries()
        .iter()
        .filter(|e| !GLOBAL_KEYS.contains(&e.key.as_str()) && e.key != "<<" && e.value.is_map())
        .map(|e| job(Spanned::new(e.key.clone(), e.key_span), &e.value))
        .collect();
    GitlabFile {
        file,
        root,
        includes,
        default,
        variables: variables(root_node.get("variables")),
        jobs,
    }
}

/// Whether a path names a pipeline's root file: `.gitlab-ci.yml` (GitLab's default CI/CD
/// configuration file, in any directory: the scan root need not be the project's root).
pub fn is_root_name(rel: &str) -> bool {
    rel.rsplit('/').next() == Some(".gitlab-ci.yml")
}
