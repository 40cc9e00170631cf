//! MSI-X conformance (PCI spec 6.8.2, QEMU's hw/pci/msix.c): the capability
//! at 0x50 and its place in the list, table reads and writes at every size,
//! the read-only PBA, per-vector and function masking holding vectors
//! pending, unmasking delivering them, the enable bit, INTx and MSI giving
//! way to MSI-X, decode gating and reset.

mod common;

use common::*;
use pcidev_runtime::*;

/// 70 vectors (two PBA qwords): table at BAR1 + 0x100, PBA at BAR1 + 0x800,
/// a FIRE register at BAR0 + 0 (write v: send vector v), an INTx pin, a
/// level at BAR0 + 4, and 4 MSI vectors too.
#[derive(Debug, Default)]
struct Dev {
    level: bool,
}

const BAR_POLICY: AccessPolicy = AccessPolicy {
    sizes: AccessSizes::B4,
    aligned: true,
    invalid: InvalidAccess::Ignore,
    unmapped: Unmapped::Zero,
};

static INFO: DeviceInfo = DeviceInfo {
    name: "msix_test",
    vendor_id: 0x1af4,
    device_id: 0x1110,
    revision: 0,
    class_code: [0xff, 0, 0],
    subsystem_vendor_id: 0,
    subsystem_id: 0,
    interrupt_pin: Some(IntxPin::A),
    bars: &[
        BarInfo {
            index: 0,
            kind: BarKind::Mem32 {
                prefetchable: false,
            },
            size: 0x100,
            policy: BAR_POLICY,
            registers: &[
                RegisterLayout::new("FIRE", 0, 4),
                RegisterLayout::new("LEVEL", 4, 4),
            ],
        },
        BarInfo {
            index: 1,
            kind: BarKind::Mem64 {
                prefetchable: false,
            },
            size: 0x1000,
            // The BAR's own policy (4 bytes) does not apply to MSI-X.
            policy: BAR_POLICY,
            registers: &[RegisterLayout::new("SCRATCH", 0, 4)],
        },
    ],
    msi: Some(MsiInfo { vectors: 4 }),
    msix: Some(MsixInfo {
        vectors: 70,
        table_bar: 1,
        table_offset: 0x100,
        pba_bar: 1,
        pba_offset: 0x800,
    }),
    config_registers: &[],
    vendor_capabilities: &[],
};

impl Registers for Dev {
    fn info(&self) -> &'static DeviceInfo {
        &INFO
    }
    fn read_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize) -> u64 {
        0
    }
    fn write_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, _: u8) {
        match (bar, reg) {
            (0, 0) => ctx.msi_notify(value as u16),
            (0, 1) => self.level = value != 0,
            _ => {}
        }
    }
    fn interrupt_level(&self, _: &DeviceCtx) -> bool {
        self.level
    }
    fn reset(&mut self) {
        self.level = false;
    }
}

const TABLE: u64 = 0x100;
const PBA: u64 = 0x800;

fn model() -> (Model<Dev>, Irqs, TraceBuffer) {
    let mut m = Model::new(Dev::default());
    let irqs = Irqs::default();
    m.set_interrupt_sink(Box::new(irqs.clone()));
    let trace = TraceBuffer::new();
    m.set_trace(trace.sink());
    enable_all(&mut m);
    (m, irqs, trace)
}

fn read(m: &mut Model<Dev>, bar: u8, off: u64, len: usize) -> u64 {
    let mut b = vec![0; len];
    let _ = m.bar_read(bar, off, &mut b);
    b.iter().rev().fold(0, |a, &x| a << 8 | u64::from(x))
}

fn write(m: &mut Model<Dev>, bar: u8, off: u64, len: usize, v: u64) {
    let _ = m.bar_write(bar, off, &v.to_le_bytes()[..len]);
}

fn msg(v: u16) -> MsiMessage {
    MsiMessage {
        address: 0xfee0_0000 | u64::from(v) << 12,
        data: 0x4000 + u32::from(v),
    }
}

/// Program entry `v` with `msg(v)` and the given mask bit (one qword and two
/// dwords, as Linux does it).
fn program(m: &mut Model<Dev>, v: u16, masked: bool) {
    let e = TABLE + u64::from(v) * 16;
    write(m, 1, e, 8, msg(v).address);
    write(m, 1, e + 8, 4, u64::from(msg(v).data));
    write(m, 1, e + 12, 4, u64::from(masked));
}

fn set_control(m: &mut Model<Dev>, enable: bool, function_mask: bool) {
    let v = u16::from(enable) << 15 | u16::from(function_mask) << 14;
    cfg_write16(m, 0x52, v);
}

fn fire(m: &mut Model<Dev>, v: u16) {
    bar_write32(m, 0, 0, u32::from(v));
}

#[test]
fn capability_list_and_registers() {
    let (mut m, _, _) = model();
    assert_ne!(cfg_read(&mut m, 0x06, 2) & 0x10, 0, "capability list");
    assert_eq!(cfg_read(&mut m, 0x34, 1), 0x40, "MSI first");
    assert_eq!(cfg_read(&mut m, 0x41, 1), 0x50, "MSI links to MSI-X");
    assert_eq!(
        cfg_read32(&mut m, 0x50),
        69 << 16 | 0x11,
        "id 0x11, next 0, N-1"
    );
    assert_eq!(
        cfg_read32(&mut m, 0x54),
        0x101,
        "table: offset 0x100, BIR 1"
    );
    assert_eq!(cfg_read32(&mut m, 0x58), 0x801, "PBA: offset 0x800, BIR 1");
    // Table offset/PBA dwords and the table size are read-only.
    cfg_write32(&mut m, 0x54, 0xffff_ffff);
    cfg_write32(&mut m, 0x58, 0);
    cfg_write32(&mut m, 0x50, 0xffff_ffff);
    assert_eq!(cfg_read32(&mut m, 0x54), 0x101);
    assert_eq!(cfg_read32(&mut m, 0x58), 0x801);
    assert_eq!(cfg_read32(&mut m, 0x50), (0xc000 | 69) << 16 | 0x11);
    assert!(m.config().msix_enabled());
    // A byte write to the upper byte of message control clears both bits.
    m.config_write(0x53, &[0]);
    assert_eq!(cfg_read(&mut m, 0x52, 2), 69);
}

#[test]
fn table_at_every_size_and_pba_read_only() {
    let (mut m, _, _) = model();
    // Reset: every entry zero but its mask bit.
    for v in [0u64, 1, 69] {
        assert_eq!(read(&mut m, 1, TABLE + v * 16, 8), 0);
        assert_eq!(read(&mut m, 1, TABLE + v * 16 + 8, 8), 1 << 32);
    }
    // Dword writes, qword read back; qword write, dword reads back.
    write(&mut m, 1, TABLE + 16, 4, 0x1234_5678);
    write(&mut m, 1, TABLE + 20, 4, 0x9abc_def0);
    assert_eq!(read(&mut m, 1, TABLE + 16, 8), 0x9abc_def0_1234_5678);
    write(&mut m, 1, TABLE + 24, 8, 0x0000_0001_0000_4321);
    assert_eq!(read(&mut m, 1, TABLE + 24, 4), 0x4321);
    assert_eq!(read(&mut m, 1, TABLE + 28, 4), 1);
    // 1- and 2-byte accesses and misaligned qwords are not MSI-X accesses:
    // reads all-ones, writes dropped.
    assert_eq!(read(&mut m, 1, TABLE + 16, 1), 0xff);
    assert_eq!(read(&mut m, 1, TABLE + 16, 2), 0xffff);
    assert_eq!(read(&mut m, 1, TABLE + 20, 8), u64::MAX);
    write(&mut m, 1, TABLE + 16, 1, 0);
    write(&mut m, 1, TABLE + 16, 2, 0);
    write(&mut m, 1, TABLE + 20, 8, 0);
    assert_eq!(read(&mut m, 1, TABLE + 16, 8), 0x9abc_def0_1234_5678);
    // The PBA reads 0 and ignores writes.
    write(&mut m, 1, PBA, 8, u64::MAX);
    write(&mut m, 1, PBA + 8, 4, u64::MAX);
    assert_eq!(read(&mut m, 1, PBA, 8), 0);
    assert_eq!(read(&mut m, 1, PBA + 8, 8), 0);
    // The BAR's register next to the table is untouched by all this.
    bar_write32(&mut m, 1, 0, 7);
    assert_eq!(
        read(&mut m, 1, 0x10, 4),
        0,
        "unmapped BAR bytes still read 0"
    );
}

#[test]
fn masked_vector_stays_pending_until_unmasked() {
    let (mut m, irqs, trace) = model();
    program(&mut m, 0, false);
    program(&mut m, 65, true);
    fire(&mut m, 0);
    assert!(
        irqs.take().is_empty(),
        "MSI-X disabled: nothing, not pending"
    );
    assert_eq!(read(&mut m, 1, PBA, 8), 0);
    set_control(&mut m, true, false);
    assert!(!m.interrupt_asserted());
    fire(&mut m, 0);
    assert_eq!(irqs.take(), vec![Irq::Msix(0, msg(0))]);
    fire(&mut m, 65);
    fire(&mut m, 65);
    assert!(irqs.take().is_empty(), "masked");
    assert_eq!(read(&mut m, 1, PBA + 8, 8), 2, "bit 65 pending");
    assert_eq!(read(&mut m, 1, PBA + 8, 4), 2);
    fire(&mut m, 70);
    fire(&mut m, 0xffff);
    assert!(irqs.take().is_empty(), "beyond the table");
    // Unmask: delivered once, bit cleared.
    write(&mut m, 1, TABLE + 65 * 16 + 12, 4, 0);
    assert_eq!(irqs.take(), vec![Irq::Msix(65, msg(65))]);
    assert_eq!(read(&mut m, 1, PBA + 8, 8), 0);
    let ev: Vec<_> = trace
        .events()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::Msix { vector: 65, .. }))
        .collect();
    assert_eq!(ev.len(), 3);
    assert!(matches!(
        ev[0],
        TraceEvent::Msix {
            pending: true,
            delivered: false,
            ..
        }
    ));
    assert!(matches!(
        ev[2],
        TraceEvent::Msix {
            pending: false,
            delivered: true,
            ..
        }
    ));
    // Masking again and unmasking without a send delivers nothing.
    write(&mut m, 1, TABLE + 65 * 16 + 12, 4, 1);
    write(&mut m, 1, TABLE + 65 * 16 + 12, 4, 0);
    assert!(irqs.take().is_empty());
}

#[test]
fn function_mask_and_enable() {
    let (mut m, irqs, _) = model();
    program(&mut m, 1, false);
    program(&mut m, 2, false);
    set_control(&mut m, true, true);
    fire(&mut m, 2);
    fire(&mut m, 1);
    assert!(irqs.take().is_empty());
    assert_eq!(read(&mut m, 1, PBA, 8), 0b110);
    // Clearing the function mask delivers the pending vectors in order.
    set_control(&mut m, true, false);
    assert_eq!(
        irqs.take(),
        vec![Irq::Msix(1, msg(1)), Irq::Msix(2, msg(2))]
    );
    assert_eq!(read(&mut m, 1, PBA, 8), 0);
    // Disabling then re-enabling with a vector pending under the function
    // mask: delivered when the mask goes.
    set_control(&mut m, true, true);
    fire(&mut m, 1);
    set_control(&mut m, false, true);
    assert!(irqs.take().is_empty());
    set_control(&mut m, true, false);
    assert_eq!(irqs.take(), vec![Irq::Msix(1, msg(1))]);
}

#[test]
fn msix_takes_over_from_intx_and_msi() {
    let (mut m, irqs, _) = model();
    bar_write32(&mut m, 0, 4, 1);
    assert_eq!(irqs.take(), vec![Irq::Intx(true)]);
    program(&mut m, 0, false);
    set_control(&mut m, true, false);
    assert!(!m.interrupt_asserted(), "INTx stops under MSI-X");
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);
    // A rising edge of the level sends vector 0.
    bar_write32(&mut m, 0, 4, 0);
    bar_write32(&mut m, 0, 4, 1);
    assert_eq!(irqs.take(), vec![Irq::Msix(0, msg(0))]);
    // MSI enabled as well (a broken guest): MSI-X wins.
    cfg_write32(&mut m, 0x44, 0xfee0_0000);
    cfg_write16(&mut m, 0x42, 0x0001);
    fire(&mut m, 0);
    assert_eq!(irqs.take(), vec![Irq::Msix(0, msg(0))]);
    // MSI-X off: multi-vector MSI, vector below the enabled count.
    set_control(&mut m, false, false);
    cfg_write16(&mut m, 0x42, 0x0021); // 4 vectors
    fire(&mut m, 3);
    fire(&mut m, 4);
    assert_eq!(
        irqs.take(),
        vec![Irq::Msi(MsiMessage {
            address: 0xfee0_0000,
            data: 3
        })]
    );
}

#[test]
fn decode_gating_and_reset() {
    let (mut m, irqs, _) = model();
    program(&mut m, 3, true);
    set_control(&mut m, true, false);
    fire(&mut m, 3);
    assert_eq!(read(&mut m, 1, PBA, 8), 8);
    // Memory decoding off: the table is not reachable.
    cfg_write16(&mut m, 0x04, 0);
    write(&mut m, 1, TABLE + 3 * 16 + 12, 4, 0);
    cfg_write16(&mut m, 0x04, 0x6);
    assert_eq!(read(&mut m, 1, TABLE + 3 * 16 + 12, 4), 1);
    assert!(irqs.take().is_empty());
    m.reset();
    enable_all(&mut m);
    assert_eq!(cfg_read(&mut m, 0x52, 2), 69, "enable and mask cleared");
    assert_eq!(read(&mut m, 1, PBA, 8), 0, "pending bits cleared");
    assert_eq!(read(&mut m, 1, TABLE + 3 * 16, 8), 0, "table cleared");
    assert_eq!(read(&mut m, 1, TABLE + 3 * 16 + 12, 4), 1, "entries masked");
}

#[test]
fn hostile_accesses_never_panic() {
    let (mut m, _, _) = model();
    set_control(&mut m, true, true);
    let mut rng = Xorshift32::new(7);
    for _ in 0..20_000 {
        let r = rng.next_u32();
        let off = u64::from(rng.next_u32() % 0x1100);
        let len = [1, 2, 3, 4, 8, 16][(r % 6) as usize];
        let mut buf = vec![0u8; len];
        if r & 0x100 != 0 {
            let _ = m.bar_read(1, off, &mut buf);
        } else {
            buf.fill(r as u8);
            let _ = m.bar_write(1, off, &buf);
        }
        if r & 0x7000 == 0 {
            fire(&mut m, (r >> 16) as u16);
        }
        if r & 0xf0000 == 0 {
            m.config_write(0x50 + u64::from(r >> 28), &[r as u8, (r >> 8) as u8]);
        }
    }
}

#[test]
fn vmm_owned_masking_delivers_every_enabled_vector() {
    let (mut m, irqs, _) = model();
    m.set_msix_masking_by_vmm(true);
    fire(&mut m, 5);
    assert!(
        irqs.take().is_empty(),
        "still nothing while MSI-X is disabled"
    );
    set_control(&mut m, true, true);
    fire(&mut m, 5);
    fire(&mut m, 70);
    let zero = MsiMessage {
        address: 0,
        data: 0,
    };
    assert_eq!(irqs.take(), vec![Irq::Msix(5, zero)], "masks are the VMM's");
    assert_eq!(read(&mut m, 1, PBA, 8), 0);
    m.reset();
    enable_all(&mut m);
    set_control(&mut m, true, false);
    fire(&mut m, 1);
    assert_eq!(irqs.take(), vec![Irq::Msix(1, zero)], "kept across reset");
}
