//! Snapshots of the served model: saved to a file when a signal arrives
//! (`pcidev-host --snapshot PATH`, SIGUSR1), and read back at start-up
//! (`--restore PATH`). The format is the runtime's
//! ([`pcidev_runtime::snapshot`], documented in the README).
//!
//! The signal handler only writes a byte to a socket pair; the event
//! thread ([`crate::events::run`]) polls the other end and saves the model
//! under its lock, between two guest accesses, so a snapshot is always of
//! a consistent state. The file is written next to `PATH` and renamed
//! over it: a reader never sees half a snapshot.
//!
//! Not saved: what the host holds outside the model (stream bytes read
//! from a backend but not yet taken by the model, at most
//! [`MAX_INPUT_CHUNK`](pcidev_runtime::MAX_INPUT_CHUNK) per stream; output
//! taken from the model but not yet written to the backend), guest memory
//! and the client's eventfds and DMA mappings (the VMM's: it sets them
//! again when it connects).

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use pcidev_runtime::PciModel;

/// The largest file `--restore` reads (any model's limit is checked after;
/// ivshmem_plain's 1 MiB window takes about 2 MiB).
pub const MAX_SNAPSHOT_FILE: u64 = 256 << 20;

/// Saves the model to a file whenever a signal arrives.
#[derive(Debug)]
pub struct SnapshotOnSignal {
    /// Readable when the signal arrived (one byte per signal).
    wake: UnixStream,
    path: PathBuf,
}

impl SnapshotOnSignal {
    /// Save to `path` on each `signal` from now on.
    pub fn register(signal: i32, path: PathBuf) -> io::Result<Self> {
        let (wake, handler_end) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        handler_end.set_nonblocking(true)?;
        signal_hook::low_level::pipe::register(signal, handler_end)?;
        Ok(SnapshotOnSignal { wake, path })
    }

    /// The descriptor to poll for input.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// Forget the signals that arrived (one save serves them all).
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.wake).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Save `model` to the file; logs the outcome and returns the size.
    pub fn save(&self, model: &dyn PciModel) -> Result<usize, String> {
        let result = model
            .save_snapshot()
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                write_atomically(&self.path, &bytes)
                    .map(|()| bytes.len())
                    .map_err(|e| format!("{}: {e}", self.path.display()))
            });
        match &result {
            Ok(n) => log::info!(
                "snapshot of {} ({n} bytes) written to {}",
                model.info().name,
                self.path.display()
            ),
            Err(e) => log::error!("snapshot not written: {e}"),
        }
        result
    }
}

/// Write `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Restore `model` from the snapshot file at `path`.
pub fn restore_from_file(model: &mut dyn PciModel, path: &Path) -> Result<(), String> {
    let what = |e: &dyn std::fmt::Display| format!("--restore {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| what(&e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SNAPSHOT_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| what(&e))?;
    if bytes.len() as u64 > MAX_SNAPSHOT_FILE {
        return Err(what(&format!("larger than {MAX_SNAPSHOT_FILE} bytes")));
    }
    model.restore_snapshot(&bytes).map_err(|e| what(&e))
}
