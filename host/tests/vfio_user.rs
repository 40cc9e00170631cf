//! The server driven as a vfio-user client drives it: the `vfio_user` crate's
//! own `Client` for well-formed traffic, raw messages for the malformed kind.
//! Each test serves a toy model on a socket in a temporary directory from a
//! thread, and checks the socket file is gone when the connection ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

use pcidev_host::guard::{HEADER_SIZE, Header, command};
use pcidev_host::toy::{self, TOY_ID, Toy, reg};
use pcidev_host::{DeviceServer, HostError};
use pcidev_runtime::{
    COMMAND_BUS_MASTER, COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, JsonLinesTrace, MSI_CAP_OFFSET,
    MSI_CONTROL_ENABLE, Model, random_bytes,
};
use rustix::fs::{MemfdFlags, memfd_create};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK,
    VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE, VFIO_REGION_INFO_FLAG_READ,
    VFIO_REGION_INFO_FLAG_WRITE,
};
use vfio_user::Client;

mod common;
use common::client::{CONFIG, enable, new_eventfd, read32, signals, write32};
use common::served::Serving;

const TRIGGER_EVENTFD: u32 = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
const UNMASK: u32 = VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE;
const MASK: u32 = VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE;

#[test]
fn negotiates_and_describes_the_device() {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    let rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    let bar0 = client.region(0).unwrap();
    assert_eq!((bar0.size, bar0.flags), (0x1000, rw));
    let bar1 = client.region(1).unwrap();
    assert_eq!((bar1.size, bar1.flags), (16, rw));
    for absent in [2, 3, 4, 5, 6, 8] {
        assert_eq!(client.region(absent).unwrap().size, 0, "region {absent}");
    }
    assert_eq!(client.region(CONFIG).unwrap().size, 256);
    assert!(client.region(9).is_none());
    assert_eq!(client.get_irq_info(0).unwrap().count, 1);
    assert_eq!(client.get_irq_info(1).unwrap().count, 1);
    assert_eq!(client.get_irq_info(2).unwrap().count, 0);
    drop(client);
    let (result, _) = serving.finish();
    result.unwrap();
}

#[test]
fn config_space_shows_the_identity() {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    assert_eq!(read32(&mut client, CONFIG, 0), 0x7070_1337);
    let mut pin = [0; 1];
    client.region_read(CONFIG, 0x3d, &mut pin).unwrap();
    assert_eq!(pin, [1]);
    // The whole space in one read, as QEMU does at realize.
    let mut all = [0; 256];
    client.region_read(CONFIG, 0, &mut all).unwrap();
    assert_eq!(all[0x34], MSI_CAP_OFFSET);
    drop(client);
    let (result, _) = serving.finish();
    assert!(result.unwrap().stats.config_accesses >= 3);
}

#[test]
fn bar_accesses_reach_the_model() {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    enable(&mut client, COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE);
    assert_eq!(read32(&mut client, 0, reg::ID), TOY_ID);
    assert_eq!(read32(&mut client, 1, reg::IO_ID), TOY_ID);
    write32(&mut client, 0, reg::SCRATCH, 0xdead_beef);
    assert_eq!(read32(&mut client, 0, reg::SCRATCH), 0xdead_beef);
    // An access the toy rejects (1 byte): all-ones, no error on the wire.
    let mut byte = [0];
    client.region_read(0, reg::ID, &mut byte).unwrap();
    assert_eq!(byte, [0xff]);
    client.region_write(0, reg::SCRATCH, &[0x11]).unwrap();
    assert_eq!(read32(&mut client, 0, reg::SCRATCH), 0xdead_beef);
    // Reset restores the registers (and the config space).
    client.reset().unwrap();
    enable(&mut client, COMMAND_MEMORY_SPACE);
    assert_eq!(read32(&mut client, 0, reg::SCRATCH), 0);
    drop(client);
    let (result, model) = serving.finish();
    let stats = result.unwrap().stats;
    assert_eq!((stats.access_errors, stats.resets), (2, 1));
    assert_eq!(model.regs, Toy::default());
}

#[test]
fn intx_is_a_level_over_eventfd_and_unmask() {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    enable(&mut client, COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE);
    let efd = new_eventfd();
    client
        .set_irqs(0, TRIGGER_EVENTFD, 0, 1, &[efd.as_raw_fd()])
        .unwrap();
    assert_eq!(signals(&efd), 0);

    // Assert: one signal, then automasked.
    write32(&mut client, 0, reg::IRQ, 1);
    assert_eq!(signals(&efd), 1);
    assert_eq!(read32(&mut client, 1, reg::IO_IRQ), 1);
    assert_eq!(signals(&efd), 0);
    // EOI (unmask) while the device still asserts: signalled again.
    client.set_irqs(0, UNMASK, 0, 1, &[]).unwrap();
    assert_eq!(signals(&efd), 1);
    // Deassert (through the I/O BAR, as hello_tic's handler does), then EOI:
    // quiet.
    write32(&mut client, 1, reg::IO_IRQ, 0);
    client.set_irqs(0, UNMASK, 0, 1, &[]).unwrap();
    assert_eq!(signals(&efd), 0);
    // Masked by the client: the next assertion waits for the unmask.
    client.set_irqs(0, MASK, 0, 1, &[]).unwrap();
    write32(&mut client, 0, reg::IRQ, 1);
    assert_eq!(signals(&efd), 0);
    client.set_irqs(0, UNMASK, 0, 1, &[]).unwrap();
    assert_eq!(signals(&efd), 1);
    // COMMAND.INTx-disable drops the line: the next EOI is quiet.
    enable(
        &mut client,
        COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE | pcidev_runtime::COMMAND_INTX_DISABLE,
    );
    client.set_irqs(0, UNMASK, 0, 1, &[]).unwrap();
    assert_eq!(signals(&efd), 0);
    drop(client);
    let (result, _) = serving.finish();
    assert_eq!(result.unwrap().stats.irq.intx_signals, 3);
}

#[test]
fn msi_goes_to_the_vector_eventfd() {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    enable(&mut client, COMMAND_MEMORY_SPACE);
    let cap = u64::from(MSI_CAP_OFFSET);
    write32(&mut client, CONFIG, cap + 4, 0xfee0_0000);
    write32(&mut client, CONFIG, cap + 8, 0);
    client
        .region_write(CONFIG, cap + 0xc, &0x4041u16.to_le_bytes())
        .unwrap();
    client
        .region_write(CONFIG, cap + 2, &MSI_CONTROL_ENABLE.to_le_bytes())
        .unwrap();
    let efd = new_eventfd();
    client
        .set_irqs(1, TRIGGER_EVENTFD, 0, 1, &[efd.as_raw_fd()])
        .unwrap();
    write32(&mut client, 0, reg::MSI_GO, 0);
    assert_eq!(signals(&efd), 1);
    // A vector the guest did not enable is not delivered.
    write32(&mut client, 0, reg::MSI_GO, 1);
    assert_eq!(signals(&efd), 0);
    drop(client);
    let (result, _) = serving.finish();
    assert_eq!(result.unwrap().stats.irq.msi_signals, 1);
}

#[test]
fn dma_lands_in_the_mapped_memfd() {
    const IOVA: u64 = 0x10_0000;
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    let mut memfd = File::from(memfd_create("guest-ram", MemfdFlags::CLOEXEC).unwrap());
    memfd.set_len(0x4000).unwrap();
    client
        .dma_map(0x1000, IOVA, 0x2000, memfd.as_raw_fd())
        .unwrap();

    let dma = |client: &mut Client, addr: u64, len: u32, seed: u32| {
        write32(client, 0, reg::DMA_ADDR_LO, addr as u32);
        write32(client, 0, reg::DMA_ADDR_HI, (addr >> 32) as u32);
        write32(client, 0, reg::DMA_LEN, len);
        write32(client, 0, reg::DMA_GO, seed);
        read32(client, 0, reg::DMA_STATUS)
    };
    enable(&mut client, COMMAND_MEMORY_SPACE);
    // Bus mastering off: nothing moves.
    assert_eq!(dma(&mut client, IOVA + 0x80, 0x100, 42), 2);
    enable(&mut client, COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER);
    assert_eq!(dma(&mut client, IOVA + 0x80, 0x100, 42), 1);
    let mut landed = vec![0; 0x100];
    memfd.seek(SeekFrom::Start(0x1080)).unwrap();
    memfd.read_exact(&mut landed).unwrap();
    assert_eq!(landed, random_bytes(42, 0x100));
    // Past the end of the mapping: refused, nothing written.
    assert_eq!(dma(&mut client, IOVA + 0x1f80, 0x100, 1), 4);
    // After the unmap the model has no memory left.
    client.dma_unmap(IOVA, 0x2000).unwrap();
    assert_eq!(dma(&mut client, IOVA, 0x10, 1), 3);
    drop(client);
    let (result, _) = serving.finish();
    let stats = result.unwrap().stats;
    assert_eq!((stats.dma_maps, stats.dma_unmaps), (1, 1));
}

#[test]
fn trace_records_the_model_side() {
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.jsonl");
    let mut model = toy::model();
    model.set_trace(Some(Box::new(JsonLinesTrace::new(
        File::create(&trace_path).unwrap(),
    ))));
    let serving = Serving::start(model);
    let mut client = serving.client();
    enable(&mut client, COMMAND_MEMORY_SPACE);
    write32(&mut client, 0, reg::IRQ, 1);
    drop(client);
    serving.finish().0.unwrap();
    let trace = std::fs::read_to_string(trace_path).unwrap();
    assert!(
        trace.lines().any(|l| l.contains("\"ConfigWrite\"")),
        "{trace}"
    );
    assert!(trace.lines().any(|l| l.contains("\"BarWrite\"")), "{trace}");
    assert!(
        trace
            .lines()
            .any(|l| l.contains("\"Intx\":{\"asserted\":true}")),
        "{trace}"
    );
}

// ---- raw protocol: malformed messages and disconnects ----

fn raw_header(command: u16, size: u32, flags: u32) -> [u8; HEADER_SIZE] {
    Header {
        id: 1,
        command,
        size,
        flags,
        error: 0,
    }
    .to_bytes()
}

/// Read one reply: header and body.
fn read_reply(stream: &mut UnixStream) -> (Header, Vec<u8>) {
    let mut raw = [0; HEADER_SIZE];
    stream.read_exact(&mut raw).unwrap();
    let header = Header::parse(&raw);
    let mut body = vec![0; header.size as usize - HEADER_SIZE];
    stream.read_exact(&mut body).unwrap();
    (header, body)
}

/// The connection must end with `Malformed`, the client must see EOF, and
/// the model must not have been touched.
fn assert_ends_malformed(serving: Serving<Model<Toy>>, mut stream: UnixStream) {
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let (result, model) = serving.finish();
    assert!(
        matches!(result, Err(HostError::Malformed { .. })),
        "{result:?}"
    );
    assert_eq!(model.regs, Toy::default());
}

#[test]
fn version_shorter_than_its_header_ends_the_connection() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    stream
        .write_all(&raw_header(command::VERSION, 8, 0))
        .unwrap();
    assert_ends_malformed(serving, stream);
}

#[test]
fn version_without_nul_ends_the_connection() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    let caps = b"{\"capabilities\":{}}";
    let mut msg = raw_header(command::VERSION, (20 + caps.len()) as u32, 0).to_vec();
    msg.extend_from_slice(&[0, 0, 1, 0]);
    msg.extend_from_slice(caps);
    stream.write_all(&msg).unwrap();
    assert_ends_malformed(serving, stream);
}

#[test]
fn oversized_read_ends_the_connection() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    let mut msg = raw_header(command::REGION_READ, 32, 0).to_vec();
    msg.extend_from_slice(&0u64.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&u32::MAX.to_ne_bytes());
    stream.write_all(&msg).unwrap();
    assert_ends_malformed(serving, stream);
}

#[test]
fn write_whose_count_disagrees_with_its_size_ends_the_connection() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    let mut msg = raw_header(command::REGION_WRITE, 36, 0).to_vec();
    msg.extend_from_slice(&reg::SCRATCH.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&64u32.to_ne_bytes());
    msg.extend_from_slice(&[1, 2, 3, 4]);
    stream.write_all(&msg).unwrap();
    assert_ends_malformed(serving, stream);
}

#[test]
fn garbage_ends_the_connection() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    stream.write_all(&[0xff; 64]).unwrap();
    assert_ends_malformed(serving, stream);
}

#[test]
fn unimplemented_command_is_answered_and_the_stream_stays_in_step() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    // DMA_READ with a body the server never reads.
    let mut msg = raw_header(11, 16 + 24, 0).to_vec();
    msg.extend_from_slice(&[0xaa; 24]);
    stream.write_all(&msg).unwrap();
    let (reply, _) = read_reply(&mut stream);
    assert_ne!(reply.flags & (1 << 5), 0, "error flag");
    assert_eq!(reply.error, 5, "EIO, not 0");
    // The next request is understood.
    let mut info = raw_header(command::DEVICE_GET_INFO, 32, 0).to_vec();
    info.extend_from_slice(&[0; 16]);
    stream.write_all(&info).unwrap();
    let (reply, body) = read_reply(&mut stream);
    assert_eq!(reply.flags & 0xf, 1, "a reply");
    let num_regions = u32::from_ne_bytes(body[8..12].try_into().unwrap());
    let num_irqs = u32::from_ne_bytes(body[12..16].try_into().unwrap());
    assert_eq!((num_regions, num_irqs), (9, 5));
    drop(stream);
    serving.finish().0.unwrap();
}

#[test]
fn disconnect_mid_message_ends_the_connection() {
    let serving = Serving::start(toy::model());
    let mut stream = serving.raw();
    let mut msg = raw_header(command::DMA_UNMAP, 40, 0).to_vec();
    msg.extend_from_slice(&[0; 10]);
    stream.write_all(&msg).unwrap();
    drop(stream);
    let (result, _) = serving.finish();
    assert!(
        matches!(
            result,
            Err(HostError::Truncated {
                got: 26,
                expected: 40
            })
        ),
        "{result:?}"
    );
}

#[test]
fn clean_disconnect_ends_the_connection_and_releases_the_model() {
    let serving = Serving::start(toy::model());
    let mut client = serving.client();
    let memfd = File::from(memfd_create("guest-ram", MemfdFlags::CLOEXEC).unwrap());
    memfd.set_len(0x1000).unwrap();
    client.dma_map(0, 0, 0x1000, memfd.as_raw_fd()).unwrap();
    client.shutdown().unwrap();
    let (result, mut model) = serving.finish();
    result.unwrap();
    // No guest memory is left behind in the model.
    model.config_write(4, &COMMAND_BUS_MASTER.to_le_bytes());
    assert_eq!(
        model.ctx_mut().dma_write(0, &[1]),
        pcidev_runtime::DmaOutcome::NoGuestMemory
    );
}

#[test]
fn a_second_client_is_refused() {
    let serving = Serving::start(toy::model());
    let client = serving.client();
    assert!(UnixStream::connect(&serving.path).is_err());
    drop(client);
    serving.finish().0.unwrap();
}

#[test]
fn existing_files_are_kept_and_stale_sockets_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-socket");
    std::fs::write(&file, b"keep me").unwrap();
    assert!(matches!(
        DeviceServer::bind(&file),
        Err(HostError::SocketInUse(_))
    ));
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");

    let sock = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let server = DeviceServer::bind(&sock).unwrap();
    // Only its owner may connect, whatever the process's umask.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    // A live one is not replaced.
    assert!(matches!(
        DeviceServer::bind(&sock),
        Err(HostError::SocketInUse(_))
    ));
    drop(server);
    assert!(!Path::new(&sock).exists());
}

// ---- fast path and ordering ----

fn region_msg(
    id: u16,
    cmd: u16,
    region: u32,
    offset: u64,
    count: u32,
    data: &[u8],
    flags: u32,
) -> Vec<u8> {
    let size = 32 + data.len() as u32;
    let mut m = Header {
        id,
        command: cmd,
        size,
        flags,
        error: 0,
    }
    .to_bytes()
    .to_vec();
    m.extend_from_slice(&offset.to_ne_bytes());
    m.extend_from_slice(&region.to_ne_bytes());
    m.extend_from_slice(&count.to_ne_bytes());
    m.extend_from_slice(data);
    m
}

/// A region access served by the guard's fast path must not overtake a
/// command still in the server: here a `NO_REPLY` reset, sent without
/// waiting, then a read of COMMAND, which must see the reset's zero. The
/// reset gets no reply (the client asked for none); the read gets its own.
#[test]
fn a_region_access_never_overtakes_an_earlier_command() {
    const NO_REPLY: u32 = 1 << 4;
    let serving = Serving::start(toy::model());
    let mut s = serving.raw();
    let enable = region_msg(
        1,
        command::REGION_WRITE,
        CONFIG,
        4,
        2,
        &COMMAND_MEMORY_SPACE.to_ne_bytes(),
        0,
    );
    s.write_all(&enable).unwrap();
    let (h, _) = read_reply(&mut s);
    assert_eq!((h.id, h.flags & 0x2f), (1, 1), "write acknowledged");
    let reset = Header {
        id: 2,
        command: command::DEVICE_RESET,
        size: HEADER_SIZE as u32,
        flags: NO_REPLY,
        error: 0,
    };
    let read = region_msg(3, command::REGION_READ, CONFIG, 4, 2, &[], 0);
    let mut both = reset.to_bytes().to_vec();
    both.extend_from_slice(&read);
    s.write_all(&both).unwrap();
    let (h, body) = read_reply(&mut s);
    assert_eq!(
        h.id, 3,
        "the next reply is the read's: the reset's is swallowed"
    );
    assert_eq!(
        &body[16..18],
        &[0, 0],
        "COMMAND reads 0: the reset ran first"
    );
    // And with nothing in flight the fast path answers.
    s.write_all(&region_msg(4, command::REGION_READ, CONFIG, 0, 4, &[], 0))
        .unwrap();
    let (h, body) = read_reply(&mut s);
    assert_eq!(h.id, 4);
    assert_eq!(
        u32::from_ne_bytes(body[16..20].try_into().unwrap()),
        0x7070_1337,
        "device:vendor"
    );
    drop(s);
    let (result, _) = serving.finish();
    assert_eq!(result.unwrap().stats.resets, 1);
}
