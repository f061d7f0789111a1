//! Front ends for generated and deployed infrastructure: `terraform show -json` plans,
//! CloudFormation templates (YAML and JSON, SAM/CDK output included) and AWS account exports.
//! Each turns its input into the normalized model; no rule knows which one a policy came from.

pub mod cfn;
pub mod export;
pub mod percent;
pub mod plan;
pub mod terraform;

use crate::source::Format;
use crate::source::embedded::Embedded;
use crate::source::json;
use crate::source::tree::Node;

/// A file that could not be parsed: where, and why (the message names the syntax).
pub struct ParseError {
    pub offset: usize,
    pub message: String,
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
        || (text.contains("\"Resources\"") && text.contains("\"AWS::"))
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
        || (text.contains("Resources") && text.contains("AWS::"))
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
