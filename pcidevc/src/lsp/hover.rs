//! Hover text: what a declaration is, in Markdown.
//!
//! A register shows its layout and behaviour (where it lives, width,
//! access, reset, each field's bits, access and reset, and a summary of what
//! reads and writes do); a state its type, reset and flags; a field its
//! bits and variants; hooks, `fn`s and parameters their signatures; other
//! items the first line of their declaration.

use super::index::{Def, DefKind, Index, Node, RegHome};
use pcidevc_dsl::ast::*;
use pcidevc_dsl::source::SourceMap;
use std::fmt::Write;

/// Longest source excerpt shown for an expression.
const EXCERPT: usize = 120;

pub fn hover(ix: &Index, def: usize, sources: &SourceMap) -> String {
    let d = &ix.defs[def];
    let mut out = String::new();
    match &d.node {
        Node::Register(r, home) => register(&mut out, ix, def, r, home, sources),
        Node::Field(f) => {
            let reg = d.parent.map_or("?", |p| ix.defs[p].name.as_str());
            code(
                &mut out,
                &format!(
                    "field {reg}.{} {} {}",
                    f.name.name,
                    bits(f.hi.value, f.lo.value),
                    f.access.0.keyword()
                ),
            );
            let width = f.hi.value.saturating_sub(f.lo.value).saturating_add(1);
            let _ = writeln!(
                out,
                "{width} bit(s), reset {}",
                hex(f.reset.map_or(0, |n| n.value))
            );
            if !f.variants.is_empty() {
                out.push_str("\nvariants:\n");
                for (v, n) in &f.variants {
                    let _ = writeln!(out, "- `{}` = {}", v.name, n.value);
                }
            }
        }
        Node::State(s) => state(&mut out, s),
        Node::Hook(h) => {
            code(
                &mut out,
                &signature("hook", &h.name.name, &h.params, h.ret.map(|r| r.0)),
            );
            out.push_str(
                "Behaviour written in Rust: the model's `Hooks` trait method of this name.\n",
            );
        }
        Node::Fn(f) => {
            code(
                &mut out,
                &signature("fn", &f.name.name, &f.params, Some(f.ret.0)),
            );
            let _ = writeln!(out, "= `{}`", excerpt(sources.snippet(f.body.span)));
        }
        Node::Param(ty) => {
            let owner = d.parent.map_or("?", |p| ix.defs[p].name.as_str());
            code(&mut out, &format!("{}: {}", d.name, ty.name()));
            let _ = writeln!(out, "parameter of `{owner}`");
        }
        Node::Variant(v) => {
            let field = d.parent.map_or("?", |p| ix.defs[p].name.as_str());
            code(&mut out, &format!("{} = {v}", d.name));
            let _ = writeln!(out, "variant of field `{field}`");
        }
        Node::None => {
            code(&mut out, &first_line(d, sources));
            let _ = writeln!(out, "{}", d.kind.describe());
        }
    }
    out
}

fn code(out: &mut String, text: &str) {
    let _ = write!(out, "```pcidev\n{text}\n```\n");
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

fn bits(hi: u64, lo: u64) -> String {
    if hi == lo {
        format!("[{hi}]")
    } else {
        format!("[{hi}:{lo}]")
    }
}

fn signature(
    kw: &str,
    name: &str,
    params: &[(Ident, ScalarType)],
    ret: Option<ScalarType>,
) -> String {
    let ps: Vec<String> = params
        .iter()
        .map(|(p, t)| format!("{}: {}", p.name, t.name()))
        .collect();
    let ret = ret.map_or(String::new(), |r| format!(" -> {}", r.name()));
    format!("{kw} {name}({}){ret}", ps.join(", "))
}

/// One line of source, whitespace collapsed, cut at [`EXCERPT`] characters.
fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > EXCERPT {
        let cut: String = flat.chars().take(EXCERPT).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The declaration up to its block or end.
fn first_line(d: &Def, sources: &SourceMap) -> String {
    let text = sources.snippet(d.item);
    let head = text.split(['{', '\n']).next().unwrap_or(text);
    excerpt(head.trim_end_matches(';').trim())
}

fn state(out: &mut String, s: &StateAst) {
    let ty = match &s.ty {
        TypeAst::Scalar(t, _) => t.name().to_string(),
        TypeAst::Buffer(n, _) => format!("[u8; {}]", n.value),
        TypeAst::Fifo(t, n, _) => format!("fifo[{}; {}]", t.name(), n.value),
    };
    code(out, &format!("state {}: {ty}", s.name.name));
    let reset = match (&s.ty, s.reset, &s.init) {
        (TypeAst::Fifo(..), _, _) => "empty".to_string(),
        (_, Some(n), _) => {
            if matches!(s.ty, TypeAst::Scalar(ScalarType::Bool, _)) {
                (n.value != 0).to_string()
            } else {
                hex(n.value)
            }
        }
        (_, None, Some(BufferInit::Text(t))) => format!("{:?}, then zeros", t.value),
        (_, None, Some(BufferInit::Strings { slot, strings, .. })) => {
            format!(
                "{} string(s) in {}-byte slots, then zeros",
                strings.len(),
                slot.value
            )
        }
        (_, None, Some(BufferInit::Bytes { bytes, .. })) => {
            let shown: Vec<String> = bytes.iter().take(8).map(|b| hex(b.value)).collect();
            let more = if bytes.len() > 8 { ", ..." } else { "" };
            format!("[{}{more}], then zeros", shown.join(", "))
        }
        (_, None, None) => "0".to_string(),
    };
    let _ = writeln!(out, "reset: {reset}");
    if s.sticky.is_some() {
        out.push_str("\n`sticky`: keeps its value across a device reset\n");
    }
    if let TypeAst::Fifo(..) = s.ty {
        out.push_str("\n`.len` `.front` `.full` `.empty`; `.push(x)` `.pop()` `.clear()`\n");
    }
}

fn register(
    out: &mut String,
    ix: &Index,
    def: usize,
    r: &RegisterAst,
    home: &RegHome,
    sources: &SourceMap,
) {
    let width = r.width.0;
    let access = r
        .access
        .map_or(String::new(), |(a, _)| format!(" {}", a.keyword()));
    let count = r.count.map_or(String::new(), |n| format!("[{}]", n.value));
    code(
        out,
        &format!(
            "register {}{count} @ {} : {}{access}",
            r.name.name,
            hex(r.offset.value),
            width.name()
        ),
    );
    let bytes = u64::from(width.bits() / 8).max(1);
    let last = r
        .offset
        .value
        .saturating_add(bytes.saturating_mul(r.count.map_or(1, |n| n.value).max(1)) - 1);
    let place = match home {
        RegHome::Bar { index, kind } => {
            let kind = match kind {
                BarKindAst::Io => "io",
                BarKindAst::Mem32 => "mem32",
                BarKindAst::Mem64 => "mem64",
            };
            format!("BAR {index} ({kind})")
        }
        RegHome::Config => "configuration space".to_string(),
        RegHome::Capability { offset } => {
            format!("configuration space, vendor capability at {}", hex(*offset))
        }
    };
    let _ = writeln!(
        out,
        "{place}, bytes {}..={}, {} bits",
        hex(r.offset.value),
        hex(last),
        width.bits()
    );
    if let Some(n) = r.count {
        let _ = writeln!(
            out,
            "\nan array: `{0}_0` .. `{0}_{1}`, {bytes} byte(s) apart",
            r.name.name,
            n.value.saturating_sub(1)
        );
    }
    // Reset: the register's, or its fields' combined.
    let reset = if r.fields.is_empty() {
        r.reset.map_or(0, |n| n.value)
    } else {
        r.fields.iter().fold(0u64, |acc, f| {
            let v = f.reset.map_or(0, |n| n.value);
            acc | v
                .checked_shl(u32::try_from(f.lo.value).unwrap_or(64))
                .unwrap_or(0)
        })
    };
    let storage = if r.access.is_none() && r.fields.is_empty() {
        if r.read.is_empty() {
            "no storage: reads 0".to_string()
        } else {
            "no storage: reads its `read` expression".to_string()
        }
    } else {
        format!("reset {}", hex(reset))
    };
    let _ = writeln!(out, "\n{storage}");
    if !r.fields.is_empty() {
        out.push_str("\n| field | bits | access | reset |\n|---|---|---|---|\n");
        for f in ix.children(def).filter(|f| f.kind == DefKind::Field) {
            if let Node::Field(f) = &f.node {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    f.name.name,
                    bits(f.hi.value, f.lo.value),
                    f.access.0.keyword(),
                    hex(f.reset.map_or(0, |n| n.value))
                );
            }
        }
    }
    let mut behaviour = Vec::new();
    for (e, _) in &r.read {
        behaviour.push(format!("- read: `{}`", excerpt(sources.snippet(e.span))));
    }
    for (what, blocks) in [("on read", &r.on_read), ("on write", &r.on_write)] {
        let mut effects = Vec::new();
        for (b, _) in blocks {
            summarize(b, sources, &mut effects);
        }
        if !blocks.is_empty() {
            let text = if effects.is_empty() {
                "nothing".to_string()
            } else {
                phrases(&effects)
            };
            behaviour.push(format!("- {what}: {text}"));
        }
    }
    if !behaviour.is_empty() {
        out.push('\n');
        for b in behaviour {
            let _ = writeln!(out, "{b}");
        }
    }
}

/// What an action block does: one phrase per kind of effect, naming its
/// objects in order of first appearance (`sets `a`, `b``). Blocks nest at
/// most `MAX_NESTING` levels.
fn summarize(stmts: &[Stmt], sources: &SourceMap, out: &mut Vec<(&'static str, Vec<String>)>) {
    for s in stmts {
        let (verb, object) = match &s.kind {
            StmtKind::If {
                then, otherwise, ..
            } => {
                summarize(then, sources, out);
                summarize(otherwise, sources, out);
                continue;
            }
            StmtKind::Assign { place, .. } => {
                ("sets", format!("`{}`", sources.snippet(place.span)))
            }
            StmtKind::Irq(op) => (
                "irq",
                match op {
                    IrqOp::Raise => "raise",
                    IrqOp::Lower => "lower",
                    IrqOp::Pulse => "pulse",
                }
                .to_string(),
            ),
            StmtKind::Msi(e) => (
                "sends MSI",
                format!("`{}`", excerpt(sources.snippet(e.span))),
            ),
            StmtKind::DmaWrite { .. } => ("DMA", "to guest memory".to_string()),
            StmtKind::DmaRead { .. } => ("DMA", "from guest memory".to_string()),
            StmtKind::Call { hook, .. } => ("calls", format!("`{}`", hook.name)),
            StmtKind::Start { timer, .. } => ("starts", format!("`{}`", timer.name)),
            StmtKind::Stop(t) => ("stops", format!("`{}`", t.name)),
            StmtKind::Send { stream, .. } => ("sends to", format!("`{}`", stream.name)),
            StmtKind::Vmm(r) => ("vmm", r.name.clone()),
            StmtKind::Method { target, method, .. } => {
                ("", format!("`{}.{}()`", target.name, method.name))
            }
        };
        match out.iter_mut().find(|(v, _)| *v == verb) {
            Some((_, objects)) => {
                if !objects.contains(&object) {
                    objects.push(object);
                }
            }
            None => out.push((verb, vec![object])),
        }
    }
}

fn phrases(effects: &[(&str, Vec<String>)]) -> String {
    let parts: Vec<String> = effects
        .iter()
        .map(|(verb, objects)| {
            let objects = objects.join(", ");
            if verb.is_empty() {
                objects
            } else {
                format!("{verb} {objects}")
            }
        })
        .collect();
    parts.join("; ")
}
