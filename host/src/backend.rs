//! [`ModelBackend`]: the `vfio_user` crate's [`ServerBackend`] over a
//! [`PciModel`].
//!
//! Region accesses are bounds-checked against the [`Layout`] (an access to a
//! region the device lacks, or past a region's end, is refused with
//! `EINVAL`) and then go to the model. A BAR access the model itself rejects
//! ([`AccessError`](pcidev_runtime::AccessError), under an `error` access
//! policy) is *not* an error on the wire: like an access QEMU's memory core
//! refuses for one of its own devices, the read returns the all-ones the
//! model filled in and the write is dropped; the model's trace records it
//! and [`BackendStats::access_errors`] counts it. (An error reply would only
//! make QEMU print a warning and return all-ones anyway.)

use std::fs::File;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use pcidev_runtime::PciModel;
use vfio_user::{DmaMapFlags, DmaUnmapFlags, ServerBackend};

use crate::dma::DmaSpace;
use crate::events::{Hub, LockedModel};
use crate::irq::{self, EventfdSink, IrqCounters, IrqState, SharedIrqState, lock};
use crate::layout::{Layout, RegionKind};

/// What a connection did, for tests and the end-of-connection summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendStats {
    /// Configuration space reads and writes.
    pub config_accesses: u64,
    /// BAR reads and writes that reached the model.
    pub bar_accesses: u64,
    /// BAR accesses the model rejected (answered all-ones / dropped).
    pub access_errors: u64,
    /// `DMA_MAP` requests accepted.
    pub dma_maps: u64,
    /// `DMA_UNMAP` requests accepted.
    pub dma_unmaps: u64,
    /// Device resets.
    pub resets: u64,
    /// Interrupt delivery counters.
    pub irq: IrqCounters,
}

/// Serves one model to one vfio-user connection.
pub struct ModelBackend<'m> {
    model: &'m mut dyn PciModel,
    layout: Layout,
    irq: SharedIrqState,
    dma: DmaSpace,
    stats: BackendStats,
    /// The model's clock, streams and VMM requests (see [`crate::events`]).
    hub: Option<Arc<Hub>>,
}

impl std::fmt::Debug for ModelBackend<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelBackend")
            .field("device", &self.model.info().name)
            .field("layout", &self.layout)
            .field("dma_mappings", &self.dma.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<'m> ModelBackend<'m> {
    /// A backend for `model`: installs an eventfd interrupt sink in it and
    /// gives it no guest memory until the client maps some.
    pub fn new(model: &'m mut dyn PciModel) -> Self {
        let layout = Layout::new(model.info());
        let irq = Arc::new(std::sync::Mutex::new(IrqState::new(
            layout.has_intx(),
            layout.msi_vectors(),
        )));
        lock(&irq).set_msix_vectors(layout.msix_vectors());
        // QEMU's vfio-user-pci emulates the MSI-X table and masking; the
        // server only signals the vector's eventfd (see `irq`).
        model.set_msix_masking_by_vmm(true);
        model.set_guest_memory(None);
        model.set_interrupt_sink(Box::new(EventfdSink::new(Arc::clone(&irq))));
        ModelBackend {
            model,
            layout,
            irq,
            dma: DmaSpace::default(),
            stats: BackendStats::default(),
            hub: None,
        }
    }

    /// Connect the model to a hub: its clock is set before every access and
    /// its streams, requests and next deadline are collected after it.
    pub fn set_hub(&mut self, hub: Arc<Hub>) {
        self.hub = Some(hub);
    }

    fn before_access(&mut self) {
        if let Some(h) = &self.hub {
            self.model.set_now(h.now());
        }
    }

    /// After an access (or a timer firing): input delivered, output and
    /// requests collected, then the interrupt line brought in step.
    fn after_access(&mut self) {
        if let Some(h) = &self.hub {
            h.after_access(&mut *self.model);
        }
        self.sync_line();
    }

    /// The region and irq layout served.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// What the connection did so far.
    pub fn stats(&self) -> BackendStats {
        BackendStats {
            irq: irq::lock(&self.irq).counters(),
            ..self.stats
        }
    }

    /// End of the connection: the model loses its guest memory (unmapping
    /// it) and its eventfds are closed. Also done on drop.
    pub fn finish(&mut self) {
        self.model.set_guest_memory(None);
        self.dma = DmaSpace::default();
        irq::lock(&self.irq).clear();
    }

    /// Check an access of `len` bytes at `offset` of `region`.
    fn target(&self, region: u32, offset: u64, len: usize) -> io::Result<RegionKind> {
        let (kind, size) = self.layout.region(region);
        let fits = offset
            .checked_add(len as u64)
            .is_some_and(|end| end <= size);
        if kind == RegionKind::Absent || !fits {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("access of {len} bytes at {offset:#x} outside region {region}"),
            ));
        }
        Ok(kind)
    }

    /// Keep the eventfd side in step with the model's line, in case an edge
    /// was reported before the sink existed.
    fn sync_line(&mut self) {
        let line = self.model.interrupt_asserted();
        irq::lock(&self.irq).set_line(line);
    }
}

impl Drop for ModelBackend<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl ServerBackend for ModelBackend<'_> {
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()> {
        let kind = self.target(region, offset, data.len())?;
        self.before_access();
        match kind {
            RegionKind::Config => {
                self.stats.config_accesses += 1;
                self.model.config_read(offset, data);
            }
            RegionKind::Bar(bar) => {
                self.stats.bar_accesses += 1;
                if let Err(e) = self.model.bar_read(bar, offset, data) {
                    self.stats.access_errors += 1;
                    log::debug!("{}: {e}", self.model.info().name);
                }
            }
            RegionKind::Absent => {}
        }
        self.after_access();
        Ok(())
    }

    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> io::Result<()> {
        let kind = self.target(region, offset, data.len())?;
        self.before_access();
        match kind {
            RegionKind::Config => {
                self.stats.config_accesses += 1;
                self.model.config_write(offset, data);
            }
            RegionKind::Bar(bar) => {
                self.stats.bar_accesses += 1;
                if let Err(e) = self.model.bar_write(bar, offset, data) {
                    self.stats.access_errors += 1;
                    log::debug!("{}: {e}", self.model.info().name);
                }
            }
            RegionKind::Absent => {}
        }
        self.after_access();
        Ok(())
    }

    fn dma_map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> io::Result<()> {
        let backed = fd.is_some();
        let changed = self.dma.map(flags, offset, address, size, fd)?;
        log::debug!(
            "dma_map {address:#x}+{size:#x} offset {offset:#x} flags {:#x}{}",
            flags.bits(),
            if changed {
                ""
            } else if backed {
                " (read-only: not accessible)"
            } else {
                " (no fd: not accessible)"
            }
        );
        self.stats.dma_maps += 1;
        if changed {
            self.model.set_guest_memory(self.dma.memory());
        }
        Ok(())
    }

    fn dma_unmap(&mut self, flags: DmaUnmapFlags, address: u64, size: u64) -> io::Result<()> {
        let changed = self.dma.unmap(flags, address, size)?;
        log::debug!("dma_unmap {address:#x}+{size:#x} flags {:#x}", flags.bits());
        self.stats.dma_unmaps += 1;
        if changed {
            self.model.set_guest_memory(self.dma.memory());
        }
        Ok(())
    }

    fn reset(&mut self) -> io::Result<()> {
        self.stats.resets += 1;
        self.model.reset();
        irq::lock(&self.irq).reset();
        self.after_access();
        Ok(())
    }

    fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        log::debug!(
            "set_irqs index {index} flags {flags:#x} start {start} count {count} fds {}",
            fds.len()
        );
        irq::lock(&self.irq).set_irqs(index, flags, start, count, fds)
    }
}

/// A [`ModelBackend`] shared by the `vfio_user` server's thread (every
/// command) and the guard's fast path (region reads and writes): each call
/// takes the lock for its duration.
#[derive(Debug)]
pub struct SharedBackend<'b, 'm>(pub &'b Mutex<ModelBackend<'m>>);

/// Lock a shared backend; a panic while it was held does not leave it
/// unusable (the model's state stays as consistent as the access left it).
pub(crate) fn lock_backend<'b, 'm>(
    b: &'b Mutex<ModelBackend<'m>>,
) -> MutexGuard<'b, ModelBackend<'m>> {
    b.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ServerBackend for SharedBackend<'_, '_> {
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()> {
        lock_backend(self.0).region_read(region, offset, data)
    }
    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> io::Result<()> {
        lock_backend(self.0).region_write(region, offset, data)
    }
    fn dma_map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> io::Result<()> {
        lock_backend(self.0).dma_map(flags, offset, address, size, fd)
    }
    fn dma_unmap(&mut self, flags: DmaUnmapFlags, address: u64, size: u64) -> io::Result<()> {
        lock_backend(self.0).dma_unmap(flags, address, size)
    }
    fn reset(&mut self) -> io::Result<()> {
        lock_backend(self.0).reset()
    }
    fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        lock_backend(self.0).set_irqs(index, flags, start, count, fds)
    }
}

impl LockedModel for Mutex<ModelBackend<'_>> {
    fn with_model(&self, f: &mut dyn FnMut(&mut dyn PciModel)) {
        let mut b = lock_backend(self);
        b.before_access();
        f(&mut *b.model);
        b.after_access();
    }
}

impl crate::guard::RegionAccess for Mutex<ModelBackend<'_>> {
    fn region_read(&self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()> {
        lock_backend(self).region_read(region, offset, data)
    }
    fn region_write(&self, region: u32, offset: u64, data: &[u8]) -> io::Result<()> {
        lock_backend(self).region_write(region, offset, data)
    }
}
