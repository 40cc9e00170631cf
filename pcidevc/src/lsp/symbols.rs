//! The outline of a file (`textDocument/documentSymbol`): the device, its
//! named items, each register's fields and each field's variants.

use super::analysis::Analysis;
use super::index::{Def, DefKind};
use lsp_types::{DocumentSymbol, SymbolKind};
use pcidevc_dsl::source::FileId;

pub fn outline(a: &Analysis, file: FileId) -> Vec<DocumentSymbol> {
    let ix = &a.index;
    let in_file = |d: &&Def| d.span.file == file;
    let symbol = |id: usize| node(a, id);
    let mut items: Vec<DocumentSymbol> = ix
        .defs
        .iter()
        .enumerate()
        .filter(|(_, d)| in_file(d) && d.parent.is_none() && d.kind != DefKind::Device)
        .map(|(i, _)| symbol(i))
        .collect();
    // Items written inside a device of this file go under it.
    let devices: Vec<usize> = (0..ix.defs.len())
        .filter(|i| ix.defs[*i].kind == DefKind::Device && in_file(&&ix.defs[*i]))
        .collect();
    let mut out = Vec::new();
    for dev in devices {
        let span = ix.defs[dev].item;
        let mut sym = symbol(dev);
        let (inside, rest): (Vec<_>, Vec<_>) = items.into_iter().partition(|s| {
            let r = a.range(span);
            s.range.start >= r.start && s.range.end <= r.end
        });
        items = rest;
        sym.children = Some(inside);
        out.push(sym);
    }
    out.extend(items);
    out
}

fn node(a: &Analysis, id: usize) -> DocumentSymbol {
    let ix = &a.index;
    let d = &ix.defs[id];
    let kind = match d.kind {
        DefKind::Device => SymbolKind::MODULE,
        DefKind::Register => SymbolKind::STRUCT,
        DefKind::Field => SymbolKind::FIELD,
        DefKind::Variant => SymbolKind::ENUM_MEMBER,
        DefKind::State => SymbolKind::VARIABLE,
        DefKind::Hook | DefKind::Fn => SymbolKind::FUNCTION,
        DefKind::Param => SymbolKind::TYPE_PARAMETER,
        DefKind::Let => SymbolKind::CONSTANT,
        DefKind::Timer | DefKind::Stream => SymbolKind::EVENT,
        DefKind::Scenario => SymbolKind::NAMESPACE,
    };
    let children: Vec<DocumentSymbol> = ix
        .defs
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.parent == Some(id) && matches!(c.kind, DefKind::Field | DefKind::Variant)
        })
        .map(|(i, _)| node(a, i))
        .collect();
    // The name must lie inside the whole declaration's range.
    let item = if d.item.file == d.span.file {
        d.item.to(d.span)
    } else {
        d.span
    };
    #[allow(deprecated)] // `deprecated` is a required field of the struct.
    DocumentSymbol {
        name: d.name.clone(),
        detail: Some(d.kind.describe().to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: a.range(item),
        selection_range: a.range(d.span),
        children: (!children.is_empty()).then_some(children),
    }
}
