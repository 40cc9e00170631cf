//! Configuration space conformance: identity, BAR sizing and addresses,
//! COMMAND/STATUS, interrupt line/pin, the MSI capability, reset, and odd
//! access shapes.

mod common;

use common::*;
use pcidev_runtime::*;

/// A device exercising the BAR kinds the toy lacks, without pin or MSI.
#[derive(Debug, Default)]
struct Kinds;

const KINDS_INFO: DeviceInfo = DeviceInfo {
    name: "kinds",
    vendor_id: 0x1af4,
    device_id: 0x0001,
    revision: 0,
    class_code: [0x02, 0x00, 0x00],
    subsystem_vendor_id: 0,
    subsystem_id: 0,
    interrupt_pin: None,
    bars: &[
        BarInfo {
            index: 0,
            kind: BarKind::Mem32 { prefetchable: true },
            size: 0x10_0000,
            policy: AccessPolicy::PERMISSIVE,
            registers: &[],
        },
        BarInfo {
            index: 1,
            kind: BarKind::Mem64 {
                prefetchable: false,
            },
            size: 0x2_0000_0000,
            policy: AccessPolicy::PERMISSIVE,
            registers: &[],
        },
        BarInfo {
            index: 3,
            kind: BarKind::Io,
            size: 256,
            policy: AccessPolicy::PERMISSIVE,
            registers: &[],
        },
        BarInfo {
            index: 4,
            kind: BarKind::Mem64 { prefetchable: true },
            size: 0x4000,
            policy: AccessPolicy::PERMISSIVE,
            registers: &[],
        },
    ],
    msi: None,
    config_registers: &[],
    vendor_capabilities: &[],
};

impl Registers for Kinds {
    fn info(&self) -> &'static DeviceInfo {
        &KINDS_INFO
    }
    fn read_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize) -> u64 {
        0
    }
    fn write_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize, _: u64, _: u8) {}
    fn interrupt_level(&self, ctx: &DeviceCtx) -> bool {
        ctx.latched_irq()
    }
    fn reset(&mut self) {}
}

fn size_bar(model: &mut impl PciModel, slot: u64) -> u32 {
    let off = 0x10 + 4 * slot;
    cfg_write32(model, off, 0xffff_ffff);
    cfg_read32(model, off)
}

#[test]
fn identity_registers_are_read_only() {
    let (mut m, _, _) = toy();
    let expect = [
        (0x00, 0x5678_1234),
        (0x08, 0xff80_0102),
        (0x0c, 0x0000_0000),
        (0x2c, 0x0042_abcd),
    ];
    for (off, v) in expect {
        assert_eq!(cfg_read32(&mut m, off), v, "offset {off:#x}");
        cfg_write32(&mut m, off, 0xffff_ffff);
        cfg_write32(&mut m, off, 0);
        assert_eq!(cfg_read32(&mut m, off), v, "offset {off:#x} after writes");
    }
    assert_eq!(
        cfg_read(&mut m, 0x0e, 1),
        0,
        "header type 0, single function"
    );
}

#[test]
fn bar_sizing_io_mem32_mem64_prefetchable() {
    let (mut m, _, _) = toy();
    // Before sizing, only the flag bits read back.
    assert_eq!(cfg_read32(&mut m, 0x10), 0x1);
    assert_eq!(cfg_read32(&mut m, 0x14), 0x0);
    assert_eq!(cfg_read32(&mut m, 0x18), 0xc);
    assert_eq!(size_bar(&mut m, 0), 0xffff_ffe1, "io, 32 bytes");
    assert_eq!(size_bar(&mut m, 1), 0xffff_f000, "mem32, 4 KiB");
    assert_eq!(size_bar(&mut m, 2), 0xffff_f00c, "mem64 prefetchable low");
    assert_eq!(size_bar(&mut m, 3), 0xffff_ffff, "mem64 high");
    assert_eq!(size_bar(&mut m, 4), 0, "unused slot");
    assert_eq!(size_bar(&mut m, 5), 0, "unused slot");
}

#[test]
fn bar_sizing_mem32_prefetchable_mem64_io256() {
    let mut m = Model::new(Kinds);
    assert_eq!(
        size_bar(&mut m, 0),
        0xfff0_0008,
        "mem32 prefetchable, 1 MiB"
    );
    assert_eq!(size_bar(&mut m, 1), 0x0000_0004, "mem64, 8 GiB: low dword");
    assert_eq!(size_bar(&mut m, 2), 0xffff_fffe, "mem64, 8 GiB: high dword");
    assert_eq!(size_bar(&mut m, 3), 0xffff_ff01, "io, 256 bytes");
    assert_eq!(
        size_bar(&mut m, 4),
        0xffff_c00c,
        "mem64 prefetchable, 16 KiB"
    );
    assert_eq!(size_bar(&mut m, 5), 0xffff_ffff);
}

#[test]
fn bar_addresses_write_and_read_back() {
    let (mut m, _, _) = toy();
    cfg_write32(&mut m, 0x10, 0xc040);
    cfg_write32(&mut m, 0x14, 0xfebf_1234);
    cfg_write32(&mut m, 0x18, 0x8000_0000);
    cfg_write32(&mut m, 0x1c, 0x0000_0012);
    assert_eq!(cfg_read32(&mut m, 0x10), 0xc041);
    assert_eq!(
        cfg_read32(&mut m, 0x14),
        0xfebf_1000,
        "low bits below the size read 0"
    );
    assert_eq!(cfg_read32(&mut m, 0x18), 0x8000_000c);
    assert_eq!(cfg_read32(&mut m, 0x1c), 0x12);
    assert_eq!(m.config().bar_address(0), Some(0xc040));
    assert_eq!(m.config().bar_address(1), Some(0xfebf_1000));
    assert_eq!(m.config().bar_address(2), Some(0x12_8000_0000));
    assert_eq!(m.config().bar_address(3), None, "upper half is not a BAR");
    // A byte write changes only its byte.
    m.config_write(0x15, &[0x20]);
    assert_eq!(cfg_read32(&mut m, 0x14), 0xfebf_2000);
    // Unused slots ignore writes.
    cfg_write32(&mut m, 0x20, 0xdead_beef);
    assert_eq!(cfg_read32(&mut m, 0x20), 0);
}

#[test]
fn command_writable_mask() {
    let (mut m, _, _) = toy();
    cfg_write16(&mut m, 0x04, 0xffff);
    // QEMU's PCI core: I/O, memory, bus master, SERR#, INTx disable.
    assert_eq!(cfg_read(&mut m, 0x04, 2), 0x0507);
    assert!(m.config().io_enabled() && m.config().mem_enabled());
    assert!(m.config().bus_master_enabled() && m.config().intx_disabled());
    cfg_write16(&mut m, 0x04, 0);
    assert_eq!(cfg_read(&mut m, 0x04, 2), 0);
}

#[test]
fn status_interrupt_bit_and_intx_disable() {
    let (mut m, irqs, _) = toy();
    enable_all(&mut m);
    assert_eq!(
        cfg_read(&mut m, 0x06, 2),
        0x0010,
        "only the capability list bit"
    );
    bar_write32(&mut m, 1, 0x1c, 0x1); // RAISE
    assert_eq!(cfg_read(&mut m, 0x06, 2), 0x0018);
    assert!(m.interrupt_asserted());
    assert_eq!(irqs.take(), vec![Irq::Intx(true)]);

    cfg_write16(&mut m, 0x04, 0x0407); // INTx disable
    assert!(!m.interrupt_asserted(), "disable masks the line");
    assert_eq!(cfg_read(&mut m, 0x06, 2), 0x0018, "but not the status bit");
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);

    cfg_write16(&mut m, 0x04, 0x0007);
    assert!(m.interrupt_asserted());
    assert_eq!(irqs.take(), vec![Irq::Intx(true)]);

    bar_write32(&mut m, 0, 0x4, 0x1); // w1c STATUS
    assert_eq!(cfg_read(&mut m, 0x06, 2), 0x0010);
    assert!(!m.interrupt_asserted());
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);

    // STATUS is read-only to software.
    cfg_write16(&mut m, 0x06, 0xffff);
    assert_eq!(cfg_read(&mut m, 0x06, 2), 0x0010);
}

#[test]
fn unimplemented_registers_read_zero() {
    let (mut m, _, _) = toy();
    for off in [0x28u64, 0x30, 0x38] {
        cfg_write32(&mut m, off, 0xffff_ffff);
        assert_eq!(cfg_read32(&mut m, off), 0, "offset {off:#x}");
    }
    // Latency timer, header type and BIST are read-only; the cache line
    // size is writable, as in QEMU's PCI core.
    cfg_write32(&mut m, 0x0c, 0xffff_ffff);
    assert_eq!(cfg_read32(&mut m, 0x0c), 0xff);
    let mut all = [0u8; 256];
    m.config_read(0, &mut all);
    assert!(all[0x50..].iter().all(|&b| b == 0), "reset state");
}

#[test]
fn the_device_specific_area_is_memory_as_in_qemu() {
    let (mut m, _, _) = toy();
    for (off, v) in [
        (0x50u64, 0x1234_5678u32),
        (0x80, 0xdead_beef),
        (0xfc, 0xffff_ffff),
    ] {
        cfg_write32(&mut m, off, v);
        assert_eq!(cfg_read32(&mut m, off), v, "offset {off:#x}");
    }
    m.config_write(0x81, &[0x00]);
    assert_eq!(cfg_read32(&mut m, 0x80), 0xdead_00ef, "byte writes");
    // The MSI capability at 0x40 keeps its own rules.
    cfg_write32(&mut m, 0x40, 0xffff_ffff);
    assert_eq!(cfg_read(&mut m, 0x40, 1), 0x05, "capability id read-only");
    m.reset();
    assert_eq!(cfg_read32(&mut m, 0x80), 0, "reset clears it");
}

#[test]
fn interrupt_line_rw_pin_ro() {
    let (mut m, _, _) = toy();
    m.config_write(0x3c, &[0x0b]);
    m.config_write(0x3d, &[0xff]);
    assert_eq!(
        cfg_read(&mut m, 0x3c, 2),
        0x020b,
        "line written, pin B stays 2"
    );
    assert_eq!(m.config().interrupt_line(), 0x0b);
    cfg_write32(&mut m, 0x3c, 0xffff_ffff);
    assert_eq!(
        cfg_read32(&mut m, 0x3c),
        0x0000_02ff,
        "min_gnt/max_lat read 0"
    );

    let mut k = Model::new(Kinds);
    assert_eq!(cfg_read(&mut k, 0x3d, 1), 0, "no pin");
}

#[test]
fn capability_walk_reaches_msi() {
    let (mut m, _, _) = toy();
    assert_ne!(cfg_read(&mut m, 0x06, 2) & 0x10, 0);
    let mut ptr = cfg_read(&mut m, 0x34, 1);
    assert_eq!(ptr, 0x40);
    let mut seen = vec![];
    while ptr != 0 {
        assert!(seen.len() < 48, "capability list loops");
        seen.push(cfg_read(&mut m, ptr, 1) as u8);
        ptr = cfg_read(&mut m, ptr + 1, 1);
    }
    assert_eq!(seen, vec![0x05]);
    // Message control: MMC = log2(4) = 2, 64-bit capable, disabled.
    assert_eq!(cfg_read(&mut m, 0x42, 2), 0x0084);

    let mut k = Model::new(Kinds);
    assert_eq!(cfg_read(&mut k, 0x06, 2) & 0x10, 0);
    assert_eq!(cfg_read(&mut k, 0x34, 1), 0);
    assert_eq!(cfg_read32(&mut k, 0x40), 0);
}

#[test]
fn msi_enable_delivers_and_stops_intx() {
    let (mut m, irqs, trace) = toy();
    enable_all(&mut m);
    cfg_write32(&mut m, 0x44, 0xfee0_1003);
    cfg_write32(&mut m, 0x48, 0x1);
    cfg_write32(&mut m, 0x4c, 0xffff_4020);
    assert_eq!(
        cfg_read32(&mut m, 0x44),
        0xfee0_1000,
        "address bits 1:0 read-only 0"
    );
    assert_eq!(
        cfg_read32(&mut m, 0x4c),
        0xffff_4020,
        "16-bit data, then two free bytes QEMU leaves writable"
    );
    assert_eq!(cfg_read(&mut m, 0x4c, 2), 0x4020, "16-bit data");

    bar_write32(&mut m, 1, 0x1c, 1); // level up while MSI is off: INTx
    assert_eq!(irqs.take(), vec![Irq::Intx(true)]);

    cfg_write16(&mut m, 0x42, 0x0021); // enable, MME = 2 (4 vectors)
    assert_eq!(cfg_read(&mut m, 0x42, 2), 0x00a5);
    assert!(m.config().msi_enabled());
    assert_eq!(m.config().msi_enabled_vectors(), 4);
    assert!(!m.interrupt_asserted(), "INTx stops when MSI is enabled");
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);
    assert_ne!(
        cfg_read(&mut m, 0x06, 2) & 0x8,
        0,
        "status still shows the level"
    );

    trace.clear();
    bar_write32(&mut m, 1, 0x18, 3); // msi_notify(3)
    bar_write32(&mut m, 1, 0x18, 4); // not enabled
    let msg = MsiMessage {
        address: 0x1_fee0_1000,
        data: 0x4023,
    };
    assert_eq!(irqs.take(), vec![Irq::Msi(msg)]);
    let msis: Vec<_> = trace
        .events()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::Msi { .. }))
        .collect();
    assert_eq!(
        msis,
        vec![
            TraceEvent::Msi {
                vector: 3,
                address: 0x1_fee0_1000,
                data: 0x4023,
                delivered: true
            },
            TraceEvent::Msi {
                vector: 4,
                address: 0,
                data: 0,
                delivered: false
            },
        ]
    );

    // Disabling MSI brings the still-high level back onto INTx.
    cfg_write16(&mut m, 0x42, 0x0000);
    assert!(m.interrupt_asserted());
    assert_eq!(irqs.take(), vec![Irq::Intx(true)]);
    bar_write32(&mut m, 1, 0x18, 0);
    assert_eq!(irqs.take(), vec![], "no MSI while disabled");
}

#[test]
fn msi_mme_is_clamped_and_mmc_read_only() {
    let (mut m, _, _) = toy();
    cfg_write16(&mut m, 0x42, 0xffff);
    // enable, MMC stays 2, MME clamped to 2, 64-bit; nothing else sticks.
    assert_eq!(cfg_read(&mut m, 0x42, 2), 0x00a5);
    assert_eq!(
        cfg_read(&mut m, 0x40, 2),
        0x0005,
        "id and next pointer read-only"
    );
    cfg_write16(&mut m, 0x42, 0x0011); // MME 1 (2 vectors)
    assert_eq!(m.config().msi_enabled_vectors(), 2);
    assert_eq!(m.config().msi_message(2), None);
    assert!(m.config().msi_message(1).is_some());
}

#[test]
fn odd_config_accesses() {
    let (mut m, _, _) = toy();
    let mut b = [0u8; 4];
    m.config_read(0xfe, &mut b);
    assert_eq!(b, [0, 0, 0xff, 0xff], "bytes past 0xff read all-ones");
    let mut b = [0u8; 3];
    m.config_read(0x01, &mut b);
    assert_eq!(b, [0x12, 0x78, 0x56]);
    m.config_read(0x40, &mut []);
    m.config_write(0x04, &[]);
    m.config_write(u64::MAX, &[0xff; 9]);
    m.config_write(0xff, &[0xff; 9]);
    let mut big = vec![0u8; 300];
    m.config_read(u64::MAX - 10, &mut big);
    assert!(big.iter().all(|&b| b == 0xff));
    // An 8-byte write covering COMMAND and STATUS and the class dword.
    m.config_write(0x04, &[0x07, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(cfg_read32(&mut m, 0x04), 0x0010_0007);
    assert_eq!(cfg_read32(&mut m, 0x08), 0xff80_0102);
}

#[test]
fn reset_clears_writable_config_and_line() {
    let (mut m, irqs, trace) = toy();
    enable_all(&mut m);
    cfg_write32(&mut m, 0x10, 0xc000);
    cfg_write32(&mut m, 0x14, 0xfebf_0000);
    m.config_write(0x3c, &[10]);
    cfg_write32(&mut m, 0x44, 0xfee0_0000);
    cfg_write32(&mut m, 0x4c, 0x55);
    bar_write32(&mut m, 1, 0x4, 0x1234_5678);
    bar_write32(&mut m, 1, 0x1c, 1);
    m.ctx_mut().set_irq(true);
    assert!(m.interrupt_asserted());
    irqs.take();
    trace.clear();

    m.reset();
    assert!(!m.interrupt_asserted());
    assert!(!m.ctx().latched_irq());
    assert_eq!(irqs.take(), vec![Irq::Intx(false)]);
    assert_eq!(
        trace.events(),
        vec![TraceEvent::Reset, TraceEvent::Intx { asserted: false }]
    );
    assert_eq!(m.regs.rw32, 0);
    for (off, v) in [
        (0x04, 0x0010_0000),
        (0x10, 1),
        (0x14, 0),
        (0x3c, 0x200),
        (0x44, 0),
        (0x4c, 0),
    ] {
        assert_eq!(cfg_read32(&mut m, off), v, "offset {off:#x}");
    }
    assert_eq!(cfg_read32(&mut m, 0x00), 0x5678_1234);
}

/// With MSI enabled, each rising edge of the level-derived interrupt is sent
/// as MSI vector 0 (and only the rising edge: a level that stays high sends
/// nothing more).
#[test]
fn msi_enabled_rising_level_sends_vector_zero() {
    let (mut m, irqs, _) = toy();
    enable_all(&mut m);
    cfg_write32(&mut m, 0x44, 0xfee0_0000);
    cfg_write32(&mut m, 0x48, 0);
    cfg_write32(&mut m, 0x4c, 0x4020);
    cfg_write16(&mut m, 0x42, 0x0001); // enable, one vector
    irqs.take();
    let msg = MsiMessage {
        address: 0xfee0_0000,
        data: 0x4020,
    };
    bar_write32(&mut m, 1, 0x1c, 1); // level rises
    assert_eq!(irqs.take(), vec![Irq::Msi(msg)]);
    bar_write32(&mut m, 1, 0x1c, 1); // stays high
    assert_eq!(irqs.take(), vec![]);
    bar_write32(&mut m, 0, 0x4, u32::MAX); // STATUS w1c: falls, nothing to send
    assert_eq!(irqs.take(), vec![]);
    bar_write32(&mut m, 1, 0x1c, 1); // rises again
    assert_eq!(irqs.take(), vec![Irq::Msi(msg)]);
}
