//! The `models` fuzz target's body (`fuzz/fuzz_targets/models.rs`), shared
//! with its stable-Rust loop driver (`generated/tests/models_soak.rs`): a
//! model by name under arbitrary config/BAR access records, with guest
//! memory that must change only inside DMAs the trace reports as done.
//!
//! A record is 16 bytes: `[kind, bar, size, _, offset: u32 LE, value: u64
//! LE]`; `kind % 5` is a config write, config read, BAR write, BAR read or
//! reset; the size is `size % 10` bytes (0..=9, every invalid one too).

use std::sync::Arc;

use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::{DmaDirection, DmaOutcome, GuestMem, TraceBuffer, TraceEvent};

/// Bytes per access record.
pub const RECORD: usize = 16;
/// The guest RAM every run gets: two ranges, filled with 0x5a.
pub const RAM: &[(u64, usize)] = &[(0, 0x1_0000), (0x10_0000, 0x2_0000)];

/// Run `records` (whole records; a trailing partial one is ignored) against
/// a fresh `name` model; `Ok(accesses done)`, or what went wrong: guest
/// memory changed outside a DMA, or an INTx line that a recomputation of
/// the interrupt level would change. A panic in the model is the caller's
/// to see (the fuzzer reports it).
pub fn run_records(name: &str, records: &[u8]) -> Result<usize, String> {
    let mut model = crate::by_name(name).ok_or_else(|| format!("no model {name}"))?;
    let ranges: Vec<(GuestAddress, usize)> =
        RAM.iter().map(|&(a, l)| (GuestAddress(a), l)).collect();
    let mem = Arc::new(GuestMem::from_ranges(&ranges).map_err(|e| e.to_string())?);
    for &(a, l) in RAM {
        mem.write_slice(&vec![0x5a; l], GuestAddress(a))
            .map_err(|e| e.to_string())?;
    }
    model.set_guest_memory(Some(mem.clone()));
    let trace = TraceBuffer::new();
    model.set_trace(trace.sink());
    let mut done = 0;
    for rec in records.chunks_exact(RECORD) {
        let (kind, bar, size) = (rec[0], rec[1] % 8, usize::from(rec[2] % 10));
        let offset = u64::from(u32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]));
        let mut v = [0u8; 8];
        v.copy_from_slice(&rec[8..16]);
        let bytes: Vec<u8> = (0..size).map(|i| v[i % 8]).collect();
        let mut buf = vec![0u8; size];
        match kind % 5 {
            0 => model.config_write(offset % 0x110, &bytes),
            1 => model.config_read(offset % 0x110, &mut buf),
            2 => {
                let _ = model.bar_write(bar, offset, &bytes);
            }
            3 => {
                let _ = model.bar_read(bar, offset, &mut buf);
            }
            _ => model.reset(),
        }
        // The line the model kept equals the one recomputed from scratch:
        // no access that skipped recomputing the level (`Level::Unchanged`)
        // changed it.
        let line = model.interrupt_asserted();
        model.refresh_interrupt();
        if model.interrupt_asserted() != line {
            return Err(format!(
                "{name}: after record {done} the INTx line was {line}, the level says otherwise"
            ));
        }
        done += 1;
    }
    // Every changed byte lies inside a DMA the trace says was done.
    let dmas: Vec<(u64, u64)> = trace
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Dma {
                direction: DmaDirection::ToGuest,
                address,
                len,
                outcome: DmaOutcome::Done,
                ..
            } => Some((address, address + len as u64)),
            _ => None,
        })
        .collect();
    for &(a, l) in RAM {
        let mut now = vec![0u8; l];
        mem.read_slice(&mut now, GuestAddress(a))
            .map_err(|e| e.to_string())?;
        for (i, b) in now.iter().enumerate() {
            let addr = a + i as u64;
            if *b != 0x5a && !dmas.iter().any(|(s, e)| (*s..*e).contains(&addr)) {
                return Err(format!("{name}: byte {addr:#x} changed outside any DMA"));
            }
        }
    }
    Ok(done)
}
