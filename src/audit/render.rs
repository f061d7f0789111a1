//! The audit as a terminal table (at most 100 columns), Markdown (a pull-request comment) and
//! CSV. Every string from a report goes through the sanitiser: table cells `inline`, patches
//! `block`, Markdown cells escaped for where they stand, CSV fields quoted and defused.

use super::{Audit, JobAudit, RepoAudit};
use crate::report::sanitize::{
    block, guard_lines, html, inline, markdown_code, markdown_fence, markdown_text, to_json_pretty,
    truncate,
};
use std::fmt::Write;

/// The terminal width the table is made for.
pub const WIDTH: usize = 100;
/// Above this many repositories the table lists jobs only (the patches are in the other formats).
const PATCHES_UP_TO: usize = 5;

fn counts(m: &std::collections::BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(k, v)| format!("{} {v}", inline(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` sanitised, in at most `w` characters.
fn fit(s: &str, w: usize) -> String {
    let s = inline(s);
    if s.chars().count() <= w {
        return s.into_owned();
    }
    truncate(&s, w.saturating_sub(1).max(1)).into_owned()
}

fn role_cell(j: &JobAudit) -> String {
    match (&j.role.name, &j.migration) {
        (Some(n), _) => n.clone(),
        (None, Some(m)) if m.reuse.is_some() => format!("(reuse) {}", m.role_name),
        (None, Some(m)) => format!("(new) {}", m.role_name),
        (None, None) => "-".into(),
    }
}

fn repo_title(r: &RepoAudit) -> String {
    match &r.repository {
        Some(id) => format!("{} ({})", r.path, id),
        None => format!("{} (repository unknown: pass --repo OWNER/REPO)", r.path),
    }
}

fn summary_lines(a: &Audit) -> Vec<String> {
    let s = &a.summary;
    let mut out = vec![
        format!(
            "oidc-lint audit: {} repositories, {} jobs reach a cloud",
            s.repositories, s.jobs
        ),
        format!("  access:   {}", counts(&s.by_access)),
        format!("  verdicts: {}", counts(&s.verdicts)),
        format!(
            "  migration: {} static-key jobs can reuse an existing OIDC role, {} need a new one",
            s.reuse_proposals, s.new_role_proposals
        ),
    ];
    if !s.roles_by_account.is_empty() {
        out.push("  roles by account:".into());
        for (acct, roles) in &s.roles_by_account {
            out.push(format!(
                "    {:<12}  {} role(s): {}",
                inline(acct),
                roles.len(),
                roles
                    .iter()
                    .map(|r| inline(r).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if !s.widest_trusts.is_empty() {
        out.push("  widest trusts (score: the check's findings on the trust):".into());
        for w in &s.widest_trusts {
            out.push(format!(
                "    {:>3}  {} {} in {}: {}",
                w.score,
                inline(&w.repository),
                inline(&w.role),
                inline(&w.defined_in),
                w.findings
                    .iter()
                    .map(|f| inline(f).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out.into_iter().map(|l| fit(&l, WIDTH)).collect()
}

pub fn table(a: &Audit) -> String {
    let mut out = String::new();
    for l in summary_lines(a) {
        out.push_str(&l);
        out.push('\n');
    }
    // column caps: 2 + 38 + 1 + 11 + 1 + 28 + 1 + 18 = 100
    const CAPS: [usize; 4] = [38, 11, 28, 18];
    let head = ["JOB", "ACCESS", "ROLE", "VERDICT"];
    let patches = a.repositories.len() <= PATCHES_UP_TO;
    for r in &a.repositories {
        let _ = writeln!(out, "\n{}", fit(&repo_title(r), WIDTH));
        if r.jobs.is_empty() {
            out.push_str("  no job reaches AWS\n");
            continue;
        }
        let rows: Vec<[String; 4]> = r
            .jobs
            .iter()
            .map(|j| {
                let cells = [
                    format!("{} {}:{}", j.job, j.workflow, j.line),
                    j.access.clone(),
                    role_cell(j),
                    j.verdict.clone(),
                ];
                let mut out: [String; 4] = Default::default();
                for (i, c) in cells.iter().enumerate() {
                    out[i] = fit(c, CAPS[i]);
                }
                out
            })
            .collect();
        let mut w = head.map(|h| h.len());
        for row in &rows {
            for (i, c) in row.iter().enumerate() {
                w[i] = w[i].max(c.chars().count()).min(CAPS[i]);
            }
        }
        let line = |cells: [&str; 4]| {
            let mut l = String::from(" ");
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(l, " {:<width$}", c, width = w[i]);
            }
            l.trim_end().to_string() + "\n"
        };
        out.push_str(&line(head));
        for row in &rows {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
        }
        for j in &r.jobs {
            if let Some(note) = &j.role.note {
                let _ = writeln!(
                    out,
                    "{}",
                    fit(&format!("  {} {}: {}", j.workflow, j.job, note), WIDTH)
                );
            }
        }
        if !patches {
            let n = r.jobs.iter().filter(|j| j.migration.is_some()).count();
            if n > 0 {
                let _ = writeln!(
                    out,
                    "  {n} migration(s): patches and trust policies in --format json, markdown or html"
                );
            }
            continue;
        }
        let mut printed = std::collections::BTreeSet::new();
        for j in &r.jobs {
            let Some(m) = &j.migration else { continue };
            let patch = if printed.insert(j.workflow.clone()) {
                block(&m.workflow_patch).into_owned()
            } else {
                "  (the workflow change is in the patch above)\n".to_string()
            };
            let what = match &m.reuse {
                Some(r) => format!(
                    "the existing role `{}` ({}); add to its trust",
                    inline(&m.role_name),
                    inline(&r.defined_in)
                ),
                None => format!("a new role `{}`; its trust", inline(&m.role_name)),
            };
            let _ = write!(
                out,
                "\n  Migrate {} job `{}` to {}\n\n{}\n  Trust policy (IAM JSON; substitute ${{AWS_ACCOUNT_ID}}):\n{}\n\n  Terraform:\n{}",
                inline(&j.workflow),
                inline(&j.job),
                what,
                patch,
                to_json_pretty(&m.trust_policy),
                block(&m.terraform)
            );
        }
    }
    guard_lines(&out).into_owned()
}

/// GitHub's limit on a comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// What the Markdown report fills before it truncates (room for the closing note).
const MARKDOWN_BUDGET: usize = 60_000;

fn repo_markdown(r: &RepoAudit) -> String {
    let mut out = String::new();
    let static_keys = r.jobs.iter().filter(|j| j.migration.is_some()).count();
    let _ = write!(
        out,
        "\n<details><summary><b>{}</b> — {} job(s), {} with static keys</summary>\n\n",
        html(r.repository.as_deref().unwrap_or(&r.path)),
        r.jobs.len(),
        static_keys
    );
    if r.jobs.is_empty() {
        out.push_str("No job reaches AWS.\n\n</details>\n");
        return out;
    }
    out.push_str(
        "| workflow | job | access | role | subjects | verdict |\n|---|---|---|---|---|---|\n",
    );
    for j in &r.jobs {
        let role = match (&j.role.name, &j.migration) {
            (Some(n), _) => markdown_code(n),
            (None, Some(m)) if m.reuse.is_some() => {
                format!("(reuse) {}", markdown_code(&m.role_name))
            }
            (None, Some(m)) => format!("(new) {}", markdown_code(&m.role_name)),
            (None, None) => "\\-".into(),
        };
        let subs = j
            .subjects
            .iter()
            .map(|s| markdown_code(s))
            .collect::<Vec<_>>()
            .join("<br>");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | **{}** |",
            markdown_code(&format!("{}:{}", j.workflow, j.line)),
            markdown_code(&j.job),
            markdown_text(&j.access),
            role,
            subs,
            markdown_text(&j.verdict)
        );
    }
    let mut printed = std::collections::BTreeSet::new();
    for j in &r.jobs {
        let Some(m) = &j.migration else { continue };
        let patch = if printed.insert(j.workflow.clone()) {
            m.workflow_patch.clone()
        } else {
            "# the workflow change is in the patch above\n".to_string()
        };
        let what = match &m.reuse {
            Some(r) => format!(
                "the existing role <code>{}</code> ({})",
                html(&m.role_name),
                html(&r.defined_in)
            ),
            None => format!("a new role <code>{}</code>", html(&m.role_name)),
        };
        let _ = write!(
            out,
            "\n<details><summary>Migrate <code>{}</code> job <code>{}</code> to {}</summary>\n\n{}\nTrust policy (substitute `${{AWS_ACCOUNT_ID}}`):\n\n{}\n{}\n</details>\n",
            html(&j.workflow),
            html(&j.job),
            what,
            markdown_fence("diff", &patch),
            markdown_fence("json", &to_json_pretty(&m.trust_policy)),
            markdown_fence("hcl", &m.terraform),
        );
    }
    out.push_str("\n</details>\n");
    out
}

pub fn markdown(a: &Audit) -> String {
    let s = &a.summary;
    let mut out = String::from("## oidc-lint audit\n\n");
    let _ = writeln!(
        out,
        "**{}** repositories, **{}** jobs reach a cloud.\n\n- access: {}\n- verdicts: {}\n- migration: {} static-key jobs can reuse an existing OIDC role, {} need a new one",
        s.repositories,
        s.jobs,
        markdown_text(&counts(&s.by_access)),
        markdown_text(&counts(&s.verdicts)),
        s.reuse_proposals,
        s.new_role_proposals
    );
    if !s.roles_by_account.is_empty() {
        out.push_str("\n| account | roles |\n|---|---|\n");
        for (i, (acct, roles)) in s.roles_by_account.iter().enumerate() {
            if i == 20 {
                let _ = writeln!(
                    out,
                    "| … | {} more accounts |",
                    s.roles_by_account.len() - 20
                );
                break;
            }
            let shown: Vec<String> = roles.iter().take(10).map(|r| markdown_code(r)).collect();
            let more = roles.len().saturating_sub(10);
            let _ = writeln!(
                out,
                "| {} | {}{} |",
                markdown_code(acct),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    if !s.widest_trusts.is_empty() {
        out.push_str("\n**Widest trusts**\n\n| score | repository | role | defined in | findings |\n|---|---|---|---|---|\n");
        for w in &s.widest_trusts {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                w.score,
                markdown_text(&w.repository),
                markdown_code(&w.role),
                markdown_code(&w.defined_in),
                w.findings
                    .iter()
                    .map(|f| markdown_code(f))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
    let mut left = (0usize, 0usize);
    for (i, r) in a.repositories.iter().enumerate() {
        let section = repo_markdown(r);
        if out.chars().count() + section.chars().count() > MARKDOWN_BUDGET {
            let rest = &a.repositories[i..];
            left = (rest.len(), rest.iter().map(|r| r.jobs.len()).sum());
            break;
        }
        out.push_str(&section);
    }
    if left.0 > 0 {
        let _ = writeln!(
            out,
            "\n_{} more repositories ({} jobs) not shown: the comment limit is {} characters; `--format json` or `--format html` has everything._",
            left.0, left.1, COMMENT_LIMIT
        );
    }
    guard_lines(&out).into_owned()
}

/// One CSV field: sanitised, defused against spreadsheet formulas, always quoted (RFC 4180).
fn csv_field(s: &str) -> String {
    let s = inline(s);
    let lead = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        "'"
    } else {
        ""
    };
    format!("\"{lead}{}\"", s.replace('"', "\"\""))
}

pub fn csv(a: &Audit) -> String {
    let mut out = String::from(
        "repository,path,workflow,line,job,access,role,role_defined_in,account,verdict,edge,subjects,proposed_role,reuses_existing_role\r\n",
    );
    for r in &a.repositories {
        for j in &r.jobs {
            let fields = [
                r.repository.clone().unwrap_or_default(),
                r.path.clone(),
                j.workflow.clone(),
                j.line.to_string(),
                j.job.clone(),
                j.access.clone(),
                j.role.name.clone().unwrap_or_default(),
                j.role.defined_in.clone().unwrap_or_default(),
                j.role.account.clone().unwrap_or_default(),
                j.verdict.clone(),
                j.edge.clone(),
                j.subjects.join(" "),
                j.migration
                    .as_ref()
                    .map(|m| m.role_name.clone())
                    .unwrap_or_default(),
                j.migration
                    .as_ref()
                    .map(|m| m.reuse.is_some().to_string())
                    .unwrap_or_default(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out
}
