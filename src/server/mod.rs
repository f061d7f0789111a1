//! `oidc-lint server`: a Language Server Protocol server over stdio, a second client of the
//! engine beside the CLI. One [`Engine`] per workspace; the workspace is checked once in the
//! background at start, then kept in memory: an edit re-reads only the changed file into the
//! kept scan ([`Engine::recheck`]) and runs the rules again, and diagnostics are published for
//! every file whose diagnostics changed (so editing a trust policy updates the workflow that
//! assumes the role).
//!
//! Built on `lsp-server` and `lsp-types` (rust-analyzer's): a synchronous message loop over
//! crossbeam channels, no async runtime; the engine is synchronous (rayon) anyway.

mod convert;

use crate::config::Loaded;
use crate::engine::{self, Engine, Outcome, Selection};
use crate::rules::RuleSet;
use convert::Encoding;
use crossbeam_channel::{Receiver, never, select};
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Run the server on stdin/stdout until the client says `exit`. `config`: a configuration
/// file that overrides the one found in the workspace (as `initializationOptions.config` does).
pub fn run(config: Option<PathBuf>) -> ExitCode {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(crate::config::worker_threads(None))
        .stack_size(64 << 20)
        .build()
    {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return ExitCode::from(2);
        }
    };
    let (conn, io) = Connection::stdio();
    let code = match serve(conn, config, pool) {
        Ok(clean) => u8::from(!clean),
        Err(e) => {
            eprintln!("error: {}", crate::report::sanitize::inline(&e));
            1
        }
    };
    let _ = io.join();
    ExitCode::from(code)
}

/// A file's findings as last converted, with their diagnostics.
struct Converted {
    path: PathBuf,
    findings: Vec<crate::diag::Finding>,
    diags: Arc<Vec<Diagnostic>>,
}

struct Doc {
    uri: Uri,
    text: String,
}

struct Server {
    conn: Connection,
    pool: Arc<rayon::ThreadPool>,
    root: PathBuf,
    explicit_config: Option<PathBuf>,
    engine: Arc<Engine>,
    enc: Encoding,
    docs: HashMap<PathBuf, Doc>,
    outcome: Option<Outcome>,
    scan_rx: Option<Receiver<Outcome>>,
    /// Files changed since the last check; `full`: check everything again.
    pending: BTreeSet<PathBuf>,
    full: bool,
    /// The diagnostics last published, by path.
    published: HashMap<PathBuf, Arc<Vec<Diagnostic>>>,
    /// Each file's findings as last converted (by file id of the current scan), with its path
    /// and diagnostics: a file whose findings are unchanged, and whose text and related files'
    /// texts are too, keeps its diagnostics and is not published again (converting or comparing
    /// every file of the workspace after each edit cost more than the check).
    converted: HashMap<crate::source::FileId, Converted>,
    /// `converted` was emptied (a full check renumbers files): every published file is compared.
    reset: bool,
    /// The paths whose diagnostics include input errors, as last published.
    error_paths: BTreeSet<PathBuf>,
    /// Files changed since their diagnostics were converted (`converted` entries that mention
    /// them are stale).
    dirty: BTreeSet<PathBuf>,
    progress: bool,
    next_id: i32,
}

const PROGRESS_TOKEN: &str = "oidc-lint/scan";

fn serve(
    conn: Connection,
    config: Option<PathBuf>,
    pool: Arc<rayon::ThreadPool>,
) -> Result<bool, String> {
    let (id, params) = conn.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).map_err(|e| e.to_string())?;
    let encs = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.clone())
        .unwrap_or_default();
    let (enc, enc_kind) = if encs.contains(&PositionEncodingKind::UTF8) {
        (Encoding::Utf8, PositionEncodingKind::UTF8)
    } else if encs.contains(&PositionEncodingKind::UTF32) {
        (Encoding::Utf32, PositionEncodingKind::UTF32)
    } else {
        (Encoding::Utf16, PositionEncodingKind::UTF16)
    };
    #[allow(deprecated)]
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| convert::path_for(&f.uri))
        .or_else(|| params.root_uri.as_ref().and_then(convert::path_for))
        .or_else(|| std::env::current_dir().ok())
        .ok_or("no workspace folder and no current directory")?;
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let explicit_config = params
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("config"))
        .and_then(|c| c.as_str())
        .map(|c| root.join(c))
        .or(config);
    let caps = ServerCapabilities {
        position_encoding: Some(enc_kind),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        diagnostic_provider: Some(DiagnosticServerCapabilities::Options(DiagnosticOptions {
            identifier: Some("oidc-lint".into()),
            inter_file_dependencies: true,
            workspace_diagnostics: false,
            ..Default::default()
        })),
        ..Default::default()
    };
    let result = InitializeResult {
        capabilities: caps,
        server_info: Some(ServerInfo {
            name: "oidc-lint".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    conn.initialize_finish(id, serde_json::to_value(result).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let progress = params
        .capabilities
        .window
        .as_ref()
        .and_then(|w| w.work_done_progress)
        .unwrap_or(false);
    let watch = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    let mut s = Server {
        conn,
        pool,
        engine: Arc::new(Engine::new(
            RuleSet::builtin(),
            Loaded::default(),
            Selection::default(),
        )),
        root,
        explicit_config,
        enc,
        docs: HashMap::new(),
        outcome: None,
        scan_rx: None,
        pending: BTreeSet::new(),
        full: false,
        published: HashMap::new(),
        converted: HashMap::new(),
        reset: false,
        error_paths: BTreeSet::new(),
        dirty: BTreeSet::new(),
        progress,
        next_id: 0,
    };
    s.load_engine();
    if watch {
        s.register_watchers();
    }
    s.start_scan();
    s.main_loop()
}

impl Server {
    fn send(&self, m: impl Into<Message>) {
        let _ = self.conn.sender.send(m.into());
    }
    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.into(), params));
    }
    fn request<R: lsp_types::request::Request>(&mut self, params: R::Params) {
        self.next_id += 1;
        self.send(Request::new(
            RequestId::from(format!("oidc-lint-{}", self.next_id)),
            R::METHOD.into(),
            params,
        ));
    }
    fn show_error(&self, message: String) {
        self.notify::<notification::ShowMessage>(ShowMessageParams {
            typ: MessageType::ERROR,
            message,
        });
    }

    /// The engine for the workspace's configuration (the defaults, and an error shown, when it
    /// cannot be loaded).
    fn load_engine(&mut self) {
        let rules = RuleSet::builtin();
        let loaded = match engine::load_config(
            self.explicit_config.as_deref(),
            std::slice::from_ref(&self.root),
            &rules,
        ) {
            Ok(l) => l,
            Err(e) => {
                self.show_error(format!("oidc-lint: configuration ignored: {e}"));
                Loaded::default()
            }
        };
        self.engine = Arc::new(Engine::new(rules, loaded, Selection::default()));
    }

    fn register_watchers(&mut self) {
        let opts = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*".into()),
                kind: None,
            }],
        };
        self.request::<request::RegisterCapability>(RegistrationParams {
            registrations: vec![Registration {
                id: "oidc-lint-watch".into(),
                method: notification::DidChangeWatchedFiles::METHOD.into(),
                register_options: serde_json::to_value(opts).ok(),
            }],
        });
    }

    fn overlays(&self) -> Vec<(PathBuf, String)> {
        let mut v: Vec<_> = self
            .docs
            .iter()
            .map(|(p, d)| (p.clone(), d.text.clone()))
            .collect();
        v.sort();
        v
    }

    /// Check the whole workspace on a worker thread; the loop picks the result up.
    fn start_scan(&mut self) {
        if self.progress {
            self.request::<request::WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                token: NumberOrString::String(PROGRESS_TOKEN.into()),
            });
            self.notify::<notification::Progress>(ProgressParams {
                token: NumberOrString::String(PROGRESS_TOKEN.into()),
                value: ProgressParamsValue::WorkDone(WorkDoneProgress::Begin(
                    WorkDoneProgressBegin {
                        title: "oidc-lint: checking the workspace".into(),
                        ..Default::default()
                    },
                )),
            });
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let engine = self.engine.clone();
        let pool = self.pool.clone();
        let root = self.root.clone();
        let overlays = self.overlays();
        self.pending.clear();
        self.full = false;
        std::thread::spawn(move || {
            let out = pool.install(|| engine.check_with_overlay(&[root], &overlays));
            let _ = tx.send(out);
        });
        self.scan_rx = Some(rx);
    }

    fn scan_done(&mut self, out: Outcome) {
        self.scan_rx = None;
        self.converted.clear();
        self.reset = true;
        if self.progress {
            self.notify::<notification::Progress>(ProgressParams {
                token: NumberOrString::String(PROGRESS_TOKEN.into()),
                value: ProgressParamsValue::WorkDone(WorkDoneProgress::End(WorkDoneProgressEnd {
                    message: Some(format!("{} files", out.scan.files_scanned())),
                })),
            });
        }
        self.outcome = Some(out);
        self.publish();
    }

    /// Wait for the initial check and apply pending changes: the state requests answer from.
    fn settle(&mut self) {
        if let Some(rx) = self.scan_rx.take() {
            match rx.recv() {
                Ok(out) => self.scan_done(out),
                Err(_) => return,
            }
        }
        if self.full {
            self.full = false;
            self.pending.clear();
            let out = self.pool.install(|| {
                self.engine
                    .check_with_overlay(std::slice::from_ref(&self.root), &self.overlays())
            });
            self.converted.clear();
            self.reset = true;
            self.outcome = Some(out);
            self.publish();
        } else if !self.pending.is_empty() {
            let changes: Vec<(PathBuf, Option<String>)> = std::mem::take(&mut self.pending)
                .into_iter()
                .map(|p| {
                    let t = self.docs.get(&p).map(|d| d.text.clone());
                    (p, t)
                })
                .collect();
            let Some(prev) = self.outcome.take() else {
                return;
            };
            let overlays = self.overlays();
            self.dirty.extend(changes.iter().map(|(p, _)| p.clone()));
            let out = self.pool.install(|| {
                self.engine
                    .recheck(prev, &changes, std::slice::from_ref(&self.root), &overlays)
            });
            self.outcome = Some(out);
            self.publish();
        }
    }

    fn main_loop(&mut self) -> Result<bool, String> {
        loop {
            if (self.full || !self.pending.is_empty())
                && self.scan_rx.is_none()
                && self.conn.receiver.is_empty()
            {
                self.settle();
            }
            let scan_rx = self.scan_rx.clone().unwrap_or_else(never);
            select! {
                recv(self.conn.receiver) -> msg => {
                    let Ok(msg) = msg else { return Ok(false) };
                    match msg {
                        Message::Request(req) => {
                            if self.conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                                return Ok(true);
                            }
                            self.on_request(req);
                        }
                        Message::Notification(n) => {
                            if n.method == notification::Exit::METHOD {
                                // `exit` without `shutdown`.
                                return Ok(false);
                            }
                            self.on_notification(n);
                        }
                        Message::Response(_) => {}
                    }
                }
                recv(scan_rx) -> out => {
                    if let Ok(out) = out {
                        self.scan_done(out);
                    }
                }
            }
        }
    }

    fn doc_path(&self, uri: &Uri) -> Option<PathBuf> {
        let p = convert::path_for(uri)?;
        Some(std::fs::canonicalize(&p).unwrap_or(p))
    }

    fn changed(&mut self, path: PathBuf) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_config = matches!(name, "oidc-lint.toml" | ".oidc-lint.toml")
            || self.explicit_config.as_deref() == Some(path.as_path());
        if is_config {
            self.load_engine();
            self.full = true;
        } else {
            self.pending.insert(path);
        }
    }

    fn on_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(path) = self.doc_path(&p.text_document.uri) else {
                    return;
                };
                let unchanged = self
                    .outcome
                    .as_ref()
                    .and_then(|o| o.scan.files().find(|(_, f)| f.path == path))
                    .is_some_and(|(_, f)| f.text == p.text_document.text);
                self.docs.insert(
                    path.clone(),
                    Doc {
                        uri: p.text_document.uri,
                        text: p.text_document.text,
                    },
                );
                if unchanged {
                    // Published under the client's URI now.
                    self.published.remove(&path);
                    self.dirty.insert(path);
                    self.publish();
                } else {
                    self.pending.insert(path);
                }
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(path) = self.doc_path(&p.text_document.uri) else {
                    return;
                };
                let enc = self.enc;
                let Some(doc) = self.docs.get_mut(&path) else {
                    return;
                };
                for c in p.content_changes {
                    match c.range {
                        Some(r) => {
                            let s = convert::offset(&doc.text, r.start, enc);
                            let e = convert::offset(&doc.text, r.end, enc).max(s);
                            doc.text.replace_range(s..e, &c.text);
                        }
                        None => doc.text = c.text,
                    }
                }
                self.pending.insert(path);
            }
            notification::DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                if let Some(path) = self.doc_path(&p.text_document.uri) {
                    // The file on disk counts again.
                    self.docs.remove(&path);
                    self.published.remove(&path);
                    self.pending.insert(path);
                }
            }
            notification::DidSaveTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) else {
                    return;
                };
                if let Some(path) = self.doc_path(&p.text_document.uri) {
                    self.changed(path);
                }
            }
            notification::DidChangeWatchedFiles::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeWatchedFilesParams>(n.params) else {
                    return;
                };
                for c in p.changes {
                    if let Some(path) = self.doc_path(&c.uri)
                        && (!self.docs.contains_key(&path) || is_config_name(&path))
                    {
                        self.changed(path);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_request(&mut self, req: Request) {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            request::CodeActionRequest::METHOD => {
                serde_json::from_value::<CodeActionParams>(req.params)
                    .map_err(|e| e.to_string())
                    .map(|p| {
                        self.settle();
                        serde_json::to_value(self.code_actions(&p)).unwrap_or_default()
                    })
            }
            request::HoverRequest::METHOD => serde_json::from_value::<HoverParams>(req.params)
                .map_err(|e| e.to_string())
                .map(|p| {
                    self.settle();
                    serde_json::to_value(self.hover(&p)).unwrap_or_default()
                }),
            request::DocumentDiagnosticRequest::METHOD => {
                serde_json::from_value::<DocumentDiagnosticParams>(req.params)
                    .map_err(|e| e.to_string())
                    .map(|p| {
                        self.settle();
                        let items = self
                            .doc_path(&p.text_document.uri)
                            .and_then(|path| self.published.get(&path).map(|d| d.as_ref().clone()))
                            .unwrap_or_default();
                        serde_json::to_value(DocumentDiagnosticReportResult::Report(
                            DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                                related_documents: None,
                                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                                    result_id: None,
                                    items,
                                },
                            }),
                        ))
                        .unwrap_or_default()
                    })
            }
            _ => {
                self.send(Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("unsupported request {}", req.method),
                ));
                return;
            }
        };
        self.send(match result {
            Ok(v) => Response::new_ok(id, v),
            Err(e) => Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, e),
        });
    }

    fn uri_of(&self, path: &Path) -> Option<Uri> {
        match self.docs.get(path) {
            Some(d) => Some(d.uri.clone()),
            None => convert::uri_for(path),
        }
    }

    /// Publish the diagnostics of every file whose diagnostics changed (empty: they are gone).
    /// Findings are converted again, and compared with what was published, only for files whose
    /// findings changed or that mention a file changed since the last conversion (and files
    /// with input errors); the others keep what was published.
    fn publish(&mut self) {
        let Some(o) = &self.outcome else {
            return;
        };
        let mut by_file: HashMap<crate::source::FileId, Vec<&crate::diag::Finding>> =
            HashMap::new();
        for f in &o.findings {
            by_file.entry(f.file).or_default().push(f);
        }
        let dirty = std::mem::take(&mut self.dirty);
        let dirty_ids: std::collections::HashSet<crate::source::FileId> = o
            .scan
            .files()
            .filter(|(_, f)| dirty.contains(&f.path))
            .map(|(id, _)| id)
            .collect();
        let stale = |findings: &[crate::diag::Finding]| {
            findings.iter().any(|f| {
                std::iter::once(f.file)
                    .chain(f.related.iter().map(|l| l.file))
                    .any(|id| dirty_ids.contains(&id))
            })
        };
        // The paths to compare with what was published.
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        if std::mem::take(&mut self.reset) {
            changed.extend(self.published.keys().cloned());
        }
        let mut converted = HashMap::with_capacity(by_file.len());
        for (id, findings) in by_file {
            let kept = self.converted.remove(&id).filter(|c| {
                c.findings.len() == findings.len()
                    && c.findings.iter().zip(&findings).all(|(a, b)| a == *b)
                    && !dirty_ids.contains(&id)
                    && !stale(&c.findings)
            });
            let c = kept.unwrap_or_else(|| {
                let diags = findings
                    .iter()
                    .map(|f| convert::diagnostic(&o.scan, f, self.enc))
                    .collect();
                let path = o.scan.file(id).path.clone();
                changed.insert(path.clone());
                Converted {
                    path,
                    findings: findings.into_iter().cloned().collect(),
                    diags: Arc::new(diags),
                }
            });
            converted.insert(id, c);
        }
        // Files whose findings are all gone.
        changed.extend(self.converted.drain().map(|(_, c)| c.path));
        let by_path: HashMap<&Path, &Converted> =
            converted.values().map(|c| (c.path.as_path(), c)).collect();
        let mut errors: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
        for e in &o.scan.errors {
            let path = self.root.join(&e.path);
            let text = self.docs.get(&path).map(|d| d.text.as_str());
            errors
                .entry(path)
                .or_default()
                .push(convert::error_diagnostic(e, text, self.enc));
        }
        changed.extend(std::mem::take(&mut self.error_paths));
        changed.extend(errors.keys().cloned());
        self.error_paths = errors.keys().cloned().collect();
        let mut notes = Vec::new();
        for path in changed {
            let mut now = by_path.get(path.as_path()).map(|c| Arc::clone(&c.diags));
            if let Some(mut errs) = errors.remove(&path) {
                let mut all = now.map(|d| d.as_ref().clone()).unwrap_or_default();
                all.append(&mut errs);
                now = Some(Arc::new(all));
            }
            let same = match (&now, self.published.get(&path)) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                (None, None) => true,
                _ => false,
            };
            if !same {
                notes.push((path.clone(), now.as_ref().map(|d| d.as_ref().clone())));
            }
            match now {
                Some(d) => self.published.insert(path, d),
                None => self.published.remove(&path),
            };
        }
        self.converted = converted;
        for (path, diags) in notes {
            let Some(uri) = self.uri_of(&path) else {
                continue;
            };
            self.notify::<notification::PublishDiagnostics>(PublishDiagnosticsParams {
                uri,
                diagnostics: diags.unwrap_or_default(),
                version: None,
            });
        }
    }

    /// Findings of the file at `uri` whose primary span meets the byte range `s..=e`.
    fn findings_at(&self, uri: &Uri, range: Range) -> Vec<&crate::diag::Finding> {
        let (Some(o), Some(path)) = (&self.outcome, self.doc_path(uri)) else {
            return vec![];
        };
        let Some((fid, src)) = o.scan.files().find(|(_, f)| f.path == path) else {
            return vec![];
        };
        let s = convert::offset(&src.text, range.start, self.enc) as u32;
        let e = convert::offset(&src.text, range.end, self.enc) as u32;
        o.findings
            .iter()
            .filter(|f| f.file == fid && f.span.start <= e && s <= f.span.end)
            .collect()
    }

    fn hover(&self, p: &HoverParams) -> Option<Hover> {
        let pos = p.text_document_position_params.position;
        let found = self.findings_at(
            &p.text_document_position_params.text_document.uri,
            Range::new(pos, pos),
        );
        let mut rules: Vec<&str> = found.iter().map(|f| f.rule).collect();
        rules.dedup();
        let docs: Vec<&str> = rules.iter().filter_map(|r| self.doc(r)).collect();
        (!docs.is_empty()).then(|| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: docs.join("\n---\n\n"),
            }),
            range: None,
        })
    }

    fn doc(&self, rule: &str) -> Option<&'static str> {
        if rule == crate::suppress::UNUSED_META.id {
            return Some(crate::suppress::UNUSED_META.doc);
        }
        self.engine.rules().find(rule).map(|r| r.meta().doc)
    }

    // `WorkspaceEdit::changes` is keyed by `Uri` (lsp-types), whose parsed form caches
    // internally; the keys are never mutated here.
    #[allow(clippy::mutable_key_type)]
    fn code_actions(&self, p: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let Some(o) = &self.outcome else {
            return vec![];
        };
        let mut out = Vec::new();
        for f in self.findings_at(&p.text_document.uri, p.range) {
            let diag = convert::diagnostic(&o.scan, f, self.enc);
            if let Some(fix) = &f.fix {
                let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                for e in &fix.edits {
                    let src = o.scan.file(e.file);
                    let Some(uri) = self.uri_of(&src.path) else {
                        continue;
                    };
                    changes.entry(uri).or_default().push(TextEdit {
                        range: convert::file_range(src, e.span, self.enc),
                        new_text: e.replacement.clone(),
                    });
                }
                let title = if fix.safe {
                    format!("Fix {}: {}", f.rule, fix.description)
                } else {
                    format!("Fix {} (unsafe): {}", f.rule, fix.description)
                };
                out.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diag.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(changes),
                        ..Default::default()
                    }),
                    is_preferred: Some(fix.safe),
                    ..Default::default()
                }));
            }
            if let Some(a) = self.ignore_action(o, f, diag) {
                out.push(a);
            }
        }
        out
    }

    /// "Ignore this rule here": an `oidc-lint: ignore[rule]` comment on its own line above the
    /// finding, offered only when the suppression parser confirms the comment would cover it
    /// (not in JSON, not inside a YAML block scalar or an HCL heredoc).
    #[allow(clippy::mutable_key_type)]
    fn ignore_action(
        &self,
        o: &Outcome,
        f: &crate::diag::Finding,
        diag: Diagnostic,
    ) -> Option<CodeActionOrCommand> {
        if f.rule == crate::suppress::UNUSED_META.id {
            return None;
        }
        let src = o.scan.file(f.file);
        let start = (f.span.start as usize).min(src.text.len());
        let ls = src.line_start(start);
        let line = &src.text[ls..src.line_end(start)];
        let indent = &line[..line.len() - line.trim_start().len()];
        let nl = if src.crlf() { "\r\n" } else { "\n" };
        let insert = format!("{indent}# oidc-lint: ignore[{}]{nl}", f.rule);
        let mut text = src.text.clone();
        text.insert_str(ls, &insert);
        let edited =
            crate::source::SourceFile::new(src.path.clone(), src.rel.clone(), text, src.format);
        if !crate::suppress::comment_suppresses(&edited, f.rule, start + insert.len()) {
            return None;
        }
        let uri = self.uri_of(&src.path)?;
        let at = convert::file_position(src, ls, self.enc);
        Some(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Ignore {} here", f.rule),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diag]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(
                    uri,
                    vec![TextEdit {
                        range: Range::new(at, at),
                        new_text: insert,
                    }],
                )])),
                ..Default::default()
            }),
            is_preferred: Some(false),
            ..Default::default()
        }))
    }
}

fn is_config_name(p: &Path) -> bool {
    matches!(
        p.file_name().and_then(|n| n.to_str()),
        Some("oidc-lint.toml" | ".oidc-lint.toml")
    )
}
