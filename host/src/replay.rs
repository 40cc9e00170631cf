//! Serving a client's bytes from memory: a recorded vfio-user byte stream
//! replayed against a model, for fuzzing the framing guard, the `vfio_user`
//! server and [`ModelBackend`](crate::ModelBackend) together
//! (`fuzz/fuzz_targets/vfio_user.rs`, and its bounded version in
//! `host/tests/hostile_client.rs`).
//!
//! The bytes go in over a socket pair exactly as a client's would (no file
//! descriptors: a `DMA_MAP` without one maps nothing accessible), the
//! replies are read and discarded as they come so the server never blocks
//! on a full socket, and the client's end is closed after the last byte.

use std::io::Read;
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use pcidev_runtime::PciModel;

use crate::events::Outside;
use crate::server::Connection;
use crate::{Disconnect, HostError};

/// What a replay ended with, and how many reply bytes the server sent.
#[derive(Debug)]
pub struct Replayed {
    /// How the connection ended.
    pub result: Result<Disconnect, HostError>,
    /// Bytes of replies the client end received.
    pub reply_bytes: usize,
}

/// Serve `model` to a client that sends `input` and hangs up. With
/// `events`, the model's clock runs and its streams go to `null` backends
/// (the event thread runs, as in `pcidev-host`).
pub fn serve_bytes(model: &mut dyn PciModel, input: &[u8], events: bool) -> Replayed {
    let (ours, theirs) = match UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            return Replayed {
                result: Err(e.into()),
                reply_bytes: 0,
            };
        }
    };
    let outside = events.then(|| Outside::none(model.streams().len()));
    std::thread::scope(|s| {
        let mut reader = match theirs.try_clone() {
            Ok(r) => r,
            Err(e) => {
                return Replayed {
                    result: Err(e.into()),
                    reply_bytes: 0,
                };
            }
        };
        let replies = s.spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
            sink.len()
        });
        let writer = &theirs;
        let feeder = s.spawn(move || {
            // The server may end the connection early (a malformed
            // message): the rest of the input is then refused (EPIPE, not
            // SIGPIPE: a fuzzer's process does not ignore that signal).
            let mut rest = input;
            while !rest.is_empty() {
                match rustix::net::send(writer, rest, rustix::net::SendFlags::NOSIGNAL) {
                    Ok(n) => rest = &rest[n..],
                    Err(rustix::io::Errno::INTR) => {}
                    Err(_) => break,
                }
            }
            let _ = writer.shutdown(Shutdown::Write);
        });
        let result = Connection::from_stream(ours).serve_with(model, outside);
        let _ = feeder.join();
        let _ = theirs.shutdown(Shutdown::Both);
        Replayed {
            result,
            reply_bytes: replies.join().unwrap_or(0),
        }
    })
}
