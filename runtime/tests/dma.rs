//! DMA through vm-memory: gating, range checks (nothing written unless the
//! whole range is guest memory), regions spanning, overflow, tracing.

mod common;

use std::sync::Arc;

use common::*;
use pcidev_runtime::vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};
use pcidev_runtime::*;

const SENTINEL: u8 = 0x5a;

/// Fill every region with the sentinel byte.
fn fill(mem: &GuestMemoryMmap<()>, ranges: &[(u64, usize)]) {
    for &(start, len) in ranges {
        mem.write_slice(&vec![SENTINEL; len], GuestAddress(start))
            .unwrap();
    }
}

fn read(mem: &GuestMemoryMmap<()>, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    mem.read_slice(&mut buf, GuestAddress(addr)).unwrap();
    buf
}

/// A toy with guest memory over `ranges` (filled with the sentinel), bus
/// mastering on, and DMA_LEN / SEED programmed.
fn setup(
    ranges: &[(u64, usize)],
    len: u32,
    seed: u32,
) -> (Model<Toy>, Arc<GuestMemoryMmap<()>>, TraceBuffer) {
    let (mut m, _, trace) = toy();
    let mem = guest_memory(ranges);
    fill(&mem, ranges);
    m.set_guest_memory(Some(mem.clone()));
    enable_all(&mut m);
    bar_write32(&mut m, 1, 0x10, len);
    bar_write32(&mut m, 1, 0x14, seed);
    (m, mem, trace)
}

fn dma_to(m: &mut Model<Toy>, addr: u64) -> Option<DmaOutcome> {
    bar_write64(m, 1, 0x8, addr);
    bar_write32(m, 0, 0x8, 1);
    m.regs.last_outcome
}

#[test]
fn dma_write_done_touches_only_the_target() {
    let ranges = [(0x10000, 0x10000)];
    let (mut m, mem, trace) = setup(&ranges, 100, 7);
    trace.clear();
    assert_eq!(dma_to(&mut m, 0x10010), Some(DmaOutcome::Done));
    assert_eq!(read(&mem, 0x10010, 100), random_bytes(7, 100));
    assert!(
        read(&mem, 0x10000, 0x10).iter().all(|&b| b == SENTINEL),
        "bytes before untouched"
    );
    let after = read(&mem, 0x10010 + 100, 0x10000 - 0x10 - 100);
    assert!(
        after.iter().all(|&b| b == SENTINEL),
        "bytes after untouched"
    );
    let dma: Vec<_> = trace
        .events()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::Dma { .. }))
        .collect();
    assert_eq!(
        dma,
        vec![TraceEvent::Dma {
            direction: DmaDirection::ToGuest,
            address: 0x10010,
            len: 100,
            outcome: DmaOutcome::Done,
            fnv1a: Some(fnv1a64(&read(&mem, 0x10010, 100))),
        }]
    );
}

#[test]
fn dma_out_of_range_writes_nothing() {
    let ranges = [(0x1000, 0x1000)];
    for addr in [0x1fc0u64, 0xfc0, 0x0, 0x2000, 0xa0000] {
        let (mut m, mem, _) = setup(&ranges, 0x80, 1);
        assert_eq!(
            dma_to(&mut m, addr),
            Some(DmaOutcome::OutOfRange),
            "addr {addr:#x}"
        );
        assert!(
            read(&mem, 0x1000, 0x1000).iter().all(|&b| b == SENTINEL),
            "addr {addr:#x}"
        );
    }
}

#[test]
fn dma_spans_adjacent_regions() {
    let ranges = [(0x0, 0x1000), (0x1000, 0x1000)];
    let (mut m, mem, _) = setup(&ranges, 0x20, 99);
    assert_eq!(mem.iter().count(), 2, "really two regions");
    assert_eq!(dma_to(&mut m, 0xff0), Some(DmaOutcome::Done));
    assert_eq!(read(&mem, 0xff0, 0x20), random_bytes(99, 0x20));
    assert_eq!(read(&mem, 0xfef, 1), [SENTINEL]);
    assert_eq!(read(&mem, 0x1010, 1), [SENTINEL]);
}

#[test]
fn dma_across_a_hole_writes_nothing() {
    let ranges = [(0x0, 0x1000), (0x2000, 0x1000)];
    let (mut m, mem, _) = setup(&ranges, 0x20, 99);
    assert_eq!(dma_to(&mut m, 0xff0), Some(DmaOutcome::OutOfRange));
    assert!(
        read(&mem, 0, 0x1000).iter().all(|&b| b == SENTINEL),
        "no partial write before the hole"
    );
}

#[test]
fn dma_needs_bus_master() {
    let ranges = [(0x0, 0x1000)];
    let (mut m, mem, _) = setup(&ranges, 0x10, 3);
    cfg_write16(&mut m, 0x04, COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE);
    assert_eq!(dma_to(&mut m, 0x100), Some(DmaOutcome::BusMasterDisabled));
    assert!(read(&mem, 0, 0x1000).iter().all(|&b| b == SENTINEL));
}

#[test]
fn dma_needs_guest_memory() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    bar_write32(&mut m, 1, 0x10, 4);
    assert_eq!(dma_to(&mut m, 0x100), Some(DmaOutcome::NoGuestMemory));
    let mem = guest_memory(&[(0, 0x1000)]);
    m.set_guest_memory(Some(mem));
    assert_eq!(dma_to(&mut m, 0x100), Some(DmaOutcome::Done));
    m.set_guest_memory(None);
    assert_eq!(dma_to(&mut m, 0x100), Some(DmaOutcome::NoGuestMemory));
}

#[test]
fn dma_address_overflow() {
    let ranges = [(0x0, 0x1000)];
    let (mut m, mem, _) = setup(&ranges, 0x10, 3);
    for addr in [u64::MAX, u64::MAX - 3, u64::MAX - 0xf] {
        assert_eq!(
            dma_to(&mut m, addr),
            Some(DmaOutcome::OutOfRange),
            "addr {addr:#x}"
        );
    }
    assert!(
        read(&mem, 0, 0x1000).iter().all(|&b| b == SENTINEL),
        "no wrap-around to 0"
    );
    // Direct calls with lengths that overflow.
    let ctx = m.ctx_mut();
    assert_eq!(ctx.dma_write(u64::MAX, &[1, 2]), DmaOutcome::OutOfRange);
    let mut buf = [0u8; 2];
    assert_eq!(ctx.dma_read(u64::MAX, &mut buf), DmaOutcome::OutOfRange);
}

#[test]
fn dma_zero_length_is_done() {
    let (mut m, _, _) = setup(&[(0x0, 0x1000)], 0, 3);
    assert_eq!(dma_to(&mut m, 0xdead_0000), Some(DmaOutcome::Done));
}

#[test]
fn dma_read_from_guest() {
    let ranges = [(0x0, 0x1000), (0x1000, 0x1000)];
    let (mut m, mem, trace) = setup(&ranges, 8, 0);
    mem.write_slice(&[1, 2, 3, 4, 5, 6, 7, 8], GuestAddress(0xffc))
        .unwrap();
    bar_write64(&mut m, 1, 0x8, 0xffc);
    trace.clear();
    bar_write32(&mut m, 0, 0xc, 1);
    assert_eq!(m.regs.last_outcome, Some(DmaOutcome::Done));
    assert_eq!(m.regs.last_read, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(trace.events().contains(&TraceEvent::Dma {
        direction: DmaDirection::FromGuest,
        address: 0xffc,
        len: 8,
        outcome: DmaOutcome::Done,
        fnv1a: Some(fnv1a64(&[1, 2, 3, 4, 5, 6, 7, 8])),
    }));

    bar_write64(&mut m, 1, 0x8, 0x1ffc);
    bar_write32(&mut m, 0, 0xc, 1);
    assert_eq!(m.regs.last_outcome, Some(DmaOutcome::OutOfRange));
    assert_eq!(m.regs.last_read, vec![0xee; 8], "buffer left unchanged");
}

/// A transfer longer than MAX_DMA_LEN is refused before any memory is
/// touched (guest-programmed lengths must not make the host allocate).
#[test]
fn dma_longer_than_the_cap_is_refused() {
    let ranges = [(0, 2 * MAX_DMA_LEN)];
    let (mut m, _, _) = toy();
    let mem = guest_memory(&ranges);
    fill(&mem, &ranges);
    m.set_guest_memory(Some(mem.clone()));
    enable_all(&mut m);
    let data = vec![0u8; MAX_DMA_LEN + 1];
    assert_eq!(m.ctx_mut().dma_write(0x1000, &data), DmaOutcome::TooLong);
    assert_eq!(read(&mem, 0x1000, 16), vec![SENTINEL; 16]);
    let mut back = vec![1u8; MAX_DMA_LEN + 1];
    assert_eq!(m.ctx_mut().dma_read(0, &mut back), DmaOutcome::TooLong);
    assert!(back.iter().all(|b| *b == 1));
    assert_eq!(DmaOutcome::TooLong.status_code(), 5);
}
