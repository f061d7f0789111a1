use super::{Ctx, Rule, RuleMeta};
use crate::analysis::issuers::Audience;
use crate::analysis::trust::{CiTrust, custom_audiences, is_github_issuer};
use crate::diag::{Finding, Fix, Severity};
use crate::fix::{NewValue, insert_entry};

pub struct TrustMissingAud;
pub static RULE: TrustMissingAud = TrustMissingAud;
static META: RuleMeta = crate::rule_meta!(
    "trust-missing-aud",
    Warning,
    "A trust statement for a CI issuer's OIDC provider has no condition on the `aud` claim",
    ["iam-json", "terraform", "terraform-plan", "cloudformation"],
    true
);

impl Rule for TrustMissingAud {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let audiences = custom_audiences(ctx);
        // Providers for GitHub whose client ids are exactly the STS audience: STS itself then
        // rejects tokens for other audiences, so the missing condition is only a note.
        let providers: Vec<_> = ctx
            .models
            .iter()
            .flat_map(|m| &m.providers)
            .filter(|p| {
                p.url
                    .as_ref()
                    .and_then(|u| u.value.known())
                    .is_some_and(|u| {
                        is_github_issuer(u.trim_start_matches("https://").trim_end_matches('/'))
                    })
            })
            .collect();
        let sts_only = !providers.is_empty()
            && providers.iter().all(|p| {
                p.client_ids.as_ref().is_some_and(|ids| {
                    !ids.is_empty()
                        && ids.iter().all(|i| {
                            matches!(
                                i.value.known().as_deref(),
                                Some("sts.amazonaws.com") | Some("sts.amazonaws.com.cn")
                            )
                        })
                })
            });
        for t in ctx.ci_trusts() {
            if !t.can_admit() || t.claim_conditions("aud").next().is_some() {
                continue;
            }
            if !t.ci.is_github() {
                other_issuer(ctx, t, out);
                continue;
            }
            let s = t.statement;
            let span = t
                .principal
                .map(|p| p.span)
                .or(s.principal_span)
                .unwrap_or(s.span);
            let audience = if t.china() {
                "sts.amazonaws.com.cn"
            } else {
                "sts.amazonaws.com"
            };
            let key = format!("{}:aud", t.issuer);
            let src = ctx.file(t.policy.file);
            // Prefer adding the key to an existing StringEquals block, then a new operator in
            // the Condition block, then a new Condition block.
            let existing = s
                .conditions
                .iter()
                .find(|c| c.operator.value == "StringEquals" && c.operator_block.is_some());
            let edit = if let Some(c) = existing {
                insert_entry(
                    src,
                    c.operator_block.as_ref().unwrap(),
                    &key,
                    &NewValue::Str(audience.into()),
                )
            } else if let Some(cb) = &s.condition_block {
                insert_entry(
                    src,
                    cb,
                    "StringEquals",
                    &NewValue::Map(vec![(key.clone(), NewValue::Str(audience.into()))]),
                )
            } else if let Some(sb) = &s.statement_block {
                insert_entry(
                    src,
                    sb,
                    "Condition",
                    &NewValue::Map(vec![(
                        "StringEquals".into(),
                        NewValue::Map(vec![(key.clone(), NewValue::Str(audience.into()))]),
                    )]),
                )
            } else {
                None
            };
            let custom = audiences.iter().any(|a| a != audience);
            let shown =
                super::snippet::condition(ctx, t.policy.file, s, "StringEquals", &key, audience);
            let fix = edit.map(|e| Fix {
                description: format!("add `{shown}`"),
                // A workflow asking for another audience would be locked out by this edit.
                safe: !custom,
                edits: vec![e],
            });
            let severity = if sts_only {
                Severity::Note
            } else {
                META.severity
            };
            let mut message = format!(
                "trust policy of {} does not check the token audience (`{key}`)",
                t.policy.owner
            );
            if sts_only {
                message.push_str("; the provider in this scan only accepts `sts.amazonaws.com`, so STS already rejects other audiences");
            }
            out.push(
                Finding::new(META.id, severity, t.policy.file, span)
                    .message(message)
                    .label("GitHub's OIDC provider is trusted here without an `aud` condition")
                    .help(format!(
                        "add `{shown}` so tokens minted for other audiences cannot be replayed to AWS"
                    ))
                    .fix(fix),
            );
        }
    }
}

/// An issuer other than GitHub, by its audience facts.
fn other_issuer(ctx: &Ctx<'_>, t: &CiTrust<'_>, out: &mut Vec<Finding>) {
    let ci = &t.ci;
    // The scan's providers for this issuer: when each accepts exactly one client id, STS
    // already rejects tokens minted for any other audience.
    let providers: Vec<_> = ctx
        .models
        .iter()
        .flat_map(|m| &m.providers)
        .filter(|p| {
            p.url
                .as_ref()
                .and_then(|u| u.value.known())
                .is_some_and(|u| {
                    u.trim_start_matches("https://")
                        .trim_end_matches('/')
                        .eq_ignore_ascii_case(&t.issuer)
                })
        })
        .collect();
    let one_client_id = !providers.is_empty()
        && providers
            .iter()
            .all(|p| p.client_ids.as_ref().is_some_and(|ids| ids.len() == 1));
    let (audience, note): (Option<&str>, Option<String>) = match &ci.audience {
        Audience::Default(a) => (Some(a), None),
        Audience::Custom(a) => (Some(a.as_str()), None),
        Audience::OrganizationId => (
            None,
            Some("CircleCI's tokens carry the organization id as `aud`, which is the provider's client id, so STS already rejects other audiences".to_string()),
        ),
        Audience::Workspace => (None, None),
        Audience::Configured => (None, None),
    };
    let note = note.or_else(|| {
        one_client_id.then(|| {
            "the provider in this scan accepts one client id, so STS already rejects other audiences".to_string()
        })
    });
    let severity = if note.is_some() {
        Severity::Note
    } else {
        META.severity
    };
    let key = format!("{}:aud", t.issuer);
    let expected = match (&ci.audience, audience) {
        (_, Some(a)) => format!("`{a}`"),
        (Audience::Workspace, _) => {
            "the workspace's `ari:cloud:bitbucket::workspace/UUID` (shown in the repository's OpenID Connect settings)".to_string()
        }
        (Audience::Configured, _) => "the `aud` the job sets in `id_tokens`".to_string(),
        _ => "the organization id".to_string(),
    };
    let mut message = format!(
        "trust policy of {} does not check the token audience (`{key}`); {} tokens for AWS carry {expected}",
        t.policy.owner, ci.name
    );
    if let Some(n) = &note {
        message.push_str("; ");
        message.push_str(n);
    }
    let s = t.statement;
    let span = t
        .principal
        .map(|p| p.span)
        .or(s.principal_span)
        .unwrap_or(s.span);
    // The edit only where the audience is a documented default; never safe (a workspace may
    // request another audience).
    let fix = audience.and_then(|a| {
        let src = ctx.file(t.policy.file);
        let existing = s
            .conditions
            .iter()
            .find(|c| c.operator.value == "StringEquals" && c.operator_block.is_some());
        let edit = if let Some(c) = existing {
            insert_entry(
                src,
                c.operator_block.as_ref()?,
                &key,
                &NewValue::Str(a.into()),
            )
        } else if let Some(cb) = &s.condition_block {
            insert_entry(
                src,
                cb,
                "StringEquals",
                &NewValue::Map(vec![(key.clone(), NewValue::Str(a.into()))]),
            )
        } else {
            None
        };
        edit.map(|e| Fix {
            description: format!("add `\"StringEquals\": {{\"{key}\": \"{a}\"}}`"),
            safe: false,
            edits: vec![e],
        })
    });
    out.push(
        Finding::new(META.id, severity, t.policy.file, span)
            .message(message)
            .label(format!(
                "{} is trusted here without an `aud` condition",
                t.provider_words()
            ))
            .help(format!(
                "add `\"StringEquals\": {{\"{key}\": …}}` with {expected}, so tokens minted for other audiences cannot be replayed to AWS{}",
                ci.docs_ref()
            ))
            .fix(fix),
    );
}
