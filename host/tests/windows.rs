//! Memory-backed windows, served: ivshmem-plain's 1 MiB shared memory
//! (`specs/ivshmem_plain.pcidev`, BAR 2).
//!
//! - On the model: every access size at every offset of the window's edges
//!   and of a few pages inside reads back what was written, little-endian,
//!   the same bytes the device's own actions see; hostile offsets (past the
//!   end, straddling it, near `u64::MAX`) never panic and never touch the
//!   buffer.
//! - Over vfio-user: BAR 2 is announced mmap-able (sparse mmap capability
//!   and an fd); bytes written through the client's mapping are what the
//!   model reads and what socket reads return, and the other way round;
//!   BAR 0 stays message-only.

use std::os::unix::fs::FileExt;

use pcidev_models::ivshmem_plain;
use pcidev_runtime::{COMMAND_MEMORY_SPACE, Model};
use vfio_bindings::bindings::vfio::VFIO_REGION_INFO_FLAG_MMAP;
use vfio_user::Client;

mod common;
use common::served::Serving;

type Ivshmem = Model<ivshmem_plain::Device<ivshmem_plain::NoHooks>>;

const SHM: u64 = 1 << 20;

fn model() -> Ivshmem {
    let mut m = ivshmem_plain::model();
    m.config_write(4, &COMMAND_MEMORY_SPACE.to_le_bytes());
    m
}

/// A value whose bytes differ from each other and from their offset.
fn pattern(offset: u64, len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| ((offset + i).wrapping_mul(0x9e) ^ 0x5a) as u8)
        .collect()
}

#[test]
fn every_size_at_every_edge_offset() {
    let mut m = model();
    let mut offsets: Vec<u64> = (0..64).collect();
    offsets.extend(SHM - 64..SHM);
    offsets.extend(0x7ff8..0x8008);
    for size in [1usize, 2, 4, 8] {
        for &off in &offsets {
            if off + size as u64 > SHM {
                continue;
            }
            let data = pattern(off, size);
            m.bar_write(2, off, &data).unwrap();
            let mut back = vec![0; size];
            m.bar_read(2, off, &mut back).unwrap();
            assert_eq!(back, data, "{size} bytes at {off:#x}");
            // The device sees the same bytes, in order.
            assert_eq!(
                &m.regs.state.shm[off as usize..off as usize + size],
                &data[..],
                "{size} bytes at {off:#x}: buffer"
            );
            // And one byte at a time, little-endian.
            for (i, b) in data.iter().enumerate() {
                let mut one = [0];
                m.bar_read(2, off + i as u64, &mut one).unwrap();
                assert_eq!(one[0], *b);
            }
        }
    }
}

#[test]
fn device_writes_are_seen_by_the_guest() {
    let mut m = model();
    m.bar_write(2, 0, &0x1234_5678u32.to_le_bytes()).unwrap();
    m.bar_write(0, 0x10, &1u32.to_le_bytes()).unwrap(); // PEER_PING
    let mut q = [0; 8];
    m.bar_read(2, 0, &mut q).unwrap();
    assert_eq!(u64::from_le_bytes(q), 0xedcb_a987_1234_5678);
    m.regs.state.shm[SHM as usize - 1] = 0xc3;
    let mut last = [0; 2];
    m.bar_read(2, SHM - 2, &mut last).unwrap();
    assert_eq!(last, [0, 0xc3]);
    // Sticky: a device reset leaves the shared memory alone.
    m.reset();
    m.config_write(4, &COMMAND_MEMORY_SPACE.to_le_bytes());
    m.bar_read(2, 0, &mut q).unwrap();
    assert_eq!(u64::from_le_bytes(q), 0xedcb_a987_1234_5678);
}

#[test]
fn hostile_offsets_never_touch_the_buffer() {
    let mut m = model();
    let before = m.regs.state.shm.clone();
    for size in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 16] {
        for off in [
            SHM - 1,
            SHM - 4,
            SHM - 7,
            SHM,
            SHM + 1,
            1 << 32,
            u64::MAX,
            u64::MAX - 3,
            u64::MAX - 7,
        ] {
            let data = vec![0xee; size];
            let fits = size > 0
                && size <= 8
                && size.is_power_of_two()
                && off.checked_add(size as u64).is_some_and(|e| e <= SHM);
            let _ = m.bar_write(2, off, &data);
            let mut back = vec![0x11; size];
            let _ = m.bar_read(2, off, &mut back);
            if !fits {
                assert!(back.iter().all(|b| *b == 0), "{size} at {off:#x}: {back:?}");
            }
        }
        // Unknown BARs and BARs without the window.
        for bar in [1u8, 3, 4, 5, 6, 200] {
            let _ = m.bar_write(bar, 0, &vec![0xee; size]);
        }
    }
    // Only in-range accesses (at SHM - 1, - 4, - 7 with sizes that fit)
    // changed bytes, all in the last 8.
    let after = &m.regs.state.shm;
    assert_eq!(&after[..SHM as usize - 8], &before[..SHM as usize - 8]);
}

// ------------------------------------------------------------------ vfio-user

#[test]
fn the_window_is_offered_mmap_able_and_shared_both_ways() {
    let mut m = model();
    m.bar_write(2, 0x100, b"befo").unwrap();
    m.bar_write(2, 0x104, b"re").unwrap();
    let serving = Serving::start(m);
    let mut client = Client::new(&serving.path).unwrap();

    let bar0 = client.region(0).unwrap();
    assert_eq!(
        bar0.flags & VFIO_REGION_INFO_FLAG_MMAP,
        0,
        "registers stay on the socket"
    );
    assert!(bar0.sparse_areas.is_empty() && bar0.file_offset.is_none());
    let bar2 = client.region(2).unwrap();
    assert_ne!(bar2.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
    assert_eq!(bar2.size, SHM);
    let areas: Vec<(u64, u64)> = bar2
        .sparse_areas
        .iter()
        .map(|a| (a.offset, a.size))
        .collect();
    assert_eq!(areas, [(0, SHM)]);
    let fo = bar2.file_offset.as_ref().expect("an fd for BAR 2");
    let file = fo.file().try_clone().unwrap();
    let base = fo.start();

    // What the model held before is in the file: the buffer moved, intact.
    let mut six = [0; 6];
    file.read_exact_at(&mut six, base + 0x100).unwrap();
    assert_eq!(&six, b"before");

    // The client writes "through its mapping" (the fd): socket reads and
    // the model's own action see it.
    file.write_all_at(&0x1234_5678u32.to_le_bytes(), base)
        .unwrap();
    let mut four = [0; 4];
    client.region_read(2, 0, &mut four).unwrap();
    assert_eq!(u32::from_le_bytes(four), 0x1234_5678);
    client.region_write(0, 0x10, &1u32.to_le_bytes()).unwrap(); // PEER_PING
    file.read_exact_at(&mut four, base + 4).unwrap();
    assert_eq!(
        u32::from_le_bytes(four),
        0xedcb_a987,
        "the peer's answer, in the mapping"
    );

    // Socket writes land in the mapping, up to the last byte.
    client
        .region_write(2, SHM - 8, &[1, 2, 3, 4, 5, 6, 7, 8])
        .unwrap();
    let mut eight = [0; 8];
    file.read_exact_at(&mut eight, base + SHM - 8).unwrap();
    assert_eq!(eight, [1, 2, 3, 4, 5, 6, 7, 8]);

    // A real mapping, as QEMU makes one.
    // SAFETY: a fresh shared mapping of the region's fd at its offset, the
    // area's length; unmapped below before `file` is dropped.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SHM as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            std::os::fd::AsRawFd::as_raw_fd(&file),
            base as libc::off_t,
        )
    };
    assert_ne!(ptr, libc::MAP_FAILED);
    // SAFETY: `ptr` maps SHM bytes; the offsets are inside.
    unsafe {
        std::ptr::write_volatile(ptr.cast::<u8>().add(0x8000), 0x77);
        assert_eq!(
            std::ptr::read_volatile(ptr.cast::<u8>().add(SHM as usize - 1)),
            8
        );
    }
    let mut one = [0];
    client.region_read(2, 0x8000, &mut one).unwrap();
    assert_eq!(one, [0x77]);
    // SAFETY: unmapping what was mapped above.
    assert_eq!(unsafe { libc::munmap(ptr, SHM as usize) }, 0);

    drop(client);
    let (result, model) = serving.join();
    result.unwrap();
    assert_eq!(model.regs.state.shm[0x8000], 0x77);
    assert_eq!(&model.regs.state.shm[4..8], &0xedcb_a987u32.to_le_bytes());
}
