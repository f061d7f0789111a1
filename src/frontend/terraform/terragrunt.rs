//! Terragrunt: a unit (`terragrunt.hcl`) whose `terraform { source }` is a local module
//! directory judges that module with the unit's `inputs` as its variables, through the same
//! local-module instances a `module` block makes ([`super::link_module`]); a stack
//! (`terragrunt.stack.hcl`) feeds each local unit's `values` to that unit's `inputs`
//! (`values.x`).
//!
//! Nothing is fetched or run. A remote source (`git::`, `tfr://`, a URL) is not followed. An
//! `include`d configuration of the scan (`find_in_parent_folders("root.hcl")`, no argument:
//! `terragrunt.hcl`, or a relative path) gives its `inputs` under the unit's own, evaluated in
//! the unit's context: `get_terragrunt_dir()` is the unit's directory, and a local that is
//! `read_terragrunt_config(…)` of a file of the scan is that file's `inputs` and `locals` (at
//! most 8 files per include). What only Terragrunt knows when it runs stays unknown: an include the scan
//! cannot read (then every variable the unit leaves unset is unknown, not its default),
//! `dependency` outputs, `run_cmd`, the environment, the account. A unit's relative
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
            "terraform" | "locals" | "include" | "unit"
        )
    });
    b.attrs.retain(|e| e.key == "inputs");
    let useful = if ident == STACK {
        b.blocks.iter().any(|c| c.ident == "unit")
    } else {
        b.blocks.iter().any(|c| c.ident == "terraform")
    };
    Ok(TfFile {
        blocks: if useful { vec![b] } else { vec![] },
    })
}

/// The symbols of a Terragrunt file: `values.*` (a stack unit's values), then its `locals`.
fn symbols(b: &Block, mut syms: Syms) -> Syms {
    // Locals may use other locals: a few rounds settle chains.
    for _ in 0..4 {
        let mut next = syms.clone();
        for l in b.blocks("locals") {
            for e in &l.attrs {
                let mut v = e.value.clone();
                resolve(&mut v, &syms);
                next.insert(format!("local.{}", e.key), v);
            }
        }
        syms = next;
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

/// What a unit calls: its local module source, the span naming it, the inputs it passes and
/// whether variables it leaves unset are unknown.
struct UnitCall {
    source: String,
    at: Span,
    inputs: Vec<(String, Node)>,
    rest_unknown: bool,
}

fn unit_call(b: &Block, values: Syms, at: (&str, &LinkCx<'_>)) -> Option<UnitCall> {
    let syms = symbols(b, values);
    let tf = b.blocks("terraform").last()?;
    let mut src = tf.attr("source")?.clone();
    unit_dir_prefix(&mut src);
    resolve(&mut src, &syms);
    let source = local_path(&src, false)?;
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
        let p = local_path(&p, true)?;
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
                                Some(Entry {
                                    key: k.strip_prefix("local.")?.to_string(),
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
    let Some(u) = unit_call(b, Syms::new(), (dir, cx)) else {
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
    };
    link_module(dir, &u.source, call, cx, out);
}

/// Link each local unit of a stack (`terragrunt.stack.hcl` in `dir`): the unit's
/// `terragrunt.hcl` with the unit's `values`, then the module it calls.
pub(super) fn link_stack(dir: &str, file: FileId, b: &Block, cx: &LinkCx<'_>, out: &mut Linked) {
    let syms = symbols(b, Syms::new());
    for u in b.blocks("unit") {
        let name = u.label(0).unwrap_or("").to_string();
        let Some(mut src) = u.attr("source").cloned() else {
            continue;
        };
        resolve(&mut src, &syms);
        let Some(unit_dir) = local_path(&src, true).and_then(|s| join_rel(dir, &s)) else {
            continue;
        };
        if unit_dir == dir || cx.budget.get() == 0 {
            continue;
        }
        let mut values = Syms::new();
        let mut passed = Vec::new();
        if let Some(v) = u.attr("values") {
            let mut v = v.clone();
            resolve(&mut v, &syms);
            if let Value::Map(entries) = &v.value {
                for e in entries {
                    bind_each(&mut values, format!("values.{}", e.key), &e.value, 0);
                    passed.push(crate::model::CallerArg::new(e.key.clone(), &e.value));
                }
            }
        }
        let Some(files) = module_files(&unit_dir, cx) else {
            continue;
        };
        let Some((unit_file, unit)) = files.parsed.iter().find_map(|(id, f)| {
            f.blocks
                .iter()
                .find(|b| b.ident == UNIT)
                .map(|b| (*id, b.clone()))
        }) else {
            continue;
        };
        let Some(uc) = unit_call(&unit, values, (&unit_dir, cx)) else {
            continue;
        };
        // The stack is the outermost caller; the unit's file passes its inputs on.
        let mut chain = cx.chain.clone();
        chain.push(Call {
            file,
            header: u.header,
            name: String::new(),
            how: format!("called by `unit \"{name}\"` of this Terragrunt stack with its `values`"),
            inputs: passed,
            via: vec![unit_file],
        });
        let mut stack = cx.stack.clone();
        stack.push(dir.to_string());
        let inner = LinkCx {
            load: cx.load,
            load_dir: cx.load_dir,
            stack,
            chain,
            budget: cx.budget,
            parsed: cx.parsed,
            outputs: cx.outputs,
        };
        let call = CallSite {
            file: unit_file,
            header: uc.at,
            name: String::new(),
            how: "called by this Terragrunt unit with its `inputs`".into(),
            inputs: uc.inputs,
            rest_unknown: uc.rest_unknown,
            via: vec![],
        };
        link_module(&unit_dir, &uc.source, call, &inner, out);
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
