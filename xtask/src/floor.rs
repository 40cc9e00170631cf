//! The floor of a vfio-user round trip: what one request/response over a
//! Unix socket costs with nothing behind it.
//!
//! A responder process is forked on one end of a socket pair; it reads
//! 32-byte requests (the size of a vfio-user `REGION_READ`: header, offset,
//! region, count) and answers each with a 36-byte reply (the reply to a
//! 4-byte read: the same 32 bytes and the data), one `read` and one `write`
//! per message, no parsing, no allocation. The parent times batches of
//! round trips (one `write`, one `read`) the way the guest tool times MMIO
//! reads (`guest/mmio-bench`): per-read time of each of 10 batches, median
//! and minimum. `cargo xtask bench` prints it beside the guest read through
//! `pcidev-host` and the same read on QEMU's built-in device: the model's
//! read can not be cheaper than two of these (QEMU to the host and back)
//! plus the guest exit, which is what the model/floor ratio shows.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Request size: a vfio-user `REGION_READ` (16-byte header, offset,
/// region, count).
pub const REQUEST: usize = 32;
/// Reply size: the reply to a 4-byte `REGION_READ`.
pub const REPLY: usize = 36;
/// Batches timed (as the guest tool).
pub const BATCHES: usize = 10;

/// Per-round-trip time of the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    /// Round trips per batch.
    pub round_trips: u32,
    /// Median over the batches of (batch time / round trips), ns.
    pub median_ns: u64,
    /// Minimum over the batches, ns.
    pub min_ns: u64,
}

/// The responder: answer every whole request until end-of-file, then exit.
/// Runs in the forked child: raw system calls on stack buffers only (the
/// child of a threaded parent must not take the allocator's locks).
fn respond(fd: i32) -> ! {
    let mut request = [0u8; REQUEST];
    let mut reply = [0u8; REPLY];
    loop {
        let mut got = 0;
        while got < REQUEST {
            // SAFETY: writes at most the rest of `request`.
            let n = unsafe { libc::read(fd, request[got..].as_mut_ptr().cast(), REQUEST - got) };
            if n <= 0 {
                if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                // SAFETY: leaving the child without running the parent's
                // destructors or atexit handlers.
                unsafe { libc::_exit(0) };
            }
            got += n as usize;
        }
        reply[..REQUEST].copy_from_slice(&request);
        // The reply is a reply, 36 bytes long; the data is the request's
        // first word (anything would do).
        reply[4..8].copy_from_slice(&(REPLY as u32).to_ne_bytes());
        reply[8] |= 1;
        reply[REQUEST..].copy_from_slice(&request[..4]);
        let mut sent = 0;
        while sent < REPLY {
            // SAFETY: reads at most the rest of `reply`.
            let n = unsafe { libc::write(fd, reply[sent..].as_ptr().cast(), REPLY - sent) };
            if n <= 0 {
                if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                // SAFETY: as above.
                unsafe { libc::_exit(1) };
            }
            sent += n as usize;
        }
    }
}

/// A forked responder on the other end of a socket; waited for on drop
/// (after the socket is closed it exits).
struct Responder {
    pid: libc::pid_t,
    socket: Option<UnixStream>,
}

impl Responder {
    fn start() -> Result<Responder> {
        let (ours, theirs) = UnixStream::pair().context("socket pair")?;
        // SAFETY: the child only runs `respond` (system calls on the stack)
        // and `_exit`s; the parent continues normally.
        let pid = unsafe { libc::fork() };
        match pid {
            -1 => Err(std::io::Error::last_os_error()).context("fork"),
            0 => {
                // SAFETY: our copy of the parent's end, closed so that the
                // child sees end-of-file when the parent closes its own.
                unsafe { libc::close(ours.as_raw_fd()) };
                respond(theirs.as_raw_fd())
            }
            pid => {
                drop(theirs);
                Ok(Responder {
                    pid,
                    socket: Some(ours),
                })
            }
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        drop(self.socket.take());
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}

/// Time `BATCHES` batches of `round_trips` request/response round trips
/// against a forked responder (after one warm-up batch).
pub fn measure(round_trips: u32) -> Result<Floor> {
    if round_trips == 0 {
        bail!("no round trips to time");
    }
    let mut responder = Responder::start()?;
    let mut socket = responder.socket.take().context("responder socket")?;
    let mut request = [0u8; REQUEST];
    // A vfio-user REGION_READ of 4 bytes at BAR 1 + 4 (as hello_tic's ID).
    request[2..4].copy_from_slice(&9u16.to_ne_bytes());
    request[4..8].copy_from_slice(&(REQUEST as u32).to_ne_bytes());
    request[16..24].copy_from_slice(&4u64.to_ne_bytes());
    request[24..28].copy_from_slice(&1u32.to_ne_bytes());
    request[28..32].copy_from_slice(&4u32.to_ne_bytes());
    let mut reply = [0u8; REPLY];
    let mut one = |id: u16| -> Result<()> {
        request[0..2].copy_from_slice(&id.to_ne_bytes());
        socket.write_all(&request).context("floor request")?;
        socket.read_exact(&mut reply).context("floor reply")?;
        if reply[0..2] != id.to_ne_bytes() {
            bail!("floor reply out of step");
        }
        Ok(())
    };
    for i in 0..round_trips {
        one(i as u16)?;
    }
    let mut batches = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let start = Instant::now();
        for i in 0..round_trips {
            one(i as u16)?;
        }
        batches.push((start.elapsed().as_nanos() / u128::from(round_trips)) as u64);
    }
    drop(socket);
    drop(responder);
    batches.sort_unstable();
    Ok(Floor {
        round_trips,
        median_ns: batches[batches.len() / 2],
        min_ns: batches[0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_measured_against_a_live_responder() {
        let f = measure(200).unwrap();
        eprintln!("floor: median {} ns, min {} ns", f.median_ns, f.min_ns);
        assert_eq!(f.round_trips, 200);
        assert!(f.min_ns > 0 && f.min_ns <= f.median_ns, "{f:?}");
    }
}
