//! What the examples share: a toy "VMM" around one generated model.
//!
//! [`Vm::new`] does what firmware and a rust-vmm VMM do with a PCI function:
//! gives it guest memory and an interrupt line, sizes and programs its BARs
//! in configuration space, enables decoding and bus mastering
//! (`pcidev_runtime::program_bars`), and registers every BAR on a
//! `vm_device::device_manager::IoManager` (`pcidev_runtime::register_bars`:
//! I/O BARs as PIO ranges, memory BARs as MMIO ranges). After that, guest accesses go
//! through the bus only ([`Vm::read`], [`Vm::write`]), exactly as a vCPU
//! exit handler would dispatch them.
//!
//! Used by `examples/io_manager.rs` (the CLI-generated `hello_tic`),
//! `examples/macro_hello_tic.rs` (models from `#[pci_device]`) and the tests.

use std::error::Error;
use std::sync::{Arc, Mutex};

pub use pcidev_runtime::MappedBar;
use pcidev_runtime::vm_device::bus::{MmioAddress, PioAddress};
use pcidev_runtime::vm_device::device_manager::{IoManager, MmioManager, PioManager};
use pcidev_runtime::vm_memory::GuestAddress;
use pcidev_runtime::{
    GuestMem, InterruptSink, Model, MsiMessage, Registers, program_bars, register_bars,
};

/// Errors of the examples (bus registration, bus accesses, guest memory).
pub type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Guest RAM: everything below the legacy VGA window (0xa0000), and 4 MiB
/// from 1 MiB, like a small PC. 0xa0000 itself is not RAM.
pub const RAM: [(u64, usize); 2] = [(0, 0xa_0000), (0x10_0000, 0x40_0000)];

/// A guest-physical address in RAM the examples use as a DMA buffer.
pub const DMA_BUFFER: u64 = 0x20_0000;

/// Where firmware puts I/O BARs, and memory BARs.
pub const IO_WINDOW: u16 = 0xc000;
/// Start of the 32-bit MMIO window (below the 0xfec00000 hole).
pub const MMIO_WINDOW: u64 = 0xfe00_0000;

/// The INTx line (and MSI messages) as an interrupt controller sees them.
#[derive(Debug, Clone, Default)]
pub struct IrqLine {
    inner: Arc<Mutex<IrqState>>,
}

#[derive(Debug, Default)]
struct IrqState {
    level: bool,
    edges: Vec<bool>,
    msi: Vec<(u8, MsiMessage)>,
    msix: Vec<(u16, MsiMessage)>,
}

impl IrqLine {
    /// Is the line asserted now?
    pub fn asserted(&self) -> bool {
        self.lock().level
    }

    /// The edges seen since the last call (true = asserted).
    pub fn take_edges(&self) -> Vec<bool> {
        std::mem::take(&mut self.lock().edges)
    }

    /// MSI messages (vector, message) delivered since the last call.
    pub fn take_msi(&self) -> Vec<(u8, MsiMessage)> {
        std::mem::take(&mut self.lock().msi)
    }

    /// MSI-X messages (vector, message) delivered since the last call.
    pub fn take_msix(&self) -> Vec<(u16, MsiMessage)> {
        std::mem::take(&mut self.lock().msix)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IrqState> {
        // A poisoned lock only means another thread panicked mid-push; the
        // recorded edges are still meaningful.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl InterruptSink for IrqLine {
    fn set_intx(&mut self, asserted: bool) {
        let mut s = self.lock();
        s.level = asserted;
        s.edges.push(asserted);
    }
    fn msi(&mut self, vector: u8, message: MsiMessage) {
        self.lock().msi.push((vector, message));
    }
    fn msix(&mut self, vector: u16, message: MsiMessage) {
        self.lock().msix.push((vector, message));
    }
}

/// A model on a bus: the device, the bus, guest memory, the interrupt line.
pub struct Vm<R: Registers> {
    /// The bus every guest access goes through.
    pub io: IoManager,
    /// The device, shared with the bus (vm-device's `Mutex<T: MutDevice*>`).
    pub dev: Arc<Mutex<Model<R>>>,
    /// Guest memory the device DMAs into.
    pub mem: Arc<GuestMem>,
    /// The device's interrupt line.
    pub irq: IrqLine,
    /// The BARs, as firmware assigned them.
    pub bars: Vec<MappedBar>,
}

impl<R: Registers> std::fmt::Debug for Vm<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // vm-device's IoManager has no Debug; show what was mapped instead.
        f.debug_struct("Vm")
            .field("device", &self.dev.lock().map(|d| d.info().name).ok())
            .field("irq", &self.irq)
            .field("bars", &self.bars)
            .finish_non_exhaustive()
    }
}

impl<R: Registers> Vm<R> {
    /// Plug `model` in like firmware + a VMM (see the crate docs).
    pub fn new(mut model: Model<R>) -> Result<Self> {
        let ranges: Vec<(GuestAddress, usize)> =
            RAM.iter().map(|&(a, l)| (GuestAddress(a), l)).collect();
        let mem = Arc::new(GuestMem::from_ranges(&ranges)?);
        model.set_guest_memory(Some(mem.clone()));
        let irq = IrqLine::default();
        model.set_interrupt_sink(Box::new(irq.clone()));

        // Firmware: size, place and program every BAR, enable decoding;
        // then the VMM puts each BAR's range on the bus.
        let bars = program_bars(&mut model, u64::from(IO_WINDOW), MMIO_WINDOW);
        let dev = Arc::new(Mutex::new(model));
        let mut io = IoManager::new();
        register_bars(&mut io, &dev, &bars)?;
        Ok(Vm {
            io,
            dev,
            mem,
            irq,
            bars,
        })
    }

    /// The BAR with this index.
    pub fn bar(&self, index: u8) -> Result<MappedBar> {
        self.bars
            .iter()
            .copied()
            .find(|b| b.index == index)
            .ok_or_else(|| format!("the device has no BAR {index}").into())
    }

    /// A guest read of `data.len()` bytes at `bar + offset`, through the bus.
    pub fn read(&self, bar: u8, offset: u64, data: &mut [u8]) -> Result<()> {
        let b = self.bar(bar)?;
        if b.kind.is_io() {
            let port = u16::try_from(b.base + offset)?;
            self.io.pio_read(PioAddress(port), data)?;
        } else {
            self.io.mmio_read(MmioAddress(b.base + offset), data)?;
        }
        Ok(())
    }

    /// A guest write at `bar + offset`, through the bus.
    pub fn write(&self, bar: u8, offset: u64, data: &[u8]) -> Result<()> {
        let b = self.bar(bar)?;
        if b.kind.is_io() {
            let port = u16::try_from(b.base + offset)?;
            self.io.pio_write(PioAddress(port), data)?;
        } else {
            self.io.mmio_write(MmioAddress(b.base + offset), data)?;
        }
        Ok(())
    }

    /// `inl` / `readl`.
    pub fn read32(&self, bar: u8, offset: u64) -> Result<u32> {
        let mut b = [0; 4];
        self.read(bar, offset, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// `outl` / `writel`.
    pub fn write32(&self, bar: u8, offset: u64, value: u32) -> Result<()> {
        self.write(bar, offset, &value.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcidev_runtime::BarKind;

    #[test]
    fn firmware_sizes_and_maps_hello_tic() {
        let vm = Vm::new(pcidev_models::hello_tic::model()).unwrap();
        assert_eq!(
            vm.bars,
            [
                MappedBar {
                    index: 0,
                    kind: BarKind::Io,
                    size: 16,
                    base: u64::from(IO_WINDOW)
                },
                MappedBar {
                    index: 1,
                    kind: BarKind::Mem32 {
                        prefetchable: false
                    },
                    size: 64,
                    base: MMIO_WINDOW
                },
            ]
        );
        let dev = vm.dev.lock().unwrap();
        assert_eq!(dev.config().bar_address(0), Some(u64::from(IO_WINDOW)));
        assert_eq!(dev.config().bar_address(1), Some(MMIO_WINDOW));
        assert!(dev.config().io_enabled() && dev.config().mem_enabled());
        assert!(dev.config().bus_master_enabled());
    }

    #[test]
    fn unknown_bar_is_an_error_not_a_panic() {
        let vm = Vm::new(pcidev_models::hello_tic::model()).unwrap();
        assert!(vm.read32(5, 0).is_err());
        assert!(vm.write32(3, 0, 1).is_err());
    }
}
