//! Stream backends: where the bytes of a model's stream (a UART's line) go
//! to and come from, chosen on `pcidev-host`'s command line as
//! `--stream NAME=BACKEND`, after QEMU's `-chardev` kinds:
//!
//! | BACKEND | output (device → world) | input (world → device) |
//! |---|---|---|
//! | `null` | dropped | none |
//! | `stdio` | the host's stdout | the host's stdin, when it can be polled (a pipe, tty or socket) |
//! | `file:PATH` | appended to PATH (created) | none |
//! | `unix:PATH` | a connected Unix stream socket (the peer listens) | the same socket |
//! | `pty` or `pty:LINK` | a new pseudo-terminal in raw mode (its `/dev/pts/N` is logged; `LINK` becomes a symlink to it) | the same terminal |
//!
//! A stream without `--stream` is `null`. Every backend is non-blocking
//! where it can be (sockets, pipes); a backend that closes or fails is
//! marked closed and its output is dropped from then on (counted), never an
//! error of the device: the guest keeps running with a UART whose cable was
//! pulled.
//!
//! A pty is QEMU's `-chardev pty`: attach `screen`, `minicom` or `cat` to the
//! logged path. The host keeps the terminal's other end open itself, so a
//! program that attaches and leaves never hangs the line up; while nobody
//! reads, output waits in the terminal (about 4 KiB) and then in the
//! device's own back-pressure, as with a `unix:` peer that does not read:
//! nothing is lost. (QEMU drops output while no one is attached.)

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A backend as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendSpec {
    /// Output dropped, no input.
    Null,
    /// stdout, and stdin when pollable.
    Stdio,
    /// Output appended to a file.
    File(PathBuf),
    /// A Unix stream socket the host connects to.
    Unix(PathBuf),
    /// A new pseudo-terminal; with a path, a symlink to it is made there.
    Pty(Option<PathBuf>),
}

impl FromStr for BackendSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let path = |p: &str| {
            if p.is_empty() {
                Err(format!("`{s}`: the backend needs a path"))
            } else {
                Ok(PathBuf::from(p))
            }
        };
        match s.split_once(':') {
            None if s == "null" => Ok(BackendSpec::Null),
            None if s == "stdio" => Ok(BackendSpec::Stdio),
            None if s == "pty" => Ok(BackendSpec::Pty(None)),
            Some(("pty", p)) => path(p).map(|p| BackendSpec::Pty(Some(p))),
            Some(("file", p)) => path(p).map(BackendSpec::File),
            Some(("unix", p)) => path(p).map(BackendSpec::Unix),
            _ => Err(format!(
                "`{s}`: unknown stream backend (null, stdio, file:PATH, unix:PATH, pty, pty:LINK)"
            )),
        }
    }
}

/// `NAME=BACKEND`, one `--stream` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamArg {
    /// The spec's stream name.
    pub name: String,
    /// Where it goes.
    pub backend: BackendSpec,
}

impl FromStr for StreamArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, backend) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected NAME=BACKEND, e.g. tx=unix:/tmp/uart.sock"))?;
        if name.is_empty() {
            return Err(format!("`{s}`: the stream name is empty"));
        }
        Ok(StreamArg {
            name: name.to_owned(),
            backend: backend.parse()?,
        })
    }
}

/// An opened backend.
#[derive(Debug)]
pub struct Backend {
    kind: Kind,
    closed: bool,
    /// Output bytes dropped because the backend was closed or failed.
    pub dropped: u64,
}

#[derive(Debug)]
enum Kind {
    Null,
    Stdio { input: bool },
    File(File),
    Unix(UnixStream),
    Pty(Pty),
}

/// A pseudo-terminal: the master the host reads and writes, and the slave
/// kept open so the line never hangs up when a user's program detaches.
#[derive(Debug)]
struct Pty {
    master: OwnedFd,
    _slave: OwnedFd,
    path: PathBuf,
    /// The symlink made for `pty:LINK`, removed on drop.
    link: Option<PathBuf>,
}

impl Pty {
    fn open(link: Option<&Path>) -> io::Result<Pty> {
        use rustix::fs::{Mode, OFlags};
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let name = ptsname(&master, Vec::new())?;
        let path = PathBuf::from(name.to_string_lossy().into_owned());
        let slave = rustix::fs::open(
            &path,
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        // Raw, as QEMU's char-pty sets it: bytes cross unchanged (no echo,
        // no line editing, no CR/LF translation).
        let mut t = tcgetattr(&slave)?;
        t.make_raw();
        tcsetattr(&slave, OptionalActions::Now, &t)?;
        rustix::fs::fcntl_setfl(&master, OFlags::NONBLOCK)?;
        if let Some(link) = link {
            // Replace a stale link from an earlier run, never a real file.
            if std::fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(link)?;
            }
            std::os::unix::fs::symlink(&path, link)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", link.display())))?;
        }
        Ok(Pty {
            master,
            _slave: slave,
            path,
            link: link.map(Path::to_path_buf),
        })
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }
}

/// What a read from a backend gave.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Some bytes.
    Data(usize),
    /// Nothing now (it would block).
    Nothing,
    /// The backend closed (end of file, reset, error): no more input.
    Closed,
}

impl Backend {
    /// Opens `spec` (a Unix socket is connected now).
    pub fn open(spec: &BackendSpec) -> io::Result<Backend> {
        let kind = match spec {
            BackendSpec::Null => Kind::Null,
            BackendSpec::Stdio => Kind::Stdio { input: true },
            BackendSpec::File(p) => Kind::File(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?,
            ),
            BackendSpec::Unix(p) => {
                let s = UnixStream::connect(p)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
                s.set_nonblocking(true)?;
                Kind::Unix(s)
            }
            BackendSpec::Pty(link) => Kind::Pty(Pty::open(link.as_deref())?),
        };
        Ok(Backend {
            kind,
            closed: false,
            dropped: 0,
        })
    }

    /// The descriptor to wait on for input, if the backend has input.
    pub fn input_fd(&self) -> Option<BorrowedFd<'_>> {
        if self.closed {
            return None;
        }
        match &self.kind {
            // SAFETY: descriptor 0 stays open for the life of the process
            // (nothing in the host closes it).
            Kind::Stdio { input: true } => Some(unsafe { BorrowedFd::borrow_raw(0) }),
            Kind::Unix(s) => Some(s.as_fd()),
            Kind::Pty(p) => Some(p.master.as_fd()),
            _ => None,
        }
    }

    /// The terminal a `pty` backend made (`/dev/pts/N`), to attach to.
    pub fn pty_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Pty(p) => Some(&p.path),
            _ => None,
        }
    }

    /// Stdin turned out not to be pollable (a regular file, /dev/null):
    /// the stdio backend has no input.
    pub fn disable_input(&mut self) {
        if let Kind::Stdio { input } = &mut self.kind {
            *input = false;
        }
    }

    /// Whether the backend has been closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Reads what is available into `buf` (never blocks on a socket).
    pub fn read(&mut self, buf: &mut [u8]) -> ReadOutcome {
        if self.closed {
            return ReadOutcome::Closed;
        }
        let r = match &mut self.kind {
            Kind::Stdio { input: true } => io::stdin().lock().read(buf),
            Kind::Unix(s) => s.read(buf),
            Kind::Pty(p) => rustix::io::read(&p.master, buf).map_err(io::Error::from),
            _ => return ReadOutcome::Nothing,
        };
        match r {
            Ok(0) => {
                self.close();
                ReadOutcome::Closed
            }
            Ok(n) => ReadOutcome::Data(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                ReadOutcome::Nothing
            }
            Err(e) => {
                log::warn!("stream backend read: {e}; closing it");
                self.close();
                ReadOutcome::Closed
            }
        }
    }

    /// Writes as much of `data` as the backend takes now; returns how many
    /// bytes were consumed (all of them when the backend drops output).
    pub fn write(&mut self, data: &[u8]) -> usize {
        if self.closed {
            self.dropped += data.len() as u64;
            return data.len();
        }
        let r = match &mut self.kind {
            Kind::Null => Ok(data.len()),
            Kind::Stdio { .. } => {
                let mut out = io::stdout().lock();
                out.write_all(data)
                    .and_then(|()| out.flush())
                    .map(|()| data.len())
            }
            Kind::File(f) => f.write_all(data).map(|()| data.len()),
            Kind::Unix(s) => s.write(data),
            Kind::Pty(p) => rustix::io::write(&p.master, data).map_err(io::Error::from),
        };
        match r {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            Err(e) => {
                log::warn!("stream backend write: {e}; closing it");
                self.close();
                self.dropped += data.len() as u64;
                data.len()
            }
        }
    }

    /// The descriptor to wait on until output can be written again (only a
    /// socket or a terminal can refuse output).
    pub fn output_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.kind {
            Kind::Unix(s) if !self.closed => Some(s.as_fd()),
            Kind::Pty(p) if !self.closed => Some(p.master.as_fd()),
            _ => None,
        }
    }

    fn close(&mut self) {
        self.closed = true;
        if let Kind::Unix(s) = &self.kind {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arguments_are_parsed() {
        let a: StreamArg = "tx=unix:/tmp/u.sock".parse().unwrap();
        assert_eq!(a.name, "tx");
        assert_eq!(a.backend, BackendSpec::Unix("/tmp/u.sock".into()));
        assert_eq!(
            "x=null".parse::<StreamArg>().unwrap().backend,
            BackendSpec::Null
        );
        assert_eq!(
            "x=stdio".parse::<StreamArg>().unwrap().backend,
            BackendSpec::Stdio
        );
        assert_eq!(
            "x=file:out.bin".parse::<StreamArg>().unwrap().backend,
            BackendSpec::File("out.bin".into())
        );
        assert_eq!(
            "x=pty".parse::<StreamArg>().unwrap().backend,
            BackendSpec::Pty(None)
        );
        assert_eq!(
            "x=pty:/tmp/ttyX".parse::<StreamArg>().unwrap().backend,
            BackendSpec::Pty(Some("/tmp/ttyX".into()))
        );
        for bad in ["tx", "=null", "x=unix:", "x=pty:", "x=tcp:1:2"] {
            assert!(bad.parse::<StreamArg>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_unix_backend_carries_bytes_both_ways_and_survives_its_peer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let mut b = Backend::open(&BackendSpec::Unix(path)).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        assert_eq!(b.write(b"hello"), 5);
        let mut got = [0u8; 5];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        let mut buf = [0u8; 16];
        assert_eq!(
            b.read(&mut buf),
            ReadOutcome::Nothing,
            "nothing sent yet: no block"
        );
        peer.write_all(b"in").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let got = loop {
            match b.read(&mut buf) {
                ReadOutcome::Data(n) => break n,
                ReadOutcome::Nothing if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(&buf[..got], b"in");
        drop(peer);
        assert_eq!(b.read(&mut buf), ReadOutcome::Closed);
        assert!(b.is_closed());
        assert_eq!(b.write(b"lost"), 4, "a closed backend drops output");
        assert_eq!(b.dropped, 4);
        assert!(b.input_fd().is_none());
    }

    #[test]
    fn a_unix_backend_whose_peer_never_reads_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let mut b = Backend::open(&BackendSpec::Unix(path)).unwrap();
        let (_peer, _) = listener.accept().unwrap();
        let start = std::time::Instant::now();
        fill(&mut b, 65536);
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        assert!(b.output_fd().is_some());
    }

    /// Writes `chunk`-byte pieces to `b` until it takes no more (a peer
    /// that never reads); the backend's buffer must fill within 64 MiB.
    fn fill(b: &mut Backend, chunk: usize) {
        let chunk = vec![0x55u8; chunk];
        let mut total = 0;
        while b.write(&chunk) > 0 {
            total += chunk.len();
            assert!(total < 64 << 20, "the backend's buffer should fill");
        }
    }

    /// Reads from `b` until `want` bytes came or 5 s passed.
    fn read_all(b: &mut Backend, want: usize) -> Vec<u8> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < want && std::time::Instant::now() < deadline {
            match b.read(&mut buf) {
                ReadOutcome::Data(n) => got.extend_from_slice(&buf[..n]),
                ReadOutcome::Nothing => std::thread::sleep(std::time::Duration::from_millis(5)),
                ReadOutcome::Closed => panic!("the pty closed"),
            }
        }
        got
    }

    #[test]
    fn a_pty_backend_is_raw_both_ways_and_survives_a_user_detaching() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("ttyUART");
        let mut b = Backend::open(&BackendSpec::Pty(Some(link.clone()))).unwrap();
        let pts = b.pty_path().unwrap().to_path_buf();
        assert!(pts.starts_with("/dev/pts"), "{}", pts.display());
        assert_eq!(std::fs::read_link(&link).unwrap(), pts);
        // Bytes a terminal would mangle (CR, LF, ^C, DEL) cross unchanged.
        let bytes = b"a\r\nb\x03\x7f\x00";
        for _ in 0..2 {
            let mut user = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&link)
                .unwrap();
            assert_eq!(b.write(bytes), bytes.len());
            let mut got = [0u8; 7];
            user.read_exact(&mut got).unwrap();
            assert_eq!(&got, bytes, "device -> user");
            user.write_all(bytes).unwrap();
            assert_eq!(read_all(&mut b, bytes.len()), bytes, "user -> device");
            // The user detaches; the line stays up for the next one.
            drop(user);
            let mut buf = [0u8; 4];
            assert_eq!(b.read(&mut buf), ReadOutcome::Nothing);
            assert!(!b.is_closed());
        }
        drop(b);
        assert!(std::fs::symlink_metadata(&link).is_err(), "link removed");
    }

    #[test]
    fn a_pty_nobody_reads_pushes_back_without_blocking() {
        let mut b = Backend::open(&BackendSpec::Pty(None)).unwrap();
        fill(&mut b, 4096);
        assert!(b.output_fd().is_some());
        assert_eq!(b.dropped, 0, "back-pressure, not loss");
    }

    #[test]
    fn file_backends_append_and_missing_sockets_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let mut b = Backend::open(&BackendSpec::File(path.clone())).unwrap();
        assert_eq!(b.write(b"ab"), 2);
        assert_eq!(b.write(b"c"), 1);
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        assert!(b.input_fd().is_none());
        let err = Backend::open(&BackendSpec::Unix(dir.path().join("nope.sock"))).unwrap_err();
        assert!(err.to_string().contains("nope.sock"), "{err}");
    }
}
