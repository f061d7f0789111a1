//! HCP Terraform workspaces described with the `tfe` provider, as far as they reach AWS through
//! dynamic provider credentials
//! (<https://developer.hashicorp.com/terraform/cloud-docs/dynamic-provider-credentials/aws-configuration>):
//! a `tfe_variable` `TFC_AWS_PROVIDER_AUTH = true` with `TFC_AWS_RUN_ROLE_ARN` (or the per-phase
//! `TFC_AWS_PLAN_ROLE_ARN` / `TFC_AWS_APPLY_ROLE_ARN`), set on a `tfe_workspace` or on a
//! `tfe_variable_set` (global, or attached with `tfe_workspace_variable_set` /
//! `tfe_project_variable_set`). Each (workspace, role) becomes a [`TfeRun`]: organization,
//! project (`tfe_project`, or HCP Terraform's `Default Project`) and workspace names, the phases
//! using the role, and the role ARN where the variable sets it. Only one module's directory is
//! read: a workspace defined elsewhere is unknown.

use crate::model::tfe::TfeRun;
use crate::model::{FileModel, SStr, Spanned};
use crate::source::FileId;
use crate::source::hcl::Block;
use crate::source::tree::{Node, Part, Template, Value};
use std::collections::BTreeMap;

use super::{DirFiles, TfFile};

/// The project a workspace without `project_id` belongs to.
pub const DEFAULT_PROJECT: &str = "Default Project";

const AUTH: &str = "TFC_AWS_PROVIDER_AUTH";
const RUN: &str = "TFC_AWS_RUN_ROLE_ARN";
const PLAN: &str = "TFC_AWS_PLAN_ROLE_ARN";
const APPLY: &str = "TFC_AWS_APPLY_ROLE_ARN";

/// Whether linking reads this block (the `tfe_*` resources).
pub fn relevant(ty: &str) -> bool {
    ty.starts_with("tfe_")
}

/// `tfe_workspace.app.id` → `tfe_workspace.app` when the node is that one reference.
fn reference(n: &Node, ty: &str) -> Option<String> {
    let t = n.as_template()?;
    let [Part::Unknown(e)] = t.parts.as_slice() else {
        return None;
    };
    let e = e.trim();
    let rest = e.strip_prefix(ty)?.strip_prefix('.')?;
    let name = rest.strip_suffix(".id")?;
    (!name.is_empty() && !name.contains(['.', '[', ' '])).then(|| format!("{ty}.{name}"))
}

fn sstr(n: &Node) -> Option<SStr> {
    match &n.value {
        Value::Str(t) => Some(Spanned::new(t.clone(), n.span)),
        Value::Num(x) => Some(Spanned::new(Template::lit(x.clone()), n.span)),
        _ => None,
    }
}

/// `true`, `"true"`: on; `false`, `"false"`: off; anything else: unknown (`None`).
fn switch(n: &Node) -> Option<bool> {
    match &n.value {
        Value::Bool(b) => Some(*b),
        Value::Str(t) => match t.known()?.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Default, Clone)]
struct Ws {
    org: Option<SStr>,
    project: Option<String>,
    name: Option<SStr>,
}

/// A variable this module sets: its key, value, and the resource holding it.
struct Var<'a> {
    file: FileId,
    owner: String,
    key: String,
    value: &'a Node,
}

/// Where a variable set or variable applies.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Workspace(String),
    /// A project of the module (`tfe_project.x`), every workspace in it.
    Project(String),
    /// Every workspace of the organization, or one the scan does not know.
    Any,
}

pub fn link(parsed: &[(FileId, TfFile)], models: &mut DirFiles<FileModel>) {
    let blocks = || {
        parsed
            .iter()
            .flat_map(|(id, f)| f.blocks.iter().map(move |b| (*id, b)))
            .filter(|(_, b)| b.ident == "resource")
    };
    if !blocks().any(|(_, b)| b.label(0) == Some("tfe_variable")) {
        return;
    }
    let name_of = |b: &Block| b.label(1).map(str::to_string);
    let mut projects: BTreeMap<String, (Option<SStr>, Option<SStr>)> = BTreeMap::new();
    for (_, b) in blocks().filter(|(_, b)| b.label(0) == Some("tfe_project")) {
        if let Some(n) = name_of(b) {
            projects.insert(
                format!("tfe_project.{n}"),
                (
                    b.attr("name").and_then(sstr),
                    b.attr("organization").and_then(sstr),
                ),
            );
        }
    }
    let mut workspaces: BTreeMap<String, Ws> = BTreeMap::new();
    for (_, b) in blocks().filter(|(_, b)| b.label(0) == Some("tfe_workspace")) {
        let Some(n) = name_of(b) else { continue };
        let (project, porg) = match b.attr("project_id") {
            None => (Some(DEFAULT_PROJECT.to_string()), None),
            Some(p) => match reference(p, "tfe_project").and_then(|k| projects.get(&k)) {
                Some((name, org)) => (name.as_ref().and_then(|s| s.value.known()), org.clone()),
                None => (None, None),
            },
        };
        workspaces.insert(
            format!("tfe_workspace.{n}"),
            Ws {
                org: b.attr("organization").and_then(sstr).or(porg),
                project,
                name: b.attr("name").and_then(sstr),
            },
        );
    }
    // variable set → where it applies
    let mut set_targets: BTreeMap<String, Vec<Target>> = BTreeMap::new();
    for (_, b) in blocks() {
        let Some(n) = name_of(b) else { continue };
        match b.label(0) {
            Some("tfe_variable_set") => {
                let e = set_targets
                    .entry(format!("tfe_variable_set.{n}"))
                    .or_default();
                if b.attr("global").and_then(switch) != Some(false) && b.attr("global").is_some() {
                    e.push(Target::Any);
                }
                if let Some(ids) = b.attr("workspace_ids") {
                    for i in ids.items() {
                        e.push(match reference(i, "tfe_workspace") {
                            Some(w) => Target::Workspace(w),
                            None => Target::Any,
                        });
                    }
                }
            }
            Some(ty @ ("tfe_workspace_variable_set" | "tfe_project_variable_set")) => {
                let Some(set) = b
                    .attr("variable_set_id")
                    .and_then(|s| reference(s, "tfe_variable_set"))
                else {
                    continue;
                };
                let t = if ty == "tfe_workspace_variable_set" {
                    b.attr("workspace_id")
                        .and_then(|w| reference(w, "tfe_workspace"))
                        .map(Target::Workspace)
                } else {
                    b.attr("project_id")
                        .and_then(|p| reference(p, "tfe_project"))
                        .map(Target::Project)
                };
                set_targets
                    .entry(set)
                    .or_default()
                    .push(t.unwrap_or(Target::Any));
            }
            _ => {}
        }
    }
    // the variables, grouped by where they apply
    let mut by_target: BTreeMap<Target, Vec<Var>> = BTreeMap::new();
    for (file, b) in blocks().filter(|(_, b)| b.label(0) == Some("tfe_variable")) {
        let (Some(n), Some(key), Some(value)) = (
            name_of(b),
            b.attr("key").and_then(|k| k.as_template()?.known()),
            b.attr("value"),
        ) else {
            continue;
        };
        if !matches!(key.as_str(), AUTH | RUN | PLAN | APPLY) {
            continue;
        }
        // dynamic credentials read environment variables only
        if b.attr("category")
            .and_then(|c| c.as_template()?.known())
            .is_some_and(|c| c != "env")
        {
            continue;
        }
        let targets = if let Some(w) = b.attr("workspace_id") {
            vec![reference(w, "tfe_workspace").map_or(Target::Any, Target::Workspace)]
        } else if let Some(s) = b.attr("variable_set_id") {
            match reference(s, "tfe_variable_set").and_then(|k| set_targets.get(&k)) {
                Some(t) if !t.is_empty() => t.clone(),
                // a set attached nowhere in this module: where it applies is unknown
                _ => vec![Target::Any],
            }
        } else {
            continue;
        };
        for t in targets {
            by_target.entry(t).or_default().push(Var {
                file,
                owner: format!("tfe_variable.{n}"),
                key: key.clone(),
                value,
            });
        }
    }
    // a workspace's variables include its project's and the organization-wide ones
    let mut runs: Vec<TfeRun> = Vec::new();
    let empty = Vec::new();
    for (target, vars) in &by_target {
        let mut all: Vec<&Var> = vars.iter().collect();
        let ws = match target {
            Target::Workspace(w) => {
                let ws = workspaces.get(w).cloned().unwrap_or_default();
                if let Some(proj) = projects
                    .iter()
                    .find(|(_, (name, _))| {
                        name.as_ref().and_then(|n| n.value.known()) == ws.project
                    })
                    .map(|(k, _)| Target::Project(k.clone()))
                {
                    all.extend(by_target.get(&proj).unwrap_or(&empty));
                }
                all.extend(by_target.get(&Target::Any).unwrap_or(&empty));
                ws
            }
            Target::Project(p) => {
                all.extend(by_target.get(&Target::Any).unwrap_or(&empty));
                let (name, org) = projects.get(p).cloned().unwrap_or_default();
                Ws {
                    org,
                    project: name.and_then(|n| n.value.known()),
                    name: None,
                }
            }
            Target::Any => Ws::default(),
        };
        // the nearest definition of each key wins: the target's own first
        let get = |k: &str| all.iter().find(|v| v.key == k);
        let auth = get(AUTH).map(|v| switch(v.value));
        if matches!(auth, None | Some(Some(false))) {
            continue;
        }
        let plan = get(PLAN);
        let apply = get(APPLY);
        let run = get(RUN);
        let mut push = |v: &Var, phases: Vec<&'static str>| {
            // only the variables this target sets itself give runs here (a project's or an
            // organization's variable gives its own)
            if !vars.iter().any(|x| std::ptr::eq(x, v)) || phases.is_empty() {
                return;
            }
            let Some(arn) = sstr(v.value) else { return };
            runs.push(TfeRun {
                file: v.file,
                span: v.value.span,
                owner: v.owner.clone(),
                role_arn: arn,
                organization: ws.org.clone(),
                project: ws
                    .project
                    .clone()
                    .map(|p| Spanned::new(Template::lit(p), v.value.span)),
                workspace: ws.name.clone(),
                phases,
            });
        };
        if let Some(p) = plan {
            push(p, vec!["plan"]);
        }
        if let Some(a) = apply {
            push(a, vec!["apply"]);
        }
        if let Some(r) = run {
            let mut phases = vec![];
            if plan.is_none() {
                phases.push("plan");
            }
            if apply.is_none() {
                phases.push("apply");
            }
            push(r, phases);
        }
    }
    runs.sort_by_key(|r| (r.file, r.span));
    runs.dedup_by_key(|r| {
        (
            r.file,
            r.span,
            r.workspace.as_ref().map(|w| w.value.clone()),
        )
    });
    for r in runs {
        models[r.file].tfe_runs.push(r);
    }
}
