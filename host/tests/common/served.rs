//! A model served in-process: a `DeviceServer` on a fresh socket in a
//! temporary directory, serving on its own thread until the client goes.
//! Included by the tests (`common::served`) and by the `round_trip` bench
//! (`#[path]`), so it uses nothing else of `common`.

#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread::JoinHandle;

use pcidev_host::{DeviceServer, Disconnect, HostError};
use pcidev_runtime::PciModel;
use vfio_user::Client;

/// How serving ended, and the model as the connection left it.
pub type Served<M> = (Result<Disconnect, HostError>, M);

/// A model being served on a fresh socket.
pub struct Serving<M> {
    _dir: tempfile::TempDir,
    /// The socket the server listens on.
    pub path: PathBuf,
    thread: JoinHandle<Served<M>>,
}

impl<M: PciModel + Send + 'static> Serving<M> {
    /// Bind a socket in a fresh directory and serve `model` on a thread.
    pub fn start(mut model: M) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.sock");
        let server = DeviceServer::bind(&path).unwrap();
        let thread = std::thread::spawn(move || {
            let result = server.serve(&mut model);
            (result, model)
        });
        Serving {
            _dir: dir,
            path,
            thread,
        }
    }

    /// A vfio-user client connected to the server.
    pub fn client(&self) -> Client {
        Client::new(&self.path).unwrap()
    }

    /// A raw connection, for messages the client would not send.
    pub fn raw(&self) -> UnixStream {
        UnixStream::connect(&self.path).unwrap()
    }

    /// Wait for the connection to end.
    pub fn join(self) -> Served<M> {
        self.thread.join().expect("server thread panicked")
    }

    /// Wait for the connection to end; the socket file must be gone (the
    /// directory is still there when this looks).
    pub fn finish(self) -> Served<M> {
        let Serving { _dir, path, thread } = self;
        let served = thread.join().expect("server thread panicked");
        assert!(!path.exists(), "socket file left behind");
        served
    }
}
