//! The server's share of a guest MMIO round trip: one 4-byte BAR read and
//! write through `pcidev-host`'s vfio-user server, from a client in this
//! process (the `vfio_user` crate's own `Client`), no QEMU involved.
//! Compare with `cargo xtask bench`, which times the same read from inside a
//! guest. Run: `cargo bench -p pcidev-host --bench round_trip`.
//!
//! `window_*`: a 4-byte read of ivshmem_plain's shared-memory window (BAR 2)
//! over the socket, and the same read through the mapping of the fd the
//! server offers for it (what a guest access costs once QEMU maps it: a
//! memory load, no message).

use criterion::{Criterion, criterion_group, criterion_main};
use pcidev_host::toy;

#[path = "../tests/common/served.rs"]
mod served;
use served::Serving;

fn bench(c: &mut Criterion) {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    // COMMAND: memory and I/O decoding on.
    client
        .region_write(7, 0x04, &3u16.to_le_bytes())
        .expect("enable");
    let mut g = c.benchmark_group("vfio_user_round_trip");
    g.bench_function("bar_read_4", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            client.region_read(0, 0, &mut d).expect("read");
            d
        })
    });
    g.bench_function("bar_write_4", |b| {
        b.iter(|| {
            client
                .region_write(0, 4, &1u32.to_le_bytes())
                .expect("write")
        })
    });
    g.finish();
    drop(client);
    let _ = serving.join();
    window(c);
}

fn window(c: &mut Criterion) {
    let serving = Serving::start(pcidev_models::ivshmem_plain::model());
    let mut client = serving.client();
    client
        .region_write(7, 0x04, &2u16.to_le_bytes())
        .expect("enable");
    client
        .region_write(2, 0x40, &0x1234_5678u32.to_le_bytes())
        .expect("write");
    let region = client.region(2).expect("BAR 2");
    let fo = region
        .file_offset
        .as_ref()
        .expect("BAR 2 is offered mmap-able");
    let len = region.size as usize;
    // SAFETY: a fresh shared read-only mapping of the offered fd at its
    // offset, the region's length; unmapped below.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            std::os::fd::AsRawFd::as_raw_fd(fo.file()),
            fo.start() as libc::off_t,
        )
    };
    assert_ne!(base, libc::MAP_FAILED, "mmap");
    let word = base.cast::<u8>().wrapping_add(0x40).cast::<u32>();
    let mut g = c.benchmark_group("window");
    g.bench_function("window_read_4_socket", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            client.region_read(2, 0x40, &mut d).expect("read");
            d
        })
    });
    g.bench_function("window_read_4_mapped", |b| {
        // SAFETY: `word` lies inside the live mapping, 4-byte aligned.
        b.iter(|| unsafe { std::ptr::read_volatile(word) })
    });
    g.finish();
    // SAFETY: `word` is inside the mapping; unmapping what was mapped.
    unsafe {
        assert_eq!(std::ptr::read_volatile(word), 0x1234_5678);
        libc::munmap(base, len);
    }
    drop(client);
    let _ = serving.join();
}

criterion_group!(benches, bench);
criterion_main!(benches);
