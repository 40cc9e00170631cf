//! Names: the form a name must have, the device-wide namespace, and
//! resolution of a use to its declaration.
//!
//! Emits E0106 (reserved word, wrong case), E0401 (declared twice),
//! E0402 (unknown name, with a "did you mean" suggestion) and E0403 (a
//! register was expected).

use super::Checker;
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{FnId, HookId, LetId, RegId, StateId, StreamId, TimerId};

/// Words that cannot name anything: the language's keywords and Rust's.
const RESERVED: &[&str] = &[
    // language
    "access",
    "ack",
    "addr",
    "bar",
    "class",
    "description",
    "device",
    "dma",
    "dma_buffer",
    "else",
    "expect",
    "false",
    "field",
    "fill",
    "from",
    "hook",
    "id",
    "if",
    "include",
    "index",
    "interrupt",
    "into",
    "invalid",
    "irq",
    "len",
    "level",
    "mask",
    "msi",
    "no",
    "on",
    "pattern",
    "pin",
    "random",
    "read",
    "register",
    "revision",
    "scenario",
    "size",
    "state",
    "status",
    "strings",
    "subsystem",
    "true",
    "unmapped",
    "value",
    "wait",
    "word",
    "write",
    // language v2: `byte` is an expression keyword, the others declare.
    // The words that only start a statement or step (`start`, `stop`,
    // `after`, `every`, `send`, `ready`, `input`, `output`, `repeat`,
    // `advance`) stay usable as names, so v1 specs using them keep compiling.
    "byte",
    "fifo",
    "sticky",
    "stream",
    "timer",
    "vmm",
    // Rust (strict and reserved)
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "enum",
    "extern",
    "fn",
    "for",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
];

/// Device-wide namespace entries.
#[derive(Clone, Copy, Debug)]
pub(super) enum Sym {
    Register(RegId),
    State(StateId),
    Hook(HookId),
    Scenario,
    Timer(TimerId),
    Stream(StreamId),
    Let(LetId),
    Fn(FnId),
}

impl Sym {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Sym::Register(_) => "a register",
            Sym::State(_) => "a state",
            Sym::Hook(_) => "a hook",
            Sym::Scenario => "a scenario",
            Sym::Timer(_) => "a timer",
            Sym::Stream(_) => "a stream",
            Sym::Let(_) => "a `let`",
            Sym::Fn(_) => "a `fn`",
        }
    }
}

fn is_lower_snake(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

fn is_upper_snake(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

fn to_lower_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out.trim_matches('_').replace("__", "_")
}

impl<'a> Checker<'a> {
    /// Check a name's form for its kind; `upper` for registers.
    pub(super) fn check_name(&mut self, id: &ast::Ident, what: &str, upper: bool) {
        if RESERVED.contains(&id.name.as_str()) {
            self.err(
                Diagnostic::error(
                    diag::BAD_NAME,
                    id.span,
                    format!("{what} name `{}` is a reserved word", id.name),
                )
                .label("reserved")
                .hint(format!(
                    "keywords of the language and of Rust cannot be names; try `my_{}`",
                    id.name
                )),
            );
            return;
        }
        let ok = if upper {
            is_upper_snake(&id.name)
        } else {
            is_lower_snake(&id.name)
        };
        if !ok {
            let suggestion = if upper {
                to_lower_snake(&id.name).to_ascii_uppercase()
            } else {
                to_lower_snake(&id.name)
            };
            let case = if upper {
                "UPPER_SNAKE_CASE"
            } else {
                "lower_snake_case"
            };
            let why = if upper {
                "register names become constants and types in the generated code"
            } else {
                "names become Rust identifiers in the generated code"
            };
            self.err(
                Diagnostic::error(
                    diag::BAD_NAME,
                    id.span,
                    format!("{what} names are {case}: `{}`", id.name),
                )
                .label(format!("not {case}"))
                .hint(format!("{why}; try `{suggestion}`")),
            );
        }
    }

    pub(super) fn declare(&mut self, id: &ast::Ident, sym: Sym) {
        if let Some((prev, prev_span)) = self.names.get(&id.name) {
            let (prev, prev_span) = (*prev, *prev_span);
            self.err(
                Diagnostic::error(
                    diag::DUPLICATE_NAME,
                    id.span,
                    format!("`{}` is declared twice", id.name),
                )
                .label(format!("declared again as {}", sym.describe()))
                .also(
                    prev_span,
                    format!("first declared here as {}", prev.describe()),
                )
                .hint("registers, states, hooks, timers, streams, `let`s, `fn`s and scenarios share one namespace; rename one"),
            );
            return;
        }
        self.names.insert(id.name.clone(), (sym, id.span));
    }

    fn unknown(&mut self, id: &ast::Ident, expected: &str) {
        if self.declared_by_malformed_item(&id.name) {
            return;
        }
        let best = self
            .names
            .keys()
            .map(|k| (strsim::levenshtein(k, &id.name), k))
            .filter(|(d, k)| *d <= 2.max(k.len() / 3))
            .min();
        let hint = match best {
            Some((_, k)) => format!("did you mean `{k}`?"),
            None => format!("declare {expected} named `{}`", id.name),
        };
        self.err(
            Diagnostic::error(
                diag::UNKNOWN_NAME,
                id.span,
                format!("unknown name `{}`", id.name),
            )
            .label(format!("not declared; expected {expected}"))
            .hint(hint),
        );
    }

    /// Did an item the parser dropped (and reported) declare `name`, or,
    /// for an array's element `NAME_3`, its array?
    fn declared_by_malformed_item(&self, name: &str) -> bool {
        self.malformed_names.contains(name)
            || name.rsplit_once('_').is_some_and(|(array, n)| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && self.malformed_names.contains(array)
            })
    }

    pub(super) fn lookup(&mut self, id: &ast::Ident, expected: &str) -> Option<Sym> {
        match self.names.get(&id.name) {
            Some((s, _)) => Some(*s),
            None => {
                self.unknown(id, expected);
                None
            }
        }
    }

    pub(super) fn lookup_register(&mut self, id: &ast::Ident) -> Option<RegId> {
        match self.lookup(id, "a register")? {
            Sym::Register(r) => Some(r),
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        id.span,
                        format!("`{}` is {}, not a register", id.name, other.describe()),
                    )
                    .label("expected a register"),
                );
                None
            }
        }
    }
}
