//! The audit as one self-contained HTML page: the summary, a trust graph drawn as inline SVG
//! (jobs → roles → accounts, edges coloured by verdict), one table per repository, every patch
//! and trust policy with a copy button, and a filter. No network: a Content-Security-Policy
//! forbids every fetch, and the page holds its only style and script inline. Every string from
//! the report is HTML-escaped (`sanitize::html`); the script reads nothing but the page.

use super::{Audit, JobAudit};
use crate::report::sanitize::{html, to_json_pretty};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The graph draws at most this many jobs (the tables below list them all).
const GRAPH_JOBS: usize = 300;

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:4px 0 12px}h2{font-size:18px;margin:20px 0 8px}
table{border-collapse:collapse;margin:8px 0;width:100%}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow:auto;max-height:360px;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}
.v-admitted{color:#1a7f37}.v-rejected,.v-audience-rejected{color:#cf222e}.v-too-wide,.v-partly-admitted{color:#9a6700}
.v-unknown,.v-role-not-in-scan,.v-role-unresolved{color:#57606a}.v-static-keys{color:#8250df}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:22px;height:4px;vertical-align:middle;margin-right:4px}
#graph{border:1px solid #d0d7de;overflow:auto;max-height:720px}svg text{font:11px system-ui,sans-serif;fill:#1f2328}
.node rect{stroke:#57606a;stroke-width:1}.job rect{fill:#ddf4ff}.role rect{fill:#fff8c5}.account rect{fill:#ffebe9}
.edge{fill:none;stroke-width:1.6;opacity:.85}.e-admitted{stroke:#1a7f37}.e-rejected{stroke:#cf222e}.e-too-wide{stroke:#d4a72c}
.e-unknown{stroke:#8c959f}.e-proposed{stroke-dasharray:5 3}.e-account{stroke:#8c959f;stroke-width:1}
.bar{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #d0d7de;z-index:1}
input,select,button{font:inherit}button.copy{float:right;font-size:12px}.hidden{display:none}
details{margin:4px 0}summary{cursor:pointer}
"#;

const SCRIPT: &str = r#"
(function(){
  var q=document.getElementById('filter'),v=document.getElementById('verdict');
  function apply(){
    var t=q.value.toLowerCase(),want=v.value;
    document.querySelectorAll('section.repo').forEach(function(s){
      var shown=0;
      s.querySelectorAll('tr.job').forEach(function(r){
        var ok=(!t||r.textContent.toLowerCase().indexOf(t)>=0||s.dataset.name.toLowerCase().indexOf(t)>=0)&&(!want||r.dataset.verdict===want||r.dataset.edge===want);
        r.classList.toggle('hidden',!ok);if(ok)shown++;
      });
      var empty=s.querySelectorAll('tr.job').length===0;
      s.classList.toggle('hidden',!(shown>0||(empty&&!want&&(!t||s.dataset.name.toLowerCase().indexOf(t)>=0))));
    });
    document.querySelectorAll('#graph .edge[data-job]').forEach(function(e){
      var n=document.getElementById(e.dataset.job),lab=n?n.textContent.toLowerCase():'';
      var ok=(!t||lab.indexOf(t)>=0)&&(!want||e.dataset.verdict===want||e.dataset.edge===want);
      e.style.opacity=ok?'':'0.08';
    });
    document.getElementById('shown').textContent=document.querySelectorAll('tr.job:not(.hidden)').length;
  }
  q.addEventListener('input',apply);v.addEventListener('change',apply);
  document.querySelectorAll('button.copy').forEach(function(b){
    b.addEventListener('click',function(){
      var text=document.getElementById(b.dataset.target).textContent;
      function done(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},1200);}
      if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(text).then(done,function(){fallback(text);done();});}
      else{fallback(text);done();}
    });
  });
  function fallback(text){var a=document.createElement('textarea');a.value=text;document.body.appendChild(a);a.select();try{document.execCommand('copy');}catch(e){}a.remove();}
  apply();
})();
"#;

fn cls(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn role_label(j: &JobAudit) -> Option<(String, bool)> {
    match (&j.role.name, &j.migration) {
        (Some(n), _) => Some((n.clone(), false)),
        (None, Some(m)) if m.reuse.is_some() => Some((m.role_name.clone(), false)),
        (None, Some(m)) => Some((format!("(new) {}", m.role_name), true)),
        _ => None,
    }
}

fn clip(s: &str, n: usize) -> String {
    let s: String = s.chars().take(n + 1).collect();
    if s.chars().count() > n {
        s.chars().take(n - 1).collect::<String>() + "…"
    } else {
        s
    }
}

/// The trust graph: jobs (left) → roles (middle) → accounts (right).
fn graph(a: &Audit) -> String {
    struct Edge {
        from: usize,
        to: usize,
        verdict: String,
        edge: String,
        proposed: bool,
    }
    let mut jobs: Vec<String> = Vec::new();
    let mut roles: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut accounts: BTreeMap<String, usize> = BTreeMap::new();
    let mut job_edges = Vec::new();
    let mut role_account: BTreeMap<usize, usize> = BTreeMap::new();
    let total: usize = a.repositories.iter().map(|r| r.jobs.len()).sum();
    // a role's account: the first literal ARN naming it (a reused role joins its node)
    let mut account_of: BTreeMap<String, String> = BTreeMap::new();
    for j in a.repositories.iter().flat_map(|r| &r.jobs) {
        if let (Some(n), Some(acct)) = (&j.role.name, &j.role.account) {
            account_of.entry(n.clone()).or_insert_with(|| acct.clone());
        }
    }
    'outer: for r in &a.repositories {
        let repo = r.repository.as_deref().unwrap_or(&r.path);
        for j in &r.jobs {
            if jobs.len() == GRAPH_JOBS {
                break 'outer;
            }
            let Some((role, proposed)) = role_label(j) else {
                jobs.push(format!("{repo} · {}", j.job));
                continue;
            };
            let acct = j
                .role
                .account
                .clone()
                .or_else(|| account_of.get(&role).cloned())
                .unwrap_or_else(|| "account unknown".into());
            let n = roles.len();
            let ri = *roles.entry((role, acct.clone())).or_insert(n);
            let n = accounts.len();
            let ai = *accounts.entry(acct).or_insert(n);
            role_account.insert(ri, ai);
            job_edges.push(Edge {
                from: jobs.len(),
                to: ri,
                verdict: j.verdict.clone(),
                edge: j.edge.clone(),
                proposed,
            });
            jobs.push(format!("{repo} · {}", j.job));
        }
    }
    // rows in insertion order for jobs; roles and accounts in first-use order
    let mut role_rows: Vec<(&(String, String), &usize)> = roles.iter().collect();
    role_rows.sort_by_key(|(_, i)| **i);
    let mut acct_rows: Vec<(&String, &usize)> = accounts.iter().collect();
    acct_rows.sort_by_key(|(_, i)| **i);
    let (row, top) = (24usize, 10usize);
    let (xj, xr, xa, wj, wr, wa) = (8usize, 380usize, 720usize, 300usize, 260usize, 170usize);
    let rows = jobs.len().max(role_rows.len()).max(acct_rows.len()).max(1);
    let height = top * 2 + rows * row;
    let y = |i: usize, n: usize| -> usize {
        // spread the shorter columns over the height
        let span = rows * row;
        if n <= 1 {
            top
        } else if n >= rows {
            top + i * row
        } else {
            top + i * (span - row) / (n - 1)
        }
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="trust-graph" width="{}" height="{}" role="img" aria-label="trust graph">"#,
        xa + wa + 8,
        height
    );
    let nj = jobs.len();
    let nr = role_rows.len();
    let na = acct_rows.len();
    for e in &job_edges {
        let (y1, y2) = (y(e.from, nj) + 9, y(e.to, nr) + 9);
        let _ = write!(
            svg,
            r#"<path class="edge e-{}{}" data-job="gj{}" data-verdict="{}" data-edge="{}" d="M{} {} C{} {} {} {} {} {}"/>"#,
            cls(&e.edge),
            if e.proposed { " e-proposed" } else { "" },
            e.from,
            html(&e.verdict),
            html(&e.edge),
            xj + wj,
            y1,
            xj + wj + 40,
            y1,
            xr - 40,
            y2,
            xr,
            y2
        );
    }
    for (ri, ai) in &role_account {
        let (y1, y2) = (y(*ri, nr) + 9, y(*ai, na) + 9);
        let _ = write!(
            svg,
            r#"<path class="edge e-account" d="M{} {} C{} {} {} {} {} {}"/>"#,
            xr + wr,
            y1,
            xr + wr + 40,
            y1,
            xa - 40,
            y2,
            xa,
            y2
        );
    }
    let node = |svg: &mut String,
                kind: &str,
                id: String,
                x: usize,
                y: usize,
                w: usize,
                label: &str| {
        let _ = write!(
            svg,
            r#"<g class="node {kind}" id="{id}"><title>{}</title><rect x="{x}" y="{y}" width="{w}" height="18" rx="3"/><text x="{}" y="{}">{}</text></g>"#,
            html(label),
            x + 4,
            y + 13,
            html(&clip(label, w / 7)),
        );
    };
    for (i, label) in jobs.iter().enumerate() {
        node(&mut svg, "job", format!("gj{i}"), xj, y(i, nj), wj, label);
    }
    for ((name, _), i) in &role_rows {
        node(&mut svg, "role", format!("gr{i}"), xr, y(**i, nr), wr, name);
    }
    for (acct, i) in &acct_rows {
        node(
            &mut svg,
            "account",
            format!("ga{i}"),
            xa,
            y(**i, na),
            wa,
            acct,
        );
    }
    svg.push_str("</svg>");
    let note = if total > nj {
        format!(
            "<p>The graph shows the first {nj} of {total} jobs; the tables below list them all.</p>"
        )
    } else {
        String::new()
    };
    format!(
        r#"<div class="legend"><span><i style="background:#1a7f37"></i>admitted</span><span><i style="background:#cf222e"></i>rejected</span><span><i style="background:#d4a72c"></i>too wide</span><span><i style="background:#8c959f"></i>unknown (dashed: proposed role)</span></div>{note}<div id="graph">{svg}</div>"#
    )
}

pub fn page(a: &Audit) -> String {
    let s = &a.summary;
    let mut out = String::new();
    out.push_str(r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"><meta name="viewport" content="width=device-width,initial-scale=1"><title>oidc-lint audit</title><style>"#);
    out.push_str(STYLE);
    out.push_str("</style></head><body><h1>oidc-lint audit</h1>");
    let card = |n: String, what: &str| format!(r#"<div class="card"><b>{n}</b>{what}</div>"#);
    out.push_str(r#"<section id="summary"><div class="cards">"#);
    out.push_str(&card(s.repositories.to_string(), "repositories"));
    out.push_str(&card(s.jobs.to_string(), "jobs reach a cloud"));
    for (k, v) in &s.by_access {
        out.push_str(&card(v.to_string(), &html(k)));
    }
    out.push_str(&card(s.reuse_proposals.to_string(), "can reuse a role"));
    out.push_str(&card(s.new_role_proposals.to_string(), "need a new role"));
    out.push_str("</div><h2>Verdicts</h2><table><tr><th>verdict</th><th>jobs</th></tr>");
    for (k, v) in &s.verdicts {
        let _ = write!(
            out,
            r#"<tr><td class="v-{}">{}</td><td>{v}</td></tr>"#,
            cls(k),
            html(k)
        );
    }
    out.push_str("</table>");
    if !s.roles_by_account.is_empty() {
        out.push_str("<h2>Roles by account</h2><table><tr><th>account</th><th>roles</th></tr>");
        for (acct, roles) in &s.roles_by_account {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                html(acct),
                roles
                    .iter()
                    .map(|r| format!("<code>{}</code>", html(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out.push_str("</table>");
    }
    if !s.widest_trusts.is_empty() {
        out.push_str("<h2>Widest trusts</h2><table><tr><th>score</th><th>repository</th><th>role</th><th>defined in</th><th>findings</th></tr>");
        for w in &s.widest_trusts {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                w.score,
                html(&w.repository),
                html(&w.role),
                html(&w.defined_in),
                w.findings
                    .iter()
                    .map(|f| format!("<code>{}</code>", html(f)))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
    out.push_str(r#"<div class="bar"><label>Filter <input id="filter" type="search" placeholder="repository, job, role, subject"></label> <label>Verdict <select id="verdict"><option value="">any</option>"#);
    let mut options: Vec<&String> = s.verdicts.keys().collect();
    for e in s.edges.keys() {
        if !options.contains(&e) {
            options.push(e);
        }
    }
    for k in options {
        let _ = write!(out, r#"<option value="{0}">{0}</option>"#, html(k));
    }
    out.push_str(r#"</select></label> <span id="shown"></span> jobs shown</div>"#);
    out.push_str(r#"<h2>Trust graph</h2>"#);
    out.push_str(&graph(a));
    out.push_str("<h2>Repositories</h2>");
    let mut block_id = 0usize;
    for r in &a.repositories {
        let name = r.repository.as_deref().unwrap_or(&r.path);
        let _ = write!(
            out,
            r#"<section class="repo" data-name="{}"><h2>{}</h2><p><code>{}</code></p>"#,
            html(&format!("{name} {}", r.path)),
            html(name),
            html(&r.path)
        );
        if r.jobs.is_empty() {
            out.push_str("<p>No job reaches AWS.</p></section>");
            continue;
        }
        out.push_str("<table><tr><th>workflow</th><th>job</th><th>access</th><th>role</th><th>subjects</th><th>verdict</th></tr>");
        for j in &r.jobs {
            let role = match (role_label(j), &j.migration) {
                (Some((n, _)), Some(m)) if m.reuse.is_some() => {
                    format!("(reuse) <code>{}</code>", html(&n))
                }
                (Some((n, _)), _) => format!("<code>{}</code>", html(&n)),
                (None, _) => "-".into(),
            };
            let note = j
                .role
                .note
                .as_deref()
                .map(|n| format!("<br><small>{}</small>", html(n)))
                .unwrap_or_default();
            let _ = write!(
                out,
                r#"<tr class="job" data-verdict="{}" data-edge="{}"><td><code>{}:{}</code></td><td><code>{}</code></td><td>{}</td><td>{role}{note}</td><td>{}</td><td class="v-{}">{}</td></tr>"#,
                html(&j.verdict),
                html(&j.edge),
                html(&j.workflow),
                j.line,
                html(&j.job),
                html(&j.access),
                j.subjects
                    .iter()
                    .map(|x| format!("<code>{}</code>", html(x)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
                cls(&j.verdict),
                html(&j.verdict)
            );
        }
        out.push_str("</table>");
        let mut printed = std::collections::BTreeSet::new();
        for j in &r.jobs {
            let Some(m) = &j.migration else { continue };
            let what = match &m.reuse {
                Some(x) => format!(
                    "the existing role <code>{}</code> ({}): add to its trust",
                    html(&m.role_name),
                    html(&x.defined_in)
                ),
                None => format!("a new role <code>{}</code>", html(&m.role_name)),
            };
            let _ = write!(
                out,
                "<details><summary>Migrate <code>{}</code> job <code>{}</code> to {what}</summary>",
                html(&j.workflow),
                html(&j.job)
            );
            let mut blocks = vec![];
            if printed.insert(j.workflow.clone()) {
                blocks.push(("Workflow patch", m.workflow_patch.clone()));
            }
            blocks.push((
                "Trust policy (IAM JSON; substitute ${AWS_ACCOUNT_ID})",
                to_json_pretty(&m.trust_policy),
            ));
            blocks.push(("Terraform", m.terraform.clone()));
            for (title, body) in blocks {
                block_id += 1;
                let _ = write!(
                    out,
                    r#"<div><b>{title}</b> <button class="copy" type="button" data-target="b{block_id}">Copy</button><pre id="b{block_id}">{}</pre></div>"#,
                    html_block(&body)
                );
            }
            out.push_str("</details>");
        }
        out.push_str("</section>");
    }
    out.push_str("<script>");
    out.push_str(SCRIPT);
    out.push_str("</script></body></html>\n");
    out
}

/// Multi-line text for a `<pre>`: sanitised as a block, then HTML-escaped line by line.
fn html_block(s: &str) -> String {
    crate::report::sanitize::block(s)
        .split('\n')
        .map(html)
        .collect::<Vec<_>>()
        .join("\n")
}
