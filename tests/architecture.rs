//! The layering of `src/` (ARCHITECTURE.md): every top-level module belongs to one layer and
//! imports only its own layer and the layers below; the top-level modules form no cycle.
//! Imports are read from the source text: every `crate::NAME` path and every name in a
//! `use crate::{…}` group, comments excluded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. Keep in step with ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["source"],
    &["model"],
    &["diag"],
    &["frontend"],
    &["analysis"],
    &["scan", "fix", "write"],
    &["rules"],
    &["custom", "config", "baseline"],
    &["suppress"],
    &["engine"],
    &["report"],
    &["audit", "floor"],
    &["server"],
    &["cli"],
];

/// Items exported at the crate root by `#[macro_export]`, and the module defining each.
const ROOT_MACROS: &[(&str, &str)] = &[("rule_meta", "rules")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source without comments (doc comments included) and without the contents of string
/// and character literals (raw strings included).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |n| n + 2);
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…".
        if b[i] == b'r'
            && (i == 0 || !ident(b[i - 1]) || (b[i - 1] == b'b' && (i < 2 || !ident(b[i - 2]))))
        {
            let hashes = rest[1..].bytes().take_while(|&c| c == b'#').count();
            if rest[1 + hashes..].starts_with('"') {
                let close = format!("\"{}", "#".repeat(hashes));
                let body = 2 + hashes;
                i += body
                    + rest[body..]
                        .find(&close)
                        .map_or(rest.len() - body, |n| n + close.len());
                out.push_str("\"\"");
                continue;
            }
        }
        if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            i = j + 1;
            out.push_str("\"\"");
            continue;
        }
        if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            let lit = if rest[1..].starts_with('\\') {
                rest[2..].find('\'').map(|n| n + 3)
            } else {
                rest[1..]
                    .chars()
                    .next()
                    .filter(|c| rest[1 + c.len_utf8()..].starts_with('\''))
                    .map(|c| c.len_utf8() + 2)
            };
            if let Some(n) = lit {
                i += n;
                out.push_str("' '");
                continue;
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level names a source text reaches through `crate::`.
fn crate_imports(text: &str) -> BTreeSet<String> {
    let code = strip_comments(text);
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with('$') {
            continue; // `$crate::` inside a macro: the macro's own crate paths
        }
        let rest = code[i + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::b, c, d::{e, f}}`: the names at depth 0 of the group.
            let mut depth = 0;
            let mut at_start = true;
            for (j, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if at_start && depth == 0 && !c.is_whitespace() => {
                        at_start = false;
                        let id = ident_at(&group[j..]);
                        if !id.is_empty() && id != "self" {
                            names.insert(id.to_string());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let id = ident_at(rest);
            if !id.is_empty() {
                names.insert(id.to_string());
            }
        }
    }
    names
}

/// Top-level module → the top-level modules it imports.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(&src).unwrap();
            let first = rel.components().next()?.as_os_str().to_str()?;
            let m = first.trim_end_matches(".rs");
            (m != "lib" && m != "main").then(|| m.to_string())
        })
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let from = first.trim_end_matches(".rs").to_string();
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for name in crate_imports(&text) {
            let to = if modules.contains(&name) {
                name
            } else if let Some((_, m)) = ROOT_MACROS.iter().find(|(n, _)| *n == name) {
                m.to_string()
            } else {
                panic!(
                    "{}: `crate::{name}` is a crate-root re-export; import it through its module",
                    rel.display()
                );
            };
            if to != from {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
        graph.entry(from).or_default();
    }
    graph
}

#[test]
fn every_top_level_module_has_a_layer() {
    let missing: Vec<String> = import_graph()
        .into_keys()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer (add them to LAYERS here and to ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn no_module_imports_a_higher_layer() {
    let mut upward = Vec::new();
    for (from, tos) in import_graph() {
        let Some(lf) = layer_of(&from) else { continue };
        for to in tos {
            if layer_of(&to).is_some_and(|lt| lt > lf) {
                upward.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports into a higher layer: {upward:#?}"
    );
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = import_graph();
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == next).unwrap();
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if state.get(m.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(m, &graph, &mut state, &mut stack) {
                panic!("import cycle among top-level modules: {}", c.join(" -> "));
            }
        }
    }
}

#[test]
fn the_import_scanner_reads_paths_and_groups() {
    let text = "use crate::a::b;\n// crate::commented\nuse crate::{c, d::{e, f}, self};\n\
                fn x<'a>() { crate::g::h(); $crate::macro_path; \"crate::in_a_string\"; }\n\
                const Q: char = '\"'; fn y() { crate::i::j(r#\"crate::raw \" \"#); }\n";
    let got: Vec<String> = crate_imports(text).into_iter().collect();
    assert_eq!(got, ["a", "c", "d", "g", "i"]);
}

/// The CLI parses arguments and prints; the run lives in the engine. A `cli.rs` growing past
/// 400 lines is logic in the wrong layer.
#[test]
fn cli_stays_argument_parsing_and_printing() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli.rs");
    let lines = std::fs::read_to_string(cli).unwrap().lines().count();
    assert!(
        lines < 400,
        "src/cli.rs has {lines} lines; move logic into the engine"
    );
}
