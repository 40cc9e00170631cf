//! Text to AST: pest parsing, error recovery, includes.
//!
//! Robustness comes first here: the input may be anything (binary garbage,
//! a truncated file, a 10 MB line, 100 000 nested parentheses). Before pest
//! runs, [`check_nesting`] rejects inputs nested deeper than [`MAX_NESTING`]
//! so that no recursive descent (pest's or ours) can overflow the stack.
//! Expressions are built with an explicit operator stack (no recursion) and
//! capped at [`MAX_EXPR_DEPTH`] levels.
//!
//! This file holds the session (files, includes, recovery); the syntax is
//! turned into AST one concern per file: `lexemes`, `items` (the file
//! and device items), `registers` (BARs, config space, registers,
//! fields), `actions` (statements and expressions), `scenarios`, and
//! `errors` (what a syntax error message says).

use crate::ast::*;
use crate::diag::{self, Diagnostic};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use pest::Parser as _;
use pest::iterators::Pair;
use std::path::{Path, PathBuf};

mod actions;
mod errors;
mod items;
mod lexemes;
mod registers;
mod scenarios;

pub use actions::ast_depth;
use actions::*;
use errors::*;
pub use lexemes::{check_nesting, parse_number};

/// The pest parser of `grammar.pest`, kept in a private module: the
/// `Rule` enum pest derives (one variant per grammar rule) is the grammar's
/// implementation detail, not part of this crate's interface.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    pub(crate) struct SpecParser;
}
pub(crate) use grammar::{Rule, SpecParser};

/// Braces, brackets and parentheses nest at most this deep.
pub const MAX_NESTING: usize = 64;
/// Operators nest at most this deep in one expression.
pub const MAX_EXPR_DEPTH: usize = 64;
/// Includes nest at most this deep.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Larger files are refused (a spec is text written by people).
pub const MAX_FILE_SIZE: usize = 64 << 20;
/// Malformed items explained per spec; past that, garbage (a megabyte of
/// `;`) would give one error per byte.
pub const MAX_RECOVERED_ERRORS: usize = 100;

/// Where included files come from.
pub trait Loader {
    /// Resolve `include "name"` written in `from` (None: the top-level input).
    fn resolve(&self, from: Option<&Path>, name: &str) -> PathBuf;
    /// The bytes of the file at `path` (as [`Loader::resolve`] gave it); an
    /// error becomes a diagnostic on the `include`, never a panic.
    fn load(&mut self, path: &Path) -> std::io::Result<Vec<u8>>;
}

/// Loads from the file system; includes are relative to the including file.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn resolve(&self, from: Option<&Path>, name: &str) -> PathBuf {
        match from.and_then(Path::parent) {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        }
    }
    fn load(&mut self, path: &Path) -> std::io::Result<Vec<u8>> {
        let meta = std::fs::metadata(path)?;
        if meta.len() > MAX_FILE_SIZE as u64 {
            return Err(std::io::Error::other(format!(
                "file is {} bytes; specs are limited to {} bytes",
                meta.len(),
                MAX_FILE_SIZE
            )));
        }
        std::fs::read(path)
    }
}

/// For sources that have no file system (fuzzing, inline macro specs):
/// every include fails with a clear error.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIncludes;

impl Loader for NoIncludes {
    fn resolve(&self, _from: Option<&Path>, name: &str) -> PathBuf {
        PathBuf::from(name)
    }
    fn load(&mut self, _path: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "includes are not available for this input (it has no file system location)",
        ))
    }
}

/// The parser's state across one spec and its includes.
struct ParseSession<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    loader: &'a mut dyn Loader,
    /// Canonical paths of the files being parsed, outermost first.
    include_stack: Vec<PathBuf>,
    /// Malformed items seen so far (see [`MAX_RECOVERED_ERRORS`]).
    recovered: usize,
    /// Names the dropped items declared ([`SpecAst::malformed_names`]).
    malformed_names: Vec<String>,
}

/// Where the pairs being built come from: pest offsets are relative to the
/// string it parsed, which is a whole file (`base` 0) or a recovered slice.
#[derive(Clone, Copy)]
struct Cx {
    file: FileId,
    base: usize,
}

/// Parse a spec given as bytes (validated as UTF-8 here).
pub fn parse_bytes(
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
    loader: &mut dyn Loader,
    name: &str,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
) -> SpecAst {
    let mut session = ParseSession {
        sources,
        diags,
        loader,
        include_stack: Vec::new(),
        recovered: 0,
        malformed_names: Vec::new(),
    };
    if let Some(p) = &path {
        session.include_stack.push(canonical(p));
    }
    let mut spec = SpecAst::default();
    let Some(file) = session.add_file(name, path, bytes, None) else {
        return spec;
    };
    let text = session.text(file);
    let result = parse_rule(Rule::file, &text);
    match result {
        Ok(pair) => session.top_items(Cx { file, base: 0 }, pair, &mut spec),
        Err(e) => session.push_pest_error(Cx { file, base: 0 }, &e),
    }
    spec.malformed_names = session.malformed_names;
    spec
}

/// The name a malformed item's text declares, when it starts like a
/// declaration (`register NAME`, `fn NAME`, ...); for an array
/// (`register NAME[4]`) the array's name.
fn declared_name(item: &str) -> Option<String> {
    const DECLARING: [&str; 8] = [
        "register", "state", "hook", "timer", "stream", "let", "fn", "scenario",
    ];
    let mut words = item
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    let keyword = words.next()?;
    let name = words.next()?;
    let ident = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    (DECLARING.contains(&keyword) && ident).then(|| name.to_string())
}

/// The pest trees of a file (for [`crate::fmt`]), read as each thing a
/// file can be: a spec, then the two kinds of included fragment (device
/// items, BAR items). Empty when it is nested too deep.
pub(crate) fn parse_trees(text: &str) -> Vec<Pair<'_, Rule>> {
    if check_nesting(text).is_some() {
        return Vec::new();
    }
    [Rule::file, Rule::device_body, Rule::bar_body]
        .into_iter()
        .filter_map(|r| parse_rule(r, text).ok())
        .collect()
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn parse_rule(rule: Rule, text: &str) -> Result<Pair<'_, Rule>, Box<pest::error::Error<Rule>>> {
    pest::set_error_detail(true);
    let mut pairs = SpecParser::parse(rule, text).map_err(Box::new)?;
    pairs.next().ok_or_else(|| {
        Box::new(pest::error::Error::new_from_pos(
            pest::error::ErrorVariant::CustomError {
                message: "empty input".into(),
            },
            pest::Position::from_start(text),
        ))
    })
}

/// Which item list an `include` splices into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IncludeContext {
    Top,
    Device,
    Bar,
}

/// Where included items go.
enum Sink<'s> {
    Top(&'s mut SpecAst),
    Device(&'s mut Vec<DeviceItem>),
    Bar(&'s mut BarAst),
}

impl ParseSession<'_> {
    fn text(&self, file: FileId) -> String {
        self.sources
            .get(file)
            .map(|f| f.text.clone())
            .unwrap_or_default()
    }

    fn span(cx: Cx, p: &Pair<'_, Rule>) -> Span {
        // A rule ending in an optional part (`place`, `expr`, `if`) also
        // holds the whitespace pest skipped looking for it: not part of it.
        let start = cx.base + p.as_span().start();
        let text = p
            .as_str()
            .trim_end_matches([' ', '\t', '\r', '\n', '\u{feff}']);
        Span::new(cx.file, start, start + text.len())
    }

    /// Register a file, checking UTF-8 and nesting. `None` when the text is
    /// unusable (the diagnostic is already recorded).
    fn add_file(
        &mut self,
        name: &str,
        path: Option<PathBuf>,
        bytes: Vec<u8>,
        included_at: Option<Span>,
    ) -> Option<FileId> {
        match String::from_utf8(bytes) {
            Ok(text) => {
                let id = self.sources.add(SourceFile::new(name, path, text));
                let at = check_nesting(&self.sources.get(id)?.text);
                if let Some(at) = at {
                    let mut d = Diagnostic::error(
                        diag::TOO_DEEP,
                        Span::new(id, at, at + 1),
                        format!("brackets nest more than {MAX_NESTING} levels deep"),
                    )
                    .label("this one is too deep")
                    .hint("flatten the expression or the blocks; nothing else in this file was checked");
                    if let Some(at) = included_at {
                        d = d.also(at, "included here");
                    }
                    self.diags.push(d);
                    return None;
                }
                Some(id)
            }
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let bad = bytes.get(valid).copied().unwrap_or(0);
                // Keep the valid prefix so that the span can be shown.
                let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
                let id = self.sources.add(SourceFile::new(name, path, text));
                let mut d = Diagnostic::error(
                    diag::NOT_UTF8,
                    Span::new(id, valid, valid),
                    format!("byte {valid} (0x{bad:02x}) is not valid UTF-8"),
                )
                .label("here")
                .hint("specs are UTF-8 text; is this the right file?");
                if let Some(at) = included_at {
                    d = d.also(at, "included here");
                }
                self.diags.push(d);
                None
            }
        }
    }

    fn push_pest_error(&mut self, cx: Cx, e: &pest::error::Error<Rule>) {
        let (pos, use_rules, use_tokens, rule_pos) = error_position(e);
        let at = cx.base + pos;
        let text = self.sources.get(cx.file).map(|f| &f.text[..]).unwrap_or("");
        // A string or comment that never ends: where it starts is the news.
        let open = [cx.base + rule_pos, at]
            .into_iter()
            .find_map(|p| unterminated(text, p).map(|u| (p, u)));
        if let Some((start, (end, message, label, hint))) = open {
            self.diags.push(
                Diagnostic::error(diag::SYNTAX, Span::new(cx.file, start, end), message)
                    .label(label)
                    .hint(hint),
            );
            return;
        }
        let (expected, found) = describe_expected(e, text, at, use_rules, use_tokens);
        let span = Span::new(cx.file, at, at + found.len());
        let found_text = if found.is_empty() {
            "end of input".to_string()
        } else if found == "\n" || found == "\r" {
            "end of line".to_string()
        } else {
            format!("`{found}`")
        };
        self.diags.push(
            Diagnostic::error(
                diag::SYNTAX,
                span,
                format!("expected {expected}, found {found_text}"),
            )
            .label(format!("expected {expected}"))
            .hint(syntax_hint(&expected)),
        );
    }

    /// A swallowed malformed item: re-parse it alone with the rule it
    /// should have matched to say precisely what is wrong.
    fn recover(&mut self, cx: Cx, pair: &Pair<'_, Rule>, entry: Rule) {
        let span = Self::span(cx, pair);
        self.malformed_names.extend(declared_name(pair.as_str()));
        self.recovered += 1;
        if self.recovered > MAX_RECOVERED_ERRORS {
            if self.recovered == MAX_RECOVERED_ERRORS + 1 {
                self.diags.push(
                    Diagnostic::error(
                        diag::SYNTAX,
                        span,
                        format!("more than {MAX_RECOVERED_ERRORS} malformed items; the rest are not reported"),
                    )
                    .label("from here on, malformed items are skipped silently")
                    .hint("fix the first errors; is this a .pcidev file?"),
                );
            }
            return;
        }
        match parse_rule(entry, pair.as_str()) {
            Err(e) => self.push_pest_error(
                Cx {
                    file: cx.file,
                    base: span.start,
                },
                &e,
            ),
            Ok(_) => self.diags.push(
                Diagnostic::error(diag::SYNTAX, span, "this item is not allowed here")
                    .label("unexpected here")
                    .hint("check which block this item belongs to"),
            ),
        }
    }

    // ------------------------------------------------------------ includes

    fn include(&mut self, cx: Cx, pair: Pair<'_, Rule>, context: IncludeContext, sink: Sink<'_>) {
        let at = Self::span(cx, &pair);
        let Some(name_pair) = pair.into_inner().find(|p| p.as_rule() == Rule::string) else {
            return;
        };
        let Some(name) = self.string(cx, name_pair) else {
            return;
        };
        let from = self.sources.get(cx.file).and_then(|f| f.path.clone());
        let path = self.loader.resolve(from.as_deref(), &name.value);
        let canon = canonical(&path);
        if self.include_stack.contains(&canon) {
            self.diags.push(
                Diagnostic::error(
                    diag::INCLUDE_CYCLE,
                    name.span,
                    format!("`{}` includes itself", name.value),
                )
                .label("this include closes a cycle")
                .hint("remove one of the includes in the cycle"),
            );
            return;
        }
        if self.include_stack.len() >= MAX_INCLUDE_DEPTH {
            self.diags.push(
                Diagnostic::error(
                    diag::TOO_DEEP,
                    name.span,
                    format!("includes nest more than {MAX_INCLUDE_DEPTH} levels deep"),
                )
                .label("one include too many"),
            );
            return;
        }
        let bytes = match self.loader.load(&path) {
            Ok(b) => b,
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::INCLUDE_IO,
                        name.span,
                        format!("cannot read `{}`: {e}", path.display()),
                    )
                    .label("included here")
                    .hint("include paths are relative to the including file"),
                );
                return;
            }
        };
        let display = path.display().to_string();
        let Some(file) = self.add_file(&display, Some(path), bytes, Some(at)) else {
            return;
        };
        self.include_stack.push(canon);
        let text = self.text(file);
        let entry = match context {
            IncludeContext::Top => Rule::file,
            IncludeContext::Device => Rule::device_body,
            IncludeContext::Bar => Rule::bar_body,
        };
        let icx = Cx { file, base: 0 };
        match parse_rule(entry, &text) {
            Ok(root) => match sink {
                Sink::Top(spec) => self.top_items(icx, root, spec),
                Sink::Device(items) => {
                    for p in root.into_inner() {
                        self.device_item(icx, p, items);
                    }
                }
                Sink::Bar(bar) => {
                    for p in root.into_inner() {
                        self.bar_item(icx, p, bar);
                    }
                }
            },
            Err(e) => self.push_pest_error(icx, &e),
        }
        self.include_stack.pop();
    }
}
