//! The client's DMA map: `VFIO_USER_DMA_MAP` / `DMA_UNMAP` turned into the
//! vm-memory [`GuestMem`] a model does its DMA through.
//!
//! QEMU's `vfio-user-pci` maps every RAM section of the guest's address space
//! (`hw/vfio-user/container.c`): with a file descriptor and its offset when
//! the RAM is fd-backed (`-object memory-backend-memfd,...,share=on`), and
//! without one otherwise (ROMs, or RAM that is not shared). Sections with a
//! descriptor are mmapped here (`MAP_SHARED`, read-write) and become regions
//! of the guest memory; sections without one (which the protocol would have
//! the server reach with `DMA_READ`/`DMA_WRITE` messages, which the
//! `vfio_user` crate cannot send) and read-only sections are remembered but
//! not accessible, so a model's DMA there ends as its runtime reports an
//! out-of-range transfer — a defined outcome, never a fault.
//!
//! A mapping is checked before it is made: non-empty, no wrap-around, no
//! overlap with an existing one, and inside the file (a mapping past the end
//! of a memfd would raise SIGBUS on first touch). A client that shrinks its
//! memfd after mapping it can still make accesses fault; QEMU seals its
//! memfds against that by default.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::sync::Arc;

use pcidev_runtime::GuestMem;
use vfio_user::{DmaMapFlags, DmaUnmapFlags};
use vm_memory::mmap::MmapRegion;
use vm_memory::{FileOffset, GuestAddress, GuestRegionMmap};

/// The most mappings one connection may hold (VFIO type1's default
/// `dma_entry_limit`; QEMU's `max_dma` default is the same).
pub(crate) const MAX_MAPPINGS: usize = 65535;

/// `VFIO_DMA_UNMAP_FLAG_ALL` as Linux and QEMU define it (`1 << 1`). The
/// `vfio_user` crate names bit 2 `UNMAP_ALL`; both are honoured.
const LINUX_UNMAP_ALL: u32 = 1 << 1;

#[derive(Debug)]
struct Mapping {
    size: u64,
    /// `None`: mapped by the client but not accessible here.
    region: Option<Arc<GuestRegionMmap<()>>>,
}

/// The current DMA mappings of one connection.
#[derive(Debug, Default)]
pub(crate) struct DmaSpace {
    /// By guest (I/O virtual) address.
    maps: BTreeMap<u64, Mapping>,
}

impl DmaSpace {
    /// Handle `DMA_MAP`. Returns whether the accessible memory changed.
    pub(crate) fn map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> io::Result<bool> {
        if size == 0 {
            return Err(invalid("empty DMA mapping"));
        }
        let end = address
            .checked_add(size)
            .ok_or_else(|| invalid("DMA mapping wraps around"))?;
        if self.maps.len() >= MAX_MAPPINGS {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "too many DMA mappings",
            ));
        }
        if self.overlaps(address, end) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "DMA mapping overlaps an existing one",
            ));
        }
        let writable = flags.contains(DmaMapFlags::READ_WRITE);
        let region = match fd {
            Some(file) if writable => Some(Arc::new(map_file(file, offset, address, size)?)),
            _ => None,
        };
        let changed = region.is_some();
        self.maps.insert(address, Mapping { size, region });
        Ok(changed)
    }

    /// Handle `DMA_UNMAP`: remove every mapping inside `[address, address +
    /// size)`, or all of them with the unmap-all flag. A mapping only partly
    /// inside the range is an error and nothing is removed. Returns whether
    /// the accessible memory changed.
    pub(crate) fn unmap(
        &mut self,
        flags: DmaUnmapFlags,
        address: u64,
        size: u64,
    ) -> io::Result<bool> {
        let all = flags.bits() & (LINUX_UNMAP_ALL | DmaUnmapFlags::UNMAP_ALL.bits()) != 0;
        if all {
            let changed = self.maps.values().any(|m| m.region.is_some());
            self.maps.clear();
            return Ok(changed);
        }
        let end = address
            .checked_add(size)
            .ok_or_else(|| invalid("DMA unmap range wraps around"))?;
        let inside: Vec<u64> = self
            .maps
            .range(..end)
            .filter(|(start, m)| **start + m.size > address)
            .map(|(start, m)| {
                if *start >= address && *start + m.size <= end {
                    Ok(*start)
                } else {
                    Err(invalid("DMA unmap range splits a mapping"))
                }
            })
            .collect::<io::Result<_>>()?;
        let mut changed = false;
        for start in inside {
            if let Some(m) = self.maps.remove(&start) {
                changed |= m.region.is_some();
            }
        }
        Ok(changed)
    }

    /// The accessible guest memory now (`None` when nothing is).
    pub(crate) fn memory(&self) -> Option<Arc<GuestMem>> {
        let regions: Vec<_> = self
            .maps
            .values()
            .filter_map(|m| m.region.clone())
            .collect();
        if regions.is_empty() {
            return None;
        }
        // Sorted (BTreeMap order) and non-overlapping (checked in `map`),
        // so this cannot fail; never panic if it somehow does.
        GuestMem::from_arc_regions(regions).ok().map(Arc::new)
    }

    /// Number of mappings, accessible or not.
    pub(crate) fn len(&self) -> usize {
        self.maps.len()
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.maps
            .range(..end)
            .next_back()
            .is_some_and(|(s, m)| s + m.size > start)
    }
}

/// mmap `size` bytes of `file` at `offset` (shared, read-write) as guest
/// memory at `address`.
fn map_file(file: File, offset: u64, address: u64, size: u64) -> io::Result<GuestRegionMmap<()>> {
    let file_len = file.metadata()?.len();
    if offset.checked_add(size).is_none_or(|end| end > file_len) {
        return Err(invalid("DMA mapping extends past the end of its file"));
    }
    let len = usize::try_from(size).map_err(|_| invalid("DMA mapping too large"))?;
    let mapping = MmapRegion::<()>::from_file(FileOffset::new(file, offset), len)
        .map_err(|e| io::Error::other(format!("mmap of a DMA mapping failed: {e}")))?;
    GuestRegionMmap::new(mapping, GuestAddress(address))
        .ok_or_else(|| invalid("DMA mapping wraps around"))
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{MemfdFlags, memfd_create};
    use std::io::{Read, Seek, SeekFrom};
    use vm_memory::{Bytes, GuestMemoryBackend};

    fn memfd(len: u64) -> File {
        let file = File::from(memfd_create("dma-test", MemfdFlags::CLOEXEC).unwrap());
        file.set_len(len).unwrap();
        file
    }

    const RW: DmaMapFlags = DmaMapFlags::READ_WRITE;

    #[test]
    fn mapped_memfd_is_guest_memory() {
        let mut file = memfd(0x4000);
        let mut dma = DmaSpace::default();
        assert!(
            dma.map(
                RW,
                0x1000,
                0x10_0000,
                0x2000,
                Some(file.try_clone().unwrap())
            )
            .unwrap()
        );
        let mem = dma.memory().unwrap();
        assert!(mem.check_range(GuestAddress(0x10_0000), 0x2000));
        assert!(!mem.check_range(GuestAddress(0x10_0000), 0x2001));
        mem.write_slice(b"dma!", GuestAddress(0x10_0010)).unwrap();
        let mut buf = [0; 4];
        file.seek(SeekFrom::Start(0x1010)).unwrap();
        file.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"dma!");

        assert!(
            dma.unmap(DmaUnmapFlags::empty(), 0x10_0000, 0x2000)
                .unwrap()
        );
        assert!(dma.memory().is_none());
    }

    #[test]
    fn bad_mappings_are_refused() {
        let file = memfd(0x2000);
        let mut dma = DmaSpace::default();
        let f = || Some(file.try_clone().unwrap());
        assert!(dma.map(RW, 0, 0, 0, f()).is_err());
        assert!(dma.map(RW, 0, u64::MAX - 0xfff, 0x2000, f()).is_err());
        // Past the end of the file, and an offset that would wrap.
        assert!(dma.map(RW, 0x1000, 0, 0x2000, f()).is_err());
        assert!(dma.map(RW, u64::MAX, 0, 0x1000, f()).is_err());
        // Not page aligned: mmap refuses.
        assert!(dma.map(RW, 0x10, 0, 0x1000, f()).is_err());
        assert_eq!(dma.len(), 0);

        dma.map(RW, 0, 0x1000, 0x1000, f()).unwrap();
        assert!(dma.map(RW, 0, 0x1800, 0x1000, f()).is_err());
        assert!(dma.map(RW, 0, 0x800, 0x1000, f()).is_err());
        assert!(dma.map(RW, 0, 0x2000, 0x1000, f()).is_ok());
        // A range splitting a mapping removes nothing.
        assert!(dma.unmap(DmaUnmapFlags::empty(), 0x1800, 0x1000).is_err());
        assert!(dma.unmap(DmaUnmapFlags::empty(), u64::MAX, 2).is_err());
        assert_eq!(dma.len(), 2);
        // Unmapping a range with nothing in it is fine.
        assert!(!dma.unmap(DmaUnmapFlags::empty(), 0x8000, 0x1000).unwrap());
        // The mapping count is bounded.
        let mut full = DmaSpace::default();
        for i in 0..MAX_MAPPINGS as u64 {
            full.map(RW, 0, i * 0x1000, 0x1000, None).unwrap();
        }
        assert!(full.map(RW, 0, 1 << 40, 0x1000, None).is_err());
        // Both in one range.
        assert!(dma.unmap(DmaUnmapFlags::empty(), 0, 0x10000).unwrap());
        assert_eq!(dma.len(), 0);
    }

    #[test]
    fn unbacked_and_read_only_mappings_are_not_accessible() {
        let file = memfd(0x1000);
        let mut dma = DmaSpace::default();
        assert!(!dma.map(RW, 0, 0xc0000, 0x1000, None).unwrap());
        assert!(
            !dma.map(DmaMapFlags::READ, 0, 0xd0000, 0x1000, Some(file))
                .unwrap()
        );
        assert_eq!(dma.len(), 2);
        assert!(dma.memory().is_none());
        // QEMU's unmap-all uses Linux's bit 1.
        assert!(
            !dma.unmap(DmaUnmapFlags::from_bits_retain(LINUX_UNMAP_ALL), 0, 0)
                .unwrap()
        );
        assert_eq!(dma.len(), 0);
    }
}
