//! `oidc-lint.toml` / `.oidc-lint.toml`: rule selection and severities, excludes, the
//! repository's identity, trusted owners, role-name mappings, path-based ignores and the fail
//! threshold. Unknown keys are errors that name the key's line.

use crate::diag::Severity;
use crate::model::Settings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const FILE_NAMES: &[&str] = &["oidc-lint.toml", ".oidc-lint.toml"];

/// Most `[[issuers]]` one configuration may describe (each is compared with every trust
/// statement's issuer; the configuration may come from the scanned repository).
pub const MAX_CUSTOM_ISSUERS: usize = 64;

/// When findings make the run fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    /// Whether a finding of this severity fails the run.
    pub fn fails(self, s: Severity) -> bool {
        match self {
            FailOn::Error => s >= Severity::Error,
            FailOn::Warning => s >= Severity::Warning,
            FailOn::Note => true,
            FailOn::Never => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Error,
    Warning,
    Note,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Severity {
        match s {
            SeverityName::Error => Severity::Error,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Note => Severity::Note,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `false` disables the rule.
    pub enabled: Option<bool>,
    /// Overrides the rule's default severity.
    pub severity: Option<SeverityName>,
}

/// Suppress findings by path (glob) and optionally by rule: the way to silence JSON files,
/// which have no comments.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    pub path: String,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `OWNER/REPO` of the scanned repository.
    pub repository: Option<String>,
    /// The repository's default branch (`main`).
    pub default_branch: Option<String>,
    /// The `sub` form the repository's tokens carry: `name` (`repo:OWNER/REPO:…`) or `id`
    /// (`repo:OWNER@OWNER_ID/REPO@REPO_ID:…`).
    pub subject_format: Option<SubjectFormatKey>,
    #[serde(default)]
    pub allowed_owners: Vec<String>,
    /// Secret or variable name → role ARN, for `role-to-assume: ${{ secrets.X }}`.
    #[serde(default)]
    pub role_mappings: BTreeMap<String, String>,
    /// The claim keys of the owner's customized OIDC subject template
    /// (`["repo", "context", "job_workflow_ref"]`), when it uses one.
    pub oidc_subject_template: Option<Vec<String>>,
    pub fail_on: Option<FailOn>,
    /// Globs (relative to the configuration file's directory or the scanned directory) whose
    /// files are not reported on.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub rules: BTreeMap<Spanned<String>, RuleConfig>,
    #[serde(default)]
    pub ignore: Vec<Spanned<IgnoreEntry>>,
    /// CI issuers beyond the built-in ones (`[[issuers]]`).
    #[serde(default)]
    pub issuers: Vec<Spanned<crate::model::CustomIssuerSpec>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectFormatKey {
    Name,
    Id,
}

/// A loaded configuration and where it came from.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub config: Config,
    /// Directory the configuration's relative globs are anchored in.
    pub dir: Option<PathBuf>,
    pub text: String,
}

/// Most worker threads per core `--threads` gets: more only cost start-up time and stack
/// reserves (`--threads 100000` would otherwise try to start 100,000 threads).
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The worker pool size for `--threads N`: 0 (or none) means all cores (rayon's `0`), and N is
/// clamped to [`MAX_THREADS_PER_CORE`] × the available cores. Output is the same for any N.
pub fn worker_threads(n: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    n.unwrap_or(0).min(MAX_THREADS_PER_CORE * cores)
}

fn line_of(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    // lines end at `\n`, `\r\n` or a lone `\r`, as everywhere else
    crate::source::lines::Lines::new(text)
        .line_cols(o as u32)
        .line as usize
        + 1
}

/// serde's message for an unknown key (`unknown field `X`, expected one of `A`, `B``) with
/// `; did you mean `A`?` added when a key it lists is close to `X`.
fn with_key_suggestion(message: &str) -> String {
    let message = message.trim();
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((key, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    // The expected keys are the odd pieces between backquotes.
    let keys = expected.split('`').skip(1).step_by(2);
    format!("{message}{}", crate::rules::suggestion(key, keys))
}

/// Parse a configuration text; rule ids must be among `known_rules`. Errors read
/// `LINE: message`.
pub fn parse(text: &str, known_rules: &[&str]) -> Result<Config, String> {
    let cfg: Config = toml::from_str(text).map_err(|e| {
        let message = with_key_suggestion(e.message());
        match e.span() {
            Some(sp) => format!("line {}: {message}", line_of(text, sp.start)),
            None => message,
        }
    })?;
    let hint = |id: &str| crate::rules::suggestion(id, known_rules.iter().copied());
    for key in cfg.rules.keys() {
        let id = key.get_ref().as_str();
        if !known_rules.contains(&id) {
            return Err(format!(
                "line {}: unknown rule `{id}` under [rules]{}",
                line_of(text, key.span().start),
                hint(id)
            ));
        }
    }
    for e in &cfg.ignore {
        for r in &e.get_ref().rules {
            if !known_rules.contains(&r.as_str()) {
                return Err(format!(
                    "line {}: unknown rule `{r}` in [[ignore]]{}",
                    line_of(text, e.span().start),
                    hint(r)
                ));
            }
        }
        if let Err(err) = globset::Glob::new(&e.get_ref().path) {
            return Err(format!(
                "line {}: bad glob `{}`: {err}",
                line_of(text, e.span().start),
                e.get_ref().path
            ));
        }
    }
    for g in &cfg.exclude {
        if let Err(err) = globset::Glob::new(g) {
            return Err(format!("bad glob `{g}` in exclude: {err}"));
        }
    }
    if let Some(keys) = &cfg.oidc_subject_template {
        if keys.is_empty() {
            return Err("`oidc-subject-template` must list at least one claim key".to_string());
        }
        if let Some(k) = keys
            .iter()
            .find(|k| !crate::analysis::trust::is_template_claim(k))
        {
            return Err(format!(
                "`oidc-subject-template`: `{k}` is not a claim GitHub can put into a subject"
            ));
        }
    }
    let mut hosts: Vec<String> = Vec::new();
    if cfg.issuers.len() > MAX_CUSTOM_ISSUERS {
        return Err(format!(
            "at most {MAX_CUSTOM_ISSUERS} [[issuers]] may be described, found {}",
            cfg.issuers.len()
        ));
    }
    for (i, e) in cfg.issuers.iter().enumerate() {
        let line = line_of(text, e.span().start);
        let spec = e.get_ref();
        for (key, len, max) in [
            ("subject", spec.subject.len(), 1024),
            ("host", spec.host.len(), 256),
            ("name", spec.name.as_ref().map_or(0, String::len), 128),
            (
                "audience",
                spec.audience.as_ref().map_or(0, String::len),
                256,
            ),
        ] {
            if len > max {
                return Err(format!(
                    "line {line}: [[issuers]] #{}: `{key}` is {len} bytes long, at most {max} allowed",
                    i + 1
                ));
            }
        }
        let issuer = crate::analysis::issuers::custom_issuer(e.get_ref())
            .map_err(|err| format!("line {line}: [[issuers]] #{}: {err}", i + 1))?;
        let host = issuer.hosts[0].clone();
        if let Some(b) = crate::analysis::issuers::builtin()
            .iter()
            .find(|b| b.owns(&host))
        {
            return Err(format!(
                "line {line}: [[issuers]] #{}: `host` `{host}` is {}'s, which oidc-lint knows already",
                i + 1,
                b.name
            ));
        }
        if hosts.contains(&host) {
            return Err(format!(
                "line {line}: [[issuers]] #{}: `host` `{host}` is described twice",
                i + 1
            ));
        }
        hosts.push(host);
    }
    if let Some(repo) = &cfg.repository
        && (repo.split('/').count() < 2 || repo.split('/').any(str::is_empty))
    {
        // (A GitLab project path nests groups: `GROUP/SUBGROUP/PROJECT`.)
        return Err(format!(
            "`repository` must be OWNER/REPO (or a GitLab GROUP/…/PROJECT), got `{repo}`"
        ));
    }
    if let Some(b) = &cfg.default_branch
        && !crate::analysis::repo::valid_branch(b)
    {
        return Err(format!("`default-branch` must be a branch name, got `{b}`"));
    }
    Ok(cfg)
}

/// The configuration file for a scan: `--config` when given, else the first
/// `oidc-lint.toml`/`.oidc-lint.toml` found from the scanned path upward, up to the
/// repository root (the first directory holding `.git`).
pub fn find(start: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(start).ok()?;
    let mut dir = if abs.is_dir() {
        Some(abs.as_path())
    } else {
        abs.parent()
    };
    while let Some(d) = dir {
        for name in FILE_NAMES {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        // The repository root ends the search: a checkout never picks up a stray file above it.
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

pub fn load(path: &Path, known_rules: &[&str]) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let config = parse(&text, known_rules).map_err(|e| format!("{}:{e}", path.display()))?;
    let dir = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    Ok(Loaded {
        path: Some(path.to_path_buf()),
        config,
        dir,
        text,
    })
}

impl Loaded {
    pub fn settings(&self) -> Settings {
        Settings {
            repo: self.config.repository.clone(),
            allowed_owners: self.config.allowed_owners.clone(),
            role_mappings: self.config.role_mappings.clone(),
            default_branch: self.config.default_branch.clone(),
            subject_format: self.config.subject_format.map(|f| match f {
                SubjectFormatKey::Name => crate::model::SubjectFormat::Name,
                SubjectFormatKey::Id => crate::model::SubjectFormat::Id,
            }),
            repo_ids: None,
            subject_template: self.config.oidc_subject_template.clone(),
            custom_issuers: self
                .config
                .issuers
                .iter()
                .map(|e| e.get_ref().clone())
                .collect(),
        }
    }

    /// Rule ids disabled by the configuration.
    pub fn disabled(&self) -> Vec<String> {
        self.config
            .rules
            .iter()
            .filter(|(_, c)| c.enabled == Some(false))
            .map(|(k, _)| k.get_ref().clone())
            .collect()
    }

    pub fn severity_for(&self, rule: &str) -> Option<Severity> {
        self.config
            .rules
            .iter()
            .find(|(k, _)| k.get_ref() == rule)
            .and_then(|(_, c)| c.severity)
            .map(Severity::from)
    }

    /// The line of an `[[ignore]]` entry, for messages.
    pub fn ignore_line(&self, i: usize) -> usize {
        line_of(&self.text, self.config.ignore[i].span().start)
    }

    pub fn excludes(&self) -> PathMatcher {
        PathMatcher::new(&self.config.exclude, self.dir.clone())
    }
}

/// Glob matching of a file against patterns that may be written relative to the scan root
/// or to the configuration file's directory. A pattern also matches everything under a
/// directory it matches.
pub struct PathMatcher {
    set: globset::GlobSet,
    dir: Option<PathBuf>,
}

impl PathMatcher {
    pub fn new(globs: &[String], dir: Option<PathBuf>) -> Self {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            if let Ok(g) = globset::GlobBuilder::new(g.trim_start_matches("./"))
                .literal_separator(true)
                .build()
            {
                b.add(g);
            }
        }
        PathMatcher {
            set: b.build().unwrap_or_else(|_| globset::GlobSet::empty()),
            dir,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Indices of the patterns matching `rel` (relative to the scan root) or `path` (on disk).
    pub fn matches(&self, rel: &str, path: &Path) -> Vec<usize> {
        let mut candidates = vec![rel.to_string()];
        if let Some(d) = &self.dir
            && let Ok(abs) = std::fs::canonicalize(path)
            && let Ok(r) = abs.strip_prefix(d)
        {
            candidates.push(r.to_string_lossy().replace('\\', "/"));
        }
        let mut out = Vec::new();
        for c in candidates {
            let mut prefix = String::new();
            for (i, part) in c.split('/').enumerate() {
                if i > 0 {
                    prefix.push('/');
                }
                prefix.push_str(part);
                out.extend(self.set.matches(&prefix));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_file() {
        let text = "repository = \"acme/app\"\nallowed-owners = [\"acme\"]\n[role-mappings]\nDEPLOY = \"arn:aws:iam::1:role/d\"\n";
        let loaded = Loaded {
            config: parse(text, &[]).unwrap(),
            ..Default::default()
        };
        let s = loaded.settings();
        assert_eq!(s.repo.as_deref(), Some("acme/app"));
        assert_eq!(s.allowed_owners, vec!["acme".to_string()]);
        assert_eq!(s.role_mappings["DEPLOY"], "arn:aws:iam::1:role/d");
    }

    #[test]
    fn excludes_match_directories_and_globs() {
        let m = PathMatcher::new(&["vendor".into(), "**/*.tmpl.json".into()], None);
        let p = Path::new("/nonexistent");
        assert!(!m.matches("vendor/a/b.json", p).is_empty());
        assert!(!m.matches("iam/x.tmpl.json", p).is_empty());
        assert!(m.matches("iam/vendor.json", p).is_empty());
        assert!(m.matches("src/vendored/a.json", p).is_empty());
    }

    #[test]
    fn custom_issuers_are_checked() {
        let ok = parse(
            "[[issuers]]\nname = \"GitLab (self-managed)\"\nhost = \"gitlab.example.com\"\nshared = false\nsubject = \"project_path:{group}/{project}:ref_type:{ref_type}:ref:{ref}\"\naudience = \"https://gitlab.example.com\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(ok.issuers.len(), 1);
        for (text, want) in [
            (
                "[[issuers]]\nhost = \"x.example\"\nshared = true\nsubject = \"{a}{b}\"\n",
                "line 1: [[issuers]] #1: `subject`: the field `{b}` follows another field",
            ),
            (
                "[[issuers]]\nhost = \"x.example\"\nshared = true\nsubject = \"fixed\"\n",
                "line 1: [[issuers]] #1: `subject`: a subject template needs at least one `{field}`",
            ),
            (
                "[[issuers]]\nhost = \"app.terraform.io\"\nshared = true\nsubject = \"o:{o}\"\n",
                "line 1: [[issuers]] #1: `host` `app.terraform.io` is HCP Terraform's",
            ),
            (
                "[[issuers]]\nhost = \"x y\"\nshared = true\nsubject = \"o:{o}\"\n",
                "line 1: [[issuers]] #1: `host` must be the issuer URL",
            ),
            (
                "[[issuers]]\nhost = \"x.example\"\nsubject = \"o:{o}\"\n",
                "missing field `shared`",
            ),
            (
                &format!(
                    "[[issuers]]\nhost = \"x.example\"\nshared = true\nsubject = \"o:{{o}}{}\"\n",
                    ":".repeat(2000)
                ),
                "`subject` is 2005 bytes long, at most 1024 allowed",
            ),
            (
                &"[[issuers]]\nhost = \"x.example\"\nshared = true\nsubject = \"o:{o}\"\n"
                    .repeat(65),
                "at most 64 [[issuers]]",
            ),
            (
                "[[issuers]]\nhost = \"x.example\"\nshared = true\nsubject = \"o:{o}\"\nsubjet = \"\"\n",
                "unknown field `subjet`",
            ),
        ] {
            let err = parse(text, &[]).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn subject_template_keys_are_checked() {
        let known: &[&str] = &[];
        let c = parse("oidc-subject-template = [\"repo\", \"context\"]\n", known).unwrap();
        assert_eq!(
            c.oidc_subject_template,
            Some(vec!["repo".to_string(), "context".to_string()])
        );
        let e = parse("oidc-subject-template = [\"repo\", \"branch\"]\n", known).unwrap_err();
        assert!(e.contains("`branch`"), "{e}");
        assert!(parse("oidc-subject-template = []\n", known).is_err());
    }

    #[test]
    fn fail_on_thresholds() {
        assert!(FailOn::Warning.fails(Severity::Error));
        assert!(!FailOn::Warning.fails(Severity::Note));
        assert!(FailOn::Note.fails(Severity::Note));
        assert!(!FailOn::Error.fails(Severity::Warning));
        assert!(!FailOn::Never.fails(Severity::Error));
    }
}
