//! The client's messages, read with one `recvmsg` into a reused buffer.
//!
//! The guard ([`crate::guard`]) used to read each message in two reads (a
//! `recvmsg` of the 16-byte header, to catch a file descriptor, then a
//! `read` of the body) into a fresh `Vec`. An [`Inbox`] instead keeps one
//! buffer (64 KiB, grown once when a larger message arrives, never shrunk)
//! and reads as much as the socket holds with a single `recvmsg` (room for
//! one descriptor): a region access, which QEMU sends whole with one
//! `sendmsg`, costs one system call and no allocation; messages the client
//! sends without waiting arrive together and are taken one by one.
//!
//! File descriptors. On a stream socket a descriptor travels with the bytes
//! of the `sendmsg` that carried it, and Linux ends a `recvmsg` right after
//! the bytes that brought one; a well-behaved client (QEMU) sends a
//! descriptor with the message that takes it. So a descriptor received by
//! a `recvmsg` belongs to the *last message that begins in the bytes that
//! `recvmsg` returned*. The inbox hands it over with that message and no
//! other; a descriptor that arrives with bytes in which no message begins
//! (the tail of a message sent in pieces) is closed. Whether the message's
//! command takes a descriptor is the guard's business: it closes any it
//! does not forward. More than one descriptor in one `recvmsg` (more than
//! the `max_msg_fds` the server announces, 1) ends the connection with
//! [`HostError::Malformed`]; the ones received are closed.

use std::io::{self, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, recvmsg};

use crate::error::HostError;
use crate::guard::{HEADER_SIZE, Header};

/// The buffer's initial (and usual) size.
pub const INBOX_SIZE: usize = 64 << 10;

/// A descriptor received with the bytes `[from, to)` of the buffer.
#[derive(Debug)]
struct Arrived {
    fd: OwnedFd,
    from: usize,
    to: usize,
}

/// One client message, borrowed from the inbox until the next is taken.
#[derive(Debug)]
pub struct Message<'a> {
    /// Its header (checked by the caller's check before the body arrived).
    pub header: Header,
    /// The whole message, header included (`header.size` bytes); mutable so
    /// a forwarded message can be adjusted in place.
    pub bytes: &'a mut [u8],
    /// The descriptor that came with it, if any.
    pub fd: Option<OwnedFd>,
}

/// Reads client messages; see the [module documentation](self).
#[derive(Debug)]
pub struct Inbox {
    buf: Vec<u8>,
    /// First byte not taken yet.
    start: usize,
    /// End of the bytes received.
    end: usize,
    /// The last descriptor received, until the message it belongs to is
    /// known.
    arrived: Option<Arrived>,
    /// A descriptor known to belong to the message beginning at this offset
    /// (the one still being received).
    owned: Option<(OwnedFd, usize)>,
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox::new()
    }
}

impl Inbox {
    /// An empty inbox with its 64 KiB buffer.
    pub fn new() -> Self {
        Inbox {
            buf: vec![0; INBOX_SIZE],
            start: 0,
            end: 0,
            arrived: None,
            owned: None,
        }
    }

    /// The buffer's size (64 KiB unless a larger message arrived).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The next message from `stream`: `Ok(None)` when the client closed
    /// the connection between messages. `check` sees the header as soon as
    /// it is complete, before the body is waited for (and before the buffer
    /// grows for it); its error ends the read. End-of-file inside a message
    /// is [`HostError::Truncated`].
    pub fn next<S: AsFd>(
        &mut self,
        stream: S,
        check: impl FnOnce(&Header) -> Result<(), HostError>,
    ) -> Result<Option<Message<'_>>, HostError> {
        let stream = stream.as_fd();
        if self.start == self.end && self.arrived.is_none() && self.owned.is_none() {
            // Nothing buffered: start at the front, no copy needed.
            self.start = 0;
            self.end = 0;
        }
        while self.end - self.start < HEADER_SIZE {
            self.make_room(HEADER_SIZE);
            if self.receive(stream)? == 0 {
                return match self.end - self.start {
                    0 => Ok(None),
                    got => Err(HostError::Truncated {
                        got,
                        expected: HEADER_SIZE,
                    }),
                };
            }
        }
        let header = self.header();
        check(&header)?;
        let size = header.size as usize;
        debug_assert!(size >= HEADER_SIZE, "check refuses shorter sizes");
        while self.end - self.start < size {
            self.make_room(size);
            if self.receive(stream)? == 0 {
                return Err(HostError::Truncated {
                    got: self.end - self.start,
                    expected: size,
                });
            }
        }
        let at = self.start;
        self.start += size;
        let fd = self.fd_for(at, size);
        Ok(Some(Message {
            header,
            bytes: &mut self.buf[at..at + size],
            fd,
        }))
    }

    fn header(&self) -> Header {
        let mut raw = [0u8; HEADER_SIZE];
        raw.copy_from_slice(&self.buf[self.start..self.start + HEADER_SIZE]);
        Header::parse(&raw)
    }

    /// The descriptor of the message of `size` bytes at `at`, now taken.
    fn fd_for(&mut self, at: usize, size: usize) -> Option<OwnedFd> {
        if let Some((fd, owner)) = self.owned.take() {
            if owner == at {
                return Some(fd);
            }
            // Unreachable: `owned` is the message being received.
            drop(fd);
        }
        let a = self.arrived.as_ref()?;
        if a.from <= at && at < a.to {
            if at + size >= a.to {
                // The last message beginning in those bytes.
                return self.arrived.take().map(|a| a.fd);
            }
            // A later message begins in them: it is that one's.
            return None;
        }
        // Bytes with no message beginning in them brought it: stray.
        self.arrived = None;
        None
    }

    /// Before more bytes are received: a descriptor still waiting belongs
    /// to the message being received if that began in its bytes, else to
    /// none (no later message can begin in them).
    fn settle_arrived(&mut self) {
        if let Some(a) = self.arrived.take()
            && a.from <= self.start
            && self.start < a.to
            && self.end > self.start
        {
            self.owned = Some((a.fd, self.start));
        }
    }

    /// Make room for a message of `size` bytes at `start`: move the
    /// unread bytes to the front if the message would run past the end,
    /// and grow the buffer (once, kept) if it is larger than the buffer.
    fn make_room(&mut self, size: usize) {
        if self.start + size <= self.buf.len() {
            return;
        }
        if self.start > 0 {
            let shift = self.start;
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= shift;
            self.start = 0;
            if let Some(a) = &mut self.arrived {
                a.from = a.from.saturating_sub(shift);
                a.to = a.to.saturating_sub(shift);
            }
            if let Some((_, owner)) = &mut self.owned {
                *owner -= shift;
            }
        }
        if size > self.buf.len() {
            self.buf.resize(size, 0);
        }
    }

    /// One `recvmsg` into the free part of the buffer; returns the bytes
    /// received (0: end-of-file).
    fn receive(&mut self, stream: std::os::fd::BorrowedFd<'_>) -> Result<usize, HostError> {
        self.settle_arrived();
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let from = self.end;
        let got = loop {
            let mut iov = [IoSliceMut::new(&mut self.buf[from..])];
            match recvmsg(stream, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC) {
                Ok(r) => break r,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(io::Error::from(e).into()),
            }
        };
        let mut fds = None;
        let mut extra = false;
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = message {
                for fd in received {
                    if fds.is_none() {
                        fds = Some(fd);
                    } else {
                        extra = true;
                    }
                }
            }
        }
        self.end = from + got.bytes;
        if extra || got.flags.contains(ReturnFlags::CTRUNC) {
            let header = if self.end - self.start >= HEADER_SIZE {
                self.header()
            } else {
                Header::parse(&[0; HEADER_SIZE])
            };
            return Err(HostError::Malformed {
                command: header.command,
                size: header.size,
                reason: "more file descriptors than max_msg_fds (1)",
            });
        }
        if let Some(fd) = fds {
            self.arrived = Some(Arrived {
                fd,
                from,
                to: self.end,
            });
        }
        Ok(got.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Write};
    use std::os::fd::{BorrowedFd, FromRawFd};
    use std::os::unix::net::UnixStream;

    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};

    fn message(command: u16, body: &[u8]) -> Vec<u8> {
        let mut m = Header {
            id: command,
            command,
            size: (HEADER_SIZE + body.len()) as u32,
            flags: 0,
            error: 0,
        }
        .to_bytes()
        .to_vec();
        m.extend_from_slice(body);
        m
    }

    fn send_with_fds(to: &UnixStream, bytes: &[u8], fds: &[BorrowedFd<'_>]) {
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        assert!(control.push(SendAncillaryMessage::ScmRights(fds)));
        let sent = sendmsg(
            to,
            &[io::IoSlice::new(bytes)],
            &mut control,
            SendFlags::empty(),
        )
        .unwrap();
        assert_eq!(sent, bytes.len());
    }

    fn ok(_: &Header) -> Result<(), HostError> {
        Ok(())
    }

    fn memfd() -> File {
        File::from(rustix::fs::memfd_create("inbox-test", rustix::fs::MemfdFlags::CLOEXEC).unwrap())
    }

    #[test]
    fn pipelined_messages_are_taken_one_by_one_from_one_read() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut all = message(9, &[1; 16]);
        all.extend(message(10, &[2; 20]));
        all.extend(message(13, &[]));
        a.write_all(&all).unwrap();
        drop(a);
        let mut inbox = Inbox::new();
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.bytes.len()), (9, 32));
        assert_eq!(&m.bytes[16..], &[1; 16]);
        // The rest was read with the first: the socket holds nothing more.
        assert_eq!(inbox.end, all.len());
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.bytes.len()), (10, 36));
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.bytes.len()), (13, 16));
        assert!(inbox.next(&b, ok).unwrap().is_none());
        assert_eq!(inbox.capacity(), INBOX_SIZE);
    }

    #[test]
    fn a_message_in_pieces_is_assembled_and_eof_inside_is_truncation() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let m = message(3, &[7; 24]);
        let t = std::thread::spawn(move || {
            for piece in m.chunks(5) {
                a.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            a.write_all(&message(3, &[0; 24])[..26]).unwrap();
        });
        let mut inbox = Inbox::new();
        let got = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!(&got.bytes[16..], &[7; 24]);
        t.join().unwrap();
        assert!(matches!(
            inbox.next(&b, ok),
            Err(HostError::Truncated {
                got: 26,
                expected: 40
            })
        ));
    }

    #[test]
    fn the_header_is_checked_before_the_body_is_awaited() {
        let (mut a, b) = UnixStream::pair().unwrap();
        // Claims 1 MiB, sends only its header; the check refuses it without
        // waiting for (or making room for) the body.
        let mut h = message(10, &[]);
        h[4..8].copy_from_slice(&(1u32 << 20).to_ne_bytes());
        a.write_all(&h).unwrap();
        let mut inbox = Inbox::new();
        let refused = inbox.next(&b, |h| {
            Err(HostError::Malformed {
                command: h.command,
                size: h.size,
                reason: "test",
            })
        });
        assert!(matches!(
            refused,
            Err(HostError::Malformed {
                size: 0x10_0000,
                ..
            })
        ));
        assert_eq!(inbox.capacity(), INBOX_SIZE);
    }

    #[test]
    fn a_message_larger_than_the_buffer_grows_it_once() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let big = message(10, &vec![5u8; 100_000]);
        let small = message(13, &[]);
        let t = std::thread::spawn(move || {
            a.write_all(&small).unwrap();
            a.write_all(&big).unwrap();
            a.write_all(&small).unwrap();
        });
        let mut inbox = Inbox::new();
        assert_eq!(inbox.next(&b, ok).unwrap().unwrap().header.command, 13);
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!(m.bytes.len(), 100_016);
        assert!(m.bytes[16..].iter().all(|&x| x == 5));
        assert_eq!(inbox.next(&b, ok).unwrap().unwrap().header.command, 13);
        t.join().unwrap();
        assert_eq!(inbox.capacity(), 100_016);
    }

    /// A pipe whose write end is to be sent: once every copy of the
    /// write end is closed, the (non-blocking) read end reads end-of-file.
    fn pipe() -> (File, File) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
        assert_eq!(r, 0);
        // SAFETY: both were just created and are owned by nothing else.
        unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    /// Whether every copy of the pipe's write end is closed.
    fn write_end_closed(mut read_end: &File) -> bool {
        let mut b = [0u8; 1];
        matches!(read_end.read(&mut b), Ok(0))
    }

    #[test]
    fn a_descriptor_goes_with_the_message_that_carried_it_only() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let f = memfd();
        // A message without, then one with a descriptor: read together,
        // only the second gets it.
        a.write_all(&message(9, &[0; 16])).unwrap();
        send_with_fds(&a, &message(2, &[0; 32]), &[f.as_fd()]);
        a.write_all(&message(13, &[])).unwrap();
        let mut inbox = Inbox::new();
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (9, false));
        assert_eq!(inbox.end, 32 + 48, "both read by one recvmsg");
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (2, true));
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (13, false));
    }

    #[test]
    fn a_descriptor_sent_with_a_messages_first_bytes_waits_for_the_rest() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let whole = message(2, &[3; 32]);
        let f = memfd();
        send_with_fds(&a, &whole[..20], &[f.as_fd()]);
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            a.write_all(&whole[20..]).unwrap();
            a.write_all(&message(13, &[])).unwrap();
        });
        let mut inbox = Inbox::new();
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (2, true));
        assert_eq!(&m.bytes[16..], &[3; 32]);
        t.join().unwrap();
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (13, false));
    }

    #[test]
    fn a_stray_descriptor_is_closed() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let whole = message(10, &[4; 32]);
        a.write_all(&whole[..20]).unwrap();
        let (read_end, write_end) = pipe();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            // The descriptor rides on the tail: no message begins there.
            send_with_fds(&a, &whole[20..], &[write_end.as_fd()]);
            drop(write_end);
            a.write_all(&message(13, &[])).unwrap();
        });
        let mut inbox = Inbox::new();
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (10, false));
        t.join().unwrap();
        let m = inbox.next(&b, ok).unwrap().unwrap();
        assert_eq!((m.header.command, m.fd.is_some()), (13, false));
        assert!(
            write_end_closed(&read_end),
            "the stray descriptor is closed"
        );
    }

    #[test]
    fn more_descriptors_than_max_msg_fds_end_the_read_and_are_closed() {
        let (a, b) = UnixStream::pair().unwrap();
        let (read_end, write_end) = pipe();
        let f = memfd();
        send_with_fds(&a, &message(8, &[0; 20]), &[write_end.as_fd(), f.as_fd()]);
        drop(write_end);
        let mut inbox = Inbox::new();
        let r = inbox.next(&b, ok);
        assert!(
            matches!(
                r,
                Err(HostError::Malformed {
                    command: 8,
                    size: 36,
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(write_end_closed(&read_end), "the received one is closed");
    }
}
