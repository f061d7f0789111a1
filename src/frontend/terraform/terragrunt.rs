//! Terragrunt: a unit (`terragrunt.hcl`) whose `terraform { source }` is a local module
//! directory judges that module with the unit's `inputs` as its variables, through the same
//! local-module instances a `module` block makes ([`super::link_module`]); a stack
//! (`terragrunt.stack.hcl`) feeds each local unit's `values` to that unit's `inputs`
//! (`values.x`).
//!
//! Nothing is fetched or run. A remote source (`git::`, `tfr://`, a URL) is not followed; what
//! only Terragrunt knows when it runs stays unknown: an `include`d configuration (which may set
//! any variable the unit leaves unset: those are unknown, not their defaults), `dependency`
//! outputs, `read_terragrunt_config`, the environment, functions other than
//! `get_terragrunt_dir()`. A unit's relative `terraform.source` is read from the directory the
//! unit's file is in (for a stack's unit: its source directory in the repository).

use super::{
    Call, CallSite, DirFiles, LinkCx, Linked, Syms, TfFile, bind_each, join_rel, link_module,
    module_files, resolve,
};
use crate::model::FileModel;
use crate::source::hcl::{self, Block};
use crate::source::json::ParseFailure;
use crate::source::tree::Entry;
use crate::source::tree::{Node, Part, Value};
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

fn unit_call(b: &Block, values: Syms) -> Option<UnitCall> {
    let syms = symbols(b, values);
    let tf = b.blocks("terraform").last()?;
    let mut src = tf.attr("source")?.clone();
    unit_dir_prefix(&mut src);
    resolve(&mut src, &syms);
    let source = local_path(&src, false)?;
    let mut inputs = Vec::new();
    // An `include`d configuration may set any variable the unit does not.
    let mut rest_unknown = b.blocks("include").next().is_some();
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

/// Link the module a unit (`terragrunt.hcl` in `dir`) calls, with its inputs.
pub(super) fn link_unit(
    dir: &str,
    file: FileId,
    b: &Block,
    models: &mut DirFiles<FileModel>,
    cx: &LinkCx<'_>,
    out: &mut Linked,
) {
    let Some(u) = unit_call(b, Syms::new()) else {
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
        let Some(uc) = unit_call(&unit, values) else {
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
