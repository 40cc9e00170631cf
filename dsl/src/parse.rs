//! Text to AST: pest parsing, error recovery, includes.
//!
//! Robustness comes first here: the input may be anything (binary garbage,
//! a truncated file, a 10 MB line, 100 000 nested parentheses). Before pest
//! runs, [`check_nesting`] rejects inputs nested deeper than [`MAX_NESTING`]
//! so that no recursive descent (pest's or ours) can overflow the stack.
//! Expressions are built with an explicit operator stack (no recursion) and
//! capped at [`MAX_EXPR_DEPTH`] levels.

use crate::ast::*;
use crate::diag::{self, Diagnostic};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use pest::Parser as _;
use pest::iterators::Pair;
use std::path::{Path, PathBuf};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct SpecParser;

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
    spec
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

    // ------------------------------------------------------------ lexemes

    fn ident(cx: Cx, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: Self::span(cx, &p),
        }
    }

    /// Numbers that do not parse are reported and read as 0 so that the
    /// rest of the item is still checked.
    fn number(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Num {
        let span = Self::span(cx, &p);
        match parse_number(p.as_str()) {
            Ok(value) => Num { value, span },
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::BAD_NUMBER,
                        span,
                        format!("invalid number `{}`: {why}", p.as_str()),
                    )
                    .label(why)
                    .hint("numbers are u64: at most 0xffff_ffff_ffff_ffff"),
                );
                Num { value: 0, span }
            }
        }
    }

    fn string(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Str> {
        let span = Self::span(cx, &p);
        let raw = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => {
                    let shown = other.map(|c| c.to_string()).unwrap_or_default();
                    self.diags.push(
                        Diagnostic::error(
                            diag::BAD_STRING,
                            span,
                            format!("unknown escape `\\{shown}` in string"),
                        )
                        .label("in this string")
                        .hint("use \\\\, \\\", \\n or \\t"),
                    );
                    return None;
                }
            }
        }
        Some(Str { value: out, span })
    }

    // ------------------------------------------------------------ file and device

    fn top_items(&mut self, cx: Cx, file: Pair<'_, Rule>, spec: &mut SpecAst) {
        let mut items = file.into_inner().peekable();
        if let Some(p) = items.next_if(|p| p.as_rule() == Rule::language)
            && !self.language(cx, p, spec)
        {
            // A newer language may use anything: reading on would only
            // report its new constructs as syntax errors.
            return;
        }
        for p in items {
            match p.as_rule() {
                Rule::device => {
                    let d = self.device(cx, p);
                    spec.devices.push(d);
                }
                Rule::include => self.include(cx, p, IncludeContext::Top, Sink::Top(spec)),
                Rule::recover_top => self.recover(cx, &p, Rule::only_top),
                _ => {}
            }
        }
    }

    /// `language N;`: record it (the spec's own file's counts) and say
    /// whether this compiler reads that version.
    fn language(&mut self, cx: Cx, p: Pair<'_, Rule>, spec: &mut SpecAst) -> bool {
        let Some(n) = p.into_inner().find(|p| p.as_rule() == Rule::number) else {
            return true;
        };
        let num = self.number(cx, n);
        let newest = crate::ir::LANGUAGE_VERSION;
        if (1..=newest).contains(&num.value) {
            spec.language.get_or_insert(num);
            return true;
        }
        spec.language = Some(num);
        let version = env!("CARGO_PKG_VERSION");
        let d = if num.value == 0 {
            Diagnostic::error(diag::LANGUAGE_VERSION, num.span, "there is no language 0")
                .label("versions start at 1")
                .hint(format!("write `language {newest};`, or leave the item out"))
        } else {
            Diagnostic::error(
                diag::LANGUAGE_VERSION,
                num.span,
                format!(
                    "this spec is written for language {}, newer than pcidevc {version} reads",
                    num.value
                ),
            )
            .label(format!("pcidevc {version} reads languages 1 to {newest}"))
            .hint("use a newer pcidevc")
        };
        self.diags.push(d);
        false
    }

    fn device(&mut self, cx: Cx, p: Pair<'_, Rule>) -> DeviceAst {
        let span = Self::span(cx, &p);
        let mut inner = p.into_inner().filter(|p| p.as_rule() != Rule::k_device);
        let name = inner.next().map(|p| Self::ident(cx, p)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let mut items = Vec::new();
        for p in inner {
            self.device_item(cx, p, &mut items);
        }
        DeviceAst { name, span, items }
    }

    fn device_item(&mut self, cx: Cx, p: Pair<'_, Rule>, items: &mut Vec<DeviceItem>) {
        let span = Self::span(cx, &p);
        let rule = p.as_rule();
        if rule == Rule::include {
            self.include(cx, p, IncludeContext::Device, Sink::Device(items));
            return;
        }
        if rule == Rule::recover_item {
            self.recover(cx, &p, Rule::only_device_item);
            return;
        }
        if rule == Rule::EOI {
            return;
        }
        let mut nums = Vec::new();
        let mut inner = Vec::new();
        for i in p.into_inner().filter(|i| !is_keyword(i.as_rule())) {
            if i.as_rule() == Rule::number {
                nums.push(self.number(cx, i));
            } else {
                inner.push(i);
            }
        }
        let num = |k: usize| nums.get(k).copied().unwrap_or(Num { value: 0, span });
        let item = match rule {
            Rule::description => {
                let Some(s) = inner.pop().and_then(|s| self.string(cx, s)) else {
                    return;
                };
                DeviceItem::Description(s)
            }
            Rule::id_item => DeviceItem::Id {
                vendor: num(0),
                device: num(1),
                span,
            },
            Rule::revision => DeviceItem::Revision(num(0)),
            Rule::class_item => DeviceItem::Class {
                base: num(0),
                sub: num(1),
                prog_if: num(2),
                span,
            },
            Rule::subsystem => DeviceItem::Subsystem {
                vendor: num(0),
                id: num(1),
                span,
            },
            Rule::dma_buffer => DeviceItem::DmaBuffer(num(0)),
            Rule::interrupt => DeviceItem::Interrupt(self.interrupt(cx, span, inner)),
            Rule::state => DeviceItem::State(self.state(cx, span, inner, nums)),
            Rule::hook => DeviceItem::Hook(self.hook(cx, span, inner)),
            Rule::bar => DeviceItem::Bar(self.bar(cx, span, inner, &nums)),
            Rule::config_block => DeviceItem::Config(self.config(cx, span, inner)),
            Rule::scenario => DeviceItem::Scenario(self.scenario(cx, span, inner)),
            Rule::timer => {
                let mut it = inner.into_iter();
                let (Some(n), Some(b)) = (it.next(), it.next()) else {
                    return;
                };
                DeviceItem::Timer(TimerAst {
                    name: Self::ident(cx, n),
                    on_fire: self.block(cx, b),
                    span,
                })
            }
            Rule::stream => DeviceItem::Stream(self.stream(cx, span, inner)),
            Rule::let_item => {
                let mut it = inner.into_iter();
                let (Some(n), Some(e)) = (it.next(), it.next()) else {
                    return;
                };
                let name = Self::ident(cx, n);
                let Some(value) = self.expr(cx, e) else {
                    return;
                };
                DeviceItem::Let(LetAst { name, value, span })
            }
            Rule::fn_item => {
                let hook = self.hook(cx, span, inner.clone());
                let Some(body) = inner
                    .into_iter()
                    .find(|p| p.as_rule() == Rule::expr)
                    .and_then(|e| self.expr(cx, e))
                else {
                    return;
                };
                let Some(ret) = hook.ret else { return };
                DeviceItem::Fn(FnAst {
                    name: hook.name,
                    params: hook.params,
                    ret,
                    body,
                    span,
                })
            }
            _ => return,
        };
        items.push(item);
    }

    fn stream(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> StreamAst {
        let mut st = StreamAst {
            name: Ident {
                name: String::new(),
                span,
            },
            ready: Vec::new(),
            on_input: Vec::new(),
            span,
        };
        for p in inner {
            let item_span = Self::span(cx, &p);
            match p.as_rule() {
                Rule::ident => st.name = Self::ident(cx, p),
                Rule::recover_item => self.recover(cx, &p, Rule::only_stream_item),
                Rule::ready_item => {
                    if let Some(e) = p
                        .into_inner()
                        .find(|i| i.as_rule() == Rule::expr)
                        .and_then(|e| self.expr(cx, e))
                    {
                        st.ready.push((e, item_span));
                    }
                }
                Rule::on_input => {
                    if let Some(b) = p.into_inner().find(|i| i.as_rule() == Rule::block) {
                        let stmts = self.block(cx, b);
                        st.on_input.push((stmts, item_span));
                    }
                }
                _ => {}
            }
        }
        st
    }

    fn interrupt(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> InterruptAst {
        let mut items = Vec::new();
        let mut malformed = false;
        for p in inner {
            let item_span = Self::span(cx, &p);
            let rule = p.as_rule();
            if rule == Rule::recover_item {
                self.recover(cx, &p, Rule::only_interrupt_item);
                malformed = true;
                continue;
            }
            let mut parts = p.into_inner().filter(|i| !is_keyword(i.as_rule()));
            let (Some(first), second, third) = (parts.next(), parts.next(), parts.next()) else {
                malformed = true;
                continue;
            };
            let item = match rule {
                Rule::pin_item => Some(InterruptItem::Pin(Self::ident(cx, first))),
                Rule::msi_item => Some(InterruptItem::Msi(self.number(cx, first))),
                Rule::msix_item => {
                    let mut nums = [first]
                        .into_iter()
                        .chain(second)
                        .chain(third)
                        .chain(parts)
                        .map(|n| self.number(cx, n));
                    match (
                        nums.next(),
                        nums.next(),
                        nums.next(),
                        nums.next(),
                        nums.next(),
                    ) {
                        (Some(vectors), Some(tb), Some(to), Some(pb), Some(po)) => {
                            Some(InterruptItem::Msix {
                                vectors,
                                table: (tb, to),
                                pba: (pb, po),
                            })
                        }
                        _ => None,
                    }
                }
                Rule::level_item => self.expr(cx, first).map(InterruptItem::Level),
                Rule::status_item => Some(InterruptItem::Status(Self::ident(cx, first))),
                Rule::mine_item => self.expr(cx, first).map(InterruptItem::Mine),
                Rule::ack_item => {
                    let register = Self::ident(cx, first);
                    let value = second.and_then(|e| self.expr(cx, e));
                    let when = match third {
                        Some(w) => self.expr(cx, w).map(Some),
                        None => Some(None),
                    };
                    match (value, when) {
                        (Some(value), Some(when)) => Some(InterruptItem::Ack {
                            register,
                            value,
                            when,
                        }),
                        _ => None,
                    }
                }
                _ => None,
            };
            match item {
                Some(item) => items.push((item, item_span)),
                // Reported by the expression parser (E0003 and friends).
                None => malformed = true,
            }
        }
        InterruptAst {
            span,
            items,
            malformed,
        }
    }

    fn state(
        &mut self,
        cx: Cx,
        span: Span,
        inner: Vec<Pair<'_, Rule>>,
        nums: Vec<Num>,
    ) -> StateAst {
        let mut name = Ident {
            name: String::new(),
            span,
        };
        let mut ty = TypeAst::Scalar(ScalarType::U32, span);
        let mut reset = nums.first().copied();
        let mut init = None;
        let mut sticky = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident => name = Self::ident(cx, p),
                Rule::type_name => {
                    let tspan = Self::span(cx, &p);
                    if let Some(t) = p.into_inner().next() {
                        ty = match t.as_rule() {
                            Rule::fifo_type => {
                                let mut elem = ScalarType::U8;
                                let mut cap = Num {
                                    value: 0,
                                    span: tspan,
                                };
                                for i in t.into_inner() {
                                    match i.as_rule() {
                                        Rule::scalar_type => {
                                            elem = ScalarType::parse(i.as_str())
                                                .unwrap_or(ScalarType::U8)
                                        }
                                        Rule::number => cap = self.number(cx, i),
                                        _ => {}
                                    }
                                }
                                TypeAst::Fifo(elem, cap, tspan)
                            }
                            Rule::buffer_type => {
                                let n = t.into_inner().find(|i| i.as_rule() == Rule::number);
                                let n = n.map(|n| self.number(cx, n)).unwrap_or(Num {
                                    value: 0,
                                    span: tspan,
                                });
                                TypeAst::Buffer(n, tspan)
                            }
                            _ => TypeAst::Scalar(
                                ScalarType::parse(t.as_str()).unwrap_or(ScalarType::U32),
                                tspan,
                            ),
                        };
                    }
                }
                Rule::boolean => {
                    reset = Some(Num {
                        value: (p.as_str() == "true") as u64,
                        span: Self::span(cx, &p),
                    });
                }
                Rule::string => init = self.string(cx, p).map(BufferInit::Text),
                Rule::sticky => sticky = Some(Self::span(cx, &p)),
                Rule::strings_init => {
                    let ispan = Self::span(cx, &p);
                    let mut slot = Num {
                        value: 0,
                        span: ispan,
                    };
                    let mut strings = Vec::new();
                    for i in p.into_inner() {
                        match i.as_rule() {
                            Rule::number => slot = self.number(cx, i),
                            Rule::string => strings.extend(self.string(cx, i)),
                            _ => {}
                        }
                    }
                    init = Some(BufferInit::Strings {
                        slot,
                        strings,
                        span: ispan,
                    });
                }
                _ => {}
            }
        }
        StateAst {
            name,
            ty,
            reset,
            init,
            sticky,
            span,
        }
    }

    fn hook(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> HookAst {
        let mut name = Ident {
            name: String::new(),
            span,
        };
        let mut params = Vec::new();
        let mut ret = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident => name = Self::ident(cx, p),
                Rule::hook_params => {
                    for param in p.into_inner() {
                        let mut parts = param.into_inner();
                        if let (Some(n), Some(t)) = (parts.next(), parts.next()) {
                            let ty = ScalarType::parse(t.as_str()).unwrap_or(ScalarType::U64);
                            params.push((Self::ident(cx, n), ty));
                        }
                    }
                }
                Rule::scalar_type => {
                    let ty = ScalarType::parse(p.as_str()).unwrap_or(ScalarType::U64);
                    ret = Some((ty, Self::span(cx, &p)));
                }
                _ => {}
            }
        }
        HookAst {
            name,
            params,
            ret,
            span,
        }
    }

    // ------------------------------------------------------------ BARs, registers

    fn bar(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>, nums: &[Num]) -> BarAst {
        let zero = Num { value: 0, span };
        let mut bar = BarAst {
            index: nums.first().copied().unwrap_or(zero),
            kind: BarKindAst::Mem32,
            kind_span: span,
            prefetchable: None,
            size: nums.get(1).copied().unwrap_or(zero),
            access: Vec::new(),
            invalid: Vec::new(),
            unmapped: Vec::new(),
            registers: Vec::new(),
            windows: Vec::new(),
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::bar_kind => {
                    bar.kind_span = Self::span(cx, &p);
                    bar.kind = match p.as_str() {
                        "io" => BarKindAst::Io,
                        "mem64" => BarKindAst::Mem64,
                        _ => BarKindAst::Mem32,
                    };
                }
                Rule::prefetchable => bar.prefetchable = Some(Self::span(cx, &p)),
                _ => self.bar_item(cx, p, &mut bar),
            }
        }
        bar
    }

    fn bar_item(&mut self, cx: Cx, p: Pair<'_, Rule>, bar: &mut BarAst) {
        let span = Self::span(cx, &p);
        match p.as_rule() {
            Rule::access_item => {
                let mut sizes = Vec::new();
                let mut unaligned = false;
                for i in p.into_inner() {
                    match i.as_rule() {
                        Rule::number => sizes.push(self.number(cx, i)),
                        Rule::unaligned => unaligned = true,
                        _ => {}
                    }
                }
                bar.access.push(AccessAst {
                    sizes,
                    unaligned,
                    span,
                });
            }
            Rule::invalid_item => {
                if let Some(k) = p.into_inner().find(|i| i.as_rule() == Rule::invalid_kind) {
                    let kind = match k.as_str() {
                        "ones" => InvalidKindAst::Ones,
                        "error" => InvalidKindAst::Error,
                        _ => InvalidKindAst::Ignore,
                    };
                    bar.invalid.push((kind, span));
                }
            }
            Rule::unmapped_item => {
                let ones = p
                    .into_inner()
                    .any(|i| i.as_rule() == Rule::unmapped_kind && i.as_str() == "ones");
                bar.unmapped.push((ones, span));
            }
            Rule::register => {
                let r = self.register(cx, p);
                bar.registers.push(r);
            }
            Rule::window_item => {
                let mut state = None;
                let mut offset = None;
                let mut writable = (true, None);
                for i in p.into_inner() {
                    match i.as_rule() {
                        Rule::ident => state = Some(Self::ident(cx, i)),
                        Rule::number => offset = Some(self.number(cx, i)),
                        Rule::window_access => {
                            writable = (i.as_str() == "rw", Some(Self::span(cx, &i)));
                        }
                        _ => {}
                    }
                }
                if let (Some(state), Some(offset)) = (state, offset) {
                    bar.windows.push(WindowAst {
                        state,
                        offset,
                        writable,
                        span,
                    });
                }
            }
            Rule::include => self.include(cx, p, IncludeContext::Bar, Sink::Bar(bar)),
            Rule::recover_item => self.recover(cx, &p, Rule::only_bar_item),
            _ => {}
        }
    }

    fn config(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> ConfigAst {
        let mut config = ConfigAst {
            registers: Vec::new(),
            capabilities: Vec::new(),
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::register => {
                    let r = self.register(cx, p);
                    config.registers.push(r);
                }
                Rule::capability => {
                    let cspan = Self::span(cx, &p);
                    let zero = Num {
                        value: 0,
                        span: cspan,
                    };
                    let mut cap = CapabilityAst {
                        kind: (String::new(), cspan),
                        offset: zero,
                        size: zero,
                        registers: Vec::new(),
                        span: cspan,
                    };
                    let mut nums = 0;
                    for i in p.into_inner() {
                        match i.as_rule() {
                            Rule::cap_kind => {
                                cap.kind = (i.as_str().to_owned(), Self::span(cx, &i));
                            }
                            Rule::number => {
                                let n = self.number(cx, i);
                                if nums == 0 {
                                    cap.offset = n;
                                } else {
                                    cap.size = n;
                                }
                                nums += 1;
                            }
                            Rule::register => {
                                let r = self.register(cx, i);
                                cap.registers.push(r);
                            }
                            Rule::recover_item => self.recover(cx, &i, Rule::only_cap_item),
                            _ => {}
                        }
                    }
                    config.capabilities.push(cap);
                }
                Rule::recover_item => self.recover(cx, &p, Rule::only_config_item),
                _ => {}
            }
        }
        config
    }

    fn register(&mut self, cx: Cx, p: Pair<'_, Rule>) -> RegisterAst {
        let span = Self::span(cx, &p);
        let zero = Num { value: 0, span };
        let mut reg = RegisterAst {
            name: Ident {
                name: String::new(),
                span,
            },
            count: None,
            offset: zero,
            width: (ScalarType::U32, span),
            access: None,
            reset: None,
            fields: Vec::new(),
            access_sizes: Vec::new(),
            read: Vec::new(),
            on_read: Vec::new(),
            on_write: Vec::new(),
            span,
        };
        let mut seen_offset = false;
        for i in p.into_inner() {
            let ispan = Self::span(cx, &i);
            match i.as_rule() {
                Rule::ident => reg.name = Self::ident(cx, i),
                Rule::array_len => {
                    if let Some(n) = i.into_inner().next() {
                        reg.count = Some(self.number(cx, n));
                    }
                }
                Rule::access_item => {
                    let mut sizes = Vec::new();
                    let mut unaligned = false;
                    for x in i.into_inner() {
                        match x.as_rule() {
                            Rule::number => sizes.push(self.number(cx, x)),
                            Rule::unaligned => unaligned = true,
                            _ => {}
                        }
                    }
                    reg.access_sizes.push(AccessAst {
                        sizes,
                        unaligned,
                        span: ispan,
                    });
                }
                Rule::number if !seen_offset => {
                    reg.offset = self.number(cx, i);
                    seen_offset = true;
                }
                Rule::number => reg.reset = Some(self.number(cx, i)),
                Rule::scalar_type => {
                    reg.width = (
                        ScalarType::parse(i.as_str()).unwrap_or(ScalarType::U32),
                        ispan,
                    )
                }
                Rule::access_kind => reg.access = AccessKind::parse(i.as_str()).map(|a| (a, ispan)),
                Rule::field => {
                    let f = self.field(cx, i);
                    reg.fields.push(f);
                }
                Rule::read_item => {
                    if let Some(e) = i
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::expr)
                        .and_then(|e| self.expr(cx, e))
                    {
                        reg.read.push((e, ispan));
                    }
                }
                Rule::on_read | Rule::on_write => {
                    let is_read = i.as_rule() == Rule::on_read;
                    let block = i.into_inner().find(|x| x.as_rule() == Rule::block);
                    let stmts = block.map(|b| self.block(cx, b)).unwrap_or_default();
                    if is_read {
                        reg.on_read.push((stmts, ispan));
                    } else {
                        reg.on_write.push((stmts, ispan));
                    }
                }
                Rule::recover_item => self.recover(cx, &i, Rule::only_reg_item),
                _ => {}
            }
        }
        reg
    }

    fn field(&mut self, cx: Cx, p: Pair<'_, Rule>) -> FieldAst {
        let span = Self::span(cx, &p);
        let zero = Num { value: 0, span };
        let mut f = FieldAst {
            name: Ident {
                name: String::new(),
                span,
            },
            hi: zero,
            lo: zero,
            bits_span: span,
            access: (AccessKind::Rw, span),
            reset: None,
            variants: Vec::new(),
            span,
        };
        for i in p.into_inner() {
            let ispan = Self::span(cx, &i);
            match i.as_rule() {
                Rule::ident => f.name = Self::ident(cx, i),
                Rule::bits => {
                    f.bits_span = ispan;
                    let nums: Vec<Num> = i.into_inner().map(|n| self.number(cx, n)).collect();
                    f.hi = nums.first().copied().unwrap_or(zero);
                    f.lo = nums.get(1).copied().unwrap_or(f.hi);
                }
                Rule::access_kind => {
                    f.access = (
                        AccessKind::parse(i.as_str()).unwrap_or(AccessKind::Rw),
                        ispan,
                    )
                }
                Rule::number => f.reset = Some(self.number(cx, i)),
                Rule::enum_variants => {
                    for v in i.into_inner() {
                        let mut parts = v.into_inner();
                        if let (Some(n), Some(val)) = (parts.next(), parts.next()) {
                            let name = Self::ident(cx, n);
                            let value = self.number(cx, val);
                            f.variants.push((name, value));
                        }
                    }
                }
                _ => {}
            }
        }
        f
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Vec<Stmt> {
        let mut out = Vec::new();
        for s in p.into_inner() {
            if let Some(stmt) = self.stmt(cx, s) {
                out.push(stmt);
            }
        }
        out
    }

    fn stmt(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Stmt> {
        let span = Self::span(cx, &p);
        let rule = p.as_rule();
        if rule == Rule::recover_stmt {
            self.recover(cx, &p, Rule::only_stmt);
            return None;
        }
        let mut inner: Vec<Pair<'_, Rule>> = p
            .into_inner()
            .filter(|i| !is_keyword(i.as_rule()))
            .collect();
        let kind = match rule {
            Rule::if_stmt => {
                let cond = self.expr(cx, inner.remove(0))?;
                let then = inner
                    .first()
                    .cloned()
                    .map(|b| self.block(cx, b))
                    .unwrap_or_default();
                let otherwise = match inner.get(1).cloned() {
                    Some(e) if e.as_rule() == Rule::if_stmt => {
                        self.stmt(cx, e).into_iter().collect()
                    }
                    Some(b) => self.block(cx, b),
                    None => Vec::new(),
                };
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            Rule::irq_stmt => StmtKind::Irq(match inner.first().map(|o| o.as_str()) {
                Some("lower") => IrqOp::Lower,
                Some("pulse") => IrqOp::Pulse,
                _ => IrqOp::Raise,
            }),
            Rule::msi_stmt => StmtKind::Msi(self.expr(cx, inner.remove(0))?),
            Rule::dma_stmt => {
                let op = inner.remove(0);
                let status = match inner.pop() {
                    Some(pl) => Some(self.place(cx, pl)?),
                    None => None,
                };
                let is_write = op.as_rule() == Rule::dma_write;
                let mut parts = op.into_inner().filter(|i| !is_keyword(i.as_rule()));
                let (a, l, t) = (parts.next()?, parts.next()?, parts.next()?);
                let addr = self.expr(cx, a)?;
                let len = self.expr(cx, l)?;
                if is_write {
                    StmtKind::DmaWrite {
                        addr,
                        len,
                        source: self.source(cx, t)?,
                        status,
                    }
                } else {
                    StmtKind::DmaRead {
                        addr,
                        len,
                        into: self.place(cx, t)?,
                        status,
                    }
                }
            }
            Rule::assign => {
                let place = self.place(cx, inner.remove(0))?;
                let op = match inner.remove(0).as_str() {
                    "|=" => AssignOp::Or,
                    "&=" => AssignOp::And,
                    "^=" => AssignOp::Xor,
                    "+=" => AssignOp::Add,
                    "-=" => AssignOp::Sub,
                    _ => AssignOp::Set,
                };
                let value = self.expr(cx, inner.remove(0))?;
                StmtKind::Assign { place, op, value }
            }
            Rule::call_stmt => {
                let (hook, args) = self.call(cx, inner.remove(0))?;
                StmtKind::Call { hook, args }
            }
            Rule::start_stmt => {
                let timer = Self::ident(cx, inner.remove(0));
                let periodic = inner.first()?.as_rule() == Rule::every_kw;
                if periodic {
                    inner.remove(0);
                }
                let duration = self.expr(cx, inner.remove(0))?;
                let unit = TimeUnit::parse(inner.first()?.as_str())?;
                StmtKind::Start {
                    timer,
                    periodic,
                    duration,
                    unit,
                }
            }
            Rule::stop_stmt => StmtKind::Stop(Self::ident(cx, inner.remove(0))),
            Rule::send_stmt => {
                let stream = Self::ident(cx, inner.remove(0));
                let value = self.expr(cx, inner.remove(0))?;
                StmtKind::Send { stream, value }
            }
            Rule::vmm_stmt => StmtKind::Vmm(Self::ident(cx, inner.remove(0))),
            Rule::method_stmt => {
                let target = Self::ident(cx, inner.remove(0));
                let method = Self::ident(cx, inner.remove(0));
                let arg = match inner.pop() {
                    Some(e) => Some(self.expr(cx, e)?),
                    None => None,
                };
                StmtKind::Method {
                    target,
                    method,
                    arg,
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span })
    }

    fn source(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Source> {
        let span = Self::span(cx, &p);
        let s = p.into_inner().next()?;
        let rule = s.as_rule();
        let kind = if rule == Rule::place {
            SourceKind::Place(self.place(cx, s)?)
        } else {
            let e = s.into_inner().find(|i| i.as_rule() == Rule::expr)?;
            let e = self.expr(cx, e)?;
            match rule {
                Rule::random_src => SourceKind::Random(e),
                Rule::pattern_src => SourceKind::Pattern(e),
                _ => SourceKind::Word(e),
            }
        };
        Some(Source { kind, span })
    }

    fn place(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Place> {
        let span = Self::span(cx, &p);
        let mut inner = p.into_inner();
        let base = Self::ident(cx, inner.next()?);
        let mut place = Place {
            base,
            field: None,
            index: None,
            span,
        };
        if let Some(x) = inner.next() {
            let y = x.clone().into_inner().next()?;
            match x.as_rule() {
                Rule::field_ref => place.field = Some(Self::ident(cx, y)),
                _ => place.index = Some(Box::new(self.expr(cx, y)?)),
            }
        }
        Some(place)
    }

    fn call(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<(Ident, Vec<Expr>)> {
        let mut inner = p.into_inner();
        let hook = Self::ident(cx, inner.next()?);
        let mut args = Vec::new();
        for a in inner {
            args.push(self.expr(cx, a)?);
        }
        Some((hook, args))
    }

    // ------------------------------------------------------------ expressions

    /// Build an expression with an explicit operator stack (no recursion
    /// except into parentheses, which the nesting guard bounds).
    fn expr(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Expr> {
        let whole = Self::span(cx, &p);
        let mut operands: Vec<(Expr, usize)> = Vec::new();
        let mut operators: Vec<BinOp> = Vec::new();
        let mut prefixes: Vec<(UnOp, Span)> = Vec::new();
        let too_deep = |s: &mut Self| {
            s.diags.push(
                Diagnostic::error(
                    diag::TOO_DEEP,
                    whole,
                    format!("expression nests more than {MAX_EXPR_DEPTH} operators deep"),
                )
                .label("this expression")
                .hint("split it using intermediate `state` variables"),
            );
        };
        // Pop one operator and its two operands into a Binary node.
        fn reduce(operands: &mut Vec<(Expr, usize)>, op: BinOp) -> Option<usize> {
            let (rhs, dr) = operands.pop()?;
            let (lhs, dl) = operands.pop()?;
            let depth = 1 + dl.max(dr);
            let span = lhs.span.to(rhs.span);
            operands.push((
                Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                },
                depth,
            ));
            Some(depth)
        }
        for t in p.into_inner() {
            let tspan = Self::span(cx, &t);
            let rule = t.as_rule();
            if let Some(op) = unary_op(rule) {
                prefixes.push((op, tspan));
                continue;
            }
            if let Some(op) = binary_op(rule) {
                while let Some(&top) = operators.last() {
                    if top.precedence() >= op.precedence() {
                        operators.pop();
                        if reduce(&mut operands, top)? > MAX_EXPR_DEPTH {
                            too_deep(self);
                            return None;
                        }
                    } else {
                        break;
                    }
                }
                operators.push(op);
                continue;
            }
            // A primary.
            let kind = match rule {
                Rule::number => ExprKind::Num(self.number(cx, t).value),
                Rule::boolean => ExprKind::Bool(t.as_str() == "true"),
                Rule::value_kw => ExprKind::Value,
                Rule::index_kw => ExprKind::Index,
                Rule::byte_kw => ExprKind::Byte,
                Rule::dma_addr => ExprKind::DmaAddr,
                Rule::access_prop if t.as_str().ends_with("size") => ExprKind::AccessSize,
                Rule::access_prop => ExprKind::AccessMask,
                Rule::if_expr => self.if_expr(cx, t)?,
                Rule::place => ExprKind::Place(self.place(cx, t)?),
                Rule::call => {
                    let (hook, args) = self.call(cx, t)?;
                    ExprKind::Call { hook, args }
                }
                Rule::expr => {
                    let inner = self.expr(cx, t)?;
                    inner.kind
                }
                _ => continue,
            };
            let mut e = Expr { kind, span: tspan };
            // Depths count operators: an operand alone is 0 deep.
            let mut depth = 0;
            for (op, ospan) in prefixes.drain(..).rev() {
                depth += 1;
                if depth > MAX_EXPR_DEPTH {
                    too_deep(self);
                    return None;
                }
                let span = ospan.to(e.span);
                e = Expr {
                    kind: ExprKind::Unary(op, Box::new(e)),
                    span,
                };
            }
            operands.push((e, depth));
        }
        while let Some(op) = operators.pop() {
            if reduce(&mut operands, op)? > MAX_EXPR_DEPTH {
                too_deep(self);
                return None;
            }
        }
        let (mut e, _) = operands.pop()?;
        e.span = whole;
        // Parentheses, call arguments and indexes restart the count above:
        // bound the depth of the whole tree so later passes may recurse
        // (`ast_depth` counts the operands' level too).
        if ast_depth(&e) > MAX_EXPR_DEPTH + 1 {
            too_deep(self);
            return None;
        }
        Some(e)
    }

    // ------------------------------------------------------------ scenarios

    fn scenario(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> ScenarioAst {
        let mut sc = ScenarioAst {
            name: Ident {
                name: String::new(),
                span,
            },
            description: None,
            steps: Vec::new(),
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::ident => sc.name = Self::ident(cx, p),
                Rule::string => sc.description = self.string(cx, p),
                Rule::recover_stmt => self.recover(cx, &p, Rule::only_step),
                _ => {
                    if let Some(s) = self.step(cx, p) {
                        sc.steps.push(s);
                    }
                }
            }
        }
        sc
    }

    fn location(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Location> {
        let l = p.into_inner().next()?;
        if l.as_rule() == Rule::ident {
            return Some(Location::Register(Self::ident(cx, l)));
        }
        self.raw_location(cx, l)
    }

    /// `bar N @ OFF : W` or `config @ OFF : W`.
    fn raw_location(&mut self, cx: Cx, l: Pair<'_, Rule>) -> Option<Location> {
        let span = Self::span(cx, &l);
        let mut config = false;
        let mut nums = Vec::new();
        let mut width = (ScalarType::U32, span);
        for i in l.into_inner() {
            match i.as_rule() {
                Rule::config_kw => config = true,
                Rule::number => nums.push(self.number(cx, i)),
                Rule::scalar_type => {
                    width = (
                        ScalarType::parse(i.as_str()).unwrap_or(ScalarType::U32),
                        Self::span(cx, &i),
                    )
                }
                _ => {}
            }
        }
        let (bar, offset) = if config {
            (None, *nums.first()?)
        } else {
            (Some(*nums.first()?), *nums.get(1)?)
        };
        Some(Location::Raw {
            bar,
            offset,
            width,
            span,
        })
    }

    fn dma_range(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<(Expr, Expr)> {
        let mut it = p.into_inner().filter(|i| i.as_rule() == Rule::expr);
        let a = it.next()?;
        let b = it.next()?;
        Some((self.expr(cx, a)?, self.expr(cx, b)?))
    }

    fn step(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Step> {
        let span = Self::span(cx, &p);
        let rule = p.as_rule();
        let mut inner: Vec<Pair<'_, Rule>> = p
            .into_inner()
            .filter(|i| !is_keyword(i.as_rule()))
            .collect();
        if inner.is_empty() && !matches!(rule, Rule::expect_irq | Rule::repeat_step) {
            return None;
        }
        let kind = match rule {
            Rule::expect_irq => StepKind::ExpectIrq {
                asserted: !inner.iter().any(|i| i.as_rule() == Rule::no_kw),
            },
            Rule::expect_msi => StepKind::ExpectMsi {
                vector: self.number(cx, inner.remove(0)),
            },
            Rule::expect_dma | Rule::fill_step => {
                let (start, end) = self.dma_range(cx, inner.remove(0))?;
                let source = self.source(cx, inner.pop()?)?;
                if rule == Rule::expect_dma {
                    StepKind::ExpectDma { start, end, source }
                } else {
                    StepKind::Fill { start, end, source }
                }
            }
            Rule::expect_step | Rule::wait_step => {
                let location = self.probe_location(cx, inner.remove(0))?;
                let not_equal = match inner.first() {
                    Some(c) if c.as_rule() == Rule::cmp_op => inner.remove(0).as_str() == "!=",
                    _ => false,
                };
                let value = self.expr(cx, inner.remove(0))?;
                let mask = match inner.pop() {
                    Some(m) => Some(self.expr(cx, m)?),
                    None => None,
                };
                if rule == Rule::expect_step {
                    StepKind::Expect {
                        location,
                        not_equal,
                        value,
                        mask,
                    }
                } else {
                    StepKind::Wait {
                        location,
                        value,
                        mask,
                    }
                }
            }
            Rule::write_step => {
                let location = self.location(cx, inner.remove(0))?;
                let value = self.expr(cx, inner.remove(0))?;
                StepKind::Write { location, value }
            }
            Rule::read_step => StepKind::Read {
                location: self.location(cx, inner.remove(0))?,
            },
            Rule::invalid_step => {
                let op = inner.remove(0);
                let is_write = op.as_rule() == Rule::invalid_write;
                let mut parts: Vec<Pair<'_, Rule>> = op
                    .into_inner()
                    .filter(|i| !is_keyword(i.as_rule()))
                    .collect();
                let location = self.location(cx, parts.remove(0))?;
                if is_write {
                    let value = self.expr(cx, parts.pop()?)?;
                    StepKind::InvalidWrite { location, value }
                } else {
                    StepKind::InvalidRead { location }
                }
            }
            Rule::repeat_step => {
                let count = self.expr(cx, inner.remove(0))?;
                let mut body = Vec::new();
                for p in inner {
                    if p.as_rule() == Rule::recover_stmt {
                        self.recover(cx, &p, Rule::only_step);
                    } else if let Some(s) = self.step(cx, p) {
                        body.push(s);
                    }
                }
                StepKind::Repeat { count, body }
            }
            Rule::advance_step => {
                let amount = self.expr(cx, inner.remove(0))?;
                let unit = TimeUnit::parse(inner.first()?.as_str())?;
                StepKind::Advance { amount, unit }
            }
            Rule::input_step | Rule::expect_output => {
                let stream = Self::ident(cx, inner.remove(0));
                let data = self.byte_data(cx, inner.remove(0))?;
                if rule == Rule::input_step {
                    StepKind::Input { stream, data }
                } else {
                    StepKind::ExpectOutput { stream, data }
                }
            }
            Rule::expect_vmm => StepKind::ExpectVmm(Self::ident(cx, inner.remove(0))),
            _ => return None,
        };
        Some(Step { kind, span })
    }

    fn probe_location(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<ProbeLocation> {
        let mut inner = p.into_inner();
        let first = inner.next()?;
        if first.as_rule() == Rule::raw_location {
            return self.raw_location(cx, first).map(ProbeLocation::Location);
        }
        let name = Self::ident(cx, first);
        let property = inner
            .next()
            .and_then(|f| f.into_inner().next())
            .map(|i| Self::ident(cx, i));
        Some(ProbeLocation::Named { name, property })
    }

    fn byte_data(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<ByteData> {
        let span = Self::span(cx, &p);
        let mut exprs = Vec::new();
        for i in p.into_inner() {
            match i.as_rule() {
                Rule::string => return self.string(cx, i).map(ByteData::Text),
                Rule::expr => exprs.push(self.expr(cx, i)?),
                _ => {}
            }
        }
        Some(ByteData::List(exprs, span))
    }
}

impl ParseSession<'_> {
    /// `if c { a } else if d { b } else { e }`, as a chain of conditionals.
    fn if_expr(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<ExprKind> {
        let mut parts = p.into_inner().filter(|i| !is_keyword(i.as_rule()));
        let cond = self.expr(cx, parts.next()?)?;
        let then = self.expr(cx, parts.next()?)?;
        let other = parts.next()?;
        let otherwise = if other.as_rule() == Rule::if_expr {
            let ospan = Self::span(cx, &other);
            Expr {
                kind: self.if_expr(cx, other)?,
                span: ospan,
            }
        } else {
            self.expr(cx, other)?
        };
        Some(ExprKind::Cond(
            Box::new(cond),
            Box::new(then),
            Box::new(otherwise),
        ))
    }
}

/// Depth of an expression tree, computed without recursion.
pub fn ast_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        match &e.kind {
            ExprKind::Unary(_, x) => stack.push((x, d + 1)),
            ExprKind::Binary(_, a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| (a, d + 1))),
            ExprKind::Cond(c, a, b) => {
                stack.push((c, d + 1));
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            ExprKind::Place(p) => {
                if let Some(i) = &p.index {
                    stack.push((i, d + 1));
                }
            }
            _ => {}
        }
    }
    max
}

fn is_keyword(r: Rule) -> bool {
    format!("{r:?}").starts_with("k_")
}

fn unary_op(r: Rule) -> Option<UnOp> {
    Some(match r {
        Rule::not => UnOp::Not,
        Rule::neg => UnOp::Neg,
        Rule::bit_not => UnOp::BitNot,
        _ => return None,
    })
}

fn binary_op(r: Rule) -> Option<BinOp> {
    Some(match r {
        Rule::or => BinOp::Or,
        Rule::and => BinOp::And,
        Rule::eq => BinOp::Eq,
        Rule::ne => BinOp::Ne,
        Rule::lt => BinOp::Lt,
        Rule::le => BinOp::Le,
        Rule::gt => BinOp::Gt,
        Rule::ge => BinOp::Ge,
        Rule::bit_or => BinOp::BitOr,
        Rule::bit_xor => BinOp::BitXor,
        Rule::bit_and => BinOp::BitAnd,
        Rule::shl => BinOp::Shl,
        Rule::shr => BinOp::Shr,
        Rule::add => BinOp::Add,
        Rule::sub => BinOp::Sub,
        Rule::mul => BinOp::Mul,
        Rule::div => BinOp::Div,
        Rule::rem => BinOp::Rem,
        _ => return None,
    })
}

/// Parse an integer literal: decimal, 0x, 0b; `_` separators; K/M/G suffix.
pub fn parse_number(text: &str) -> Result<u64, String> {
    let (body, mult) = match text.as_bytes().last() {
        Some(b'K') => (&text[..text.len() - 1], 1u64 << 10),
        Some(b'M') => (&text[..text.len() - 1], 1u64 << 20),
        Some(b'G') => (&text[..text.len() - 1], 1u64 << 30),
        _ => (text, 1),
    };
    let (digits, radix) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (h, 16)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (b, 2)
        } else {
            (body, 10)
        };
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return Err("no digits".into());
    }
    let v =
        u64::from_str_radix(&clean, radix).map_err(|_| "does not fit in 64 bits".to_string())?;
    v.checked_mul(mult)
        .ok_or_else(|| "does not fit in 64 bits".to_string())
}

/// Nesting guard: the offset of the first bracket nested deeper than
/// [`MAX_NESTING`], ignoring strings and comments. Iterative, O(n).
pub fn check_nesting(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where pest's error really is. pest places it where the furthest *rule*
/// failed, but the tokens it lists were tried further on: in `revision 1
/// class ...` the item rule fails at `revision` while the `;` was expected at
/// `class`. Returns the position, whether the rule-level attempts
/// (`positives`) and the token attempts apply there, and the rule position.
fn error_position(e: &pest::error::Error<Rule>) -> (usize, bool, bool, usize) {
    let rule_pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    match e.parse_attempts().map(|a| a.max_position) {
        Some(token_pos) if token_pos > rule_pos => (token_pos, false, true, rule_pos),
        Some(token_pos) => (rule_pos, true, token_pos == rule_pos, rule_pos),
        None => (rule_pos, true, false, rule_pos),
    }
}

/// Tokens that start an expression: listed one by one they hide the point.
const EXPR_START: &[&str] = &[
    "`!`",
    "`(`",
    "`-`",
    "`~`",
    "`0x`",
    "`0X`",
    "`0b`",
    "`0B`",
    "`_`",
    "`dma`",
    "`true`",
    "`false`",
    "`value`",
    "`if`",
    "`index`",
    "`byte`",
    "`access`",
    "a name",
    "a number",
    "`true` or `false`",
];

/// Human description of what pest expected, and the token found there.
fn describe_expected(
    e: &pest::error::Error<Rule>,
    text: &str,
    pos: usize,
    use_rules: bool,
    use_tokens: bool,
) -> (String, String) {
    let mut tokens: Vec<String> = Vec::new();
    let mut rules: Vec<&'static str> = Vec::new();
    if let Some(attempts) = e.parse_attempts().filter(|_| use_tokens) {
        // `ParsingToken` is not exported; its Display is the literal itself
        // (or `a..z` for ranges and BUILTIN_RULE for built-ins, skipped).
        for t in attempts.expected_tokens() {
            let token = t.to_string();
            let is_range = token.chars().count() == 4 && token.chars().nth(1) == Some('.');
            let is_trivia = matches!(
                token.as_str(),
                " " | "\t" | "\r" | "\n" | "\u{feff}" | "//" | "/*"
            );
            if !token.is_empty() && token != "BUILTIN_RULE" && !is_range && !is_trivia {
                tokens.push(format!("`{token}`"));
            }
        }
    }
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant
        && use_rules
    {
        rules.extend(positives.iter().filter_map(|r| rule_description(*r)));
    }
    // Lexemes show up through their first characters: a `0x` stands for a
    // number, a `_` for a name.
    for t in &mut tokens {
        match t.as_str() {
            "`0x`" | "`0X`" | "`0b`" | "`0B`" => *t = "a number".to_string(),
            "`_`" => *t = "a name".to_string(),
            _ => {}
        }
    }
    // A token that a rule's description already names (`mem32` of "a BAR
    // kind (io, mem32, mem64)") says it twice.
    let described: Vec<&str> = rules
        .iter()
        .flat_map(|d| d.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| !w.is_empty())
        .collect();
    tokens.retain(|t| !described.contains(&t.trim_matches('`')));
    let mut items: Vec<String> = tokens;
    items.extend(rules.iter().map(|r| r.to_string()));
    // Everything that may start an expression, or a dozen operators, say less
    // than "an expression" and "an operator". `~` only starts an expression.
    if items.iter().any(|i| i == "an expression" || i == "`~`") {
        items.retain(|i| !EXPR_START.contains(&i.as_str()));
        items.push("an expression".to_string());
    }
    const OPERATORS: &[&str] = &[
        "`!=`", "`%`", "`&&`", "`&`", "`*`", "`+`", "`-`", "`/`", "`<<`", "`<=`", "`<`", "`==`",
        "`>=`", "`>>`", "`>`", "`^`", "`|`", "`||`",
    ];
    if items
        .iter()
        .filter(|i| OPERATORS.contains(&i.as_str()))
        .count()
        >= 3
    {
        items.retain(|i| !OPERATORS.contains(&i.as_str()));
        items.push("an operator".to_string());
    }
    items.sort();
    items.dedup();
    // Keywords first, then punctuation: nicer to read, stable for tests.
    let expected = match items.len() {
        0 => "a valid item".to_string(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} or {}", items.join(", "), last)
        }
    };
    (expected, token_at(text, pos))
}

/// A string or block comment that never ends, starting at `at`: pest can
/// only say that it expected something else there (`expected `"`, found
/// `"``), which reads as nonsense. Returns (span end, message, label, hint).
fn unterminated(
    text: &str,
    at: usize,
) -> Option<(usize, &'static str, &'static str, &'static str)> {
    let rest = text.get(at..)?;
    if let Some(body) = rest.strip_prefix('"') {
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => return None,
                '\n' | '\r' => {
                    return Some((
                        at + 1 + i,
                        "unterminated string",
                        "this string has no closing `\"` on its line",
                        "strings end on the line they start: add the closing `\"`",
                    ));
                }
                _ => {}
            }
        }
        return Some((
            text.len(),
            "unterminated string",
            "this string has no closing `\"`",
            "add the closing `\"`",
        ));
    }
    if rest.starts_with("/*") && !rest[2..].contains("*/") {
        return Some((
            at + 2,
            "unterminated block comment",
            "this comment has no closing `*/`",
            "close the comment with `*/`",
        ));
    }
    None
}

/// The word or character at `pos`, to quote what was found.
fn token_at(text: &str, pos: usize) -> String {
    let Some(rest) = text.get(pos..) else {
        return String::new();
    };
    let mut chars = rest.chars();
    let Some(c) = chars.next() else {
        return String::new();
    };
    if c.is_ascii_alphanumeric() || c == '_' {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect()
    } else {
        c.to_string()
    }
}

fn rule_description(r: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match r {
        ident => "a name",
        number => "a number",
        string => "a string",
        boolean => "`true` or `false`",
        expr => "an expression",
        scalar_type => "a type (u8, u16, u32, u64, bool)",
        type_name => "a type",
        access_kind => "an access kind (rw, ro, wo, w1c, w1s, rclr)",
        bar_kind => "a BAR kind (io, mem32, mem64)",
        invalid_kind => "`ignore`, `ones` or `error`",
        irq_op => "`raise`, `lower` or `pulse`",
        assign_op => "an assignment (`=`, `|=`, `&=`, `^=`, `+=`, `-=`)",
        place => "a name",
        source => "a data source (random(..), pattern(..), word(..), or a buffer)",
        location => "a register name or `bar N @ OFFSET : TYPE`",
        device => "`device`",
        EOI => "end of file",
        k_access => "`access`",
        k_ack => "`ack`",
        k_addr => "`addr`",
        k_bar => "`bar`",
        k_class => "`class`",
        k_description => "`description`",
        k_device => "`device`",
        k_dma => "`dma`",
        k_dma_buffer => "`dma_buffer`",
        k_else => "`else`",
        k_expect => "`expect`",
        k_field => "`field`",
        k_fill => "`fill`",
        k_from => "`from`",
        k_hook => "`hook`",
        k_id => "`id`",
        k_if => "`if`",
        k_include => "`include`",
        k_interrupt => "`interrupt`",
        k_into => "`into`",
        k_invalid => "`invalid`",
        k_irq => "`irq`",
        k_language => "`language`",
        k_len => "`len`",
        k_level => "`level`",
        k_mask => "`mask`",
        k_msi => "`msi`",
        k_msix => "`msix`",
        k_pba => "`pba`",
        k_table => "`table`",
        k_on => "`on`",
        k_pattern => "`pattern`",
        k_pin => "`pin`",
        k_random => "`random`",
        k_read => "`read`",
        k_register => "`register`",
        k_revision => "`revision`",
        k_scenario => "`scenario`",
        k_size => "`size`",
        k_state => "`state`",
        k_status => "`status`",
        k_subsystem => "`subsystem`",
        k_wait => "`wait`",
        k_word => "`word`",
        k_write => "`write`",
        k_advance => "`advance`",
        k_after => "`after`",
        k_fn => "`fn`",
        k_input => "`input`",
        k_let => "`let`",
        k_output => "`output`",
        k_ready => "`ready`",
        k_repeat => "`repeat`",
        k_send => "`send`",
        k_start => "`start`",
        k_stop => "`stop`",
        k_stream => "`stream`",
        k_timer => "`timer`",
        k_vmm => "`vmm`",
        k_mine => "`mine`",
        k_when => "`when`",
        every_kw => "`every`",
        time_unit => "a time unit (ns, us, ms, s)",
        vmm_kind => "a VMM request (reset, poweroff, stop, panic, crashloaded)",
        sticky => "`sticky`",
        byte_data => "a string or `[bytes]`",
        probe_location => "a register, a state or `bar N @ OFFSET : TYPE`",
        _ => return None,
    })
}

fn syntax_hint(expected: &str) -> String {
    if expected.contains("`;`") {
        "every item and statement ends with `;`".into()
    } else if expected.contains("`}`") {
        "is a closing brace missing, or an item misspelled?".into()
    } else {
        "see the language reference in README.md".into()
    }
}
