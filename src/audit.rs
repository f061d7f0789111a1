//! `oidc-lint audit [PATH]`: a migration inventory. For every job that reaches AWS: how
//! (static keys, an OIDC role, or another way), the role and whether its trust admits the job,
//! the subjects it presents, and for each static-key job the exact change to migrate — a
//! workflow patch and a least-privilege trust policy (IAM JSON and Terraform) for the
//! subjects that job presents.

use crate::analysis::eval::{Tri, Val};
use crate::analysis::subjects::{
    self, Access, Assumption, DEFAULT_AUDIENCE, RoleAnalysis, RoleTarget,
};
use crate::model::Settings;
use crate::scan::{ScanOptions, scan};
use clap::ValueEnum;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// A repository checkout, or a directory of checkouts.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format (a table on a terminal).
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// `OWNER/REPO` of the repository (else read from its `origin` remote).
    #[arg(long)]
    pub repo: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Serialize, Debug)]
pub struct Audit {
    pub repositories: Vec<RepoAudit>,
}

#[derive(Serialize, Debug)]
pub struct RepoAudit {
    pub path: String,
    /// `OWNER/REPO`, when known.
    pub repository: Option<String>,
    pub jobs: Vec<JobAudit>,
}

#[derive(Serialize, Debug)]
pub struct JobAudit {
    pub workflow: String,
    pub job: String,
    pub line: u32,
    /// `oidc` or `static-keys`.
    pub access: &'static str,
    pub role: RoleAudit,
    pub audience: Option<String>,
    pub subjects: Vec<String>,
    /// `admitted`, `partly-admitted`, `rejected`, `audience-rejected`, `unknown`,
    /// `role-not-in-scan`, `role-unresolved`, `static-keys`.
    pub verdict: &'static str,
    pub migration: Option<Migration>,
}

#[derive(Serialize, Debug)]
pub struct RoleAudit {
    /// `role-to-assume` as written.
    pub reference: Option<String>,
    pub name: Option<String>,
    /// Where the role (or its trust policy) is defined in the scan.
    pub defined_in: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct Migration {
    pub role_name: String,
    /// Unified diff of the workflow.
    pub workflow_patch: String,
    /// The trust policy as IAM JSON (`${AWS_ACCOUNT_ID}` to be substituted, e.g. by envsubst).
    pub trust_policy: serde_json::Value,
    pub terraform: String,
}

/// The repositories under `path`: itself when it is a checkout (or has workflows), else its
/// subdirectories that are.
pub fn repositories(path: &Path) -> Vec<PathBuf> {
    let is_repo = |p: &Path| p.join(".git").exists() || p.join(".github").is_dir();
    if is_repo(path) {
        return vec![path.to_path_buf()];
    }
    let mut subs: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir() && is_repo(p))
                .collect()
        })
        .unwrap_or_default();
    subs.sort();
    if subs.is_empty() {
        vec![path.to_path_buf()]
    } else {
        subs
    }
}

pub fn audit(path: &Path, repo: Option<&str>) -> Audit {
    let mut out = Vec::new();
    let dirs = repositories(path);
    let single = dirs.len() == 1;
    for dir in dirs {
        let opts = ScanOptions {
            root: dir.clone(),
            paths: vec![dir.clone()],
            max_file_size: 10 * 1024 * 1024,
            settings: Settings {
                repo: if single {
                    repo.map(str::to_string)
                } else {
                    None
                },
                ..Default::default()
            },
        };
        let s = scan(&opts);
        let an = subjects::analyze(&s);
        let providers = subjects::providers(&s);
        let judged = an.judge(&s);
        let mut edits: std::collections::BTreeMap<usize, Edits> = Default::default();
        let mut jobs: Vec<JobAudit> = an
            .assumptions
            .iter()
            .zip(&judged)
            .map(|(a, judged)| {
                let (j, e) = job_audit(&s, &an, &providers, a, judged.as_ref());
                edits.entry(a.file).or_default().extend(e);
                j
            })
            .collect();
        // one patch per workflow file, holding every job's change
        for (file, e) in edits {
            if e.is_empty() {
                continue;
            }
            let src = s.file(file);
            let patch = patch_for(&src.rel, &src.text, e);
            for j in jobs.iter_mut().filter(|j| j.workflow == src.rel) {
                if let Some(m) = &mut j.migration {
                    m.workflow_patch = patch.clone();
                }
            }
        }
        out.push(RepoAudit {
            path: dir.display().to_string(),
            repository: an.repo.clone(),
            jobs,
        });
    }
    Audit { repositories: out }
}

fn job_audit(
    scan: &crate::model::Scan,
    an: &RoleAnalysis,
    providers: &[&crate::model::OidcProvider],
    a: &Assumption,
    judged: Option<&subjects::Judgement>,
) -> (JobAudit, Edits) {
    let mut edits = Vec::new();
    let src = scan.file(a.file);
    let line = src.pos(a.step.span.start).line;
    let mut role = RoleAudit {
        reference: a.role_text.clone(),
        name: None,
        defined_in: None,
        note: None,
    };
    let mut subjects_out = Vec::new();
    let verdict;
    let mut migration = None;
    match &a.access {
        Access::StaticKeys(_) => {
            verdict = "static-keys";
            let repo = an
                .repo
                .clone()
                .map(Val::lit)
                .unwrap_or_else(|| Val::lit("OWNER/REPO"));
            let subs: Vec<Val> = a.subjects.iter().map(|s| s.sub(&repo)).collect();
            subjects_out = subs.iter().map(|s| s.pattern()).collect();
            let (m, e) = migrate(scan, an, a, &subs);
            migration = Some(m);
            edits = e;
        }
        Access::Oidc => {
            if let RoleTarget::Name(n) = &a.target {
                role.name = Some(n.clone());
            }
            let found = match &a.target {
                RoleTarget::Name(n) => an.roles_named(n),
                RoleTarget::Unresolved(why) => {
                    role.note = Some(why.clone());
                    vec![]
                }
            };
            match (found.as_slice(), &a.target) {
                (_, RoleTarget::Unresolved(_)) => verdict = "role-unresolved",
                ([], _) => {
                    role.note = Some("no role of this name is defined in the scan".into());
                    verdict = "role-not-in-scan";
                }
                ([r], _) => {
                    role.defined_in = Some(scan.file(r.file).rel.clone());
                    // One OIDC role with a known trust policy: the analysis judged it.
                    match judged {
                        None => {
                            role.note = Some("its trust policy is not known statically".into());
                            verdict = "unknown";
                        }
                        Some(j) => {
                            subjects_out = a
                                .subjects
                                .iter()
                                .map(|s| s.sub(&j.repo).pattern())
                                .collect();
                            if j.audience_rejection.is_some()
                                || a.audience.as_deref().is_some_and(|x| {
                                    subjects::provider_rejection(providers, j.trust, x).is_some()
                                })
                            {
                                verdict = "audience-rejected";
                            } else {
                                let r = &j.admits;
                                verdict = if r.is_empty() {
                                    "unknown"
                                } else if r.iter().all(|t| *t == Tri::True) {
                                    "admitted"
                                } else if r.iter().all(|t| *t == Tri::False) {
                                    "rejected"
                                } else if r.contains(&Tri::True) {
                                    "partly-admitted"
                                } else {
                                    "unknown"
                                };
                            }
                        }
                    }
                }
                (many, _) => {
                    role.defined_in = Some(
                        many.iter()
                            .map(|r| scan.file(r.file).rel.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                    role.note = Some("several roles of this name are defined in the scan".into());
                    verdict = "unknown";
                }
            }
            if subjects_out.is_empty() {
                let repo = an
                    .repo
                    .clone()
                    .map(Val::lit)
                    .unwrap_or_else(|| Val::lit("OWNER/REPO"));
                subjects_out = a.subjects.iter().map(|s| s.sub(&repo).pattern()).collect();
            }
        }
    }
    subjects_out.dedup();
    let job = JobAudit {
        workflow: src.rel.clone(),
        job: a.job.id.value.clone(),
        line,
        access: match a.access {
            Access::Oidc => "oidc",
            Access::StaticKeys(_) => "static-keys",
        },
        role,
        audience: a.audience.clone(),
        subjects: subjects_out,
        verdict,
        migration,
    };
    (job, edits)
}

// ---------------------------------------------------------------------------------------------
// Migration

fn role_name_for(repo: Option<&str>, job: &str) -> String {
    let base = match repo.and_then(|r| r.split('/').nth(1)) {
        Some(name) => format!("github-{name}-{job}"),
        None => format!("github-actions-{job}"),
    };
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    clean.chars().take(64).collect()
}

/// Byte range of the whole line holding `offset` (newline included).
fn line_range(text: &str, offset: usize) -> (usize, usize) {
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..]
        .find('\n')
        .map(|i| offset + i + 1)
        .unwrap_or(text.len());
    (start, end)
}

fn indent_of(text: &str, offset: usize) -> String {
    let (start, _) = line_range(text, offset);
    text[start..].chars().take_while(|c| *c == ' ').collect()
}

type Edits = Vec<(usize, usize, String)>;

fn migrate(
    scan: &crate::model::Scan,
    an: &RoleAnalysis,
    a: &Assumption,
    subs: &[Val],
) -> (Migration, Edits) {
    let role_name = role_name_for(an.repo.as_deref(), &a.job.id.value);
    let arn = format!("arn:aws:iam::${{{{ vars.AWS_ACCOUNT_ID }}}}:role/{role_name}");
    let src = scan.file(a.file);
    let text = &src.text;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let key_span = match a.access {
        Access::StaticKeys(s) => s,
        Access::Oidc => a.role_span,
    };
    let step = a.step;
    if step.is_configure_aws_credentials() && step.input("aws-access-key-id").is_some() {
        // replace the key id input with role-to-assume, drop the secret
        let (ls, le) = line_range(text, key_span.start as usize);
        let ind = indent_of(text, key_span.start as usize);
        edits.push((ls, le, format!("{ind}role-to-assume: {arn}\n")));
        for k in ["aws-secret-access-key", "aws-session-token"] {
            if let Some(kv) = step.input(k) {
                let (s, e) = line_range(text, kv.key_span.start as usize);
                edits.push((s, e, String::new()));
            }
        }
    } else {
        // keys in `env`: drop them, and configure credentials in a first step
        let mut envs: Vec<&crate::model::KeyValue> = Vec::new();
        for kvs in [&step.env, &a.job.env, &a.workflow.env] {
            envs.extend(
                kvs.iter().filter(|kv| {
                    kv.key == "AWS_ACCESS_KEY_ID" || kv.key == "AWS_SECRET_ACCESS_KEY"
                }),
            );
        }
        for kv in envs {
            let (s, e) = line_range(text, kv.key_span.start as usize);
            edits.push((s, e, String::new()));
        }
        if let Some(first) = a.job.steps.first() {
            let (ls, _) = line_range(text, first.span.start as usize);
            let col = first.span.start as usize - ls;
            let dash = " ".repeat(col.saturating_sub(2));
            let body = " ".repeat(col);
            let region = [&step.env, &a.job.env, &a.workflow.env]
                .iter()
                .find_map(|kvs| {
                    kvs.iter()
                        .find(|kv| kv.key == "AWS_REGION" || kv.key == "AWS_DEFAULT_REGION")
                        .map(|kv| kv.value.value.clone())
                })
                .unwrap_or_else(|| "${{ vars.AWS_REGION }}".into());
            edits.push((
                ls,
                ls,
                format!(
                    "{dash}- uses: aws-actions/configure-aws-credentials@v6\n{body}with:\n{body}  role-to-assume: {arn}\n{body}  aws-region: {region}\n"
                ),
            ));
        }
    }
    // permissions: the job needs `id-token: write`
    let perms = a.workflow.effective_permissions(a.job);
    let has_id_token = perms.is_some_and(|p| p.id_token() == crate::model::IdToken::Write);
    if !has_id_token {
        match &a.job.permissions {
            Some(p) if matches!(p.spec, crate::model::PermSpec::Map(ref m) if !m.is_empty()) => {
                let crate::model::PermSpec::Map(scopes) = &p.spec else {
                    unreachable!()
                };
                if let Some((_, v)) = scopes.iter().find(|(k, _)| k == "id-token") {
                    edits.push((v.span.start as usize, v.span.end as usize, "write".into()));
                } else {
                    let first = &scopes[0].1;
                    let (ls, _) = line_range(text, first.span.start as usize);
                    let ind = indent_of(text, first.span.start as usize);
                    edits.push((ls, ls, format!("{ind}id-token: write\n")));
                }
            }
            _ => {
                // a job-level block replaces the workflow's: keep its scopes
                let mut scopes: Vec<(String, String)> =
                    match a.workflow.permissions.as_ref().map(|p| &p.spec) {
                        Some(crate::model::PermSpec::Map(m)) => m
                            .iter()
                            .filter(|(k, _)| k != "id-token")
                            .map(|(k, v)| (k.clone(), v.value.clone()))
                            .collect(),
                        _ => vec![("contents".into(), "read".into())],
                    };
                scopes.push(("id-token".into(), "write".into()));
                if let Some(old) = &a.job.permissions {
                    let (s, e) = line_range(text, old.key_span.start as usize);
                    let (_, e2) =
                        line_range(text, (old.span.end as usize).max(e).saturating_sub(1));
                    edits.push((s, e2.max(e), String::new()));
                }
                let (ls, le) = line_range(text, a.job.id.span.start as usize);
                let ind = indent_of(text, a.job.id.span.start as usize) + "  ";
                let mut block = format!("{ind}permissions:\n");
                for (k, v) in scopes {
                    block.push_str(&format!("{ind}  {k}: {v}\n"));
                }
                let _ = ls;
                edits.push((le, le, block));
            }
        }
    }
    let (trust_policy, terraform) = trust_documents(&role_name, subs);
    (
        Migration {
            role_name,
            workflow_patch: String::new(),
            trust_policy,
            terraform,
        },
        edits,
    )
}

/// Apply edits (sorted, overlapping ones dropped) and render a unified diff.
fn patch_for(rel: &str, text: &str, mut edits: Edits) -> String {
    edits.sort_by_key(|e| (e.0, e.1));
    edits.dedup();
    let mut patched = String::new();
    let mut at = 0;
    for (s, e, r) in &edits {
        if *s < at {
            continue;
        }
        patched.push_str(&text[at..*s]);
        patched.push_str(r);
        at = *e;
    }
    patched.push_str(&text[at..]);
    diffy::create_patch(text, &patched)
        .to_string()
        .replacen("--- original", &format!("--- a/{rel}"), 1)
        .replacen("+++ modified", &format!("+++ b/{rel}"), 1)
}

const ISSUER: &str = crate::analysis::trust::DEFAULT_ISSUER;

/// The least-privilege trust policy for these subjects (exact when every subject is known,
/// else `StringLike` with the unknown parts as `*`).
pub fn trust_documents(role_name: &str, subs: &[Val]) -> (serde_json::Value, String) {
    let mut values: Vec<String> = subs.iter().map(|s| s.pattern()).collect();
    values.sort();
    values.dedup();
    // drop values another (wildcard) value already admits
    let all = values.clone();
    values.retain(|v| {
        !all.iter()
            .any(|w| w != v && w.contains('*') && crate::model::glob_match(w, v))
    });
    let like = subs.iter().any(|s| s.known().is_none());
    let op = if like { "StringLike" } else { "StringEquals" };
    let sub_key = format!("{ISSUER}:sub");
    let aud_key = format!("{ISSUER}:aud");
    let sub_json = if values.len() == 1 {
        serde_json::Value::from(values[0].clone())
    } else {
        serde_json::Value::from(values.clone())
    };
    let mut cond = serde_json::Map::new();
    if like {
        cond.insert(
            "StringEquals".into(),
            serde_json::json!({ aud_key.clone(): DEFAULT_AUDIENCE }),
        );
        cond.insert(
            "StringLike".into(),
            serde_json::json!({ sub_key.clone(): sub_json }),
        );
    } else {
        cond.insert(
            "StringEquals".into(),
            serde_json::json!({ aud_key.clone(): DEFAULT_AUDIENCE, sub_key.clone(): sub_json }),
        );
    }
    let json = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::${{AWS_ACCOUNT_ID}}:oidc-provider/{ISSUER}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": cond,
        }]
    });
    let ident: String = role_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hcl_list = values
        .iter()
        .map(|v| {
            format!(
                "\"{}\"",
                v.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace("${", "$${")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sub_line = format!("          \"{sub_key}\" = [{hcl_list}]\n");
    let conditions = if like {
        format!(
            "        StringEquals = {{\n          \"{aud_key}\" = \"{DEFAULT_AUDIENCE}\"\n        }}\n        StringLike = {{\n{sub_line}        }}\n"
        )
    } else {
        format!(
            "        StringEquals = {{\n          \"{aud_key}\" = \"{DEFAULT_AUDIENCE}\"\n{sub_line}        }}\n"
        )
    };
    let _ = op;
    let tf = format!(
        "data \"aws_iam_openid_connect_provider\" \"github\" {{\n  url = \"https://{ISSUER}\"\n}}\n\nresource \"aws_iam_role\" \"{ident}\" {{\n  name = \"{role_name}\"\n  assume_role_policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{\n      Effect    = \"Allow\"\n      Principal = {{ Federated = data.aws_iam_openid_connect_provider.github.arn }}\n      Action    = \"sts:AssumeRoleWithWebIdentity\"\n      Condition = {{\n{conditions}      }}\n    }}]\n  }})\n}}\n"
    );
    (json, tf)
}

// ---------------------------------------------------------------------------------------------
// Output

// Every string from the scanned repositories goes through `report::sanitize`: table cells
// `inline`, patches and generated files `block`, JSON through the byte-safe formatter, and the
// Markdown report escapes each value for where it stands (text, code span, raw HTML, fence).

fn table(a: &Audit) -> String {
    use crate::report::sanitize::{block, inline, to_json_pretty};
    let mut out = String::new();
    for r in &a.repositories {
        out.push_str(&format!(
            "{} ({})\n",
            inline(&r.path),
            inline(
                r.repository
                    .as_deref()
                    .unwrap_or("repository unknown: pass --repo OWNER/REPO")
            )
        ));
        if r.jobs.is_empty() {
            out.push_str("  no job reaches AWS\n\n");
            continue;
        }
        let rows: Vec<[String; 5]> = r
            .jobs
            .iter()
            .map(|j| {
                [
                    format!("{}:{} {}", inline(&j.workflow), j.line, inline(&j.job)),
                    j.access.to_string(),
                    inline(
                        &j.role
                            .name
                            .clone()
                            .or_else(|| {
                                j.migration
                                    .as_ref()
                                    .map(|m| format!("(new) {}", m.role_name))
                            })
                            .unwrap_or_else(|| "-".into()),
                    )
                    .into_owned(),
                    j.subjects
                        .iter()
                        .map(|s| inline(s).into_owned())
                        .collect::<Vec<_>>()
                        .join(" "),
                    j.verdict.to_string(),
                ]
            })
            .collect();
        let head = ["JOB", "ACCESS", "ROLE", "SUBJECTS", "VERDICT"];
        let mut w = head.map(|h| h.len());
        for row in &rows {
            for (i, c) in row.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            let mut l = String::from(" ");
            for (i, c) in cells.iter().enumerate() {
                l.push_str(&format!(" {:<width$}", c, width = w[i]));
            }
            l.trim_end().to_string() + "\n"
        };
        out.push_str(&line(head));
        for row in &rows {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        }
        for j in &r.jobs {
            if let Some(note) = &j.role.note {
                out.push_str(&format!(
                    "  {} {}: {}\n",
                    inline(&j.workflow),
                    inline(&j.job),
                    inline(note)
                ));
            }
        }
        let mut printed = std::collections::BTreeSet::new();
        for j in &r.jobs {
            let Some(m) = &j.migration else { continue };
            let patch = if printed.insert(j.workflow.clone()) {
                block(&m.workflow_patch).into_owned()
            } else {
                "  (the workflow change is in the patch above)\n".to_string()
            };
            out.push_str(&format!(
                "\n  Migrate {} job `{}` to role `{}`:\n\n{}\n  Trust policy (IAM JSON; substitute ${{AWS_ACCOUNT_ID}}):\n{}\n\n  Terraform:\n{}",
                inline(&j.workflow),
                inline(&j.job),
                inline(&m.role_name),
                patch,
                to_json_pretty(&m.trust_policy),
                block(&m.terraform)
            ));
        }
        out.push('\n');
    }
    crate::report::sanitize::guard_lines(&out).into_owned()
}

fn markdown(a: &Audit) -> String {
    use crate::report::sanitize::{
        html, markdown_code, markdown_fence, markdown_text, to_json_pretty,
    };
    let mut out = String::from("# oidc-lint audit\n");
    for r in &a.repositories {
        out.push_str(&format!(
            "\n## {}\n\n",
            markdown_text(r.repository.as_deref().unwrap_or(&r.path))
        ));
        if r.jobs.is_empty() {
            out.push_str("No job reaches AWS.\n");
            continue;
        }
        out.push_str(
            "| workflow | job | access | role | subjects | verdict |\n|---|---|---|---|---|---|\n",
        );
        for j in &r.jobs {
            let role = match (&j.role.name, &j.migration) {
                (Some(n), _) => markdown_text(n),
                (None, Some(m)) => format!("(new) {}", markdown_text(&m.role_name)),
                (None, None) => "-".into(),
            };
            let subs = j
                .subjects
                .iter()
                .map(|s| markdown_code(s))
                .collect::<Vec<_>>()
                .join("<br>");
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | **{}** |\n",
                markdown_code(&format!("{}:{}", j.workflow, j.line)),
                markdown_code(&j.job),
                j.access,
                role,
                subs,
                j.verdict
            ));
        }
        let mut printed = std::collections::BTreeSet::new();
        for j in &r.jobs {
            let Some(m) = &j.migration else { continue };
            let patch = if printed.insert(j.workflow.clone()) {
                m.workflow_patch.clone()
            } else {
                "# the workflow change is in the patch above\n".to_string()
            };
            out.push_str(&format!(
                "\n<details><summary>Migrate <code>{}</code> job <code>{}</code> to role <code>{}</code></summary>\n\n{}\nTrust policy (substitute `${{AWS_ACCOUNT_ID}}`):\n\n{}\n{}\n</details>\n",
                html(&j.workflow),
                html(&j.job),
                html(&m.role_name),
                markdown_fence("diff", &patch),
                markdown_fence("json", &to_json_pretty(&m.trust_policy)),
                markdown_fence("hcl", &m.terraform),
            ));
        }
    }
    crate::report::sanitize::guard_lines(&out).into_owned()
}

/// The inventory of `args.path` in the chosen format; `Err` when the path does not exist.
pub fn run(args: AuditArgs) -> Result<String, String> {
    if !args.path.exists() {
        return Err(format!("{} does not exist", args.path.display()));
    }
    let a = audit(&args.path, args.repo.as_deref());
    let text = match args.format {
        AuditFormat::Json => crate::report::sanitize::to_json_pretty(&a) + "\n",
        AuditFormat::Markdown => markdown(&a),
        AuditFormat::Table => {
            let _ = std::io::stdout().is_terminal();
            table(&a)
        }
    };
    Ok(text)
}
