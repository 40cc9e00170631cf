//! `pcidevc lsp`: a language server for `.pcidev` specs over stdio.
//!
//! Built on `lsp-server` (rust-analyzer's synchronous JSON-RPC transport)
//! and `lsp-types`. Documents are synchronized whole (`didOpen` and
//! `didChange` carry the full text); after every change each open spec is
//! compiled again exactly as `pcidevc check` compiles it, and its
//! diagnostics are published with UTF-16 positions. Requests: go to
//! definition, hover, completion, formatting (`pcidevc fmt`'s layout),
//! document symbols (the outline).
//!
//! An open file that another open spec includes is answered from the
//! including spec (its names and diagnostics make sense only there).
//!
//! Robustness: a request with bad parameters gets `InvalidParams`, an
//! unknown one `MethodNotFound`, requests after `shutdown` get
//! `InvalidRequest`; a handler that panicked (a bug) answers
//! `InternalError` and the server goes on. The exit status is 0 after
//! `shutdown` then `exit`, else 1.

mod analysis;
mod complete;
mod hover;
mod index;
mod lines;
mod symbols;

use analysis::{Analysis, canonical, uri_path};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CompletionOptions, CompletionResponse, GotoDefinitionResponse, Hover, HoverContents,
    HoverProviderCapability, InitializeResult, MarkupContent, MarkupKind, OneOf,
    PositionEncodingKind, PublishDiagnosticsParams, ServerCapabilities, ServerInfo,
    TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

/// Run the server on stdin/stdout until `exit` or end of input.
pub fn run() -> ExitCode {
    let (connection, io_threads) = Connection::stdio();
    let outcome = serve(&connection);
    drop(connection);
    match outcome {
        Ok(clean) => {
            // The reader has stopped (after `exit`, or at end of input):
            // joining flushes the last responses.
            if let Err(e) = io_threads.join() {
                eprintln!("pcidevc lsp: {e}");
                return ExitCode::FAILURE;
            }
            if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) if e.channel_is_disconnected() => {
            // The reader stopped: at the end of input (nothing to say) or
            // on a message that is not JSON-RPC (say what was wrong).
            match io_threads.join() {
                Ok(()) => eprintln!("pcidevc lsp: the input ended before `exit`"),
                Err(e) => eprintln!("pcidevc lsp: {e}"),
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            // The reader may still be blocked on stdin: do not wait for it.
            eprintln!("pcidevc lsp: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        definition_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// `Ok(true)`: `exit` after `shutdown`; `Ok(false)`: `exit` without it or
/// the end of input.
fn serve(connection: &Connection) -> Result<bool, lsp_server::ProtocolError> {
    let (id, _params) = connection.initialize_start()?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "pcidevc".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    connection.initialize_finish(id, to_value(&result))?;
    let mut server = Server::default();
    let mut shutdown = false;
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                let resp = if shutdown {
                    error(
                        req.id,
                        ErrorCode::InvalidRequest,
                        "the server is shutting down".to_string(),
                    )
                } else if req.method == "shutdown" {
                    shutdown = true;
                    Response::new_ok(req.id, serde_json::Value::Null)
                } else {
                    let id = req.id.clone();
                    let method = req.method.clone();
                    std::panic::catch_unwind(AssertUnwindSafe(|| server.request(req)))
                        .unwrap_or_else(|_| {
                            error(
                                id,
                                ErrorCode::InternalError,
                                format!("pcidevc lsp failed on `{method}` (a bug)"),
                            )
                        })
                };
                let _ = connection.sender.send(resp.into());
            }
            Message::Notification(n) => {
                if n.method == "exit" {
                    return Ok(shutdown);
                }
                if shutdown {
                    continue;
                }
                let out = std::panic::catch_unwind(AssertUnwindSafe(|| server.notify(n)))
                    .unwrap_or_else(|_| {
                        // State may be half-updated: start afresh from the buffers.
                        server.analyses.clear();
                        server.refresh(None)
                    });
                for n in out {
                    let _ = connection.sender.send(n.into());
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(false)
}

fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn error(id: RequestId, code: ErrorCode, message: String) -> Response {
    Response::new_err(id, code as i32, message)
}

#[derive(Debug)]
struct Doc {
    uri: Uri,
    text: String,
    version: i32,
}

#[derive(Default)]
struct Server {
    /// Open documents by URI text.
    docs: BTreeMap<String, Doc>,
    /// The analysis of each open document, by URI text.
    analyses: BTreeMap<String, Analysis>,
    /// What was last published, by URI text.
    published: HashMap<String, Vec<lsp_types::Diagnostic>>,
}

impl Server {
    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            "textDocument/definition" => self.with(req, |s, p: lsp_types::GotoDefinitionParams| {
                to_value(&s.definition(&p.text_document_position_params))
            }),
            "textDocument/hover" => self.with(req, |s, p: lsp_types::HoverParams| {
                to_value(&s.hover(&p.text_document_position_params))
            }),
            "textDocument/completion" => self.with(req, |s, p: lsp_types::CompletionParams| {
                to_value(&s.completion(&p.text_document_position))
            }),
            "textDocument/formatting" => {
                self.with(req, |s, p: lsp_types::DocumentFormattingParams| {
                    to_value(&s.format(&p.text_document.uri))
                })
            }
            "textDocument/documentSymbol" => {
                self.with(req, |s, p: lsp_types::DocumentSymbolParams| {
                    let outline = s
                        .owner(&p.text_document.uri)
                        .map(|(a, f)| symbols::outline(a, f));
                    to_value(&outline.map(lsp_types::DocumentSymbolResponse::Nested))
                })
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("pcidevc lsp does not handle `{other}`"),
            )),
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => error(id, code, message),
        }
    }

    fn with<P: DeserializeOwned>(
        &mut self,
        req: Request,
        f: impl FnOnce(&mut Self, P) -> serde_json::Value,
    ) -> Result<serde_json::Value, (ErrorCode, String)> {
        match serde_json::from_value::<P>(req.params) {
            Ok(p) => Ok(f(self, p)),
            Err(e) => Err((
                ErrorCode::InvalidParams,
                format!("bad parameters for `{}`: {e}", req.method),
            )),
        }
    }

    /// Handle a notification; returns the notifications to send.
    fn notify(&mut self, n: Notification) -> Vec<Notification> {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let d = p.text_document;
                let key = d.uri.as_str().to_string();
                self.docs.insert(
                    key.clone(),
                    Doc {
                        uri: d.uri,
                        text: d.text,
                        version: d.version,
                    },
                );
                self.refresh(Some(&key))
            }
            "textDocument/didChange" => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let key = p.text_document.uri.as_str().to_string();
                // Full synchronization: the last change holds the whole text.
                let (Some(doc), Some(change)) = (
                    self.docs.get_mut(&key),
                    p.content_changes.into_iter().last(),
                ) else {
                    return Vec::new();
                };
                doc.text = change.text;
                doc.version = p.text_document.version;
                self.refresh(Some(&key))
            }
            "textDocument/didClose" => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                self.docs.remove(p.text_document.uri.as_str());
                self.refresh(None)
            }
            _ => Vec::new(),
        }
    }

    /// Compile every open document again and publish what changed (and,
    /// always, the diagnostics of `changed`, so that a client sees an answer
    /// to each edit).
    fn refresh(&mut self, changed: Option<&str>) -> Vec<Notification> {
        let mut open = HashMap::new();
        let mut uri_of = HashMap::new();
        for d in self.docs.values() {
            if let Some(p) = uri_path(&d.uri) {
                let p = canonical(&p);
                open.insert(p.clone(), d.text.clone());
                uri_of.insert(p, d.uri.clone());
            }
        }
        self.analyses = self
            .docs
            .iter()
            .map(|(k, d)| (k.clone(), Analysis::new(&d.uri, &d.text, &open, &uri_of)))
            .collect();
        // Every file any analysis read, with the diagnostics its owner has.
        let mut now: BTreeMap<String, (Uri, Vec<lsp_types::Diagnostic>)> = BTreeMap::new();
        for a in self.analyses.values() {
            for i in 0..a.compiled.sources.files().len() {
                let Some(uri) = a.uri(pcidevc_dsl::source::FileId(i as u32)) else {
                    continue;
                };
                if now.contains_key(uri.as_str()) {
                    continue;
                }
                if let Some((owner, file)) = self.owner(uri) {
                    now.insert(
                        uri.as_str().to_string(),
                        (uri.clone(), owner.diagnostics(file)),
                    );
                }
            }
        }
        let mut out = Vec::new();
        for (key, (uri, diags)) in &now {
            if self.published.get(key) == Some(diags) && changed != Some(key.as_str()) {
                continue;
            }
            let version = self.docs.get(key).map(|d| d.version);
            out.push(publish(uri.clone(), diags.clone(), version));
        }
        for (key, old) in &self.published {
            if !now.contains_key(key)
                && !old.is_empty()
                && let Ok(uri) = key.parse::<Uri>()
            {
                out.push(publish(uri, Vec::new(), None));
            }
        }
        self.published = now.into_iter().map(|(k, (_, d))| (k, d)).collect();
        out
    }

    /// The analysis that answers for `uri`: another open spec that includes
    /// it (the first by URI), else its own.
    fn owner(&self, uri: &Uri) -> Option<(&Analysis, pcidevc_dsl::source::FileId)> {
        let key = uri.as_str();
        self.analyses
            .iter()
            .filter(|(k, _)| k.as_str() != key)
            .find_map(|(_, a)| Some((a, a.file(uri)?)))
            .or_else(|| {
                let a = self.analyses.get(key)?;
                Some((a, a.file(uri)?))
            })
    }

    fn at(
        &self,
        p: &TextDocumentPositionParams,
    ) -> Option<(&Analysis, pcidevc_dsl::source::FileId, usize)> {
        let (a, file) = self.owner(&p.text_document.uri)?;
        Some((a, file, a.offset(file, p.position)))
    }

    fn definition(&self, p: &TextDocumentPositionParams) -> Option<GotoDefinitionResponse> {
        let (a, file, offset) = self.at(p)?;
        let (_, d) = a.index.at(file, offset)?;
        Some(GotoDefinitionResponse::Scalar(
            a.location(a.index.defs[d].span)?,
        ))
    }

    fn hover(&self, p: &TextDocumentPositionParams) -> Option<Hover> {
        let (a, file, offset) = self.at(p)?;
        let (name, d) = a.index.at(file, offset)?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: hover::hover(&a.index, d, &a.compiled.sources),
            }),
            range: Some(a.range(name)),
        })
    }

    fn completion(&self, p: &TextDocumentPositionParams) -> Option<CompletionResponse> {
        let (a, file, offset) = self.at(p)?;
        Some(CompletionResponse::Array(complete::complete(
            &a.index,
            file,
            a.text(file),
            offset,
        )))
    }

    /// One edit replacing the whole text, or none when it is formatted;
    /// `null` when it does not parse.
    fn format(&self, uri: &Uri) -> Option<Vec<TextEdit>> {
        let doc = self.docs.get(uri.as_str())?;
        let formatted = pcidevc_dsl::fmt::format(&doc.text)?;
        if formatted == doc.text {
            return Some(Vec::new());
        }
        let lines = lines::Lines::new(&doc.text);
        let range = lines.range(&doc.text, 0, doc.text.len());
        Some(vec![TextEdit::new(range, formatted)])
    }
}

fn publish(
    uri: Uri,
    diagnostics: Vec<lsp_types::Diagnostic>,
    version: Option<i32>,
) -> Notification {
    Notification::new(
        "textDocument/publishDiagnostics".to_string(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn spec_files() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut out = Vec::new();
        let mut dirs = vec![root.join("specs"), root.join("dsl/tests")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "pcidev") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// Every query at every position of every spec and corpus file (valid
    /// and invalid), and of truncated copies as while typing, answers
    /// without panicking; each declaration found is a name in the text.
    #[test]
    fn every_query_everywhere_in_every_spec_answers() {
        let files = spec_files();
        assert!(files.len() > 100, "found {} spec files", files.len());
        let (open, uris) = (HashMap::new(), HashMap::new());
        let mut resolved = 0usize;
        for path in files {
            // A buffer is text: the corpus file that is not UTF-8 is read lossily.
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let uri = analysis::path_uri(&canonical(&path)).unwrap();
            let cuts = (1..8)
                .map(|k| text.len() * k / 8)
                .filter(|c| text.is_char_boundary(*c));
            for (i, len) in std::iter::once(text.len()).chain(cuts).enumerate() {
                let text = &text[..len];
                let a = Analysis::new(&uri, text, &open, &uris);
                let file = pcidevc_dsl::source::FileId(0);
                let step = if i == 0 { 2 } else { 17 };
                for offset in (0..=text.len() + 1).step_by(step) {
                    if let Some((name, d)) = a.index.at(file, offset) {
                        // The name under the cursor is the declaration's,
                        // or an element `NAME_i` of an array `NAME`.
                        let used = a.compiled.sources.snippet(name);
                        let declared = &a.index.defs[d].name;
                        assert!(
                            used == declared
                                || used
                                    .strip_prefix(declared.as_str())
                                    .is_some_and(|i| i.starts_with('_')),
                            "{}: `{used}` resolved to `{declared}`",
                            path.display()
                        );
                        let def = &a.index.defs[d];
                        assert_eq!(
                            a.compiled.sources.snippet(def.span),
                            def.name,
                            "{}",
                            path.display()
                        );
                        assert!(!hover::hover(&a.index, d, &a.compiled.sources).is_empty());
                        resolved += 1;
                    }
                    complete::complete(&a.index, file, text, offset);
                }
                symbols::outline(&a, file);
                for d in a.diagnostics(file) {
                    assert!(d.range.start <= d.range.end, "{}: {d:?}", path.display());
                }
            }
        }
        assert!(
            resolved > 5_000,
            "only {resolved} positions resolved to a declaration"
        );
    }
}
