//! Configuration-space registers and the capability list, host side:
//! every access size at every offset of 0x40..0x100 against a reference
//! byte model, the capability chain as a guest walks it, the standard
//! header untouched by device-specific traffic, registers that narrow their
//! sizes (QEMU's i6300esb rule), and malformed descriptions left inert.

use pcidev_runtime::*;

/// Four configuration registers, one of each width and a narrowed one,
/// with MSI and two vendor capabilities (one holding a register).
///
/// | offset | register | semantics |
/// |---|---|---|
/// | 0x50 | `A` u32 | plain storage |
/// | 0x56 | `B` u16 | plain storage |
/// | 0x5b | `C` u8 | plain storage |
/// | 0x60 | `N` u16, 2-byte accesses only | storage, counts writes |
/// | 0x74 | `V` u8, inside the capability at 0x70 | reads 0xa5, counts reads |
const REGS: &[RegisterLayout] = &[
    RegisterLayout::new("A", 0x50, 4),
    RegisterLayout::new("B", 0x56, 2),
    RegisterLayout::new("C", 0x5b, 1),
    RegisterLayout::new("N", 0x60, 2).with_sizes(AccessSizes::B2),
    RegisterLayout::new("V", 0x74, 1),
];

const INFO: DeviceInfo = DeviceInfo {
    name: "cfgregs",
    vendor_id: 0x1b36,
    device_id: 0x00f0,
    revision: 1,
    class_code: [0xff, 0x00, 0x00],
    subsystem_vendor_id: 0x1af4,
    subsystem_id: 0x1100,
    interrupt_pin: Some(IntxPin::A),
    bars: &[],
    msi: Some(MsiInfo { vectors: 1 }),
    config_registers: REGS,
    vendor_capabilities: &[
        VendorCapInfo {
            offset: 0xc0,
            len: 0x10,
        },
        VendorCapInfo {
            offset: 0x70,
            len: 8,
        },
    ],
};

#[derive(Debug, Default)]
struct Regs {
    a: u32,
    b: u16,
    c: u8,
    n: u16,
    n_writes: u32,
    v_reads: u32,
}

impl Registers for Regs {
    fn info(&self) -> &'static DeviceInfo {
        &INFO
    }
    fn read_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize) -> u64 {
        0
    }
    fn write_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize, _: u64, _: u8) {}
    fn read_config_register(&mut self, _: &mut DeviceCtx, reg: usize) -> u64 {
        match reg {
            0 => self.a.into(),
            1 => self.b.into(),
            2 => self.c.into(),
            3 => self.n.into(),
            4 => {
                self.v_reads += 1;
                0xa5
            }
            _ => 0,
        }
    }
    fn write_config_register(&mut self, _: &mut DeviceCtx, reg: usize, value: u64, lanes: u8) {
        let mask = ops::lanes_mask(lanes);
        let merge = |old: u64| (old & !mask) | (value & mask);
        match reg {
            0 => self.a = merge(self.a.into()) as u32,
            1 => self.b = merge(self.b.into()) as u16,
            2 => self.c = merge(self.c.into()) as u8,
            3 => {
                self.n = merge(self.n.into()) as u16;
                self.n_writes += 1;
            }
            _ => {}
        }
    }
    fn interrupt_level(&self, ctx: &DeviceCtx) -> bool {
        ctx.latched_irq()
    }
    fn reset(&mut self) {
        *self = Regs::default();
    }
}

fn model() -> Model<Regs> {
    Model::new(Regs::default())
}

/// What a byte of 0x40..0x100 is, for the reference model.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Byte {
    /// Register `reg`, byte `lane`.
    Reg(usize, u64),
    /// A capability's read-only byte with this value (header, or a body
    /// byte without a register).
    Fixed(u8),
    /// MSI: left to its own tests (writable bits are checked there).
    Msi,
    /// Plain memory.
    Memory,
}

fn classify(off: u64) -> Byte {
    if let Some((i, r)) = REGS
        .iter()
        .enumerate()
        .find(|(_, r)| (r.offset..r.end()).contains(&off))
    {
        return Byte::Reg(i, off - r.offset);
    }
    match off {
        0x40..0x4e => Byte::Msi,
        // Vendor capability at 0x70 (8 bytes): id, next (0xc0), length.
        0x70 => Byte::Fixed(0x09),
        0x71 => Byte::Fixed(0xc0),
        0x72 => Byte::Fixed(8),
        0x73..0x78 => Byte::Fixed(0),
        // At 0xc0 (16 bytes), the last in the list.
        0xc0 => Byte::Fixed(0x09),
        0xc1 => Byte::Fixed(0),
        0xc2 => Byte::Fixed(0x10),
        0xc3..0xd0 => Byte::Fixed(0),
        _ => Byte::Memory,
    }
}

fn read(m: &mut Model<Regs>, off: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    m.config_read(off, &mut buf);
    buf
}

fn header(m: &mut Model<Regs>) -> Vec<u8> {
    read(m, 0, 0x40)
}

#[test]
fn the_capability_chain_is_linked_in_offset_order() {
    let mut m = model();
    let status = u16::from_le_bytes(read(&mut m, 0x06, 2).try_into().unwrap());
    assert_ne!(status & STATUS_CAPABILITIES, 0);
    // Walk the list as Linux's pci_find_capability does.
    let mut found = Vec::new();
    let mut ptr = read(&mut m, 0x34, 1)[0];
    while ptr != 0 && found.len() < 48 {
        let cap = read(&mut m, u64::from(ptr), 3);
        found.push((ptr, cap[0]));
        if cap[0] == 0x09 {
            found.push((ptr, cap[2]));
        }
        ptr = cap[1];
    }
    assert_eq!(
        found,
        vec![
            (0x40, 0x05),
            (0x70, 0x09),
            (0x70, 8),
            (0xc0, 0x09),
            (0xc0, 0x10)
        ]
    );
    assert_eq!(
        m.config()
            .capabilities()
            .iter()
            .map(|c| (c.kind, c.offset, c.len, c.next))
            .collect::<Vec<_>>(),
        vec![
            (CapKind::Msi, 0x40, 0x0e, 0x70),
            (CapKind::Vendor, 0x70, 8, 0xc0),
            (CapKind::Vendor, 0xc0, 0x10, 0),
        ]
    );
}

#[test]
fn a_device_without_capabilities_has_no_list() {
    static NONE: DeviceInfo = DeviceInfo {
        msi: None,
        vendor_capabilities: &[],
        ..INFO
    };
    #[derive(Debug, Default)]
    struct Plain;
    impl Registers for Plain {
        fn info(&self) -> &'static DeviceInfo {
            &NONE
        }
        fn read_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize) -> u64 {
            0
        }
        fn write_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize, _: u64, _: u8) {}
        fn interrupt_level(&self, _: &DeviceCtx) -> bool {
            false
        }
        fn reset(&mut self) {}
    }
    let mut m = Model::new(Plain);
    let mut b = [0u8; 2];
    m.config_read(0x06, &mut b);
    assert_eq!(u16::from_le_bytes(b) & STATUS_CAPABILITIES, 0);
    m.config_read(0x34, &mut b[..1]);
    assert_eq!(b[0], 0);
}

/// Every size (1, 2, 4, and odd ones) at every offset of the device-specific
/// area, writes and reads, against the reference: registers see exactly
/// their bytes (a narrowed register only its own size, aligned), capability
/// bytes stay fixed, memory holds what was written; the header never moves.
#[test]
fn every_size_at_every_offset_matches_the_reference() {
    let mut m = model();
    m.config_write(0x04, &[0x06, 0x00]);
    let before = header(&mut m);
    let mut memory = [0u8; 0x100];
    let mut regs = [0u64; REGS.len()];
    let mut counter = 0u8;
    for len in [1usize, 2, 3, 4, 8] {
        for off in 0x40u64..0x100 {
            // Skip writes into MSI: its own tests cover its writable bits.
            let end = (off + len as u64).min(0x100);
            let touches_msi = (off..end).any(|o| classify(o) == Byte::Msi);
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    counter = counter.wrapping_add(37);
                    counter
                })
                .collect();
            if !touches_msi {
                m.config_write(off, &data);
                for (i, o) in (off..end).enumerate() {
                    match classify(o) {
                        Byte::Reg(r, lane) => {
                            let narrowed = REGS[r].sizes.0 != 0;
                            let reaches =
                                !narrowed || (REGS[r].sizes.contains(len) && off % len as u64 == 0);
                            if reaches {
                                if r != 4 {
                                    regs[r] &= !(0xff << (lane * 8));
                                    regs[r] |= u64::from(data[i]) << (lane * 8);
                                }
                            } else {
                                memory[o as usize] = data[i];
                            }
                        }
                        Byte::Memory => memory[o as usize] = data[i],
                        Byte::Fixed(_) | Byte::Msi => {}
                    }
                }
            }
            let got = read(&mut m, off, len);
            for (i, o) in (off..off + len as u64).enumerate() {
                let want = if o >= 0x100 {
                    0xff
                } else {
                    match classify(o) {
                        Byte::Reg(r, lane) => {
                            let narrowed = REGS[r].sizes.0 != 0;
                            let reaches =
                                !narrowed || (REGS[r].sizes.contains(len) && off % len as u64 == 0);
                            match (reaches, r) {
                                (true, 4) => 0xa5,
                                (true, _) => (regs[r] >> (lane * 8)) as u8,
                                (false, _) => memory[o as usize],
                            }
                        }
                        Byte::Fixed(v) => v,
                        Byte::Memory => memory[o as usize],
                        Byte::Msi => got[i],
                    }
                };
                assert_eq!(
                    got[i], want,
                    "{len}-byte access at {off:#x}: byte {o:#x} reads {:#x}, want {want:#x}",
                    got[i]
                );
            }
        }
    }
    assert_eq!(header(&mut m), before, "the standard header moved");
    assert_eq!(m.regs.a as u64, regs[0]);
    assert_eq!(m.regs.b as u64, regs[1]);
    assert_eq!(m.regs.c as u64, regs[2]);
    assert_eq!(m.regs.n as u64, regs[3]);
}

#[test]
fn one_access_reads_and_writes_each_register_once() {
    let mut m = model();
    // A 4-byte read over the capability at 0x74: V is read once.
    read(&mut m, 0x74, 4);
    assert_eq!(m.regs.v_reads, 1);
    // A 256-byte read (a config dump) reads V once more.
    read(&mut m, 0, 256);
    assert_eq!(m.regs.v_reads, 2);
    // A 2-byte write at 0x60 writes N once; 1- and 4-byte ones do not.
    m.config_write(0x60, &[0x34, 0x12]);
    m.config_write(0x60, &[0xff]);
    m.config_write(0x60, &[0xff; 4]);
    m.config_write(0x61, &[0xff, 0xff]);
    assert_eq!((m.regs.n, m.regs.n_writes), (0x1234, 1));
    // The memory behind N holds what the other sizes wrote.
    assert_eq!(read(&mut m, 0x60, 4), vec![0xff; 4]);
    assert_eq!(read(&mut m, 0x60, 2), vec![0x34, 0x12]);
}

#[test]
fn header_traffic_does_not_reach_registers() {
    let mut m = model();
    for off in 0..0x40 {
        m.config_write(off, &[0xff]);
    }
    assert_eq!((m.regs.a, m.regs.b, m.regs.c, m.regs.n), (0, 0, 0, 0));
    assert_eq!(m.regs.v_reads, 0);
}

#[test]
fn reset_clears_device_specific_memory() {
    let mut m = model();
    m.config_write(0x80, &[1, 2, 3, 4]);
    m.config_write(0x50, &[9; 4]);
    m.reset();
    assert_eq!(read(&mut m, 0x80, 4), vec![0; 4]);
    // The registers are the model's: its reset cleared them.
    assert_eq!(read(&mut m, 0x50, 4), vec![0; 4]);
}

/// A malformed description: registers in the header, past 0xff, wider than
/// 4 bytes, over MSI or a capability header, overlapping an earlier one;
/// capabilities misaligned, too short, past 0xff or overlapping. None of it
/// panics, and what is malformed is inert.
#[test]
fn malformed_descriptions_are_inert() {
    static BAD: DeviceInfo = DeviceInfo {
        config_registers: &[
            RegisterLayout::new("HDR", 0x04, 2),
            RegisterLayout::new("PAST", 0xfe, 4),
            RegisterLayout::new("WIDE", 0x80, 8),
            RegisterLayout::new("ZERO", 0x90, 0),
            RegisterLayout::new("OVER_MSI", 0x44, 4),
            RegisterLayout::new("OVER_CAP", 0x70, 1),
            RegisterLayout::new("OK", 0xa0, 4),
            RegisterLayout::new("DUP", 0xa2, 2),
            RegisterLayout::new("HUGE", u64::MAX, 4),
        ],
        vendor_capabilities: &[
            VendorCapInfo {
                offset: 0x70,
                len: 8,
            },
            VendorCapInfo {
                offset: 0x72,
                len: 8,
            },
            VendorCapInfo {
                offset: 0xb0,
                len: 2,
            },
            VendorCapInfo {
                offset: 0xf8,
                len: 0x20,
            },
            VendorCapInfo {
                offset: 0x30,
                len: 8,
            },
            VendorCapInfo {
                offset: 0x74,
                len: 4,
            },
        ],
        ..INFO
    };
    #[derive(Debug, Default)]
    struct Count(Vec<usize>);
    impl Registers for Count {
        fn info(&self) -> &'static DeviceInfo {
            &BAD
        }
        fn read_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize) -> u64 {
            0
        }
        fn write_register(&mut self, _: &mut DeviceCtx, _: u8, _: usize, _: u64, _: u8) {}
        fn read_config_register(&mut self, _: &mut DeviceCtx, reg: usize) -> u64 {
            self.0.push(reg);
            u64::MAX
        }
        fn interrupt_level(&self, _: &DeviceCtx) -> bool {
            false
        }
        fn reset(&mut self) {}
    }
    let mut m = Model::new(Count::default());
    let mut all = [0u8; 256];
    m.config_read(0, &mut all);
    // Only `OK` (index 6) is served.
    assert_eq!(m.regs.0, vec![6]);
    assert_eq!(&all[0xa0..0xa4], &[0xff; 4]);
    assert_eq!(
        m.config()
            .capabilities()
            .iter()
            .map(|c| c.offset)
            .collect::<Vec<_>>(),
        vec![0x40, 0x70]
    );
    // Hostile offsets and lengths.
    m.config_write(u64::MAX - 2, &[1; 8]);
    let mut b = [0u8; 16];
    m.config_read(u64::MAX - 3, &mut b);
    assert_eq!(b, [0xff; 16]);
}
