//! One open spec compiled as `pcidevc check` compiles it, with what the
//! server needs to answer about it: diagnostics in protocol form, the name
//! index, line tables and the URI of every file it read.
//!
//! Includes are read from the editor's buffers when they are open (unsaved
//! edits count), else from disk, relative to the including file as always.

use super::index::Index;
use super::lines::Lines;
use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};
use pcidevc_dsl::Compiled;
use pcidevc_dsl::diag::{Diagnostic, Severity};
use pcidevc_dsl::parse::{FsLoader, Loader, NoIncludes};
use pcidevc_dsl::source::{FileId, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Analysis {
    pub compiled: Compiled,
    pub index: Index,
    /// Per file of `compiled.sources`: its line table and URI.
    lines: Vec<Lines>,
    uris: Vec<Option<Uri>>,
}

/// Reads open buffers first, then the file system.
struct Overlay<'a> {
    open: &'a HashMap<PathBuf, String>,
}

impl Loader for Overlay<'_> {
    fn resolve(&self, from: Option<&Path>, name: &str) -> PathBuf {
        FsLoader.resolve(from, name)
    }
    fn load(&mut self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.open.get(&canonical(path)) {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => FsLoader.load(path),
        }
    }
}

pub fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Analysis {
    /// Compile `text`, the buffer of `uri`. `open` maps the canonical paths
    /// of open buffers to their text; `uri_of` gives the URI a client uses
    /// for an open file.
    pub fn new(
        uri: &Uri,
        text: &str,
        open: &HashMap<PathBuf, String>,
        uri_of: &HashMap<PathBuf, Uri>,
    ) -> Analysis {
        let path = uri_path(uri);
        let name = path
            .as_ref()
            .map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
        let bytes = text.as_bytes().to_vec();
        let compiled = match &path {
            Some(p) => pcidevc_dsl::compile_bytes(&name, Some(p), bytes, &mut Overlay { open }),
            None => pcidevc_dsl::compile_bytes(&name, None, bytes, &mut NoIncludes),
        };
        let index = Index::build(&compiled.ast);
        let files = compiled.sources.files();
        let lines = files.iter().map(|f| Lines::new(&f.text)).collect();
        let uris = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 0 {
                    return Some(uri.clone());
                }
                let p = canonical(f.path.as_deref()?);
                uri_of.get(&p).cloned().or_else(|| path_uri(&p))
            })
            .collect();
        Analysis {
            compiled,
            index,
            lines,
            uris,
        }
    }

    pub fn uri(&self, file: FileId) -> Option<&Uri> {
        self.uris.get(file.0 as usize)?.as_ref()
    }

    /// The file of this analysis that `uri` names.
    pub fn file(&self, uri: &Uri) -> Option<FileId> {
        let i = self.uris.iter().position(|u| u.as_ref() == Some(uri))?;
        Some(FileId(u32::try_from(i).ok()?))
    }

    pub fn text(&self, file: FileId) -> &str {
        self.compiled
            .sources
            .get(file)
            .map_or("", |f| f.text.as_str())
    }

    pub fn offset(&self, file: FileId, pos: lsp_types::Position) -> usize {
        match self.lines.get(file.0 as usize) {
            Some(l) => l.offset(self.text(file), pos),
            None => 0,
        }
    }

    pub fn range(&self, span: Span) -> lsp_types::Range {
        match self.lines.get(span.file.0 as usize) {
            Some(l) => l.range(self.text(span.file), span.start, span.end),
            None => lsp_types::Range::default(),
        }
    }

    pub fn location(&self, span: Span) -> Option<Location> {
        Some(Location::new(
            self.uri(span.file)?.clone(),
            self.range(span),
        ))
    }

    /// The diagnostics located in `file`, as the protocol has them.
    pub fn diagnostics(&self, file: FileId) -> Vec<lsp_types::Diagnostic> {
        self.compiled
            .diagnostics
            .iter()
            .filter(|d| d.span.file == file)
            .map(|d| self.convert(d))
            .collect()
    }

    /// The message as rustc-style editors show it: the message, then the
    /// label, notes and help; other sites as related information.
    fn convert(&self, d: &Diagnostic) -> lsp_types::Diagnostic {
        let mut message = d.message.clone();
        if !d.label.is_empty() {
            message.push_str(&format!("\n{}", d.label));
        }
        for n in &d.notes {
            message.push_str(&format!("\nnote: {n}"));
        }
        if let Some(h) = &d.hint {
            message.push_str(&format!("\nhelp: {h}"));
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .related
            .iter()
            .filter_map(|l| {
                Some(DiagnosticRelatedInformation {
                    location: self.location(l.span)?,
                    message: l.message.clone(),
                })
            })
            .collect();
        lsp_types::Diagnostic {
            range: self.range(d.span),
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.to_string())),
            source: Some("pcidevc".to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lsp_types::Diagnostic::default()
        }
    }
}

/// The local path of a `file:` URI (percent-decoded), else `None`.
pub fn uri_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///p` (empty authority) or `file://localhost/p`.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// The `file:` URI of an absolute path.
pub fn path_uri(path: &Path) -> Option<Uri> {
    let s = path.to_str()?;
    if !s.starts_with('/') {
        return None;
    }
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/a b/ç.pcidev");
        let u = path_uri(p).unwrap();
        assert_eq!(u.as_str(), "file:///tmp/a%20b/%C3%A7.pcidev");
        assert_eq!(uri_path(&u).as_deref(), Some(p));
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(uri_path(&untitled), None);
    }
}
