//! Code-like text in the spec's own notation: expressions, places,
//! statements and blocks, fully parenthesised so they read unambiguously
//! without knowing operator precedence.

use pcidevc_dsl::ir::{self, Device, Expr, RegId, Stmt};

/// Fully parenthesised (unambiguous) rendering of an expression.
pub fn expr(dev: &Device, e: &Expr) -> String {
    expr_in(dev, &[], e)
}

/// A `fn`'s body, its parameters by name.
pub fn fn_body(dev: &Device, f: &ir::Function) -> String {
    let names: Vec<String> = f.params.iter().map(|(n, _)| n.clone()).collect();
    expr_in(dev, &names, &f.body)
}

/// `fn name(a: u8, b: u16) -> u32 = body`, `let name = value`.
pub fn fn_decl(dev: &Device, f: &ir::Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(n, t)| format!("{n}: {}", type_name(*t)))
        .collect();
    format!(
        "fn {}({}) -> {} = {}",
        f.name,
        params.join(", "),
        type_name(f.ret),
        fn_body(dev, f)
    )
}

/// A scalar or container type as a spec writes it.
pub fn type_name(t: ir::Type) -> String {
    match t {
        ir::Type::Uint(b) => format!("u{b}"),
        ir::Type::Bool => "bool".into(),
        ir::Type::Buffer(n) => format!("[u8; {n}]"),
        ir::Type::Fifo {
            elem_bits,
            capacity,
        } => format!("fifo[u{elem_bits}; {capacity}]"),
    }
}

/// An expression that counts something (a duration): a constant in
/// decimal (`100`, not `0x64`), anything else as [`expr`].
pub fn count(dev: &Device, e: &Expr) -> String {
    match e {
        Expr::Const(v) => v.to_string(),
        e => expr(dev, e),
    }
}

fn expr_in(dev: &Device, params: &[String], e: &Expr) -> String {
    let expr = |dev: &Device, e: &Expr| expr_in(dev, params, e);
    let args_text = |dev: &Device, args: &[Expr]| {
        args.iter()
            .map(|a| expr_in(dev, params, a))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match e {
        Expr::Const(v) if *v < 10 => v.to_string(),
        Expr::Const(v) => format!("{v:#x}"),
        Expr::State(s) => dev.state(*s).name.clone(),
        Expr::Register(r) => dev.register(*r).name.clone(),
        Expr::Field(r, f) => field_path(dev, *r, *f),
        Expr::BufferByte(s, i) => format!("{}[{}]", dev.state(*s).name, expr(dev, i)),
        Expr::Value => "value".into(),
        Expr::Call(h, args) => format!("{}({})", dev.hook(*h).name, args_text(dev, args)),
        Expr::Unary(op, x) => format!("{}{}", op.symbol(), expr(dev, x)),
        Expr::Binary(op, a, b) => format!("({} {} {})", expr(dev, a), op.symbol(), expr(dev, b)),
        Expr::Cond(c, a, b) => format!(
            "(if {} then {} else {})",
            expr(dev, c),
            expr(dev, a),
            expr(dev, b)
        ),
        Expr::TimerRunning(t) => format!("{}.running", dev.timer(*t).name),
        Expr::TimerRemaining(t) => format!("{}.remaining", dev.timer(*t).name),
        Expr::FifoLen(s) => format!("{}.len", dev.state(*s).name),
        Expr::FifoFront(s) => format!("{}.front", dev.state(*s).name),
        Expr::FifoFull(s) => format!("{}.full", dev.state(*s).name),
        Expr::FifoEmpty(s) => format!("{}.empty", dev.state(*s).name),
        Expr::StreamSpace(s) => format!("{}.space", dev.stream(*s).name),
        Expr::Byte => "byte".into(),
        Expr::AccessSize => "access.size".into(),
        Expr::AccessMask => "access.mask".into(),
        Expr::Index => "index".into(),
        Expr::Let(l) => dev.let_(*l).name.clone(),
        Expr::Fn(f, args) => format!("{}({})", dev.function(*f).name, args_text(dev, args)),
        Expr::Param(i) => params.get(*i).cloned().unwrap_or_else(|| format!("arg{i}")),
    }
}

fn args_text(dev: &Device, args: &[Expr]) -> String {
    args.iter()
        .map(|a| expr(dev, a))
        .collect::<Vec<_>>()
        .join(", ")
}

fn field_path(dev: &Device, r: RegId, f: usize) -> String {
    let reg = dev.register(r);
    match reg.fields.get(f) {
        Some(field) => format!("{}.{}", reg.name, field.name),
        None => reg.name.clone(),
    }
}

/// A place as the spec writes it (`REG.field`, `buf[i]`).
pub fn place(dev: &Device, p: &ir::Place) -> String {
    match p {
        ir::Place::State(s) => dev.state(*s).name.clone(),
        ir::Place::Register(r) => dev.register(*r).name.clone(),
        ir::Place::Field(r, f) => field_path(dev, *r, *f),
        ir::Place::BufferByte(s, i) => format!("{}[{}]", dev.state(*s).name, expr(dev, i)),
    }
}

/// One action on one line (an `if` with its branches in braces).
pub fn stmt_line(dev: &Device, s: &Stmt) -> String {
    let line = |stmts: &[Stmt]| {
        stmts
            .iter()
            .map(|s| stmt_line(dev, s))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match s {
        Stmt::If {
            cond,
            then,
            otherwise,
        } => {
            let mut t = format!("if {} {{ {} }}", expr(dev, cond), line(then));
            if !otherwise.is_empty() {
                t.push_str(&format!(" else {{ {} }}", line(otherwise)));
            }
            t
        }
        Stmt::Irq(op) => format!("irq {}", op.keyword()),
        Stmt::Msi(v) => format!("msi {}", expr(dev, v)),
        Stmt::DmaWrite {
            addr,
            len,
            source,
            status,
        } => format!(
            "dma write {} bytes to {} from {}{}",
            expr(dev, len),
            expr(dev, addr),
            source_text(dev, source),
            status_text(dev, status)
        ),
        Stmt::DmaRead {
            addr,
            len,
            into,
            status,
        } => format!(
            "dma read {} bytes from {} into {}{}",
            expr(dev, len),
            expr(dev, addr),
            dest_text(dev, into),
            status_text(dev, status)
        ),
        Stmt::Assign {
            place: p,
            op,
            value,
        } => format!("{} {} {}", place(dev, p), op.symbol(), expr(dev, value)),
        Stmt::Call { hook, args } => {
            format!("{}({})", dev.hook(*hook).name, args_text(dev, args))
        }
        Stmt::TimerStart {
            timer,
            duration,
            unit,
            periodic,
        } => format!(
            "start {} {} {} {}",
            dev.timer(*timer).name,
            if *periodic { "every" } else { "after" },
            count(dev, duration),
            unit.keyword()
        ),
        Stmt::TimerStop(t) => format!("stop {}", dev.timer(*t).name),
        Stmt::FifoPush(s, v) => format!("{}.push({})", dev.state(*s).name, expr(dev, v)),
        Stmt::FifoPop(s) => format!("{}.pop()", dev.state(*s).name),
        Stmt::FifoClear(s) => format!("{}.clear()", dev.state(*s).name),
        Stmt::Send(s, v) => format!("send {} {}", dev.stream(*s).name, expr(dev, v)),
        Stmt::Vmm(r) => format!("vmm {}", r.keyword()),
    }
}

pub(super) fn source_text(dev: &Device, source: &ir::Source) -> String {
    match source {
        ir::Source::Random(e) => format!("random({})", expr(dev, e)),
        ir::Source::Pattern(e) => format!("pattern({})", expr(dev, e)),
        ir::Source::Word(e) => format!("word({})", expr(dev, e)),
        ir::Source::Buffer { state, offset } => {
            format!("{}[{}..]", dev.state(*state).name, expr(dev, offset))
        }
    }
}

pub(super) fn dest_text(dev: &Device, into: &ir::DmaDest) -> String {
    match into {
        ir::DmaDest::Buffer { state, offset } => {
            format!("{}[{}..]", dev.state(*state).name, expr(dev, offset))
        }
        ir::DmaDest::Scalar(p) => place(dev, p),
    }
}

fn status_text(dev: &Device, status: &Option<ir::Place>) -> String {
    status
        .as_ref()
        .map(|p| format!(", status -> {}", place(dev, p)))
        .unwrap_or_default()
}

/// Actions as indented lines: `if` conditions end in `:` and their
/// branches are indented two more spaces (`else:` before the other one).
pub fn block(dev: &Device, stmts: &[Stmt], indent: usize) -> Vec<String> {
    let mut out = Vec::new();
    block_into(&mut out, dev, stmts, indent);
    out
}

fn block_into(out: &mut Vec<String>, dev: &Device, stmts: &[Stmt], indent: usize) {
    let pad = " ".repeat(indent);
    for s in stmts {
        if let Stmt::If {
            cond,
            then,
            otherwise,
        } = s
        {
            out.push(format!("{pad}if {}:", expr(dev, cond)));
            block_into(out, dev, then, indent + 2);
            if !otherwise.is_empty() {
                out.push(format!("{pad}else:"));
                block_into(out, dev, otherwise, indent + 2);
            }
        } else {
            out.push(format!("{pad}{}", stmt_line(dev, s)));
        }
    }
}
