//! Configuration-space registers over vfio-user: the generated i6300esb
//! model served by `pcidev-host`'s server, driven through region 7 (config
//! space) as QEMU forwards a guest's `pci_read/write_config_*`: ESB_CONFIG
//! (0x60, 2-byte accesses only) and ESB_LOCK (0x68, 1-byte accesses only)
//! reach the model, other sizes see plain configuration memory, and enabling
//! the watchdog through ESB_LOCK arms its timer.

use pcidev_host::DeviceServer;
use pcidev_runtime::{Model, PciModel};
use vfio_user::Client;

const CONFIG: u32 = 7;

fn read(client: &mut Client, offset: u64, len: usize) -> u64 {
    let mut data = [0u8; 8];
    client
        .region_read(CONFIG, offset, &mut data[..len])
        .unwrap();
    u64::from_le_bytes(data)
}

fn write(client: &mut Client, offset: u64, value: u64, len: usize) {
    client
        .region_write(CONFIG, offset, &value.to_le_bytes()[..len])
        .unwrap();
}

#[test]
fn watchdog_config_registers_over_vfio_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wdt.sock");
    let server = DeviceServer::bind(&path).unwrap();
    let thread = std::thread::spawn(move || {
        let mut model = pcidev_models::i6300esb::model();
        let result = server.serve(&mut model);
        (result, model)
    });
    let mut client = Client::new(&path).unwrap();

    // Identity, and no capability list (QEMU's i6300esb has none).
    assert_eq!(read(&mut client, 0, 4), 0x25ab_8086);
    assert_eq!(read(&mut client, 0x06, 2) & 0x10, 0);
    assert_eq!(read(&mut client, 0x34, 1), 0);

    // ESB_CONFIG: a 2-byte write reaches it; a 4-byte access does not.
    write(&mut client, 0x60, 0x20, 2); // reboot off, 1 kHz: stage 1 lasts ~17 min
    assert_eq!(read(&mut client, 0x60, 2), 0x20);
    assert_eq!(read(&mut client, 0x60, 4), 0, "4 bytes: plain memory");
    write(&mut client, 0x60, 0xdead_0000, 4);
    assert_eq!(read(&mut client, 0x60, 4), 0xdead_0000);
    assert_eq!(
        read(&mut client, 0x60, 2),
        0x20,
        "the register kept its value"
    );

    // ESB_LOCK: a 2-byte write is memory and leaves the watchdog off; the
    // 1-byte write Linux's driver makes enables it.
    write(&mut client, 0x68, 0x02, 2);
    assert_eq!(read(&mut client, 0x68, 1), 0);
    write(&mut client, 0x68, 0x02, 1);
    assert_eq!(read(&mut client, 0x68, 1), 0x02);

    drop(client);
    let (result, model): (_, Model<_>) = thread.join().expect("server thread panicked");
    result.unwrap();
    assert!(
        PciModel::next_deadline(&model).is_some(),
        "enabling through ESB_LOCK armed the timer"
    );
    assert!(model.timer_running(0));
}
