//! Diagnostics for people, in rustc's layout (through `annotate-snippets`,
//! the renderer rustc itself uses):
//!
//! ```text
//! error[E0302]: register `BAR` overlaps register `FOO`
//!  --> bad.pcidev:5:24
//!   |
//! 4 |         register FOO @ 0x0 : u32 rw;
//!   |                        --- `FOO` is 0x0..0x4
//! 5 |         register BAR @ 0x2 : u16 ro;
//!   |                        ^^^ 0x2..0x4
//!   |
//!   = help: to show one value at two offsets, read a `state` from two registers
//! ```
//!
//! The primary site is marked `^^^`, the other sites `---` (in a frame of
//! their own, `:::`, when they are in another file); notes and the hint
//! follow as `= note:` / `= help:`. [`Diagnostic::short`] is rustc's
//! `--error-format short` line, and [`summary`] is cargo's closing line, a
//! [`Remark`] (a message about no source text).
//!
//! Cost is bounded whatever the input: a frame shows only the lines its
//! sites touch, and when those exceed [`MAX_FRAME_BYTES`] (a 10 MB line)
//! the sites are listed as `file:line:col` notes instead.

use super::{Diagnostic, Remark, Severity};
use crate::source::{SourceFile, SourceMap, Span};
use annotate_snippets::{
    AnnotationKind, Element, Group, Level, Origin, Padding, Renderer, Snippet,
};

/// The most source text one code frame shows.
pub const MAX_FRAME_BYTES: usize = 64 << 10;

/// All diagnostics for a terminal, each followed by a blank line: the
/// concatenation of every [`Diagnostic::rendered`].
pub fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    diags.iter().map(|d| d.rendered(sources, color)).collect()
}

/// Cargo's closing line for one spec: `error: could not compile `F` due to
/// N previous errors; M warnings emitted`, or `warning: `F` generated M
/// warnings`; `None` when there is nothing to say.
pub fn summary(file: &str, errors: usize, warnings: usize) -> Option<Remark> {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    if errors > 0 {
        let mut text = format!(
            "could not compile `{file}` due to {}",
            plural(errors, "previous error")
        );
        if warnings > 0 {
            text.push_str(&format!("; {} emitted", plural(warnings, "warning")));
        }
        Some(Remark::new(Severity::Error, text))
    } else if warnings > 0 {
        Some(Remark::new(
            Severity::Warning,
            format!("`{file}` generated {}", plural(warnings, "warning")),
        ))
    } else {
        None
    }
}

impl Remark {
    /// `error: message`, then its notes and help; ends with a newline.
    pub fn rendered(&self, color: bool) -> String {
        let notes = self.notes.iter().map(|n| Level::NOTE.message(n.as_str()));
        let help = self.help.iter().map(|h| Level::HELP.message(h.as_str()));
        let group = Group::with_title(level(self.severity).primary_title(self.message.as_str()))
            .elements(notes.chain(help));
        let mut text = renderer(color).render(&[group]);
        text.push('\n');
        text
    }
}

impl Diagnostic {
    /// The human form, ending with a blank line (what rustc puts in the
    /// JSON `rendered` field; [`render`] prints these one after another).
    pub fn rendered(&self, sources: &SourceMap, color: bool) -> String {
        let mut text = renderer(color).render(&[self.group(sources)]);
        text.push_str("\n\n");
        text
    }

    /// `file:line:col: error[E0302]: message`: one line, for logs, tests
    /// and `--message-format short`. A [`Diagnostic::whole_file`] problem
    /// has no `:line:col`.
    pub fn short(&self, sources: &SourceMap) -> String {
        self.short_styled(sources, false)
    }

    /// [`Diagnostic::short`], with rustc's colors when `color`.
    pub fn short_styled(&self, sources: &SourceMap, color: bool) -> String {
        let location = if self.whole_file {
            sources
                .get(self.span.file)
                .map_or_else(|| "<unknown>".to_string(), |f| f.name.clone())
        } else {
            sources.location(self.span).to_string()
        };
        let title = level(self.severity)
            .primary_title(self.message.as_str())
            .id(self.code);
        format!(
            "{location}: {}",
            renderer(color).render(&[Group::with_title(title)])
        )
    }

    /// The report as annotate-snippets builds it.
    fn group<'a>(&'a self, sources: &'a SourceMap) -> Group<'a> {
        let title = level(self.severity)
            .primary_title(self.message.as_str())
            .id(self.code);
        let mut elements: Vec<Element<'a>> = Vec::new();
        if !self.whole_file {
            for sites in by_file(self) {
                match sources.get(sites[0].span.file) {
                    Some(file) => frame(file, &sites, &mut elements),
                    None => elements.push(Origin::path("<unknown>").into()),
                }
            }
        }
        let more = !self.notes.is_empty() || self.hint.is_some();
        if more && matches!(elements.last(), Some(Element::Origin(_))) {
            // A frame ends with its own `|`; a bare location needs one.
            elements.push(Padding.into());
        }
        elements.extend(
            self.notes
                .iter()
                .map(|n| Level::NOTE.message(n.as_str()).into()),
        );
        elements.extend(
            self.hint
                .iter()
                .map(|h| Level::HELP.message(h.as_str()).into()),
        );
        Group::with_title(title).elements(elements)
    }
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    }
}

fn renderer(color: bool) -> Renderer {
    if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

/// One marked place: the primary site or another one.
struct Site<'a> {
    span: Span,
    label: &'a str,
    primary: bool,
}

/// The sites grouped by file: the primary site's file first, the others in
/// the order they were given.
fn by_file(d: &Diagnostic) -> Vec<Vec<Site<'_>>> {
    let sites = std::iter::once(Site {
        span: d.span,
        label: &d.label,
        primary: true,
    })
    .chain(d.related.iter().map(|l| Site {
        span: l.span,
        label: &l.message,
        primary: false,
    }));
    let mut files: Vec<Vec<Site<'_>>> = Vec::new();
    for site in sites {
        match files.iter_mut().find(|f| f[0].span.file == site.span.file) {
            Some(f) => f.push(site),
            None => files.push(vec![site]),
        }
    }
    files
}

/// One file's sites: a code frame of the lines they touch, or, when there
/// is no text to show or too much, the location and the labels as notes.
fn frame<'a>(file: &'a SourceFile, sites: &[Site<'a>], out: &mut Vec<Element<'a>>) {
    let lo = sites.iter().map(|s| s.span.start).min().unwrap_or(0);
    let hi = sites.iter().map(|s| s.span.end).max().unwrap_or(0);
    let lines = file.lines_around(lo, hi);
    if file.text.is_empty() || lines.len() > MAX_FRAME_BYTES {
        let (line, column) = file.line_col(sites[0].span.start);
        out.push(
            Origin::path(file.name.as_str())
                .line(line)
                .char_column(column)
                .into(),
        );
        for (i, site) in sites.iter().filter(|s| !s.label.is_empty()).enumerate() {
            if i == 0 {
                out.push(Padding.into());
            }
            let (line, column) = file.line_col(site.span.start);
            let note = format!("{}:{line}:{column}: {}", file.name, site.label);
            out.push(Level::NOTE.message(note).into());
        }
        return;
    }
    let relative = |offset: usize| file.snap(offset).clamp(lines.start, lines.end) - lines.start;
    let annotations = sites.iter().map(|s| {
        let kind = if s.primary {
            AnnotationKind::Primary
        } else {
            AnnotationKind::Context
        };
        let start = relative(s.span.start);
        let end = relative(s.span.end).max(start);
        kind.span(start..end)
            .label(Some(s.label).filter(|l| !l.is_empty()))
    });
    out.push(
        Snippet::source(&file.text[lines.clone()])
            .path(file.name.as_str())
            .line_start(file.line(lines.start))
            .annotations(annotations)
            .into(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    fn sources(text: &str) -> SourceMap {
        let mut s = SourceMap::new();
        s.add(SourceFile::new("bad.pcidev", None, text.to_string()));
        s
    }

    #[test]
    fn summary_words_like_cargo() {
        let s = |e, w| summary("x.pcidev", e, w).map(|r| r.rendered(false));
        assert_eq!(
            s(1, 0).as_deref(),
            Some("error: could not compile `x.pcidev` due to 1 previous error\n")
        );
        assert_eq!(
            s(2, 1).as_deref(),
            Some(
                "error: could not compile `x.pcidev` due to 2 previous errors; 1 warning emitted\n"
            )
        );
        assert_eq!(
            s(0, 3).as_deref(),
            Some("warning: `x.pcidev` generated 3 warnings\n")
        );
        assert_eq!(s(0, 0), None);
    }

    #[test]
    fn a_remark_has_notes_and_help() {
        let r = Remark::new(Severity::Error, "`out/x` is out of date")
            .note("differs: model.rs")
            .help("regenerate");
        assert_eq!(
            r.rendered(false),
            "error: `out/x` is out of date\n |\n = note: differs: model.rs\n = help: regenerate\n"
        );
    }

    #[test]
    fn a_whole_file_problem_has_no_frame() {
        let mut s = SourceMap::new();
        let f = s.add(SourceFile::new("gone.pcidev", None, String::new()));
        let d = Diagnostic::error("E0004", Span::new(f, 0, 0), "cannot read `gone.pcidev`")
            .hint("check the path")
            .whole_file();
        assert_eq!(
            d.rendered(&s, false),
            "error[E0004]: cannot read `gone.pcidev`\n |\n = help: check the path\n\n"
        );
        assert_eq!(
            d.short(&s),
            "gone.pcidev: error[E0004]: cannot read `gone.pcidev`"
        );
    }

    #[test]
    fn an_empty_file_shows_its_location_without_a_frame() {
        let s = sources("");
        let d = Diagnostic::error("E0101", Span::new(FileId(0), 0, 0), "no device")
            .label("expected a device");
        let text = d.rendered(&s, false);
        assert!(text.contains("--> bad.pcidev:1:1"), "{text}");
        assert!(
            text.contains("= note: bad.pcidev:1:1: expected a device"),
            "{text}"
        );
        assert!(!text.contains("1 |"), "{text}");
    }

    #[test]
    fn a_huge_line_is_not_framed() {
        let text = format!("{}BAD\n", "a".repeat(MAX_FRAME_BYTES));
        let s = sources(&text);
        let at = MAX_FRAME_BYTES;
        let d = Diagnostic::error("E0001", Span::new(FileId(0), at, at + 3), "bad").label("here");
        let out = d.rendered(&s, false);
        assert!(out.len() < 500, "{out}");
        assert!(
            out.contains(&format!("bad.pcidev:1:{}: here", at + 1)),
            "{out}"
        );
    }

    #[test]
    fn colors_only_when_asked() {
        let s = sources("device x {}\n");
        let d = Diagnostic::warning("W0003", Span::new(FileId(0), 7, 8), "w");
        assert!(!d.rendered(&s, false).contains('\x1b'));
        assert!(d.rendered(&s, true).contains('\x1b'));
        assert!(d.short_styled(&s, true).contains('\x1b'));
        assert!(!d.short(&s).contains('\x1b'));
    }
}
