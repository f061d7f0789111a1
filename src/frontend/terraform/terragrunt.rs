//! Terragrunt: a unit (`terragrunt.hcl`) whose `terraform { source }` is a module directory of
//! the scan judges that module with the unit's `inputs` as its variables, through the same
//! local-module instances a `module` block makes ([`super::link_module`]); a stack
//! (`terragrunt.stack.hcl`) feeds each unit's `values` to that unit's `inputs` (`values.x`),
//! and each nested `stack` its `values`, the same way (at most [`MAX_STACK_DEPTH`] deep).
//!
//! Nothing is fetched or run. A remote source is not followed, except one naming the scanned
//! repository itself (`git::git@github.com:OWNER/REPO.git//units/x?ref=v1`, from `--repo` or
//! the `origin` remote) or a path under `${get_repo_root()}`: the scan's own files stand for
//! it (its `?ref=` is not read); `${find_in_parent_folders("module")}` as a source is the
//! nearest directory of that name above the unit. An `include`d configuration of the scan
//! (`find_in_parent_folders("root.hcl")`, no argument: `terragrunt.hcl`, or a relative path)
//! gives its `inputs` under the unit's own, evaluated in the unit's context:
//! `get_terragrunt_dir()` is the unit's directory, and a local that is
//! `read_terragrunt_config(…)` of a file of the scan is that file's `inputs` and `locals` (at
//! most 8 files per include); with `expose = true` its `locals` and `inputs` are
//! `include.NAME.locals.X` and `include.NAME.inputs.X` in the unit. A `dependency` block's `outputs` are the outputs of the module
//! the unit it names calls, computed with that unit's inputs (in a stack, `config_path` names
//! a sibling unit by its `path`; a dependency's own dependencies are not followed). What only
//! Terragrunt knows when it runs stays unknown: an include the scan cannot read (then every
//! variable the unit leaves unset is unknown, not its default), `run_cmd`, the environment,
//! the account, outputs of resources the scan cannot name. A unit's relative
//! `terraform.source` is read from the directory the unit's file is in (for a stack's unit:
//! its source directory in the repository).

use super::{
    Call, CallSite, DirFiles, LinkCx, Linked, Syms, TfFile, bind_each, join_rel, link_module,
    module_files, resolve, respan,
};
use crate::model::FileModel;
use crate::source::hcl::{self, Block};
use crate::source::json::ParseFailure;
use crate::source::tree::Entry;
use crate::source::tree::{Node, Part, Template, Value};
use crate::source::{FileId, Span};

/// The block a `terragrunt.hcl` is read as (no `.tf` block has this name).
pub(super) const UNIT: &str = "\u{1}terragrunt";
/// The block a `terragrunt.stack.hcl` is read as.
pub(super) const STACK: &str = "\u{1}terragrunt_stack";

/// The block a Terragrunt file is read as, by its name.
pub(super) fn wrapper_of(rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    match name.as_str() {
        "terragrunt.hcl" => Some(UNIT),
        "terragrunt.stack.hcl" => Some(STACK),
        _ => None,
    }
}

/// A Terragrunt file as one block holding what linking reads (`inputs`, `terraform`,
/// `locals`, `include`; a stack's `unit`s). A file with none of it holds no block.
pub(super) fn parse(text: &str, ident: &str) -> Result<TfFile, ParseFailure> {
    let mut b = hcl::parse_as_block(text, ident)?;
    b.blocks.retain(|c| {
        matches!(
            c.ident.as_str(),
            "terraform" | "locals" | "include" | "unit" | "stack" | "dependency"
        )
    });
    b.attrs.retain(|e| e.key == "inputs");
    let useful = if ident == STACK {
        b.blocks
            .iter()
            .any(|c| c.ident == "unit" || c.ident == "stack")
    } else {
        b.blocks.iter().any(|c| c.ident == "terraform")
    };
    Ok(TfFile {
        blocks: if useful { vec![b] } else { vec![] },
    })
}

/// The symbols of a Terragrunt file: `values.*` (a stack unit's values), then its `locals`.
fn symbols(b: &Block, mut syms: Syms) -> Syms {
    // Locals may use other locals: a few rounds settle chains. (Each round reads the last
    // round's values; only the locals are copied, never the values passed in.)
    for _ in 0..4 {
        let mut next = Vec::new();
        for l in b.blocks("locals") {
            for e in &l.attrs {
                let mut v = e.value.clone();
                resolve(&mut v, &syms);
                next.push((format!("local.{}", e.key), v));
            }
        }
        syms.extend(next);
    }
    syms
}

/// `${get_terragrunt_dir()}` at the start of a path: the unit's own directory.
fn unit_dir_prefix(n: &mut Node) {
    if let Value::Str(t) = &mut n.value
        && let Some(Part::Unknown(e)) = t.parts.first()
        && e.trim() == "get_terragrunt_dir()"
    {
        t.parts[0] = Part::Lit(".".into());
        if let [Part::Lit(a), Part::Lit(b), ..] = t.parts.as_slice() {
            let joined = format!("{a}{b}");
            t.parts.splice(0..2, [Part::Lit(joined)]);
        }
    }
}

/// A source path on disk, relative to the file naming it (`//` separating the directory
/// Terragrunt copies from the module inside it reads as one path). `None` for anything
/// fetched (a forced getter `x::`, a URL, a query `?ref=`), absolute, or not known.
fn local_path(n: &Node, bare: bool) -> Option<String> {
    let s = n.as_str()?;
    let s = s.trim();
    if s.is_empty() || s.contains("::") || s.contains("://") || s.contains('?') {
        return None;
    }
    let relative = s.starts_with("./") || s.starts_with("../");
    (relative || (bare && !s.starts_with('/'))).then(|| s.to_string())
}

/// A source in the scanned repository itself, as a path relative to `dir` (the scan root is the
/// repository's root): `${get_repo_root()}/units/x`, or a remote naming the repository
/// (`git::git@github.com:OWNER/REPO.git//units/x?ref=v1`, `github.com/OWNER/REPO//units/x`).
/// Its `?ref=` is not read: the scan's own files stand for the version it names. Nothing is
/// fetched; any other remote is `None`.
fn repo_path(n: &Node, dir: &str, repo: Option<&str>) -> Option<String> {
    let Value::Str(t) = &n.value else {
        return None;
    };
    let mut text = String::new();
    let mut from_root = false;
    for (i, p) in t.parts.iter().enumerate() {
        match p {
            Part::Lit(l) => text.push_str(l),
            Part::Unknown(e) if i == 0 && e.trim() == "get_repo_root()" => from_root = true,
            // (an unknown `?ref=` is not read)
            Part::Unknown(_) if text.contains('?') => break,
            Part::Unknown(_) => return None,
        }
    }
    let text = text.split('?').next().unwrap_or("").trim();
    let sub = if from_root {
        text
    } else {
        let repo = repo?;
        let s = text.strip_prefix("git::").unwrap_or(text);
        let s = ["https://", "ssh://"]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .unwrap_or(s);
        let s = s.strip_prefix("git@").unwrap_or(s);
        let s = s.strip_prefix("www.").unwrap_or(s);
        let rest = s
            .strip_prefix("github.com")
            .and_then(|r| r.strip_prefix(':').or_else(|| r.strip_prefix('/')))?;
        let (base, sub) = rest.split_once("//").unwrap_or((rest, ""));
        let base = base.trim_end_matches('/');
        let base = base.strip_suffix(".git").unwrap_or(base);
        if !base.eq_ignore_ascii_case(repo) {
            return None;
        }
        sub
    };
    let up = dir
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .count();
    let path = format!(
        "{}{}",
        "../".repeat(up),
        sub.trim_start_matches('/').replace("//", "/")
    );
    Some(if path.is_empty() { ".".into() } else { path })
}

/// A source Terragrunt reads from this repository, relative to `dir`: [`repo_path`], else a
/// local path ([`local_path`]).
fn source_path(n: &Node, dir: &str, cx: &LinkCx<'_>, bare: bool) -> Option<String> {
    repo_path(n, dir, cx.repo)
        .or_else(|| parent_folder_path(n, dir, cx))
        .or_else(|| local_path(n, bare))
}

/// `${find_in_parent_folders("module")}` (then only `/`s, as Terragrunt's `///` workaround
/// writes it): the nearest directory above `dir` holding a directory of that name with
/// Terraform files, relative to `dir`.
fn parent_folder_path(n: &Node, dir: &str, cx: &LinkCx<'_>) -> Option<String> {
    let Value::Str(t) = &n.value else {
        return None;
    };
    let [Part::Unknown(e), rest @ ..] = t.parts.as_slice() else {
        return None;
    };
    if !rest
        .iter()
        .all(|p| matches!(p, Part::Lit(l) if l.chars().all(|c| c == '/')))
    {
        return None;
    }
    let name = e
        .trim()
        .strip_prefix("find_in_parent_folders(")?
        .strip_suffix(')')?
        .trim()
        .strip_prefix('"')?
        .strip_suffix('"')?;
    if name.is_empty() || name.contains(['$', '{', '}', '"', '\\']) || name.starts_with('/') {
        return None;
    }
    let mut d = dir.to_string();
    let mut up = String::new();
    while !d.is_empty() {
        d = d
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        up.push_str("../");
        let candidate = join_rel(&d, name)?;
        if module_files(&candidate, cx).is_some() {
            return Some(format!("{up}{name}"));
        }
    }
    None
}

/// What a unit calls: its local module source, the span naming it, the inputs it passes and
/// whether variables it leaves unset are unknown.
struct UnitCall {
    source: String,
    at: Span,
    inputs: Vec<(String, Node)>,
    rest_unknown: bool,
}

fn unit_call(
    b: &Block,
    values: Syms,
    at: (&str, &LinkCx<'_>),
    siblings: Option<&Siblings>,
    depth: usize,
) -> Option<UnitCall> {
    let mut values = values;
    for inc in b.blocks("include") {
        values.extend(exposed(inc, at));
    }
    let mut syms = symbols(b, values);
    let tf = b.blocks("terraform").last()?;
    let mut src = tf.attr("source")?.clone();
    unit_dir_prefix(&mut src);
    resolve(&mut src, &syms);
    let source = source_path(&src, at.0, at.1, false)?;
    if depth == 0 && b.blocks("dependency").next().is_some() {
        let deps = dependency_outputs(b, &syms, at, siblings);
        if !deps.is_empty() {
            syms.extend(deps);
            syms = symbols(b, syms);
        }
    }
    let mut inputs = Vec::new();
    // An `include`d configuration may set any variable the unit does not: its `inputs` are
    // read when the scan can (under the unit's own), else the unit's other variables are
    // unknown.
    let mut rest_unknown = false;
    for inc in b.blocks("include") {
        match included_inputs(inc, at) {
            Some(entries) => {
                for (k, v) in entries {
                    inputs.retain(|(x, _): &(String, Node)| *x != k);
                    inputs.push((k, v));
                }
            }
            None => rest_unknown = true,
        }
    }
    if let Some(v) = b.attr("inputs") {
        let mut v = v.clone();
        resolve(&mut v, &syms);
        match &v.value {
            Value::Map(entries) => {
                for e in entries {
                    // (a repeated key: the last wins)
                    inputs.retain(|(k, _): &(String, Node)| *k != e.key);
                    inputs.push((e.key.clone(), e.value.clone()));
                }
            }
            // `inputs` the scan cannot read: which variables they set is unknown.
            _ => rest_unknown = true,
        }
    }
    Some(UnitCall {
        source,
        at: src.span,
        inputs,
        rest_unknown,
    })
}

/// The other units of a stack by their `path`: (the unit's directory in the repository, its
/// `values`), for a unit's `dependency "x" { config_path = "../PATH" }`.
type Siblings = std::collections::HashMap<String, (String, Syms)>;

/// `dependency.NAME.outputs.OUT`: the outputs of the module the unit at `config_path` calls,
/// computed with that unit's inputs (a variable it may leave to an unread include is unknown;
/// its own dependencies are not followed). In a stack, `config_path` names a sibling unit by
/// its `path`; else a directory of the scan relative to the unit's. What the scan cannot
/// compute stays unknown, named by the reference.
fn dependency_outputs(
    b: &Block,
    syms: &Syms,
    (dir, cx): (&str, &LinkCx<'_>),
    siblings: Option<&Siblings>,
) -> Syms {
    let mut out = Syms::new();
    for d in b.blocks("dependency") {
        let Some(name) = d.label(0) else { continue };
        let Some(mut path) = d.attr("config_path").cloned() else {
            continue;
        };
        unit_dir_prefix(&mut path);
        resolve(&mut path, syms);
        let (unit_dir, values) = match siblings {
            Some(sib) => {
                let Some(p) = path.as_str() else { continue };
                let key = p.trim().trim_start_matches("../").trim_end_matches('/');
                match sib.get(key) {
                    Some((d, v)) => (d.clone(), v.clone()),
                    None => continue,
                }
            }
            None => {
                let Some(d) = source_path(&path, dir, cx, true).and_then(|p| join_rel(dir, &p))
                else {
                    continue;
                };
                (d, Syms::new())
            }
        };
        if unit_dir == dir {
            continue;
        }
        let Some((_, unit)) = wrapper_in(&unit_dir, UNIT, cx) else {
            continue;
        };
        let Some(uc) = unit_call(&unit, values, (&unit_dir, cx), None, 1) else {
            continue;
        };
        let Some(target) = super::join_dir(&unit_dir, &uc.source) else {
            continue;
        };
        if target == dir || cx.stack.contains(&target) {
            continue;
        }
        let mut inputs = Syms::new();
        if uc.rest_unknown
            && let Some(m) = module_files(&target, cx)
        {
            super::unknown_variables(&m.parsed, &mut inputs);
        }
        for (k, v) in uc.inputs {
            inputs.insert(format!("var.{k}"), v);
        }
        let Some(values) = super::outputs_of(&unit_dir, &target, inputs, cx) else {
            continue;
        };
        for (o, v) in values.iter() {
            let key = format!("dependency.{name}.outputs.{o}");
            let mut v = v.clone();
            super::rename_unknowns(&mut v, &key);
            out.insert(key, v);
        }
    }
    out
}

/// Most `read_terragrunt_config` files one `include` reads, however deep.
const MAX_CONFIG_READS: usize = 8;

/// The `inputs` of the configuration an `include` block names
/// (`find_in_parent_folders("root.hcl")`, `find_in_parent_folders()`, or a path relative to
/// the unit), read from the scan with its `locals`; a local that is
/// `read_terragrunt_config(…)` of a file of the scan is that file's `inputs` and `locals`.
/// Each value is placed at the `include` block (the unit's line that brings it in). `None`
/// when the file is not in the scan or its `inputs` are not a map the scan can read.
fn included_inputs(inc: &Block, (dir, cx): (&str, &LinkCx<'_>)) -> Option<Vec<(String, Node)>> {
    let b = read_config(inc.attr("path")?, dir, cx)?;
    let mut reads = MAX_CONFIG_READS;
    let syms = config_symbols(&b, dir, cx, &mut reads);
    let mut v = b.attr("inputs")?.clone();
    resolve(&mut v, &syms);
    let Value::Map(entries) = v.value else {
        return None;
    };
    Some(
        entries
            .into_iter()
            .map(|e| {
                let mut v = e.value;
                respan(&mut v, inc.header);
                (e.key, v)
            })
            .collect(),
    )
}

/// What an `include "NAME" { expose = true }` makes readable in the unit:
/// `include.NAME.locals.X` and `include.NAME.inputs.X` of the included configuration, read
/// as for its inputs ([`included_inputs`]) and placed at the `include` block.
fn exposed(inc: &Block, (dir, cx): (&str, &LinkCx<'_>)) -> Syms {
    let mut out = Syms::new();
    let (Some(name), Some(true)) = (
        inc.label(0),
        inc.attr("expose")
            .map(|e| matches!(e.value, Value::Bool(true))),
    ) else {
        return out;
    };
    let Some(b) = inc.attr("path").and_then(|p| read_config(p, dir, cx)) else {
        return out;
    };
    let mut reads = MAX_CONFIG_READS;
    let syms = config_symbols(&b, dir, cx, &mut reads);
    for (k, v) in &syms {
        if let Some(l) = k.strip_prefix("local.").filter(|l| !l.contains('.')) {
            let mut v = v.clone();
            respan(&mut v, inc.header);
            out.insert(format!("include.{name}.locals.{l}"), v);
        }
    }
    if let Some(v) = b.attr("inputs") {
        let mut v = v.clone();
        resolve(&mut v, &syms);
        if let Value::Map(entries) = v.value {
            for e in entries {
                let mut v = e.value;
                respan(&mut v, inc.header);
                out.insert(format!("include.{name}.inputs.{}", e.key), v);
            }
        }
    }
    out
}

/// A Terragrunt configuration file a unit in `dir` names by `path`, read and parsed.
fn read_config(path: &Node, dir: &str, cx: &LinkCx<'_>) -> Option<Block> {
    let text = match &path.value {
        Value::Str(t) => t.display(),
        _ => return None,
    };
    let t = text.trim();
    let text = if let Some(arg) = t
        .strip_prefix("${find_in_parent_folders(")
        .and_then(|x| x.strip_suffix(")}"))
    {
        let name = arg.trim().trim_matches('"');
        let name = if name.is_empty() {
            "terragrunt.hcl"
        } else {
            name
        };
        if name.contains(['$', '{', '}', '"']) || name.starts_with('/') {
            return None;
        }
        // The nearest directory above the unit's holding the file (a unit at the scan root
        // has none in the scan).
        let mut d = dir.to_string();
        loop {
            if d.is_empty() {
                return None;
            }
            let parent = d
                .rsplit_once('/')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default();
            let candidate = join_rel(&parent, name)?;
            if let Some((_, text)) = (cx.load)(&candidate) {
                break text;
            }
            d = parent;
        }
    } else {
        let mut p = path.clone();
        unit_dir_prefix(&mut p);
        let p = source_path(&p, dir, cx, true)?;
        (cx.load)(&join_rel(dir, &p)?)?.1
    };
    hcl::parse_as_block(&text, UNIT).ok()
}

/// A configuration's locals, where `read_terragrunt_config(find_in_parent_folders("x.hcl"))`
/// (or a relative path) of a file of the scan is that file's `inputs` and `locals` as an
/// object (at most [`MAX_CONFIG_READS`] files); paths are found from the unit's directory `dir`, as Terragrunt
/// evaluates an included file in the unit's context.
fn config_symbols(b: &Block, dir: &str, cx: &LinkCx<'_>, reads: &mut usize) -> Syms {
    let mut pre = Syms::new();
    pre.insert(
        super::TERRAGRUNT_DIR.into(),
        Node::new(b.span, Value::Str(Template::lit(dir))),
    );
    // The locals before any file is read, when a path is built from them
    // (`find_in_parent_folders("${local.environment}_vars.hcl")`).
    let initial = pre.clone();
    let mut base: Option<Syms> = None;
    for l in b.blocks("locals") {
        for e in &l.attrs {
            let Value::Str(t) = &e.value.value else {
                continue;
            };
            let [Part::Unknown(x)] = t.parts.as_slice() else {
                continue;
            };
            let Some(arg) = x
                .trim()
                .strip_prefix("read_terragrunt_config(")
                .and_then(|a| a.strip_suffix(')'))
            else {
                continue;
            };
            // (a repository's configuration cannot make the scan read without bound)
            if *reads == 0 {
                continue;
            }
            *reads -= 1;
            // (a literal path, or a call [`read_config`] reads from its `${…}` text, with the
            // locals it names that are known strings)
            let arg = if arg.contains("${local.") {
                let base = base.get_or_insert_with(|| symbols(b, initial.clone()));
                substitute_locals(arg.trim(), base)
            } else {
                arg.trim().to_string()
            };
            let arg = arg.as_str();
            let text = match arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
                Some(lit) if !lit.contains("${") => lit.to_string(),
                _ => format!("${{{arg}}}"),
            };
            let path = Node::new(e.value.span, Value::Str(Template::lit(text)));
            let Some(other) = read_config(&path, dir, cx) else {
                continue;
            };
            // (a file it reads in turn is read with what is left; it cannot read its reader
            // again past that)
            let osyms = config_symbols(&other, dir, cx, reads);
            let mut fields = Vec::new();
            for (key, attr) in [("inputs", other.attr("inputs")), ("locals", None)] {
                let v = match attr {
                    Some(v) => {
                        let mut v = v.clone();
                        resolve(&mut v, &osyms);
                        v
                    }
                    None if key == "locals" => {
                        let entries = osyms
                            .iter()
                            .filter_map(|(k, v)| {
                                // (the locals themselves: not the attribute paths of their
                                // values, which `bind_each` adds)
                                Some(Entry {
                                    key: k
                                        .strip_prefix("local.")
                                        .filter(|k| !k.contains('.'))?
                                        .to_string(),
                                    key_span: v.span,
                                    value: v.clone(),
                                })
                            })
                            .collect::<Vec<_>>();
                        let mut entries = entries;
                        entries.sort_by(|a, b| a.key.cmp(&b.key));
                        Node::new(e.value.span, Value::Map(entries))
                    }
                    None => continue,
                };
                fields.push(Entry {
                    key: key.into(),
                    key_span: e.value.span,
                    value: v,
                });
            }
            let obj = Node::new(e.value.span, Value::Map(fields));
            bind_each(&mut pre, format!("local.{}", e.key), &obj, 0);
        }
    }
    // The other locals, with those files read.
    let mut syms = symbols(b, pre.clone());
    syms.extend(pre);
    syms
}

/// `${local.NAME}` in `text` replaced by the local's value where it is a known string.
fn substitute_locals(text: &str, syms: &Syms) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${local.") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        match syms.get(&after[..j]).and_then(|v| v.as_str()) {
            Some(v) if !v.contains(['"', '$', '{', '}']) => out.push_str(&v),
            _ => out.push_str(&rest[i..i + 2 + j + 1]),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// Link the module a unit (`terragrunt.hcl` in `dir`) calls, with its inputs.
pub(super) fn link_unit(
    dir: &str,
    file: FileId,
    b: &Block,
    models: &mut DirFiles<FileModel>,
    cx: &LinkCx<'_>,
    out: &mut Linked,
) {
    let Some(u) = unit_call(b, Syms::new(), (dir, cx), None, 0) else {
        known_module(dir, file, b, models);
        return;
    };
    let call = CallSite {
        file,
        header: u.at,
        name: String::new(),
        how: "called by this Terragrunt unit with its `inputs`".into(),
        inputs: u.inputs,
        rest_unknown: u.rest_unknown,
        via: vec![],
        defaults: Syms::new(),
        root: false,
    };
    link_module(dir, &u.source, call, cx, out);
}

/// Link each unit of a stack (`terragrunt.stack.hcl` in `dir`) read from this repository: the
/// unit's `terragrunt.hcl` with the unit's `values`, then the module it calls; and each
/// nested `stack` with its `values`, the same way.
pub(super) fn link_stack(dir: &str, file: FileId, b: &Block, cx: &LinkCx<'_>, out: &mut Linked) {
    link_stack_with(dir, file, b, Syms::new(), cx, out);
}

/// A stack block's `values`, resolved: as `values.*` symbols, and as the arguments passed.
fn stack_values(u: &Block, syms: &Syms) -> (Syms, Vec<crate::model::CallerArg>) {
    let mut values = Syms::new();
    let mut passed = Vec::new();
    if let Some(v) = u.attr("values") {
        let mut v = v.clone();
        resolve(&mut v, syms);
        if let Value::Map(entries) = &v.value {
            for e in entries {
                bind_each(&mut values, format!("values.{}", e.key), &e.value, 0);
                passed.push(crate::model::CallerArg::new(e.key.clone(), &e.value));
            }
        }
    }
    (values, passed)
}

/// How many stacks deep nested `stack` blocks are followed.
const MAX_STACK_DEPTH: usize = 4;

fn link_stack_with(
    dir: &str,
    file: FileId,
    b: &Block,
    values: Syms,
    cx: &LinkCx<'_>,
    out: &mut Linked,
) {
    let syms = symbols(b, values);
    // The units first: their directories and values, by `path` (for `dependency` blocks).
    let mut units = Vec::new();
    let mut siblings = Siblings::new();
    for u in b.blocks("unit") {
        let Some(mut src) = u.attr("source").cloned() else {
            continue;
        };
        resolve(&mut src, &syms);
        let Some(unit_dir) = source_path(&src, dir, cx, true).and_then(|s| join_rel(dir, &s))
        else {
            continue;
        };
        if unit_dir == dir {
            continue;
        }
        let (values, passed) = stack_values(u, &syms);
        if let Some(mut p) = u.attr("path").cloned() {
            resolve(&mut p, &syms);
            if let Some(p) = p.as_str() {
                let key = p.trim().trim_matches('/').to_string();
                siblings.insert(key, (unit_dir.clone(), values.clone()));
            }
        }
        units.push((u, unit_dir, values, passed));
    }
    for (u, unit_dir, values, passed) in units {
        if cx.budget.get() == 0 {
            return;
        }
        let name = u.label(0).unwrap_or("").to_string();
        let Some((unit_file, unit)) = wrapper_in(&unit_dir, UNIT, cx) else {
            continue;
        };
        let Some(uc) = unit_call(&unit, values, (&unit_dir, cx), Some(&siblings), 0) else {
            continue;
        };
        // The stack is the outermost caller; the unit's file passes its inputs on.
        let inner = nested(
            cx,
            dir,
            Call {
                file,
                header: u.header,
                name: String::new(),
                how: format!(
                    "called by `unit \"{name}\"` of this Terragrunt stack with its `values`"
                ),
                inputs: passed,
                via: vec![unit_file],
                root: false,
            },
        );
        let call = CallSite {
            file: unit_file,
            header: uc.at,
            name: String::new(),
            how: "called by this Terragrunt unit with its `inputs`".into(),
            inputs: uc.inputs,
            rest_unknown: uc.rest_unknown,
            via: vec![],
            defaults: Syms::new(),
            root: false,
        };
        link_module(&unit_dir, &uc.source, call, &inner, out);
    }
    if cx.stack.len() >= MAX_STACK_DEPTH {
        return;
    }
    for st in b.blocks("stack") {
        let Some(mut src) = st.attr("source").cloned() else {
            continue;
        };
        resolve(&mut src, &syms);
        let Some(stack_dir) = source_path(&src, dir, cx, true).and_then(|s| join_rel(dir, &s))
        else {
            continue;
        };
        if stack_dir == dir || cx.stack.contains(&stack_dir) || cx.budget.get() == 0 {
            continue;
        }
        let Some((stack_file, inner_stack)) = wrapper_in(&stack_dir, STACK, cx) else {
            continue;
        };
        let name = st.label(0).unwrap_or("").to_string();
        let (values, passed) = stack_values(st, &syms);
        let inner = nested(
            cx,
            dir,
            Call {
                file,
                header: st.header,
                name: String::new(),
                how: format!(
                    "called by `stack \"{name}\"` of this Terragrunt stack with its `values`"
                ),
                inputs: passed,
                via: vec![stack_file],
                root: false,
            },
        );
        link_stack_with(&stack_dir, stack_file, &inner_stack, values, &inner, out);
    }
}

/// The Terragrunt file of directory `dir` read as `ident` ([`UNIT`], [`STACK`]): its id and block.
fn wrapper_in(dir: &str, ident: &str, cx: &LinkCx<'_>) -> Option<(FileId, Block)> {
    module_files(dir, cx)?.parsed.iter().find_map(|(id, f)| {
        f.blocks
            .iter()
            .find(|b| b.ident == ident)
            .map(|b| (*id, b.clone()))
    })
}

/// The linking context one call further down: `dir` on the stack, `call` on the chain.
fn nested<'a>(cx: &LinkCx<'a>, dir: &str, call: Call) -> LinkCx<'a> {
    let mut chain = cx.chain.clone();
    chain.push(call);
    let mut stack = cx.stack.clone();
    stack.push(dir.to_string());
    LinkCx {
        load: cx.load,
        load_dir: cx.load_dir,
        stack,
        chain,
        budget: cx.budget,
        parsed: cx.parsed,
        outputs: cx.outputs,
        repo: cx.repo,
    }
}

/// A unit whose remote source is one of the GitHub-OIDC modules oidc-lint knows by name
/// ([`super::modules`]: terraform-aws-modules, unfunco; from the registry or git, never
/// fetched): the role it renders with the unit's inputs, in the unit's file, as a `module`
/// block would. Not when an `include` or unread `inputs` may set what the module is judged on.
fn known_module(dir: &str, file: FileId, b: &Block, models: &mut DirFiles<FileModel>) {
    if b.blocks("include").next().is_some() {
        return;
    }
    let syms = symbols(b, Syms::new());
    let Some(tf) = b.blocks("terraform").last() else {
        return;
    };
    let Some(mut src) = tf.attr("source").cloned() else {
        return;
    };
    resolve(&mut src, &syms);
    if src.as_str().is_none() {
        return;
    }
    let mut attrs = vec![Entry {
        key: "source".into(),
        key_span: src.span,
        value: src,
    }];
    if let Some(v) = b.attr("inputs") {
        let mut v = v.clone();
        resolve(&mut v, &syms);
        let Value::Map(entries) = v.value else {
            return;
        };
        attrs.extend(entries);
    }
    let name = dir.rsplit('/').next().unwrap_or(dir);
    let call = Block {
        ident: "module".into(),
        labels: vec![if name.is_empty() { "terragrunt" } else { name }.to_string()],
        span: tf.span,
        header: tf.header,
        attrs,
        blocks: vec![],
    };
    super::modules::module(models, file, &call);
}
