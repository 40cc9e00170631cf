//! Sentences about the whole device: its interrupt, its timers, streams,
//! `let`s and `fn`s, and its DMA.

use pcidevc_dsl::ir::{Device, RegId, Stmt};

use super::register::effects;
use super::{Inline, Para, expr, fn_decl, outcome_codes, size_text, stmt_line};

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
