//! A hand-written toy device (what codegen would emit for a small spec) and
//! helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::{Arc, Mutex};

use pcidev_runtime::vm_memory::{GuestAddress, GuestMemoryMmap};
use pcidev_runtime::*;

/// Byte mask of the enabled lanes.
pub fn lane_mask(lanes: u8) -> u64 {
    (0..8)
        .filter(|i| lanes & (1 << i) != 0)
        .fold(0, |m, i| m | 0xff << (8 * i))
}

/// Read-modify-write of a register from a positioned value and lanes.
pub fn merge(old: u64, value: u64, lanes: u8) -> u64 {
    let m = lane_mask(lanes);
    (old & !m) | (value & m)
}

pub const TOY_BAR0: &[RegisterLayout] = &[
    RegisterLayout {
        name: "CTRL",
        offset: 0x0,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "STATUS",
        offset: 0x4,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "DMA_TRIGGER",
        offset: 0x8,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "DMA_READ",
        offset: 0xc,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
];
pub const TOY_BAR1: &[RegisterLayout] = &[
    RegisterLayout {
        name: "S8",
        offset: 0x0,
        width: 1,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "S16",
        offset: 0x2,
        width: 2,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "RW32",
        offset: 0x4,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "DMA_ADDR",
        offset: 0x8,
        width: 8,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "DMA_LEN",
        offset: 0x10,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "SEED",
        offset: 0x14,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "MSI",
        offset: 0x18,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "RAISE",
        offset: 0x1c,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "READCOUNT",
        offset: 0x20,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "CMD",
        offset: 0x24,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    },
];
pub const TOY_BAR2: &[RegisterLayout] = &[
    RegisterLayout {
        name: "WIDE",
        offset: 0x0,
        width: 8,
        sizes: AccessSizes(0),
        count: 1,
    },
    RegisterLayout {
        name: "LAST",
        offset: 0xff8,
        width: 8,
        sizes: AccessSizes(0),
        count: 1,
    },
];

pub const TOY_INFO: DeviceInfo = DeviceInfo {
    name: "toy",
    vendor_id: 0x1234,
    device_id: 0x5678,
    revision: 0x02,
    class_code: [0xff, 0x80, 0x01],
    subsystem_vendor_id: 0xabcd,
    subsystem_id: 0x0042,
    interrupt_pin: Some(IntxPin::B),
    bars: &[
        BarInfo {
            index: 0,
            kind: BarKind::Io,
            size: 32,
            policy: AccessPolicy {
                sizes: AccessSizes::B4,
                aligned: true,
                invalid: InvalidAccess::Ignore,
                unmapped: Unmapped::Zero,
            },
            registers: TOY_BAR0,
        },
        BarInfo {
            index: 1,
            kind: BarKind::Mem32 {
                prefetchable: false,
            },
            size: 4096,
            policy: AccessPolicy {
                sizes: AccessSizes::ALL,
                aligned: false,
                invalid: InvalidAccess::AllOnes,
                unmapped: Unmapped::Zero,
            },
            registers: TOY_BAR1,
        },
        BarInfo {
            index: 2,
            kind: BarKind::Mem64 { prefetchable: true },
            size: 0x1000,
            policy: AccessPolicy {
                sizes: AccessSizes::B4.with(AccessSizes::B8),
                aligned: true,
                invalid: InvalidAccess::Error,
                unmapped: Unmapped::Zero,
            },
            registers: TOY_BAR2,
        },
    ],
    msi: Some(MsiInfo { vectors: 4 }),
    msix: None,
    config_registers: &[],
    vendor_capabilities: &[],
};

/// BAR0 CTRL is rw; STATUS is w1c and drives the interrupt level; writing
/// DMA_TRIGGER DMAs `random_bytes(SEED, DMA_LEN)` to DMA_ADDR; writing
/// DMA_READ reads DMA_LEN bytes from DMA_ADDR into `last_read`.
/// BAR1 has scratch registers of each width, MSI (write v: msi_notify(v)),
/// RAISE (status |= v), READCOUNT (counts its reads) and CMD (bit0 set_irq(1),
/// bit1 set_irq(0), bit2 pulse, bit3 hook "poke").
#[derive(Debug, Default, Clone)]
pub struct Toy {
    pub ctrl: u32,
    pub status: u32,
    pub s8: u8,
    pub s16: u16,
    pub rw32: u32,
    pub dma_addr: u64,
    pub dma_len: u32,
    pub seed: u32,
    pub read_count: u32,
    pub wide: u64,
    pub last: u64,
    pub last_outcome: Option<DmaOutcome>,
    pub last_read: Vec<u8>,
    /// Every write_register call: (bar, reg, value, lanes).
    pub writes: Vec<(u8, usize, u64, u8)>,
    /// Every DMA write attempted: (addr, data, outcome).
    pub dma_log: Vec<(u64, Vec<u8>, DmaOutcome)>,
}

fn outcome_code(o: Option<DmaOutcome>) -> u64 {
    o.map_or(0, DmaOutcome::status_code)
}

impl Registers for Toy {
    fn info(&self) -> &'static DeviceInfo {
        &TOY_INFO
    }

    fn read_register(&mut self, _ctx: &mut DeviceCtx, bar: u8, reg: usize) -> u64 {
        match (bar, reg) {
            (0, 0) => self.ctrl.into(),
            (0, 1) => self.status.into(),
            (0, 2) => outcome_code(self.last_outcome),
            (1, 0) => self.s8.into(),
            (1, 1) => self.s16.into(),
            (1, 2) => self.rw32.into(),
            (1, 3) => self.dma_addr,
            (1, 4) => self.dma_len.into(),
            (1, 5) => self.seed.into(),
            (1, 8) => {
                self.read_count += 1;
                self.read_count.into()
            }
            (2, 0) => self.wide,
            (2, 1) => self.last,
            _ => 0,
        }
    }

    fn write_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, lanes: u8) {
        self.writes.push((bar, reg, value, lanes));
        match (bar, reg) {
            (0, 0) => self.ctrl = merge(self.ctrl.into(), value, lanes) as u32,
            (0, 1) => self.status &= !(value as u32),
            (0, 2) => {
                let data = random_bytes(self.seed, self.dma_len as usize);
                let outcome = ctx.dma_write(self.dma_addr, &data);
                self.last_outcome = Some(outcome);
                self.dma_log.push((self.dma_addr, data, outcome));
            }
            (0, 3) => {
                let mut buf = vec![0xee; self.dma_len as usize];
                let outcome = ctx.dma_read(self.dma_addr, &mut buf);
                self.last_outcome = Some(outcome);
                self.last_read = buf;
            }
            (1, 0) => self.s8 = merge(self.s8.into(), value, lanes) as u8,
            (1, 1) => self.s16 = merge(self.s16.into(), value, lanes) as u16,
            (1, 2) => self.rw32 = merge(self.rw32.into(), value, lanes) as u32,
            (1, 3) => self.dma_addr = merge(self.dma_addr, value, lanes),
            (1, 4) => self.dma_len = merge(self.dma_len.into(), value, lanes) as u32 & 0xffff,
            (1, 5) => self.seed = merge(self.seed.into(), value, lanes) as u32,
            (1, 6) => ctx.msi_notify(value as u16),
            (1, 7) => self.status |= value as u32,
            (1, 9) => {
                if value & 1 != 0 {
                    ctx.set_irq(true);
                }
                if value & 2 != 0 {
                    ctx.set_irq(false);
                }
                if value & 4 != 0 {
                    ctx.pulse_irq();
                }
                if value & 8 != 0 {
                    ctx.hook("poke");
                }
            }
            (2, 0) => self.wide = merge(self.wide, value, lanes),
            (2, 1) => self.last = merge(self.last, value, lanes),
            _ => {}
        }
    }

    fn interrupt_level(&self, ctx: &DeviceCtx) -> bool {
        self.status != 0 || ctx.latched_irq()
    }

    fn reset(&mut self) {
        *self = Toy::default();
    }
}

/// What an interrupt sink received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Irq {
    Intx(bool),
    Msi(MsiMessage),
    Msix(u16, MsiMessage),
}

/// An interrupt sink recording into a shared list.
#[derive(Debug, Clone, Default)]
pub struct Irqs(pub Arc<Mutex<Vec<Irq>>>);

impl Irqs {
    pub fn take(&self) -> Vec<Irq> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl InterruptSink for Irqs {
    fn set_intx(&mut self, asserted: bool) {
        self.0.lock().unwrap().push(Irq::Intx(asserted));
    }
    fn msi(&mut self, _vector: u8, message: MsiMessage) {
        self.0.lock().unwrap().push(Irq::Msi(message));
    }
    fn msix(&mut self, vector: u16, message: MsiMessage) {
        self.0.lock().unwrap().push(Irq::Msix(vector, message));
    }
}

/// A toy model with a recording interrupt sink and an in-memory trace.
pub fn toy() -> (Model<Toy>, Irqs, TraceBuffer) {
    let mut model = Model::new(Toy::default());
    let irqs = Irqs::default();
    model.set_interrupt_sink(Box::new(irqs.clone()));
    let trace = TraceBuffer::new();
    model.set_trace(trace.sink());
    (model, irqs, trace)
}

pub fn cfg_read(model: &mut (impl PciModel + ?Sized), offset: u64, len: usize) -> u64 {
    let mut buf = vec![0; len];
    model.config_read(offset, &mut buf);
    buf.iter().rev().fold(0, |acc, &b| acc << 8 | u64::from(b))
}

pub fn cfg_read32(model: &mut (impl PciModel + ?Sized), offset: u64) -> u32 {
    cfg_read(model, offset, 4) as u32
}

pub fn cfg_write32(model: &mut (impl PciModel + ?Sized), offset: u64, value: u32) {
    model.config_write(offset, &value.to_le_bytes());
}

pub fn cfg_write16(model: &mut (impl PciModel + ?Sized), offset: u64, value: u16) {
    model.config_write(offset, &value.to_le_bytes());
}

/// Enable I/O, memory and bus mastering.
pub fn enable_all(model: &mut (impl PciModel + ?Sized)) {
    cfg_write16(model, 0x04, 0x0007);
}

pub fn bar_read32(model: &mut (impl PciModel + ?Sized), bar: u8, offset: u64) -> u32 {
    let mut b = [0; 4];
    model.bar_read(bar, offset, &mut b).expect("bar read");
    u32::from_le_bytes(b)
}

pub fn bar_write32(model: &mut (impl PciModel + ?Sized), bar: u8, offset: u64, value: u32) {
    model
        .bar_write(bar, offset, &value.to_le_bytes())
        .expect("bar write");
}

pub fn bar_write64(model: &mut (impl PciModel + ?Sized), bar: u8, offset: u64, value: u64) {
    model
        .bar_write(bar, offset, &value.to_le_bytes())
        .expect("bar write");
}

/// Guest memory from (start, len) ranges.
pub fn guest_memory(ranges: &[(u64, usize)]) -> Arc<GuestMemoryMmap<()>> {
    let ranges: Vec<_> = ranges.iter().map(|&(a, l)| (GuestAddress(a), l)).collect();
    Arc::new(GuestMemoryMmap::from_ranges(&ranges).expect("guest memory"))
}
