//! Google Cloud workload identity federation in Terraform: `google_iam_workload_identity_pool`,
//! `google_iam_workload_identity_pool_provider` (with an `oidc` block), every IAM member of a
//! `google_*_iam_member|binding|policy` resource (and `data "google_iam_policy"`), and the
//! `terraform-google-modules/github-actions-runners//modules/gh-oidc` module.
//!
//! Blocks arrive with `var.`/`local.` references already resolved by the directory's linking
//! ([`super::resolve`]); a reference to a pool (`google_iam_workload_identity_pool.x.name`) is
//! replaced here by the pool's resource name with its unknown project number. What stays
//! unknown is kept as an unknown part, never guessed.

use super::{DirFiles, TfFile, ref_key};
use crate::model::{
    FileModel, GcpCondition, GcpMember, GcpPool, GcpProvider, GcpTarget, SStr, Spanned,
};
use crate::source::FileId;
use crate::source::hcl::Block;
use crate::source::tree::{Node, Part, Template, Value};
use std::collections::HashMap;

/// GitHub's issuer, the gh-oidc module's default.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The resource and data types this module reads.
pub fn relevant(ty: &str) -> bool {
    ty == "google_service_account"
        || ty.starts_with("google_iam_workload_identity_pool")
        || ty == "google_iam_policy"
        || (ty.starts_with("google_")
            && (ty.ends_with("_iam_member")
                || ty.ends_with("_iam_binding")
                || ty.ends_with("_iam_policy")))
}

const POOL: &str = "google_iam_workload_identity_pool";

/// `var.NAME` → its default (`None`: required).
type VarDefaults<'a> = HashMap<String, Option<&'a Node>>;

/// Fill the Google Cloud part of the models of one directory.
pub fn link(parsed: &[(FileId, TfFile)], models: &mut DirFiles<FileModel>) {
    let mut vars: VarDefaults = HashMap::new();
    let mut pools: HashMap<String, Option<SStr>> = HashMap::new();
    let mut policies: HashMap<String, (FileId, &Block)> = HashMap::new();
    let mut any = false;
    for (id, f) in parsed {
        for b in &f.blocks {
            match (b.ident.as_str(), b.label(0), b.label(1)) {
                ("variable", Some(n), _) => {
                    vars.insert(format!("var.{n}"), b.attr("default"));
                }
                ("resource", Some(POOL), Some(n)) => {
                    pools.insert(
                        format!("{POOL}.{n}"),
                        sstr(b.attr("workload_identity_pool_id")),
                    );
                    any = true;
                }
                ("data", Some("google_iam_policy"), Some(n)) => {
                    policies.insert(format!("data.google_iam_policy.{n}"), (*id, b));
                    any = true;
                }
                ("resource", Some(t), _) if relevant(t) => any = true,
                ("module", _, _) if gh_oidc(b) => any = true,
                _ => {}
            }
        }
    }
    if !any {
        return;
    }
    let cx = Cx { vars, pools };
    // (data source address, owner, target) of each `*_iam_policy` using a `google_iam_policy`
    let mut uses: Vec<(String, String, GcpTarget)> = Vec::new();
    for (id, f) in parsed {
        for b in &f.blocks {
            cx.block(*id, b, &mut uses, &mut models[*id]);
        }
    }
    // the members live where the data source is (maybe another file of the directory)
    for (addr, owner, target) in &uses {
        if let Some((at, p)) = policies.get(addr) {
            cx.policy_members(*at, p, owner, target, &mut models[*at]);
        }
    }
    // `data "google_iam_policy"` no resource in this directory uses.
    let mut rest: Vec<_> = policies
        .iter()
        .filter(|(k, _)| !uses.iter().any(|(a, _, _)| a == *k))
        .collect();
    rest.sort_by_key(|(k, _)| k.as_str());
    for (name, (at, p)) in rest {
        let target = GcpTarget::Resource("google_iam_policy".into());
        cx.policy_members(*at, p, name, &target, &mut models[*at]);
    }
}

fn gh_oidc(b: &Block) -> bool {
    b.ident == "module"
        && b.attr("source").and_then(|s| s.as_str()).is_some_and(|s| {
            let p = s.split('?').next().unwrap_or("").trim_end_matches('/');
            p.ends_with("modules/gh-oidc")
        })
}

fn sstr(n: Option<&Node>) -> Option<SStr> {
    let n = n?;
    let n = match &n.value {
        Value::Tagged(_, inner) => inner,
        _ => n,
    };
    match &n.value {
        Value::Str(t) => Some(Spanned::new(t.clone(), n.span)),
        Value::Num(s) => Some(Spanned::new(Template::lit(s.clone()), n.span)),
        _ => None,
    }
}

/// The resource a reference names: `google_service_account.x.name` → `google_service_account.x`.
fn ref_to(expr: &str, ty: &str) -> Option<(String, String)> {
    let k = ref_key(expr);
    let rest = k.strip_prefix(ty)?.strip_prefix('.')?;
    let mut it = rest.split('.');
    let name = it.next()?;
    let attr = it.next().unwrap_or("").to_string();
    Some((format!("{ty}.{name}"), attr))
}

struct Cx<'a> {
    vars: VarDefaults<'a>,
    /// Pool address → its `workload_identity_pool_id`.
    pools: HashMap<String, Option<SStr>>,
}

impl Cx<'_> {
    /// A template with pool references replaced by what they denote; returns the pool named.
    fn subst_pool(&self, t: &Template) -> (Template, Option<String>) {
        let mut out = Template { parts: vec![] };
        let mut pool = None;
        let push = |out: &mut Template, p: Part| match (out.parts.last_mut(), p) {
            (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
            (_, p) => out.parts.push(p),
        };
        for p in &t.parts {
            if let Part::Unknown(e) = p
                && let Some((addr, attr)) = ref_to(e, POOL)
                && let Some(id) = self.pools.get(&addr)
            {
                pool = Some(addr.clone());
                let id_parts = id
                    .as_ref()
                    .map(|s| s.value.parts.clone())
                    .unwrap_or_else(|| {
                        vec![Part::Unknown(format!("{addr}.workload_identity_pool_id"))]
                    });
                match attr.as_str() {
                    "name" | "id" => {
                        push(&mut out, Part::Lit("projects/".into()));
                        push(&mut out, Part::Unknown("project_number".into()));
                        push(
                            &mut out,
                            Part::Lit("/locations/global/workloadIdentityPools/".into()),
                        );
                        id_parts.into_iter().for_each(|x| push(&mut out, x));
                    }
                    "workload_identity_pool_id" => {
                        id_parts.into_iter().for_each(|x| push(&mut out, x))
                    }
                    _ => push(&mut out, p.clone()),
                }
                continue;
            }
            push(&mut out, p.clone());
        }
        (out, pool)
    }

    /// A `var.X` whose default is null (the caller may set it; by default it is absent).
    fn null_by_default(&self, t: &Template) -> bool {
        if let [Part::Unknown(e)] = t.parts.as_slice()
            && let Some(Some(d)) = self.vars.get(&ref_key(e))
        {
            return matches!(d.value, Value::Null);
        }
        false
    }

    fn condition(&self, v: Option<&Node>, fallback: crate::source::Span) -> GcpCondition {
        let Some(v) = v else {
            return GcpCondition::Absent(None);
        };
        if matches!(v.value, Value::Null) {
            return GcpCondition::Absent(Some(v.span));
        }
        match sstr(Some(v)) {
            Some(s) if self.null_by_default(&s.value) => GcpCondition::Absent(Some(s.span)),
            Some(s) => match s.value.known() {
                Some(text) => GcpCondition::Known(Spanned::new(text, s.span)),
                None => GcpCondition::Unknown(s.span),
            },
            None => GcpCondition::Unknown(if v.span.is_empty() { fallback } else { v.span }),
        }
    }

    fn mapping(&self, v: Option<&Node>) -> Option<Vec<(Spanned<String>, SStr)>> {
        let v = v?;
        let v = match &v.value {
            Value::Tagged(_, inner) => inner,
            _ => v,
        };
        let Value::Map(entries) = &v.value else {
            return None;
        };
        let mut out = Vec::new();
        for e in entries {
            if e.key.contains("${") {
                return None;
            }
            out.push((
                Spanned::new(e.key.clone(), e.key_span),
                sstr(Some(&e.value))?,
            ));
        }
        Some(out)
    }

    fn pool_of(&self, v: Option<&Node>) -> (Option<String>, Option<SStr>) {
        let Some(s) = sstr(v) else {
            return (None, None);
        };
        let (t, pool) = self.subst_pool(&s.value);
        (pool, Some(Spanned::new(t, s.span)))
    }

    fn block(
        &self,
        id: FileId,
        b: &Block,
        uses: &mut Vec<(String, String, GcpTarget)>,
        m: &mut FileModel,
    ) {
        if gh_oidc(b) {
            self.module(id, b, m);
            return;
        }
        if b.ident != "resource" {
            return;
        }
        let (Some(ty), Some(n)) = (b.label(0), b.label(1)) else {
            return;
        };
        let owner = format!("{ty}.{n}");
        match ty {
            "google_service_account" => m
                .gcp
                .service_accounts
                .push((owner, b.attr("account_id").and_then(|v| v.as_str()))),
            POOL => m.gcp.pools.push(GcpPool {
                file: id,
                span: b.span,
                owner,
                id: sstr(b.attr("workload_identity_pool_id")),
            }),
            "google_iam_workload_identity_pool_provider" => {
                let Some(oidc) = b.blocks("oidc").next() else {
                    return; // AWS, SAML and X.509 providers have no issuer to share
                };
                let (pool_ref, pool_id) = self.pool_of(b.attr("workload_identity_pool_id"));
                let mapping_node = b.attr("attribute_mapping");
                m.gcp.providers.push(GcpProvider {
                    file: id,
                    span: b.span,
                    header: b.header,
                    owner,
                    pool_ref,
                    pool_id,
                    provider_id: sstr(b.attr("workload_identity_pool_provider_id")),
                    issuer: sstr(oidc.attr("issuer_uri")),
                    mapping: self.mapping(mapping_node),
                    mapping_span: mapping_node.map(|v| v.span).unwrap_or(b.header),
                    condition: self.condition(b.attr("attribute_condition"), b.header),
                });
            }
            t if t.starts_with("google_")
                && (t.ends_with("_iam_member")
                    || t.ends_with("_iam_binding")
                    || t.ends_with("_iam_policy")) =>
            {
                let target = self.target(t, b);
                let role = sstr(b.attr("role"));
                if let Some(v) = b.attr("member") {
                    self.push_member(id, b.span, &owner, &target, role.clone(), v, m);
                }
                if let Some(v) = b.attr("members") {
                    match &v.value {
                        Value::Seq(items) => {
                            for i in items {
                                self.push_member(id, b.span, &owner, &target, role.clone(), i, m);
                            }
                        }
                        _ => self.push_member(id, b.span, &owner, &target, role.clone(), v, m),
                    }
                }
                if let Some(pd) = b.attr("policy_data").and_then(|v| v.as_template())
                    && let [Part::Unknown(e)] = pd.parts.as_slice()
                    && let Some((addr, _)) = ref_to(e, "data.google_iam_policy")
                {
                    uses.push((addr, owner.clone(), target.clone()));
                }
            }
            _ => {}
        }
    }

    fn target(&self, ty: &str, b: &Block) -> GcpTarget {
        if ty.starts_with("google_service_account_iam_") {
            let sa = b.attr("service_account_id").and_then(|v| v.as_template());
            let key = sa.and_then(sa_key).unwrap_or_else(|| "?".into());
            return GcpTarget::ServiceAccount(key);
        }
        if ty.starts_with("google_project_iam_") {
            return GcpTarget::Project;
        }
        GcpTarget::Resource(ty.to_string())
    }

    /// Members of a `data "google_iam_policy"`'s `binding` blocks (in file `at`), attached to
    /// `target` under the name `owner` (the resource using the policy). The members keep their
    /// own spans, in the data source.
    fn policy_members(
        &self,
        at: FileId,
        p: &Block,
        owner: &str,
        target: &GcpTarget,
        m: &mut FileModel,
    ) {
        for bind in p.blocks("binding") {
            let role = sstr(bind.attr("role"));
            if let Some(v) = bind.attr("members") {
                for i in v.items() {
                    self.push_member(at, p.span, owner, target, role.clone(), i, m);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_member(
        &self,
        id: FileId,
        block: crate::source::Span,
        owner: &str,
        target: &GcpTarget,
        role: Option<SStr>,
        v: &Node,
        m: &mut FileModel,
    ) {
        let Some(s) = sstr(Some(v)) else { return };
        let (t, pool_ref) = self.subst_pool(&s.value);
        m.gcp.members.push(GcpMember {
            file: id,
            block,
            owner: owner.to_string(),
            target: target.clone(),
            role,
            member: Spanned::new(t, s.span),
            pool_ref,
        });
    }

    /// `terraform-google-modules/github-actions-runners//modules/gh-oidc`: one pool, one OIDC
    /// provider (GitHub's issuer unless `issuer_uri`), and for each `sa_mapping` entry a
    /// `roles/iam.workloadIdentityUser` member `principalSet://iam.googleapis.com/POOL/ATTRIBUTE`.
    fn module(&self, id: FileId, b: &Block, m: &mut FileModel) {
        let name = b.label(0).unwrap_or("?");
        let owner = format!("module.{name}");
        let pool_id = sstr(b.attr("pool_id"));
        m.gcp.pools.push(GcpPool {
            file: id,
            span: b.span,
            owner: owner.clone(),
            id: pool_id.clone(),
        });
        let mapping_node = b.attr("attribute_mapping");
        let mapping = match mapping_node {
            Some(v) => self.mapping(Some(v)),
            None => Some(
                [
                    ("google.subject", "assertion.sub"),
                    ("attribute.actor", "assertion.actor"),
                    ("attribute.aud", "assertion.aud"),
                    ("attribute.repository", "assertion.repository"),
                ]
                .iter()
                .map(|(k, v)| {
                    (
                        Spanned::new(k.to_string(), b.header),
                        Spanned::new(Template::lit(*v), b.header),
                    )
                })
                .collect(),
            ),
        };
        m.gcp.providers.push(GcpProvider {
            file: id,
            span: b.span,
            header: b.header,
            owner: owner.clone(),
            pool_ref: Some(owner.clone()),
            pool_id: pool_id.clone(),
            provider_id: sstr(b.attr("provider_id")),
            issuer: Some(
                sstr(b.attr("issuer_uri"))
                    .unwrap_or_else(|| Spanned::new(Template::lit(GITHUB_ISSUER), b.header)),
            ),
            mapping,
            mapping_span: mapping_node.map(|v| v.span).unwrap_or(b.header),
            condition: self.condition(b.attr("attribute_condition"), b.header),
        });
        let Some(sam) = b.attr("sa_mapping") else {
            return;
        };
        for e in sam.entries() {
            let sa = e
                .value
                .get("sa_name")
                .and_then(|v| v.as_template())
                .and_then(sa_key)
                .unwrap_or_else(|| "?".into());
            let Some(attr) = sstr(e.value.get("attribute")) else {
                continue;
            };
            let mut parts = vec![
                Part::Lit("principalSet://iam.googleapis.com/projects/".into()),
                Part::Unknown("project_number".into()),
                Part::Lit("/locations/global/workloadIdentityPools/".into()),
            ];
            match &pool_id {
                Some(p) => parts.extend(p.value.parts.iter().cloned()),
                None => parts.push(Part::Unknown(format!("{owner}.pool_id"))),
            }
            parts.push(Part::Lit("/".into()));
            parts.extend(attr.value.parts.iter().cloned());
            let mut t = Template { parts: vec![] };
            for p in parts {
                match (t.parts.last_mut(), p) {
                    (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
                    (_, p) => t.parts.push(p),
                }
            }
            m.gcp.members.push(GcpMember {
                file: id,
                block: b.span,
                owner: owner.clone(),
                target: GcpTarget::ServiceAccount(sa),
                role: Some(Spanned::new(
                    Template::lit("roles/iam.workloadIdentityUser"),
                    e.key_span,
                )),
                member: Spanned::new(t, attr.span),
                pool_ref: Some(owner.clone()),
            });
        }
    }
}

/// The service account a `service_account_id`/`sa_name`/`serviceAccount:` value names:
/// `google_service_account.NAME` for a reference, else the email of a literal
/// (`projects/P/serviceAccounts/EMAIL` or `EMAIL`).
pub fn sa_key(t: &Template) -> Option<String> {
    if let [Part::Unknown(e)] = t.parts.as_slice() {
        return ref_to(e, "google_service_account")
            .or_else(|| ref_to(e, "data.google_service_account"))
            .map(|(a, _)| a);
    }
    let s = t.known()?;
    let s = s.rsplit('/').next().unwrap_or(&s);
    Some(s.to_ascii_lowercase())
}
