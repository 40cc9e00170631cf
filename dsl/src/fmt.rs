//! `pcidevc fmt`: one canonical layout for a spec, from its pest parse tree.
//!
//! Contract:
//! - the token sequence never changes (names, numbers, strings, operators,
//!   commas, comments): only whitespace does, so formatting cannot change
//!   what a spec means;
//! - one item or statement per line, 4-space indentation per block, one
//!   space between tokens except where the language's style glues them
//!   (`f(x)`, `a[i]`, `r.f`, `-x`, `x;`, `0x1234:0x11e8`, `u: u32`), no
//!   alignment; at most one blank line, kept where the source had one;
//! - every comment is kept: a comment that followed code on its line stays
//!   there (after one space), a comment on its own line stays on its own
//!   line, indented like the code around it; block comments are copied
//!   verbatim;
//! - idempotent: formatting formatted text changes nothing;
//! - a file with syntax errors is not formatted ([`format()`] returns
//!   `None`; the caller reports the parser's diagnostics).
//!
//! Rules this module does not know (grammar added after it was written)
//! are not an error: their own tokens keep the source's line breaks, and
//! between two tokens on a line there is one space where the source had
//! whitespace and none where it had none ("verbatim up to whitespace");
//! braces they own still indent. Rules inside them that it knows are laid
//! out as usual.

use crate::parse::{Rule, parse_trees};
use pest::iterators::Pair;
use std::collections::HashSet;

/// Spaces per indentation level.
pub const INDENT: usize = 4;

/// Format spec text, or an included fragment (device or BAR items);
/// `None` when it does not parse as any of them without recovery.
pub fn format(text: &str) -> Option<String> {
    let root = parse_trees(text).into_iter().find(|t| !has_recovery(t))?;
    let tokens = lex(text);
    let mut f = Formatter {
        text,
        tokens: &tokens,
        next: 0,
        out: String::new(),
        depth: 0,
        pending: None,
        empty_closes: HashSet::new(),
        last_kind: None,
        last_owner: None,
        last_code: None,
    };
    f.walk(root, false);
    f.flush_rest();
    if !f.out.is_empty() {
        f.out.push('\n');
    }
    Some(f.out)
}

/// Does the tree hold a malformed item that the parser swallowed?
fn has_recovery(p: &Pair<'_, Rule>) -> bool {
    matches!(
        p.as_rule(),
        Rule::recover_top | Rule::recover_item | Rule::recover_stmt
    ) || p.clone().into_inner().any(|c| has_recovery(&c))
}

// ---------------------------------------------------------------- tokens

/// What a [`Tok`] is. The formatter re-emits tokens and comments in order;
/// the tests compare the kinds and texts of input and output to check that
/// formatting changes nothing but layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A number, keyword or name: a run of ASCII letters, digits and `_`.
    Word,
    /// A string literal, quotes included (escapes are not decoded).
    Str,
    /// An operator or punctuation: one character, or one of the two-character
    /// operators (`==`, `<<`, `+=`, `->`, `..`, ...).
    Punct,
    /// `// ...` up to, not including, the newline (trailing blanks dropped).
    LineComment,
    /// `/* ... */`, or to the end of the text when unterminated.
    BlockComment,
}

/// A token: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok {
    /// What the token is.
    pub kind: TokKind,
    /// Byte offset of the token's first byte in the text.
    pub start: usize,
    /// Byte offset just past the token's last byte.
    pub end: usize,
}

impl Tok {
    fn is_comment(&self) -> bool {
        matches!(self.kind, TokKind::LineComment | TokKind::BlockComment)
    }
}

/// Operators of two characters, longest match first.
const TWO_CHAR_OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "<<", ">>", "||", "&&", "|=", "&=", "^=", "+=", "-=", "->", "..",
];

/// Split text into tokens and comments (whitespace dropped). Works on any
/// text; only used on text that parsed.
pub fn lex(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if text[i..].starts_with('\u{FEFF}') {
            i += '\u{FEFF}'.len_utf8();
            continue;
        } else if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(b.len(), |n| i + n);
            TokKind::LineComment
        } else if text[i..].starts_with("/*") {
            i = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            TokKind::BlockComment
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            TokKind::Str
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            TokKind::Word
        } else {
            i += TWO_CHAR_OPS
                .iter()
                .find(|op| text[i..].starts_with(**op))
                .map_or_else(
                    || text[i..].chars().next().map_or(1, char::len_utf8),
                    |op| op.len(),
                );
            TokKind::Punct
        };
        // Line comments end before the newline, without trailing blanks.
        let end = if kind == TokKind::LineComment {
            start + text[start..i].trim_end().len()
        } else {
            i
        };
        out.push(Tok { kind, start, end });
    }
    out
}

// ---------------------------------------------------------------- rules

/// How the formatter treats a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Holds items after its first `{` (or, for whole files, from the start).
    Container,
    /// Anything else this module knows.
    Plain,
    /// A rule added to the grammar after this module: verbatim up to
    /// whitespace.
    Unknown,
}

fn role(r: Rule) -> Role {
    use Rule::*;
    match r {
        file | device_body | bar_body | device | interrupt | bar | config_block | capability
        | register | block | scenario | stream | repeat_step => Role::Container,
        language | include | description | id_item | revision | class_item | subsystem
        | pin_item | msi_item | msix_item | level_item | status_item | mine_item | ack_item
        | state | strings_init | byte_list | type_name | buffer_type | scalar_type | hook
        | hook_params | hook_param | dma_buffer | bar_kind | prefetchable | unmapped_item
        | unmapped_kind | access_item | unaligned | invalid_item | invalid_kind | access_kind
        | array_len | field | bits | enum_variants | enum_variant | read_item | on_read
        | on_write | if_stmt | irq_stmt | irq_op | msi_stmt | dma_stmt | dma_write | dma_read
        | assign | assign_op | call_stmt | source | random_src | pattern_src | word_src | place
        | field_ref | index | expr | not | neg | bit_not | or | and | eq | ne | le | ge | shl
        | shr | lt | gt | bit_or | bit_xor | bit_and | add | sub | mul | div | rem | if_expr
        | index_kw | value_kw | dma_addr | window_item | window_access | access_prop | call
        | location | raw_location | config_kw | cap_kind | expect_irq | expect_msi | no_kw
        | expect_dma | fill_step | dma_range | expect_step | wait_step | write_step | read_step
        | invalid_step | invalid_write | invalid_read | ident | number | string | string_inner
        | boolean | EOI => Role::Plain,
        // Language v2, part 1.
        timer | ready_item | on_input | let_item | fn_item | time_unit | sticky | fifo_type
        | start_stmt | every_kw | stop_stmt | send_stmt | vmm_stmt | vmm_kind | method_stmt
        | byte_kw | advance_step | input_step | expect_output | expect_vmm | byte_data | cmp_op
        | probe_location => Role::Plain,
        _ if format!("{r:?}").starts_with("k_") => Role::Plain,
        _ => Role::Unknown,
    }
}

/// Rules that glue `(` to the word before it.
fn glues_paren(r: Rule) -> bool {
    use Rule::*;
    matches!(
        r,
        call | hook | strings_init | random_src | pattern_src | word_src | fn_item | method_stmt
    )
}

/// Rules that glue `[` to the word before it.
fn glues_bracket(r: Rule) -> bool {
    matches!(
        r,
        Rule::index | Rule::array_len | Rule::dma_range | Rule::fifo_type
    )
}

/// Rules whose `:` has no space on either side (`0x1234:0x11e8`, `[7:0]`).
fn tight_colon(r: Rule) -> bool {
    use Rule::*;
    matches!(r, id_item | class_item | subsystem | bits)
}

/// Rules whose `:` follows its name directly (`name: u32`).
fn name_colon(r: Rule) -> bool {
    matches!(r, Rule::state | Rule::hook_param)
}

fn unary(r: Rule) -> bool {
    matches!(r, Rule::not | Rule::neg | Rule::bit_not)
}

// ---------------------------------------------------------------- layout

/// A line break to make before the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Break {
    /// The next line continues an item (one more level of indentation).
    cont: bool,
}

struct Formatter<'t> {
    text: &'t str,
    tokens: &'t [Tok],
    /// Index of the next token to emit.
    next: usize,
    out: String,
    depth: usize,
    pending: Option<Break>,
    /// Token indices of `}` that close an empty block (`{}`).
    empty_closes: HashSet<usize>,
    last_kind: Option<TokKind>,
    /// Rule owning the last emitted token.
    last_owner: Option<Rule>,
    /// Index of the last emitted token that is not a comment.
    last_code: Option<usize>,
}

impl Formatter<'_> {
    fn walk(&mut self, pair: Pair<'_, Rule>, is_item: bool) {
        let rule = pair.as_rule();
        if is_item {
            self.item_start();
        }
        let container = role(rule) == Role::Container;
        // Files hold items from the start; other containers after `{`.
        let mut items_open = matches!(rule, Rule::file | Rule::device_body | Rule::bar_body);
        for child in pair.clone().into_inner() {
            let at = child.as_span().start();
            while self.next < self.tokens.len() && self.tokens[self.next].start < at {
                if container && self.text_of(self.next) == "{" {
                    items_open = true;
                }
                self.emit(rule);
            }
            let child_is_item = container && items_open && !matches!(child.as_rule(), Rule::EOI);
            self.walk(child, child_is_item);
        }
        let end = pair.as_span().end();
        while self.next < self.tokens.len() && self.tokens[self.next].end <= end {
            self.emit(rule);
        }
        if is_item {
            self.item_end();
        }
    }

    /// Tokens after the tree (comments at the end of the file).
    fn flush_rest(&mut self) {
        while self.next < self.tokens.len() {
            self.emit(Rule::file);
        }
    }

    fn text_of(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.text[t.start..t.end]
    }

    fn item_start(&mut self) {
        self.pending = Some(Break { cont: false });
    }

    fn item_end(&mut self) {
        self.pending = Some(Break { cont: false });
    }

    /// Newlines in the source between the previous token and token `i`.
    fn newlines_before(&self, i: usize) -> usize {
        let from = if i == 0 { 0 } else { self.tokens[i - 1].end };
        self.text[from..self.tokens[i].start].matches('\n').count()
    }

    fn space_before(&self, i: usize) -> bool {
        let from = if i == 0 { 0 } else { self.tokens[i - 1].end };
        from < self.tokens[i].start
    }

    fn newline(&mut self, blank: bool, cont: bool) {
        if self.out.is_empty() {
            return;
        }
        self.out.push('\n');
        if blank {
            self.out.push('\n');
        }
        let levels = self.depth + usize::from(cont);
        self.out.push_str(&" ".repeat(levels * INDENT));
    }

    fn emit(&mut self, owner: Rule) {
        let i = self.next;
        self.next += 1;
        let tok = self.tokens[i];
        let text = &self.text[tok.start..tok.end];
        let unknown = role(owner) == Role::Unknown;
        let nl = self.newlines_before(i);
        let container_brace = role(owner) == Role::Container || unknown;
        let close = text == "}" && container_brace && !self.empty_closes.contains(&i);
        let mid = self.mid_item();

        if close {
            self.depth = self.depth.saturating_sub(1);
            if !unknown || nl > 0 {
                self.pending = Some(Break { cont: false });
            }
        }
        if unknown && nl > 0 && self.pending.is_none() {
            self.pending = Some(Break { cont: false });
        }

        // The indentation of the line after a comment.
        let mut comment_cont = self.pending.map_or(mid, |b| b.cont);
        if tok.is_comment() && nl == 0 && !self.out.is_empty() {
            // Stays after the code it followed.
            self.out.push(' ');
        } else if tok.is_comment() {
            let blank = nl >= 2 && !self.after_open();
            if self.pending.is_some() || !self.out.is_empty() {
                self.newline(blank, comment_cont);
            }
            self.pending = None;
            comment_cont = comment_cont && mid;
        } else if let Some(b) = self.pending.take() {
            let blank = nl >= 2 && !close && !self.after_open();
            self.newline(blank, b.cont);
        } else if !self.out.is_empty() && self.wants_space(i, owner, unknown) {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.last_kind = Some(tok.kind);
        self.last_owner = Some(owner);
        if !tok.is_comment() {
            self.last_code = Some(i);
        }

        let breaks_after = match tok.kind {
            TokKind::LineComment => true,
            TokKind::BlockComment => self.newlines_after(i) > 0,
            _ => false,
        };
        if breaks_after {
            let cont = self.pending.map_or(comment_cont, |b| b.cont);
            self.pending = Some(Break { cont });
        }
        if text == "{" && container_brace {
            let next_close = self
                .tokens
                .get(i + 1)
                .is_some_and(|t| &self.text[t.start..t.end] == "}");
            if next_close && !unknown {
                self.empty_closes.insert(i + 1);
            } else {
                self.depth += 1;
                if !unknown {
                    self.pending = Some(Break { cont: false });
                }
            }
        }
    }

    /// Is the output inside an item (not at its start)? Comments breaking
    /// an item's line indent one level deeper.
    fn mid_item(&self) -> bool {
        self.last_code
            .is_some_and(|i| !matches!(self.text_of(i), ";" | "{" | "}"))
    }

    /// Was the last token emitted a block's `{`?
    fn after_open(&self) -> bool {
        self.out.ends_with('{')
    }

    fn newlines_after(&self, i: usize) -> usize {
        let to = self.tokens.get(i + 1).map_or(self.text.len(), |t| t.start);
        self.text[self.tokens[i].end..to].matches('\n').count()
    }

    /// One space between the previous token and token `i` (on one line)?
    fn wants_space(&self, i: usize, owner: Rule, unknown: bool) -> bool {
        if unknown || self.last_owner.is_some_and(|r| role(r) == Role::Unknown) {
            return self.space_before(i);
        }
        let prev = self.text_of(i - 1);
        let cur = self.text_of(i);
        if self.last_kind == Some(TokKind::BlockComment) || self.tokens[i].is_comment() {
            return true;
        }
        if matches!(cur, ";" | "," | ")" | "]" | ".")
            || matches!(prev, "(" | "[" | ".")
            || (prev == "{" && cur == "}")
        {
            return false;
        }
        if self.last_owner.is_some_and(unary) {
            return false;
        }
        match cur {
            "(" => return !glues_paren(owner),
            "[" => return !glues_bracket(owner),
            ":" => return !(tight_colon(owner) || name_colon(owner)),
            _ => {}
        }
        if prev == ":" && self.last_owner.is_some_and(tight_colon) {
            return false;
        }
        true
    }
}
