//! The scan: discover files, read, classify, parse and extract each one (in parallel), then
//! hold the project-wide model every rule runs on.

use crate::frontend::{Extracted, classify_by_name, extract, json_is_relevant};
use crate::model::FileModel;
use crate::source::discover::{Candidate, WalkOptions, walk};
use crate::source::{FileError, FileId, Format, SourceFile};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub struct ScanOptions {
    pub root: PathBuf,
    pub paths: Vec<PathBuf>,
    pub max_file_size: u64,
    pub settings: Settings,
}

pub use crate::model::{Scan, Settings, Skipped};

/// Whether a file, by `(relative path, path)`, is excluded by the configuration.
pub type ExcludeFn<'a> = dyn Fn(&str, &Path) -> bool + Sync + 'a;

/// How the scan walks, and what it counts for the summary (beyond [`ScanOptions`]).
#[derive(Default)]
pub struct WalkSettings<'a> {
    pub walk: WalkOptions,
    /// The configuration's `exclude`: whether `(relative path, path)` is excluded. Excluded
    /// files are still analysed (their documents can matter to others); the caller drops their
    /// findings and errors. The scan only counts them.
    pub excluded: Option<&'a ExcludeFn<'a>>,
}

#[allow(clippy::large_enum_variant)]
enum Outcome {
    Skip,
    /// Analysed, and nothing in it can matter to any rule: counted, not kept.
    Done,
    File(SourceFile, FileModel),
    /// A parsed `.tf` file, until its directory is linked.
    Terraform(SourceFile, Box<crate::frontend::terraform::TfFile>),
    Error(FileError),
}

fn error(rel: &str, line: u32, column: u32, message: impl Into<String>) -> Outcome {
    Outcome::Error(FileError {
        path: rel.to_string(),
        line,
        column,
        message: message.into(),
        column_utf16: column,
    })
}

/// The text of a file and whether it started with a UTF-8 byte order mark (read as three
/// spaces, so byte offsets stay the file's), or why it cannot be read as text (with the bytes
/// back).
fn decode(bytes: Vec<u8>) -> Result<(String, bool), (String, Vec<u8>)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(("file is UTF-16 encoded; save it as UTF-8".into(), bytes));
    }
    // Reported like UTF-16 with a mark (decoding would move every offset off the file's bytes).
    if crate::source::read::utf16_without_bom(&bytes).is_some() {
        return Err((
            "file is UTF-16 encoded (without a byte order mark); save it as UTF-8".into(),
            bytes,
        ));
    }
    if bytes.contains(&0) {
        return Err(("file contains NUL bytes (binary?)".into(), bytes));
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            // A UTF-8 BOM becomes three spaces: byte offsets stay those of the file.
            let bom = s.starts_with('\u{feff}');
            if bom {
                s.replace_range(..3, "   ");
            }
            Ok((s, bom))
        }
        Err(e) => Err((
            format!(
                "file is not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
            e.into_bytes(),
        )),
    }
}

fn process(id: FileId, c: &Candidate, max: u64, overlay: Option<&str>) -> Outcome {
    let out = process_file(id, c, max, overlay);
    // A variables file Terraform does not load by itself (`example.tfvars` with `<YOUR_ID>`
    // placeholders, a generated one over the size limit) is read only as a possible
    // `-var-file`: unreadable, it is not an input error.
    if matches!(out, Outcome::Error(_))
        && crate::frontend::terraform::is_var_file(&c.rel)
        && !crate::frontend::terraform::is_tfvars(&c.rel)
    {
        return Outcome::Skip;
    }
    out
}

fn process_file(id: FileId, c: &Candidate, max: u64, overlay: Option<&str>) -> Outcome {
    // Classify on the full path: `oidc-lint .github/workflows` must still see workflows.
    let full = std::path::absolute(&c.path)
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_else(|_| c.rel.clone());
    let Some(format) = classify_by_name(&full) else {
        return Outcome::Skip;
    };
    // Formats recognised by name are always errors when unreadable; formats recognised by
    // content (JSON) only when their text shows they would have been analysed.
    let by_content = matches!(format, Format::IamJson | Format::CloudFormation);
    let bytes = match overlay {
        Some(text) if text.len() as u64 > max => {
            return if by_content {
                Outcome::Skip
            } else {
                error(
                    &c.rel,
                    0,
                    0,
                    format!(
                        "file is {} bytes, over the {max}-byte limit (see --max-file-size)",
                        text.len()
                    ),
                )
            };
        }
        Some(text) => text.as_bytes().to_vec(),
        None => match read_capped(c, max, format) {
            Ok(b) => b,
            Err(o) => return o,
        },
    };
    process_bytes(id, c, format, by_content, bytes)
}

/// A file over the size limit: an input error when it would have been analysed (formats known
/// by name always; formats known by content when their content says so), else skipped.
fn oversized(
    c: &Candidate,
    file: &mut std::fs::File,
    format: Format,
    size: u64,
    max: u64,
) -> Outcome {
    use crate::frontend::sniff::{self, Verdict};
    let too_big = format!("file is {size} bytes, over the {max}-byte limit (see --max-file-size)");
    let verdict = match format {
        Format::IamJson => sniff::oversized(
            file,
            &crate::source::read::may_be_json_object,
            &json_is_relevant,
            sniff::JSON_KEYS,
        ),
        Format::CloudFormation => sniff::oversized(
            file,
            &|_| true,
            &crate::frontend::maybe_cloudformation,
            sniff::CFN_KEYS,
        ),
        _ => Ok(Verdict::Input),
    };
    match verdict {
        Ok(Verdict::NotInput) => Outcome::Skip,
        Ok(Verdict::Input) => error(&c.rel, 0, 0, too_big),
        Ok(Verdict::TooLargeToTell) => error(
            &c.rel,
            0,
            0,
            format!("{too_big}; too large to tell whether it is an input, so it counts as one"),
        ),
        Err(e) => error(&c.rel, 0, 0, format!("cannot read file: {e}")),
    }
}

/// One open: size from the handle, then one read of at most `max` bytes. (`Err` is the
/// file's outcome: skipped, or an error; once per file, so its size does not matter.)
#[allow(clippy::result_large_err)]
fn read_capped(c: &Candidate, max: u64, format: Format) -> Result<Vec<u8>, Outcome> {
    // Never blocks on a FIFO swapped in after the walk; refuses anything not a regular file.
    let mut file = match crate::source::discover::open_regular(&c.path) {
        Ok(f) => f,
        Err(e) => return Err(error(&c.rel, 0, 0, format!("cannot read file: {e}"))),
    };
    let size = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return Err(error(&c.rel, 0, 0, format!("cannot read file: {e}"))),
    };
    if size > max {
        return Err(oversized(c, &mut file, format, size, max));
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    if let Err(e) = std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut file, max.saturating_add(1)),
        &mut bytes,
    ) {
        return Err(error(&c.rel, 0, 0, format!("cannot read file: {e}")));
    }
    if bytes.len() as u64 > max {
        // grew while being read
        drop(bytes);
        let size = file.metadata().map(|m| m.len()).unwrap_or(max + 1);
        return Err(oversized(c, &mut file, format, size.max(max + 1), max));
    }
    Ok(bytes)
}

/// Classify by content, decode, parse and extract one file's bytes.
fn process_bytes(
    id: FileId,
    c: &Candidate,
    format: Format,
    by_content: bool,
    bytes: Vec<u8>,
) -> Outcome {
    // Cheap rejection by the first bytes: every JSON input is an object.
    if format == Format::IamJson && !crate::source::read::may_be_json_object(&bytes) {
        return Outcome::Skip;
    }
    let (text, bom) = match decode(bytes) {
        Ok(t) => t,
        Err((msg, bytes)) => {
            // Content-recognised files are errors only when their text (decoded leniently,
            // UTF-16 included) shows they would have been analysed.
            let relevant = || {
                let lossy = crate::source::read::lossy_text(&bytes);
                match format {
                    Format::IamJson => json_is_relevant(&lossy),
                    _ => crate::frontend::maybe_cloudformation(&lossy),
                }
            };
            return if by_content && !relevant() {
                Outcome::Skip
            } else {
                error(&c.rel, 0, 0, msg)
            };
        }
    };
    if format == Format::IamJson && !json_is_relevant(&text) {
        return Outcome::Skip;
    }
    // Which JSON input (plan, template, export, policy) the text is; YAML templates by content.
    let format = match format {
        Format::IamJson => match crate::frontend::json_format(&text) {
            Some(f) => f,
            None => return Outcome::Skip,
        },
        Format::CloudFormation if !text.trim_start().starts_with('{') => {
            if !crate::frontend::maybe_cloudformation(&text) {
                return Outcome::Skip;
            }
            format
        }
        f => f,
    };
    let src = SourceFile::new(c.path.clone(), c.rel.clone(), text, format).with_bom(bom);
    match extract(id, &src) {
        // Memory stays with what rules can use: a file with nothing in its model (a `.tf`
        // file of buckets and instances) is dropped here, text and all, unless its text holds
        // what rules read from text (an access key id, a suppression comment).
        Ok(Some(Extracted::Model(m))) if m.is_empty() && !text_is_read(&src) => Outcome::Done,
        Ok(Some(Extracted::Model(m))) => Outcome::File(src, m),
        // (A `.tf` file with no block linking reads.)
        Ok(Some(Extracted::Terraform(t))) if t.blocks.is_empty() && !text_is_read(&src) => {
            Outcome::Done
        }
        Ok(Some(Extracted::Terraform(t))) => Outcome::Terraform(src, t),
        Ok(None) => Outcome::Skip,
        Err(e) => {
            let p = src.pos(e.offset as u32);
            let mut err = error(&c.rel, p.line, p.column, e.message);
            if let Outcome::Error(fe) = &mut err {
                fe.column_utf16 = src.pos_utf16(e.offset as u32).column;
            }
            err
        }
    }
}

/// Whether rules read this file's text whatever its model: it holds an access key id
/// (`hardcoded-aws-key`) or an oidc-lint comment (suppressions, `unused-suppression`).
fn text_is_read(src: &SourceFile) -> bool {
    src.text.contains("oidc-lint") || !crate::analysis::secrets::key_ids(&src.text).is_empty()
}

/// Process one unit: a single file, or the `.tf` files of one directory, linked together. A
/// directory whose Terraform defines nothing rules read (no policy, role, provider or key) is
/// dropped whole after linking.
/// What one unit produced: each file's outcome, and the policies its Terraform rendered from
/// template files of the scan (with the template's text, read for it).
#[derive(Default)]
struct UnitOut {
    outs: Vec<(FileId, Outcome)>,
    rendered: Vec<(FileId, Vec<Rendered>, SourceFile)>,
    /// Local modules linked with the arguments of a caller in this unit.
    instances: Vec<crate::frontend::terraform::Instance>,
}

type Rendered = (crate::model::PolicyDoc, FileId, crate::source::Span, String);

/// A template or document a Terraform module names (`templatefile()`, `file()`): only a file
/// the walk found (inside the tree, not a link, not ignored), read within the size limit like
/// any other.
fn load_for_terraform(
    rel: &str,
    index: &std::collections::HashMap<&str, FileId>,
    candidates: &[Candidate],
    overlays: &[Option<&str>],
    max: u64,
) -> Option<(FileId, SourceFile)> {
    let id = *index.get(rel)?;
    let c = &candidates[id];
    let bytes = match overlays[id] {
        Some(t) if t.len() as u64 <= max => t.as_bytes().to_vec(),
        Some(_) => return None,
        None => read_capped(c, max, Format::IamJson).ok()?,
    };
    let (text, bom) = decode(bytes).ok()?;
    Some((
        id,
        SourceFile::new(c.path.clone(), c.rel.clone(), text, Format::IamJson).with_bom(bom),
    ))
}

fn process_unit(
    unit: &[FileId],
    candidates: &[Candidate],
    overlays: &[Option<&str>],
    max: u64,
    index: &std::collections::HashMap<&str, FileId>,
    tf_dirs: &std::collections::HashMap<&str, Vec<FileId>>,
    repo: Option<&str>,
) -> UnitOut {
    let outs: Vec<(FileId, Outcome)> = unit
        .iter()
        .map(|&id| (id, process(id, &candidates[id], max, overlays[id])))
        .collect();
    let is_tf = |o: &Outcome| matches!(o, Outcome::Terraform(..));
    if !outs.iter().any(|(_, o)| is_tf(o)) {
        return UnitOut {
            outs,
            rendered: vec![],
            instances: vec![],
        };
    }
    let mut srcs = Vec::new();
    let mut parsed = Vec::new();
    let mut models = Vec::new();
    let mut rest = Vec::new();
    for (id, o) in outs {
        match o {
            Outcome::Terraform(src, t) => {
                srcs.push((id, src));
                parsed.push((id, *t));
                models.push((id, FileModel::default()));
            }
            other => rest.push((id, other)),
        }
    }
    let files =
        crate::frontend::terraform::DirFiles::new(srcs.iter().map(|(id, s)| (*id, s)).collect());
    let mut dir_models = crate::frontend::terraform::DirFiles::new(models);
    let loaded: std::cell::RefCell<Vec<SourceFile>> = Default::default();
    let load = |rel: &str| {
        let (id, src) = load_for_terraform(rel, index, candidates, overlays, max)?;
        let text = src.text.clone();
        loaded.borrow_mut().push(src);
        Some((id, text))
    };
    // A local module's `.tf` files, read like any other (the walk found them; size-bounded).
    let load_dir = |dir: &str| -> Vec<(FileId, SourceFile)> {
        let Some(ids) = tf_dirs.get(dir) else {
            return vec![];
        };
        ids.iter()
            .filter_map(|&id| {
                let c = &candidates[id];
                let bytes = match overlays[id] {
                    Some(t) if t.len() as u64 <= max => t.as_bytes().to_vec(),
                    Some(_) => return None,
                    None => read_capped(c, max, Format::Terraform).ok()?,
                };
                let (text, bom) = decode(bytes).ok()?;
                Some((
                    id,
                    SourceFile::new(c.path.clone(), c.rel.clone(), text, Format::Terraform)
                        .with_bom(bom),
                ))
            })
            .collect()
    };
    let linked = crate::frontend::terraform::link_dir(
        &files,
        parsed,
        &mut dir_models,
        &load,
        &load_dir,
        repo,
    );
    let rendered = linked.rendered;
    let instances = linked.instances;
    drop(files);
    let mut loaded = loaded.into_inner();
    let rendered: Vec<(FileId, Vec<Rendered>, SourceFile)> = rendered
        .into_iter()
        .filter_map(|(id, docs)| {
            let i = loaded
                .iter()
                .position(|s| index.get(s.rel.as_str()) == Some(&id))?;
            Some((id, docs, loaded.swap_remove(i)))
        })
        .collect();
    let models: Vec<(FileId, FileModel)> = dir_models.into_pairs().collect();
    let useful =
        models.iter().any(|(_, m)| !m.is_empty()) || !rendered.is_empty() || !instances.is_empty();
    for ((id, src), (_, m)) in srcs.into_iter().zip(models) {
        // (a Terragrunt file: findings about the values it passes are reported in it)
        let keep =
            useful || text_is_read(&src) || crate::frontend::terraform::is_terragrunt(&src.rel);
        rest.push((
            id,
            if keep {
                Outcome::File(src, m)
            } else {
                Outcome::Done
            },
        ));
    }
    UnitOut {
        outs: rest,
        rendered,
        instances,
    }
}

/// Local modules linked with their callers' arguments replace the modules' own models (linked
/// alone, with the callers' values unknown): the first caller's instance replaces, the next ones
/// are added (each caller judged on its own values), every policy pointing at its caller.
fn merge_instances(
    instances: Vec<crate::frontend::terraform::Instance>,
    slots: &mut [Option<Outcome>],
    shift: &dyn Fn(&mut FileModel, FileId, usize),
) {
    let called: std::collections::HashSet<FileId> = instances
        .iter()
        .flat_map(|i| {
            i.models
                .iter()
                .map(|(id, _)| *id)
                .chain(i.via.iter().copied())
        })
        .collect();
    let mut replaced: std::collections::HashSet<FileId> = Default::default();
    for inst in instances {
        // Linked alone, a module calling another passes its own unknown inputs: superseded
        // by the instance through the module's own caller.
        if inst.top_level && called.contains(&inst.caller.0) {
            continue;
        }
        let mut models = inst.models;
        let mut sources: std::collections::HashMap<FileId, SourceFile> =
            inst.sources.into_iter().collect();
        // Where each file's policies will start once added.
        let bases: Vec<(FileId, usize)> = models
            .iter()
            .map(|(id, _)| {
                let base = match &slots[*id] {
                    Some(Outcome::File(_, m)) if replaced.contains(id) => m.policies.len(),
                    _ => 0,
                };
                (*id, base)
            })
            .collect();
        for (_, m) in models.iter_mut() {
            for &(f, base) in &bases {
                if base > 0 {
                    shift(m, f, base);
                }
            }
        }
        let (cfile, cspan, how) = inst.caller;
        for ((id, mut m), (_, base)) in models.into_iter().zip(bases) {
            if matches!(slots[id], Some(Outcome::Error(_))) || m.is_empty() {
                continue;
            }
            for i in 0..m.policies.len() {
                m.rendered_by.push(crate::model::RenderedBy {
                    policy: base + i,
                    file: cfile,
                    span: cspan,
                    how: how.clone(),
                    callers: inst.callers.clone(),
                });
            }
            for r in &mut m.rendered_by {
                if r.file != cfile || r.span != cspan {
                    r.policy += base;
                }
            }
            if replaced.insert(id) {
                let src = match slots[id].take() {
                    // (the other clouds' resources are read once per directory, not per
                    // instance: kept from the directory's own linking)
                    Some(Outcome::File(src, mut alone)) => {
                        if m.azure.is_empty() {
                            m.azure = std::mem::take(&mut alone.azure);
                        }
                        if m.gcp.is_empty() {
                            m.gcp = std::mem::take(&mut alone.gcp);
                        }
                        if m.tfe_runs.is_empty() {
                            m.tfe_runs = std::mem::take(&mut alone.tfe_runs);
                        }
                        src
                    }
                    _ => match sources.remove(&id) {
                        Some(s) => s,
                        None => continue,
                    },
                };
                slots[id] = Some(Outcome::File(src, m));
            } else if let Some(Outcome::File(_, into)) = &mut slots[id] {
                into.policies.append(&mut m.policies);
                into.roles.append(&mut m.roles);
                into.providers.append(&mut m.providers);
                into.access_keys.append(&mut m.access_keys);
                into.subject_templates.append(&mut m.subject_templates);
                into.switches.append(&mut m.switches);
                into.rendered_by.append(&mut m.rendered_by);
                into.ci_values.append(&mut m.ci_values);
                into.named_attachments.append(&mut m.named_attachments);
                into.named_policies.append(&mut m.named_policies);
            }
        }
    }
}

/// Attachments naming a role created in another module instance (or directory) of the same
/// deployment: attached to the one role of that known name whose owner ends with the same
/// `(in DIR)` (role names are unique in an account; one deployment is one account). A name
/// two such roles share, or none has, attaches nothing; outside module instances nothing is
/// joined.
fn join_named_attachments(slots: &mut [Option<Outcome>]) {
    let pending: Vec<crate::model::NamedAttachment> = slots
        .iter_mut()
        .filter_map(|o| match o {
            Some(Outcome::File(_, m)) => Some(std::mem::take(&mut m.named_attachments)),
            _ => None,
        })
        .flatten()
        .collect();
    if pending.is_empty() {
        return;
    }
    // (Terraform's roles only: a CloudFormation stack or a plan beside a root is not one of its
    // module instances)
    let mut roles: std::collections::HashMap<(String, String), Vec<(usize, usize)>> =
        Default::default();
    let mut terraform_roles: Vec<(String, String, (usize, usize))> = Vec::new();
    // (CloudFormation stacks' exported roles, by export name)
    let mut exports: std::collections::HashMap<String, Vec<(usize, usize)>> = Default::default();
    for (f, o) in slots.iter().enumerate() {
        if let Some(Outcome::File(_, m)) = o {
            for (name, i) in &m.exports {
                exports.entry(name.clone()).or_default().push((f, *i));
            }
        }
        if let Some(Outcome::File(src, m)) = o
            && src.format == Format::Terraform
        {
            for (i, r) in m.roles.iter().enumerate() {
                let scope = deployment_of(&r.owner, &src.rel);
                if let Some(name) = r.name.as_ref().and_then(|n| n.value.known()) {
                    roles.entry((name, scope.clone())).or_default().push((f, i));
                }
                terraform_roles.push((r.owner.clone(), scope, (f, i)));
            }
        }
    }
    // (an attachment of a directory linked as itself joins the roles its own module instances
    // create; across two root directories, which may deploy to different accounts, nothing is
    // joined)
    for a in pending {
        let scope = match a.scope.is_empty() {
            true => match &slots[a.file] {
                Some(Outcome::File(src, _)) => deployment_of("", &src.rel),
                _ => continue,
            },
            false => a.scope.clone(),
        };
        let found = match a.role.strip_prefix(crate::model::MODULE_ROLE) {
            // (an export is one per account and region: the one role the scan exports so)
            None if a.role.starts_with(crate::model::CFN_EXPORT) => exports
                .get(&a.role[crate::model::CFN_EXPORT.len()..])
                .and_then(|v| only(v)),
            // (the one role of that module call's instance in the deployment)
            Some(call) => {
                // (a local module's roles are `CALL.aws_iam_role.x (in …)`, a modelled registry
                // module's `CALL (in …)` or `CALL`)
                let within = format!("{call}.");
                let alone = format!("{call} (in ");
                let one: Vec<(usize, usize)> = terraform_roles
                    .iter()
                    .filter(|(owner, s, _)| {
                        *s == scope
                            && (owner.starts_with(&within)
                                || owner.starts_with(&alone)
                                || owner.as_str() == call)
                    })
                    .map(|(_, _, at)| *at)
                    .collect();
                only(&one)
            }
            None => roles.get(&(a.role.clone(), scope)).and_then(|v| only(v)),
        };
        let Some((f, i)) = found else {
            continue;
        };
        if let Some(Outcome::File(_, m)) = &mut slots[f] {
            let r = &mut m.roles[i];
            r.managed_policy_arns.extend(a.managed);
            for p in a.policies {
                if !r.permission_policies.contains(&p) {
                    r.permission_policies.push(p);
                }
            }
        }
    }
}

/// The one element of a list of candidates; `None` when there are none or several (an
/// ambiguous name joins nothing).
fn only<T: Copy>(v: &[T]) -> Option<T> {
    match v {
        [x] => Some(*x),
        _ => None,
    }
}

/// The deployment a Terraform resource belongs to: what the owners of its module instance end
/// with (`(in live/prod)`), else its own directory's (a root directory).
fn deployment_of(owner: &str, rel: &str) -> String {
    match owner.rfind(" (in ") {
        Some(i) if owner.ends_with(')') => owner[i..].to_string(),
        _ => format!(" (in {})", crate::frontend::terraform::parent_dir(rel)),
    }
}

/// Customer-managed policies attached by name or ARN (`data "aws_iam_policy" { name = … }`,
/// `arn:aws:iam::ACCOUNT:policy/NAME`) in one module instance and created in another of the
/// same deployment (or in the root calling it): the one policy of that known name there becomes
/// the role's permission policy. A name two such policies share, or none has, links nothing.
fn join_named_policies(slots: &mut [Option<Outcome>]) {
    let mut named: std::collections::HashMap<
        (String, String),
        std::collections::BTreeSet<crate::model::PolicyRef>,
    > = Default::default();
    for o in slots.iter() {
        if let Some(Outcome::File(src, m)) = o {
            for n in &m.named_policies {
                // (the policy's owner names its module instance; the resource's file, its root)
                let Some(Outcome::File(_, pm)) = &slots[n.policy.file] else {
                    continue;
                };
                let Some(p) = pm.policies.get(n.policy.index) else {
                    continue;
                };
                let scope = deployment_of(&p.owner, &src.rel);
                named
                    .entry((n.name.clone(), scope))
                    .or_default()
                    .insert(n.policy);
            }
        }
    }
    if named.is_empty() {
        return;
    }
    for o in slots.iter_mut() {
        let Some(Outcome::File(src, m)) = o else {
            continue;
        };
        if src.format != Format::Terraform {
            continue;
        }
        for r in &mut m.roles {
            let scope = deployment_of(&r.owner, &src.rel);
            let mut kept = Vec::new();
            for a in std::mem::take(&mut r.managed_policy_arns) {
                let linked = crate::model::customer_policy_name(&a.arn.value)
                    .and_then(|n| named.get(&(n, scope.clone())))
                    .and_then(|l| match l.len() {
                        1 => l.first().copied(),
                        _ => None,
                    });
                match linked {
                    Some(p) => {
                        if !r.permission_policies.contains(&p) {
                            r.permission_policies.push(p);
                        }
                    }
                    None => kept.push(a),
                }
            }
            r.managed_policy_arns = kept;
        }
    }
}

/// Policies Terraform rendered from a template file become that file's policies, replacing
/// what the file says read alone (a policy with holes), in unit order; the roles of each unit
/// refer to them by their index in the unit's own list, shifted here.
fn merge_rendered(done: Vec<UnitOut>, slots: &mut [Option<Outcome>]) {
    let mut policies: std::collections::BTreeMap<FileId, Vec<Rendered>> = Default::default();
    let mut sources: std::collections::BTreeMap<FileId, SourceFile> = Default::default();
    let mut instances = Vec::new();
    let shift = |m: &mut FileModel, file: FileId, base: usize| {
        for r in &mut m.roles {
            let refs = r.trust.iter_mut().chain(r.permission_policies.iter_mut());
            for p in refs.filter(|p| p.file == file) {
                p.index += base;
            }
        }
        for a in &mut m.named_attachments {
            for p in a.policies.iter_mut().filter(|p| p.file == file) {
                p.index += base;
            }
        }
        for n in m
            .named_policies
            .iter_mut()
            .filter(|n| n.policy.file == file)
        {
            n.policy.index += base;
        }
    };
    for mut u in done {
        for (tid, docs, src) in u.rendered {
            let list = policies.entry(tid).or_default();
            let base = list.len();
            list.extend(docs);
            sources.entry(tid).or_insert(src);
            for (_, o) in u.outs.iter_mut() {
                if let Outcome::File(_, m) = o {
                    shift(m, tid, base);
                }
            }
            for inst in u.instances.iter_mut() {
                for (_, m) in inst.models.iter_mut() {
                    shift(m, tid, base);
                }
            }
        }
        for (id, o) in u.outs {
            slots[id] = Some(o);
        }
        instances.extend(u.instances);
    }
    merge_instances(instances, slots, &shift);
    for (tid, list) in policies {
        let mut docs = Vec::with_capacity(list.len());
        let mut rendered_by = Vec::with_capacity(list.len());
        for (i, (doc, file, span, how)) in list.into_iter().enumerate() {
            docs.push(doc);
            rendered_by.push(crate::model::RenderedBy {
                policy: i,
                file,
                span,
                how,
                callers: vec![],
            });
        }
        match &mut slots[tid] {
            Some(Outcome::File(_, m)) => {
                m.policies = docs;
                m.rendered_by = rendered_by;
            }
            // An input error about the file stays the file's outcome.
            Some(Outcome::Error(_)) => {}
            other => {
                // A template that is only JSON once rendered: kept for its rendered policies.
                let Some(src) = sources.remove(&tid) else {
                    continue;
                };
                *other = Some(Outcome::File(
                    src,
                    FileModel {
                        policies: docs,
                        rendered_by,
                        ..Default::default()
                    },
                ));
            }
        }
    }
}

/// How many directories above its own a `-var-file` looks for the `.tf` files it is for.
const VAR_FILE_LEVELS: usize = 3;

pub fn scan(opts: &ScanOptions) -> Scan {
    scan_with(opts, &WalkSettings::default(), &[])
}

/// [`scan`], with in-memory contents replacing files on disk (see [`scan_with`]).
pub fn scan_with_overlay(opts: &ScanOptions, overlays: &[(PathBuf, String)]) -> Scan {
    scan_with(opts, &WalkSettings::default(), overlays)
}

/// [`scan`], with in-memory contents replacing files on disk: each overlay's text is read
/// instead of the file at its path (an editor's unsaved buffer). An overlay for a path the walk
/// does not find (a new, unsaved file) is scanned as if it were named on the command line.
pub fn scan_with(
    opts: &ScanOptions,
    ws: &WalkSettings<'_>,
    overlays: &[(PathBuf, String)],
) -> Scan {
    let walked = walk(&opts.root, &opts.paths, &ws.walk);
    let mut candidates = walked.candidates;
    let walk_errors = walked.errors;
    // Ignored directories count once; ignored files when their name makes them candidates.
    let ignored = walked
        .ignored
        .iter()
        .filter(|(rel, is_dir)| *is_dir || classify_by_name(rel).is_some())
        .count();
    let key = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let overlay_of: std::collections::HashMap<PathBuf, &str> =
        overlays.iter().map(|(p, t)| (key(p), t.as_str())).collect();
    let mut found = std::collections::HashSet::new();
    for c in &candidates {
        let k = key(&c.path);
        if overlay_of.contains_key(&k) {
            found.insert(k);
        }
    }
    for (p, t) in overlays {
        if !found.contains(&key(p)) {
            let rel = p.strip_prefix(&opts.root).unwrap_or(p);
            candidates.push(Candidate {
                path: p.clone(),
                rel: rel.to_string_lossy().replace('\\', "/"),
                explicit: true,
                size: t.len() as u64,
            });
        }
    }
    let overlay: Vec<Option<&str>> = candidates
        .iter()
        .map(|c| {
            if overlay_of.is_empty() {
                None
            } else {
                overlay_of.get(&key(&c.path)).copied()
            }
        })
        .collect();
    // Units of work: the `.tf` files of one directory (a Terraform module: linked together),
    // every other file alone. A unit is read, parsed, linked and reduced to what rules can use
    // before the next one starts on that core, so parse trees never pile up.
    let mut units: Vec<Vec<FileId>> = Vec::new();
    let mut tf_dirs: std::collections::HashMap<&str, usize> = Default::default();
    use crate::frontend::terraform::parent_dir as parent;
    // A variables file in a directory without `.tf` files (`environments/dev/inputs.tfvars`)
    // is a `-var-file` of the nearest directory above that has them: linked with it.
    // (a Terragrunt unit's directory holds its own configuration: not a variables file's)
    let code_dirs: std::collections::HashSet<&str> = candidates
        .iter()
        .filter(|c| {
            c.rel.to_ascii_lowercase().ends_with(".tf")
                || crate::frontend::terraform::is_terragrunt(&c.rel)
        })
        .map(|c| parent(&c.rel))
        .collect();
    fn var_file_home<'a>(
        rel: &'a str,
        code_dirs: &std::collections::HashSet<&str>,
    ) -> Option<&'a str> {
        let mut dir = parent(rel);
        for _ in 0..VAR_FILE_LEVELS {
            if dir.is_empty() {
                return None;
            }
            dir = parent(dir);
            if code_dirs.contains(dir) {
                return Some(dir);
            }
        }
        None
    }
    for (id, c) in candidates.iter().enumerate() {
        if classify_by_name(&c.rel) == Some(Format::Terraform) {
            let mut dir = parent(&c.rel);
            if crate::frontend::terraform::is_var_file(&c.rel)
                && !code_dirs.contains(dir)
                && let Some(home) = var_file_home(&c.rel, &code_dirs)
            {
                dir = home;
            }
            match tf_dirs.get(dir) {
                Some(&u) => units[u].push(id),
                None => {
                    tf_dirs.insert(dir, units.len());
                    units.push(vec![id]);
                }
            }
        } else {
            units.push(vec![id]);
        }
    }
    // Biggest units first: a large plan started last would leave the other cores idle while
    // one finishes it. (Results go to their slots by id: the order of work changes nothing.)
    let weight = |u: &Vec<FileId>| u.iter().map(|&i| candidates[i].size).sum::<u64>();
    // The `.tf` files of each directory, for the local modules a directory calls.
    let dir_files: std::collections::HashMap<&str, Vec<FileId>> = tf_dirs
        .iter()
        .map(|(d, &u)| (*d, units[u].clone()))
        .collect();
    units.sort_by_cached_key(|u| std::cmp::Reverse(weight(u)));
    let index: std::collections::HashMap<&str, FileId> = candidates
        .iter()
        .enumerate()
        .map(|(id, c)| (c.rel.as_str(), id))
        .collect();
    // (a Terragrunt source naming this repository is read from the scan)
    let repo = crate::analysis::repo::root_repo(&opts.settings, &opts.root);
    let done: Vec<UnitOut> = units
        .par_iter()
        .with_max_len(1)
        .map(|u| {
            process_unit(
                u,
                &candidates,
                &overlay,
                opts.max_file_size,
                &index,
                &dir_files,
                repo.as_deref(),
            )
        })
        .collect();
    let mut slots: Vec<Option<Outcome>> = (0..candidates.len()).map(|_| None).collect();
    merge_rendered(done, &mut slots);
    join_named_attachments(&mut slots);
    join_named_policies(&mut slots);
    let mut outcomes: Vec<Outcome> = slots
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Skip))
        .collect();
    let mut include_notes = Vec::new();
    link_gitlab_includes(
        &mut outcomes,
        &candidates,
        &overlay,
        opts.max_file_size,
        &mut include_notes,
    );
    let scanned = outcomes
        .iter()
        .filter(|o| !matches!(o, Outcome::Skip))
        .count();
    let excluded = match &ws.excluded {
        Some(ex) => outcomes
            .iter()
            .zip(&candidates)
            .filter(|(o, c)| !matches!(o, Outcome::Skip) && ex(&c.rel, &c.path))
            .count(),
        None => 0,
    };
    let mut files = Vec::with_capacity(outcomes.len());
    let mut models = Vec::with_capacity(outcomes.len());
    let mut errors: Vec<FileError> = walk_errors
        .into_iter()
        .map(|(path, message)| FileError {
            path,
            line: 0,
            column: 0,
            message,
            column_utf16: 0,
        })
        .collect();
    for o in outcomes {
        match o {
            Outcome::Skip | Outcome::Done => {
                files.push(None);
                models.push(FileModel::default());
            }
            Outcome::File(src, m) => {
                files.push(Some(src));
                models.push(m);
            }
            // `process_unit` links every parsed `.tf` file into a model.
            Outcome::Terraform(src, _) => {
                files.push(Some(src));
                models.push(FileModel::default());
            }
            Outcome::Error(e) => {
                files.push(None);
                models.push(FileModel::default());
                errors.push(e);
            }
        }
    }
    errors.sort();
    let mut scan = Scan::new(
        opts.root.clone(),
        files,
        models,
        errors,
        opts.settings.clone(),
        scanned,
    );
    scan.skipped = Skipped { ignored, excluded };
    scan.warnings = walked.warnings;
    // (a file included by several pipelines gets its notes once)
    let mut said = std::collections::HashSet::new();
    scan.warnings
        .extend(include_notes.into_iter().filter(|n| said.insert(n.clone())));
    scan.shown = shown_for(&opts.root);
    scan
}

use crate::model::gitlab::{
    MAX_INCLUDE_DEPTH as MAX_GITLAB_INCLUDE_DEPTH, MAX_INCLUDES as MAX_GITLAB_INCLUDES,
};

/// The files each GitLab pipeline root (`.gitlab-ci.yml`) pulls in with `include: local:` (or
/// the string form), read as GitLab CI files whatever their name, breadth first and bounded
/// ([`MAX_GITLAB_INCLUDES`], [`MAX_GITLAB_INCLUDE_DEPTH`]). Only files of the scan inside the
/// root's directory (the project) are read: a path leaving it (`..`), a symbolic link, a file the
/// walk did not find, a cycle, and every remote, project, template or component include are
/// refused or not followed, each with a note in `notes`. Nothing is fetched.
fn link_gitlab_includes(
    outcomes: &mut [Outcome],
    candidates: &[Candidate],
    overlay: &[Option<&str>],
    max: u64,
    notes: &mut Vec<String>,
) {
    use crate::model::gitlab::IncludeKind;
    // (the includes only: a model is not cloned per visit)
    let gitlab_of = |o: &Outcome| match o {
        Outcome::File(_, m) => m.gitlab.as_ref().map(|g| (g.root, g.includes.clone())),
        _ => None,
    };
    let roots: Vec<FileId> = (0..outcomes.len())
        .filter(|&id| matches!(&outcomes[id], Outcome::File(_, m) if m.gitlab.as_ref().is_some_and(|g| g.root)))
        .collect();
    if roots.is_empty() {
        return;
    }
    let by_rel: std::collections::HashMap<&str, FileId> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.rel.as_str(), i))
        .collect();
    for root in roots {
        let root_rel = candidates[root].rel.as_str();
        let dir = root_rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let project = candidates[root]
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut seen: std::collections::HashSet<FileId> = [root].into();
        let mut parent: std::collections::HashMap<FileId, FileId> = Default::default();
        let mut queue = std::collections::VecDeque::from([(root, 0usize)]);
        let mut count = 0usize;
        while let Some((id, depth)) = queue.pop_front() {
            let Some((_, includes)) = gitlab_of(&outcomes[id]) else {
                continue;
            };
            let from = candidates[id].rel.as_str();
            for inc in &includes {
                let path = match &inc.kind {
                    IncludeKind::Local(p) => p,
                    IncludeKind::External(what) => {
                        notes.push(format!(
                            "{from}: include `{what}` is not followed (oidc-lint never fetches remote, project, template or component includes); jobs it defines are not checked"
                        ));
                        continue;
                    }
                    IncludeKind::Unknown(what) => {
                        notes.push(format!(
                            "{from}: include `{what}` cannot be read statically and is not followed"
                        ));
                        continue;
                    }
                };
                let refuse = |why: &str| format!("{from}: include `{path}` refused: {why}");
                // Paths are relative to the project's root (GitLab: "full paths relative to
                // the root directory"); a leading `/` names that root.
                let mut parts = Vec::new();
                let mut escapes = false;
                for seg in path.trim_start_matches('/').split('/') {
                    match seg {
                        "" | "." => {}
                        ".." => escapes = true,
                        s => parts.push(s),
                    }
                }
                if escapes || path.contains('\\') || path.chars().any(char::is_control) {
                    notes.push(refuse("it leaves the project's directory"));
                    continue;
                }
                if path.contains(['*', '?', '[']) {
                    notes.push(format!(
                        "{from}: include `{path}` (a wildcard) is not followed"
                    ));
                    continue;
                }
                let lower = path.to_ascii_lowercase();
                if !(lower.ends_with(".yml") || lower.ends_with(".yaml")) {
                    notes.push(refuse("GitLab includes only `.yml` and `.yaml` files"));
                    continue;
                }
                // No component may be a symbolic link (it could point out of the project).
                let mut p = project.clone();
                let mut linked = false;
                for seg in &parts {
                    p.push(seg);
                    if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                        linked = true;
                        break;
                    }
                }
                if linked {
                    notes.push(refuse("it goes through a symbolic link"));
                    continue;
                }
                let rel = if dir.is_empty() {
                    parts.join("/")
                } else {
                    format!("{dir}/{}", parts.join("/"))
                };
                let Some(&target) = by_rel.get(rel.as_str()) else {
                    notes.push(format!(
                        "{from}: include `{path}` is not in the scan (not found, or left out by ignore rules); jobs it defines are not checked"
                    ));
                    continue;
                };
                if !seen.insert(target) {
                    // A file including one of the files that (transitively) include it.
                    let mut at = Some(id);
                    let mut steps = 0;
                    while let Some(a) = at {
                        if a == target {
                            notes.push(refuse("an include cycle (read once)"));
                            break;
                        }
                        at = parent.get(&a).copied();
                        steps += 1;
                        if steps > MAX_GITLAB_INCLUDE_DEPTH + 1 {
                            break;
                        }
                    }
                    continue;
                }
                parent.insert(target, id);
                if depth + 1 > MAX_GITLAB_INCLUDE_DEPTH {
                    notes.push(refuse(&format!(
                        "includes nest deeper than {MAX_GITLAB_INCLUDE_DEPTH} levels"
                    )));
                    continue;
                }
                count += 1;
                if count > MAX_GITLAB_INCLUDES {
                    notes.push(refuse(&format!(
                        "the pipeline includes more than {MAX_GITLAB_INCLUDES} files"
                    )));
                    break;
                }
                let is_gitlab =
                    matches!(&outcomes[target], Outcome::File(_, m) if m.gitlab.is_some());
                let other_input = matches!(&outcomes[target], Outcome::File(_, m) if !m.is_empty());
                if !is_gitlab && other_input {
                    notes.push(refuse("the file is another kind of input"));
                    continue;
                }
                if !is_gitlab {
                    let c = &candidates[target];
                    let bytes = match overlay[target] {
                        Some(t) if t.len() as u64 > max => {
                            outcomes[target] = error(
                                &c.rel,
                                0,
                                0,
                                format!(
                                    "file is {} bytes, over the {max}-byte limit (see --max-file-size)",
                                    t.len()
                                ),
                            );
                            continue;
                        }
                        Some(t) => t.as_bytes().to_vec(),
                        None => match read_capped(c, max, Format::GitlabCi) {
                            Ok(b) => b,
                            Err(o) => {
                                outcomes[target] = o;
                                continue;
                            }
                        },
                    };
                    outcomes[target] = process_bytes(target, c, Format::GitlabCi, false, bytes);
                }
                queue.push_back((target, depth + 1));
            }
        }
    }
}

/// Where `root` is: as given, and relative to the repository root (the nearest directory at or
/// above it holding `.git`, else the working directory). Lexical: symbolic links are not
/// followed, so the paths shown are the ones the user and the repository use. The search does
/// not go up into a directory `GIT_CEILING_DIRECTORIES` lists, as git's own does not.
pub fn shown_for(root: &Path) -> crate::model::Shown {
    let ceilings: Vec<String> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .map(|p| crate::model::clean_path(&p.to_string_lossy().replace('\\', "/")))
                .collect()
        })
        .unwrap_or_default();
    shown_under(root, &ceilings)
}

fn shown_under(root: &Path, ceilings: &[String]) -> crate::model::Shown {
    use crate::model::clean_path;
    let slash = |s: String| if s.is_empty() { s } else { s + "/" };
    let text = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let here = slash(clean_path(&text(root)));
    let cwd = std::env::current_dir().ok();
    let abs = match (&cwd, root.is_absolute()) {
        (_, true) => clean_path(&text(root)),
        (Some(c), false) => clean_path(&format!("{}/{}", text(c), text(root))),
        (None, false) => return crate::model::Shown { here, repo: None },
    };
    let mut repo_root = None;
    let mut dir = Some(Path::new(&abs));
    while let Some(d) = dir {
        if d.join(".git").exists() {
            repo_root = Some(text(d));
            break;
        }
        dir = d.parent().filter(|p| !ceilings.contains(&text(p)));
    }
    let repo_root = repo_root.or_else(|| cwd.as_deref().map(|c| clean_path(&text(c))));
    let repo = repo_root.and_then(|r| {
        let r = r.trim_end_matches('/');
        if abs == r {
            Some(String::new())
        } else {
            abs.strip_prefix(&format!("{r}/"))
                .map(|s| slash(s.to_string()))
        }
    });
    crate::model::Shown { here, repo }
}

/// Re-read only the files in `changes` into `scan`: each `(path, text)` replaces that file
/// (`Some`: an editor buffer; `None`: read it from disk, gone if it no longer exists). Returns
/// `false`, with `scan` unchanged, when a change cannot be applied file by file (a Terraform
/// file: its directory is linked as a unit); the caller scans again in full.
pub fn rescan(scan: &mut Scan, max: u64, changes: &[(PathBuf, Option<String>)]) -> bool {
    let root = std::path::absolute(&scan.root).unwrap_or_else(|_| scan.root.clone());
    let key = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if changes.iter().any(|(p, _)| {
        let name = p.to_string_lossy().replace('\\', "/");
        // A template's policies are rendered by the Terraform naming it, with its values.
        classify_by_name(&name) == Some(Format::Terraform) || name.ends_with(".tpl")
    }) {
        return false;
    }
    // A GitLab pipeline is read as a unit (its root and the files it includes): a change to
    // its root, or to any YAML file while the scan holds one, is scanned again in full.
    let has_gitlab = scan.models.iter().any(|m| m.gitlab.is_some());
    if changes.iter().any(|(p, _)| {
        let rel = p.to_string_lossy().replace('\\', "/");
        let lower = rel.to_ascii_lowercase();
        classify_by_name(&rel) == Some(Format::GitlabCi)
            || (has_gitlab && (lower.ends_with(".yml") || lower.ends_with(".yaml")))
    }) {
        return false;
    }
    // A document a Terraform role links to (read with `file()`) is rendered with its module.
    let linked = |id: FileId| {
        scan.models.iter().any(|m| {
            m.roles.iter().any(|r| {
                r.trust
                    .iter()
                    .chain(&r.permission_policies)
                    .any(|p| p.file == id)
                    && r.file != id
            })
        })
    };
    for (path, _) in changes {
        let path = key(path);
        if let Some((id, _)) = scan
            .files()
            .find(|(_, f)| may_be_same(&path, &f.path) && key(&f.path) == path)
            && linked(id)
        {
            return false;
        }
    }
    for (path, text) in changes {
        let path = key(path);
        let Ok(rel) = path.strip_prefix(&root) else {
            return false;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let id = scan
            .files()
            .find(|(_, f)| may_be_same(&path, &f.path) && key(&f.path) == path)
            .map(|(id, _)| id)
            .unwrap_or(scan.slots());
        scan.errors.retain(|e| e.path != rel);
        let c = Candidate {
            path: path.clone(),
            rel: rel.clone(),
            explicit: true,
            size: 0,
        };
        let out = match text {
            Some(t) => process(id, &c, max, Some(t)),
            None if !path.is_file() => Outcome::Skip,
            None => process(id, &c, max, None),
        };
        match out {
            Outcome::Skip | Outcome::Done => {
                if id < scan.slots() {
                    scan.set_file(id, None, FileModel::default())
                }
            }
            Outcome::File(src, m) => scan.set_file(id, Some(src), m),
            Outcome::Terraform(..) => return false,
            Outcome::Error(e) => {
                if id < scan.slots() {
                    scan.set_file(id, None, FileModel::default())
                }
                scan.errors.push(e);
                scan.errors.sort();
            }
        }
    }
    true
}

/// Whether `path` (made absolute by [`std::path::absolute`]) may name the same file as
/// `other` once that is made absolute too: `false` only when their file names differ (making a
/// path absolute keeps its file name), so a search for a changed file makes absolute only the
/// few paths with its name instead of every file's.
pub fn may_be_same(path: &Path, other: &Path) -> bool {
    match (path.file_name(), other.file_name()) {
        (Some(a), Some(b)) => a == b,
        // (a path ending in `..`: compare in full)
        _ => true,
    }
}

/// The scan root for reporting: the directory given, the parent of a file given, or `.`.
pub fn root_for(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    }
}
