//! Diagnostics as rustc's JSON (`--error-format json`), one object per
//! diagnostic, so that tools that read rustc's output read ours:
//!
//! - `$message_type`: `"diagnostic"`; `message`; `level`: `"error"` or
//!   `"warning"`; `code`: `{code, explanation}` (the [`CODES`] text);
//! - `spans`: the primary site (`is_primary: true`) and the other sites,
//!   each with `file_name`, 0-based `byte_start`/`byte_end` into the file,
//!   1-based `line_start`/`line_end` and character `column_start`/
//!   `column_end` (end exclusive), the source lines it touches (`text`:
//!   `[{text, highlight_start, highlight_end}]`, left empty past
//!   [`MAX_FRAME_BYTES`]), its `label`, and `suggested_replacement`,
//!   `suggestion_applicability`, `expansion` (always null here);
//!   a [`Diagnostic::whole_file`] problem has no span;
//! - `children`: the notes and the hint, as `note` / `help` messages
//!   without spans (and, as in rustc, without `$message_type`);
//! - `rendered`: [`Diagnostic::rendered`] without colors.
//!
//! [`CODES`]: super::CODES

use super::render::MAX_FRAME_BYTES;
use super::{Diagnostic, Remark, explain};
use crate::source::{SourceMap, Span};
use serde::Serialize;

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    /// `"diagnostic"` on the top object; children have none (as in rustc).
    #[serde(rename = "$message_type", skip_serializing_if = "Option::is_none")]
    message_type: Option<&'static str>,
    message: &'a str,
    code: Option<JsonCode>,
    level: &'static str,
    spans: Vec<JsonSpan<'a>>,
    children: Vec<JsonDiagnostic<'a>>,
    rendered: Option<String>,
}

#[derive(Serialize)]
struct JsonCode {
    code: &'static str,
    explanation: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonSpan<'a> {
    file_name: &'a str,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    line_end: usize,
    column_start: usize,
    column_end: usize,
    is_primary: bool,
    text: Vec<JsonLine<'a>>,
    label: Option<&'a str>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<String>,
    expansion: Option<()>,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    text: &'a str,
    highlight_start: usize,
    highlight_end: usize,
}

impl Diagnostic {
    /// One rustc-shaped JSON object (a single line when serialized).
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let spans = if self.whole_file {
            Vec::new()
        } else {
            std::iter::once(span(sources, self.span, &self.label, true))
                .chain(
                    self.related
                        .iter()
                        .map(|l| span(sources, l.span, &l.message, false)),
                )
                .flatten()
                .collect()
        };
        let children = self
            .notes
            .iter()
            .map(|n| child("note", n.as_str()))
            .chain(self.hint.iter().map(|h| child("help", h.as_str())))
            .collect();
        let json = JsonDiagnostic {
            message_type: Some("diagnostic"),
            message: &self.message,
            code: Some(JsonCode {
                code: self.code,
                explanation: explain(self.code).map(|c| c.explanation),
            }),
            level: self.severity.as_str(),
            spans,
            children,
            rendered: Some(self.rendered(sources, false)),
        };
        serde_json::to_value(json).unwrap_or(serde_json::Value::Null)
    }
}

impl Remark {
    /// The same shape as [`Diagnostic::to_json`], with a null `code` and no
    /// spans (both allowed by rustc's format).
    pub fn to_json(&self) -> serde_json::Value {
        let children = self
            .notes
            .iter()
            .map(|n| child("note", n))
            .chain(self.help.iter().map(|h| child("help", h)))
            .collect();
        let json = JsonDiagnostic {
            message_type: Some("diagnostic"),
            message: &self.message,
            code: None,
            level: self.severity.as_str(),
            spans: Vec::new(),
            children,
            rendered: Some(self.rendered(false)),
        };
        serde_json::to_value(json).unwrap_or(serde_json::Value::Null)
    }
}

/// A note or help attached to a diagnostic: no code, no span.
fn child<'a>(level: &'static str, message: &'a str) -> JsonDiagnostic<'a> {
    JsonDiagnostic {
        message_type: None,
        message,
        code: None,
        level,
        spans: Vec::new(),
        children: Vec::new(),
        rendered: None,
    }
}

/// One site; `None` when its file is not in the map (never, for spans the
/// front end made).
fn span<'a>(
    sources: &'a SourceMap,
    span: Span,
    label: &'a str,
    is_primary: bool,
) -> Option<JsonSpan<'a>> {
    let file = sources.get(span.file)?;
    let start = file.snap(span.start);
    let end = file.snap(span.end).max(start);
    let (line_start, column_start) = file.line_col(start);
    let (line_end, column_end) = file.line_col(end);
    let lines = file.lines_around(start, end);
    let mut text = Vec::new();
    if lines.len() <= MAX_FRAME_BYTES {
        let mut line_at = lines.start;
        for line in file.text[lines].split('\n') {
            let column = |offset: usize| {
                let inside = offset.clamp(line_at, line_at + line.len()) - line_at;
                line[..inside].chars().count() + 1
            };
            text.push(JsonLine {
                text: line,
                highlight_start: column(start),
                highlight_end: column(end),
            });
            line_at += line.len() + 1;
        }
    }
    Some(JsonSpan {
        file_name: &file.name,
        byte_start: start,
        byte_end: end,
        line_start,
        line_end,
        column_start,
        column_end,
        is_primary,
        text,
        label: Some(label).filter(|l| !l.is_empty()),
        suggested_replacement: None,
        suggestion_applicability: None,
        expansion: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::diag::Diagnostic;
    use crate::source::{FileId, SourceFile, SourceMap, Span};

    #[test]
    fn spans_carry_bytes_lines_columns_and_text() {
        let mut s = SourceMap::new();
        s.add(SourceFile::new(
            "t.pcidev",
            None,
            "ab\ncé d\nxyz\n".to_string(),
        ));
        let d = Diagnostic::error("E0402", Span::new(FileId(0), 7, 10), "m")
            .also(Span::new(FileId(0), 0, 1), "first")
            .note("n")
            .hint("h");
        let j = d.to_json(&s);
        assert_eq!(j["$message_type"], "diagnostic");
        assert_eq!(j["level"], "error");
        assert_eq!(j["code"]["code"], "E0402");
        assert!(j["code"]["explanation"].is_string());
        let p = &j["spans"][0];
        assert_eq!(p["is_primary"], true);
        assert_eq!(
            (p["byte_start"].as_u64(), p["byte_end"].as_u64()),
            (Some(7), Some(10))
        );
        // `d` is column 4 of line 2 (`é` is one character, two bytes); the
        // span runs to the end of line 2 and into line 3 up to before `y`.
        assert_eq!(
            (p["line_start"].as_u64(), p["column_start"].as_u64()),
            (Some(2), Some(4))
        );
        assert_eq!(
            (p["line_end"].as_u64(), p["column_end"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(p["text"][0]["text"], "cé d");
        assert_eq!(p["text"][0]["highlight_start"], 4);
        assert_eq!(p["text"][0]["highlight_end"], 5);
        assert_eq!(p["text"][1]["text"], "xyz");
        assert_eq!(p["text"][1]["highlight_start"], 1);
        assert_eq!(p["text"][1]["highlight_end"], 2);
        assert!(p["label"].is_null(), "no primary label given");
        assert!(p["suggested_replacement"].is_null() && p["expansion"].is_null());
        let r = &j["spans"][1];
        assert_eq!(
            (r["is_primary"].as_bool(), r["label"].as_str()),
            (Some(false), Some("first"))
        );
        assert_eq!(j["children"][0]["level"], "note");
        assert_eq!(j["children"][1]["level"], "help");
        assert_eq!(j["children"][1]["message"], "h");
        assert!(j["children"][1]["code"].is_null() && j["children"][1]["rendered"].is_null());
        assert!(j["children"][1].get("$message_type").is_none());
        assert_eq!(j["rendered"], d.rendered(&s, false));
    }
}
