//! CloudFormation templates (YAML with short-form tags, JSON with `Fn::` long forms; SAM and
//! CDK output are the same format). Intrinsic functions are resolved as far as the template
//! itself allows: `!Sub`/`!Join` keep their literal parts (unknown parts stay unknown), a
//! parameter's `Default` is used when present, and `!Ref`/`!GetAtt …Arn` of an
//! `AWS::IAM::OIDCProvider` in the same template becomes the provider's ARN, whose literal tail
//! names its URL. Anything else (`!If` with differing branches, `!ImportValue`, …) is unknown.

use crate::frontend::iam_json::{Family, strings_of};
use crate::model::{
    AccessKey, Attached, FileModel, OidcProvider, PolicyKind, PolicyRef, Role, SStr, Spanned,
};
use crate::source::tree::{Entry, Node, Part, Template, Value};
use crate::source::{FileId, Span};
use std::collections::HashMap;

struct Ctx<'a> {
    /// The template's text, to trim spans of resolved values to their last visible byte.
    text: &'a str,
    params: HashMap<&'a str, &'a Node>,
    /// Logical id → (type, properties).
    resources: HashMap<&'a str, (&'a str, Option<&'a Node>)>,
    /// The template's `Conditions`, by name.
    conditions: HashMap<&'a str, &'a Node>,
    /// `Fn::If` parts kept although their condition is false with every parameter at its
    /// default: judged "when enabled".
    switches: std::cell::RefCell<Vec<crate::model::Switch>>,
}

fn is_template(root: &Node) -> bool {
    if !root.is_map() {
        return false;
    }
    if root.get("AWSTemplateFormatVersion").is_some() {
        return true;
    }
    root.get("Resources").is_some_and(|r| {
        r.entries().iter().any(|e| {
            e.value
                .get("Type")
                .and_then(Node::as_str)
                .is_some_and(|t| t.starts_with("AWS::") || is_oidc_provider(&t))
        })
    })
}

fn push(parts: &mut Vec<Part>, p: Part) {
    if let (Some(Part::Lit(last)), Part::Lit(s)) = (parts.last_mut(), &p) {
        last.push_str(s);
        return;
    }
    if matches!(&p, Part::Lit(s) if s.is_empty()) {
        return;
    }
    parts.push(p);
}

/// CloudFormation dynamic references in a string's literal text
/// (`{{resolve:ssm:/account/oidc:1}}`, `{{resolve:secretsmanager:…}}`): values read from
/// Parameter Store or Secrets Manager when the stack deploys, unknown here (never taken as
/// the text they are written as).
fn dynamic_references(t: Template) -> Template {
    if !t
        .parts
        .iter()
        .any(|p| matches!(p, Part::Lit(s) if s.contains("{{resolve:")))
    {
        return t;
    }
    let mut parts = Vec::new();
    for p in t.parts {
        let Part::Lit(s) = p else {
            push(&mut parts, p);
            continue;
        };
        let mut rest = s.as_str();
        while let Some(i) = rest.find("{{resolve:") {
            let Some(j) = rest[i..].find("}}") else {
                break;
            };
            push(&mut parts, Part::Lit(rest[..i].to_string()));
            push(&mut parts, Part::Unknown(rest[i + 2..i + j].to_string()));
            rest = &rest[i + j + 2..];
        }
        push(&mut parts, Part::Lit(rest.to_string()));
    }
    Template::concat(parts)
}

fn unknown(span: Span, what: impl Into<String>) -> Node {
    Node::new(span, Value::Str(Template::unknown(what)))
}

fn str_node(span: Span, t: Template) -> Node {
    Node::new(span, Value::Str(t))
}

/// The intrinsic function a node is, with its argument: `!Sub x` or `{"Fn::Sub": x}`.
fn intrinsic(n: &Node) -> Option<(String, &Node)> {
    match &n.value {
        Value::Tagged(tag, inner) => {
            let name = tag.trim_start_matches('!');
            let name = name.strip_prefix("Fn::").unwrap_or(name);
            Some((name.to_string(), inner))
        }
        Value::Map(entries) if entries.len() == 1 => {
            let e = &entries[0];
            if e.key == "Ref" {
                Some(("Ref".into(), &e.value))
            } else if e.key == "Condition" {
                None
            } else {
                e.key
                    .strip_prefix("Fn::")
                    .map(|name| (name.to_string(), &e.value))
            }
        }
        _ => None,
    }
}

/// The logical id a `!Ref X` / `{"Ref": "X"}` names.
fn ref_target(n: &Node) -> Option<String> {
    match intrinsic(n)? {
        (name, arg) if name == "Ref" => arg.as_str(),
        (name, arg) if name == "GetAtt" => {
            let s = match &arg.value {
                Value::Seq(items) => items.first()?.as_str()?,
                _ => arg.as_str()?.split('.').next()?.to_string(),
            };
            Some(s)
        }
        _ => None,
    }
}

impl<'a> Ctx<'a> {
    fn new(text: &'a str, root: &'a Node) -> Self {
        let mut params = HashMap::new();
        if let Some(p) = root.get("Parameters") {
            for e in p.entries() {
                params.insert(e.key.as_str(), &e.value);
            }
        }
        let mut resources = HashMap::new();
        if let Some(r) = root.get("Resources") {
            for e in r.entries() {
                let t = e.value.get("Type");
                let t = match t.map(|t| &t.value) {
                    Some(Value::Str(Template { parts })) => match parts.as_slice() {
                        [Part::Lit(s)] => s.as_str(),
                        _ => "",
                    },
                    _ => "",
                };
                resources.insert(e.key.as_str(), (t, e.value.get("Properties")));
            }
        }
        let mut conditions = HashMap::new();
        if let Some(c) = root.get("Conditions") {
            for e in c.entries() {
                conditions.insert(e.key.as_str(), &e.value);
            }
        }
        Ctx {
            text,
            params,
            resources,
            conditions,
            switches: Default::default(),
        }
    }

    /// A block node's span ends where the next key starts: stop at its last visible byte.
    fn trim(&self, span: Span) -> Span {
        let b = self.text.as_bytes();
        let mut e = (span.end as usize).min(b.len());
        while e > span.start as usize && b[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        Span::new(span.start as usize, e)
    }

    /// The ARN of an OIDC provider ([`is_oidc_provider`]) of this template, as a template whose literal
    /// tail is `:oidc-provider/<url without scheme>`.
    fn provider_arn(&self, logical: &str) -> Option<Template> {
        let (t, props) = self.resources.get(logical)?;
        if !is_oidc_provider(t) {
            return None;
        }
        let url = self.resolve(props.as_ref()?.get("Url")?, 0);
        let url = url.as_template()?.known()?;
        let host = url.trim_start_matches("https://").trim_end_matches('/');
        Some(Template {
            parts: vec![
                Part::Lit("arn:".into()),
                Part::Unknown("AWS::Partition".into()),
                Part::Lit(":iam::".into()),
                Part::Unknown("AWS::AccountId".into()),
                Part::Lit(format!(":oidc-provider/{host}")),
            ],
        })
    }

    /// `Ref` of a name: a parameter (its `Default` when literal), a pseudo parameter, or a
    /// resource (an OIDC provider's ARN; other resources are unknown).
    fn reference(&self, name: &str, span: Span) -> Node {
        if name == "AWS::NoValue" {
            return Node::new(span, Value::Null);
        }
        if let Some(p) = self.params.get(name) {
            let list = p
                .get("Type")
                .and_then(Node::as_str)
                .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
            if let Some(d) = p.get("Default")
                && let Some(text) = d.scalar_text()
                && !matches!(&d.value, Value::Str(t) if !t.is_known())
                // An empty default is a placeholder the deployer must fill in.
                && !text.is_empty()
            {
                if list {
                    let items = text
                        .split(',')
                        .map(|s| str_node(span, Template::lit(s.trim())))
                        .collect();
                    return Node::new(span, Value::Seq(items));
                }
                return str_node(span, Template::lit(text));
            }
            return unknown(span, name);
        }
        if let Some(arn) = self.provider_arn(name) {
            return str_node(span, arn);
        }
        unknown(span, name)
    }

    /// The parts a `${name}` of `!Sub` stands for.
    fn sub_var(&self, name: &str, vars: Option<&Node>, depth: usize) -> Vec<Part> {
        if let Some(v) = vars.and_then(|v| v.get(name)) {
            let r = self.resolve(v, depth + 1);
            if let Some(t) = r.as_template() {
                return t.parts.clone();
            }
            return vec![Part::Unknown(name.into())];
        }
        if let Some((res, attr)) = name.split_once('.') {
            if attr == "Arn"
                && let Some(arn) = self.provider_arn(res)
            {
                return arn.parts;
            }
            return vec![Part::Unknown(name.into())];
        }
        match self.reference(name, Span::default()).value {
            Value::Str(t) => t.parts,
            _ => vec![Part::Unknown(name.into())],
        }
    }

    fn sub(&self, text: &str, vars: Option<&Node>, depth: usize) -> Template {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            push(&mut parts, Part::Lit(rest[..i].to_string()));
            let Some(j) = rest[i..].find('}') else {
                push(&mut parts, Part::Lit(rest[i..].to_string()));
                rest = "";
                break;
            };
            let inner = &rest[i + 2..i + j];
            if let Some(lit) = inner.strip_prefix('!') {
                push(&mut parts, Part::Lit(format!("${{{lit}}}")));
            } else {
                for p in self.sub_var(inner.trim(), vars, depth) {
                    push(&mut parts, p);
                }
            }
            rest = &rest[i + j + 1..];
        }
        push(&mut parts, Part::Lit(rest.to_string()));
        Template::concat(parts)
    }

    /// A copy of `n` with every intrinsic function replaced by what it is known to produce.
    fn resolve(&self, n: &Node, depth: usize) -> Node {
        if depth > 64 {
            return unknown(n.span, "…");
        }
        if let Some((name, arg)) = intrinsic(n) {
            let mut r = self.function(&name, arg, n, depth + 1);
            r.span = self.trim(r.span);
            return r;
        }
        match &n.value {
            // Outside `Fn::Sub`, `${…}` is literal text in CloudFormation; a dynamic reference
            // (`{{resolve:ssm:/oidc/provider}}`) is resolved at deployment: unknown.
            Value::Str(t) if !t.is_known() => {
                str_node(n.span, dynamic_references(Template::lit(t.display())))
            }
            Value::Str(t) if t.display().contains("{{resolve:") => {
                str_node(n.span, dynamic_references(t.clone()))
            }
            // (`!Ref AWS::NoValue` removes a list's item)
            Value::Seq(items) => Node {
                span: n.span,
                value: Value::Seq(
                    items
                        .iter()
                        .filter_map(|i| {
                            let r = self.resolve(i, depth + 1);
                            (!(intrinsic(i).is_some() && matches!(r.value, Value::Null)))
                                .then_some(r)
                        })
                        .collect(),
                ),
                style: n.style,
            },
            Value::Map(entries) => Node {
                span: n.span,
                value: Value::Map(
                    entries
                        .iter()
                        .map(|e| Entry {
                            key: e.key.clone(),
                            key_span: e.key_span,
                            value: self.resolve(&e.value, depth + 1),
                        })
                        .collect(),
                ),
                style: n.style,
            },
            Value::Tagged(_, inner) => self.resolve(inner, depth + 1),
            _ => n.clone(),
        }
    }

    /// A condition of the template evaluated with every parameter at its default: `None`
    /// when it depends on anything else (a parameter without a default, a pseudo parameter,
    /// a function this reader does not evaluate).
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        let n = self.conditions.get(name)?;
        self.condition_value(n, depth + 1)
    }

    fn condition_value(&self, n: &Node, depth: usize) -> Option<bool> {
        if depth > 32 {
            return None;
        }
        if let Some(c) = n.get("Condition").filter(|_| n.entries().len() == 1) {
            return self.condition(&c.as_str()?, depth + 1);
        }
        let (name, arg) = intrinsic(n)?;
        let items = match &arg.value {
            Value::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(arg),
        };
        match name.as_str() {
            // (`!Condition Name`)
            "Condition" => self.condition(&arg.as_str()?, depth + 1),
            "Equals" => {
                let [a, b] = items else { return None };
                let text = |x: &Node| {
                    // (a parameter whose default is empty is `""` here: a condition testing for
                    // it, `!Equals [!Ref Filter, ""]`, is what the template does when the
                    // deployer leaves it blank)
                    if let Some(("Ref", arg)) = intrinsic(x).as_ref().map(|(n, a)| (n.as_str(), *a))
                        && let Some(p) = arg.as_str().and_then(|n| self.params.get(n.as_str()))
                        && p.get("Default").and_then(|d| d.scalar_text()).as_deref() == Some("")
                    {
                        return Some(String::new());
                    }
                    let r = self.resolve(x, depth + 1);
                    let t = r.scalar_text()?;
                    (!matches!(&r.value, Value::Str(t) if !t.is_known())).then_some(t)
                };
                Some(text(a)? == text(b)?)
            }
            "Not" => Some(!self.condition_value(items.first()?, depth + 1)?),
            "And" | "Or" => {
                let and = name == "And";
                let mut unknown = false;
                for i in items {
                    match self.condition_value(i, depth + 1) {
                        Some(v) if v != and => return Some(v),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                (!unknown).then_some(and)
            }
            _ => None,
        }
    }

    fn function(&self, name: &str, arg: &Node, outer: &Node, depth: usize) -> Node {
        match name {
            "Ref" => match arg.as_str() {
                Some(target) => self.reference(&target, outer.span),
                None => unknown(outer.span, "Ref"),
            },
            "Sub" => match &arg.value {
                Value::Str(t) => str_node(
                    arg.span,
                    dynamic_references(self.sub(&t.display(), None, depth)),
                ),
                Value::Seq(items) => match (items.first(), items.get(1)) {
                    (Some(s), vars) if s.as_template().is_some() => str_node(
                        s.span,
                        dynamic_references(self.sub(
                            &s.as_template().unwrap().display(),
                            vars,
                            depth,
                        )),
                    ),
                    _ => unknown(outer.span, "Fn::Sub"),
                },
                _ => unknown(outer.span, "Fn::Sub"),
            },
            "GetAtt" => {
                let (res, attr) = match &arg.value {
                    Value::Seq(items) => (
                        items.first().and_then(Node::as_str),
                        items.get(1).and_then(Node::as_str),
                    ),
                    _ => match arg.as_str().as_deref().and_then(|s| s.split_once('.')) {
                        Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
                        None => (None, None),
                    },
                };
                if let (Some(res), Some(attr)) = (&res, &attr)
                    && attr == "Arn"
                    && let Some(arn) = self.provider_arn(res)
                {
                    return str_node(outer.span, arn);
                }
                unknown(
                    outer.span,
                    format!("{}.{}", res.unwrap_or_default(), attr.unwrap_or_default()),
                )
            }
            "Join" => {
                let Value::Seq(items) = &arg.value else {
                    return unknown(outer.span, "Fn::Join");
                };
                let (Some(sep), Some(list)) = (items.first().and_then(Node::as_str), items.get(1))
                else {
                    return unknown(outer.span, "Fn::Join");
                };
                let list = self.resolve(list, depth);
                let Value::Seq(elems) = &list.value else {
                    return unknown(outer.span, "Fn::Join");
                };
                let mut parts = Vec::new();
                for (k, e) in elems.iter().enumerate() {
                    if k > 0 {
                        parts.push(Part::Lit(sep.clone()));
                    }
                    match &e.value {
                        Value::Str(t) => parts.extend(t.parts.iter().cloned()),
                        Value::Num(s) => parts.push(Part::Lit(s.clone())),
                        _ => parts.push(Part::Unknown("…".into())),
                    }
                }
                str_node(outer.span, Template::concat(parts))
            }
            "If" => {
                let Value::Seq(items) = &arg.value else {
                    return unknown(outer.span, "Fn::If");
                };
                let (Some(c), Some(a), Some(b)) = (items.first(), items.get(1), items.get(2))
                else {
                    return unknown(outer.span, "Fn::If");
                };
                let name = c.as_str().unwrap_or_default();
                let no_value = |n: &Node| ref_target(n).as_deref() == Some("AWS::NoValue");
                match self.condition(&name, depth) {
                    // The branch the parameters' defaults take; a part only the other branch
                    // creates (`!If [Enabled, {…}, !Ref AWS::NoValue]`, off by default) is
                    // judged "when enabled".
                    Some(true) => return self.resolve(a, depth),
                    Some(false) if no_value(b) && !no_value(a) => {
                        self.switches.borrow_mut().push(crate::model::Switch {
                            span: outer.span,
                            at: c.span,
                            note: format!(
                                "condition `{name}` is false with every parameter at its default"
                            ),
                        });
                        return self.resolve(a, depth);
                    }
                    Some(false) => return self.resolve(b, depth),
                    None => {}
                }
                let (ra, rb) = (self.resolve(a, depth), self.resolve(b, depth));
                // A part one branch creates and the other leaves out: the reachable part.
                if no_value(b) && !no_value(a) {
                    return ra;
                }
                if no_value(a) && !no_value(b) {
                    return rb;
                }
                // Known only when both branches produce the same string.
                if let (Some(ta), Some(tb)) = (ra.as_template(), rb.as_template())
                    && ta == tb
                {
                    return str_node(outer.span, ta.clone());
                }
                unknown(outer.span, "Fn::If")
            }
            other => unknown(outer.span, format!("Fn::{other}")),
        }
    }
}

/// Extract the model of a parsed template. `None` when the root is no template.
pub fn extract(id: FileId, text: &str, root: &Node, family: Family) -> Option<FileModel> {
    if !is_template(root) {
        return None;
    }
    let ctx = Ctx::new(text, root);
    let mut m = FileModel::default();
    let Some(resources) = root.get("Resources") else {
        return Some(m);
    };
    let resolve = |n: &Node| ctx.resolve(n, 0);
    let add_policy = |m: &mut FileModel, doc: &Node, owner: String, kind| -> Option<usize> {
        let doc = resolve(doc);
        if !doc.is_map() {
            return None;
        }
        m.policies.push(crate::frontend::iam_json::policy_from_tree(
            id,
            &doc,
            owner,
            Some(kind),
            family,
        ));
        Some(m.policies.len() - 1)
    };
    let sstr = |n: &Node| -> Option<SStr> {
        let r = resolve(n);
        r.as_template().map(|t| Spanned::new(t.clone(), r.span))
    };
    // Logical id of a role → index in m.roles; managed policy logical id → policy indices.
    let mut roles: HashMap<String, usize> = HashMap::new();
    let mut managed: HashMap<String, Vec<usize>> = HashMap::new();
    // (policy index, role references) for AWS::IAM::Policy / ManagedPolicy `Roles`.
    let mut links: Vec<(Vec<usize>, &Node)> = Vec::new();
    for e in resources.entries() {
        let logical = e.key.as_str();
        let (rtype, props) = ctx.resources.get(logical).copied().unwrap_or(("", None));
        let props = props.filter(|p| p.is_map());
        match rtype {
            "AWS::IAM::Role" => {
                let Some(props) = props else { continue };
                let trust = props
                    .get("AssumeRolePolicyDocument")
                    .and_then(|d| add_policy(&mut m, d, logical.to_string(), PolicyKind::Trust));
                let mut permission_policies = Vec::new();
                for p in props.get("Policies").map(Node::items).unwrap_or_default() {
                    if let Some(d) = p.get("PolicyDocument") {
                        let owner = match p.get("PolicyName").and_then(Node::as_str) {
                            Some(n) => format!("{logical} (policy `{n}`)"),
                            None => logical.to_string(),
                        };
                        permission_policies.extend(add_policy(
                            &mut m,
                            d,
                            owner,
                            PolicyKind::Permission,
                        ));
                    }
                }
                let mut managed_policy_arns = Vec::new();
                if let Some(arns) = props.get("ManagedPolicyArns") {
                    managed_policy_arns = strings_of(&resolve(arns));
                }
                roles.insert(logical.to_string(), m.roles.len());
                m.roles.push(Role {
                    file: id,
                    span: e.key_span,
                    owner: logical.to_string(),
                    name: props.get("RoleName").and_then(sstr),
                    trust: trust.map(|i| PolicyRef::new(id, i)),
                    permission_policies: permission_policies
                        .into_iter()
                        .map(|i| PolicyRef::new(id, i))
                        .collect(),
                    managed_policy_arns: Attached::all(id, managed_policy_arns),
                });
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy" => {
                let Some(props) = props else { continue };
                let mut idx = Vec::new();
                if let Some(d) = props.get("PolicyDocument") {
                    idx.extend(add_policy(
                        &mut m,
                        d,
                        logical.to_string(),
                        PolicyKind::Permission,
                    ));
                }
                if rtype == "AWS::IAM::ManagedPolicy" {
                    managed.insert(logical.to_string(), idx.clone());
                }
                if let Some(r) = props.get("Roles").or(props.get("RoleName")) {
                    links.push((idx, r));
                }
            }
            "AWS::IAM::User" => {
                let Some(props) = props else { continue };
                for p in props.get("Policies").map(Node::items).unwrap_or_default() {
                    if let Some(d) = p.get("PolicyDocument") {
                        add_policy(&mut m, d, logical.to_string(), PolicyKind::Permission);
                    }
                }
            }
            t if is_oidc_provider(t) => {
                // CDK's own provider resource spells the list `ClientIDList`.
                let ids =
                    props.and_then(|p| p.get("ClientIdList").or_else(|| p.get("ClientIDList")));
                let resolved = ids.map(resolve);
                m.providers.push(OidcProvider {
                    file: id,
                    span: e.key_span,
                    owner: logical.to_string(),
                    url: props.and_then(|p| p.get("Url")).and_then(sstr),
                    client_ids: resolved
                        .as_ref()
                        .filter(|n| {
                            matches!(&n.value, Value::Seq(items)
                                if items.iter().all(|i| i.as_template().is_some()))
                        })
                        .map(strings_of),
                    client_ids_span: ids.map(|n| n.span),
                });
            }
            "AWS::IAM::AccessKey" => m.access_keys.push(AccessKey {
                file: id,
                span: e.key_span,
                owner: logical.to_string(),
                user: props.and_then(|p| p.get("UserName")).and_then(sstr),
            }),
            _ => {}
        }
    }
    // Policies naming their roles: `Roles: [!Ref DeployRole]` or a literal role name.
    let names: HashMap<String, usize> = m
        .roles
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.name.as_ref()?.value.known().map(|n| (n, i)))
        .collect();
    for (idx, refs) in links {
        for r in refs.items() {
            let target = ref_target(r)
                .and_then(|l| roles.get(&l).copied())
                .or_else(|| r.as_str().and_then(|n| names.get(&n).copied()));
            if let Some(ri) = target {
                m.roles[ri]
                    .permission_policies
                    .extend(idx.iter().map(|&i| PolicyRef::new(id, i)));
            } else if let Some(export) = intrinsic(r)
                .filter(|(name, _)| name == "ImportValue")
                .and_then(|(_, arg)| resolve(arg).as_template()?.known())
            {
                // (a role another stack of the scan exports: joined by the scan)
                m.named_attachments.push(crate::model::NamedAttachment {
                    file: id,
                    span: r.span,
                    role: format!("{}{export}", crate::model::CFN_EXPORT),
                    scope: String::new(),
                    managed: vec![],
                    policies: idx.iter().map(|&i| PolicyRef::new(id, i)).collect(),
                });
            }
        }
    }
    // Roles this stack exports (`Outputs: X: Value: !Ref Role, Export: Name: …`).
    if let Some(outputs) = root.get("Outputs") {
        for o in outputs.entries() {
            let name = o
                .value
                .get("Export")
                .and_then(|e| e.get("Name"))
                .and_then(|n| resolve(n).as_template()?.known());
            let role = o
                .value
                .get("Value")
                .and_then(ref_target)
                .and_then(|l| roles.get(&l).copied());
            if let (Some(name), Some(ri)) = (name, role) {
                m.exports.push((name, ri));
            }
        }
    }
    // `ManagedPolicyArns: [!Ref SomeManagedPolicy]`.
    for e in resources.entries() {
        let Some(&ri) = roles.get(&e.key) else {
            continue;
        };
        let arns = e
            .value
            .get("Properties")
            .and_then(|p| p.get("ManagedPolicyArns"));
        for a in arns.map(Node::items).unwrap_or_default() {
            if let Some(idx) = ref_target(a).and_then(|l| managed.get(&l)) {
                m.roles[ri]
                    .permission_policies
                    .extend(idx.iter().map(|&i| PolicyRef::new(id, i)));
            }
        }
    }
    let mut switches = ctx.switches.take();
    switches.sort_by_key(|s| (s.span, s.at));
    switches.dedup_by_key(|s| (s.span, s.at));
    m.switches.extend(switches);
    Some(m)
}

/// Does the text look like a template strongly enough that failing to parse it is an error
/// (rather than a YAML/JSON file of some other tool)?
fn surely_template(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion")
        || (text
            .lines()
            .any(|l| l.starts_with("Resources:") || l.trim_start().starts_with("\"Resources\""))
            && (text.contains("Type: AWS::")
                || text.contains("Type: 'AWS::")
                || text.contains("Type: \"AWS::")
                || text.contains("\"Type\": \"AWS::")
                || text.contains("\"Type\":\"AWS::")))
}

/// Parse a candidate template file (YAML, or JSON when it starts with `{`) and extract it.
/// `Ok(None)`: not a template (skipped silently).
pub fn extract_file(
    id: FileId,
    src: &crate::source::SourceFile,
) -> Result<Option<FileModel>, crate::source::ParseFailure> {
    use crate::source::ParseFailure;
    let text = &src.text;
    let (root, family) = if text.trim_start().starts_with('{') {
        match crate::source::json::parse_template(text) {
            Ok(r) => (r, Family::Json),
            Err((e, false)) if surely_template(text) => {
                return Err(ParseFailure {
                    offset: e.offset,
                    message: format!("invalid JSON: {}", e.message),
                });
            }
            Err(_) => return Ok(None),
        }
    } else {
        match crate::source::yaml::parse_scanned(text, src.bom()) {
            Ok(mut docs) if !docs.is_empty() => (docs.swap_remove(0), Family::Yaml),
            Ok(_) => return Ok(None),
            Err(e) if surely_template(text) => {
                return Err(ParseFailure {
                    offset: e.offset,
                    message: format!("invalid YAML: {}", e.message),
                });
            }
            Err(_) => return Ok(None),
        }
    };
    Ok(extract(id, text, &root, family))
}

/// An IAM OIDC provider: `AWS::IAM::OIDCProvider`, or the custom resource CDK's
/// `iam.OpenIdConnectProvider` synthesizes (`Custom::AWSCDKOpenIdConnectProvider`, with `Url`
/// and `ClientIDList`; its `Ref` is the provider's ARN).
fn is_oidc_provider(ty: &str) -> bool {
    ty == "AWS::IAM::OIDCProvider" || ty == "Custom::AWSCDKOpenIdConnectProvider"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::yaml;

    fn resolved(text: &str, path: &[&str]) -> Node {
        let docs = yaml::parse(text).unwrap();
        let root = &docs[0];
        let ctx = Ctx::new(text, root);
        let mut n = root;
        for k in path {
            n = n.get(k).unwrap();
        }
        ctx.resolve(n, 0)
    }

    const T: &str = "\
Parameters:
  Org:
    Type: String
  Repo:
    Type: String
    Default: app
  Auds:
    Type: CommaDelimitedList
    Default: sts.amazonaws.com,other
Resources:
  Gh:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: https://token.actions.githubusercontent.com
  X:
    A: !Sub repo:${Org}/${Repo}:*
    B: !Ref Gh
    C: !GetAtt Gh.Arn
    D: !Join ['', ['arn:', !Ref 'AWS::Partition', ':iam::aws:policy/ReadOnlyAccess']]
    E: !If [c, !Ref Gh, !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com']
    F: !If [c, a, b]
    G: !Ref Auds
    H: !Sub ['repo:${o}/x:${!Literal}', {o: !Ref Repo}]
";

    fn disp(n: &Node) -> String {
        n.as_template().unwrap().display()
    }

    #[test]
    fn intrinsics() {
        let a = resolved(T, &["Resources", "X", "A"]);
        assert_eq!(disp(&a), "repo:${Org}/app:*");
        assert!(!a.as_template().unwrap().is_known());
        assert_eq!(&T[a.span.range()], "repo:${Org}/${Repo}:*");
        let b = resolved(T, &["Resources", "X", "B"]);
        assert!(
            disp(&b).ends_with(":oidc-provider/token.actions.githubusercontent.com"),
            "{}",
            disp(&b)
        );
        let c = resolved(T, &["Resources", "X", "C"]);
        assert_eq!(disp(&b), disp(&c));
        let d = resolved(T, &["Resources", "X", "D"]);
        assert_eq!(
            disp(&d),
            "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"
        );
        let e = resolved(T, &["Resources", "X", "E"]);
        assert_eq!(disp(&e), disp(&b));
        let f = resolved(T, &["Resources", "X", "F"]);
        assert_eq!(disp(&f), "${Fn::If}");
        let g = resolved(T, &["Resources", "X", "G"]);
        assert_eq!(strings_of(&g).len(), 2);
        let h = resolved(T, &["Resources", "X", "H"]);
        assert_eq!(disp(&h), "repo:app/x:${Literal}");
    }

    #[test]
    fn json_long_form() {
        let text = r#"{"Parameters": {"Org": {"Type": "String", "Default": "acme"}},
 "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::Sub": "repo:${Org}/*"}, "Y": "${NotSub}"}}}}"#;
        let root = crate::source::json::parse(text).unwrap();
        let ctx = Ctx::new(text, &root);
        let p = root
            .get("Resources")
            .unwrap()
            .get("R")
            .unwrap()
            .get("Properties")
            .unwrap();
        let r = ctx.resolve(p, 0);
        assert_eq!(r.get("X").unwrap().as_str().unwrap(), "repo:acme/*");
        assert_eq!(r.get("Y").unwrap().as_str().unwrap(), "${NotSub}");
    }
}
