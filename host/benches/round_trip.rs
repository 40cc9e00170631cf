//! The server's share of a guest MMIO round trip: one 4-byte BAR read and
//! write through `pcidev-host`'s vfio-user server, from a client in this
//! process (the `vfio_user` crate's own `Client`), no QEMU involved.
//! Compare with `cargo xtask bench`, which times the same read from inside a
//! guest. Run: `cargo bench -p pcidev-host --bench round_trip`.

use criterion::{Criterion, criterion_group, criterion_main};
use pcidev_host::{DeviceServer, toy};
use vfio_user::Client;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sock");
    let server = DeviceServer::bind(&path).expect("bind");
    let thread = std::thread::spawn(move || {
        let mut model = toy::model();
        let _ = server.serve(&mut model);
    });
    let mut client = Client::new(&path).expect("connect");
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
    let _ = thread.join();
}

criterion_group!(benches, bench);
criterion_main!(benches);
