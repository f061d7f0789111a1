//! The model view: the normalized model as JSON documents (one per policy, provider, role,
//! access key, workflow or action), the shape custom rules select from and `dump-model` prints.
//!
//! The view is built by an explicit conversion (no serde derives on the model), and every JSON
//! node carries a [`Loc`] in a parallel tree: the span of the text it came from and whether its
//! value is only partly known before apply time. A JSONPath match's normalized path walks that
//! tree back to a span.
//!
//! The shape is versioned by [`MODEL_VERSION`] and documented in the README ("Custom rules").
//! `null` means "absent" everywhere.

use crate::model::{
    Condition, FileModel, Job, KeyValue, Operator, PermSpec, Permissions, PolicyDoc, PolicyKind,
    SStr, Spanned, Statement, Step, Workflow, WorkflowKind,
};
use crate::model::{PolicyRef, Scan};
use crate::source::{FileId, SourceFile, Span};
use serde_json::{Map, Value};
use serde_json_path::PathElement;

/// Version of the view's shape. Bumped on any incompatible change.
pub const MODEL_VERSION: u64 = 1;

/// The kinds of documents in the view (`applies-to` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKind {
    TrustPolicy,
    PermissionPolicy,
    OidcProvider,
    Role,
    AccessKey,
    Workflow,
    Action,
    /// An Azure managed identity or application registration, with its federated credentials.
    AzureIdentity,
    /// An Azure federated identity credential.
    AzureCredential,
    /// A Google Cloud workload identity pool provider.
    GcpProvider,
    /// An IAM member naming a workload identity pool.
    GcpMember,
}

impl DocKind {
    /// Every kind a custom rule's `applies-to` may name. The default (no `applies-to`) stays
    /// [`DocKind::ALL`], so existing rules keep their reach.
    pub const SELECTABLE: [DocKind; 11] = [
        DocKind::TrustPolicy,
        DocKind::PermissionPolicy,
        DocKind::OidcProvider,
        DocKind::Role,
        DocKind::AccessKey,
        DocKind::Workflow,
        DocKind::Action,
        DocKind::AzureIdentity,
        DocKind::AzureCredential,
        DocKind::GcpProvider,
        DocKind::GcpMember,
    ];
    pub const ALL: [DocKind; 7] = [
        DocKind::TrustPolicy,
        DocKind::PermissionPolicy,
        DocKind::OidcProvider,
        DocKind::Role,
        DocKind::AccessKey,
        DocKind::Workflow,
        DocKind::Action,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DocKind::TrustPolicy => "trust-policy",
            DocKind::PermissionPolicy => "permission-policy",
            DocKind::OidcProvider => "oidc-provider",
            DocKind::Role => "role",
            DocKind::AccessKey => "access-key",
            DocKind::Workflow => "workflow",
            DocKind::Action => "action",
            DocKind::AzureIdentity => "azure-identity",
            DocKind::AzureCredential => "azure-credential",
            DocKind::GcpProvider => "gcp-wif-provider",
            DocKind::GcpMember => "gcp-iam-member",
        }
    }
    pub fn parse(s: &str) -> Option<DocKind> {
        DocKind::SELECTABLE.into_iter().find(|k| k.name() == s)
    }
}

/// Where a JSON node came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub span: Span,
    /// The value contains a part unknown to a static scan (`${var.org}`, `${{ inputs.x }}`).
    pub unknown: bool,
    pub kids: Kids,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kids {
    Leaf,
    Seq(Vec<Loc>),
    Map(Vec<(String, Loc)>),
}

impl Loc {
    fn leaf(span: Span) -> Loc {
        Loc {
            span,
            unknown: false,
            kids: Kids::Leaf,
        }
    }
    pub fn child_name(&self, name: &str) -> Option<&Loc> {
        match &self.kids {
            Kids::Map(m) => m.iter().rev().find(|(k, _)| k == name).map(|(_, l)| l),
            _ => None,
        }
    }
    pub fn child_index(&self, i: usize) -> Option<&Loc> {
        match &self.kids {
            Kids::Seq(v) => v.get(i),
            _ => None,
        }
    }
    /// Follow a normalized path; stops at the deepest node that has a location.
    pub fn locate<'a, 'p>(
        &'a self,
        path: impl IntoIterator<Item = &'p PathElement<'p>>,
    ) -> &'a Loc {
        let mut cur = self;
        for el in path {
            let next = match el {
                PathElement::Name(n) => cur.child_name(n),
                PathElement::Index(i) => cur.child_index(*i),
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur
    }
}

/// One document of the view.
#[derive(Clone, Debug)]
pub struct Doc {
    pub file: FileId,
    pub kind: DocKind,
    pub value: Value,
    pub loc: Loc,
}

impl Doc {
    pub fn owner(&self) -> &str {
        self.value
            .get("owner")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// A JSON node under construction with its location.
type Node = (Value, Loc);

struct Obj {
    map: Map<String, Value>,
    locs: Vec<(String, Loc)>,
    span: Span,
}

impl Obj {
    fn new(span: Span) -> Obj {
        Obj {
            map: Map::new(),
            locs: Vec::new(),
            span,
        }
    }
    fn put(&mut self, key: &str, (v, l): Node) {
        self.map.insert(key.to_string(), v);
        self.locs.retain(|(k, _)| k != key);
        self.locs.push((key.to_string(), l));
    }
    /// A value that has no text of its own (derived, or null): it points at `span`.
    fn put_at(&mut self, key: &str, v: Value, span: Span) {
        self.put(key, (v, Loc::leaf(span)));
    }
    fn finish(self) -> Node {
        (
            Value::Object(self.map),
            Loc {
                span: self.span,
                unknown: false,
                kids: Kids::Map(self.locs),
            },
        )
    }
}

fn seq(items: Vec<Node>, span: Span) -> Node {
    let (vals, locs): (Vec<Value>, Vec<Loc>) = items.into_iter().unzip();
    (
        Value::Array(vals),
        Loc {
            span,
            unknown: false,
            kids: Kids::Seq(locs),
        },
    )
}

fn null(span: Span) -> Node {
    (Value::Null, Loc::leaf(span))
}

fn tmpl(t: &SStr) -> Node {
    (
        Value::String(t.value.display()),
        Loc {
            span: t.span,
            unknown: !t.value.is_known(),
            kids: Kids::Leaf,
        },
    )
}

/// A workflow string: `${{ … }}` expressions are values unknown to a static scan.
fn text(s: &Spanned<String>) -> Node {
    (
        Value::String(s.value.clone()),
        Loc {
            span: s.span,
            unknown: s.value.contains("${{"),
            kids: Kids::Leaf,
        },
    )
}

fn opt<T>(v: Option<&T>, span: Span, f: impl Fn(&T) -> Node) -> Node {
    v.map(f).unwrap_or_else(|| null(span))
}

fn cover(spans: impl IntoIterator<Item = Span>, fallback: Span) -> Span {
    let mut it = spans.into_iter().filter(|s| *s != Span::default());
    match it.next() {
        None => fallback,
        Some(first) => it.fold(first, |a, b| Span {
            start: a.start.min(b.start),
            end: a.end.max(b.end),
        }),
    }
}

fn strings(items: &[SStr], span: Span) -> Node {
    seq(items.iter().map(tmpl).collect(), span)
}

fn condition(c: &Condition) -> Node {
    let span = cover([c.key.span, c.values_span], c.key.span);
    let mut o = Obj::new(span);
    let op = Operator::parse(&c.operator.value);
    o.put(
        "operator",
        (
            Value::String(c.operator.value.clone()),
            Loc::leaf(c.operator.span),
        ),
    );
    o.put_at(
        "base-operator",
        Value::String(op.base.clone()),
        c.operator.span,
    );
    let qualifier = if op.for_any_value {
        Value::String("ForAnyValue".into())
    } else if op.for_all_values {
        Value::String("ForAllValues".into())
    } else {
        Value::Null
    };
    o.put_at("qualifier", qualifier, c.operator.span);
    o.put_at("if-exists", Value::Bool(op.if_exists), c.operator.span);
    o.put(
        "key",
        (Value::String(c.key.value.clone()), Loc::leaf(c.key.span)),
    );
    let lower = c.key.value.to_ascii_lowercase();
    let (issuer, claim) = match lower.rsplit_once(':') {
        Some((i, k)) => (Value::String(i.into()), Value::String(k.into())),
        None => (Value::Null, Value::Null),
    };
    o.put_at("issuer", issuer, c.key.span);
    o.put_at("claim", claim, c.key.span);
    o.put("values", strings(&c.values, c.values_span));
    o.finish()
}

fn statement(s: &Statement) -> Node {
    let mut o = Obj::new(s.span);
    o.put_at(
        "sid",
        s.sid.clone().map(Value::String).unwrap_or(Value::Null),
        s.span,
    );
    o.put("effect", opt(s.effect.as_ref(), s.span, tmpl));
    let pspan = s.principal_span.unwrap_or(s.span);
    let principals = s
        .principals
        .iter()
        .map(|p| {
            let mut po = Obj::new(p.value.span);
            po.put_at("type", Value::String(p.kind.clone()), p.value.span);
            po.put("value", tmpl(&p.value));
            po.finish()
        })
        .collect();
    o.put("principals", seq(principals, pspan));
    o.put_at("not-principal", Value::Bool(s.not_principal), pspan);
    let aspan = s.action_span.unwrap_or(s.span);
    o.put("actions", strings(&s.actions, aspan));
    o.put_at("not-action", Value::Bool(s.not_action), aspan);
    let rspan = cover(s.resources.iter().map(|r| r.span), s.span);
    o.put("resources", strings(&s.resources, rspan));
    o.put_at("not-resource", Value::Bool(s.not_resource), rspan);
    let cspan = s
        .condition_block
        .as_ref()
        .filter(|h| h.span != s.span)
        .map(|h| h.span)
        .unwrap_or_else(|| cover(s.conditions.iter().map(|c| c.key.span), s.span));
    o.put(
        "conditions",
        seq(s.conditions.iter().map(condition).collect(), cspan),
    );
    o.finish()
}

/// `owner` and `statements` of a policy (shared by policy documents and roles).
fn policy_fields(o: &mut Obj, p: &PolicyDoc) {
    o.put_at("owner", Value::String(p.owner.clone()), p.span);
    o.put(
        "statements",
        seq(p.statements.iter().map(statement).collect(), p.span),
    );
}

fn policy_body(p: &PolicyDoc) -> Node {
    let mut o = Obj::new(p.span);
    policy_fields(&mut o, p);
    o.finish()
}

fn header(o: &mut Obj, kind: DocKind, src: &SourceFile, span: Span) {
    o.put_at("kind", Value::String(kind.name().into()), span);
    o.put_at("file", Value::String(src.rel.clone()), span);
    o.put_at("format", Value::String(src.format.name().into()), span);
}

fn key_values(kvs: &[KeyValue], span: Span) -> Node {
    let mut o = Obj::new(cover(
        kvs.iter()
            .map(|kv| cover([kv.key_span, kv.value.span], kv.key_span)),
        span,
    ));
    for kv in kvs {
        o.put(&kv.key, text(&kv.value));
    }
    o.finish()
}

fn permissions(p: Option<&Permissions>, span: Span) -> Node {
    let Some(p) = p else { return null(span) };
    match &p.spec {
        PermSpec::WriteAll => (Value::String("write-all".into()), Loc::leaf(p.span)),
        PermSpec::ReadAll => (Value::String("read-all".into()), Loc::leaf(p.span)),
        PermSpec::Unknown(s) => (
            Value::String(s.clone()),
            Loc {
                span: p.span,
                unknown: true,
                kids: Kids::Leaf,
            },
        ),
        PermSpec::Map(scopes) => {
            let mut o = Obj::new(p.span);
            for (k, v) in scopes {
                o.put(k, text(v));
            }
            o.finish()
        }
    }
}

fn step(s: &Step, src: &SourceFile) -> Node {
    let mut o = Obj::new(s.span);
    o.put_at(
        "name",
        s.name.clone().map(Value::String).unwrap_or(Value::Null),
        s.span,
    );
    o.put("uses", opt(s.uses.as_ref(), s.span, text));
    let uspan = s.uses.as_ref().map(|u| u.span).unwrap_or(s.span);
    o.put_at(
        "action",
        s.action().map(Value::String).unwrap_or(Value::Null),
        uspan,
    );
    // The ref after `@`, with the span of its own text when it is written plainly.
    let r = s.uses.as_ref().and_then(|u| {
        let (_, r) = u.value.rsplit_once('@')?;
        let r = r.trim();
        let slice = src.slice(u.span);
        let span = match slice.rfind(&format!("@{r}")) {
            Some(i) if !r.is_empty() => {
                let start = u.span.start as usize + i + 1;
                Span::new(start, start + r.len())
            }
            _ => u.span,
        };
        Some((
            Value::String(r.to_string()),
            Loc {
                span,
                unknown: r.contains("${{"),
                kids: Kids::Leaf,
            },
        ))
    });
    o.put("ref", r.unwrap_or_else(|| null(uspan)));
    o.put("with", key_values(&s.with, s.span));
    o.put("env", key_values(&s.env, s.span));
    o.put("run", opt(s.run.as_ref(), s.span, text));
    o.finish()
}

fn job(w: &Workflow, j: &Job, src: &SourceFile) -> Node {
    let mut o = Obj::new(j.span);
    o.put("id", text(&j.id));
    o.put("environment", opt(j.environment.as_ref(), j.span, text));
    o.put("permissions", permissions(j.permissions.as_ref(), j.span));
    o.put(
        "effective-permissions",
        permissions(w.effective_permissions(j), j.span),
    );
    o.put("env", key_values(&j.env, j.span));
    o.put("uses", opt(j.uses.as_ref(), j.span, text));
    o.put(
        "steps",
        seq(j.steps.iter().map(|s| step(s, src)).collect(), j.span),
    );
    o.finish()
}

fn workflow(w: &Workflow, src: &SourceFile) -> Doc {
    let span = Span::new(0, src.text.len());
    let kind = match w.kind {
        WorkflowKind::Workflow => DocKind::Workflow,
        WorkflowKind::Action => DocKind::Action,
    };
    let mut o = Obj::new(span);
    header(&mut o, kind, src, span);
    let triggers = w
        .triggers
        .iter()
        .map(|t| {
            let mut to = Obj::new(t.span);
            to.put_at("event", Value::String(t.event.clone()), t.span);
            for (name, list) in [("branches", &t.branches), ("tags", &t.tags)] {
                let n = match list {
                    None => null(t.span),
                    Some(l) => seq(
                        l.iter().map(text).collect(),
                        cover(l.iter().map(|s| s.span), t.span),
                    ),
                };
                to.put(name, n);
            }
            to.finish()
        })
        .collect();
    o.put(
        "triggers",
        seq(triggers, cover(w.triggers.iter().map(|t| t.span), span)),
    );
    o.put("permissions", permissions(w.permissions.as_ref(), span));
    o.put("env", key_values(&w.env, span));
    o.put(
        "jobs",
        seq(w.jobs.iter().map(|j| job(w, j, src)).collect(), span),
    );
    let (value, loc) = o.finish();
    Doc {
        file: w.file,
        kind,
        value,
        loc,
    }
}

fn file_docs(scan: &Scan, id: FileId, src: &SourceFile, m: &FileModel, out: &mut Vec<Doc>) {
    for (i, p) in m.policies.iter().enumerate() {
        let kind = match p.kind {
            PolicyKind::Trust => DocKind::TrustPolicy,
            PolicyKind::Permission => DocKind::PermissionPolicy,
        };
        let mut o = Obj::new(p.span);
        header(&mut o, kind, src, p.span);
        let roles = m
            .roles
            .iter()
            .filter(|r| {
                let me = PolicyRef::new(id, i);
                r.trust == Some(me) || r.permission_policies.contains(&me)
            })
            .map(|r| (Value::String(r.owner.clone()), Loc::leaf(r.span)))
            .collect();
        policy_fields(&mut o, p);
        o.put("roles", seq(roles, p.span));
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind,
            value,
            loc,
        });
    }
    for p in &m.providers {
        let mut o = Obj::new(p.span);
        header(&mut o, DocKind::OidcProvider, src, p.span);
        o.put_at("owner", Value::String(p.owner.clone()), p.span);
        o.put("url", opt(p.url.as_ref(), p.span, tmpl));
        let cspan = p.client_ids_span.unwrap_or(p.span);
        o.put(
            "client-ids",
            match &p.client_ids {
                None => null(cspan),
                Some(ids) => strings(ids, cspan),
            },
        );
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::OidcProvider,
            value,
            loc,
        });
    }
    for r in &m.roles {
        let mut o = Obj::new(r.span);
        header(&mut o, DocKind::Role, src, r.span);
        o.put_at("owner", Value::String(r.owner.clone()), r.span);
        o.put("name", opt(r.name.as_ref(), r.span, tmpl));
        o.put(
            "trust-policy",
            opt(r.trust.and_then(|t| scan.policy(t)), r.span, policy_body),
        );
        let perms = r
            .permission_policies
            .iter()
            .filter_map(|i| scan.policy(*i))
            .map(policy_body)
            .collect();
        o.put("permission-policies", seq(perms, r.span));
        o.put("managed-policy-arns", {
            // An ARN attached in another file is located at the role.
            let arns: Vec<_> = r
                .managed_policy_arns
                .iter()
                .map(|a| {
                    let at = if a.file == r.file { a.span } else { r.span };
                    crate::model::Spanned::new(a.value.clone(), at)
                })
                .collect();
            let span = cover(arns.iter().map(|a| a.span), r.span);
            strings(&arns, span)
        });
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::Role,
            value,
            loc,
        });
    }
    for k in &m.access_keys {
        let mut o = Obj::new(k.span);
        header(&mut o, DocKind::AccessKey, src, k.span);
        o.put_at("owner", Value::String(k.owner.clone()), k.span);
        o.put("user", opt(k.user.as_ref(), k.span, tmpl));
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::AccessKey,
            value,
            loc,
        });
    }
    for w in &m.workflows {
        out.push(workflow(w, src));
    }
    gcp_docs(id, src, m, out);
}

/// Google Cloud workload identity providers and IAM members.
fn gcp_docs(id: FileId, src: &SourceFile, m: &FileModel, out: &mut Vec<Doc>) {
    use crate::model::{GcpCondition, GcpTarget};
    for p in &m.gcp.providers {
        let mut o = Obj::new(p.span);
        header(&mut o, DocKind::GcpProvider, src, p.span);
        o.put_at("owner", Value::String(p.owner.clone()), p.header);
        o.put("pool-id", opt(p.pool_id.as_ref(), p.span, tmpl));
        o.put("provider-id", opt(p.provider_id.as_ref(), p.span, tmpl));
        o.put("issuer", opt(p.issuer.as_ref(), p.span, tmpl));
        o.put(
            "attribute-mapping",
            match &p.mapping {
                None => null(p.mapping_span),
                Some(entries) => {
                    let mut mo = Obj::new(p.mapping_span);
                    for (k, v) in entries {
                        mo.put(&k.value, tmpl(v));
                    }
                    mo.finish()
                }
            },
        );
        o.put(
            "attribute-condition",
            match &p.condition {
                GcpCondition::Absent(at) => null(at.unwrap_or(p.header)),
                GcpCondition::Known(c) => text(c),
                GcpCondition::Unknown(at) => (
                    Value::String("${?}".into()),
                    Loc {
                        span: *at,
                        unknown: true,
                        kids: Kids::Leaf,
                    },
                ),
            },
        );
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::GcpProvider,
            value,
            loc,
        });
    }
    for mem in &m.gcp.members {
        let mut o = Obj::new(mem.block);
        header(&mut o, DocKind::GcpMember, src, mem.block);
        o.put_at("owner", Value::String(mem.owner.clone()), mem.block);
        let (kind, target) = match &mem.target {
            GcpTarget::ServiceAccount(sa) => ("service-account", Value::String(sa.clone())),
            GcpTarget::Project => ("project", Value::Null),
            GcpTarget::Resource(t) => ("resource", Value::String(t.clone())),
        };
        o.put_at("target-kind", Value::String(kind.into()), mem.block);
        o.put_at("target", target, mem.block);
        o.put("role", opt(mem.role.as_ref(), mem.block, tmpl));
        o.put("member", tmpl(&mem.member));
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::GcpMember,
            value,
            loc,
        });
    }
}

fn credential_body(c: &crate::model::azure::FederatedCredential) -> Node {
    let mut o = Obj::new(c.span);
    o.put_at("owner", Value::String(c.owner.clone()), c.span);
    o.put_at("identity-kind", Value::String(c.kind.name().into()), c.span);
    o.put_at(
        "identity",
        c.identity.clone().map_or(Value::Null, Value::String),
        c.parent.as_ref().map_or(c.span, |p| p.span),
    );
    o.put("issuer", opt(c.issuer.as_ref(), c.span, tmpl));
    o.put("subject", opt(c.subject.as_ref(), c.span, tmpl));
    o.put(
        "claims-matching-expression",
        opt(c.claims_expression.as_ref(), c.span, tmpl),
    );
    let aspan = c.audiences_span.unwrap_or(c.span);
    o.put(
        "audiences",
        match &c.audiences {
            None => null(aspan),
            Some(a) => strings(a, aspan),
        },
    );
    o.finish()
}

/// `azure-identity` and `azure-credential` documents.
fn azure_docs(
    creds: &CredIndex<'_>,
    id: FileId,
    src: &SourceFile,
    m: &FileModel,
    out: &mut Vec<Doc>,
) {
    for i in &m.azure.identities {
        let mut o = Obj::new(i.span);
        header(&mut o, DocKind::AzureIdentity, src, i.span);
        o.put_at("owner", Value::String(i.owner.clone()), i.span);
        o.put_at("identity-kind", Value::String(i.kind.name().into()), i.span);
        o.put("name", opt(i.name.as_ref(), i.span, tmpl));
        o.put("client-id", opt(i.client_id.as_ref(), i.span, tmpl));
        // Its credentials, wherever in the module they are defined (located at the identity
        // when in another file).
        let creds = creds
            .get(i.owner.as_str())
            .into_iter()
            .flatten()
            .map(|c| {
                let (v, l) = credential_body(c);
                if c.file == id {
                    (v, l)
                } else {
                    (v, Loc::leaf(i.span))
                }
            })
            .collect();
        o.put("credentials", seq(creds, i.span));
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::AzureIdentity,
            value,
            loc,
        });
    }
    for c in &m.azure.credentials {
        let (body, bloc) = credential_body(c);
        let mut o = Obj::new(c.span);
        header(&mut o, DocKind::AzureCredential, src, c.span);
        if let (Value::Object(map), Kids::Map(locs)) = (body, bloc.kids) {
            for ((k, v), (_, l)) in map.into_iter().zip(locs) {
                o.put(&k, (v, l));
            }
        }
        let (value, loc) = o.finish();
        out.push(Doc {
            file: id,
            kind: DocKind::AzureCredential,
            value,
            loc,
        });
    }
}

/// Every document of a scan, in file order then model order.
pub fn build(scan: &Scan) -> Vec<Doc> {
    let mut out = Vec::new();
    let creds = credentials_by_identity(scan);
    for (id, src) in scan.files() {
        if let Some(m) = scan.models.get(id) {
            file_docs(scan, id, src, m, &mut out);
            azure_docs(&creds, id, src, m, &mut out);
        }
    }
    out
}

type CredIndex<'a> =
    std::collections::HashMap<&'a str, Vec<&'a crate::model::azure::FederatedCredential>>;

/// Each Azure identity's credentials (by the identity's owner), in scan order.
fn credentials_by_identity(scan: &Scan) -> CredIndex<'_> {
    let mut m: CredIndex<'_> = Default::default();
    for c in scan.models.iter().flat_map(|m| &m.azure.credentials) {
        if let Some(i) = &c.identity {
            m.entry(i.as_str()).or_default().push(c);
        }
    }
    m
}

/// A document for printing: with `spans`, every object gets an `"@span"` member
/// `"FILE:LINE:COL-LINE:COL"` (only in `dump-model`; rules never see it).
pub fn printable(doc: &Doc, src: &SourceFile, spans: bool) -> Value {
    if !spans {
        return doc.value.clone();
    }
    fn add(v: &Value, loc: &Loc, src: &SourceFile) -> Value {
        match (v, &loc.kids) {
            (Value::Object(m), Kids::Map(_)) => {
                let mut out = Map::new();
                let a = src.pos(loc.span.start);
                let b = src.pos(loc.span.end);
                out.insert(
                    "@span".into(),
                    Value::String(format!(
                        "{}:{}:{}-{}:{}",
                        src.rel, a.line, a.column, b.line, b.column
                    )),
                );
                for (k, val) in m {
                    let child = match loc.child_name(k) {
                        Some(l) => add(val, l, src),
                        None => val.clone(),
                    };
                    out.insert(k.clone(), child);
                }
                Value::Object(out)
            }
            (Value::Array(items), Kids::Seq(locs)) => Value::Array(
                items
                    .iter()
                    .zip(locs)
                    .map(|(v, l)| add(v, l, src))
                    .collect(),
            ),
            _ => v.clone(),
        }
    }
    add(&doc.value, &doc.loc, src)
}
