//! A raw vfio-user client that allocates nothing per access: region reads
//! and writes built in a stack buffer, written whole, and the reply read
//! into another. For tests that count what the server does per access (the
//! `vfio_user` crate's `Client` allocates per message itself).
// Each test binary including this module uses a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use pcidev_host::guard::{HEADER_SIZE, Header, command};

/// The largest access these helpers carry.
pub const MAX_DATA: usize = 8;
/// Header flag: a reply.
pub const REPLY: u32 = 1;
/// Header flag: an error reply.
pub const ERROR: u32 = 1 << 5;

/// A raw connection to a served device.
#[derive(Debug)]
pub struct RawClient {
    stream: UnixStream,
    next_id: u16,
}

impl RawClient {
    /// A client on `stream` (already connected).
    pub fn new(stream: UnixStream) -> Self {
        RawClient { stream, next_id: 1 }
    }

    /// Send one region access; returns the reply's header and, for a read,
    /// fills `data` from the reply. Panics on a short reply or a reply to
    /// another message.
    fn access(&mut self, cmd: u16, region: u32, offset: u64, data: &mut [u8]) -> Header {
        assert!(data.len() <= MAX_DATA);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let payload = if cmd == command::REGION_WRITE {
            data.len()
        } else {
            0
        };
        let size = 32 + payload;
        let mut msg = [0u8; 32 + MAX_DATA];
        msg[..HEADER_SIZE].copy_from_slice(
            &Header {
                id,
                command: cmd,
                size: size as u32,
                flags: 0,
                error: 0,
            }
            .to_bytes(),
        );
        msg[16..24].copy_from_slice(&offset.to_ne_bytes());
        msg[24..28].copy_from_slice(&region.to_ne_bytes());
        msg[28..32].copy_from_slice(&(data.len() as u32).to_ne_bytes());
        msg[32..size].copy_from_slice(&data[..payload]);
        self.stream.write_all(&msg[..size]).expect("send");
        let mut raw = [0u8; HEADER_SIZE];
        self.stream.read_exact(&mut raw).expect("reply header");
        let h = Header::parse(&raw);
        assert_eq!((h.id, h.command), (id, cmd), "a reply to this message");
        let mut body = [0u8; 16 + MAX_DATA];
        let len = (h.size as usize)
            .checked_sub(HEADER_SIZE)
            .filter(|&l| l <= body.len())
            .expect("reply size");
        self.stream
            .read_exact(&mut body[..len])
            .expect("reply body");
        if h.flags & ERROR == 0 && cmd == command::REGION_READ {
            assert_eq!(len, 16 + data.len(), "read reply carries the data");
            data.copy_from_slice(&body[16..len]);
        }
        h
    }

    /// A successful 4-byte read.
    pub fn read32(&mut self, region: u32, offset: u64) -> u32 {
        let mut d = [0u8; 4];
        let h = self.access(command::REGION_READ, region, offset, &mut d);
        assert_eq!(h.flags & (REPLY | ERROR), REPLY, "read answered");
        u32::from_le_bytes(d)
    }

    /// A successful write.
    pub fn write(&mut self, region: u32, offset: u64, data: &[u8]) {
        let mut d = [0u8; MAX_DATA];
        d[..data.len()].copy_from_slice(data);
        let h = self.access(command::REGION_WRITE, region, offset, &mut d[..data.len()]);
        assert_eq!(h.flags & (REPLY | ERROR), REPLY, "write answered");
    }

    /// The socket, for messages these helpers do not build.
    pub fn stream(&mut self) -> &mut UnixStream {
        &mut self.stream
    }

    /// The socket, to close it.
    pub fn into_stream(self) -> UnixStream {
        self.stream
    }
}
