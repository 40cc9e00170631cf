//! Completion: names and keywords that fit where the cursor is.
//!
//! After `NAME.`: a register's fields, a FIFO's, timer's or stream's
//! properties and methods, `access.size`/`access.mask`, `dma.addr`.
//! Elsewhere: the device's names (and a `fn`'s parameters inside it) and the
//! keywords of the innermost enclosing item (device, BAR, register, action
//! block, scenario, ...). The context is found from the text before the
//! cursor and the spans of the recovered syntax tree, so it works on a
//! spec that does not parse yet.

use super::index::{DefKind, Index, Node, Scope};
use lsp_types::{CompletionItem, CompletionItemKind};
use pcidevc_dsl::ast::TypeAst;
use pcidevc_dsl::source::FileId;

const TOP: &[&str] = &["language", "device", "include"];
const DEVICE: &[&str] = &[
    "description",
    "id",
    "revision",
    "class",
    "subsystem",
    "interrupt",
    "state",
    "hook",
    "dma_buffer",
    "bar",
    "config",
    "scenario",
    "timer",
    "stream",
    "let",
    "fn",
    "include",
    "u8",
    "u16",
    "u32",
    "u64",
    "bool",
    "fifo",
    "sticky",
    "strings",
];
const INTERRUPT: &[&str] = &[
    "pin", "msi", "msix", "level", "status", "mine", "ack", "when", "table", "pba", "bar",
];
const BAR: &[&str] = &[
    "access",
    "invalid",
    "unmapped",
    "register",
    "window",
    "include",
    "ignore",
    "ones",
    "error",
    "zero",
    "unaligned",
    "ro",
    "rw",
];
const CONFIG: &[&str] = &["register", "capability", "vendor", "size"];
const REGISTER: &[&str] = &[
    "field", "read", "on", "write", "access", "rw", "ro", "wo", "w1c", "w1s", "rclr", "u8", "u16",
    "u32", "u64",
];
/// Statements and expressions, inside action blocks.
const ACTIONS: &[&str] = &[
    "if", "else", "irq", "raise", "lower", "pulse", "msi", "dma", "write", "read", "addr", "len",
    "from", "into", "status", "random", "pattern", "word", "start", "stop", "after", "every",
    "send", "vmm", "value", "index", "byte", "access", "true", "false", "ready", "on", "input",
    "ns", "us", "ms", "s",
];
const SCENARIO: &[&str] = &[
    "expect", "write", "read", "wait", "mask", "invalid", "bar", "config", "irq", "no", "msi",
    "dma", "fill", "repeat", "advance", "input", "output", "vmm", "random", "pattern", "word",
    "true", "false", "ns", "us", "ms", "s",
];

/// Completions at byte `offset` of `file`, whose text is `text`.
pub fn complete(ix: &Index, file: FileId, text: &str, offset: usize) -> Vec<CompletionItem> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let prefix_start = ident_start(before);
    if let Some(owner) = before[..prefix_start].strip_suffix('.') {
        return members(ix, &owner[ident_start(owner)..]);
    }
    let mut items = Vec::new();
    let here =
        |s: &pcidevc_dsl::source::Span| s.file == file && s.start <= offset && offset <= s.end;
    // The innermost enclosing scope: the smallest span containing the cursor.
    let scope = ix
        .scopes
        .iter()
        .filter(|(_, s)| here(s))
        .min_by_key(|(_, s)| s.len())
        .map(|(k, _)| *k);
    if let Some(Scope::Fn(f)) = scope {
        for p in ix.children(f) {
            items.push(item(&p.name, CompletionItemKind::VARIABLE, "parameter"));
        }
    }
    if scope.is_some() {
        for d in ix.globals() {
            let (kind, detail) = match d.kind {
                DefKind::Register => (CompletionItemKind::CONSTANT, "register"),
                DefKind::State => (CompletionItemKind::VARIABLE, "state"),
                DefKind::Hook => (CompletionItemKind::FUNCTION, "hook"),
                DefKind::Fn => (CompletionItemKind::FUNCTION, "fn"),
                DefKind::Let => (CompletionItemKind::VARIABLE, "let"),
                DefKind::Timer => (CompletionItemKind::EVENT, "timer"),
                DefKind::Stream => (CompletionItemKind::EVENT, "stream"),
                DefKind::Scenario => (CompletionItemKind::MODULE, "scenario"),
                _ => continue,
            };
            items.push(item(&d.name, kind, detail));
        }
    }
    let keywords = match scope {
        None => TOP,
        Some(Scope::Device) => DEVICE,
        Some(Scope::Interrupt) => INTERRUPT,
        Some(Scope::Bar) => BAR,
        Some(Scope::Config) => CONFIG,
        Some(Scope::Register) => REGISTER,
        Some(Scope::Fn(_)) => &["if", "else", "true", "false"],
        Some(Scope::Actions) => ACTIONS,
        Some(Scope::Scenario) => SCENARIO,
    };
    let mut keywords: Vec<&str> = keywords.to_vec();
    if scope == Some(Scope::Register) {
        // A register's blocks hold actions.
        keywords.extend(ACTIONS);
    }
    keywords.sort_unstable();
    keywords.dedup();
    for k in keywords {
        items.push(item(k, CompletionItemKind::KEYWORD, "keyword"));
    }
    items
}

/// Where the identifier that ends `s` starts (`s.len()` if none does).
fn ident_start(s: &str) -> usize {
    s.char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(s.len(), |(i, _)| i)
}

/// What may follow `owner.`.
fn members(ix: &Index, owner: &str) -> Vec<CompletionItem> {
    let props = |names: &[(&str, CompletionItemKind, &str)]| {
        names
            .iter()
            .map(|(n, k, d)| item(n, *k, d))
            .collect::<Vec<_>>()
    };
    const P: CompletionItemKind = CompletionItemKind::PROPERTY;
    const M: CompletionItemKind = CompletionItemKind::METHOD;
    match owner {
        "access" => {
            return props(&[
                ("size", P, "bytes of this access"),
                ("mask", P, "register bits this access covers"),
            ]);
        }
        "dma" => return props(&[("addr", P, "the driver's DMA buffer address")]),
        _ => {}
    }
    let Some(d) = ix.global(owner) else {
        return Vec::new();
    };
    let def = &ix.defs[d];
    match def.kind {
        DefKind::Register => ix
            .children(d)
            .filter(|f| f.kind == DefKind::Field)
            .map(|f| {
                let detail = match &f.node {
                    Node::Field(a) => format!(
                        "field [{}:{}] {}",
                        a.hi.value,
                        a.lo.value,
                        a.access.0.keyword()
                    ),
                    _ => "field".to_string(),
                };
                item(&f.name, CompletionItemKind::FIELD, &detail)
            })
            .collect(),
        DefKind::State => match &def.node {
            Node::State(s) if matches!(s.ty, TypeAst::Fifo(..)) => props(&[
                ("len", P, "elements held"),
                ("front", P, "oldest element (0 when empty)"),
                ("full", P, "1 when full"),
                ("empty", P, "1 when empty"),
                ("push", M, "append (dropped when full)"),
                ("pop", M, "remove the oldest"),
                ("clear", M, "empty it"),
            ]),
            _ => Vec::new(),
        },
        DefKind::Timer => props(&[
            ("running", P, "1 while armed"),
            ("remaining", P, "ns until it fires, 0 when stopped"),
        ]),
        DefKind::Stream => props(&[("space", P, "bytes the output queue can still take")]),
        _ => Vec::new(),
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail.to_string()),
        ..CompletionItem::default()
    }
}
