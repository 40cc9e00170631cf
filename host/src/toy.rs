//! `toy`: a small hand-written model for testing the server without a
//! generated one. A [`Registers`] impl wrapped in the runtime's [`Model`].
//!
//! Vendor 0x1337, device 0x7070, class "other", INTx pin A, one MSI vector.
//! All registers are 32 bits wide and take only aligned 4-byte accesses
//! (other accesses error: reads all-ones, writes dropped).
//!
//! BAR0, 32-bit memory, 4 KiB:
//!
//! | offset | name | access | what |
//! |---|---|---|---|
//! | 0x00 | `ID` | ro | [`TOY_ID`] |
//! | 0x04 | `SCRATCH` | rw | reset 0 |
//! | 0x08 | `IRQ` | rw | the INTx level is `IRQ != 0` |
//! | 0x0c | `DMA_ADDR_LO` | rw | guest address of the DMA, low half |
//! | 0x10 | `DMA_ADDR_HI` | rw | high half |
//! | 0x14 | `DMA_LEN` | rw | bytes to DMA, reset 0x100, at most [`MAX_DMA`] used |
//! | 0x18 | `DMA_GO` | wo | writing `seed` DMAs `random_bytes(seed, DMA_LEN)` to the address |
//! | 0x1c | `DMA_STATUS` | ro | 0 never run, else [`status_code`](pcidev_runtime::DmaOutcome::status_code) (1 done, 2 bus master off, 3 no guest memory, 4 out of range) |
//! | 0x20 | `MSI_GO` | wo | writing `v` signals MSI vector `v` |
//!
//! BAR1, I/O, 16 bytes: 0x0 `IRQ` (the same register as BAR0's), 0x4 `ID`.

use pcidev_runtime::{
    AccessPolicy, AccessSizes, BarInfo, BarKind, DeviceCtx, DeviceInfo, IntxPin, InvalidAccess,
    Model, MsiInfo, RegisterLayout, Registers, Unmapped, random_bytes,
};

/// The value of the `ID` register.
pub const TOY_ID: u32 = 0x7079_0001;
/// The longest DMA the toy performs.
pub const MAX_DMA: u32 = 1 << 20;

/// BAR0 register offsets.
pub mod reg {
    /// `ID`
    pub const ID: u64 = 0x00;
    /// `SCRATCH`
    pub const SCRATCH: u64 = 0x04;
    /// `IRQ`
    pub const IRQ: u64 = 0x08;
    /// `DMA_ADDR_LO`
    pub const DMA_ADDR_LO: u64 = 0x0c;
    /// `DMA_ADDR_HI`
    pub const DMA_ADDR_HI: u64 = 0x10;
    /// `DMA_LEN`
    pub const DMA_LEN: u64 = 0x14;
    /// `DMA_GO`
    pub const DMA_GO: u64 = 0x18;
    /// `DMA_STATUS`
    pub const DMA_STATUS: u64 = 0x1c;
    /// `MSI_GO`
    pub const MSI_GO: u64 = 0x20;
    /// BAR1 (I/O): `IRQ`
    pub const IO_IRQ: u64 = 0x0;
    /// BAR1 (I/O): `ID`
    pub const IO_ID: u64 = 0x4;
}

const POLICY: AccessPolicy = AccessPolicy {
    sizes: AccessSizes::B4,
    aligned: true,
    invalid: InvalidAccess::Error,
    unmapped: Unmapped::Zero,
};

const fn r32(name: &'static str, offset: u64) -> RegisterLayout {
    RegisterLayout {
        name,
        offset,
        width: 4,
        sizes: AccessSizes(0),
        count: 1,
    }
}

const BAR0_REGS: &[RegisterLayout] = &[
    r32("ID", reg::ID),
    r32("SCRATCH", reg::SCRATCH),
    r32("IRQ", reg::IRQ),
    r32("DMA_ADDR_LO", reg::DMA_ADDR_LO),
    r32("DMA_ADDR_HI", reg::DMA_ADDR_HI),
    r32("DMA_LEN", reg::DMA_LEN),
    r32("DMA_GO", reg::DMA_GO),
    r32("DMA_STATUS", reg::DMA_STATUS),
    r32("MSI_GO", reg::MSI_GO),
];

const BAR1_REGS: &[RegisterLayout] = &[r32("IRQ", reg::IO_IRQ), r32("ID", reg::IO_ID)];

const BARS: &[BarInfo] = &[
    BarInfo {
        index: 0,
        kind: BarKind::Mem32 {
            prefetchable: false,
        },
        size: 0x1000,
        policy: POLICY,
        registers: BAR0_REGS,
    },
    BarInfo {
        index: 1,
        kind: BarKind::Io,
        size: 16,
        policy: POLICY,
        registers: BAR1_REGS,
    },
];

/// The toy's device description.
pub const TOY_INFO: DeviceInfo = DeviceInfo {
    name: "toy",
    vendor_id: 0x1337,
    device_id: 0x7070,
    revision: 1,
    class_code: [0xff, 0x00, 0x00],
    subsystem_vendor_id: 0x1337,
    subsystem_id: 0x7070,
    interrupt_pin: Some(IntxPin::A),
    bars: BARS,
    msi: Some(MsiInfo { vectors: 1 }),
    msix: None,
    config_registers: &[],
    vendor_capabilities: &[],
};

/// The toy's registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toy {
    scratch: u32,
    irq: u32,
    dma_addr: u64,
    dma_len: u32,
    dma_status: u32,
}

impl Default for Toy {
    fn default() -> Self {
        Toy {
            scratch: 0,
            irq: 0,
            dma_addr: 0,
            dma_len: 0x100,
            dma_status: 0,
        }
    }
}

/// A toy model in its reset state.
pub fn model() -> Model<Toy> {
    Model::new(Toy::default())
}

/// Merge the enabled byte lanes of `value` into `old`.
fn merge(old: u32, value: u64, lanes: u8) -> u32 {
    let mask = (0..4)
        .filter(|i| lanes & (1 << i) != 0)
        .fold(0u32, |m, i| m | 0xff << (8 * i));
    (old & !mask) | (value as u32 & mask)
}

impl Toy {
    fn dma(&mut self, ctx: &mut DeviceCtx, seed: u32) {
        let len = self.dma_len.min(MAX_DMA) as usize;
        let data = random_bytes(seed, len);
        let outcome = ctx.dma_write(self.dma_addr, &data);
        self.dma_status = outcome.status_code() as u32;
    }
}

impl Registers for Toy {
    fn info(&self) -> &'static DeviceInfo {
        &TOY_INFO
    }

    fn read_register(&mut self, _ctx: &mut DeviceCtx, bar: u8, reg: usize) -> u64 {
        let Some(layout) = TOY_INFO.bar(bar).and_then(|b| b.registers.get(reg)) else {
            return 0;
        };
        let value = match (bar, layout.offset) {
            (0, reg::ID) | (1, reg::IO_ID) => TOY_ID,
            (0, reg::SCRATCH) => self.scratch,
            (0, reg::IRQ) | (1, reg::IO_IRQ) => self.irq,
            (0, reg::DMA_ADDR_LO) => self.dma_addr as u32,
            (0, reg::DMA_ADDR_HI) => (self.dma_addr >> 32) as u32,
            (0, reg::DMA_LEN) => self.dma_len,
            (0, reg::DMA_STATUS) => self.dma_status,
            _ => 0,
        };
        u64::from(value)
    }

    fn write_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, lanes: u8) {
        let Some(layout) = TOY_INFO.bar(bar).and_then(|b| b.registers.get(reg)) else {
            return;
        };
        match (bar, layout.offset) {
            (0, reg::SCRATCH) => self.scratch = merge(self.scratch, value, lanes),
            (0, reg::IRQ) | (1, reg::IO_IRQ) => self.irq = merge(self.irq, value, lanes),
            (0, reg::DMA_ADDR_LO) => {
                let lo = merge(self.dma_addr as u32, value, lanes);
                self.dma_addr = (self.dma_addr & !0xffff_ffff) | u64::from(lo);
            }
            (0, reg::DMA_ADDR_HI) => {
                let hi = merge((self.dma_addr >> 32) as u32, value, lanes);
                self.dma_addr = (self.dma_addr & 0xffff_ffff) | u64::from(hi) << 32;
            }
            (0, reg::DMA_LEN) => self.dma_len = merge(self.dma_len, value, lanes),
            (0, reg::DMA_GO) => self.dma(ctx, value as u32),
            (0, reg::MSI_GO) => ctx.msi_notify(value as u16),
            _ => {}
        }
    }

    fn interrupt_level(&self, _ctx: &DeviceCtx) -> bool {
        self.irq != 0
    }

    fn reset(&mut self) {
        *self = Toy::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcidev_runtime::{COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, PciModel};

    fn enabled() -> Model<Toy> {
        let mut m = model();
        m.config_write(4, &(COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE).to_le_bytes());
        m
    }

    fn read(m: &mut Model<Toy>, bar: u8, offset: u64) -> u32 {
        let mut data = [0; 4];
        let _ = PciModel::bar_read(m, bar, offset, &mut data);
        u32::from_le_bytes(data)
    }

    #[test]
    fn registers_behave() {
        let mut m = enabled();
        assert_eq!(read(&mut m, 0, reg::ID), TOY_ID);
        assert_eq!(read(&mut m, 1, reg::IO_ID), TOY_ID);
        m.bar_write(0, reg::SCRATCH, &0x1234_5678u32.to_le_bytes())
            .unwrap();
        assert_eq!(read(&mut m, 0, reg::SCRATCH), 0x1234_5678);
        m.bar_write(1, reg::IO_IRQ, &1u32.to_le_bytes()).unwrap();
        assert!(m.interrupt_asserted());
        assert_eq!(read(&mut m, 0, reg::IRQ), 1);
        m.bar_write(0, reg::IRQ, &0u32.to_le_bytes()).unwrap();
        assert!(!m.interrupt_asserted());
        // A 1-byte access errors: all-ones, dropped.
        let mut byte = [0];
        assert!(m.bar_read(0, reg::ID, &mut byte).is_err());
        assert_eq!(byte, [0xff]);
        // DMA without bus mastering and memory: reported, nothing else.
        m.bar_write(0, reg::DMA_GO, &1u32.to_le_bytes()).unwrap();
        assert_eq!(read(&mut m, 0, reg::DMA_STATUS), 2);
        m.reset();
        m.config_write(4, &COMMAND_MEMORY_SPACE.to_le_bytes());
        assert_eq!(read(&mut m, 0, reg::SCRATCH), 0);
    }

    #[test]
    fn merge_respects_lanes() {
        assert_eq!(merge(0xaabb_ccdd, 0x1122_3344, 0b0101), 0xaa22_cc44);
        assert_eq!(merge(0xaabb_ccdd, 0, 0), 0xaabb_ccdd);
    }
}
