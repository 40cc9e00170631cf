//! Every generated model (hello_tic, edu, pci_testdev) under arbitrary
//! guest accesses: config space and BARs, any offset, any size 0..=9, any
//! value, any order, resets. Never a panic, and guest memory changes only
//! inside DMAs the trace reports as done.
//!
//! Input layout: byte 0 picks the model; then 16-byte records:
//! [kind, bar, size, _, offset: u32 LE, value: u64 LE].

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::{DmaOutcome, GuestMem, TraceBuffer, TraceEvent};

const RAM: &[(u64, usize)] = &[(0, 0x1_0000), (0x10_0000, 0x2_0000)];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let name = pcidev_models::NAMES[usize::from(pick) % pcidev_models::NAMES.len()];
    let Some(mut model) = pcidev_models::by_name(name) else { return };
    let mem = Arc::new(GuestMem::from_ranges(&RAM.iter().map(|&(a, l)| (GuestAddress(a), l)).collect::<Vec<_>>()).unwrap());
    for &(a, l) in RAM {
        mem.write_slice(&vec![0x5a; l], GuestAddress(a)).unwrap();
    }
    model.set_guest_memory(Some(mem.clone()));
    let trace = TraceBuffer::new();
    model.set_trace(trace.sink());
    for rec in rest.chunks_exact(16) {
        let (kind, bar, size) = (rec[0], rec[1] % 8, usize::from(rec[2] % 10));
        let offset = u64::from(u32::from_le_bytes(rec[4..8].try_into().unwrap()));
        let value = u64::from_le_bytes(rec[8..16].try_into().unwrap());
        let bytes: Vec<u8> = (0..size).map(|i| value.to_le_bytes()[i % 8]).collect();
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
    }
    // Every changed byte lies inside a DMA the trace says was done.
    let done: Vec<(u64, u64)> = trace
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Dma { direction: pcidev_runtime::DmaDirection::ToGuest, address, len, outcome: DmaOutcome::Done, .. } => {
                Some((address, address + len as u64))
            }
            _ => None,
        })
        .collect();
    for &(a, l) in RAM {
        let mut now = vec![0u8; l];
        mem.read_slice(&mut now, GuestAddress(a)).unwrap();
        for (i, b) in now.iter().enumerate() {
            let addr = a + i as u64;
            assert!(*b == 0x5a || done.iter().any(|(s, e)| (*s..*e).contains(&addr)), "{name}: byte {addr:#x} changed outside any DMA");
        }
    }
});
