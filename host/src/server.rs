//! [`DeviceServer`]: the listening socket, one served connection, and the
//! socket file's lifetime.
//!
//! The socket file is created by [`DeviceServer::bind`] and removed when the
//! server is dropped — after [`DeviceServer::serve`] returns, whatever the
//! outcome, and on unwinding. (A process killed by a signal runs no
//! destructors: the `pcidev-host` binary removes the file itself on SIGINT
//! and SIGTERM, see [`DeviceServer::socket_path`].) A stale socket left by a
//! killed server is replaced; any other existing file is left alone.
//!
//! Inside one connection the `vfio_user` crate's server runs in a thread
//! behind the framing [`guard`](crate::guard), connected to it by a socket
//! pair made through a listener in the abstract namespace (the crate's server
//! only accepts from a listener). Its name is random and it accepts one
//! connection, made immediately after it is bound.

use std::fs;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::thread;

use pcidev_runtime::PciModel;

use crate::backend::{BackendStats, ModelBackend, SharedBackend, lock_backend};
use crate::error::HostError;
use crate::events::{self, Hub, Outside};
use crate::guard;
use crate::layout::Layout;
use std::sync::Arc;

/// How a served connection ended when the client simply went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect {
    /// What the connection did.
    pub stats: BackendStats,
}

/// Binds a listening socket at `path` that only its owner can connect to
/// from the moment it exists there: whoever connects owns the device (and,
/// through DMA, the guest memory QEMU hands over). The socket is bound in
/// a fresh directory of mode 0700 beside `path`, set to 0600, then renamed
/// into place (no `umask` games: that is process-wide). Where that
/// directory's longer path does not fit a socket address, it is bound in
/// place and set to 0600 at once.
fn bind_private(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let owner_only = fs::Permissions::from_mode(0o600);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Unique per process and call (several servers may bind at once).
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let private = parent.join(format!(".pcidev-host.{}.{n}", std::process::id()));
    fs::DirBuilder::new().mode(0o700).create(&private)?;
    let staged = private.join("s");
    let result = match UnixListener::bind(&staged) {
        Ok(listener) => fs::set_permissions(&staged, owner_only.clone())
            .and_then(|()| fs::rename(&staged, path))
            .map(|()| listener),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            // The staging path is too long for a socket address.
            UnixListener::bind(path)
                .and_then(|listener| fs::set_permissions(path, owner_only).map(|()| listener))
        }
        Err(e) => Err(e),
    };
    let _ = fs::remove_file(&staged);
    let _ = fs::remove_dir(&private);
    result
}

/// A vfio-user server socket, ready to serve one client.
#[derive(Debug)]
pub struct DeviceServer {
    listener: UnixListener,
    socket: SocketFile,
    /// Offer side-effect-free windows as mmap-able (see [`crate::windows`]).
    map_windows: bool,
}

impl DeviceServer {
    /// Create the socket at `path` and listen on it, readable and writable
    /// by its owner only (mode 0600). A stale socket (one nobody listens
    /// on) at `path` is replaced; anything else there is an error.
    pub fn bind(path: impl AsRef<Path>) -> Result<Self, HostError> {
        let path = path.as_ref();
        let socket_error = |source| HostError::Socket {
            path: path.to_owned(),
            source,
        };
        if let Ok(meta) = fs::symlink_metadata(path) {
            let stale = meta.file_type().is_socket()
                && matches!(UnixStream::connect(path), Err(e) if e.kind() == io::ErrorKind::ConnectionRefused);
            if !stale {
                return Err(HostError::SocketInUse(path.to_owned()));
            }
            fs::remove_file(path).map_err(socket_error)?;
        }
        let listener = bind_private(path).map_err(socket_error)?;
        let meta = fs::symlink_metadata(path).map_err(socket_error)?;
        Ok(DeviceServer {
            listener,
            socket: SocketFile {
                path: path.to_owned(),
                id: (meta.dev(), meta.ino()),
            },
            map_windows: true,
        })
    }

    /// Whether windows that qualify are offered to the client as mmap-able
    /// memory (default: yes); `false` serves every access over the socket
    /// (to compare the two, or to trace every access).
    pub fn map_windows(mut self, on: bool) -> Self {
        self.map_windows = on;
        self
    }

    /// The socket path.
    pub fn socket_path(&self) -> &Path {
        &self.socket.path
    }

    /// A handle that removes the socket file from anywhere (a signal
    /// handling thread about to exit the process, where no destructor
    /// runs). It removes the file only while it is still the socket this
    /// server created.
    pub fn cleanup(&self) -> SocketCleanup {
        SocketCleanup {
            path: self.socket.path.clone(),
            id: self.socket.id,
        }
    }

    /// Wait for one client and serve `model` to it until the client
    /// disconnects (`Ok`, with what the connection did) or the connection
    /// fails (a malformed message, a truncated one, an I/O or protocol
    /// error). Then stop listening and remove the socket file.
    ///
    /// The model keeps its state (and, in its trace, its history); it loses
    /// the connection's guest memory and eventfds.
    pub fn serve(self, model: &mut dyn PciModel) -> Result<Disconnect, HostError> {
        self.serve_with(model, None)
    }

    /// [`serve`](Self::serve) with the model's clock running in real time,
    /// its streams connected to `outside`'s backends and its VMM requests
    /// carried out over QMP (see [`crate::events`]). `None`: no clock, no
    /// streams, as [`serve`](Self::serve).
    pub fn serve_with(
        self,
        model: &mut dyn PciModel,
        outside: Option<Outside>,
    ) -> Result<Disconnect, HostError> {
        let DeviceServer {
            listener,
            socket,
            map_windows,
        } = self;
        let accepted = listener.accept();
        // One client per server: later ones are refused, not queued.
        drop(listener);
        let (client, _) = accepted.map_err(|source| HostError::Socket {
            path: socket.path.clone(),
            source,
        })?;
        let result = serve_connection(client, model, outside, map_windows);
        drop(socket);
        result
    }
}

/// Serve `model` on an accepted connection.
pub(crate) fn serve_connection(
    client: UnixStream,
    model: &mut dyn PciModel,
    outside: Option<Outside>,
    map_windows: bool,
) -> Result<Disconnect, HostError> {
    let info = model.info();
    let hub = match &outside {
        Some(_) => Some(Arc::new(Hub::new(model.streams().len())?)),
        None => None,
    };
    let layout = Layout::new(info);
    let (internal_listener, internal) = internal_pair()?;
    let mut regions = layout.server_regions();
    // Open while the regions are served: they name these fds.
    let _window_files = if map_windows {
        crate::windows::share(model, &mut regions)
    } else {
        Vec::new()
    };
    let server = vfio_user::Server::from_owned_fd(
        OwnedFd::from(internal_listener),
        true,
        layout.irq_infos(),
        regions,
    );
    let mut backend = ModelBackend::new(model);
    if let Some(h) = &hub {
        backend.set_hub(Arc::clone(h));
    }
    let backend = std::sync::Mutex::new(backend);
    log::info!(
        "serving {} ({:04x}:{:04x})",
        info.name,
        info.vendor_id,
        info.device_id
    );
    let (relayed, served) = thread::scope(|s| {
        let shared = &backend;
        let events = match (&hub, outside) {
            (Some(h), Some(o)) => Some(s.spawn(move || events::run(h, shared, o))),
            _ => None,
        };
        let server_thread = s.spawn(move || {
            let result = server.run(&mut SharedBackend(shared));
            let stats = lock_backend(shared).stats();
            (result, stats)
        });
        // Region reads and writes take the guard's fast path when nothing
        // else is in flight (see guard::relay).
        let relayed = guard::relay(client, internal, Some(shared));
        let served = server_thread.join();
        if let (Some(h), Some(t)) = (&hub, events) {
            h.stop();
            if let Ok(stats) = t.join() {
                log::info!(
                    "events: {} timers fired (lateness median {} us, p99 {} us, max {} us), {} bytes in, {} out, {} dropped, {} VMM requests",
                    stats.timers_fired,
                    stats.lateness.quantile_us(0.5).unwrap_or(0),
                    stats.lateness.quantile_us(0.99).unwrap_or(0),
                    stats.lateness.max_ns() / 1000,
                    stats.bytes_in,
                    stats.bytes_out,
                    stats.bytes_dropped,
                    stats.vmm_requests
                );
            }
        }
        (relayed, served)
    });
    match (relayed, served) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(_)) => Err(HostError::ServerPanicked),
        (Ok(_), Ok((Err(e), _))) => Err(HostError::Protocol(e)),
        (Ok(_), Ok((Ok(()), stats))) => Ok(Disconnect { stats }),
    }
}

/// A listener for the `vfio_user` server and the guard's connection to it.
fn internal_pair() -> io::Result<(UnixListener, UnixStream)> {
    let name = format!("pcidev-host/{}/{:016x}", std::process::id(), random_u64());
    let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    let listener = UnixListener::bind_addr(&addr)?;
    let stream = UnixStream::connect_addr(&addr)?;
    Ok((listener, stream))
}

/// 64 unpredictable bits for the internal socket's name.
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok()
    {
        return u64::from_ne_bytes(bytes);
    }
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Removes a server's socket file; see [`DeviceServer::cleanup`].
#[derive(Debug, Clone)]
pub struct SocketCleanup {
    path: PathBuf,
    id: (u64, u64),
}

impl SocketCleanup {
    /// Remove the socket file if it is still the one the server created.
    pub fn remove(&self) {
        if let Ok(meta) = fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.id
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The socket file, removed on drop if it is still the one we created.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        SocketCleanup {
            path: self.path.clone(),
            id: self.id,
        }
        .remove();
    }
}
