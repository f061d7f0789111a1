use super::{Ctx, Rule, RuleMeta};
use crate::diag::{Edit, Finding, Fix};
use crate::model::Step;
use crate::source::Span;

pub struct WorkflowDeprecatedAction;
pub static RULE: WorkflowDeprecatedAction = WorkflowDeprecatedAction;
static META: RuleMeta = crate::rule_meta!(
    "workflow-deprecated-action",
    Warning,
    "A release of configure-aws-credentials or amazon-ecr-login that runs on a Node runtime GitHub has retired",
    ["workflow", "action"],
    true
);

/// The actions this rule (and `workflow-action-branch-pin`) judge: AWS's own actions that
/// handle the job's credentials.
pub(super) const AWS_ACTIONS: [&str; 2] = [
    "aws-actions/configure-aws-credentials",
    "aws-actions/amazon-ecr-login",
];

/// A release reference: `v4`, `v4.0.2`, `4.0.2`, `v1-node16` — the version's numbers and whether
/// it is the `-node16` line. Anything else (`v4-beta`, `main`, a SHA) is `None`.
pub(super) fn release(reference: &str) -> Option<(Vec<u32>, bool)> {
    let r = reference.trim();
    let r = r.strip_prefix('v').unwrap_or(r);
    let (nums, node16) = match r.strip_suffix("-node16") {
        Some(n) => (n, true),
        None => (r, false),
    };
    let parts = nums
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.len() <= 9 && p.bytes().all(|c| c.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<Vec<u32>>>()?;
    (parts.len() <= 3 && !(node16 && parts.len() > 1)).then_some((parts, node16))
}

/// A full commit SHA (GitHub resolves no shorter form in `uses:`).
pub(super) fn is_sha(reference: &str) -> bool {
    let r = reference.trim();
    r.len() == 40 && r.bytes().all(|c| c.is_ascii_hexdigit())
}

/// The runtime of a release, from each tag's `action.yml` (`runs.using`), checked against the
/// actions' tags: configure-aws-credentials `v1`..`v1.7.0` node12, `v1-node16`, `v2`, `v3`
/// node16, `v4`, `v5` node20, `v6` node24; amazon-ecr-login `v1.0.0`..`v1.5.1` node12,
/// `v1.5.2`..`v1.7.1` (and `v1`) node16, `v2.0.0` node16, `v2.0.1` node20, `v2.0.2` on (and
/// `v2`) node24. A partial version (`v1`, `v2.0`) is its latest release, as its moving tag is.
/// `None`: current, or not known (branches, commit SHAs: never guessed).
fn retired_runtime(action: &str, reference: &str) -> Option<&'static str> {
    let (v, node16) = release(reference)?;
    // missing parts are the latest release of that line
    let at = |i: usize| v.get(i).copied().unwrap_or(u32::MAX);
    let (major, minor, patch) = (at(0), at(1), at(2));
    match action {
        "aws-actions/configure-aws-credentials" => match major {
            1 if node16 => Some("Node 16"),
            1 => Some("Node 12"),
            2 | 3 => Some("Node 16"),
            4 | 5 => Some("Node 20"),
            _ => None,
        },
        "aws-actions/amazon-ecr-login" if !node16 => match (major, minor, patch) {
            (1, m, p) if (m, p) < (5, 2) => Some("Node 12"),
            (1, ..) => Some("Node 16"),
            (2, 0, 0) => Some("Node 16"),
            (2, 0, 1) => Some("Node 20"),
            _ => None,
        },
        _ => None,
    }
}

fn current(action: &str) -> &'static str {
    if action == "aws-actions/amazon-ecr-login" {
        "v2"
    } else {
        "v6"
    }
}

/// Span of the `@ref` text inside the `uses` value (quotes excluded).
fn ref_span(ctx: &Ctx<'_>, file: usize, uses: &crate::model::Spanned<String>) -> Option<Span> {
    let text = ctx.file(file).slice(uses.span);
    let at = text.find('@')?;
    let reference = text[at + 1..].trim_end_matches(['"', '\'']).trim_end();
    let start = uses.span.start as usize + at + 1;
    Some(Span::new(start, start + reference.len()))
}

/// The version in the comment after a commit SHA, in the forms Dependabot, Renovate, Ratchet
/// and people write: `# v4.0.2`, `# 4.0.2`, `# tag=v4.0.2`, `# pin @v4`,
/// `# ratchet:owner/repo@v4`. The first word that names a release, as `v…`.
fn sha_comment(ctx: &Ctx<'_>, file: usize, uses: &crate::model::Spanned<String>) -> Option<String> {
    let (_, reference) = uses.value.split_once('@')?;
    if !is_sha(reference) {
        return None;
    }
    let src = ctx.file(file);
    let end = uses.span.end as usize;
    // To the end of the line (found in O(log n): a one-line workflow may hold many steps).
    let line = src.text.get(end..src.line_end(end).max(end))?;
    let comment = line
        .trim_start_matches(['"', '\''])
        .trim_start()
        .strip_prefix('#')?;
    comment.split_whitespace().find_map(|word| {
        let v = word.rsplit(['@', '=']).next().unwrap_or(word);
        let v = v.trim_end_matches([',', ';', ')']);
        release(v).map(|_| {
            if v.starts_with('v') {
                v.to_string()
            } else {
                format!("v{v}")
            }
        })
    })
}

fn check_step(ctx: &Ctx<'_>, file: usize, job: &str, step: &Step, out: &mut Vec<Finding>) {
    let (Some(action), Some(uses)) = (step.action(), step.uses.as_ref()) else {
        return;
    };
    let Some((_, reference)) = uses.value.split_once('@') else {
        return;
    };
    let (runtime, comment) = match retired_runtime(&action, reference) {
        Some(r) => (r, None),
        None => {
            // A commit SHA is judged only through the version comment beside it
            // (`@<sha> # v3.0.2`, as Dependabot and Renovate write it), and only as a note.
            let Some(c) = sha_comment(ctx, file, uses) else {
                return;
            };
            let Some(r) = retired_runtime(&action, &c) else {
                return;
            };
            (r, Some(c))
        }
    };
    let target = current(&action);
    let why = if runtime == "Node 20" {
        "Node 20 reached end of life in April 2026 and GitHub's runners now run such actions on Node 24"
    } else {
        "GitHub retired that runtime and forces such actions onto a newer Node, with deprecation warnings"
    };
    if let Some(c) = comment {
        // the same severity as a tag: the pin form does not change the runtime
        out.push(
            Finding::new(META.id, META.severity, file, uses.span)
                .message(format!(
                    "{job} pins `{action}` to a commit annotated `{c}`, a release that runs on {runtime}: {why}"
                ))
                .label(format!("`{c}` runs on {runtime}"))
                .help(format!(
                    "pin the commit of the latest `{target}` release (with its `# {target}.x.y` comment); majors change defaults, so read the release notes"
                )),
        );
        return;
    }
    let span = ref_span(ctx, file, uses).unwrap_or(uses.span);
    let fix = ref_span(ctx, file, uses).map(|s| Fix {
        description: format!("bump `{action}` from `{}` to `{target}` (read the release notes: majors change defaults)", reference.trim()),
        safe: false,
        edits: vec![Edit {
            file,
            span: s,
            replacement: target.to_string(),
        }],
    });
    out.push(
        Finding::new(META.id, META.severity, file, span)
            .message(format!(
                "{job} uses `{action}@{}`, which runs on {runtime}: {why}",
                reference.trim()
            ))
            .label(format!("runs on {runtime}"))
            .help(format!(
                "use `{action}@{target}` (ideally pinned to its commit SHA with a `# {target}` comment); majors change defaults, so read the release notes"
            ))
            .fix(fix),
    );
}

impl Rule for WorkflowDeprecatedAction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn per_file(&self) -> bool {
        true
    }
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for w in m.workflows.iter().filter(|w| ctx.in_focus(w.file)) {
                for job in &w.jobs {
                    let name = match w.kind {
                        crate::model::WorkflowKind::Workflow => format!("job `{}`", job.id.value),
                        crate::model::WorkflowKind::Action => "the composite action".to_string(),
                    };
                    for step in &job.steps {
                        check_step(ctx, w.file, &name, step, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retired_runtime;
    const CAC: &str = "aws-actions/configure-aws-credentials";
    const ECR: &str = "aws-actions/amazon-ecr-login";

    #[test]
    fn runtimes() {
        assert_eq!(retired_runtime(CAC, "v1"), Some("Node 12"));
        assert_eq!(retired_runtime(CAC, "v1.7.0"), Some("Node 12"));
        assert_eq!(retired_runtime(CAC, "v1-node16"), Some("Node 16"));
        assert_eq!(retired_runtime(CAC, "v3.0.2"), Some("Node 16"));
        assert_eq!(retired_runtime(CAC, "v4"), Some("Node 20"));
        assert_eq!(retired_runtime(CAC, "4.0.2"), Some("Node 20"));
        assert_eq!(retired_runtime(CAC, "v5.1.0"), Some("Node 20"));
        assert_eq!(retired_runtime(CAC, "v6"), None);
        assert_eq!(retired_runtime(CAC, "v6.2.3"), None);
        assert_eq!(retired_runtime(CAC, "6.2.2"), None);
        assert_eq!(retired_runtime(CAC, "main"), None);
        assert_eq!(retired_runtime(CAC, "v4-beta"), None);
        assert_eq!(retired_runtime(CAC, "v4."), None);
        assert_eq!(retired_runtime(CAC, "v4.0.2-node16"), None);
        assert_eq!(retired_runtime(ECR, "v1.5.1"), Some("Node 12"));
        assert_eq!(retired_runtime(ECR, "v1.5.2"), Some("Node 16"));
        assert_eq!(retired_runtime(ECR, "v1.7.1"), Some("Node 16"));
        assert_eq!(retired_runtime(ECR, "v1"), Some("Node 16"));
        assert_eq!(retired_runtime(ECR, "v2.0.0"), Some("Node 16"));
        assert_eq!(retired_runtime(ECR, "v2.0.1"), Some("Node 20"));
        assert_eq!(retired_runtime(ECR, "v2.0.2"), None);
        assert_eq!(retired_runtime(ECR, "v2.0"), None);
        assert_eq!(retired_runtime(ECR, "v2"), None);
        assert_eq!(retired_runtime("actions/checkout", "v2"), None);
    }
}
