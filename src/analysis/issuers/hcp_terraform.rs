//! HCP Terraform (app.terraform.io) workload identity; Terraform Enterprise is added with
//! `[[issuers]]` and its own host.
//!
//! Facts, from HashiCorp's "Workload identity" and "Use dynamic credentials with the AWS
//! provider" pages
//! (<https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/workload-identity-tokens>,
//! <https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/aws-configuration>)
//! and "Updating Workload Identity for Projects"
//! (<https://support.hashicorp.com/hc/en-us/articles/13138701895699-Updating-Workload-Identity-for-Projects>):
//! - issuer `https://app.terraform.io`, shared by every HCP Terraform organization;
//! - `sub`: `organization:ORG_NAME:project:PROJECT_NAME:workspace:WORKSPACE_NAME:run_phase:plan|apply`
//!   (names, not ids; the default project is `Default Project`; the older form without
//!   `project:` was replaced by this one);
//! - `aud`: `aws.workload.identity` unless `TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE` says otherwise;
//! - claims `terraform_organization_id`/`_name`, `terraform_project_id`/`_name`,
//!   `terraform_workspace_id`/`_name`, `terraform_full_workspace`, `terraform_run_id`,
//!   `terraform_run_phase`.
//!
//! HCP Terraform Stacks send `organization:ORG:project:PROJECT:stack:STACK:…`; the registry
//! keeps that shape possible without judging its tail.

use super::{Audience, Field, Issuer, Kind, Role, Seg, SubjectGrammar, field, lit};
use crate::analysis::eval::Hole;

pub const DOCS: &str = "https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/aws-configuration";
pub const HOST: &str = "app.terraform.io";
pub const AUDIENCE: &str = "aws.workload.identity";

fn named(name: &str, role: Role, hole: Hole, id_prefix: &'static str) -> Seg {
    Seg::Field(Field {
        name: name.into(),
        role,
        hole,
        values: None,
        not_an_id: Some((id_prefix, 16)),
    })
}

pub fn issuer() -> Issuer {
    let org = || named("organization", Role::Tenant, Hole::NoColon, "org-");
    // project names may hold spaces (`Default Project`)
    let project = || named("project", Role::Scope, Hole::Any, "prj-");
    let workspace = vec![
        lit("organization:"),
        org(),
        lit(":project:"),
        project(),
        lit(":workspace:"),
        named("workspace", Role::Scope, Hole::NoColon, "ws-"),
        lit(":run_phase:"),
        Seg::Field(Field {
            name: "run_phase".into(),
            role: Role::Detail,
            hole: Hole::NoColon,
            values: Some(vec!["plan".into(), "apply".into()]),
            not_an_id: None,
        }),
    ];
    let stack = vec![
        lit("organization:"),
        org(),
        lit(":project:"),
        project(),
        lit(":stack:"),
        field("stack", Role::Scope, Hole::NoColon),
        lit(":"),
        field("rest", Role::Detail, Hole::Any),
    ];
    Issuer {
        kind: Kind::HcpTerraform,
        id: "hcp-terraform".into(),
        name: "HCP Terraform".into(),
        hosts: vec![HOST.into()],
        shared: true,
        claims: vec![
            "sub",
            "aud",
            "terraform_organization_id",
            "terraform_organization_name",
            "terraform_project_id",
            "terraform_project_name",
            "terraform_workspace_id",
            "terraform_workspace_name",
            "terraform_full_workspace",
            "terraform_run_id",
            "terraform_run_phase",
        ],
        subject: SubjectGrammar {
            display: "organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:plan|apply"
                .into(),
            alternatives: vec![workspace, stack],
            complete: true,
        },
        audience: Audience::Default(AUDIENCE),
        docs: DOCS.into(),
    }
}
