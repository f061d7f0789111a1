use super::{Ctx, Rule, RuleMeta};
use crate::diag::{Edit, Finding, Fix};
use crate::model::Step;
use crate::source::Span;

pub struct WorkflowDeprecatedAction;
pub static RULE: WorkflowDeprecatedAction = WorkflowDeprecatedAction;
static META: RuleMeta = crate::rule_meta!(
    "workflow-deprecated-action",
    Warning,
    "A major version of configure-aws-credentials or amazon-ecr-login that runs on a Node runtime GitHub has retired",
    ["workflow", "action"],
    true
);

/// The runtime of a release line, from each tag's `action.yml` (`runs.using`).
/// `None`: current, or not known (branches, commit SHAs: never guessed).
fn retired_runtime(action: &str, reference: &str) -> Option<&'static str> {
    let r = reference.trim();
    let major = r.strip_prefix('v')?;
    let (num, rest) = match major.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&major[..i], &major[i..]),
        None => (major, ""),
    };
    let n: u32 = num.parse().ok()?;
    // `v1`, `v4.0.2`, `v1-node16`; anything else (`v4-beta`) is not judged.
    let node16_tag = rest == "-node16";
    if !(rest.is_empty() || rest.starts_with('.') || node16_tag) {
        return None;
    }
    if rest.starts_with('.')
        && !rest[1..]
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    match action {
        "aws-actions/configure-aws-credentials" => match n {
            1 if node16_tag => Some("Node 16"),
            1 => Some("Node 16 or older"),
            2 | 3 => Some("Node 16"),
            4 | 5 => Some("Node 20"),
            _ => None,
        },
        "aws-actions/amazon-ecr-login" => match n {
            1 => Some("Node 16"),
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

/// The version in a `# vX.Y.Z` comment after a 40-hex-digit commit reference.
fn sha_comment(ctx: &Ctx<'_>, file: usize, uses: &crate::model::Spanned<String>) -> Option<String> {
    let (_, reference) = uses.value.split_once('@')?;
    let r = reference.trim();
    if r.len() != 40 || !r.chars().all(|c| c.is_ascii_hexdigit()) {
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
    let version = comment.split_whitespace().next()?;
    version.starts_with('v').then(|| version.to_string())
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
    if let Some(c) = comment {
        out.push(
            Finding::new(META.id, crate::diag::Severity::Note, file, uses.span)
                .message(format!(
                    "{job} pins `{action}` to a commit annotated `# {c}`, a release line that runs on {runtime}, which GitHub has retired"
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
    let why = if runtime == "Node 20" {
        "Node 20 reached end of life in April 2026 and GitHub's runners now run such actions on Node 24"
    } else {
        "GitHub retired that runtime and forces such actions onto a newer Node, with deprecation warnings"
    };
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
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for m in &ctx.models {
            for w in &m.workflows {
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
        assert_eq!(retired_runtime(CAC, "v1"), Some("Node 16 or older"));
        assert_eq!(retired_runtime(CAC, "v1-node16"), Some("Node 16"));
        assert_eq!(retired_runtime(CAC, "v3.0.2"), Some("Node 16"));
        assert_eq!(retired_runtime(CAC, "v4"), Some("Node 20"));
        assert_eq!(retired_runtime(CAC, "v5.1.0"), Some("Node 20"));
        assert_eq!(retired_runtime(CAC, "v6"), None);
        assert_eq!(retired_runtime(CAC, "v6.2.3"), None);
        assert_eq!(retired_runtime(CAC, "main"), None);
        assert_eq!(retired_runtime(CAC, "v4-beta"), None);
        assert_eq!(retired_runtime(CAC, "v4."), None);
        assert_eq!(retired_runtime(ECR, "v1.7.1"), Some("Node 16"));
        assert_eq!(retired_runtime(ECR, "v2"), None);
        assert_eq!(retired_runtime("actions/checkout", "v2"), None);
    }
}
