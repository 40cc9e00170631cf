//! Sentences about one register: what a read returns, what a write does,
//! what follows from its actions (interrupt, DMA, hooks, requests to the
//! VMM) and its part in the interrupt protocol.

use pcidevc_dsl::ir::{
    self, AccessKind, Device, DmaOutcome, Expr, Field, RegId, Register, StateId, Stmt,
};

use super::code::{count, dest_text, source_text};
use super::{Para, expr, place};

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

pub(super) fn effects(dev: &Device, reg: &Register) -> Vec<Para> {
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
                    .code(format!("{} {}", count(dev, duration), unit.keyword()))
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
