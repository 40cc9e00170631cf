//! Carrying out a model's VMM requests ([`VmmRequest`]: a watchdog resets
//! the machine, pvpanic reports a panic) over QEMU's QMP socket
//! (`pcidev-host --qmp PATH`, with QEMU started with `-qmp
//! unix:PATH,server=on,wait=off`), as QEMU's own devices do:
//!
//! | request | QMP command | QEMU's built-in equivalent |
//! |---|---|---|
//! | `Reset` | `system_reset` | `watchdog_perform_action()` under `-action watchdog=reset` |
//! | `PowerOff` | `quit` | `-action watchdog=poweroff` |
//! | `Stop` | `stop` | `-action watchdog=pause` |
//! | `Panic` | `stop` | `qemu_system_guest_panicked()` under `-action panic=pause` |
//! | `CrashLoaded` | none (reported) | `GUEST_CRASHLOADED` is only an event |
//!
//! QMP has no command that enters the `guest-panicked` run state, so a
//! model's panic leaves QEMU `paused` where its built-in pvpanic leaves it
//! `guest-panicked`; both stop the guest.
//!
//! Every request is also logged. Sending never blocks the device: the
//! socket is written by the host's event thread with a bounded timeout, and
//! replies and events QEMU sends are read and discarded there.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pcidev_runtime::VmmRequest;

/// How long connecting and the capabilities handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The QMP command a request maps to (`None`: report only).
pub const fn qmp_command(r: VmmRequest) -> Option<&'static str> {
    match r {
        VmmRequest::Reset => Some("system_reset"),
        VmmRequest::PowerOff => Some("quit"),
        VmmRequest::Stop | VmmRequest::Panic => Some("stop"),
        VmmRequest::CrashLoaded => None,
    }
}

/// A QMP connection that carries out requests.
#[derive(Debug)]
pub struct QmpClient {
    path: PathBuf,
    stream: Option<UnixStream>,
    /// Connected by [`open`](Self::open), not negotiated yet.
    opened: Option<UnixStream>,
    /// Requests carried out (command sent).
    pub sent: u64,
    /// Requests that could not be sent (no connection).
    pub failed: u64,
}

impl QmpClient {
    /// A client for the QMP socket at `path`; it connects on first use (QEMU
    /// creates the socket when it starts, which may be after the host).
    pub fn new(path: impl Into<PathBuf>) -> QmpClient {
        QmpClient {
            path: path.into(),
            stream: None,
            opened: None,
            sent: 0,
            failed: 0,
        }
    }

    /// Connects the socket now, without waiting for QEMU to answer: the
    /// capabilities are negotiated by the next [`connect`](Self::connect)
    /// (QEMU may be busy setting up the very device this host serves).
    /// What a host about to drop its privileges does while it still may
    /// reach QEMU's socket.
    pub fn open(&mut self) -> io::Result<()> {
        if self.stream.is_none() && self.opened.is_none() {
            self.opened = Some(UnixStream::connect(&self.path).map_err(|e| {
                io::Error::new(e.kind(), format!("QMP socket {}: {e}", self.path.display()))
            })?);
        }
        Ok(())
    }

    /// Connects (or takes the socket [`open`](Self::open) connected) and
    /// negotiates capabilities now (idempotent).
    pub fn connect(&mut self) -> io::Result<()> {
        if self.stream.is_none() {
            let s = match self.opened.take() {
                Some(s) => s,
                None => UnixStream::connect(&self.path).map_err(|e| {
                    io::Error::new(e.kind(), format!("QMP socket {}: {e}", self.path.display()))
                })?,
            };
            self.stream = Some(handshake(s)?);
        }
        Ok(())
    }

    /// The socket to wait on for QEMU's replies and events (to discard).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.stream.as_ref().map(|s| s.as_fd())
    }

    /// Reads and drops whatever QEMU sent; a closed socket is forgotten.
    pub fn discard_input(&mut self) {
        let Some(s) = &mut self.stream else { return };
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => {
                    self.stream = None;
                    return;
                }
                Ok(n) => log::debug!("qmp: {}", String::from_utf8_lossy(&buf[..n]).trim_end()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.stream = None;
                    return;
                }
            }
        }
    }

    /// Carries out `request`; errors are logged and counted, never fatal.
    pub fn perform(&mut self, request: VmmRequest) {
        let Some(cmd) = qmp_command(request) else {
            log::info!("vmm request {request:?}: reported (no QMP action)");
            return;
        };
        let result = self.connect().and_then(|()| {
            let s = self.stream.as_mut().ok_or(io::ErrorKind::NotConnected)?;
            send_all(s, format!("{{\"execute\": \"{cmd}\"}}\n").as_bytes())
        });
        match result {
            Ok(()) => {
                self.sent += 1;
                log::info!("vmm request {request:?}: QMP {cmd} sent");
            }
            Err(e) => {
                self.failed += 1;
                self.stream = None;
                log::warn!("vmm request {request:?}: QMP {cmd} not sent ({e})");
            }
        }
    }
}

/// Writes all of `data` to a non-blocking socket, waiting at most
/// [`HANDSHAKE_TIMEOUT`] for room.
fn send_all(s: &mut UnixStream, mut data: &[u8]) -> io::Result<()> {
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    while !data.is_empty() {
        match s.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Connects, reads the greeting, sends `qmp_capabilities` and waits for its
/// reply; the returned socket is non-blocking.
fn handshake(mut s: UnixStream) -> io::Result<UnixStream> {
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let mut got = Vec::new();
    let read_line = |s: &mut UnixStream, got: &mut Vec<u8>| -> io::Result<String> {
        loop {
            if let Some(nl) = got.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = got.drain(..=nl).collect();
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "QMP handshake timed out",
                ));
            }
            let mut buf = [0u8; 1024];
            match s.read(&mut buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    };
    let greeting = read_line(&mut s, &mut got)?;
    if !greeting.contains("\"QMP\"") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a QMP greeting: {}", greeting.trim()),
        ));
    }
    s.write_all(b"{\"execute\": \"qmp_capabilities\"}\n")?;
    loop {
        let line = read_line(&mut s, &mut got)?;
        if line.contains("\"return\"") {
            break;
        }
        if line.contains("\"error\"") {
            return Err(io::Error::other(format!(
                "qmp_capabilities: {}",
                line.trim()
            )));
        }
    }
    s.set_nonblocking(true)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    /// A fake QEMU: greeting, capabilities reply, then records commands.
    fn fake_qemu(
        listener: std::os::unix::net::UnixListener,
    ) -> std::thread::JoinHandle<Vec<String>> {
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n")
                .unwrap();
            let mut r = io::BufReader::new(s.try_clone().unwrap());
            let mut cmds = Vec::new();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                cmds.push(line.trim().to_owned());
                s.write_all(b"{\"return\": {}}\r\n").unwrap();
                line.clear();
            }
            cmds
        })
    }

    #[test]
    fn requests_become_qmp_commands() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        let fake = fake_qemu(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let mut q = QmpClient::new(&path);
        for r in [
            VmmRequest::Reset,
            VmmRequest::CrashLoaded,
            VmmRequest::Panic,
            VmmRequest::PowerOff,
        ] {
            q.perform(r);
        }
        assert_eq!((q.sent, q.failed), (3, 0));
        std::thread::sleep(Duration::from_millis(50));
        q.discard_input();
        drop(q);
        let cmds = fake.join().unwrap();
        assert_eq!(
            cmds,
            [
                r#"{"execute": "qmp_capabilities"}"#,
                r#"{"execute": "system_reset"}"#,
                r#"{"execute": "stop"}"#,
                r#"{"execute": "quit"}"#
            ]
        );
    }

    #[test]
    fn no_qemu_is_counted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = QmpClient::new(dir.path().join("absent.sock"));
        q.perform(VmmRequest::Reset);
        q.perform(VmmRequest::Stop);
        assert_eq!((q.sent, q.failed), (0, 2));
        assert!(q.fd().is_none());
    }

    #[test]
    fn every_request_has_a_mapping() {
        for r in VmmRequest::ALL {
            let _ = qmp_command(r);
        }
        assert_eq!(qmp_command(VmmRequest::Reset), Some("system_reset"));
        assert_eq!(qmp_command(VmmRequest::CrashLoaded), None);
    }
}
