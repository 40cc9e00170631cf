//! The CLI-generated `hello_tic` model (`generated/hello_tic/model.rs`,
//! compiled as `pcidev_models::hello_tic`) on a `vm_device` `IoManager`,
//! driven through the bus as a VMM's vCPU exit handler would: BAR0 is port
//! I/O, BAR1 is MMIO, both programmed in configuration space first, like
//! firmware does.
//!
//! It plays the seed driver: read the id, write 0x4567, raise the interrupt
//! and watch the line on an `InterruptSink`, acknowledge it like the
//! driver's handler, then run the device's DMA twice: to its reset address
//! 0xa0000 (the legacy VGA window, not RAM: refused and reported) and to a
//! buffer in guest RAM (done, checked byte for byte).
//!
//! Run: `cargo run -p pcidevc-examples --example io_manager`.

use pcidev_models::hello_tic;
use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::{TraceBuffer, TraceEvent, random_bytes};
use pcidevc_examples::{DMA_BUFFER, Result, Vm};
use std::io::Write;

// hello_tic's registers (see specs/hello_tic.pcidev).
const IRQ: u64 = 0x0; // BAR0: write non-zero raises, 0 lowers; read: the flag
const DMA_START: u64 = 0x4; // BAR0: any write starts a DMA
const DMA_ADDR: u64 = 0x8; // BAR0: where the DMA goes (reset 0xa0000)
const DMA_STATUS: u64 = 0xc; // BAR0: 1 done, 4 not guest RAM, ...
const IRQ_STATUS: u64 = 0x0; // BAR1: the flag, read-only
const ID: u64 = 0x4; // BAR1: read/write, reset 0x1337
/// Length of hello_tic's DMA, and the seed of its data.
const DMA_LEN: usize = 0x1ffff;
const DMA_SEED: u32 = 0x5eed;

/// What the run observed (checked by the test below).
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub id_at_reset: u32,
    pub id_after_write: u32,
    pub irq_edges: Vec<bool>,
    pub irq_status_while_raised: u32,
    pub vga_dma_status: u32,
    pub ram_dma_status: u32,
    pub ram_dma_bytes_match: bool,
}

/// Drive the device; narrate to `out`.
pub fn run(out: &mut dyn Write) -> Result<Outcome> {
    let vm = Vm::new(hello_tic::model())?;
    let trace = TraceBuffer::new();
    vm.dev
        .lock()
        .map_err(|_| "device lock poisoned")?
        .set_trace(trace.sink());
    for b in &vm.bars {
        writeln!(
            out,
            "firmware: BAR{} {:?}, {} bytes, at {:#x}",
            b.index, b.kind, b.size, b.base
        )?;
    }

    // The seed driver's probe: print id, write 0x4567, print id.
    let id_at_reset = vm.read32(1, ID)?;
    writeln!(out, "readl(bar1 + ID)        = {id_at_reset:#x}")?;
    vm.write32(1, ID, 0x4567)?;
    let id_after_write = vm.read32(1, ID)?;
    writeln!(out, "writel(0x4567); readl   = {id_after_write:#x}")?;

    // Raise the interrupt: the sink sees the rising edge.
    vm.write32(0, IRQ, 1)?;
    let irq_status_while_raised = vm.read32(1, IRQ_STATUS)?;
    writeln!(
        out,
        "outl(1, io + IRQ): INTx {} (IRQ_STATUS = {irq_status_while_raised})",
        if vm.irq.asserted() { "asserted" } else { "low" }
    )?;
    // The driver's handler: a non-zero status means ours; acknowledge with 0.
    if vm.read32(0, IRQ)? != 0 {
        vm.write32(0, IRQ, 0)?;
    }
    let irq_edges = vm.irq.take_edges();
    writeln!(
        out,
        "handler acknowledged: INTx {}; edges seen by the sink: {irq_edges:?}",
        if vm.irq.asserted() { "asserted" } else { "low" }
    )?;

    // The seed's DMA, to 0xa0000: not guest RAM, so refused, and reported.
    vm.write32(0, DMA_START, 1)?;
    let vga_dma_status = vm.read32(0, DMA_STATUS)?;
    writeln!(
        out,
        "DMA to {:#x}: status {vga_dma_status} ({})",
        0xa0000,
        describe(vga_dma_status)
    )?;

    // The same DMA into a buffer in guest RAM.
    vm.write32(0, DMA_ADDR, u32::try_from(DMA_BUFFER)?)?;
    vm.write32(0, DMA_START, 1)?;
    let ram_dma_status = vm.read32(0, DMA_STATUS)?;
    let mut got = vec![0; DMA_LEN];
    vm.mem.read_slice(&mut got, GuestAddress(DMA_BUFFER))?;
    let ram_dma_bytes_match = got == random_bytes(DMA_SEED, DMA_LEN);
    writeln!(
        out,
        "DMA to {DMA_BUFFER:#x}: status {ram_dma_status} ({}); guest memory starts {:02x?}, \
         {} the xorshift32 stream of seed {DMA_SEED:#x}",
        describe(ram_dma_status),
        &got[..8],
        if ram_dma_bytes_match {
            "matching"
        } else {
            "NOT matching"
        }
    )?;
    for e in trace.events() {
        if let TraceEvent::Dma {
            address,
            len,
            outcome,
            ..
        } = e
        {
            writeln!(
                out,
                "trace: DMA {len:#x} bytes to {address:#x}: {outcome:?}"
            )?;
        }
    }
    Ok(Outcome {
        id_at_reset,
        id_after_write,
        irq_edges,
        irq_status_while_raised,
        vga_dma_status,
        ram_dma_status,
        ram_dma_bytes_match,
    })
}

fn describe(status: u32) -> &'static str {
    match status {
        1 => "done",
        2 => "bus mastering off",
        3 => "no guest memory",
        4 => "not guest RAM",
        5 => "too long",
        6 => "bad buffer range",
        _ => "unknown",
    }
}

fn main() -> Result<()> {
    run(&mut std::io::stdout())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_runs_as_documented() {
        let mut text = Vec::new();
        let outcome = run(&mut text).unwrap();
        assert_eq!(
            outcome,
            Outcome {
                id_at_reset: 0x1337,
                id_after_write: 0x4567,
                irq_edges: vec![true, false],
                irq_status_while_raised: 1,
                vga_dma_status: 4,
                ram_dma_status: 1,
                ram_dma_bytes_match: true,
            }
        );
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("BAR0 Io, 16 bytes"), "{text}");
        assert!(
            text.contains("trace: DMA 0x1ffff bytes to 0xa0000: OutOfRange"),
            "{text}"
        );
    }
}
