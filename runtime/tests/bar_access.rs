//! BAR access policy, decode gating, splitting accesses over registers,
//! partial writes with byte lanes, and the INTx line.

mod common;

use common::*;
use pcidev_runtime::*;

fn invalid(reason: InvalidReason, action: InvalidAccess) -> AccessOutcome {
    AccessOutcome::Invalid { reason, action }
}

/// Outcomes of the BAR accesses traced since the last call.
fn outcomes(trace: &TraceBuffer) -> Vec<AccessOutcome> {
    trace
        .take()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::BarRead { outcome, .. } | TraceEvent::BarWrite { outcome, .. } => {
                Some(outcome)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn valid_access_round_trip() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    bar_write32(&mut m, 0, 0x0, 0xcafe_f00d);
    assert_eq!(bar_read32(&mut m, 0, 0x0), 0xcafe_f00d);
    assert_eq!(m.regs.ctrl, 0xcafe_f00d);
    bar_write64(&mut m, 2, 0x0, 0x0123_4567_89ab_cdef);
    let mut b = [0; 8];
    m.bar_read(2, 0, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 0x0123_4567_89ab_cdef);
    // The last register of the BAR, ending exactly at its size.
    bar_write64(&mut m, 2, 0xff8, 7);
    assert_eq!(m.regs.last, 7);
}

#[test]
fn ignore_policy() {
    let (mut m, _, trace) = toy();
    enable_all(&mut m);
    bar_write32(&mut m, 0, 0x0, 0x1111_1111);
    m.regs.writes.clear();
    trace.clear();
    let mut b = [0xaa; 1];
    assert_eq!(m.bar_read(0, 0, &mut b), Ok(()));
    assert_eq!(b, [0], "1-byte read on a 4-byte-only BAR reads 0");
    assert_eq!(m.bar_write(0, 0, &[0x22]), Ok(()));
    let mut b = [0xaa; 4];
    assert_eq!(m.bar_read(0, 2, &mut b), Ok(()));
    assert_eq!(b, [0; 4], "misaligned");
    assert_eq!(m.bar_write(0, 2, &[0x33; 4]), Ok(()));
    assert_eq!(m.bar_read(0, 32, &mut b), Ok(()));
    assert_eq!(b, [0; 4], "out of range");
    assert_eq!(m.bar_write(0, 0x1c, &[0x44; 8]), Ok(()));
    assert_eq!(m.regs.ctrl, 0x1111_1111, "writes dropped");
    assert!(m.regs.writes.is_empty(), "no register saw an invalid write");
    use InvalidReason::*;
    let i = |r| invalid(r, InvalidAccess::Ignore);
    assert_eq!(
        outcomes(&trace),
        vec![
            i(Size),
            i(Size),
            i(Misaligned),
            i(Misaligned),
            i(OutOfRange),
            i(Size)
        ]
    );
}

#[test]
fn all_ones_policy() {
    let (mut m, _, trace) = toy();
    enable_all(&mut m);
    trace.clear();
    let mut b = [0; 4];
    assert_eq!(m.bar_read(1, 4094, &mut b), Ok(()));
    assert_eq!(b, [0xff; 4], "crosses the end of the 4 KiB BAR");
    let mut b3 = [0; 3];
    assert_eq!(m.bar_read(1, 4, &mut b3), Ok(()));
    assert_eq!(b3, [0xff; 3], "3-byte access");
    let mut b9 = [0; 9];
    assert_eq!(m.bar_read(1, 0, &mut b9), Ok(()));
    assert_eq!(b9, [0xff; 9], "9-byte access");
    assert_eq!(m.bar_read(1, 0, &mut []), Ok(()));
    assert_eq!(m.bar_write(1, 4, &[1, 2, 3]), Ok(()));
    assert_eq!(m.bar_write(1, 4, &[]), Ok(()));
    assert_eq!(m.regs.rw32, 0);
    // Unaligned is allowed on BAR1.
    let mut b2 = [0; 2];
    assert_eq!(m.bar_read(1, 3, &mut b2), Ok(()));
    use InvalidReason::*;
    let a = |r| invalid(r, InvalidAccess::AllOnes);
    assert_eq!(
        outcomes(&trace),
        vec![
            a(OutOfRange),
            a(Size),
            a(Size),
            a(Size),
            a(Size),
            a(Size),
            AccessOutcome::Done
        ]
    );
}

#[test]
fn error_policy() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    let err = |offset, len, reason| {
        Err(AccessError {
            bar: 2,
            offset,
            len,
            reason,
        })
    };
    let mut b2 = [0; 2];
    assert_eq!(m.bar_read(2, 0, &mut b2), err(0, 2, InvalidReason::Size));
    assert_eq!(b2, [0xff; 2]);
    let mut b8 = [0; 8];
    assert_eq!(
        m.bar_read(2, 4, &mut b8),
        err(4, 8, InvalidReason::Misaligned)
    );
    assert_eq!(b8, [0xff; 8]);
    assert_eq!(
        m.bar_read(2, 0x1000, &mut b8),
        err(0x1000, 8, InvalidReason::OutOfRange)
    );
    // offset + len overflows u64.
    assert_eq!(
        m.bar_write(2, u64::MAX - 3, &[0; 8]),
        err(u64::MAX - 3, 8, InvalidReason::OutOfRange)
    );
    assert_eq!(m.bar_write(2, 0, &[1; 2]), err(0, 2, InvalidReason::Size));
    assert_eq!(m.regs.wide, 0);
    let e = m.bar_read(2, 0, &mut b2).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid 2-byte access to BAR2 at offset 0x0: access size not allowed"
    );
}

#[test]
fn unknown_bar_errors() {
    let (mut m, _, trace) = toy();
    enable_all(&mut m);
    trace.clear();
    for bar in [3u8, 4, 5, 6, 200, NO_BAR] {
        let mut b = [0; 4];
        let e = m.bar_read(bar, 0, &mut b).unwrap_err();
        assert_eq!(e.reason, InvalidReason::UnknownBar);
        assert_eq!(b, [0xff; 4]);
        assert!(m.bar_write(bar, 0, &[0; 4]).is_err());
    }
    assert!(
        outcomes(&trace)
            .iter()
            .all(|o| *o == invalid(InvalidReason::UnknownBar, InvalidAccess::Error))
    );
}

#[test]
fn decode_gated_by_command() {
    let (mut m, _, trace) = toy();
    m.regs.ctrl = 0x1234;
    m.regs.rw32 = 0x5678;
    let mut b = [0; 4];
    assert_eq!(m.bar_read(0, 0, &mut b), Ok(()));
    assert_eq!(b, [0xff; 4], "I/O decode off");
    assert_eq!(m.bar_write(0, 0, &[0; 4]), Ok(()));
    assert_eq!(m.bar_read(1, 4, &mut b), Ok(()));
    assert_eq!(b, [0xff; 4], "memory decode off");
    // Disabled decode wins over the Error policy: no response, not an error.
    assert_eq!(m.bar_read(2, 0, &mut [0; 2]), Ok(()));
    assert_eq!(m.regs.ctrl, 0x1234);
    assert_eq!(outcomes(&trace), vec![AccessOutcome::DecodeDisabled; 4]);

    cfg_write16(&mut m, 0x04, COMMAND_IO_SPACE);
    assert_eq!(bar_read32(&mut m, 0, 0), 0x1234);
    assert_eq!(m.bar_read(1, 4, &mut b), Ok(()));
    assert_eq!(b, [0xff; 4]);

    cfg_write16(&mut m, 0x04, COMMAND_MEMORY_SPACE);
    assert_eq!(bar_read32(&mut m, 1, 4), 0x5678);
    assert_eq!(m.bar_read(0, 0, &mut b), Ok(()));
    assert_eq!(b, [0xff; 4]);
}

#[test]
fn access_split_across_registers() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    m.regs.s8 = 0x11;
    m.regs.s16 = 0x3322;
    m.regs.rw32 = 0x7766_5544;
    let mut b = [0; 8];
    m.bar_read(1, 0, &mut b).unwrap();
    assert_eq!(
        b,
        [0x11, 0x00, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77],
        "byte 1 is a gap: 0"
    );

    m.bar_write(1, 0, &[0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8])
        .unwrap();
    assert_eq!(
        m.regs.writes,
        vec![
            (1, 0, 0xa1, 0b1),
            (1, 1, 0xa4a3, 0b11),
            (1, 2, 0xa8a7_a6a5, 0b1111)
        ],
        "one call per register, gap byte dropped"
    );
    assert_eq!(
        (m.regs.s8, m.regs.s16, m.regs.rw32),
        (0xa1, 0xa4a3, 0xa8a7_a6a5)
    );
}

#[test]
fn partial_writes_use_lanes() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    m.regs.rw32 = 0x4433_2211;
    m.regs.dma_addr = 0x8877_6655_4433_2211;
    m.bar_write(1, 0x5, &[0xab]).unwrap();
    assert_eq!(m.regs.writes, vec![(1, 2, 0xab00, 0b10)]);
    assert_eq!(m.regs.rw32, 0x4433_ab11);
    m.regs.writes.clear();

    // 2 bytes straddling RW32's top byte and DMA_ADDR's bottom byte.
    m.bar_write(1, 0x7, &[0xcd, 0xef]).unwrap();
    assert_eq!(
        m.regs.writes,
        vec![(1, 2, 0xcd00_0000, 0b1000), (1, 3, 0xef, 0b1)]
    );
    assert_eq!(m.regs.rw32, 0xcd33_ab11);
    assert_eq!(m.regs.dma_addr, 0x8877_6655_4433_22ef);

    // Upper half of the 8-byte register.
    m.bar_write(1, 0xc, &0xdead_beefu32.to_le_bytes()).unwrap();
    assert_eq!(m.regs.dma_addr, 0xdead_beef_4433_22ef);
    let mut b = [0; 2];
    m.bar_read(1, 0xd, &mut b).unwrap();
    assert_eq!(u16::from_le_bytes(b), 0xadbe);
}

#[test]
fn register_read_side_effect_runs_once_per_access() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    assert_eq!(bar_read32(&mut m, 1, 0x20), 1);
    let mut b = [0; 2];
    m.bar_read(1, 0x21, &mut b).unwrap();
    assert_eq!(
        m.regs.read_count, 2,
        "a partial read reads the register once"
    );
    let mut b8 = [0; 8];
    m.bar_read(1, 0x1c, &mut b8).unwrap();
    assert_eq!(m.regs.read_count, 3);
    assert_eq!(u32::from_le_bytes(b8[4..].try_into().unwrap()), 3);
}

#[test]
fn unused_offsets_read_zero_and_ignore_writes() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    assert_eq!(bar_read32(&mut m, 1, 0x100), 0);
    m.bar_write(1, 0x100, &[0xff; 8]).unwrap();
    assert_eq!(bar_read32(&mut m, 0, 0x10), 0);
    bar_write32(&mut m, 0, 0x1c, 0xffff_ffff);
    assert!(m.regs.writes.is_empty());
}

#[test]
fn intx_line_edges_only() {
    let (mut m, irqs, trace) = toy();
    enable_all(&mut m);
    trace.clear();
    bar_write32(&mut m, 1, 0x1c, 0x1);
    bar_write32(&mut m, 1, 0x1c, 0x2);
    assert_eq!(
        irqs.take(),
        vec![Irq::Intx(true)],
        "second raise is no edge"
    );
    bar_write32(&mut m, 0, 0x4, 0x1);
    assert!(m.interrupt_asserted(), "bit 1 still set");
    bar_write32(&mut m, 0, 0x4, 0x2);
    assert!(!m.interrupt_asserted());
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);
    let intx: Vec<_> = trace
        .events()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::Intx { .. }))
        .collect();
    assert_eq!(
        intx,
        vec![
            TraceEvent::Intx { asserted: true },
            TraceEvent::Intx { asserted: false }
        ]
    );
}

#[test]
fn latched_irq_and_pulse() {
    let (mut m, irqs, trace) = toy();
    enable_all(&mut m);
    bar_write32(&mut m, 1, 0x24, 0x4); // pulse with the line low
    assert_eq!(irqs.take(), vec![Irq::Intx(true), Irq::Intx(false)]);
    assert!(!m.interrupt_asserted());
    bar_write32(&mut m, 1, 0x24, 0x1); // raise (latched)
    assert!(m.ctx().latched_irq() && m.interrupt_asserted());
    assert_eq!(irqs.take(), vec![Irq::Intx(true)]);
    trace.clear();
    bar_write32(&mut m, 1, 0x24, 0x4); // pulse while asserted: no edge possible
    assert_eq!(irqs.take(), vec![]);
    assert!(
        trace
            .events()
            .contains(&TraceEvent::IntxPulse { delivered: false })
    );
    bar_write32(&mut m, 1, 0x24, 0x2); // lower
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);
    cfg_write16(&mut m, 0x04, 0x0407);
    bar_write32(&mut m, 1, 0x24, 0x4); // pulse with INTx disabled
    assert_eq!(irqs.take(), vec![]);

    // A level changed outside an access shows up on refresh.
    cfg_write16(&mut m, 0x04, 0x0007);
    m.ctx_mut().set_irq(true);
    assert!(!m.interrupt_asserted());
    m.refresh_interrupt();
    assert!(m.interrupt_asserted());
}

#[test]
fn new_sink_learns_asserted_line() {
    let (mut m, _, _) = toy();
    enable_all(&mut m);
    bar_write32(&mut m, 1, 0x1c, 1);
    let fresh = Irqs::default();
    m.set_interrupt_sink(Box::new(fresh.clone()));
    assert_eq!(fresh.take(), vec![Irq::Intx(true)]);
}

#[test]
fn device_without_sink_or_trace_works() {
    let mut m = Model::new(Toy::default());
    enable_all(&mut m);
    bar_write32(&mut m, 1, 0x1c, 1);
    bar_write32(&mut m, 1, 0x24, 0xf);
    bar_write32(&mut m, 1, 0x18, 0);
    assert!(m.interrupt_asserted());
}

#[test]
fn object_safe_pci_model() {
    let mut m: Box<dyn PciModel> = Box::new(Model::new(Toy::default()));
    assert_eq!(m.info().name, "toy");
    enable_all(&mut *m);
    bar_write32(&mut *m, 1, 4, 99);
    assert_eq!(bar_read32(&mut *m, 1, 4), 99);
    m.reset();
    assert_eq!(
        bar_read32(&mut *m, 1, 4),
        0xffff_ffff,
        "reset turned decoding off"
    );
}
