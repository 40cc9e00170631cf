//! File descriptors through the served path (the guard's inbox, one
//! `recvmsg` per read): a descriptor goes with the message it was sent with
//! even when that message arrives behind others in the same read, and one
//! sent with a message that takes none is closed while the connection goes
//! on.

use std::fs::File;
use std::io::{IoSlice, Read, Seek, SeekFrom};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use pcidev_host::DeviceServer;
use pcidev_host::guard::{HEADER_SIZE, Header, command};
use pcidev_host::toy::{self, reg};
use pcidev_runtime::{COMMAND_BUS_MASTER, COMMAND_MEMORY_SPACE, random_bytes};
use rustix::fs::{MemfdFlags, memfd_create};
use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};

#[path = "common/raw.rs"]
mod raw;
use raw::{ERROR, REPLY, RawClient};

/// `bytes` in one `sendmsg` with `fd` attached.
fn send_with_fd(to: &UnixStream, bytes: &[u8], fd: BorrowedFd<'_>) {
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
    let sent = sendmsg(to, &[IoSlice::new(bytes)], &mut control, SendFlags::empty()).unwrap();
    assert_eq!(sent, bytes.len());
}

fn header(id: u16, cmd: u16, size: usize) -> [u8; HEADER_SIZE] {
    Header {
        id,
        command: cmd,
        size: size as u32,
        flags: 0,
        error: 0,
    }
    .to_bytes()
}

fn write_msg(id: u16, offset: u64, value: u32) -> Vec<u8> {
    let mut m = header(id, command::REGION_WRITE, 36).to_vec();
    m.extend_from_slice(&offset.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&4u32.to_ne_bytes());
    m.extend_from_slice(&value.to_le_bytes());
    m
}

/// The next reply's header (its body read and dropped).
fn reply(stream: &mut UnixStream) -> Header {
    let mut raw = [0u8; HEADER_SIZE];
    stream.read_exact(&mut raw).unwrap();
    let h = Header::parse(&raw);
    let mut body = vec![0u8; h.size as usize - HEADER_SIZE];
    stream.read_exact(&mut body).unwrap();
    h
}

#[test]
fn descriptors_go_with_their_message_and_strays_are_closed() {
    const IOVA: u64 = 0x10_0000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fd.sock");
    let server = DeviceServer::bind(&path).unwrap();
    let thread = std::thread::spawn(move || {
        let mut model = toy::model();
        server.serve(&mut model).map(|d| d.stats)
    });
    let mut client = RawClient::new(UnixStream::connect(&path).unwrap());
    client.write(
        7,
        0x04,
        &(COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER).to_le_bytes(),
    );

    // A region write and a DMA_MAP in one sendmsg with the guest memory's
    // fd: the inbox reads both at once; the fd is the DMA_MAP's.
    let mut memfd = File::from(memfd_create("guest-ram", MemfdFlags::CLOEXEC).unwrap());
    memfd.set_len(0x2000).unwrap();
    let mut both = write_msg(100, reg::DMA_LEN, 0x100);
    both.extend_from_slice(&header(101, command::DMA_MAP, 48));
    both.extend_from_slice(&32u32.to_ne_bytes()); // argsz
    both.extend_from_slice(&3u32.to_ne_bytes()); // read | write
    both.extend_from_slice(&0u64.to_ne_bytes()); // offset in the fd
    both.extend_from_slice(&IOVA.to_ne_bytes());
    both.extend_from_slice(&0x2000u64.to_ne_bytes());
    send_with_fd(client.stream(), &both, memfd.as_fd());
    for id in [100, 101] {
        let h = reply(client.stream());
        assert_eq!((h.id, h.flags & (REPLY | ERROR)), (id, REPLY), "{h:?}");
    }
    client.write(0, reg::DMA_ADDR_LO, &(IOVA as u32 + 0x80).to_le_bytes());
    client.write(0, reg::DMA_ADDR_HI, &0u32.to_le_bytes());
    client.write(0, reg::DMA_GO, &42u32.to_le_bytes());
    assert_eq!(client.read32(0, reg::DMA_STATUS), 1, "DMA done");
    let mut landed = vec![0; 0x100];
    memfd.seek(SeekFrom::Start(0x80)).unwrap();
    memfd.read_exact(&mut landed).unwrap();
    assert_eq!(landed, random_bytes(42, 0x100));

    // A pipe's write end sent with a region write: answered, and the
    // descriptor closed (the read end then reads end-of-file).
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) },
        0
    );
    // SAFETY: both were just created and are owned by nothing else.
    let (mut read_end, write_end) =
        unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    send_with_fd(
        client.stream(),
        &write_msg(102, reg::SCRATCH, 7),
        write_end.as_fd(),
    );
    drop(write_end);
    let h = reply(client.stream());
    assert_eq!((h.id, h.flags & (REPLY | ERROR)), (102, REPLY));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match read_end.read(&mut [0u8; 1]) {
            Ok(0) => break,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            other => panic!("the stray descriptor is still open: {other:?}"),
        }
    }
    assert_eq!(client.read32(0, reg::SCRATCH), 7, "the connection goes on");

    drop(client.into_stream());
    let stats = thread.join().unwrap().unwrap();
    assert_eq!(stats.dma_maps, 1);
}
