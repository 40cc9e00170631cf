//! Plugging a [`Model`] into a rust-vmm bus as firmware and a VMM do:
//! [`program_bars`] sizes every BAR (write all-ones, read back the mask),
//! assigns naturally aligned addresses from an I/O and an MMIO window,
//! programs them and enables decoding and bus mastering; [`register_bars`]
//! then puts each BAR's range on a `vm_device::device_manager::IoManager`
//! (I/O BARs as PIO ranges, memory BARs as MMIO ranges), all pointing at
//! the device. After that, guest accesses reach the model through the bus
//! only, with offsets relative to the BAR base.

use std::sync::{Arc, Mutex};

use vm_device::bus::{MmioAddress, MmioRange, PioAddress, PioRange};
use vm_device::device_manager::{IoManager, MmioManager, PioManager};

use crate::config::{COMMAND_BUS_MASTER, COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE};
use crate::info::BarKind;
use crate::model::{Model, Registers};

/// One BAR as firmware programmed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappedBar {
    /// BAR index.
    pub index: u8,
    /// I/O or memory.
    pub kind: BarKind,
    /// Size, as discovered by writing all-ones to the BAR.
    pub size: u64,
    /// Assigned bus address.
    pub base: u64,
}

/// Why [`register_bars`] could not put a BAR on the bus.
#[derive(Debug)]
pub enum BusError {
    /// An I/O BAR whose range does not fit the 16-bit port space.
    PortRange(MappedBar),
    /// The bus refused the range (overlap, empty range).
    Bus(vm_device::bus::Error),
}

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusError::PortRange(b) => write!(
                f,
                "BAR {} ({:#x} bytes at {:#x}) does not fit the I/O port space",
                b.index, b.size, b.base
            ),
            BusError::Bus(e) => write!(f, "registering a BAR on the bus: {e}"),
        }
    }
}

impl std::error::Error for BusError {}

impl From<vm_device::bus::Error> for BusError {
    fn from(e: vm_device::bus::Error) -> Self {
        BusError::Bus(e)
    }
}

/// Firmware's part: size every BAR, place it at the next naturally aligned
/// address of `io_window` (I/O BARs) or `mmio_window` (memory BARs),
/// program it, then enable I/O and memory decoding and bus mastering.
/// Returns the BARs as assigned, in declaration order.
pub fn program_bars<R: Registers>(
    model: &mut Model<R>,
    io_window: u64,
    mmio_window: u64,
) -> Vec<MappedBar> {
    let mut bars = Vec::new();
    let (mut next_io, mut next_mem) = (io_window, mmio_window);
    for info in model.info().bars {
        let reg = 0x10 + 4 * u64::from(info.index);
        let size = size_bar(model, reg, info.kind);
        let next = if info.kind.is_io() {
            &mut next_io
        } else {
            &mut next_mem
        };
        let base = next.next_multiple_of(size.max(1));
        *next = base.saturating_add(size);
        config_write32(model, reg, base as u32);
        if let BarKind::Mem64 { .. } = info.kind {
            config_write32(model, reg + 4, (base >> 32) as u32);
        }
        bars.push(MappedBar {
            index: info.index,
            kind: info.kind,
            size,
            base,
        });
    }
    let command = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER;
    model.config_write(0x04, &command.to_le_bytes());
    bars
}

/// The VMM's part: register each of `bars` (from [`program_bars`]) on
/// `io`, all pointing at `dev` (vm-device serves `Mutex<T: MutDevicePio +
/// MutDeviceMmio>`).
pub fn register_bars<R: Registers>(
    io: &mut IoManager,
    dev: &Arc<Mutex<Model<R>>>,
    bars: &[MappedBar],
) -> Result<(), BusError> {
    for b in bars {
        if b.kind.is_io() {
            let port = |v: u64| u16::try_from(v).map_err(|_| BusError::PortRange(*b));
            let range = PioRange::new(PioAddress(port(b.base)?), port(b.size)?)?;
            io.register_pio(range, dev.clone())?;
        } else {
            io.register_mmio(MmioRange::new(MmioAddress(b.base), b.size)?, dev.clone())?;
        }
    }
    Ok(())
}

fn config_write32<R: Registers>(m: &mut Model<R>, offset: u64, v: u32) {
    m.config_write(offset, &v.to_le_bytes());
}

fn config_read32<R: Registers>(m: &mut Model<R>, offset: u64) -> u32 {
    let mut b = [0; 4];
    m.config_read(offset, &mut b);
    u32::from_le_bytes(b)
}

/// BAR sizing as firmware does it: write all-ones, read back, decode.
fn size_bar<R: Registers>(m: &mut Model<R>, reg: u64, kind: BarKind) -> u64 {
    config_write32(m, reg, u32::MAX);
    let low = config_read32(m, reg);
    let mask = match kind {
        BarKind::Io => u64::from(low & !0x3) | 0xffff_ffff_0000_0000,
        BarKind::Mem32 { .. } => u64::from(low & !0xf) | 0xffff_ffff_0000_0000,
        BarKind::Mem64 { .. } => {
            config_write32(m, reg + 4, u32::MAX);
            let high = config_read32(m, reg + 4);
            u64::from(high) << 32 | u64::from(low & !0xf)
        }
    };
    (!mask).wrapping_add(1)
}
