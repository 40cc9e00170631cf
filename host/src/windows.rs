//! Windows offered to the client as mmap-able memory (vfio-user sparse
//! mmap): the guest's accesses inside them reach the model's buffer with no
//! message at all.
//!
//! A window (the spec's `window`, a buffer shown in a BAR) is offered when
//! mapping it cannot change what the guest observes:
//! - it is in a memory BAR and writable (a read-only window must still drop
//!   the guest's writes, which only the model can do);
//! - its offset and length are multiples of the host page size (QEMU maps
//!   whole pages);
//! - its BAR's policy accepts every access RAM accepts (sizes 1, 2, 4 and 8,
//!   `unaligned`): through the mapping nothing enforces the policy;
//! - no other window of that BAR has a buffer shared elsewhere already (a
//!   region has one file descriptor).
//!
//! Windows have no side effects, so nothing else is lost; but accesses
//! through the mapping are not traced and not counted. For each BAR with an
//! offered window the host creates one memfd the size of the BAR (sparse:
//! only the windows' pages are ever touched), moves each offered window's
//! buffer into it at the window's BAR offset ([`PciModel::share_window`]),
//! and announces the region with `VFIO_REGION_INFO_FLAG_MMAP`, a sparse
//! mmap capability listing the windows, and the memfd. The device keeps
//! reading and writing the same bytes through its own mapping.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use pcidev_runtime::{AccessSizes, PciModel};
use rustix::fs::{MemfdFlags, memfd_create};
use vfio_bindings::bindings::vfio::{VFIO_REGION_INFO_FLAG_MMAP, vfio_region_sparse_mmap_area};
use vfio_user::{ServerRegion, SparseArea};

/// The host's page size (the granule of an mmap).
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; it reads a constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).ok().filter(|n| *n > 0).unwrap_or(4096)
}

/// One window offered as mmap-able: BAR, offset and length in the BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappedWindow {
    /// BAR index (= region index).
    pub bar: u8,
    /// Offset in the BAR (= in the region, and in the region's file).
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// The windows of `model` that may be mapped (see the module docs), by
/// window id.
pub fn mappable(model: &dyn PciModel) -> Vec<(usize, MappedWindow)> {
    let page = page_size();
    let all_sizes = AccessSizes(0b1111);
    model
        .windows()
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            let Some(bar) = model.info().bar(w.bar) else {
                return false;
            };
            w.writable
                && !bar.kind.is_io()
                && w.len > 0
                && w.offset % page == 0
                && w.len % page == 0
                && w.end() <= bar.size
                && bar.policy.sizes.0 & all_sizes.0 == all_sizes.0
                && !bar.policy.aligned
        })
        .map(|(i, w)| {
            (
                i,
                MappedWindow {
                    bar: w.bar,
                    offset: w.offset,
                    len: w.len,
                },
            )
        })
        .collect()
}

/// Share `model`'s mappable windows and announce them in `regions`
/// (indexed by region = BAR index). Returns the files backing them: keep
/// them open while the regions are served (the regions hold raw fds). A
/// window that cannot be shared is left to the socket, logged.
pub fn share(model: &mut dyn PciModel, regions: &mut [ServerRegion]) -> Vec<File> {
    let mut files: Vec<(u8, File)> = Vec::new();
    for (id, w) in mappable(model) {
        let Some(region) = regions.get_mut(usize::from(w.bar)) else {
            continue;
        };
        let bar_file = match files.iter().find(|(b, _)| *b == w.bar) {
            Some((_, f)) => f.try_clone(),
            None => new_memfd(model, w.bar),
        };
        let shared = bar_file.and_then(|f| model.share_window(id, f, w.offset));
        let (file, at) = match shared {
            Ok(x) => x,
            Err(e) => {
                log::warn!(
                    "window {id} (BAR {} + {:#x}) stays on the socket: {e}",
                    w.bar,
                    w.offset
                );
                continue;
            }
        };
        // The region's fd must be the file this window's bytes live in, at
        // the window's own offset.
        let same_file = |f: &File| same_inode(f, &file);
        match files.iter().find(|(b, _)| *b == w.bar) {
            Some((_, f)) if !same_file(f) || at != w.offset => {
                log::warn!(
                    "window {id} (BAR {} + {:#x}) is shared elsewhere already: it stays on the socket",
                    w.bar,
                    w.offset
                );
                continue;
            }
            Some(_) => {}
            None if at != w.offset => continue,
            None => files.push((w.bar, file)),
        }
        let fd = files
            .iter()
            .find(|(b, _)| *b == w.bar)
            .map(|(_, f)| f.as_raw_fd());
        region.region_info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
        region.region_info.offset = 0;
        region.mmap_fd = fd;
        region.sparse_areas.push(SparseArea {
            area: vfio_region_sparse_mmap_area {
                offset: w.offset,
                size: w.len,
            },
        });
        log::info!(
            "window {id}: BAR {} + {:#x}, {} bytes, offered mmap-able",
            w.bar,
            w.offset,
            w.len
        );
    }
    files.into_iter().map(|(_, f)| f).collect()
}

/// A memfd as large as BAR `bar` (sparse; sealed against shrinking, so a
/// client's mapping can never fault).
fn new_memfd(model: &dyn PciModel, bar: u8) -> io::Result<File> {
    let size = model.info().bar(bar).map_or(0, |b| b.size);
    let name = format!("pcidev-{}-bar{bar}", model.info().name);
    let fd = memfd_create(
        name.as_str(),
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let file = File::from(fd);
    file.set_len(size)?;
    rustix::fs::fcntl_add_seals(&file, rustix::fs::SealFlags::SHRINK)?;
    Ok(file)
}

fn same_inode(a: &File, b: &File) -> bool {
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.dev() == b.dev() && a.ino() == b.ino()
        }
        _ => false,
    }
}
