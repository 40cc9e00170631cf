//! MSI-X and multi-vector MSI over vfio-user, as QEMU's `vfio-user-pci`
//! drives them: irq index 2 announces the table size, the client installs
//! one eventfd per vector, enables MSI-X in config space (QEMU forwards the
//! write), keeps the table and masking on its side, and the server signals
//! the eventfd of each vector the model sends. Served model: the generated
//! `ivshmem_doorbell` (4 MSI-X vectors, doorbell at BAR0 + 0xc).

use std::fs::File;
use std::os::fd::AsRawFd;

use pcidev_host::DeviceServer;
use pcidev_runtime::{COMMAND_MEMORY_SPACE, MSIX_CAP_OFFSET, MSIX_CONTROL_ENABLE, PciModel};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_SET_ACTION_MASK,
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
};
use vfio_user::Client;

mod common;
use common::client::{CONFIG, new_eventfd, signals};

const MSIX: u32 = 2;
const DOORBELL: u64 = 0xc;
const TRIGGER_EVENTFD: u32 = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;

fn ring(client: &mut Client, value: u32) {
    client
        .region_write(0, DOORBELL, &value.to_le_bytes())
        .unwrap();
}

#[test]
fn msix_vectors_signal_their_eventfds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ivshmem.sock");
    let server = DeviceServer::bind(&path).unwrap();
    let mut model: Box<dyn PciModel> = pcidev_models::by_name("ivshmem_doorbell").unwrap();
    let thread = std::thread::spawn(move || {
        let result = server.serve(&mut *model);
        (result, model)
    });
    let mut client = Client::new(&path).unwrap();

    let info = client.get_irq_info(MSIX).unwrap();
    assert_eq!(info.count, 4);
    assert_eq!(
        info.flags,
        VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE,
        "not maskable: QEMU masks"
    );
    // The capability QEMU reads to set up its table emulation.
    let mut cap = [0u8; 12];
    client
        .region_read(CONFIG, u64::from(MSIX_CAP_OFFSET), &mut cap)
        .unwrap();
    assert_eq!(&cap[..4], &[0x11, 0, 3, 0], "id, next, 4 vectors");
    assert_eq!(
        &cap[4..],
        &[1, 0, 0, 0, 0x01, 0x08, 0, 0],
        "BAR1 @0, PBA BAR1 @0x800"
    );

    client
        .region_write(CONFIG, 4, &COMMAND_MEMORY_SPACE.to_le_bytes())
        .unwrap();
    let efds: Vec<File> = (0..4).map(|_| new_eventfd()).collect();
    // The server takes one fd per message (max_msg_fds 1): QEMU splits a
    // SET_IRQS for several vectors into one message per vector.
    for (v, efd) in efds.iter().enumerate() {
        client
            .set_irqs(MSIX, TRIGGER_EVENTFD, v as u32, 1, &[efd.as_raw_fd()])
            .unwrap();
    }

    // Not yet enabled: nothing.
    ring(&mut client, 1);
    assert_eq!(efds.iter().map(signals).sum::<u64>(), 0);

    client
        .region_write(
            CONFIG,
            u64::from(MSIX_CAP_OFFSET) + 2,
            &MSIX_CONTROL_ENABLE.to_le_bytes(),
        )
        .unwrap();
    // The model's own table is untouched (all masked), yet every vector is
    // delivered: QEMU owns masking.
    for v in [0, 1, 2, 3, 2] {
        ring(&mut client, v);
    }
    let got: Vec<u64> = efds.iter().map(signals).collect();
    assert_eq!(got, [1, 1, 2, 1]);
    // Another peer, a vector past the table: nothing.
    ring(&mut client, 0x1_0001);
    ring(&mut client, 4);
    assert_eq!(efds.iter().map(signals).sum::<u64>(), 0);

    // MSI-X cannot be masked through vfio-user (refused: the vector still
    // fires); removing vector 3's eventfd drops its signals.
    let mask = VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE;
    let _ = client.set_irqs(MSIX, mask, 0, 1, &[]);
    ring(&mut client, 0);
    assert_eq!(signals(&efds[0]), 1);
    client.set_irqs(MSIX, TRIGGER_EVENTFD, 3, 1, &[]).unwrap();
    ring(&mut client, 3);
    assert_eq!(signals(&efds[3]), 0);
    // Loopback trigger of vectors 0..2.
    let trigger = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE;
    client.set_irqs(MSIX, trigger, 0, 2, &[]).unwrap();
    assert_eq!((signals(&efds[0]), signals(&efds[1])), (1, 1));

    drop(client);
    let (result, _) = thread.join().unwrap();
    let stats = result.unwrap().stats.irq;
    assert_eq!(stats.msix_signals, 8);
    assert_eq!(stats.msix_dropped, 1);
    assert_eq!(stats.msi_signals, 0);
}

/// Multi-vector MSI (irq index 1): the client enables 4 of the 4 vectors the
/// spec declares (Multiple Message Enable = 2) and installs an eventfd per
/// vector; each vector the model sends signals its own eventfd, a vector
/// beyond the enabled count none. Served through the interpreter.
#[test]
fn multi_vector_msi_signals_each_vectors_eventfd() {
    const SPEC: &str = "device multi_msi {
        id 0x1b36:0x1107;
        interrupt { msi 4; status CAUSE; }
        bar 0 mem32 size 4K {
            register CAUSE @ 0x0 : u32 rw;
            register FIRE @ 0x4 : u32 wo { on write { msi value; } }
        }
    }";
    let spec = pcidev_interp::Spec::load_str("multi_msi.pcidev", SPEC).unwrap();
    let mut model = spec.model(Box::new(pcidev_interp::DefaultHooks::quiet()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("msi.sock");
    let server = DeviceServer::bind(&path).unwrap();
    let thread = std::thread::spawn(move || server.serve(&mut model));
    let mut client = Client::new(&path).unwrap();
    assert_eq!(client.get_irq_info(1).unwrap().count, 4);
    assert_eq!(client.get_irq_info(MSIX).unwrap().count, 0, "no MSI-X");
    client
        .region_write(CONFIG, 4, &COMMAND_MEMORY_SPACE.to_le_bytes())
        .unwrap();
    let cap = u64::from(pcidev_runtime::MSI_CAP_OFFSET);
    client
        .region_write(CONFIG, cap + 4, &0xfee0_0000u32.to_le_bytes())
        .unwrap();
    // Enable, MME = 2: four vectors.
    client
        .region_write(CONFIG, cap + 2, &0x0021u16.to_le_bytes())
        .unwrap();
    let efds: Vec<File> = (0..4).map(|_| new_eventfd()).collect();
    for (v, efd) in efds.iter().enumerate() {
        client
            .set_irqs(1, TRIGGER_EVENTFD, v as u32, 1, &[efd.as_raw_fd()])
            .unwrap();
    }
    for v in [3u32, 0, 1, 2, 3, 4, 99] {
        client.region_write(0, 4, &v.to_le_bytes()).unwrap();
    }
    let got: Vec<u64> = efds.iter().map(signals).collect();
    assert_eq!(got, [1, 1, 1, 2]);
    drop(client);
    let stats = thread.join().unwrap().unwrap().stats.irq;
    assert_eq!((stats.msi_signals, stats.msix_signals), (5, 0));
}
