//! Front ends: file → model. This module is the one list of input formats: it recognises a
//! file by name ([`classify_by_name`]) and content ([`json_format`], [`maybe_cloudformation`])
//! and extracts it ([`extract`]): IAM JSON policies and GitHub workflows/actions here,
//! Terraform (`terraform/`), `terraform show -json` plans, CloudFormation templates (YAML and
//! JSON, SAM/CDK output included) and AWS account exports in their own modules. No rule knows
//! which one a policy came from.

pub mod cfn;
pub mod export;
pub mod github_actions;
pub mod gitlab_ci;
pub mod iam_json;
pub mod percent;
pub mod plan;
pub mod sniff;
pub mod terraform;

use crate::model::FileModel;
use crate::source::embedded::Embedded;
use crate::source::json;
use crate::source::tree::Node;
use crate::source::{FileId, Format, ParseFailure, SourceFile, yaml};

/// What a front end made of one file.
// (One per file, moved once: the size of the model variant costs nothing.)
#[allow(clippy::large_enum_variant)]
pub enum Extracted {
    /// The file's model, complete.
    Model(FileModel),
    /// A parsed `.tf` file: its model comes from linking its directory
    /// ([`terraform::link_dir`]).
    Terraform(Box<terraform::TfFile>),
}

/// What the name of a file says it may be.
pub fn classify_by_name(rel: &str) -> Option<Format> {
    let lower = rel.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let name = *parts.last()?;
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if yaml
        && parts.len() >= 3
        && parts[parts.len() - 2] == "workflows"
        && parts[parts.len() - 3] == ".github"
    {
        return Some(Format::Workflow);
    }
    if gitlab_ci::is_root_name(rel) {
        return Some(Format::GitlabCi);
    }
    if name == "action.yml" || name == "action.yaml" {
        return Some(Format::Action);
    }
    // `.tpl`/`.json.tpl`: a Terraform template, analysed as a policy with holes when its text
    // is one (and rendered with its values where Terraform names it).
    if name.ends_with(".json") || name.ends_with(".tpl") {
        return Some(Format::IamJson);
    }
    // (`terraform.tfvars`/`*.auto.tfvars`: the values of the directory's variables; other
    // `*.tfvars`: a `-var-file` deployment of the directory or of the one above.)
    // (`terragrunt.hcl`/`terragrunt.stack.hcl`: a Terragrunt unit or stack calling modules.)
    if name.ends_with(".tf") || terraform::is_var_file(name) || terraform::is_terragrunt(name) {
        return Some(Format::Terraform);
    }
    // Outside workflow directories, YAML and `.template` files may be CloudFormation
    // templates; their content decides.
    if yaml || name.ends_with(".template") {
        return Some(Format::CloudFormation);
    }
    None
}

/// Would this JSON text be analysed? (It mentions an IAM policy's `Statement`, or is a plan,
/// a CloudFormation template or an account export; [`json_format`] decides which.)
pub fn json_is_relevant(text: &str) -> bool {
    text.contains("\"Statement\"") || json_format(text).is_some()
}

/// Parse one file and extract its model (or, for Terraform, its parsed blocks, which become a
/// model when [`terraform::link_dir`] links their directory). `Ok(None)`: the file turned out not to be an input
/// (a JSON file without a top-level `Statement`).
pub fn extract(id: FileId, src: &SourceFile) -> Result<Option<Extracted>, ParseFailure> {
    let mut m = FileModel::default();
    match src.format {
        Format::IamJson => {
            let root = match json::parse_template(&src.text) {
                Ok(root) => root,
                // A Terraform/envsubst template that is only JSON once rendered.
                Err((_, true)) => return Ok(None),
                // A `.tpl` need not be JSON at all (a script, a YAML file).
                Err(_) if src.rel.ends_with(".tpl") => return Ok(None),
                Err((e, false)) => {
                    return Err(ParseFailure {
                        offset: e.offset,
                        message: format!("invalid JSON: {}", e.message),
                    });
                }
            };
            if root.get("Statement").is_none() {
                return Ok(None);
            }
            let owner = src.rel.rsplit('/').next().unwrap_or(&src.rel).to_string();
            m.policies.push(crate::frontend::iam_json::policy_from_tree(
                id,
                &root,
                owner,
                None,
                crate::frontend::iam_json::Family::Json,
            ));
        }
        Format::Terraform => {
            let f = terraform::parse_file(src).map_err(|e| ParseFailure {
                offset: e.offset,
                message: format!("invalid HCL: {}", e.message),
            })?;
            return Ok(Some(Extracted::Terraform(Box::new(f))));
        }
        Format::TerraformPlan | Format::AwsExport => {
            let root = match json::parse_template(&src.text) {
                Ok(root) => root,
                Err((_, true)) => return Ok(None),
                Err((e, false)) => {
                    return Err(ParseFailure {
                        offset: e.offset,
                        message: format!("invalid JSON: {}", e.message),
                    });
                }
            };
            let got = if src.format == Format::TerraformPlan {
                plan::extract(id, src, &root)
            } else {
                export::extract(id, src, &root)
            };
            return Ok(got.map(Extracted::Model));
        }
        Format::CloudFormation => return Ok(cfn::extract_file(id, src)?.map(Extracted::Model)),
        Format::GitlabCi => {
            let docs = yaml::parse_scanned(&src.text, src.bom()).map_err(|e| ParseFailure {
                offset: e.offset,
                message: format!("invalid YAML: {}", e.message),
            })?;
            // A file with a `spec:` header (a CI/CD component, `include:inputs`) holds its
            // configuration in the second document.
            let doc = match docs.first() {
                Some(d) if d.get("spec").is_some() && docs.len() > 1 => docs.get(1),
                d => d,
            };
            if let Some(root) = doc.filter(|d| d.is_map()) {
                m.gitlab = Some(Box::new(gitlab_ci::file_from_tree(
                    id,
                    root,
                    gitlab_ci::is_root_name(&src.rel),
                )));
            }
        }
        Format::Workflow | Format::Action => {
            let docs = yaml::parse_scanned(&src.text, src.bom()).map_err(|e| ParseFailure {
                offset: e.offset,
                message: format!("invalid YAML: {}", e.message),
            })?;
            if let Some(root) = docs.first().filter(|d| d.is_map()) {
                m.workflows.push(if src.format == Format::Workflow {
                    crate::frontend::github_actions::workflow_from_tree(id, root)
                } else {
                    crate::frontend::github_actions::action_from_tree(id, root)
                });
            }
        }
    }
    Ok(Some(Extracted::Model(m)))
}

/// What a `*.json` file's text says it is, by cheap substring checks (no parse). `None`: not an
/// input (the file is skipped silently).
pub fn json_format(text: &str) -> Option<Format> {
    if text.contains("\"format_version\"")
        && (text.contains("\"planned_values\"") || text.contains("\"root_module\""))
    {
        return Some(Format::TerraformPlan);
    }
    if text.contains("\"AWSTemplateFormatVersion\"")
        || (text.contains("\"Resources\"")
            && (text.contains("\"AWS::")
                || text.contains("\"Custom::AWSCDKOpenIdConnectProvider\"")))
    {
        return Some(Format::CloudFormation);
    }
    if text.contains("\"RoleDetailList\"")
        || text.contains("\"AssumeRolePolicyDocument\"")
        || text.contains("\"ClientIDList\"")
    {
        return Some(Format::AwsExport);
    }
    if text.contains("\"Statement\"") {
        return Some(Format::IamJson);
    }
    None
}

/// Could this YAML (or `.template`) text be a CloudFormation template? Cheap check only; the
/// parsed root decides.
pub fn maybe_cloudformation(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion")
        || (text.contains("Resources")
            && (text.contains("AWS::") || text.contains("Custom::AWSCDKOpenIdConnectProvider")))
}

/// A policy document given as a JSON string inside a JSON file (plans, exports): decode the
/// string (escapes mapped to the file's bytes), URL-decode it when it is percent-encoded, and
/// parse it. An object is returned as is. `None` when the value is no readable document.
pub fn embedded_document(file_text: &str, node: &Node) -> Option<Node> {
    if node.is_map() {
        return Some(node.clone());
    }
    node.as_template()?;
    let (a, b) = json::string_body(file_text, node)?;
    let emb = Embedded::from_json_string(&file_text[a..b], a)?;
    let trimmed = emb.text.trim_start();
    if trimmed.starts_with('{') {
        return json::parse_embedded(&emb).ok().filter(Node::is_map);
    }
    if trimmed.starts_with("%7B") || trimmed.starts_with("%7b") {
        let dec = percent::decode(&emb)?;
        return json::parse_embedded(&dec).ok().filter(Node::is_map);
    }
    None
}
