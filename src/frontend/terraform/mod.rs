//! Terraform (`*.tf`) to the normalized model.
//!
//! Files are parsed one at a time (in parallel) into [`TfFile`]; Terraform resolves names
//! within a module, which is a directory, so [`link`] then groups the files of each directory,
//! resolves what is statically known (`var.x` with a literal `default`, `local.y`, provider
//! ARNs, `data.aws_iam_policy_document.x.json`) and builds policies, roles, providers and
//! access keys. What stays unknown is kept as an unknown part, never guessed.

use crate::frontend::iam_json::{Family, policy_from_tree, strings_of};
use crate::model::{
    AccessKey, Attached, CiValue, FileModel, NamedAttachment, NamedPolicy, PolicyRef, Role, SStr,
    Spanned, SubjectTemplate, Switch,
};
use crate::model::{OidcProvider, PolicyDoc, PolicyKind};
use crate::source::embedded::Embedded;
use crate::source::hcl::{self, Block};
use crate::source::json::{self, ParseFailure};
use crate::source::tree::{Entry, Node, Part, Style, Template, Value};
use crate::source::{FileId, SourceFile, Span};
use std::collections::HashMap;

pub mod azure;
mod eval;
pub mod gcp;
pub mod modules;
mod terragrunt;
pub mod tfe;

/// One parsed `.tf` file, waiting for its directory to be linked.
#[derive(Clone, Debug, Default)]
pub struct TfFile {
    pub blocks: Vec<Block>,
}

pub fn parse_file(src: &SourceFile) -> Result<TfFile, ParseFailure> {
    if is_var_file(&src.rel) {
        return parse_tfvars(&src.text);
    }
    if let Some(ident) = terragrunt::wrapper_of(&src.rel) {
        return terragrunt::parse(&src.text, ident);
    }
    Ok(TfFile {
        blocks: hcl::parse_blocks(&src.text, &relevant_block)?,
    })
}

/// Terragrunt's configuration files, linked with the directory they are in:
/// `terragrunt.hcl` (a unit) and `terragrunt.stack.hcl` (a stack).
pub fn is_terragrunt(rel: &str) -> bool {
    terragrunt::wrapper_of(rel).is_some()
}

/// The variable files Terraform loads by itself: `terraform.tfvars`, `*.auto.tfvars`.
pub fn is_tfvars(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    name == "terraform.tfvars" || name.ends_with(".auto.tfvars")
}

/// Any variables file (`*.tfvars`): loaded by Terraform itself ([`is_tfvars`], in the
/// directory of the `.tf` files), or passed with `-var-file` (a deployment of the directory).
pub fn is_var_file(rel: &str) -> bool {
    rel.to_ascii_lowercase().ends_with(".tfvars")
}

/// A variables file: its attributes, as one `tfvars` block. (The text is read as the body of
/// a block; spans are moved back onto the file's own bytes.)
fn parse_tfvars(text: &str) -> Result<TfFile, ParseFailure> {
    const OPEN: &str = "tfvars {\n";
    let wrapped = format!("{OPEN}{text}\n}}");
    let at = OPEN.len() as u32;
    let back = |s: Span| {
        let start = s.start.saturating_sub(at).min(text.len() as u32);
        let end = s.end.saturating_sub(at).min(text.len() as u32);
        Span::new(start as usize, end.max(start) as usize)
    };
    fn shift(n: &mut Node, back: &dyn Fn(Span) -> Span) {
        n.span = back(n.span);
        match &mut n.value {
            Value::Seq(items) => items.iter_mut().for_each(|i| shift(i, back)),
            Value::Map(entries) => entries.iter_mut().for_each(|e| {
                e.key_span = back(e.key_span);
                shift(&mut e.value, back)
            }),
            Value::Tagged(_, inner) => shift(inner, back),
            _ => {}
        }
    }
    let mut blocks =
        hcl::parse_blocks(&wrapped, &|ident, _| ident == "tfvars").map_err(|e| ParseFailure {
            offset: e.offset.saturating_sub(OPEN.len()).min(text.len()),
            message: e.message,
        })?;
    for b in blocks.iter_mut() {
        b.span = back(b.span);
        b.header = back(b.header);
        b.blocks.clear();
        for e in b.attrs.iter_mut() {
            e.key_span = back(e.key_span);
            shift(&mut e.value, &back);
        }
    }
    Ok(TfFile { blocks })
}

/// The values the variables files of a directory give (`terraform.tfvars` first, then the
/// `*.auto.tfvars` in name order, later ones winning), as `var.NAME` symbols.
fn tfvars_inputs(files: &DirFiles<&SourceFile>, parsed: &[(FileId, TfFile)], dir: &str) -> Syms {
    let mut vars: Vec<(bool, &str, &TfFile)> = parsed
        .iter()
        .map(|(id, f)| (files[*id].rel.as_str(), f))
        .filter(|(rel, _)| is_tfvars(rel) && parent_dir(rel) == dir)
        .map(|(rel, f)| (!rel.ends_with("terraform.tfvars"), rel, f))
        .collect();
    vars.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut out = Syms::new();
    for (_, _, f) in vars {
        for b in f.blocks.iter().filter(|b| b.ident == "tfvars") {
            for e in &b.attrs {
                out.insert(format!("var.{}", e.key), e.value.clone());
            }
        }
    }
    out
}

/// The top-level blocks linking reads: variables, locals and outputs (references: a local
/// module's outputs are values in its caller), modules (the GitHub-OIDC modules), and IAM resources and data sources. Everything else in a `.tf` file
/// (buckets, instances, outputs, providers…) is parsed for syntax but never converted or kept.
pub fn relevant_block(ident: &str, labels: &[&str]) -> bool {
    match ident {
        "variable" | "locals" | "module" | "output" => true,
        "resource" | "data" => labels.first().is_some_and(|t| {
            t.starts_with("aws_iam_")
                || is_subject_template_resource(t)
                || azure::relevant(t)
                || tfe::relevant(t)
                || gcp::relevant(t)
                || *t == "template_file"
                || ci_value_kind(t).is_some()
        }),
        _ => false,
    }
}

/// A GitHub Actions secret or variable resource: (is a secret, its name attribute, its value
/// attributes).
fn ci_value_kind(ty: &str) -> Option<(bool, &'static str, &'static [&'static str])> {
    match ty {
        "github_actions_secret"
        | "github_actions_environment_secret"
        | "github_actions_organization_secret" => Some((true, "secret_name", &["plaintext_value"])),
        "github_actions_variable"
        | "github_actions_environment_variable"
        | "github_actions_organization_variable" => Some((false, "variable_name", &["value"])),
        _ => None,
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

/// Reads a file of the scan by its path relative to the scan root (the templates and
/// documents `templatefile()`, `file()` and `data "template_file"` name): its id and text, or
/// `None` when it is no file of the scan (outside the tree, a link, ignored, too large).
pub type Loader<'a> = dyn Fn(&str) -> Option<(FileId, String)> + 'a;

/// Policy documents rendered from template files, by template file. The directory's models
/// refer to them as `PolicyRef { file: template, index }`, the index counting in this list;
/// the scan makes them the template file's policies.
/// Each with where it was rendered: (file, span of the call, how).
pub type Rendered = std::collections::BTreeMap<FileId, Vec<(PolicyDoc, FileId, Span, String)>>;

/// Lists the `.tf` files of a directory of the scan (relative to the scan root), read.
pub type DirLoader<'a> = dyn Fn(&str) -> Vec<(FileId, SourceFile)> + 'a;

/// A local module (`source = "./…"`/`"../…"`) linked with one caller's arguments: the models
/// of its files, judged on that caller's values.
pub struct Instance {
    /// The module's files and their models for this caller.
    pub models: Vec<(FileId, FileModel)>,
    /// The module's files, read.
    pub sources: Vec<(FileId, SourceFile)>,
    /// The outermost `module` block of the chain calling it: (file, span, how it is named).
    pub caller: (FileId, Span, String),
    /// Every `module` block of the chain, innermost first: its file and the arguments it
    /// passes (name, value span in that file).
    pub callers: Vec<(FileId, Vec<crate::model::CallerArg>)>,
    /// The caller was linked as a directory of its own (not itself as a module instance): when
    /// the caller's directory is a module some other caller instantiates, this instance (with
    /// the caller's unknown inputs) is superseded by the one through that caller.
    pub top_level: bool,
    /// Files of callers linked on the way, not as directories of their own (a Terragrunt
    /// stack's unit configuration): their own linking, with unknown values, is superseded too.
    pub via: Vec<FileId>,
}

/// What linking a directory produced beyond its own files' models.
#[derive(Default)]
pub struct Linked {
    pub rendered: Rendered,
    pub instances: Vec<Instance>,
}

/// Deepest chain of local modules followed.
const MAX_MODULE_DEPTH: usize = 4;
/// Most local-module instances one directory's linking builds (callers × nested calls): a
/// repository fanning calls out cannot make the scan's work grow without bound; past it,
/// further modules are linked alone only.
const MAX_INSTANCES: usize = 32;

/// Link the Terraform files of one directory (a module): resolve references and fill the
/// models. `files`, `parsed` and `models` hold the directory's files, by id; `load` reads the
/// templates they render, `load_dir` the local modules they call.
pub fn link_dir(
    files: &DirFiles<&SourceFile>,
    parsed: Vec<(FileId, TfFile)>,
    models: &mut DirFiles<FileModel>,
    load: &Loader<'_>,
    load_dir: &DirLoader<'_>,
    repo: Option<&str>,
) -> Linked {
    if parsed.is_empty() {
        return Linked::default();
    }
    let mut out = Linked::default();
    let budget = std::cell::Cell::new(MAX_INSTANCES);
    let cache = std::cell::RefCell::new(HashMap::new());
    let outputs = std::cell::RefCell::new(OutputCache::default());
    let cx = LinkCx {
        load,
        load_dir,
        stack: vec![],
        chain: vec![],
        budget: &budget,
        parsed: &cache,
        outputs: &outputs,
        repo,
    };
    let dir = dir_of(files, &parsed);
    let inputs = tfvars_inputs(files, &parsed, &dir);
    let var_files = var_files(files, &parsed, &dir);
    // The configuration its deployments link: the directory's own files (a variables file is
    // not part of it), read once for all of them.
    let deployed = (!var_files.is_empty()).then(|| {
        let parsed: Vec<(FileId, TfFile)> = parsed
            .iter()
            .filter(|(id, _)| !is_var_file(&files[*id].rel))
            .cloned()
            .collect();
        ModuleFiles {
            sources: parsed
                .iter()
                .map(|(id, _)| (*id, copied(files[*id])))
                .collect(),
            parsed,
        }
    });
    link_with(files, parsed, models, &inputs, &cx, &mut out);
    let Some(module) = &deployed else {
        return out;
    };
    // Each `-var-file` is a deployment of the directory: linked again with its values over
    // the automatic ones, like a module instance its caller's (the variables file is the
    // caller: a finding caused by a value it sets is reported on its line).
    for (file, first, values) in var_files {
        // (the automatic files' values under the variables file's: not its arguments, their
        // text is in those files)
        let set: std::collections::HashSet<String> =
            values.iter().map(|(k, _)| format!("var.{k}")).collect();
        let defaults: Syms = inputs
            .iter()
            .filter(|(k, _)| !set.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let rel = &files[file].rel;
        let call = CallSite {
            file,
            header: first,
            name: String::new(),
            how: format!(
                "deployed with `-var-file={}`",
                rel.strip_prefix(&format!("{dir}/")).unwrap_or(rel)
            ),
            inputs: values,
            rest_unknown: false,
            via: vec![],
            defaults,
            root: true,
        };
        // (each deployment with the instance budget of a directory of its own)
        let budget = std::cell::Cell::new(MAX_INSTANCES);
        let vcx = LinkCx {
            budget: &budget,
            stack: vec![],
            chain: vec![],
            ..cx
        };
        link_instance(rel, module, call, &vcx, &mut out);
    }
    out
}

/// A copy of a file read for linking (an instance keeps the files it has anything in).
fn copied(f: &SourceFile) -> SourceFile {
    SourceFile::new(f.path.clone(), f.rel.clone(), f.text.clone(), f.format).with_bom(f.bom())
}

/// A JSON heredoc anywhere in a variables file's value (`custom_policy = <<EOF {…} EOF` in a
/// map of projects) read as the document it is, where its text is (a few levels deep).
fn heredoc_documents(v: &mut Node, text: &str, depth: usize) {
    match &mut v.value {
        Value::Tagged(tag, _) if tag == "heredoc" => {
            if let Some(doc) = heredoc_document(text, v.span, &Syms::new()) {
                v.value = Value::Tagged("jsonencode".into(), Box::new(doc));
            }
        }
        Value::Map(entries) if depth < 4 => entries
            .iter_mut()
            .for_each(|e| heredoc_documents(&mut e.value, text, depth + 1)),
        Value::Seq(items) if depth < 4 => items
            .iter_mut()
            .for_each(|i| heredoc_documents(i, text, depth + 1)),
        _ => {}
    }
}

/// A `-var-file`: the file, where its first value is, and the variables it sets.
type VarFile = (FileId, Span, Vec<(String, Node)>);

/// Most `-var-file` deployments of one directory linked.
const MAX_VAR_FILES: usize = 8;

/// The `-var-file`s of a directory (its `*.tfvars` other than those Terraform loads itself,
/// and those in directories below it without `.tf` files): (file, where its first value is,
/// the variables it sets). Only a file that sets the directory's declared variables (at least
/// half of what it sets) is one: a variables file of some other configuration is not read
/// as this one's.
fn var_files(
    files: &DirFiles<&SourceFile>,
    parsed: &[(FileId, TfFile)],
    dir: &str,
) -> Vec<VarFile> {
    let declared: std::collections::HashSet<&str> = parsed
        .iter()
        .flat_map(|(_, f)| f.blocks.iter().filter(|b| b.ident == "variable"))
        .filter_map(|b| b.label(0))
        .collect();
    let mut out: Vec<VarFile> = parsed
        .iter()
        .filter(|(id, _)| {
            let rel = &files[*id].rel;
            is_var_file(rel) && !(is_tfvars(rel) && parent_dir(rel) == dir)
        })
        .filter_map(|(id, f)| {
            let values: Vec<(String, Node)> = f
                .blocks
                .iter()
                .filter(|b| b.ident == "tfvars")
                .flat_map(|b| &b.attrs)
                .map(|e| {
                    let mut v = e.value.clone();
                    heredoc_documents(&mut v, &files[*id].text, 0);
                    (e.key.clone(), v)
                })
                .collect();
            let known = values
                .iter()
                .filter(|(k, _)| declared.contains(k.as_str()))
                .count();
            let first = f
                .blocks
                .iter()
                .flat_map(|b| &b.attrs)
                .map(|e| e.key_span)
                .next()?;
            (known > 0 && known * 2 >= values.len()).then_some((*id, first, values))
        })
        .collect();
    out.sort_by(|a, b| files[a.0].rel.cmp(&files[b.0].rel));
    out.truncate(MAX_VAR_FILES);
    out
}

/// How a directory is being linked: the readers, and the chain of module directories above
/// it (a module calling itself, directly or not, is not followed again).
struct LinkCx<'a> {
    load: &'a Loader<'a>,
    load_dir: &'a DirLoader<'a>,
    stack: Vec<String>,
    /// The `module` blocks above, outermost first.
    chain: Vec<Call>,
    /// Instances left to build ([`MAX_INSTANCES`]), shared by the whole linking.
    budget: &'a std::cell::Cell<usize>,
    /// Module directories read and parsed once per linking (many callers share one module).
    parsed: &'a std::cell::RefCell<HashMap<String, std::rc::Rc<ModuleFiles>>>,
    /// Local modules' outputs by module directory and the arguments they were computed with,
    /// at most [`MAX_OUTPUT_EVALS`] computations per linking.
    outputs: &'a std::cell::RefCell<OutputCache>,
    /// `OWNER/REPO` of the scanned repository, when known: a Terragrunt source naming it
    /// (`git::git@github.com:OWNER/REPO.git//units/x?ref=v1`) is read from the scan.
    repo: Option<&'a str>,
}

/// Module outputs computed during one linking: by (module directory, its inputs as text).
#[derive(Default)]
struct OutputCache {
    done: HashMap<(String, String), std::rc::Rc<Syms>>,
    computed: usize,
}

/// Most local-module output computations one directory's linking makes (each reads the
/// module's locals with one caller's arguments).
const MAX_OUTPUT_EVALS: usize = 64;

/// A local module's files, read and parsed.
struct ModuleFiles {
    sources: Vec<(FileId, SourceFile)>,
    parsed: Vec<(FileId, TfFile)>,
}

#[derive(Clone)]
struct Call {
    file: FileId,
    header: Span,
    name: String,
    how: String,
    inputs: Vec<crate::model::CallerArg>,
    via: Vec<FileId>,
    /// A `-var-file` deploying a root configuration ([`CallSite::root`]).
    root: bool,
}

fn link_with(
    files: &DirFiles<&SourceFile>,
    mut parsed: Vec<(FileId, TfFile)>,
    models: &mut DirFiles<FileModel>,
    inputs: &Syms,
    cx: &LinkCx<'_>,
    out: &mut Linked,
) {
    let dir = dir_of(files, &parsed);
    // (a module instance: its caller's values are all there is; a root configuration, alone
    // or deployed with a `-var-file`, may get more from the command line)
    let instance = cx.chain.last().is_some_and(|c| !c.root);
    // (a `-var-file` deployment: the variables the file sets)
    let deployed: Option<Vec<String>> = cx
        .chain
        .last()
        .filter(|c| c.root)
        .map(|c| c.inputs.iter().map(|a| format!("var.{}", a.name)).collect());
    let syms = symbols(&parsed, inputs, instance, Some((&dir, cx)));
    // The variables' defaults, for a `dynamic` block they switch off (copied: the blocks are
    // rewritten below; only in a directory linked as itself that has such a block).
    let dynamic = parsed.iter().any(|(_, f)| f.blocks.iter().any(has_dynamic));
    let defaults: HashMap<String, Option<Node>> = if dynamic && !instance {
        parsed
            .iter()
            .flat_map(|(_, f)| f.blocks.iter().filter(|b| b.ident == "variable"))
            .filter_map(|b| Some((b.label(0)?.to_string(), b.attr("default").cloned())))
            .collect()
    } else {
        HashMap::new()
    };
    let defaults: HashMap<String, Option<&Node>> = defaults
        .iter()
        .map(|(k, v)| (k.clone(), v.as_ref()))
        .collect();
    for (id, f) in parsed.iter_mut() {
        let resolving = Resolving::of(*id);
        // (a Terragrunt file has its own symbols)
        for b in f.blocks.iter_mut() {
            if b.ident != terragrunt::UNIT && b.ident != terragrunt::STACK {
                resolve_block(b, &syms);
                if dynamic {
                    let mut switches = Vec::new();
                    expand_dynamic(b, &files[*id].text, (&defaults, instance), &mut switches, 0);
                    models[*id].switches.extend(switches);
                }
            }
        }
        expand_each(&mut f.blocks, &syms);
        drop(resolving);
        // In a module instance, what the caller's values switch off is not created at all
        // (linked alone, a block off by default is judged "when enabled" instead); in a
        // `-var-file` deployment, what a variable the file sets switches off.
        if instance {
            f.blocks.retain(|b| !switched_off(b));
        } else if let Some(set) = &deployed {
            let text = &files[*id].text;
            f.blocks.retain(|b| {
                !(switched_off(b) && switch_reads(b, text).is_some_and(|e| mentions_any(e, set)))
            });
        }
    }
    let mut m = Module::new(&parsed, files, syms, cx.load);
    m.rendered = std::mem::take(&mut out.rendered);
    m.build(models);
    out.rendered = std::mem::take(&mut m.rendered);
    // (module instances are copies for the AWS judgement; the other clouds read each
    // directory once)
    if cx.chain.is_empty() {
        gcp::link(&parsed, models);
        azure::build(&parsed, files, models);
        tfe::link(&parsed, models);
    }
    let calls: Vec<(FileId, &Block)> = parsed
        .iter()
        .flat_map(|(id, f)| f.blocks.iter().map(move |b| (*id, b)))
        .filter(|(_, b)| b.ident == "module")
        .collect();
    let mut syms = std::mem::take(&mut m.syms);
    drop(m);
    // A policy document of this module passed to a module (`policy = data.….x.json`): the
    // document itself, which the called module cannot name.
    // (only those an argument names)
    let named: std::collections::HashSet<String> = calls
        .iter()
        .flat_map(|(_, b)| &b.attrs)
        .filter_map(|e| document_reference(&e.value))
        .collect();
    if !named.is_empty() {
        for (_, f) in &parsed {
            for b in &f.blocks {
                if b.ident == "data"
                    && b.label(0) == Some("aws_iam_policy_document")
                    && let Some(n) = b.label(1)
                {
                    let key = format!("data.aws_iam_policy_document.{n}.json");
                    if named.contains(&key) {
                        let doc = policy_document(b);
                        let doc = Value::Tagged("jsonencode".into(), Box::new(doc));
                        syms.insert(key, Node::new(b.span, doc));
                    }
                }
            }
        }
    }
    for (id, b) in calls {
        instantiate(&dir, (id, &files[id].text), b, &syms, cx, out);
    }
    // Terragrunt units and stacks of a directory linked as itself (a stack links its units'
    // files on its own).
    if cx.chain.is_empty() {
        for (id, f) in &parsed {
            for b in &f.blocks {
                if b.ident == terragrunt::UNIT {
                    terragrunt::link_unit(&dir, *id, b, models, cx, out);
                } else if b.ident == terragrunt::STACK {
                    terragrunt::link_stack(&dir, *id, b, cx, out);
                }
            }
        }
    }
}

/// Policy and attachment resources read once per instance of their `for_each`.
const EACH_RESOURCES: &[&str] = &[
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_role_policy_attachments_exclusive",
    "aws_iam_policy",
];

/// A policy or attachment resource whose `for_each` is a known collection (`toset(var.arns)`,
/// a map of policies the caller passes) or whose `count` is a known number: one block per key
/// or index (`NAME["key"]`, `NAME[0]`, Terraform's addresses), with `each.key`/`each.value`
/// (`count.index`) bound in its arguments (`policy_arn = each.value`, `var.arns[count.index]`).
/// An unknown collection keeps the one block, its `each.*` unknown.
fn expand_each(blocks: &mut Vec<Block>, syms: &Syms) {
    let wanted = |b: &Block| {
        b.ident == "resource"
            && b.label(0).is_some_and(|t| EACH_RESOURCES.contains(&t))
            && (b.attr("for_each").is_some() || b.attr("count").is_some())
    };
    if !blocks.iter().any(wanted) {
        return;
    }
    // (`var.arns[count.index]`: the module's symbols with the index; copied once)
    let mut indexed: Option<Syms> = None;
    let mut budget = MAX_EACH_COPIES;
    let mut out = Vec::with_capacity(blocks.len());
    for b in std::mem::take(blocks) {
        if !wanted(&b) {
            out.push(b);
            continue;
        }
        let instances = expansions(&b);
        // (past the budget a block stays one, its `each.*` unknown)
        if instances.iter().all(|(_, each)| each.is_empty()) || instances.len() > budget {
            out.push(b);
            continue;
        }
        budget -= instances.len();
        for (key, each) in instances {
            let each = if b.attr("for_each").is_none() {
                let all = indexed.get_or_insert_with(|| syms.clone());
                all.extend(each);
                &*all
            } else {
                &each
            };
            let mut one = b.clone();
            if let (Some((k, _)), Some(label)) = (&key, one.labels.get_mut(1)) {
                *label = format!("{label}[{k}]");
            }
            for e in one
                .attrs
                .iter_mut()
                .filter(|e| e.key != "for_each" && e.key != "count")
            {
                resolve(&mut e.value, each);
            }
            for c in one.blocks.iter_mut() {
                resolve_block(c, each);
            }
            out.push(one);
        }
    }
    *blocks = out;
}

/// Most block copies [`expand_each`] makes in one directory (or module instance).
const MAX_EACH_COPIES: usize = 256;

/// Whether a `dynamic` block is nested anywhere in `b`.
fn has_dynamic(b: &Block) -> bool {
    b.blocks
        .iter()
        .any(|c| c.ident == "dynamic" || has_dynamic(c))
}

/// Nested `dynamic "NAME" { for_each = …; iterator = …; content { … } }` blocks replaced by
/// the `NAME` blocks they generate: one per element of a known collection, with
/// `ITERATOR.key`/`ITERATOR.value` (and its attributes) bound in the content. A collection the
/// scan cannot know is one block with the iterator unknown; one empty because of a variable's
/// default (`var.enabled ? [1] : []`) is one such block judged "when enabled" (a [`Switch`]
/// on the `dynamic` block, read from the file's `text`); a literal empty one, or an empty one
/// in a module `instance` (its caller's values), is none.
fn expand_dynamic(
    b: &mut Block,
    text: &str,
    (defaults, instance): (&HashMap<String, Option<&Node>>, bool),
    switches: &mut Vec<Switch>,
    depth: usize,
) {
    if depth > 8
        || !b
            .blocks
            .iter()
            .any(|c| c.ident == "dynamic" || !c.blocks.is_empty())
    {
        return;
    }
    let mut out = Vec::with_capacity(b.blocks.len());
    for mut c in std::mem::take(&mut b.blocks) {
        if c.ident != "dynamic" {
            expand_dynamic(&mut c, text, (defaults, instance), switches, depth + 1);
            out.push(c);
            continue;
        }
        let (Some(name), Some(content)) = (
            c.label(0).map(str::to_string),
            c.blocks.iter().find(|x| x.ident == "content").cloned(),
        ) else {
            continue;
        };
        let iterator = c
            .attr("iterator")
            .and_then(|n| n.as_str().or_else(|| n.as_template().map(|t| t.display())))
            .unwrap_or_else(|| name.clone());
        let each: Option<Vec<(Node, Node)>> = match c.attr("for_each").map(|n| &n.value) {
            Some(Value::Seq(items)) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Node::new(v.span, Value::Num(i.to_string())), v.clone()))
                    .collect(),
            ),
            Some(Value::Map(entries)) => Some(
                entries
                    .iter()
                    .map(|e| (str_node(e.key_span, &e.key), e.value.clone()))
                    .collect(),
            ),
            _ => None,
        };
        let mut made: Vec<Block> = Vec::new();
        let each_unknown = each.is_none();
        match each {
            Some(items) if !items.is_empty() => {
                for (k, v) in items.into_iter().take(MAX_INSTANCES) {
                    let mut syms = Syms::new();
                    syms.insert(format!("{iterator}.key"), k);
                    bind_each(&mut syms, format!("{iterator}.value"), &v, 0);
                    let mut one = content.clone();
                    resolve_block(&mut one, &syms);
                    made.push(one);
                }
            }
            // (in a module instance, what the caller's values switch off is not created)
            Some(_) if instance => {}
            Some(_) => {
                let at = c.attr("for_each").map(|n| n.span).unwrap_or(c.header);
                let expr = text.get(at.start as usize..at.end as usize).unwrap_or("");
                if let Some(note) = empty_by_default(expr, defaults) {
                    switches.push(Switch {
                        span: c.span,
                        at,
                        note,
                    });
                    made.push(content.clone());
                }
            }
            None => made.push(content.clone()),
        }
        // A condition the scan cannot name (an unknown collection, or a test or key it cannot
        // compute) stays a `dynamic` block: its statement is not judged (never read as absent).
        let named = |x: &Block| {
            ["test", "variable"]
                .iter()
                .all(|k| x.attr(k).and_then(|n| n.as_str()).is_some())
        };
        if name == "condition" && (each_unknown || !made.iter().all(named)) {
            out.push(c);
            continue;
        }
        for mut one in made {
            one.ident = name.clone();
            one.labels.clear();
            one.header = c.header;
            one.span = c.span;
            expand_dynamic(&mut one, text, (defaults, instance), switches, depth + 1);
            out.push(one);
        }
    }
    b.blocks = out;
}

/// Whether a block's evaluated `count`/`for_each` creates it: `Some(false)` for a `count` of
/// 0 or an empty collection, `Some(true)` for a positive number or a non-empty collection,
/// `None` when neither is known.
fn created(b: &Block) -> Option<bool> {
    let number = |n: &str| match n.trim().parse::<f64>() {
        Ok(0.0) => Some(false),
        Ok(n) if n > 0.0 => Some(true),
        _ => None,
    };
    match (
        b.attr("count").map(|n| &n.value),
        b.attr("for_each").map(|n| &n.value),
    ) {
        (Some(Value::Num(n)), _) => number(n),
        // (`count = "${var.create ? 1 : 0}"`: a string of a number)
        (Some(Value::Str(t)), _) => number(&t.known()?),
        (_, Some(Value::Seq(v))) => Some(!v.is_empty()),
        (_, Some(Value::Map(v))) => Some(!v.is_empty()),
        _ => None,
    }
}

/// A block whose evaluated `count` is 0 or `for_each` an empty collection.
fn switched_off(b: &Block) -> bool {
    created(b) == Some(false)
}

/// The text of a block's `count`/`for_each` expression, as written.
fn switch_reads<'t>(b: &Block, text: &'t str) -> Option<&'t str> {
    let v = b.attr("count").or_else(|| b.attr("for_each"))?;
    text.get(v.span.start as usize..v.span.end as usize)
}

/// Whether `expr` reads one of the references `names` (`var.enable` in `var.enable ? 1 : 0`,
/// not in `var.enable_x`).
fn mentions_any(expr: &str, names: &[String]) -> bool {
    names.iter().any(|n| {
        expr.match_indices(n.as_str()).any(|(i, _)| {
            let before = expr[..i].chars().next_back();
            let after = expr[i + n.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
    })
}

/// Link the local module a `module` block calls with the block's arguments: one instance per
/// known key of its `for_each` (index of its `count`), with `each.key`/`each.value`
/// (`count.index`) bound in the arguments; an unknown collection is one instance with them
/// unknown.
fn instantiate(
    dir: &str,
    (caller, caller_text): (FileId, &str),
    b: &Block,
    syms: &Syms,
    cx: &LinkCx<'_>,
    out: &mut Linked,
) {
    let Some(source) = local_source(b) else {
        return;
    };
    // (a module the registry models render, called from its own repository's examples, is
    // judged as rendered there: linked as well, its role would be judged twice)
    if switched_off(b) || modules::is_known(b) {
        return;
    }
    let name = b.label(0).unwrap_or("").to_string();
    for (key, each) in expansions(b) {
        // The module's symbols with this instance's `each.*`/`count.index`
        // (`local.subjects[each.key]`).
        let each = if each.is_empty() {
            each
        } else {
            let mut all = syms.clone();
            all.extend(each);
            all
        };
        let mut inputs = Vec::new();
        for e in &b.attrs {
            if !is_meta_argument(&e.key) {
                let mut v = e.value.clone();
                if !each.is_empty() {
                    resolve(&mut v, &each);
                } else if document_reference(&v).is_some() {
                    // (a policy document of the caller's, named by reference)
                    resolve(&mut v, syms);
                }
                // A JSON heredoc (a policy the module attaches) is read here, where its text is.
                if matches!(&v.value, Value::Tagged(tag, _) if tag == "heredoc")
                    && let Some(doc) = heredoc_document(
                        caller_text,
                        v.span,
                        if each.is_empty() { syms } else { &each },
                    )
                {
                    v = Node::new(v.span, Value::Tagged("jsonencode".into(), Box::new(doc)));
                }
                inputs.push((e.key.clone(), v));
            }
        }
        let (shown, bound) = match &key {
            Some((k, bound)) => (format!("[{k}]"), format!(" for `{bound}`")),
            None => (String::new(), String::new()),
        };
        let call = CallSite {
            file: caller,
            header: b.header,
            name: format!("{name}{shown}"),
            how: format!("called by `module \"{name}\"`{bound} with its arguments"),
            inputs,
            rest_unknown: false,
            via: vec![],
            defaults: Syms::new(),
            root: false,
        };
        link_module(dir, &source, call, cx, out);
    }
}

/// `data.aws_iam_policy_document.NAME.json` when `v` is that reference, whole: its key.
fn document_reference(v: &Node) -> Option<String> {
    let Value::Str(t) = &v.value else { return None };
    let [Part::Unknown(x)] = t.parts.as_slice() else {
        return None;
    };
    let key = ref_key(x);
    (key.starts_with("data.aws_iam_policy_document.") && key.ends_with(".json")).then_some(key)
}

/// A `module` block's local source (`./…`, `../…`), as written.
fn local_source(b: &Block) -> Option<String> {
    let source = b.attr("source")?.as_str()?;
    (source.starts_with("./") || source.starts_with("../")).then_some(source)
}

/// A `module` block's meta-arguments (not the module's variables).
fn is_meta_argument(key: &str) -> bool {
    matches!(
        key,
        "source" | "version" | "count" | "for_each" | "providers" | "depends_on"
    )
}

/// The instances of a `module` block: `((instance key, its binding), each.*/count.index
/// symbols)`. One with no symbols when the block has neither meta-argument or its collection
/// is not known.
fn expansions(b: &Block) -> Vec<(Option<(String, String)>, Syms)> {
    let one = || vec![(None, Syms::new())];
    let quoted = |k: &str| format!("\"{}\"", k.replace('"', "\\\""));
    if let Some(fe) = b.attr("for_each") {
        let pairs: Option<Vec<(String, Node)>> = match &fe.value {
            Value::Map(entries) => Some(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.clone()))
                    .collect(),
            ),
            // A set of strings: key and value are the string.
            Value::Seq(items) => items
                .iter()
                .map(|i| i.as_str().map(|k| (k, i.clone())))
                .collect(),
            _ => None,
        };
        let Some(mut pairs) = pairs else { return one() };
        // Terraform orders instances by key; a map repeating a key keeps the last.
        pairs.reverse();
        let mut seen = std::collections::HashSet::new();
        pairs.retain(|(k, _)| seen.insert(k.clone()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        return pairs
            .into_iter()
            .map(|(k, v)| {
                let mut syms = Syms::new();
                syms.insert(
                    "each.key".into(),
                    Node::new(fe.span, Value::Str(Template::lit(&k))),
                );
                bind_each(&mut syms, "each.value".into(), &v, 0);
                let q = quoted(&k);
                (Some((q.clone(), format!("each.key = {q}"))), syms)
            })
            .collect();
    }
    if let Some(c) = b.attr("count") {
        // (a number, or a string of one: `"${length(var.arns)}"`)
        let n = match &c.value {
            Value::Num(n) => n.clone(),
            Value::Str(t) => match t.known() {
                Some(n) => n,
                None => return one(),
            },
            _ => return one(),
        };
        let Some(n) = n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_INSTANCES)
        else {
            return one();
        };
        return (0..n)
            .map(|i| {
                let mut syms = Syms::new();
                syms.insert(
                    "count.index".into(),
                    Node::new(c.span, Value::Num(i.to_string())),
                );
                (Some((i.to_string(), format!("count.index = {i}"))), syms)
            })
            .collect();
    }
    one()
}

/// `each.value`, and the attributes of an object value as their own names
/// (`each.value.subjects`), a few levels deep: plain references are resolved by lookup.
fn bind_each(syms: &mut Syms, name: String, v: &Node, depth: usize) {
    if depth < 4
        && let Value::Map(entries) = &v.value
    {
        for e in entries {
            bind_each(syms, format!("{name}.{}", e.key), &e.value, depth + 1);
        }
    }
    syms.insert(name, v.clone());
}

/// One call of a local module: a `module` block (one instance of it), or a Terragrunt unit.
struct CallSite {
    file: FileId,
    header: Span,
    /// Terraform's name of the call (`oidc`, `oidc["app"]`); empty for a Terragrunt unit,
    /// whose module is the root module.
    name: String,
    /// How the caller is named in messages.
    how: String,
    /// The module's variables it sets: name and value (in the caller's file).
    inputs: Vec<(String, Node)>,
    /// The module's variables the inputs leave unset are unknown, not their defaults (a
    /// Terragrunt unit that includes configuration the scan does not read).
    rest_unknown: bool,
    /// Files linked on the way that are not the caller's (a Terragrunt stack's unit).
    via: Vec<FileId>,
    /// Values under the inputs that are not the caller's arguments (a `-var-file`
    /// deployment's automatic `terraform.tfvars` values): no finding is moved to them.
    defaults: Syms,
    /// The call deploys a root configuration (a `-var-file`): linked with a root's semantics
    /// (a `null` default unknown, a block off by default judged "when enabled").
    root: bool,
}

/// Link the local module at `source` (relative to `dir`) with one caller's values.
fn link_module(dir: &str, source: &str, call: CallSite, cx: &LinkCx<'_>, out: &mut Linked) {
    if cx.stack.len() >= MAX_MODULE_DEPTH {
        return;
    }
    // (`source = "../"` from `examples/` is the scan root's own directory, `""`)
    let Some(target) = join_dir(dir, source) else {
        return;
    };
    if target == dir || cx.stack.contains(&target) || cx.budget.get() == 0 {
        return;
    }
    let Some(module) = module_files(&target, cx) else {
        return;
    };
    link_instance(dir, &module, call, cx, out);
}

/// Link a module (read: `module`) with one caller's values; `dir` is where the caller is (a
/// module's directory, or a `-var-file`), kept on the stack.
fn link_instance(
    dir: &str,
    module: &ModuleFiles,
    call: CallSite,
    cx: &LinkCx<'_>,
    out: &mut Linked,
) {
    if cx.budget.get() == 0 {
        return;
    }
    cx.budget.set(cx.budget.get() - 1);
    let parsed = module.parsed.clone();
    let sources = &module.sources;
    let mut inputs = call.defaults;
    if call.rest_unknown {
        unknown_variables(&parsed, &mut inputs);
    }
    let mut passed = Vec::new();
    for (k, v) in call.inputs {
        passed.push(crate::model::CallerArg::new(k.clone(), &v));
        inputs.insert(format!("var.{k}"), v);
    }
    let ids: Vec<FileId> = parsed.iter().map(|(id, _)| *id).collect();
    let files = DirFiles::new(
        sources
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(id, s)| (*id, s))
            .collect(),
    );
    let mut models = DirFiles::new(ids.iter().map(|id| (*id, FileModel::default())).collect());
    let top_level = cx.stack.is_empty();
    let mut stack = cx.stack.clone();
    stack.push(dir.to_string());
    let mut chain = cx.chain.clone();
    chain.push(Call {
        file: call.file,
        header: call.header,
        name: call.name,
        how: call.how,
        inputs: passed,
        via: call.via,
        root: call.root,
    });
    let inner = LinkCx {
        load: cx.load,
        load_dir: cx.load_dir,
        stack,
        chain: chain.clone(),
        budget: cx.budget,
        parsed: cx.parsed,
        outputs: cx.outputs,
        repo: cx.repo,
    };
    link_with(&files, parsed, &mut models, &inputs, &inner, out);
    drop(files);
    // Terraform's own address of what the module creates (`module.A.module.B.aws_iam_role.x`),
    // and the outermost calling directory: each caller's instance is named apart.
    let mut models: Vec<(FileId, FileModel)> = models.into_pairs().collect();
    let prefix: String = chain
        .iter()
        .filter(|c| !c.name.is_empty())
        .map(|c| format!("module.{}.", c.name))
        .collect();
    let top = inner.stack.first().map(String::as_str).unwrap_or("");
    let suffix = if top.is_empty() {
        String::new()
    } else {
        format!(" (in {top})")
    };
    let rename = |o: &mut String| {
        o.insert_str(0, &prefix);
        o.push_str(&suffix);
    };
    for (_, m) in models.iter_mut() {
        // The module's text serves every caller: no fix edits it for one caller's values.
        for p in m.policies.iter_mut() {
            for st in p.statements.iter_mut() {
                let handles = [&mut st.condition_block, &mut st.statement_block]
                    .into_iter()
                    .flatten()
                    .chain(
                        st.conditions
                            .iter_mut()
                            .filter_map(|c| c.operator_block.as_mut()),
                    );
                for h in handles {
                    h.syntax = crate::model::Syntax::ReadOnly;
                }
            }
        }
        m.policies.iter_mut().for_each(|p| rename(&mut p.owner));
        m.roles.iter_mut().for_each(|r| rename(&mut r.owner));
        m.providers.iter_mut().for_each(|p| rename(&mut p.owner));
        m.access_keys.iter_mut().for_each(|k| rename(&mut k.owner));
        for a in m.named_attachments.iter_mut() {
            a.scope = suffix.clone();
            // (`module.oidc` called inside this instance: `module.outer.module.oidc`)
            if let Some(call) = a.role.strip_prefix(crate::model::MODULE_ROLE) {
                a.role = format!("{}{prefix}{call}", crate::model::MODULE_ROLE);
            }
        }
    }
    let used: Vec<FileId> = models
        .iter()
        .filter(|(_, m)| !m.is_empty())
        .map(|(id, _)| *id)
        .collect();
    let outer = &chain[0];
    out.instances.push(Instance {
        models,
        callers: chain
            .iter()
            .rev()
            .map(|c| (c.file, c.inputs.clone()))
            .collect(),
        // (only the files the instance has anything in)
        sources: sources
            .iter()
            .filter(|(id, _)| used.contains(id))
            .map(|(id, f)| (*id, copied(f)))
            .collect(),
        caller: (outer.file, outer.header, outer.how.clone()),
        via: chain.iter().flat_map(|c| c.via.iter().copied()).collect(),
        top_level,
    });
}

/// A local module's files, read and parsed once per linking. `None` when it has none.
fn module_files(target: &str, cx: &LinkCx<'_>) -> Option<std::rc::Rc<ModuleFiles>> {
    let cached = cx.parsed.borrow().get(target).cloned();
    let module = match cached {
        Some(m) => m,
        None => {
            let sources = (cx.load_dir)(target);
            let parsed = sources
                .iter()
                .filter_map(|(id, src)| parse_file(src).ok().map(|t| (*id, t)))
                .collect();
            let m = std::rc::Rc::new(ModuleFiles { sources, parsed });
            cx.parsed.borrow_mut().insert(target.to_string(), m.clone());
            m
        }
    };
    (!module.parsed.is_empty()).then_some(module)
}

/// What `path.root`/`path.cwd` evaluate to: the root module's directory, which a module does
/// not know (a text no real path contains).
pub(super) const ROOT_DIR: &str = "\u{1}root";

/// The symbol holding a module's directory (relative to the scan root), and the prefix of what
/// `path.module` evaluates to with it: a path built in one module and read by `file()` in
/// another (`policy = "${path.module}/policies/app.json"` passed down) stays the first's.
pub(super) const MODULE_DIR: &str = "\u{1}module_dir";

/// The symbol under which the file defining `local.NAME` is kept (`LOCAL_FILE` + `local.NAME`).
const LOCAL_FILE: &str = "\u{1}file:";

thread_local! {
    /// The file whose blocks are being resolved, while they are ([`Resolving`]).
    static RESOLVING: std::cell::Cell<Option<FileId>> = const { std::cell::Cell::new(None) };
}

/// While alive, the file whose blocks are being resolved: set by [`Resolving::of`], cleared
/// when dropped (also when a panic unwinds, so no later reading takes it for its own).
struct Resolving;

impl Resolving {
    fn of(id: FileId) -> Resolving {
        RESOLVING.with(|r| r.set(Some(id)));
        Resolving
    }
}

impl Drop for Resolving {
    fn drop(&mut self) {
        RESOLVING.with(|r| r.set(None));
    }
}

/// Whether `key` is a local defined in the file being resolved: its value keeps the spans
/// where its literals are written (a finding goes on the local's item, not on the reference);
/// any other symbol may be written in another file, and takes the reference's span.
pub(super) fn same_file_local(key: &str, syms: &Syms) -> bool {
    key.starts_with("local.")
        && RESOLVING.with(|r| r.get()).is_some_and(|id| {
            syms.get(&format!("{LOCAL_FILE}{key}"))
                .is_some_and(|n| matches!(&n.value, Value::Num(x) if x.parse::<FileId>() == Ok(id)))
        })
}

/// The symbol holding what `get_terragrunt_dir()` returns in a Terragrunt configuration (the
/// unit's directory, relative to the scan root).
pub(super) const TERRAGRUNT_DIR: &str = "\u{1}terragrunt_dir";

/// `path` (as a module names a file: relative to its directory, `./` from `path.module`)
/// joined to the module directory `dir`, both relative to the scan root. `None` for an
/// absolute path or one that leaves the scanned tree.
fn join_rel(dir: &str, path: &str) -> Option<String> {
    join_dir(dir, path).filter(|p| !p.is_empty())
}

/// [`join_rel`] for a directory, which may be the scan root itself (`""`).
fn join_dir(dir: &str, path: &str) -> Option<String> {
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') || path.contains('\0')
    {
        return None;
    }
    let mut out: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for seg in path.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// Fill a template's `${name}` holes with the known values of its variables: a string, number
/// or boolean inside a string, a whole value (a list, `${jsonencode(list)}`) for a hole that
/// is the whole value. Holes of unknown variables stay unknown.
fn fill_template(n: &mut Node, vars: &Node) {
    let var = |e: &str| -> Option<&Node> {
        let e = e.trim();
        let name = e
            .strip_prefix("jsonencode(")
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(e)
            .trim();
        vars.get(name)
    };
    match &mut n.value {
        Value::Str(t) => {
            if let [Part::Unknown(e)] = t.parts.as_slice()
                && let Some(v) = var(e)
                && !matches!(v.value, Value::Str(_) | Value::Num(_) | Value::Bool(_))
            {
                let mut v = v.clone();
                respan(&mut v, n.span);
                n.value = v.value;
                return;
            }
            let mut parts = Vec::with_capacity(t.parts.len());
            for p in t.parts.drain(..) {
                match p {
                    Part::Unknown(e) => match var(&e).map(|v| &v.value) {
                        Some(Value::Str(tv)) => tv
                            .parts
                            .iter()
                            .for_each(|x| push_part(&mut parts, x.clone())),
                        Some(Value::Num(x)) => push_part(&mut parts, Part::Lit(x.clone())),
                        Some(Value::Bool(b)) => push_part(&mut parts, Part::Lit(b.to_string())),
                        _ => push_part(&mut parts, Part::Unknown(e)),
                    },
                    lit => push_part(&mut parts, lit),
                }
            }
            t.parts = parts;
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| fill_template(i, vars)),
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                if e.key.contains("${") {
                    let mut syms = Syms::new();
                    for v in vars.entries() {
                        syms.insert(v.key.clone(), v.value.clone());
                    }
                    e.key = resolve_key(&e.key, &syms);
                }
                fill_template(&mut e.value, vars);
            }
        }
        _ => {}
    }
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

/// The directory (relative to the scan root) the files of a module are in.
fn dir_of(sources: &DirFiles<&SourceFile>, files: &[(FileId, TfFile)]) -> String {
    // (the `-var-files` of a directory may sit below it: the directory is the shallowest)
    files
        .iter()
        .map(|(id, _)| parent_dir(&sources[*id].rel))
        .min_by_key(|d| {
            if d.is_empty() {
                0
            } else {
                1 + d.matches('/').count()
            }
        })
        .unwrap_or_default()
        .to_string()
}

/// The directory of a file, relative to the scan root (`""` at the root).
pub fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// The symbols of a module: its variables (the caller's `inputs` over the literal defaults),
/// locals, provider ARNs and, with `cx`, the outputs of the local modules it calls
/// (`module.NAME.OUTPUT`, computed with the arguments this module passes them).
///
/// A `null` default is known only in a module called by a caller that does not set it
/// (`instance`): a root module's may be set by a `-var-file` the scan does not see, and an
/// unknown is never read as absent.
fn symbols(
    files: &[(FileId, TfFile)],
    inputs: &Syms,
    instance: bool,
    cx: Option<(&str, &LinkCx<'_>)>,
) -> Syms {
    let mut syms = Syms::new();
    if let Some((dir, _)) = cx {
        syms.insert(
            MODULE_DIR.into(),
            Node::new(Span::default(), Value::Str(Template::lit(dir))),
        );
    }
    for (_, f) in files {
        for b in f.blocks.iter().filter(|b| b.ident == "variable") {
            if let (Some(name), Some(d)) = (b.label(0), b.attr("default"))
                && (instance || !matches!(d.value, Value::Null))
                && is_literal(d)
            {
                syms.insert(format!("var.{name}"), d.clone());
            }
        }
    }
    // A caller's arguments win over the defaults (an unknown argument stays unknown).
    for (k, v) in inputs {
        syms.insert(k.clone(), v.clone());
    }
    locals_rounds(files, &mut syms);
    // `data.aws_iam_policy.x.arn` passed to a module (`policy_arns = [data.….admin.arn]`):
    // the ARN or name it looks up (a name is an AWS-managed policy's, as in an attachment).
    for (_, f) in files {
        for b in &f.blocks {
            if b.ident == "data"
                && b.label(0) == Some("aws_iam_policy")
                && let Some(n) = b.label(1)
                && let Some(by) = b.attr("arn").or_else(|| b.attr("name"))
            {
                let mut v = by.clone();
                resolve(&mut v, &syms);
                if v.as_template().is_some_and(|t| t.is_known()) {
                    syms.insert(format!("data.aws_iam_policy.{n}.arn"), v);
                }
            }
        }
    }
    // A module's arguments may use locals, and locals a module's outputs (and one module's
    // arguments another's outputs): two rounds of each settle the chains seen in practice.
    if let Some((dir, cx)) = cx {
        for _ in 0..2 {
            let outputs = module_outputs(dir, files, &syms, cx);
            if outputs.is_empty() {
                break;
            }
            syms.extend(outputs);
            locals_rounds(files, &mut syms);
        }
    }
    syms
}

/// Locals may use variables, other locals and provider ARNs: a few rounds settle chains.
fn locals_rounds(files: &[(FileId, TfFile)], syms: &mut Syms) {
    for _ in 0..4 {
        let mut next = syms.clone();
        for (fid, f) in files {
            for b in &f.blocks {
                if b.ident == "locals" {
                    for e in &b.attrs {
                        let mut v = e.value.clone();
                        resolve(&mut v, syms);
                        next.insert(format!("local.{}", e.key), v);
                        next.insert(
                            format!("{LOCAL_FILE}local.{}", e.key),
                            Node::new(Span::default(), Value::Num(fid.to_string())),
                        );
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
                    resolve(&mut url, syms);
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
        *syms = next;
    }
}

/// The outputs of the local modules (`source = "./…"`/`"../…"`) the files of `dir` call once
/// (no `count`/`for_each`: each instance of those may differ), each computed from the module's
/// own symbols with the arguments this caller passes (`syms` resolves them): `module.NAME.OUT`
/// for each output and `module.NAME` as an object of them. What an output leaves unknown stays
/// unknown, named by the caller's reference (`module.NAME.OUT`), never by the module's own
/// names (which mean something else in the caller).
fn module_outputs(dir: &str, files: &[(FileId, TfFile)], syms: &Syms, cx: &LinkCx<'_>) -> Syms {
    let mut out = Syms::new();
    if cx.stack.len() >= MAX_MODULE_DEPTH {
        return out;
    }
    for (_, f) in files {
        for b in f.blocks.iter().filter(|b| b.ident == "module") {
            if let Some(name) = b.label(0)
                && let Some(object) = modules::provider_outputs(b, syms)
            {
                // (`module.NAME[0].url` under `count`; `for_each` keys are not modelled)
                let node = map_node(b.header, object.clone());
                if b.attr("count").is_some() {
                    out.insert(format!("module.{name}"), seq_node(b.header, vec![node]));
                } else if b.attr("for_each").is_none() {
                    for e in object {
                        out.insert(format!("module.{name}.{}", e.key), e.value);
                    }
                    out.insert(format!("module.{name}"), node);
                }
                continue;
            }
            let (Some(name), Some(source)) = (b.label(0), local_source(b)) else {
                continue;
            };
            if b.attr("count").is_some() || b.attr("for_each").is_some() {
                continue;
            }
            let Some(target) = join_dir(dir, &source) else {
                continue;
            };
            if target == dir || cx.stack.contains(&target) {
                continue;
            }
            let mut inputs = Syms::new();
            for e in b.attrs.iter().filter(|e| !is_meta_argument(&e.key)) {
                let mut v = e.value.clone();
                resolve(&mut v, syms);
                inputs.insert(format!("var.{}", e.key), v);
            }
            let Some(values) = outputs_of(dir, &target, inputs, cx) else {
                continue;
            };
            let mut object = Vec::new();
            for (out_name, v) in values.iter() {
                let key = format!("module.{name}.{out_name}");
                let mut v = v.clone();
                rename_unknowns(&mut v, &key);
                object.push(entry(out_name, b.header, v.clone()));
                out.insert(key, v);
            }
            if !object.is_empty() {
                out.insert(format!("module.{name}"), map_node(b.header, object));
            }
        }
    }
    out
}

/// A module's outputs (by name, in name order) computed with `inputs`, from the cache when
/// the same module was computed with the same inputs. `None` past the budget or when the
/// module has no files.
fn outputs_of(dir: &str, target: &str, inputs: Syms, cx: &LinkCx<'_>) -> Option<std::rc::Rc<Syms>> {
    let mut sorted: Vec<(&String, &Node)> = inputs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let key = (target.to_string(), format!("{sorted:?}"));
    if let Some(done) = cx.outputs.borrow().done.get(&key) {
        return Some(done.clone());
    }
    {
        let mut cache = cx.outputs.borrow_mut();
        if cache.computed >= MAX_OUTPUT_EVALS {
            return None;
        }
        cache.computed += 1;
    }
    let module = module_files(target, cx)?;
    let mut stack = cx.stack.clone();
    stack.push(dir.to_string());
    let inner = LinkCx {
        load: cx.load,
        load_dir: cx.load_dir,
        stack,
        chain: cx.chain.clone(),
        budget: cx.budget,
        parsed: cx.parsed,
        outputs: cx.outputs,
        repo: cx.repo,
    };
    let mut msyms = symbols(&module.parsed, &inputs, true, Some((target, &inner)));
    role_attributes(&module.parsed, &mut msyms);
    let mut values = Syms::new();
    for (_, f) in &module.parsed {
        for b in f.blocks.iter().filter(|b| b.ident == "output") {
            if let (Some(n), Some(v)) = (b.label(0), b.attr("value")) {
                let mut v = v.clone();
                resolve(&mut v, &msyms);
                values.insert(n.to_string(), v);
            }
        }
    }
    let values = std::rc::Rc::new(values);
    cx.outputs.borrow_mut().done.insert(key, values.clone());
    Some(values)
}

/// Every variable a module declares, unknown (`var.x`): a caller that may set any of them
/// through something the scan cannot read.
fn unknown_variables(parsed: &[(FileId, TfFile)], inputs: &mut Syms) {
    for (_, f) in parsed {
        for v in f.blocks.iter().filter(|b| b.ident == "variable") {
            if let Some(n) = v.label(0) {
                let hole = Template::unknown(format!("var.{n}"));
                inputs.insert(format!("var.{n}"), Node::new(v.header, Value::Str(hole)));
            }
        }
    }
}

/// `aws_iam_role.X.name`, `.id` and `.arn` of a module's roles (one each, no `count` or
/// `for_each`) whose name is known, for its outputs only: inside the module a reference to
/// the role stays a reference to that resource.
fn role_attributes(parsed: &[(FileId, TfFile)], syms: &mut Syms) {
    for (_, f) in parsed {
        for b in &f.blocks {
            if b.ident != "resource"
                || b.label(0) != Some("aws_iam_role")
                || b.attr("count").is_some()
                || b.attr("for_each").is_some()
            {
                continue;
            }
            let (Some(id), Some(name)) = (b.label(1), b.attr("name")) else {
                continue;
            };
            let mut name = name.clone();
            resolve(&mut name, syms);
            let Some(known) = name.as_str() else { continue };
            let path = match b.attr("path") {
                Some(p) => {
                    let mut p = p.clone();
                    resolve(&mut p, syms);
                    let Some(p) = p.as_str() else { continue };
                    p
                }
                None => "/".to_string(),
            };
            let lit = |t: &str| Node::new(name.span, Value::Str(Template::lit(t)));
            syms.insert(format!("aws_iam_role.{id}.name"), lit(&known));
            syms.insert(format!("aws_iam_role.{id}.id"), lit(&known));
            let arn = iam_arn(&format!("role{path}{known}"));
            syms.insert(
                format!("aws_iam_role.{id}.arn"),
                Node::new(name.span, Value::Str(arn)),
            );
        }
    }
}

/// Every unknown part of `n` named `name` (the caller's reference to a module output).
fn rename_unknowns(n: &mut Node, name: &str) {
    match &mut n.value {
        Value::Str(t) => {
            let mut parts = Vec::with_capacity(t.parts.len());
            for p in t.parts.drain(..) {
                match p {
                    Part::Unknown(_) => {
                        // (one unknown however many the module's value had in a row)
                        if !matches!(parts.last(), Some(Part::Unknown(_))) {
                            parts.push(Part::Unknown(name.to_string()));
                        }
                    }
                    lit => push_part(&mut parts, lit),
                }
            }
            t.parts = parts;
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| rename_unknowns(i, name)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|e| rename_unknowns(&mut e.value, name)),
        Value::Tagged(_, inner) => rename_unknowns(inner, name),
        _ => {}
    }
}

/// `arn:${partition}:iam::${account}:oidc-provider/<host>`.
fn provider_arn(host: &str) -> Template {
    iam_arn(&format!("oidc-provider/{host}"))
}

/// `arn:${partition}:iam::${account}:<resource>`.
fn iam_arn(resource: &str) -> Template {
    Template {
        parts: vec![
            Part::Lit("arn:".into()),
            Part::Unknown("partition".into()),
            Part::Lit(":iam::".into()),
            Part::Unknown("account_id".into()),
            Part::Lit(format!(":{resource}")),
        ],
    }
}

pub(super) fn respan(n: &mut Node, span: Span) {
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
            if let [Part::Unknown(e)] = t.parts.as_slice() {
                // `x[k]` is an element of `x`, never `x` itself (`data.x.this[0].json`, a
                // string, is the one the key lookup is for).
                let found = syms.get(&ref_key(e)).filter(|v| {
                    !(e.contains('[') && matches!(v.value, Value::Seq(_) | Value::Map(_)))
                });
                if let Some(v) = found {
                    let mut v = v.clone();
                    if !same_file_local(&ref_key(e), syms) {
                        respan(&mut v, n.span);
                    }
                    n.value = v.value;
                    n.style = v.style;
                    return;
                }
                if let Some(v) = eval::evaluate(e, n.span, syms) {
                    n.value = v.value;
                    n.style = v.style;
                    return;
                }
            }
            let mut parts = Vec::with_capacity(t.parts.len());
            for p in t.parts.drain(..) {
                match p {
                    // (`x[k]` inside a string: an element of `x`, evaluated)
                    Part::Unknown(e) => match syms.get(&ref_key(&e)).map(|v| &v.value).filter(|v| {
                        !(e.contains('[') && matches!(v, Value::Seq(_) | Value::Map(_)))
                    }) {
                        Some(Value::Str(tv)) => tv
                            .parts
                            .iter()
                            .for_each(|x| push_part(&mut parts, x.clone())),
                        Some(Value::Num(s)) => push_part(&mut parts, Part::Lit(s.clone())),
                        Some(Value::Bool(b)) => push_part(&mut parts, Part::Lit(b.to_string())),
                        None => match eval::evaluate(&e, n.span, syms).map(|v| v.value) {
                            Some(Value::Str(tv)) => tv
                                .parts
                                .iter()
                                .for_each(|x| push_part(&mut parts, x.clone())),
                            Some(Value::Num(s)) => push_part(&mut parts, Part::Lit(s)),
                            Some(Value::Bool(b)) => push_part(&mut parts, Part::Lit(b.to_string())),
                            _ => push_part(&mut parts, Part::Unknown(e)),
                        },
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

/// The JSON object a heredoc (at `span` of `text`) holds, its `${…}` resolved with `syms`.
/// `None` when it is no JSON object.
fn heredoc_document(text: &str, span: Span, syms: &Syms) -> Option<Node> {
    let (emb, exprs) = decode_heredoc(text, span)?;
    let mut doc = json::parse_embedded(&emb).ok()?;
    if !doc.is_map() {
        return None;
    }
    unmark(&mut doc, &exprs);
    resolve(&mut doc, syms);
    Some(doc)
}

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

/// A condition whose value list is empty (`values = var.sub` with `default = []`, the usual
/// "the caller sets this" placeholder of a reusable module) checks the claim against nothing:
/// AWS refuses the document or matches no token, and the caller's real list is unknown here.
/// Either way it is not an absent condition: the value is kept as an unknown, never dropped.
pub(crate) fn empty_values(span: Span) -> Node {
    Node::new(span, Value::Str(Template::unknown("an empty list")))
}

/// [`empty_values`] for every empty value list under the `Condition` of a JSON-shaped policy.
fn empty_condition_values(doc: &mut Node) {
    let Value::Map(top) = &mut doc.value else {
        return;
    };
    for e in top.iter_mut().filter(|e| e.key == "Statement") {
        let sts: Vec<&mut Node> = match &mut e.value.value {
            Value::Seq(items) => items.iter_mut().collect(),
            Value::Map(_) => vec![&mut e.value],
            _ => vec![],
        };
        for st in sts {
            let Value::Map(st) = &mut st.value else {
                continue;
            };
            for c in st.iter_mut().filter(|e| e.key == "Condition") {
                let Value::Map(ops) = &mut c.value.value else {
                    continue;
                };
                for op in ops.iter_mut() {
                    let Value::Map(keys) = &mut op.value.value else {
                        continue;
                    };
                    for k in keys.iter_mut() {
                        if matches!(&k.value.value, Value::Seq(v) if v.is_empty()) {
                            k.value = seq_node(k.value.span, vec![empty_values(k.value.span)]);
                        }
                    }
                }
            }
        }
    }
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
        let vspan = values.map(|v| v.span).unwrap_or(c.span);
        let mut items = values.map(list_items).unwrap_or_default();
        if items.is_empty() {
            items.push(empty_values(vspan));
        }
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
    /// The module's directory, relative to the scan root.
    dir: String,
    load: &'a Loader<'a>,
    /// `data.template_file.NAME` → its block.
    template_files: HashMap<String, &'a Block>,
    /// Policies rendered from template files.
    rendered: Rendered,
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
    /// A customer-managed policy's known `name` → (file, policy index); `None` when two
    /// policies of the module share it.
    policy_names: HashMap<String, Option<(FileId, usize)>>,
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
    let k = ref_key(unwrapped(e));
    let rest = k.strip_prefix(ty)?.strip_prefix('.')?;
    let name = rest.split('.').next()?;
    Some(format!("{ty}.{name}"))
}

/// The reference inside calls that pass it through: `element(aws_iam_role.x.*.name, 0)` and
/// `one(aws_iam_role.x[*].name)` (the one instance), `try(data.x[0].json, "")` and
/// `coalesce(…)` (the first argument: the others are fallbacks), `tostring(…)`.
fn unwrapped(e: &str) -> &str {
    let mut e = e.trim();
    for _ in 0..4 {
        let Some((f, rest)) = e.split_once('(') else {
            return e;
        };
        let Some(inner) = rest.strip_suffix(')') else {
            return e;
        };
        let first = first_argument(inner);
        let whole = first.len() == inner.len();
        e = match f.trim() {
            "element" | "try" | "coalesce" => first.trim(),
            "one" | "tostring" | "tolist" | "sensitive" | "nonsensitive" if whole => first.trim(),
            _ => return e,
        };
    }
    e
}

/// The first top-level argument of a call's argument list (outside brackets and strings).
fn first_argument(args: &str) -> &str {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in args.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => return &args[..i],
            _ => {}
        }
    }
    args
}

impl<'a> Module<'a> {
    fn new(
        files: &'a [(FileId, TfFile)],
        sources: &'a DirFiles<&'a SourceFile>,
        syms: Syms,
        load: &'a Loader<'a>,
    ) -> Self {
        let mut template_files = HashMap::new();
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
                if b.ident == "data"
                    && b.label(0) == Some("template_file")
                    && let Some(n) = b.label(1)
                {
                    template_files.insert(format!("data.template_file.{n}"), b);
                }
            }
        }
        let dir = dir_of(sources, files);
        Module {
            files,
            sources,
            dir,
            load,
            template_files,
            rendered: Rendered::new(),
            documents,
            documents_built: HashMap::new(),
            policies: HashMap::new(),
            roles: HashMap::new(),
            users: HashMap::new(),
            data_policies,
            role_names: HashMap::new(),
            policy_names: HashMap::new(),
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
                let mut doc = (**inner).clone();
                empty_condition_values(&mut doc);
                let p = policy_from_tree(id, &doc, owner.to_string(), kind, Family::Hcl);
                models[id].policies.push(p);
                Some((id, models[id].policies.len() - 1))
            }
            Value::Tagged(tag, _) if tag == "heredoc" => {
                let mut doc = heredoc_document(self.text(id), value.span, &self.syms)?;
                empty_condition_values(&mut doc);
                let p = policy_from_tree(id, &doc, owner.to_string(), kind, Family::Json);
                models[id].policies.push(p);
                Some((id, models[id].policies.len() - 1))
            }
            Value::Tagged(tag, spec) if tag == "templatefile" || tag == "file" => {
                let how = format!("rendered by `{tag}()`");
                self.render(spec, owner, kind, (id, value.span, how))
            }
            _ => {
                if let Some(name) = referenced(value, "data.template_file") {
                    let b = *self.template_files.get(&name)?;
                    let Value::Tagged(tag, spec) = &b.attr("template")?.value else {
                        return None;
                    };
                    if tag != "file" && tag != "templatefile" {
                        return None;
                    }
                    let mut spec = (**spec).clone();
                    if let (Value::Map(entries), Some(vars)) = (&mut spec.value, b.attr("vars")) {
                        entries.retain(|e| e.key != "vars");
                        entries.push(entry("vars", vars.span, vars.clone()));
                    }
                    let how = format!("rendered by `{name}.rendered`");
                    return self.render(&spec, owner, kind, (id, value.span, how));
                }
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

    /// A policy document read from a template or JSON file of the scan (`spec`: its `path`
    /// and `vars`), rendered with the known variables: its spans are the template file's, so
    /// findings land on the template's lines. Fixes never edit it (the text is a template).
    fn render(
        &mut self,
        spec: &Node,
        owner: &str,
        kind: Option<PolicyKind>,
        at: (FileId, Span, String),
    ) -> Option<(FileId, usize)> {
        let path = spec.get("path")?.as_str()?;
        let (id, text) = match path.strip_prefix(ROOT_DIR) {
            // Relative to the root module: the module's directory or the nearest ancestor
            // holding the file.
            Some(rest) => {
                let mut dir = self.dir.as_str();
                loop {
                    if let Some(found) =
                        join_rel(dir, &format!(".{rest}")).and_then(|r| (self.load)(&r))
                    {
                        break found;
                    }
                    if dir.is_empty() {
                        return None;
                    }
                    dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
                }
            }
            None => match path.strip_prefix(MODULE_DIR) {
                // (`path.module` of the module that built the path, relative to the scan root)
                Some(rest) => (self.load)(&join_rel("", rest.trim_start_matches('/'))?)?,
                None => (self.load)(&join_rel(&self.dir, &path)?)?,
            },
        };
        let mut doc = json::parse_template(&text).ok()?;
        if !doc.is_map() || doc.get("Statement").is_none() {
            return None;
        }
        if let Some(vars) = spec.get("vars") {
            fill_template(&mut doc, vars);
        }
        empty_condition_values(&mut doc);
        let p = policy_from_tree(id, &doc, owner.to_string(), kind, Family::ReadOnly);
        let list = self.rendered.entry(id).or_default();
        list.push((p, at.0, at.1, at.2));
        Some((id, list.len() - 1))
    }

    fn build(&mut self, models: &mut DirFiles<FileModel>) {
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
                // (terraform-aws-modules/iam `modules/iam-policy`: one customer-managed policy,
                // its `arn` output attached as `module.NAME.arn`)
                let named = resource_name(b, "aws_iam_policy")
                    .map(|n| format!("aws_iam_policy.{n}"))
                    .or_else(|| modules::policy_module(b).map(|n| format!("module.{n}")));
                if let Some(owner) = named
                    && let Some(v) = b.attr("policy")
                    && let Some(at) =
                        self.add_policy(models, *id, v, &owner, Some(PolicyKind::Permission))
                {
                    self.policies.insert(owner, at);
                    if let Some(name) = b
                        .attr("name")
                        .and_then(|n| n.as_template())
                        .and_then(|t| t.known())
                    {
                        // (a name two policies of the module share designates neither)
                        self.policy_names
                            .entry(name.clone())
                            .and_modify(|e| *e = None)
                            .or_insert(Some(at));
                        models[*id].named_policies.push(NamedPolicy {
                            name,
                            policy: PolicyRef::new(at.0, at.1),
                        });
                    }
                }
            }
        }
        for (id, f) in files {
            for b in &f.blocks {
                if let Some(n) = resource_name(b, "aws_iam_role") {
                    self.role(models, *id, b, &n);
                } else if b.ident == "module" {
                    // A known registry module with `for_each`/`count`: one role per instance,
                    // each with its own `each.*`/`count.index` (`module.x["key"]`).
                    let before = models[*id].roles.len();
                    for (key, each) in expansions(b) {
                        let one = if each.is_empty() {
                            std::borrow::Cow::Borrowed(b)
                        } else {
                            let mut one = b.clone();
                            if let (Some((k, _)), Some(label)) = (&key, one.labels.first_mut()) {
                                *label = format!("{label}[{k}]");
                            }
                            for e in one.attrs.iter_mut().filter(|e| !is_meta_argument(&e.key)) {
                                resolve(&mut e.value, &each);
                            }
                            std::borrow::Cow::Owned(one)
                        };
                        let from = models[*id].roles.len();
                        modules::module(models, *id, &one);
                        // (its inline policies: documents of the calling module)
                        let inline = modules::inline_policies(&one);
                        for i in from..models[*id].roles.len() {
                            let owner = models[*id].roles[i].owner.clone();
                            for v in &inline {
                                if let Some((f, p)) = self.add_policy(
                                    models,
                                    *id,
                                    v,
                                    &owner,
                                    Some(PolicyKind::Permission),
                                ) {
                                    models[*id].roles[i]
                                        .permission_policies
                                        .push(PolicyRef::new(f, p));
                                }
                            }
                        }
                    }
                    // (attachments name the module's roles by name: `role = local.admin_name`)
                    for i in before..models[*id].roles.len() {
                        let r = &models[*id].roles[i];
                        let owner = r.owner.clone();
                        if let Some(name) = r.name.as_ref().and_then(|n| n.value.known()) {
                            self.role_names.entry(name).or_insert_with(|| owner.clone());
                        }
                        self.roles.entry(owner).or_insert((*id, i));
                    }
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
                // (evaluated with the caller's values: on, whatever the defaults)
                if created(b) == Some(true) {
                    continue;
                }
                let text = self.text(*id);
                let Some(expr) = text.get(v.span.start as usize..v.span.end as usize) else {
                    continue;
                };
                // Other shapes (`local.create && var.attach ? 1 : 0`): the value evaluated
                // with the variables at their defaults.
                let evaluated = || {
                    switched_off(b).then(|| {
                        let shown: String = expr.split_whitespace().collect::<Vec<_>>().join(" ");
                        let shown: String = shown.chars().take(80).collect();
                        format!("`{shown}` creates nothing with every variable at its default")
                    })
                };
                if let Some(note) = empty_by_default(expr, &self.var_defaults).or_else(evaluated) {
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

    /// The ARN of the role a value refers to (`aws_iam_role.x.arn`, `module.x.…arn`), with
    /// the partition and account unknown, when the role's name is known.
    fn role_arn_of(&self, models: &DirFiles<FileModel>, v: &Node) -> Option<Template> {
        let [Part::Unknown(e)] = v.as_template()?.parts.as_slice() else {
            return None;
        };
        let k = ref_key(e);
        if !k.ends_with("arn") {
            return None;
        }
        let role = if let Some(r) = referenced(v, "aws_iam_role") {
            let (f, i) = *self.roles.get(&r)?;
            &models[f].roles[i]
        } else {
            let m = referenced(v, "module")?;
            self.files
                .iter()
                .flat_map(|(f, _)| models[*f].roles.iter())
                .find(|r| r.owner == m)?
        };
        let name = role.name.as_ref()?.value.known()?;
        Some(Template {
            parts: vec![
                Part::Lit("arn:".into()),
                Part::Unknown("partition".into()),
                Part::Lit(":iam::".into()),
                Part::Unknown("account_id".into()),
                Part::Lit(format!(":role/{name}")),
            ],
        })
    }

    /// How an attachment whose role this module does not create names it for the scan to join
    /// ([`NamedAttachment::role`]): its known name, or a reference to a module this module
    /// calls (`module.oidc.role.name`, an output holding the whole role) as
    /// [`crate::model::MODULE_ROLE`] + the module's name.
    fn role_elsewhere(r: &Node) -> Option<String> {
        if let Some(name) = r.as_template().and_then(|n| n.known()) {
            return Some(name);
        }
        let m = referenced(r, "module")?;
        let name = m.strip_prefix("module.")?.split(['.', '[']).next()?;
        Some(format!("{}module.{name}", crate::model::MODULE_ROLE))
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
            // (`module.NAME.arn` of an `iam-policy` module call: `policies` only holds those)
            if let Some(p) = name_of("module")
                && k == format!("{p}.arn")
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
                    return match self.named_policy(t) {
                        Some(p) => Ok(p),
                        None => Err(Spanned::new(t.clone(), arn.span)),
                    };
                }
            }
        }
        self.named_policy(&arn.value).ok_or_else(|| arn.clone())
    }

    /// The policy of this module a customer-managed name or ARN designates (one policy of
    /// that known name).
    fn named_policy(&self, t: &Template) -> Option<PolicyRef> {
        let name = crate::model::customer_policy_name(t)?;
        let (f, i) = (*self.policy_names.get(&name)?)?;
        Some(PolicyRef::new(f, i))
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
        if let Some((secret, name_key, value_keys)) = ci_value_kind(ty) {
            let (Some(name), Some(v)) = (
                b.attr(name_key).and_then(|n| n.as_str()),
                value_keys.iter().find_map(|k| b.attr(k)),
            ) else {
                return;
            };
            let value = self
                .role_arn_of(models, v)
                .or_else(|| v.as_template().cloned());
            if let Some(value) = value {
                models[id].ci_values.push(CiValue {
                    file: id,
                    span: b.span,
                    secret,
                    name,
                    value: Spanned::new(value, v.span),
                });
            }
            return;
        }
        match ty {
            "aws_iam_role_policy" => {
                let owner = format!("aws_iam_role_policy.{n}");
                let Some(v) = b.attr("policy") else { return };
                let at = self.add_policy(models, id, v, &owner, Some(PolicyKind::Permission));
                if let (Some((f, i)), Some(r)) = (at, b.attr("role")) {
                    if let Some((rf, ri)) = self.role_of(r) {
                        models[rf].roles[ri]
                            .permission_policies
                            .push(PolicyRef::new(f, i));
                    } else if let Some(name) = Self::role_elsewhere(r) {
                        // (a role of another module instance, `role = module.x.role_name`:
                        // joined by the scan)
                        models[id].named_attachments.push(NamedAttachment {
                            file: id,
                            span: b.span,
                            role: name,
                            scope: String::new(),
                            managed: vec![],
                            policies: vec![PolicyRef::new(f, i)],
                        });
                    }
                }
            }
            "aws_iam_role_policy_attachment"
            | "aws_iam_policy_attachment"
            | "aws_iam_role_policy_attachments_exclusive" => {
                // (the exclusive form: `role_name` and a list of `policy_arns`)
                let Some(arn) = b.attr("policy_arn").or_else(|| b.attr("policy_arns")) else {
                    return;
                };
                let targets: Vec<Node> = match (
                    b.attr("role").or_else(|| b.attr("role_name")),
                    b.attr("roles"),
                ) {
                    (Some(r), _) => vec![r.clone()],
                    (None, Some(rs)) => list_items(rs),
                    (None, None) => return,
                };
                for t in &targets {
                    if let Some((rf, ri)) = self.role_of(t) {
                        models[rf].roles[ri]
                            .managed_policy_arns
                            .extend(Attached::all(id, strings_of(arn)));
                    } else if let Some(name) = Self::role_elsewhere(t) {
                        // (a role of another module instance, joined by the scan)
                        let (mut managed, mut policies) = (Vec::new(), Vec::new());
                        for a in strings_of(arn) {
                            match self.link_arn(&a) {
                                Ok(p) => policies.push(p),
                                Err(a) => managed.push(Attached::new(id, a)),
                            }
                        }
                        models[id].named_attachments.push(NamedAttachment {
                            file: id,
                            span: b.span,
                            role: name,
                            scope: String::new(),
                            managed,
                            policies,
                        });
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
