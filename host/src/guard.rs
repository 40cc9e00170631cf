//! The framing guard between a vfio-user client and the `vfio_user` crate's
//! server.
//!
//! `vfio_user::Server` 0.1.7 reads each message's header and then exactly the
//! bytes its command's structure has, trusting the header: a `VERSION`
//! message shorter than its fixed part underflows a size computation
//! (panic), capabilities without a terminating NUL hit an `unwrap` (panic),
//! a read with `count` near `u32::MAX` allocates 4 GiB, and any message whose
//! size differs from what the server reads (an unknown command with a body,
//! a `NO_REPLY` flag on a command that must be answered) leaves the rest of
//! the message to be parsed as the next header.
//!
//! So the server does not face the client directly. The relay reads every
//! client message whole (header, body and at most one file descriptor, the
//! `max_msg_fds` the server announces; see [`crate::inbox`]: one `recvmsg`
//! into a reused buffer per message, or fewer), checks it against its
//! command's layout and forwards only messages the server handles exactly,
//! over an internal socket. Anything else ends the connection with
//! [`HostError::Malformed`] before a byte of it reaches the server. Commands
//! the server does not implement (`GET_REGION_IO_FDS`, `DMA_READ`, …,
//! unknown numbers) are forwarded as their bare header, which the server
//! answers with an error reply, so the stream stays in step.
//!
//! Region reads and writes are answered on the relay's own thread when
//! nothing forwarded is still in flight (the fast path, see `Outbox`): the
//! model is called and the reply built in a reused buffer and sent with one
//! write, so a guest MMIO access costs the host one `recvmsg`, one write and
//! no allocation. Replies to forwarded commands flow back through a second
//! thread that copies them message by message. The `vfio_user` crate
//! reports a failing backend with an error reply whose errno is 0, which
//! QEMU would read as success (`-0`); the relay turns such an errno into
//! `EIO`.
//!
//! Message sizes follow QEMU 11.1's client (`hw/vfio-user/device.c`,
//! `container.c`, `proxy.c`) and docs/interop/vfio-user.rst.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Mutex, MutexGuard};
use std::thread;

use vmm_sys_util::sock_ctrl_msg::ScmSocket;

use crate::error::HostError;
use crate::inbox::{Inbox, Message};

/// Size of the vfio-user message header.
pub const HEADER_SIZE: usize = 16;
/// The largest region access payload: the `max_data_xfer_size` the
/// `vfio_user` server announces (its default, 1 MiB).
pub const MAX_DATA_XFER: u32 = 1 << 20;
/// The largest capabilities string accepted in `VERSION`.
pub const MAX_VERSION_CAPS: u32 = 64 << 10;
/// The largest message accepted from a client.
pub const MAX_MESSAGE: u32 = REGION_ACCESS_SIZE + MAX_DATA_XFER;

/// Header flag: message type is a reply (the low 4 bits are the type).
const FLAG_TYPE_MASK: u32 = 0xf;
const FLAG_NO_REPLY: u32 = 1 << 4;
const FLAG_ERROR: u32 = 1 << 5;

/// Command numbers (vfio-user.rst, "Commands").
pub mod command {
    /// `VFIO_USER_VERSION`
    pub const VERSION: u16 = 1;
    /// `VFIO_USER_DMA_MAP`
    pub const DMA_MAP: u16 = 2;
    /// `VFIO_USER_DMA_UNMAP`
    pub const DMA_UNMAP: u16 = 3;
    /// `VFIO_USER_DEVICE_GET_INFO`
    pub const DEVICE_GET_INFO: u16 = 4;
    /// `VFIO_USER_DEVICE_GET_REGION_INFO`
    pub const DEVICE_GET_REGION_INFO: u16 = 5;
    /// `VFIO_USER_DEVICE_GET_IRQ_INFO`
    pub const DEVICE_GET_IRQ_INFO: u16 = 7;
    /// `VFIO_USER_DEVICE_SET_IRQS`
    pub const DEVICE_SET_IRQS: u16 = 8;
    /// `VFIO_USER_REGION_READ`
    pub const REGION_READ: u16 = 9;
    /// `VFIO_USER_REGION_WRITE`
    pub const REGION_WRITE: u16 = 10;
    /// `VFIO_USER_DEVICE_RESET`
    pub const DEVICE_RESET: u16 = 13;
}

/// Header + `major`, `minor`.
const VERSION_FIXED: u32 = 20;
/// Header + argsz, flags, offset, address, size.
const DMA_MAP_SIZE: u32 = 48;
/// Header + argsz, flags, address, size.
const DMA_UNMAP_SIZE: u32 = 40;
/// Header + argsz, flags, num_regions, num_irqs.
const DEVICE_INFO_SIZE: u32 = 32;
/// Header + `struct vfio_region_info`.
const REGION_INFO_SIZE: u32 = 48;
/// Header + argsz, flags, index, count.
const IRQ_INFO_SIZE: u32 = 32;
/// Header + argsz, flags, index, start, count.
const SET_IRQS_SIZE: u32 = 36;
/// Header + offset, region, count.
const REGION_ACCESS_SIZE: u32 = 32;

/// A message header, in host byte order as the protocol has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message id, echoed in the reply.
    pub id: u16,
    /// Command number.
    pub command: u16,
    /// Size of the whole message, header included.
    pub size: u32,
    /// Type (low 4 bits), `NO_REPLY`, `ERROR`.
    pub flags: u32,
    /// Errno of an error reply.
    pub error: u32,
}

impl Header {
    /// Parse the first 16 bytes of a message.
    pub fn parse(bytes: &[u8; HEADER_SIZE]) -> Header {
        let u16_at = |i: usize| u16::from_ne_bytes([bytes[i], bytes[i + 1]]);
        let u32_at =
            |i: usize| u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        Header {
            id: u16_at(0),
            command: u16_at(2),
            size: u32_at(4),
            flags: u32_at(8),
            error: u32_at(12),
        }
    }

    /// The 16 bytes of this header.
    pub fn to_bytes(self) -> [u8; HEADER_SIZE] {
        let mut out = [0; HEADER_SIZE];
        out[0..2].copy_from_slice(&self.id.to_ne_bytes());
        out[2..4].copy_from_slice(&self.command.to_ne_bytes());
        out[4..8].copy_from_slice(&self.size.to_ne_bytes());
        out[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        out[12..16].copy_from_slice(&self.error.to_ne_bytes());
        out
    }
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Forward it whole (with its descriptor, when the command takes one).
    Forward { takes_fd: bool },
    /// Forward only the header: the server rejects the command without
    /// reading a body.
    HeaderOnly,
}

/// Check a header before its body is read.
fn check_header(h: &Header) -> Result<(), &'static str> {
    if h.flags & FLAG_TYPE_MASK != 0 {
        return Err("not a command (the server sends no requests to be answered)");
    }
    if (h.size as usize) < HEADER_SIZE {
        return Err("size smaller than the header");
    }
    if h.size > MAX_MESSAGE {
        return Err("size above the largest message the server accepts");
    }
    Ok(())
}

/// Check a whole message (header checked already) against its command.
fn check_message(h: &Header, body: &[u8]) -> Result<Verdict, &'static str> {
    use command::*;
    let needs_reply = |verdict| {
        if h.flags & FLAG_NO_REPLY != 0 {
            Err("NO_REPLY on a command that must be answered")
        } else {
            Ok(verdict)
        }
    };
    let exact = |size: u32, takes_fd: bool| {
        if h.size == size {
            Ok(Verdict::Forward { takes_fd })
        } else {
            Err("size does not match the command")
        }
    };
    let u32_at = |i: usize| {
        body.get(i..i + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    match h.command {
        VERSION => {
            if h.size <= VERSION_FIXED || h.size > VERSION_FIXED + MAX_VERSION_CAPS {
                return Err("capabilities missing or too long");
            }
            let caps = &body[(VERSION_FIXED as usize - HEADER_SIZE)..];
            match caps.iter().position(|&b| b == 0) {
                Some(nul) if nul == caps.len() - 1 => {
                    needs_reply(Verdict::Forward { takes_fd: false })
                }
                Some(_) => Err("capabilities contain a NUL before their end"),
                None => Err("capabilities are not NUL-terminated"),
            }
        }
        DMA_MAP => exact(DMA_MAP_SIZE, true),
        DMA_UNMAP => exact(DMA_UNMAP_SIZE, false),
        DEVICE_GET_INFO => exact(DEVICE_INFO_SIZE, false).and_then(needs_reply),
        DEVICE_GET_REGION_INFO => exact(REGION_INFO_SIZE, false).and_then(needs_reply),
        DEVICE_GET_IRQ_INFO => exact(IRQ_INFO_SIZE, false).and_then(needs_reply),
        DEVICE_SET_IRQS => exact(SET_IRQS_SIZE, true),
        REGION_READ => {
            let verdict = exact(REGION_ACCESS_SIZE, false).and_then(needs_reply)?;
            match u32_at(12) {
                Some(count) if count <= MAX_DATA_XFER => Ok(verdict),
                _ => Err("read count above max_data_xfer_size"),
            }
        }
        REGION_WRITE => match u32_at(12) {
            Some(count) if count > MAX_DATA_XFER => Err("write count above max_data_xfer_size"),
            Some(count) if h.size == REGION_ACCESS_SIZE + count => {
                Ok(Verdict::Forward { takes_fd: false })
            }
            _ => Err("write size does not match its count"),
        },
        DEVICE_RESET => exact(HEADER_SIZE as u32, false),
        _ => Ok(Verdict::HeaderOnly),
    }
}

/// How a relay ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// Relay one connection: client messages to `internal` (the `vfio_user`
/// server's end), its replies back to `client`. Returns when the client
/// disconnects (`Ok`) or sent something malformed (`Err`); either way both
/// sockets are shut down and the server sees end-of-file.
pub(crate) fn relay(
    client: UnixStream,
    internal: UnixStream,
    fast: Option<&dyn RegionAccess>,
) -> Result<Closed, HostError> {
    let replies_from = internal.try_clone()?;
    let replies_to = client.try_clone()?;
    let outbox = Outbox::default();
    thread::scope(|s| {
        let pump = s.spawn(|| pump_replies(replies_from, replies_to, &outbox));
        let result = forward_requests(&client, &internal, &outbox, fast);
        match result {
            // Let the server finish what it was sent, then see end-of-file;
            // its last replies still reach the client.
            Ok(_) => {
                let _ = internal.shutdown(Shutdown::Write);
            }
            Err(_) => {
                let _ = internal.shutdown(Shutdown::Both);
                let _ = client.shutdown(Shutdown::Both);
            }
        }
        if let Ok(Err(e)) = pump.join() {
            log::debug!("reply pump: {e}");
        }
        result
    })
}

/// Region reads and writes served on the guard's own thread (the fast
/// path): what a guest MMIO access needs, without two more thread hops.
pub(crate) trait RegionAccess: Sync {
    fn region_read(&self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()>;
    fn region_write(&self, region: u32, offset: u64, data: &[u8]) -> io::Result<()>;
}

/// What is in flight through the `vfio_user` server, and the right to
/// write to the client. A region access takes the fast path only when
/// nothing is in flight, so it never overtakes an earlier command (a
/// `DMA_MAP` must be in effect before the write that starts a DMA); replies
/// are written under the lock, so the two writers never interleave.
#[derive(Debug, Default)]
struct Outbox {
    state: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// Forwarded commands whose reply has not been relayed yet.
    in_flight: usize,
    /// Ids of forwarded `NO_REPLY` commands: sent to the server as ordinary
    /// commands (so their completion is visible) and their replies dropped.
    swallow: HashSet<u16>,
}

impl Outbox {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Serve a region read or write from the guard's thread and reply, or say
/// (`Ok(false)`) that it must be forwarded after all. The reply is built
/// in `reply` (kept across messages: it grows to the largest read served
/// and stays) and sent with one write; a read's data is read into it in
/// place.
fn fast_region_access(
    mut client: &UnixStream,
    header: &Header,
    body: &[u8],
    outbox: &Outbox,
    fast: &dyn RegionAccess,
    reply: &mut Vec<u8>,
) -> Result<bool, HostError> {
    let pending = outbox.lock();
    if pending.in_flight != 0 {
        return Ok(false);
    }
    // Body: offset u64, region u32, count u32, then the data (checked by
    // check_message).
    let u32_at = |i: usize| u32::from_ne_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
    let offset = u64::from_ne_bytes(body[0..8].try_into().unwrap_or_default());
    let (region, count) = (u32_at(8), u32_at(12));
    const FIXED: usize = REGION_ACCESS_SIZE as usize;
    let (result, data_len) = if header.command == command::REGION_READ {
        let len = FIXED + count as usize;
        if reply.len() < len {
            reply.resize(len, 0);
        }
        let data = &mut reply[FIXED..len];
        data.fill(0);
        (fast.region_read(region, offset, data), count)
    } else {
        (fast.region_write(region, offset, &body[16..]), 0)
    };
    if header.flags & FLAG_NO_REPLY != 0 {
        return Ok(true);
    }
    let len = match result {
        Ok(()) => {
            let size = REGION_ACCESS_SIZE + data_len;
            let h = Header {
                id: header.id,
                command: header.command,
                size,
                flags: 1,
                error: 0,
            };
            reply[..HEADER_SIZE].copy_from_slice(&h.to_bytes());
            reply[HEADER_SIZE..FIXED].copy_from_slice(&body[0..16]);
            size as usize
        }
        Err(e) => {
            let errno = e
                .raw_os_error()
                .unwrap_or(if e.kind() == io::ErrorKind::InvalidInput {
                    libc::EINVAL
                } else {
                    libc::EIO
                });
            let h = Header {
                id: header.id,
                command: header.command,
                size: HEADER_SIZE as u32,
                flags: 1 | FLAG_ERROR,
                error: errno as u32,
            };
            reply[..HEADER_SIZE].copy_from_slice(&h.to_bytes());
            HEADER_SIZE
        }
    };
    client.write_all(&reply[..len])?;
    drop(pending);
    Ok(true)
}

/// The fast path's reply buffer to start with: a region access reply with
/// up to 4 KiB of data.
const REPLY_BUFFER: usize = REGION_ACCESS_SIZE as usize + 4096;

fn forward_requests(
    client: &UnixStream,
    mut internal: &UnixStream,
    outbox: &Outbox,
    fast: Option<&dyn RegionAccess>,
) -> Result<Closed, HostError> {
    let mut inbox = Inbox::new();
    let mut reply = vec![0u8; REPLY_BUFFER];
    loop {
        let checked = |h: &Header| {
            check_header(h).map_err(|reason| HostError::Malformed {
                command: h.command,
                size: h.size,
                reason,
            })
        };
        let Some(Message { header, bytes, fd }) = inbox.next(client, checked)? else {
            return Ok(Closed);
        };
        let malformed = |reason| HostError::Malformed {
            command: header.command,
            size: header.size,
            reason,
        };
        let verdict = check_message(&header, &bytes[HEADER_SIZE..]).map_err(malformed)?;
        if let Some(fast) = fast
            && matches!(header.command, command::REGION_READ | command::REGION_WRITE)
            && fast_region_access(
                client,
                &header,
                &bytes[HEADER_SIZE..],
                outbox,
                fast,
                &mut reply,
            )?
        {
            // A descriptor sent with a region access is closed here.
            drop(fd);
            continue;
        }
        {
            let mut pending = outbox.lock();
            pending.in_flight += 1;
            if header.flags & FLAG_NO_REPLY != 0 {
                pending.swallow.insert(header.id);
                let flags = (header.flags & !FLAG_NO_REPLY).to_ne_bytes();
                bytes[8..12].copy_from_slice(&flags);
            }
        }
        match verdict {
            Verdict::Forward { takes_fd: true } if fd.is_some() => {
                let fd = fd.as_ref().map_or(-1, |f| f.as_raw_fd());
                let sent = internal
                    .send_with_fd(&bytes[..], fd)
                    .map_err(|e| io::Error::from_raw_os_error(e.errno()))?;
                internal.write_all(&bytes[sent..])?;
            }
            Verdict::Forward { .. } => internal.write_all(bytes)?,
            Verdict::HeaderOnly => {
                log::warn!(
                    "command {} is not implemented; answering with an error",
                    header.command
                );
                internal.write_all(&bytes[..HEADER_SIZE])?;
            }
        }
        // A descriptor the command does not take is closed here.
        drop(fd);
    }
}

/// Copy the server's replies to the client, message by message, until the
/// server closes its end; then shut the client socket down. A file
/// descriptor sent with a reply (a region's mmap-able memory in a
/// `DEVICE_GET_REGION_INFO` reply) arrives with the reply's first bytes and
/// is passed on with the reply.
fn pump_replies(mut from: UnixStream, mut to: UnixStream, outbox: &Outbox) -> io::Result<()> {
    let result = (|| loop {
        let mut raw = [0u8; HEADER_SIZE];
        let (got, fd) = loop {
            match from.recv_with_fd(&mut raw) {
                Ok(x) => break x,
                Err(e) if e.errno() == libc::EINTR => {}
                Err(e) => return Err(io::Error::from_raw_os_error(e.errno())),
            }
        };
        if got == 0 {
            return Ok(());
        }
        match from.read_exact(&mut raw[got..]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut header = Header::parse(&raw);
        let body_len = (header.size as usize).saturating_sub(HEADER_SIZE);
        if header.size > MAX_MESSAGE + 64 {
            return Err(io::Error::other("oversized reply from the server"));
        }
        let mut body = vec![0u8; body_len];
        from.read_exact(&mut body)?;
        if header.flags & FLAG_ERROR != 0 && header.error == 0 {
            header.error = libc::EIO as u32;
        }
        let mut message = header.to_bytes().to_vec();
        message.extend_from_slice(&body);
        let mut pending = outbox.lock();
        pending.in_flight = pending.in_flight.saturating_sub(1);
        if !pending.swallow.remove(&header.id) {
            match &fd {
                Some(f) => send_all_with_fd(&to, &message, f)?,
                None => to.write_all(&message)?,
            }
        }
    })();
    let _ = to.shutdown(Shutdown::Both);
    result
}

/// Send `message` with `fd` attached to its first bytes.
fn send_all_with_fd(mut to: &UnixStream, message: &[u8], fd: &std::fs::File) -> io::Result<()> {
    let sent = loop {
        match to.send_with_fd(message, fd.as_raw_fd()) {
            Ok(n) => break n,
            Err(e) if e.errno() == libc::EINTR => {}
            Err(e) => return Err(io::Error::from_raw_os_error(e.errno())),
        }
    };
    to.write_all(&message[sent.min(message.len())..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use command::*;

    fn header(command: u16, size: u32, flags: u32) -> Header {
        Header {
            id: 7,
            command,
            size,
            flags,
            error: 0,
        }
    }

    fn check(command: u16, body: &[u8], flags: u32) -> Result<Verdict, &'static str> {
        let h = header(command, (HEADER_SIZE + body.len()) as u32, flags);
        check_header(&h)?;
        check_message(&h, body)
    }

    fn version_body(caps: &[u8]) -> Vec<u8> {
        let mut body = vec![0, 0, 0, 0];
        body.extend_from_slice(caps);
        body
    }

    fn region_access(count: u32, data: usize) -> Vec<u8> {
        let mut body = vec![0u8; 16 + data];
        body[12..16].copy_from_slice(&count.to_ne_bytes());
        body
    }

    #[test]
    fn header_round_trips() {
        let h = Header {
            id: 0x1234,
            command: 9,
            size: 0x20,
            flags: FLAG_ERROR | 1,
            error: 22,
        };
        assert_eq!(Header::parse(&h.to_bytes()), h);
    }

    #[test]
    fn well_formed_messages_pass() {
        let fwd = Ok(Verdict::Forward { takes_fd: false });
        assert_eq!(check(VERSION, &version_body(b"{}\0"), 0), fwd);
        assert_eq!(
            check(DMA_MAP, &[0; 32], 0),
            Ok(Verdict::Forward { takes_fd: true })
        );
        assert!(check(DMA_MAP, &[0; 32], FLAG_NO_REPLY).is_ok());
        assert_eq!(check(DMA_UNMAP, &[0; 24], 0), fwd);
        assert_eq!(check(DEVICE_GET_INFO, &[0; 16], 0), fwd);
        assert_eq!(check(DEVICE_GET_REGION_INFO, &[0; 32], 0), fwd);
        assert_eq!(check(DEVICE_GET_IRQ_INFO, &[0; 16], 0), fwd);
        assert_eq!(
            check(DEVICE_SET_IRQS, &[0; 20], 0),
            Ok(Verdict::Forward { takes_fd: true })
        );
        assert_eq!(check(REGION_READ, &region_access(4, 0), 0), fwd);
        assert_eq!(
            check(REGION_WRITE, &region_access(4, 4), FLAG_NO_REPLY),
            fwd
        );
        assert_eq!(check(DEVICE_RESET, &[], 0), fwd);
        // Unimplemented or unknown: header only, body dropped.
        assert_eq!(check(11, &[0; 40], 0), Ok(Verdict::HeaderOnly));
        assert_eq!(check(0xffff, &[0; 3], 0), Ok(Verdict::HeaderOnly));
    }

    #[test]
    fn malformed_messages_are_refused() {
        // Header-level problems.
        assert!(check_header(&header(VERSION, 8, 0)).is_err());
        assert!(check_header(&header(REGION_WRITE, MAX_MESSAGE + 1, 0)).is_err());
        assert!(check_header(&header(REGION_READ, 32, 1)).is_err());
        // VERSION: no caps, no NUL, interior NUL, NO_REPLY.
        assert!(check(VERSION, &version_body(b""), 0).is_err());
        assert!(check(VERSION, &version_body(b"{}"), 0).is_err());
        assert!(check(VERSION, &version_body(b"{\0}\0"), 0).is_err());
        assert!(check(VERSION, &version_body(b"{}\0"), FLAG_NO_REPLY).is_err());
        // Wrong sizes.
        assert!(check(DMA_MAP, &[0; 31], 0).is_err());
        assert!(check(DMA_UNMAP, &[0; 25], 0).is_err());
        assert!(check(DEVICE_SET_IRQS, &[0; 24], 0).is_err());
        assert!(check(DEVICE_RESET, &[0], 0).is_err());
        // Reads: NO_REPLY, huge count. Writes: count and size disagree.
        assert!(check(REGION_READ, &region_access(4, 0), FLAG_NO_REPLY).is_err());
        assert!(check(REGION_READ, &region_access(u32::MAX, 0), 0).is_err());
        assert!(check(REGION_WRITE, &region_access(8, 4), 0).is_err());
        assert!(check(REGION_WRITE, &region_access(u32::MAX - 15, 4), 0).is_err());
        assert!(check(REGION_WRITE, &[0; 8], 0).is_err());
    }
}
