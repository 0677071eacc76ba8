//! The protocol side: capabilities, document notifications and one thin handler per request, each
//! answering from the document's model through its feature module. A panic in a feature is caught,
//! logged and answered with an error; the server keeps serving.

use crate::lsp::config::{self, Config, LogLevel, Settings};
use crate::lsp::model::Model;
use crate::lsp::open_documents::{Documents, OpenDocument};
use crate::lsp::position::Encoding;
use crate::lsp::{
    code_actions, code_lens, commands, completion, definition, folding, formatting, from_proto, hover,
    inlay_hints, references, rename, semantic_tokens, signature_help, symbols, to_proto, worker,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// How long a request waits for the analysis of the version it was made against.
const SETTLE: Duration = Duration::from_secs(5);

/// What the client can do, as far as the features care.
#[derive(Clone, Debug, Default)]
pub struct ClientCaps {
    /// Completion items may be snippets.
    pub snippets: bool,
    /// Hover contents may be Markdown.
    pub markdown: bool,
}

/// What every request of one document needs besides the model.
pub struct Ctx<'a> {
    /// The document.
    pub uri: &'a Uri,
    /// How positions are counted.
    pub enc: Encoding,
    /// The settings.
    pub config: &'a Config,
    /// The client's abilities.
    pub caps: &'a ClientCaps,
}

impl Ctx<'_> {
    /// The byte offset of `pos` in the model's text.
    pub fn offset(&self, m: &Model, pos: Position) -> u32 {
        from_proto::offset(&m.rope, pos, self.enc)
    }

    /// The range of a byte span of the model's text.
    pub fn range(&self, m: &Model, span: mil_ir::Span) -> Range {
        to_proto::range(&m.rope, span, self.enc)
    }
}

/// State shared by the handlers and the workers.
pub struct Shared {
    /// The connection to the client.
    pub client: Client,
    encoding: OnceLock<Encoding>,
    config: RwLock<Config>,
    client_config: RwLock<Config>,
    client_settings: RwLock<Vec<Settings>>,
    /// The `mil.toml` files read since the settings were last reloaded (`None`: unreadable).
    files: RwLock<HashMap<PathBuf, Option<Settings>>>,
    roots: RwLock<Vec<PathBuf>>,
    caps: RwLock<ClientCaps>,
}

impl Shared {
    /// The negotiated position encoding.
    pub fn encoding(&self) -> Encoding {
        *self.encoding.get().unwrap_or(&Encoding::Utf16)
    }

    /// The settings of the workspace: the client's, then the first workspace folder's `mil.toml`.
    pub fn config(&self) -> Config {
        self.config.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The client's abilities.
    pub fn caps(&self) -> ClientCaps {
        self.caps.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The settings of one document: the client's, then the `mil.toml` nearest above the document
    /// (as `mil check` reads it), or the workspace's when it has none or is not on disk.
    pub fn config_for(&self, doc: &OpenDocument) -> Config {
        let Some(path) = doc.model_dir.as_deref().and_then(config::discover) else {
            return self.config();
        };
        let cached = self
            .files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&path)
            .cloned();
        let settings = cached.unwrap_or_else(|| {
            let read = config::read_file(&path)
                .map_err(|e| self.log(MessageType::WARNING, format!("{}: {e}", path.display())))
                .ok();
            self.files
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.clone(), read.clone());
            read
        });
        let mut config = self
            .client_config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(settings) = settings {
            for problem in config.apply(&settings) {
                self.log(
                    MessageType::WARNING,
                    format!("configuration: {}: {problem}", path.display()),
                );
            }
        }
        config
    }

    /// Logs to stderr and, at the configured level, to the client's log.
    pub fn log(&self, level: MessageType, message: impl Into<String>) {
        let message = message.into();
        if rank(level) > log_rank(self.config().log_level) {
            return;
        }
        eprintln!("mil lsp [{}]: {message}", level_name(level));
        let client = self.client.clone();
        tokio::spawn(async move { client.log_message(level, message).await });
    }

    /// The first workspace folder, if any.
    pub fn root(&self) -> Option<PathBuf> {
        self.roots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .first()
            .cloned()
    }

    /// Re-reads the settings: client layers, then the `mil.toml` of the first workspace folder.
    fn reload_config(&self) {
        let mut config = Config::default();
        let mut problems = Vec::new();
        for s in self
            .client_settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            problems.extend(config.apply(s));
        }
        *self.client_config.write().unwrap_or_else(|e| e.into_inner()) = config.clone();
        self.files.write().unwrap_or_else(|e| e.into_inner()).clear();
        let roots = self.roots.read().unwrap_or_else(|e| e.into_inner()).clone();
        for root in roots.iter().take(1) {
            match config::read_workspace_file(root) {
                Some(Ok(s)) => problems.extend(config.apply(&s)),
                Some(Err(e)) => problems.push(format!("{}: {e}", root.join("mil.toml").display())),
                None => {}
            }
        }
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
        for p in problems {
            self.log(MessageType::WARNING, format!("configuration: {p}"));
        }
    }
}

fn rank(level: MessageType) -> u8 {
    match level {
        MessageType::ERROR => 1,
        MessageType::WARNING => 2,
        MessageType::INFO => 3,
        _ => 4,
    }
}

fn log_rank(level: LogLevel) -> u8 {
    match level {
        LogLevel::Error => 1,
        LogLevel::Warning => 2,
        LogLevel::Info => 3,
        LogLevel::Log => 4,
    }
}

fn level_name(level: MessageType) -> &'static str {
    ["error", "warning", "info", "log"][usize::from(rank(level) - 1)]
}

/// The language server.
pub struct Backend {
    shared: Arc<Shared>,
    docs: Documents,
}

/// Parameters of `mil/documentText`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentTextParams {
    /// The document.
    pub text_document: TextDocumentIdentifier,
    /// Whether to wait for the analysis and return the analysed text too.
    #[serde(default)]
    pub analysed: bool,
}

/// The answer of `mil/documentText`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentText {
    /// The client's version as the server has it.
    pub version: i32,
    /// The text as the server has it.
    pub text: String,
    /// The version of the newest analysis.
    pub analysed_version: i32,
    /// The text that analysis read (when asked for).
    pub analysed_text: Option<String>,
    /// How the analysis was last brought up to date (`full` or `incremental`).
    pub update: &'static str,
}

impl Backend {
    /// A server talking to `client`.
    pub fn new(client: Client) -> Backend {
        Backend {
            shared: Arc::new(Shared {
                client,
                encoding: OnceLock::new(),
                config: RwLock::new(Config::default()),
                client_config: RwLock::new(Config::default()),
                files: RwLock::new(HashMap::new()),
                client_settings: RwLock::new(Vec::new()),
                roots: RwLock::new(Vec::new()),
                caps: RwLock::new(ClientCaps::default()),
            }),
            docs: Documents::default(),
        }
    }

    /// `mil/documentText`: the server's copy of a document (for tests and bug reports).
    pub async fn document_text(&self, params: DocumentTextParams) -> Result<DocumentText> {
        let doc = self.doc(&params.text_document.uri)?;
        if params.analysed {
            doc.settle(SETTLE).await;
        }
        let (rope, version) = doc.snapshot();
        let model = doc.model();
        Ok(DocumentText {
            version,
            text: rope.to_string(),
            analysed_version: model.version,
            analysed_text: params.analysed.then(|| model.rope.to_string()),
            update: match model.last_update {
                crate::lsp::model::Update::Full => "full",
                crate::lsp::model::Update::Incremental(_) => "incremental",
            },
        })
    }

    /// `mil/panic`: a request whose handler panics, to show that a failing handler is answered with
    /// an error and the server keeps serving (used by the tests; harmless otherwise).
    pub async fn panic(&self, params: TextDocumentIdentifier) -> Result<()> {
        self.answer("mil/panic", &params.uri, |_, _| {
            panic!("mil/panic was asked to panic")
        })
        .await
    }

    fn doc(&self, uri: &Uri) -> Result<Arc<OpenDocument>> {
        self.docs.get(uri).ok_or_else(|| Error {
            code: ErrorCode::InvalidParams,
            message: format!("{} is not open", uri.as_str()).into(),
            data: None,
        })
    }

    /// Runs `feature` on the model of `uri` once it covers the client's version, catching panics.
    async fn answer<T>(&self, what: &str, uri: &Uri, feature: impl FnOnce(&Model, &Ctx) -> T) -> Result<T> {
        let doc = self.doc(uri)?;
        doc.settle(SETTLE).await;
        let config = self.shared.config_for(&doc);
        let caps = self.shared.caps.read().unwrap_or_else(|e| e.into_inner()).clone();
        let cx = Ctx {
            uri,
            enc: self.shared.encoding(),
            config: &config,
            caps: &caps,
        };
        let model = doc.whole_model();
        std::panic::catch_unwind(AssertUnwindSafe(|| feature(&model, &cx))).map_err(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            self.shared
                .log(MessageType::ERROR, format!("{what} panicked: {why}"));
            Error {
                code: ErrorCode::InternalError,
                message: format!("{what} failed: {why}").into(),
                data: None,
            }
        })
    }

    fn republish_all(&self) {
        for doc in self.docs.all() {
            doc.changed.send_modify(|_| {});
        }
    }
}

fn capabilities(enc: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(to_proto::encoding(enc)),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..TextDocumentSyncOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["=", "(", ",", "<", " "].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            retrigger_characters: Some(vec![" ".into()]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: to_proto::semantic_tokens_legend(),
                range: Some(true),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                work_done_progress_options: WorkDoneProgressOptions::default(),
            },
        )),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_range_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::SOURCE_FIX_ALL,
                CodeActionKind::new(to_proto::FIX_ALL_ANE),
                CodeActionKind::REFACTOR_REWRITE,
                CodeActionKind::new(to_proto::SOURCE_QUANTIZE),
            ]),
            ..CodeActionOptions::default()
        })),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: commands::available(),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let general = params.capabilities.general.as_ref();
        let enc = from_proto::encoding(general.and_then(|g| g.position_encodings.as_deref()));
        let _ = self.shared.encoding.set(enc);
        let text = params.capabilities.text_document.as_ref();
        *self.shared.caps.write().unwrap_or_else(|e| e.into_inner()) = ClientCaps {
            snippets: text
                .and_then(|t| t.completion.as_ref()?.completion_item.as_ref()?.snippet_support)
                .unwrap_or(false),
            markdown: text
                .and_then(|t| t.hover.as_ref()?.content_format.as_ref())
                .is_some_and(|f| f.contains(&MarkupKind::Markdown)),
        };
        #[allow(deprecated)]
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        #[allow(deprecated)]
        if roots.is_empty()
            && let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path())
        {
            roots.push(p.into_owned());
        }
        *self.shared.roots.write().unwrap_or_else(|e| e.into_inner()) = roots;
        if let Some(options) = &params.initialization_options {
            match Settings::from_json(options) {
                Ok(s) => self
                    .shared
                    .client_settings
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(s),
                Err(e) => eprintln!("mil lsp: initializationOptions: {e}"),
            }
        }
        self.shared.reload_config();
        Ok(InitializeResult {
            capabilities: capabilities(enc),
            server_info: Some(ServerInfo {
                name: "mil".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.shared.log(MessageType::INFO, "MIL language server ready");
    }

    async fn shutdown(&self) -> Result<()> {
        for doc in self.docs.all() {
            doc.closed.store(true, std::sync::atomic::Ordering::Release);
            doc.changed.send_modify(|_| {});
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let doc = Arc::new(OpenDocument::open(d.uri, d.version, d.text));
        if let Some(old) = self.docs.get(&doc.uri) {
            old.closed.store(true, std::sync::atomic::Ordering::Release);
            old.changed.send_modify(|_| {});
        }
        self.docs.insert(doc.clone());
        tokio::spawn(worker::run(doc, self.shared.clone()));
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let id = params.text_document;
        let Some(doc) = self.docs.get(&id.uri) else {
            self.shared.log(
                MessageType::WARNING,
                format!("change to {} which is not open", id.uri.as_str()),
            );
            return;
        };
        if let Err(e) = doc.change(id.version, params.content_changes, self.shared.encoding()) {
            self.shared.log(
                MessageType::ERROR,
                format!("change to {} refused: {e:?}", id.uri.as_str()),
            );
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        if let Some(doc) = self.docs.remove(&uri) {
            doc.closed.store(true, std::sync::atomic::Ordering::Release);
            doc.changed.send_modify(|_| {});
        }
        self.shared
            .client
            .publish_diagnostics(uri, Vec::new(), None)
            .await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        if uri.as_str().ends_with("/mil.toml") {
            self.shared.reload_config();
            self.republish_all();
            return;
        }
        if let Some(doc) = self.docs.get(&uri)
            && self.shared.config_for(&doc).compile_on_save
            && let Err(e) = commands::compile(&doc, &self.shared).await
        {
            self.shared
                .log(MessageType::WARNING, format!("compile on save: {}", e.message));
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        match Settings::from_json(&params.settings) {
            Ok(s) => {
                let mut layers = self
                    .shared
                    .client_settings
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                layers.truncate(1);
                layers.push(s);
            }
            Err(e) => self
                .shared
                .log(MessageType::WARNING, format!("configuration: {e}")),
        }
        self.shared.reload_config();
        self.republish_all();
    }

    async fn did_change_watched_files(&self, _: DidChangeWatchedFilesParams) {
        self.shared.reload_config();
        self.republish_all();
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        self.answer("hover", &p.text_document.uri, |m, cx| {
            let h = hover::hover(m, cx.config, cx.offset(m, p.position))?;
            Some(to_proto::hover(m, cx, h))
        })
        .await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.answer("definition", &p.text_document.uri, |m, cx| {
            let span = definition::definition(m, cx.offset(m, p.position))?;
            Some(GotoDefinitionResponse::Scalar(to_proto::location(m, cx, span)))
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        self.answer("references", &p.text_document.uri, |m, cx| {
            let spans = references::references(m, cx.offset(m, p.position), include)?;
            Some(spans.into_iter().map(|s| to_proto::location(m, cx, s)).collect())
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.answer("prepareRename", &params.text_document.uri, |m, cx| {
            let (span, placeholder) = rename::prepare(m, cx.offset(m, params.position))?;
            Some(PrepareRenameResponse::RangeWithPlaceholder {
                range: cx.range(m, span),
                placeholder,
            })
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let outcome = self
            .answer("rename", &p.text_document.uri, |m, cx| {
                let edits = rename::rename(m, cx.offset(m, p.position), &params.new_name)?;
                Ok(edits.map(|edits| to_proto::workspace_edit(m, cx, edits)))
            })
            .await?;
        outcome.map_err(|message: String| Error {
            code: ErrorCode::InvalidParams,
            message: message.into(),
            data: None,
        })
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.answer("documentSymbol", &params.text_document.uri, |m, cx| {
            let symbols = symbols::document_symbols(m);
            Some(DocumentSymbolResponse::Nested(to_proto::document_symbols(
                m, cx, symbols,
            )))
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        self.answer("completion", &p.text_document.uri, |m, cx| {
            let items = completion::complete(m, cx.config, cx.caps.snippets, cx.offset(m, p.position));
            Some(CompletionResponse::Array(
                items.into_iter().map(to_proto::completion_item).collect(),
            ))
        })
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let p = params.text_document_position_params;
        self.answer("signatureHelp", &p.text_document.uri, |m, cx| {
            let s = signature_help::signature_help(m, cx.config, cx.offset(m, p.position))?;
            Some(to_proto::signature_help(s))
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.answer("semanticTokens", &params.text_document.uri, |m, cx| {
            let tokens = semantic_tokens::tokens(m, None);
            Some(SemanticTokensResult::Tokens(to_proto::semantic_tokens(
                m, cx, tokens,
            )))
        })
        .await
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        self.answer("semanticTokens", &params.text_document.uri, |m, cx| {
            let span = from_proto::span(&m.rope, params.range, cx.enc);
            let tokens = semantic_tokens::tokens(m, Some(span));
            Some(SemanticTokensRangeResult::Tokens(to_proto::semantic_tokens(
                m, cx, tokens,
            )))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.answer("foldingRange", &params.text_document.uri, |m, _| {
            Some(
                folding::folding_ranges(m)
                    .into_iter()
                    .map(to_proto::folding_range)
                    .collect(),
            )
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.answer("formatting", &params.text_document.uri, |m, cx| {
            let edits = formatting::format(m, None)?;
            Some(edits.into_iter().map(|e| to_proto::text_edit(m, cx, e)).collect())
        })
        .await
    }

    async fn range_formatting(&self, params: DocumentRangeFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.answer("rangeFormatting", &params.text_document.uri, |m, cx| {
            let span = from_proto::span(&m.rope, params.range, cx.enc);
            let edits = formatting::format(m, Some(span))?;
            Some(edits.into_iter().map(|e| to_proto::text_edit(m, cx, e)).collect())
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.answer("codeAction", &params.text_document.uri, |m, cx| {
            let span = from_proto::span(&m.rope, params.range, cx.enc);
            let only = params.context.only.as_deref();
            let actions = code_actions::code_actions(m, span, |k| to_proto::wants(only, k))
                .into_iter()
                .map(|a| to_proto::code_action(m, cx, a))
                .map(CodeActionOrCommand::CodeAction)
                .collect();
            Some(actions)
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        self.answer("inlayHint", &params.text_document.uri, |m, cx| {
            let span = from_proto::span(&m.rope, params.range, cx.enc);
            let hints = inlay_hints::inlay_hints(m, cx.config, span);
            Some(
                hints
                    .into_iter()
                    .map(|h| to_proto::inlay_hint(m, cx, h))
                    .collect(),
            )
        })
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.answer("codeLens", &params.text_document.uri, |m, cx| {
            let lenses = code_lens::code_lenses(m, cx.config);
            Some(
                lenses
                    .into_iter()
                    .map(|l| to_proto::code_lens(m, cx, l))
                    .collect(),
            )
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        commands::execute(&params, &self.docs, &self.shared).await
    }
}
