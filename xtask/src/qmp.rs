//! The harness's ends of QEMU's sockets: a Unix socket the harness listens
//! on and QEMU connects to at start-up ([`HostSocket`], for `-chardev
//! socket` backends and `-qmp`), and a small QMP client ([`Qmp`]) that
//! negotiates capabilities, runs commands and records every event QEMU sends
//! (`GUEST_PANICKED`, `STOP`, `WATCHDOG`, `RESET`, ...).
//!
//! The harness listens before QEMU starts, so no byte QEMU sends can be
//! missed and no connect has to be retried. Every read has a deadline: a
//! QEMU that never connects or never answers makes the call fail, never
//! hang.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::qemu::StageDir;

/// How long one blocking read waits before the deadline is checked again.
const POLL: Duration = Duration::from_millis(50);

/// A listening Unix socket in a stage directory (see
/// [`crate::qemu::Qemu::stage_dir`]): QEMU connects to [`Self::inside`].
#[derive(Debug)]
pub struct HostSocket {
    listener: UnixListener,
    /// The path the harness bound.
    pub host: PathBuf,
    /// The same socket as QEMU (maybe chrooted) sees it.
    pub inside: PathBuf,
}

impl HostSocket {
    /// Listen on `name` in `stage`.
    pub fn bind(stage: &StageDir, name: &str) -> Result<HostSocket> {
        let (host, inside) = stage.path(name);
        let listener =
            UnixListener::bind(&host).with_context(|| format!("binding {}", host.display()))?;
        listener.set_nonblocking(true)?;
        Ok(HostSocket {
            listener,
            host,
            inside,
        })
    }

    /// `-qmp unix:PATH`: QEMU connects to this socket as a QMP client.
    pub fn qmp_arg(&self) -> String {
        format!("unix:{}", self.inside.display())
    }

    /// `-chardev socket,id=ID,path=PATH`: a character backend connected to
    /// this socket.
    pub fn chardev_arg(&self, id: &str) -> String {
        format!("socket,id={id},path={}", self.inside.display())
    }

    /// Wait for QEMU to connect (at most `within`).
    pub fn accept(&self, within: Duration) -> Result<UnixStream> {
        let deadline = Instant::now() + within;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false)?;
                    s.set_read_timeout(Some(POLL))?;
                    return Ok(s);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        bail!(
                            "QEMU did not connect to {} in {within:?}",
                            self.host.display()
                        );
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e).context("accepting QEMU's connection"),
            }
        }
    }
}

/// Reads from `s` into `buf` until `done(buf)` or the deadline; returns
/// whether `done` became true (false: deadline or end of stream).
pub fn read_until(
    s: &mut UnixStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    done: impl Fn(&[u8]) -> bool,
) -> Result<bool> {
    let mut chunk = [0u8; 4096];
    while !done(buf) {
        if Instant::now() >= deadline {
            return Ok(false);
        }
        match s.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("reading from QEMU's socket"),
        }
    }
    Ok(true)
}

/// A QMP session on a connected stream.
#[derive(Debug)]
pub struct Qmp {
    stream: UnixStream,
    pending: Vec<u8>,
    /// Every event received so far, in order, with the time it was read.
    pub events: Vec<(Instant, Value)>,
}

impl Qmp {
    /// Reads the greeting and enters command mode (`qmp_capabilities`).
    pub fn handshake(stream: UnixStream, within: Duration) -> Result<Qmp> {
        stream.set_read_timeout(Some(POLL))?;
        let mut q = Qmp {
            stream,
            pending: Vec::new(),
            events: Vec::new(),
        };
        let deadline = Instant::now() + within;
        let greeting = q.message(deadline)?.context("QMP: no greeting")?;
        if greeting.get("QMP").is_none() {
            bail!("QMP: unexpected greeting {greeting}");
        }
        q.execute("qmp_capabilities", None, within)?;
        Ok(q)
    }

    /// Runs a command and returns its `return` value (an `error` reply is
    /// an error). Events read meanwhile are recorded.
    pub fn execute(
        &mut self,
        command: &str,
        args: Option<Value>,
        within: Duration,
    ) -> Result<Value> {
        let mut msg = serde_json::json!({ "execute": command });
        if let Some(a) = args {
            msg["arguments"] = a;
        }
        let mut line = msg.to_string();
        line.push('\n');
        self.stream
            .write_all(line.as_bytes())
            .with_context(|| format!("QMP: sending {command}"))?;
        let deadline = Instant::now() + within;
        loop {
            let m = self
                .message(deadline)?
                .with_context(|| format!("QMP: no reply to {command}"))?;
            if let Some(r) = m.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = m.get("error") {
                bail!("QMP: {command} failed: {e}");
            }
        }
    }

    /// Waits until an event named one of `names` arrives (or has arrived
    /// since the last call that returned one); `None` at the deadline or
    /// when QEMU closed the connection.
    pub fn wait_event(&mut self, names: &[&str], deadline: Instant) -> Result<Option<Value>> {
        let seen = self.events.len();
        loop {
            if let Some((_, e)) = self.events[seen..]
                .iter()
                .find(|(_, e)| names.iter().any(|n| e["event"] == *n))
            {
                return Ok(Some(e.clone()));
            }
            if self.message(deadline)?.is_none() {
                return Ok(None);
            }
        }
    }

    /// Reads events until QEMU closes the connection or the deadline.
    pub fn drain(&mut self, deadline: Instant) -> Result<()> {
        while self.message(deadline)?.is_some() {}
        Ok(())
    }

    /// The names of the events received, in order.
    pub fn event_names(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(_, e)| e["event"].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// The next message (events are also recorded); `None` at the deadline
    /// or at the end of the stream.
    fn message(&mut self, deadline: Instant) -> Result<Option<Value>> {
        loop {
            if let Some(nl) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=nl).collect();
                let text = String::from_utf8_lossy(&line);
                if text.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(text.trim())
                    .with_context(|| format!("QMP: not JSON: {text}"))?;
                if v.get("event").is_some() {
                    self.events.push((Instant::now(), v.clone()));
                }
                return Ok(Some(v));
            }
            let mut chunk = [0u8; 4096];
            if Instant::now() >= deadline {
                return Ok(None);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(None),
                Err(e) => return Err(e).context("QMP: reading"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake QEMU on the other end of a socket pair: greeting, the
    /// capabilities reply, an event, then a command's reply.
    #[test]
    fn qmp_session_records_events_and_returns_replies() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let fake = std::thread::spawn(move || {
            theirs
                .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n")
                .unwrap();
            let mut buf = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(5);
            theirs.set_read_timeout(Some(POLL)).unwrap();
            read_until(&mut theirs, &mut buf, deadline, |b| b.ends_with(b"\n")).unwrap();
            assert!(String::from_utf8_lossy(&buf).contains("qmp_capabilities"));
            theirs.write_all(b"{\"return\": {}}\r\n").unwrap();
            buf.clear();
            read_until(&mut theirs, &mut buf, deadline, |b| b.ends_with(b"\n")).unwrap();
            assert!(String::from_utf8_lossy(&buf).contains("query-status"));
            theirs
                .write_all(b"{\"event\": \"STOP\", \"timestamp\": {}}\r\n{\"return\": {\"status\": \"paused\", \"running\": false}}\r\n")
                .unwrap();
            theirs
                .write_all(b"{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}}\n")
                .unwrap();
        });
        let mut q = Qmp::handshake(ours, Duration::from_secs(5)).unwrap();
        let r = q
            .execute("query-status", None, Duration::from_secs(5))
            .unwrap();
        assert_eq!(r["status"], "paused");
        let e = q
            .wait_event(&["GUEST_PANICKED"], Instant::now() + Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert_eq!(e["data"]["action"], "pause");
        assert_eq!(q.event_names(), ["STOP", "GUEST_PANICKED"]);
        fake.join().unwrap();
        // The peer is gone: waiting ends at once with nothing.
        assert!(
            q.wait_event(&["RESET"], Instant::now() + Duration::from_secs(5))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_error_reply_is_an_error_and_silence_times_out() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs
            .write_all(
                b"{\"QMP\": {}}\n{\"return\": {}}\n{\"error\": {\"class\": \"GenericError\"}}\n",
            )
            .unwrap();
        let mut q = Qmp::handshake(ours, Duration::from_secs(5)).unwrap();
        assert!(q.execute("bogus", None, Duration::from_secs(5)).is_err());
        let t = Instant::now();
        assert!(
            q.execute("query-status", None, Duration::from_millis(200))
                .is_err()
        );
        assert!(t.elapsed() < Duration::from_secs(2));
        drop(theirs);
    }
}
