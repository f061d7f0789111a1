//! The rules: one file per rule, the registry, and the [`RuleSet`] a run uses. A rule sees the
//! model and the `analysis` views through [`Ctx`].

pub mod ctx;
pub mod narrow;

pub use ctx::Ctx;

mod azure_fic_subject_mismatch;
mod azure_fic_wrong_issuer_or_audience;
mod gcp_sa_basic_role;
mod gcp_wif_binding_unreachable;
mod gcp_wif_invalid_condition;
mod gcp_wif_invalid_principal;
mod gcp_wif_missing_condition;
mod gcp_wif_name_based_identity;
mod gcp_wif_pool_wide_binding;
mod gcp_wif_subject_too_coarse;
mod hardcoded_aws_key;
mod iac_access_key;
mod perm_admin_access;
mod perm_assume_any_role;
mod perm_ecr_auth_token_scoped;
mod perm_ecr_push_incomplete;
mod perm_ecr_wildcard_resource;
mod perm_passrole_wildcard;
mod perm_role_self_modification;
mod provider_missing_audience;
mod provider_url_invalid;
mod role_audience_mismatch;
mod role_trust_admits_untrusted_events;
mod role_trust_rejects_job;
mod role_trust_wider_than_use;
mod snippet;
mod trust_aud_mismatch;
mod trust_duplicate_key;
mod trust_fail_open_operator;
mod trust_issuer_mismatch;
mod trust_missing_aud;
mod trust_missing_sub;
mod trust_principal_wildcard;
mod trust_stringequals_wildcard;
mod trust_sub_admits_pull_request;
mod trust_sub_any_repo;
mod trust_sub_never_matches;
mod trust_sub_org_wide;
mod trust_sub_prefix_collision;
mod trust_sub_repo_wide;
mod trust_sub_untrusted_owner;
mod trust_unanchored_custom_sub;
mod trust_wrong_action;
mod workflow_action_branch_pin;
mod workflow_deprecated_action;
mod workflow_id_token_too_broad;
mod workflow_long_lived_keys;
mod workflow_missing_id_token;
mod workflow_oidc_untrusted_trigger;
mod workflow_role_not_arn;

use crate::diag::{Finding, Severity};

/// Static description of a rule.
pub struct RuleMeta {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Input kinds the rule looks at.
    pub applies_to: &'static [&'static str],
    /// Whether the rule can offer an automatic fix.
    pub fixable: bool,
    /// `rules/<id>.md`, embedded.
    pub doc: &'static str,
    /// A built-in rule, whose page is published with each release ([`doc_url`]); custom rules
    /// have none.
    pub builtin: bool,
}

/// Where the rule pages of this version live: `rules/` of the release's tag in the repository
/// (`Cargo.toml`'s `repository`), which every release has (`release.yml` runs on the tag push).
pub const DOCS_BASE: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/v",
    env!("CARGO_PKG_VERSION"),
    "/rules/"
);

/// The documentation page of a built-in rule, for the version that runs: SARIF `helpUri`,
/// the link under each finding in human output, an editor's `codeDescription.href`.
pub fn doc_url(m: &RuleMeta) -> Option<String> {
    m.builtin.then(|| format!("{DOCS_BASE}{}.md", m.id))
}

/// The candidate closest to `word` (a mistyped rule id, key or subcommand), when it is close
/// enough to be what was meant: Jaro–Winkler similarity of at least 0.8, as clap and cargo use.
/// The work is bounded whatever `word` is (it may come from a scanned repository's
/// configuration): a candidate is compared only when `word` is at most twice its length.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| word.len() <= 2 * c.len())
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// `; did you mean `X`?` when a candidate is close to `word`, else nothing.
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map_or(String::new(), |c| format!("; did you mean `{c}`?"))
}

/// A rule: its metadata, and a check that reads the model through `ctx` (which dereferences
/// to the [`crate::model::Scan`] and adds the shared cross-file views) and pushes findings.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>);
    /// Whether every finding of the rule depends only on the file it is in (that file's text
    /// and model) and the settings. After an edit the engine then keeps the rule's findings in
    /// the files that did not change and asks it only about those that did: such a rule skips
    /// the files outside [`Ctx::in_focus`]. (A rule that reads any other file must say `false`.)
    fn per_file(&self) -> bool {
        false
    }
}

/// Every built-in rule, in id order.
pub fn registry() -> Vec<&'static dyn Rule> {
    let mut rules: Vec<&'static dyn Rule> = vec![
        &trust_sub_prefix_collision::RULE,
        &trust_sub_repo_wide::RULE,
        &trust_sub_untrusted_owner::RULE,
        &trust_sub_admits_pull_request::RULE,
        &trust_stringequals_wildcard::RULE,
        &trust_fail_open_operator::RULE,
        &trust_aud_mismatch::RULE,
        &trust_wrong_action::RULE,
        &trust_principal_wildcard::RULE,
        &trust_issuer_mismatch::RULE,
        &trust_sub_never_matches::RULE,
        &trust_unanchored_custom_sub::RULE,
        &trust_duplicate_key::RULE,
        &hardcoded_aws_key::RULE,
        &iac_access_key::RULE,
        &provider_missing_audience::RULE,
        &provider_url_invalid::RULE,
        &role_audience_mismatch::RULE,
        &role_trust_admits_untrusted_events::RULE,
        &role_trust_rejects_job::RULE,
        &role_trust_wider_than_use::RULE,
        &trust_missing_aud::RULE,
        &trust_missing_sub::RULE,
        &trust_sub_any_repo::RULE,
        &trust_sub_org_wide::RULE,
        &workflow_long_lived_keys::RULE,
        &workflow_missing_id_token::RULE,
        &perm_admin_access::RULE,
        &perm_assume_any_role::RULE,
        &perm_ecr_auth_token_scoped::RULE,
        &perm_ecr_push_incomplete::RULE,
        &perm_ecr_wildcard_resource::RULE,
        &perm_passrole_wildcard::RULE,
        &perm_role_self_modification::RULE,
        &workflow_action_branch_pin::RULE,
        &workflow_deprecated_action::RULE,
        &workflow_id_token_too_broad::RULE,
        &workflow_oidc_untrusted_trigger::RULE,
        &workflow_role_not_arn::RULE,
        &azure_fic_subject_mismatch::RULE,
        &azure_fic_wrong_issuer_or_audience::RULE,
        &gcp_sa_basic_role::RULE,
        &gcp_wif_binding_unreachable::RULE,
        &gcp_wif_invalid_condition::RULE,
        &gcp_wif_invalid_principal::RULE,
        &gcp_wif_missing_condition::RULE,
        &gcp_wif_name_based_identity::RULE,
        &gcp_wif_pool_wide_binding::RULE,
        &gcp_wif_subject_too_coarse::RULE,
    ];
    rules.sort_by_key(|r| r.meta().id);
    rules
}

/// The built-in rule with this id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    registry().into_iter().find(|r| r.meta().id == id)
}

/// The rules one run uses: the built-ins plus any loaded custom rules, in id order. A value,
/// not process state: a language server builds one per workspace and builds it again when the
/// workspace's custom rules change.
#[derive(Clone)]
pub struct RuleSet {
    rules: Vec<std::sync::Arc<dyn Rule>>,
}

/// A built-in rule (a `static`) as a member of a [`RuleSet`].
struct Builtin(&'static dyn Rule);

impl Rule for Builtin {
    fn meta(&self) -> &'static RuleMeta {
        self.0.meta()
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        self.0.check(ctx, out)
    }
    fn per_file(&self) -> bool {
        self.0.per_file()
    }
}

impl RuleSet {
    /// Every built-in rule ([`registry`]).
    pub fn builtin() -> Self {
        RuleSet {
            rules: registry()
                .into_iter()
                .map(|r| std::sync::Arc::new(Builtin(r)) as std::sync::Arc<dyn Rule>)
                .collect(),
        }
    }
    /// This set plus `extra` (custom rules), kept in id order.
    pub fn with(mut self, extra: impl IntoIterator<Item = std::sync::Arc<dyn Rule>>) -> Self {
        self.rules.extend(extra);
        self.rules.sort_by_key(|r| r.meta().id);
        self
    }
    pub fn iter(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|r| &**r)
    }
    pub fn find(&self, id: &str) -> Option<&dyn Rule> {
        self.iter().find(|r| r.meta().id == id)
    }
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet::builtin()
    }
}

/// Declare a rule's metadata with its doc embedded from `rules/<id>.md`.
#[macro_export]
macro_rules! rule_meta {
    ($id:literal, $sev:ident, $summary:literal, [$($fmt:literal),*], $fixable:literal) => {
        $crate::rules::RuleMeta {
            id: $id,
            severity: $crate::diag::Severity::$sev,
            summary: $summary,
            applies_to: &[$($fmt),*],
            fixable: $fixable,
            doc: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $id, ".md")),
            builtin: true,
        }
    };
}

/// The rules that judge every CI issuer's trusts and roles (the issuer registry,
/// `analysis::issuers`); the other issuer-bound rules know GitHub only.
const EVERY_ISSUER: &[&str] = &[
    "trust-missing-sub",
    "trust-sub-any-repo",
    "trust-sub-org-wide",
    "trust-missing-aud",
    "trust-wrong-action",
    "trust-fail-open-operator",
    "trust-stringequals-wildcard",
    "trust-sub-never-matches",
    "perm-admin-access",
    "perm-assume-any-role",
    "perm-ecr-auth-token-scoped",
    "perm-ecr-push-incomplete",
    "perm-ecr-wildcard-resource",
    "perm-passrole-wildcard",
    "perm-role-self-modification",
];

/// Rules about IAM documents or keys whatever trusts them: no issuer of their own.
const NO_ISSUER: &[&str] = &[
    "trust-duplicate-key",
    "trust-principal-wildcard",
    "hardcoded-aws-key",
    "iac-access-key",
];

/// The CI issuers a built-in rule covers, by registry id (`github`, `hcp-terraform`, …,
/// `custom` for the configuration's `[[issuers]]`); empty for a rule bound to no issuer (and
/// for custom rules).
pub fn issuers_of(id: &str) -> Vec<String> {
    if EVERY_ISSUER.contains(&id) {
        let mut v: Vec<String> = crate::analysis::issuers::builtin()
            .iter()
            .map(|i| i.id.clone())
            .collect();
        v.push("custom".into());
        v
    } else if NO_ISSUER.contains(&id) || !registry().iter().any(|r| r.meta().id == id) {
        vec![]
    } else {
        vec!["github".into()]
    }
}

/// `oidc-lint rules`: one line per built-in rule (id, severity, fix, inputs, summary, and the
/// CI issuers it covers).
pub fn plain_table() -> String {
    let mut out = String::new();
    for r in registry() {
        let m = r.meta();
        let issuers = issuers_of(m.id);
        let issuers = if issuers.is_empty() {
            String::new()
        } else {
            format!(" [issuers: {}]", issuers.join(", "))
        };
        out.push_str(&format!(
            "{:<36} {:<8} {:<4} {:<52} {}{issuers}\n",
            m.id,
            m.severity.as_str(),
            if m.fixable { "fix" } else { "-" },
            m.applies_to.join(","),
            m.summary
        ));
    }
    out
}

/// The README's rule table, generated from the registry (a test keeps the README in sync).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| id | severity | fix | inputs | what it finds |\n|---|---|---|---|---|\n");
    for r in registry() {
        let m = r.meta();
        out.push_str(&format!(
            "| [`{}`](rules/{}.md) | {} | {} | {} | {} |\n",
            m.id,
            m.id,
            m.severity.as_str(),
            if m.fixable { "yes" } else { "" },
            m.applies_to.join(", "),
            m.summary.replace('|', "\\|")
        ));
    }
    out
}

/// The formats of `oidc-lint rules`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ListFormat {
    /// One line per rule.
    #[default]
    Human,
    /// One object per rule (id, severity, fixable, inputs, issuers, summary, url).
    Json,
    /// The README's Markdown table.
    Markdown,
}

/// `oidc-lint rules`: the built-in rules as `format` says; JSON lists all of `metas`.
pub fn list(format: ListFormat, metas: &[&RuleMeta]) -> String {
    match format {
        ListFormat::Human => plain_table(),
        ListFormat::Json => json_list(metas),
        ListFormat::Markdown => markdown_table(),
    }
}

/// `oidc-lint rules --format json`: one object per rule of `metas` (id, severity, fixable,
/// inputs, summary, url), in id order.
pub fn json_list(metas: &[&RuleMeta]) -> String {
    let rules: Vec<serde_json::Value> = metas
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "severity": m.severity.as_str(),
                "fixable": m.fixable,
                "applies_to": m.applies_to,
                "issuers": issuers_of(m.id),
                "summary": m.summary,
                "url": doc_url(m),
            })
        })
        .collect();
    let mut s = crate::source::sanitize::to_json_pretty(&rules);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_its_issuers() {
        let ids: Vec<&str> = registry().iter().map(|r| r.meta().id).collect();
        for id in EVERY_ISSUER.iter().chain(NO_ISSUER) {
            assert!(ids.contains(id), "{id} is not a rule");
        }
        assert_eq!(issuers_of("trust-missing-sub").len(), 7);
        assert_eq!(issuers_of("trust-sub-prefix-collision"), ["github"]);
        assert!(issuers_of("trust-duplicate-key").is_empty());
        assert!(issuers_of("no-such-rule").is_empty());
        assert!(plain_table().contains(
            "[issuers: github, gitlab, hcp-terraform, circleci, buildkite, bitbucket, custom]"
        ));
        assert!(json_list(&[registry()[0].meta()]).contains("\"issuers\""));
    }

    #[test]
    fn did_you_mean_picks_the_closest_close_candidate() {
        let ids = [
            "trust-missing-sub",
            "trust-missing-aud",
            "trust-sub-any-repo",
        ];
        assert_eq!(
            did_you_mean("trust-mising-sub", ids),
            Some("trust-missing-sub")
        );
        assert_eq!(
            did_you_mean("trust-missing-au", ids),
            Some("trust-missing-aud")
        );
        assert_eq!(did_you_mean("zzz", ids), None);
        // equal scores: the first in id order, whatever the candidates' order
        assert_eq!(
            did_you_mean("ab", ["ac", "aa"]),
            did_you_mean("ab", ["aa", "ac"])
        );
        // a word far longer than every candidate is not compared at all
        assert_eq!(did_you_mean(&"trust-missing-sub".repeat(3), ids), None);
        assert_eq!(
            suggestion("trust-mising-sub", ids),
            "; did you mean `trust-missing-sub`?"
        );
        assert_eq!(suggestion("zzz", ids), "");
    }
}
