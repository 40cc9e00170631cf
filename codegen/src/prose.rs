//! The one renderer of the IR as text people read: expressions, actions,
//! access kinds, and sentences about what a register does.
//!
//! Every backend that shows behaviour uses it: `summary.txt`, the HTML and
//! Markdown documentation, the C header's and both drivers' comments. Two
//! layers:
//! - code-like text in the spec's own notation ([`expr`], [`place`],
//!   [`stmt_line`], [`block`]): fully parenthesised, so it is unambiguous
//!   without knowing operator precedence;
//! - sentences ([`Para`]) built from that text: what a read returns, what a
//!   write does, which interrupt, DMA or hook follows, what role a register
//!   plays in the interrupt protocol. A [`Para`] is a list of [`Inline`]s
//!   (plain words, code, references to registers) so that each output
//!   format can mark code up and link registers its own way.
//!
//! Everything here is a pure function of the IR (deterministic output).

use pcidevc_dsl::ir::{
    self, AccessKind, Device, DmaOutcome, Expr, Field, RegId, Register, StateId, Stmt,
};

// ------------------------------------------------------------------ code-like text

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
            expr(dev, duration),
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

fn source_text(dev: &Device, source: &ir::Source) -> String {
    match source {
        ir::Source::Random(e) => format!("random({})", expr(dev, e)),
        ir::Source::Pattern(e) => format!("pattern({})", expr(dev, e)),
        ir::Source::Word(e) => format!("word({})", expr(dev, e)),
        ir::Source::Buffer { state, offset } => {
            format!("{}[{}..]", dev.state(*state).name, expr(dev, offset))
        }
    }
}

fn dest_text(dev: &Device, into: &ir::DmaDest) -> String {
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

// ------------------------------------------------------------------ access kinds

/// The access kind a register map shows for a register.
///
/// The register's own kind when it declares one; else the kinds of its
/// fields, in bit order (`ro/rw`); a register without storage shows what a
/// guest can do with it (`ro`: a computed read, `wo`: a write that runs
/// actions, `rw`: both, `-`: neither) and [`AccessLabel::storage`] is false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLabel {
    /// The kinds as shown: one keyword (`rw`), the fields' kinds joined with
    /// `/` (`ro/rw`), or `-` for a register a guest can neither read nor write.
    pub kinds: String,
    /// Does the register store bits? (false: shown as `(no storage)`).
    pub storage: bool,
}

impl AccessLabel {
    /// `rw`, or `rw (no storage)`.
    pub fn text(&self) -> String {
        if self.storage {
            self.kinds.clone()
        } else {
            format!("{} (no storage)", self.kinds)
        }
    }
}

/// The [`AccessLabel`] a register map shows for `reg`.
pub fn access_label(reg: &Register) -> AccessLabel {
    if let Some(k) = reg.access {
        return AccessLabel {
            kinds: k.keyword().into(),
            storage: reg.has_storage(),
        };
    }
    if reg.has_storage() {
        let mut fields: Vec<&Field> = reg.fields.iter().collect();
        fields.sort_by_key(|f| f.lo);
        let mut kinds: Vec<&str> = Vec::new();
        for f in fields {
            let k = f.access.keyword();
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        return AccessLabel {
            kinds: kinds.join("/"),
            storage: true,
        };
    }
    let r = reg.read.is_some();
    let w = !reg.on_write.is_empty();
    AccessLabel {
        kinds: match (r, w) {
            (true, true) => "rw",
            (true, false) => "ro",
            (false, true) => "wo",
            (false, false) => "-",
        }
        .into(),
        storage: false,
    }
}

/// What a guest access does to bits of this kind, in a few words.
pub fn kind_meaning(k: AccessKind) -> &'static str {
    match k {
        AccessKind::Rw => "read/write",
        AccessKind::Ro => "read-only",
        AccessKind::Wo => "write-only, reads 0",
        AccessKind::W1c => "write 1 to clear",
        AccessKind::W1s => "write 1 to set",
        AccessKind::Rclr => "read-only, cleared by a read",
    }
}

// ------------------------------------------------------------------ sentences

/// A piece of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain words.
    Text(String),
    /// Code in the spec's notation (an expression, a value, a name).
    Code(String),
    /// A register, by id (formats link it to its description).
    Reg(RegId),
}

/// A sentence or short paragraph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Para(pub Vec<Inline>);

impl Para {
    /// An empty paragraph.
    pub fn new() -> Para {
        Para(Vec::new())
    }
    /// Appends words (merged with preceding words).
    pub fn text(mut self, t: impl Into<String>) -> Para {
        let t = t.into();
        if let Some(Inline::Text(prev)) = self.0.last_mut() {
            prev.push_str(&t);
        } else {
            self.0.push(Inline::Text(t));
        }
        self
    }
    /// Appends code in the spec's notation.
    pub fn code(mut self, c: impl Into<String>) -> Para {
        self.0.push(Inline::Code(c.into()));
        self
    }
    /// Appends a register reference (a link in the HTML and Markdown
    /// documents, its name in plain text).
    pub fn reg(mut self, r: RegId) -> Para {
        self.0.push(Inline::Reg(r));
        self
    }
    /// Appends `items` as a list: `a`, `b` and `c`.
    fn list(mut self, items: Vec<Para>) -> Para {
        let n = items.len();
        for (i, it) in items.into_iter().enumerate() {
            if i > 0 {
                self = self.text(if i + 1 == n { " and " } else { ", " });
            }
            for x in it.0 {
                self = match x {
                    Inline::Text(t) => self.text(t),
                    other => {
                        self.0.push(other);
                        self
                    }
                };
            }
        }
        self
    }
    /// Plain text: code as is, registers by name.
    pub fn plain(&self, dev: &Device) -> String {
        self.0
            .iter()
            .map(|i| match i {
                Inline::Text(t) | Inline::Code(t) => t.clone(),
                Inline::Reg(r) => dev.register(*r).name.clone(),
            })
            .collect()
    }
    /// Has nothing been appended?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a register does, in sentences.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// What a read returns (and what reading changes).
    pub read: Para,
    /// What a write does to the storage, and whether actions run.
    pub write: Para,
    /// Consequences of the actions: interrupt, MSI, DMA, hooks.
    pub effects: Vec<Para>,
    /// The register's part in the interrupt protocol and its access sizes.
    pub notes: Vec<Para>,
}

fn field_names(fields: &[&Field]) -> Vec<Para> {
    fields
        .iter()
        .map(|f| Para::new().code(f.name.clone()))
        .collect()
}

/// Sentences about `reg`: what a read returns, what a write does, what
/// follows from its actions, and its part in the interrupt protocol.
pub fn behaviour(dev: &Device, id: RegId) -> Behaviour {
    let reg = dev.register(id);
    Behaviour {
        read: read_sentence(dev, reg),
        write: write_sentence(reg),
        effects: effects(dev, reg),
        notes: notes(dev, id, reg),
    }
}

fn read_sentence(dev: &Device, reg: &Register) -> Para {
    let explicit: Vec<&Field> = reg.fields.iter().filter(|f| !f.implicit).collect();
    let mut p = Para::new().text("A read returns ");
    if let Some(e) = &reg.read {
        p = p.code(expr(dev, e));
    } else if !reg.has_storage() {
        p = p.code("0");
    } else if reg.fields.iter().all(|f| f.access.readable()) {
        p = p.text("the stored value");
    } else if explicit.is_empty() {
        p = p.code("0").text(" (write-only)");
    } else {
        let wo: Vec<&Field> = explicit
            .iter()
            .copied()
            .filter(|f| !f.access.readable())
            .collect();
        p = p
            .text("the stored value, with ")
            .list(field_names(&wo))
            .text(" (write-only) as 0");
    }
    let clears: Vec<&Field> = reg
        .fields
        .iter()
        .filter(|f| f.access.read_clears())
        .collect();
    if !clears.is_empty() {
        if clears.iter().all(|f| f.implicit) {
            p = p.text(", then clears the register");
        } else {
            p = p
                .text(", then clears ")
                .list(field_names(&clears))
                .text(" (rclr)");
        }
    }
    if !reg.on_read.is_empty() {
        p = p.text("; then the device runs its read actions");
    }
    p.text(".")
}

fn write_sentence(reg: &Register) -> Para {
    let implicit = reg.fields.iter().all(|f| f.implicit);
    let of = |kinds: &[AccessKind]| -> Vec<&Field> {
        reg.fields
            .iter()
            .filter(|f| kinds.contains(&f.access))
            .collect()
    };
    // One clause per kind of update; rw and wo fields both store.
    let mut clauses: Vec<Para> = Vec::new();
    for (kinds, what, whole) in [
        (
            &[AccessKind::Rw, AccessKind::Wo][..],
            "stores ",
            "stores the value written",
        ),
        (
            &[AccessKind::W1c][..],
            "clears the bits written as 1 in ",
            "clears the bits written as 1",
        ),
        (
            &[AccessKind::W1s][..],
            "sets the bits written as 1 in ",
            "sets the bits written as 1",
        ),
    ] {
        let fields = of(kinds);
        if fields.is_empty() {
            continue;
        }
        clauses.push(if implicit {
            Para::new().text(whole)
        } else {
            Para::new().text(what).list(field_names(&fields))
        });
    }
    let p = Para::new().text("A write ");
    if clauses.is_empty() {
        return if reg.on_write.is_empty() {
            p.text("has no effect.")
        } else {
            p.text("runs the write actions below.")
        };
    }
    let mut p = p;
    let n = clauses.len();
    for (i, c) in clauses.into_iter().enumerate() {
        if i > 0 {
            p = p.text(if i + 1 == n { ", and " } else { ", " });
        }
        p = p.list(vec![c]);
    }
    if !reg.on_write.is_empty() {
        p = p.text(", then runs the write actions below");
    }
    p.text(".")
}

/// Everything the statements of `stmts` (recursively) may do beyond
/// assignments, in order of first appearance.
fn collect<'a>(stmts: &'a [Stmt], out: &mut Vec<&'a Stmt>) {
    for s in stmts {
        match s {
            Stmt::If {
                then, otherwise, ..
            } => {
                collect(then, out);
                collect(otherwise, out);
            }
            _ => out.push(s),
        }
    }
}

/// States and registers an expression reads.
fn reads_of(e: &Expr, states: &mut Vec<StateId>, regs: &mut Vec<RegId>) {
    e.walk(&mut |x| match x {
        Expr::State(s) | Expr::BufferByte(s, _) => states.push(*s),
        Expr::Register(r) | Expr::Field(r, _) => regs.push(*r),
        _ => {}
    });
}

/// Calls `f` on every expression of `stmts` (conditions, values, DMA
/// operands, hook arguments), recursively.
fn for_each_expr(stmts: &[Stmt], f: &mut dyn FnMut(&Expr)) {
    for s in stmts {
        match s {
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                f(cond);
                for_each_expr(then, f);
                for_each_expr(otherwise, f);
            }
            Stmt::Irq(_) => {}
            Stmt::Msi(e) => f(e),
            Stmt::DmaWrite {
                addr, len, source, ..
            } => {
                f(addr);
                f(len);
                match source {
                    ir::Source::Random(e) | ir::Source::Pattern(e) | ir::Source::Word(e) => f(e),
                    ir::Source::Buffer { offset, .. } => f(offset),
                }
            }
            Stmt::DmaRead {
                addr, len, into, ..
            } => {
                f(addr);
                f(len);
                if let ir::DmaDest::Buffer { offset, .. } = into {
                    f(offset);
                }
            }
            Stmt::Assign { value, .. } => f(value),
            Stmt::Call { hook, args } => {
                // The call itself, as an expression, so callers see one kind.
                f(&Expr::Call(*hook, args.clone()));
            }
            Stmt::TimerStart { duration: e, .. } | Stmt::FifoPush(_, e) | Stmt::Send(_, e) => f(e),
            Stmt::TimerStop(_) | Stmt::FifoPop(_) | Stmt::FifoClear(_) | Stmt::Vmm(_) => {}
        }
    }
}

fn effects(dev: &Device, reg: &Register) -> Vec<Para> {
    let mut stmts = Vec::new();
    collect(&reg.on_read, &mut stmts);
    collect(&reg.on_write, &mut stmts);
    let (mut level_states, mut level_regs) = (Vec::new(), Vec::new());
    if let Some(l) = &dev.interrupt.level {
        reads_of(l, &mut level_states, &mut level_regs);
    }
    let mut out: Vec<Para> = Vec::new();
    let mut push = |p: Para| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    // Hooks called from expressions (computed reads, assigned values,
    // conditions) count like `Stmt::Call`s.
    let mut hooks = Vec::new();
    let mut note_calls = |e: &Expr| {
        e.walk(&mut |x| {
            if let Expr::Call(h, _) = x
                && !hooks.contains(h)
            {
                hooks.push(*h);
            }
        })
    };
    if let Some(e) = &reg.read {
        note_calls(e);
    }
    for_each_expr(&reg.on_read, &mut note_calls);
    for_each_expr(&reg.on_write, &mut note_calls);
    for h in hooks {
        push(
            Para::new()
                .text("Calls the hook ")
                .code(dev.hook(h).name.clone())
                .text(" (behaviour written in Rust by the model's user)."),
        );
    }
    for s in stmts {
        match s {
            Stmt::Irq(op) => push(Para::new().text(match op {
                ir::IrqOp::Raise => "Interrupt: raises the INTx line (until lowered).",
                ir::IrqOp::Lower => "Interrupt: lowers the INTx line.",
                ir::IrqOp::Pulse => "Interrupt: pulses the INTx line (an edge).",
            })),
            Stmt::Msi(v) => push(
                Para::new()
                    .text("Interrupt: sends MSI vector ")
                    .code(expr(dev, v))
                    .text(" (when the driver enabled MSI)."),
            ),
            Stmt::DmaWrite {
                addr,
                len,
                source,
                status,
            } => push(dma_sentence(
                dev,
                "DMA to guest memory: writes ",
                len,
                " bytes to address ",
                addr,
                &format!(" from {}", source_text(dev, source)),
                status,
            )),
            Stmt::DmaRead {
                addr,
                len,
                into,
                status,
            } => push(dma_sentence(
                dev,
                "DMA from guest memory: reads ",
                len,
                " bytes at address ",
                addr,
                &format!(" into {}", dest_text(dev, into)),
                status,
            )),
            Stmt::Call { .. } => {} // with the hooks above
            Stmt::TimerStart {
                timer,
                duration,
                unit,
                periodic,
            } => push(
                Para::new()
                    .text("Timer: starts ")
                    .code(dev.timer(*timer).name.clone())
                    .text(if *periodic {
                        ", firing every "
                    } else {
                        ", firing once after "
                    })
                    .code(format!("{} {}", expr(dev, duration), unit.keyword()))
                    .text(" (re-armed if running; clamped to 100 µs .. 2^63 ns)."),
            ),
            Stmt::TimerStop(t) => push(
                Para::new()
                    .text("Timer: stops ")
                    .code(dev.timer(*t).name.clone())
                    .text("."),
            ),
            Stmt::FifoPush(st, v) => push(
                Para::new()
                    .text("FIFO: appends ")
                    .code(expr(dev, v))
                    .text(" to ")
                    .code(dev.state(*st).name.clone())
                    .text(" (nothing when it is full)."),
            ),
            Stmt::FifoPop(st) => push(
                Para::new()
                    .text("FIFO: drops the first element of ")
                    .code(dev.state(*st).name.clone())
                    .text(" (nothing when it is empty)."),
            ),
            Stmt::FifoClear(st) => push(
                Para::new()
                    .text("FIFO: empties ")
                    .code(dev.state(*st).name.clone())
                    .text("."),
            ),
            Stmt::Send(st, v) => push(
                Para::new()
                    .text("Stream: sends the byte ")
                    .code(expr(dev, v))
                    .text(" on ")
                    .code(dev.stream(*st).name.clone())
                    .text(" (dropped when its output queue is full)."),
            ),
            Stmt::Vmm(r) => push(
                Para::new()
                    .text("VMM: asks the VMM to ")
                    .text(vmm_what(*r))
                    .text("."),
            ),
            Stmt::Assign { place: p, .. } => {
                let touches_level = match p {
                    ir::Place::State(s) | ir::Place::BufferByte(s, _) => level_states.contains(s),
                    ir::Place::Register(r) | ir::Place::Field(r, _) => level_regs.contains(r),
                };
                if touches_level {
                    push(
                        Para::new()
                            .text("Interrupt: changes ")
                            .code(place(dev, p))
                            .text(", which the interrupt level ")
                            .code(
                                dev.interrupt
                                    .level
                                    .as_ref()
                                    .map_or(String::new(), |l| expr(dev, l)),
                            )
                            .text(" depends on."),
                    );
                }
            }
            Stmt::If { .. } => {}
        }
    }
    out
}

/// What a VMM request asks for, in words.
pub fn vmm_what(r: ir::VmmRequest) -> &'static str {
    match r {
        ir::VmmRequest::Reset => "reset the machine",
        ir::VmmRequest::PowerOff => "power the machine off",
        ir::VmmRequest::Stop => "pause the guest",
        ir::VmmRequest::Panic => "handle a guest panic",
        ir::VmmRequest::CrashLoaded => "note that a crash kernel was loaded",
    }
}

fn dma_sentence(
    dev: &Device,
    head: &str,
    len: &Expr,
    mid: &str,
    addr: &Expr,
    tail: &str,
    status: &Option<ir::Place>,
) -> Para {
    let mut p = Para::new()
        .text(head)
        .code(expr(dev, len))
        .text(mid)
        .code(expr(dev, addr))
        .text(tail);
    if let Some(s) = status {
        p = p
            .text("; the outcome code goes to ")
            .code(place(dev, s))
            .text(format!(" ({})", outcome_codes()));
    }
    p.text(".")
}

/// `1 done, 2 bus mastering off, ...`
pub fn outcome_codes() -> String {
    DmaOutcome::ALL
        .iter()
        .map(|o| format!("{} {}", o.status_code(), o.describe()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn notes(dev: &Device, id: RegId, reg: &Register) -> Vec<Para> {
    let mut out = Vec::new();
    if let Some(a) = &reg.array {
        out.push(
            Para::new()
                .text(format!("An array of {} registers: ", a.count))
                .code(format!("{}_0", a.array))
                .text(" .. ")
                .code(format!("{}_{}", a.array, a.count - 1))
                .text(format!(
                    ", element i at {:#x} + i * {}; ",
                    reg.offset - a.index * a.stride,
                    a.stride
                ))
                .code("index")
                .text(" is the element number."),
        );
    }
    let int = &dev.interrupt;
    if int.status == Some(id) {
        out.push(
            Para::new()
                .text("Interrupt status: the driver's handler reads it first (")
                .code("value")
                .text(" in the interrupt block)."),
        );
    }
    let (first, then) = int.handler_reads();
    if (first.contains(&id) || then.contains(&id)) && int.status != Some(id) {
        out.push(Para::new().text(if first.contains(&id) {
            "Read by the driver's interrupt handler (once per interrupt) to tell whether the interrupt is this device's."
        } else {
            "Read by the driver's interrupt handler (once per interrupt, after it knows the interrupt is this device's) to choose its acknowledgement."
        }));
    }
    for a in int.acks.iter().filter(|a| a.register == id) {
        let mut p = Para::new()
            .text("Interrupt acknowledge: the handler writes ")
            .code(expr(dev, &a.value))
            .text(" here");
        p = match &a.when {
            Some(c) => p.text(" when ").code(expr(dev, c)).text("."),
            None => p.text("."),
        };
        out.push(p);
    }
    if let Some(sizes) = reg.sizes {
        out.push(Para::new().text(if reg.in_config() {
            format!(
                "Reached only by naturally aligned {}-byte accesses; others see plain configuration memory.",
                sizes.text("/")
            )
        } else {
            format!("Accepts only {}-byte accesses.", sizes.text("/"))
        }));
    }
    out
}

/// The interrupt, in sentences.
pub fn interrupt(dev: &Device) -> Vec<Para> {
    let int = &dev.interrupt;
    if !int.any() {
        return vec![Para::new().text("The device has no interrupt.")];
    }
    let mut out = Vec::new();
    let mut how = Vec::new();
    if let Some(p) = int.pin {
        how.push(format!("INTx pin {}", p.letter()));
    }
    if let Some(n) = int.msi_vectors {
        how.push(format!("{n} MSI vector{}", if n == 1 { "" } else { "s" }));
    }
    if let Some(m) = int.msix {
        how.push(format!(
            "{} MSI-X vector{}",
            m.vectors,
            if m.vectors == 1 { "" } else { "s" }
        ));
    }
    out.push(Para::new().text(format!(
        "The device interrupts through {}.",
        how.join(" and ")
    )));
    if let Some(m) = int.msix {
        out.push(Para::new().text(format!(
            "MSI-X: the vector table ({:#x} bytes) is at BAR {} offset {:#x}, the pending bit array \
             ({:#x} bytes) at BAR {} offset {:#x}. `msi N` sends vector N through MSI-X when the \
             driver enabled it: a masked vector (its own mask bit or the function mask) only sets \
             its pending bit, and unmasking it delivers it then.",
            m.table_len(),
            m.table_bar,
            m.table_offset,
            m.pba_len(),
            m.pba_bar,
            m.pba_offset
        )));
    }
    match &int.level {
        Some(l) => out.push(
            Para::new()
                .text("The line's level is ")
                .code(expr(dev, l))
                .text(
                    ", recomputed after every access (masked by COMMAND.INTx-disable; \
                     STATUS.interrupt shows it). With MSI enabled, each rising edge sends vector 0 instead.",
                ),
        ),
        None => out.push(Para::new().text(
            "Actions drive a latched line (irq raise, lower, pulse) and send MSI vectors (msi N).",
        )),
    }
    let mut handler = Para::new().text("The driver's handler ");
    let (first, then) = int.handler_reads();
    let names = |v: &[RegId]| {
        v.iter()
            .map(|r| dev.register(*r).name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !first.is_empty() {
        handler = handler.text(format!("reads {} (each once), ", names(&first)));
    }
    match &int.mine {
        Some(m) => {
            handler = handler
                .text("takes the interrupt as this device's when ")
                .code(expr(dev, m))
                .text(" holds, else returns \"not mine\" (the line may be shared)");
        }
        None => handler = handler.text("takes every interrupt as its own"),
    }
    if !then.is_empty() {
        handler = handler.text(format!("; then it reads {}", names(&then)));
    }
    if int.acks.is_empty() {
        handler = handler.text("; nothing acknowledges: the device lowers the line itself.");
    } else {
        handler = handler.text("; then, in order, it writes");
        for (i, a) in int.acks.iter().enumerate() {
            handler = handler
                .text(if i == 0 { " " } else { ", " })
                .code(expr(dev, &a.value))
                .text(" to ")
                .reg(a.register);
            if let Some(c) = &a.when {
                handler = handler.text(" when ").code(expr(dev, c));
            }
        }
        handler =
            handler.text(" to acknowledge, every value and condition computed from what it read.");
    }
    out.push(handler);
    let sources: Vec<RegId> = (0..dev.registers.len())
        .map(RegId)
        .filter(|r| behaviour_effects_mention_interrupt(dev, *r))
        .collect();
    if !sources.is_empty() {
        let items = sources.iter().map(|r| Para::new().reg(*r)).collect();
        out.push(
            Para::new()
                .text("Registers whose access can change the interrupt: ")
                .list(items)
                .text("."),
        );
    }
    out
}

fn behaviour_effects_mention_interrupt(dev: &Device, r: RegId) -> bool {
    effects(dev, dev.register(r))
        .iter()
        .any(|p| matches!(p.0.first(), Some(Inline::Text(t)) if t.starts_with("Interrupt")))
}

/// DMA, in sentences.
/// Timers, streams, `let`s and `fn`s, one paragraph each (language v2):
/// what starts nothing by itself but runs when time passes or bytes arrive.
pub fn time_and_streams(dev: &Device) -> Vec<Para> {
    let line = |stmts: &[Stmt]| {
        if stmts.is_empty() {
            "nothing".to_string()
        } else {
            stmts
                .iter()
                .map(|s| stmt_line(dev, s))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    let mut out = Vec::new();
    for t in &dev.timers {
        out.push(
            Para::new()
                .text("Timer ")
                .code(t.name.clone())
                .text(": when it fires, runs ")
                .code(line(&t.on_fire))
                .text(". Durations are clamped to 100 µs .. 2^63 ns."),
        );
    }
    for st in &dev.streams {
        let mut p = Para::new().text("Stream ").code(st.name.clone()).text(": ");
        p = match &st.ready {
            Some(r) => p
                .text("accepts a byte from the outside world while ")
                .code(expr(dev, r)),
            None => p.text("accepts bytes from the outside world at any time"),
        };
        p = p
            .text("; for each byte (`byte`) it runs ")
            .code(line(&st.on_input))
            .text(". Bytes sent go into a 64 KiB output queue (a full queue drops them).");
        out.push(p);
    }
    for l in &dev.lets {
        out.push(
            Para::new()
                .text("Named expression ")
                .code(format!("{} = {}", l.name, expr(dev, &l.value)))
                .text(" (evaluated where it is used)."),
        );
    }
    for f in &dev.fns {
        out.push(
            Para::new()
                .text("Pure function ")
                .code(fn_decl(dev, f))
                .text("."),
        );
    }
    if out.is_empty() {
        out.push(Para::new().text("The device has no timers, streams, `let`s or `fn`s."));
    }
    out
}

/// The documents' DMA section: which registers start DMA, the status
/// codes, and the driver's scenario DMA buffer and mask.
pub fn dma(dev: &Device) -> Vec<Para> {
    let mut out = Vec::new();
    let starters: Vec<RegId> = (0..dev.registers.len())
        .map(RegId)
        .filter(|r| {
            effects(dev, dev.register(*r))
                .iter()
                .any(|p| matches!(p.0.first(), Some(Inline::Text(t)) if t.starts_with("DMA")))
        })
        .collect();
    if starters.is_empty() {
        out.push(Para::new().text("The device does no DMA."));
    } else {
        let items = starters.iter().map(|r| Para::new().reg(*r)).collect();
        out.push(
            Para::new()
                .text("The device does DMA (bus mastering must be on). Accesses that start it: ")
                .list(items)
                .text("."),
        );
        out.push(Para::new().text(format!(
            "DMA status codes: {}. A refused transfer writes nothing.",
            outcome_codes()
        )));
    }
    if let Some(n) = dev.dma_buffer {
        out.push(
            Para::new()
                .text(format!(
                    "The driver allocates a coherent DMA buffer of {} for the scenarios (",
                    size_text(n)
                ))
                .code("dma.addr")
                .text(format!("), with a {}-bit DMA mask.", dev.dma_mask_bits)),
        );
    }
    out
}

/// `16 bytes`, `4 KiB`, `1 MiB`.
pub fn size_text(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (u, name) in UNITS {
        if n >= u && n.is_multiple_of(u) {
            return format!("{} {name}", n / u);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(text: &str) -> Device {
        let c = pcidevc_dsl::compile_str("t.pcidev", text);
        let errors: Vec<String> = c.errors().map(|d| d.message.clone()).collect();
        c.device.unwrap_or_else(|| panic!("{errors:?}"))
    }

    const SPEC: &str = "device t { id 0x1234:0x5678; state f: bool = false;
        interrupt { pin A; level f; status IRQ; ack IRQ = 0; }
        bar 0 mem32 size 64 {
            register IRQ @ 0x0 : u32 { read f; on write { f = value != 0; } }
            register CTRL @ 0x4 : u32 { field go [0] wo; field busy [1] ro; field en [2] rw; field err [3] w1c; }
            register ID @ 0x8 : u32 ro = 7 { access 4; }
            register EV @ 0xc : u32 rclr;
            register KICK @ 0x10 : u32 { on write { dma write addr 0x1000 len 4 from pattern(1) status ID; } }
        } }";

    fn reg(d: &Device, name: &str) -> RegId {
        RegId(d.registers.iter().position(|r| r.name == name).unwrap())
    }

    #[test]
    fn access_labels_say_what_the_fields_are() {
        let d = dev(SPEC);
        let label = |n: &str| access_label(d.register(reg(&d, n))).text();
        assert_eq!(label("IRQ"), "rw (no storage)");
        assert_eq!(label("CTRL"), "wo/ro/rw/w1c");
        assert_eq!(label("ID"), "ro");
        assert_eq!(label("KICK"), "wo (no storage)");
    }

    #[test]
    fn sentences_describe_reads_writes_and_effects() {
        let d = dev(SPEC);
        let b = |n: &str| behaviour(&d, reg(&d, n));
        let irq = b("IRQ");
        assert_eq!(irq.read.plain(&d), "A read returns f.");
        assert_eq!(irq.write.plain(&d), "A write runs the write actions below.");
        assert!(irq.effects[0].plain(&d).contains("interrupt level f"));
        assert!(irq.notes[0].plain(&d).starts_with("Interrupt status"));
        assert!(irq.notes[1].plain(&d).contains("writes 0 here"));
        let ctrl = b("CTRL");
        assert_eq!(
            ctrl.read.plain(&d),
            "A read returns the stored value, with go (write-only) as 0."
        );
        assert_eq!(
            ctrl.write.plain(&d),
            "A write stores go and en, and clears the bits written as 1 in err."
        );
        assert_eq!(
            b("EV").read.plain(&d),
            "A read returns the stored value, then clears the register."
        );
        assert_eq!(b("ID").write.plain(&d), "A write has no effect.");
        assert_eq!(b("ID").notes[0].plain(&d), "Accepts only 4-byte accesses.");
        let kick = b("KICK");
        assert_eq!(kick.read.plain(&d), "A read returns 0.");
        assert!(
            kick.effects[0]
                .plain(&d)
                .starts_with("DMA to guest memory: writes 4 bytes to address 0x1000 from pattern(1); the outcome code goes to ID (1 done"),
            "{:?}",
            kick.effects
        );
        assert!(dma(&d)[0].plain(&d).contains("KICK"));
        assert!(interrupt(&d).iter().any(|p| p.plain(&d).contains("IRQ")));
    }

    #[test]
    fn blocks_indent_branches() {
        let d = dev("device t { id 0x1234:0x5678; state s: u32 = 0;
            bar 0 mem32 size 16 { register R @ 0 : u32 { on write { if value == 1 { s = 1; } else { s += 2; } } } } }");
        assert_eq!(
            block(&d, &d.registers[0].on_write, 2),
            ["  if (value == 1):", "    s = 1", "  else:", "    s += 2"]
        );
    }
}
