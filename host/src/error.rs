//! The errors a served connection (or setting one up) can end with.

use std::io;
use std::path::PathBuf;

/// Why serving a device stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The socket path exists and is not a stale socket we may replace.
    #[error("{}: already exists and is not a stale socket", .0.display())]
    SocketInUse(PathBuf),
    /// Binding, accepting or configuring a socket failed.
    #[error("socket {}: {source}", path.display())]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The client sent a message that does not fit its command's layout.
    /// The connection was ended; nothing of the message reached the model.
    #[error("malformed message (command {command}, {size} bytes): {reason}")]
    Malformed {
        /// The command number in the message header.
        command: u16,
        /// The message size the header claims.
        size: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The client closed the connection in the middle of a message.
    #[error("client disconnected in the middle of a message ({got} of {expected} bytes)")]
    Truncated {
        /// Bytes of the message received.
        got: usize,
        /// Bytes the message should have had.
        expected: usize,
    },
    /// Reading from or writing to the client failed.
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    /// The vfio-user server ended with an error of its own.
    #[error("vfio-user server: {0}")]
    Protocol(#[from] vfio_user::Error),
    /// The vfio-user server thread panicked (a bug: nothing a client sends
    /// should get past the framing guard and make it panic).
    #[error("vfio-user server thread panicked")]
    ServerPanicked,
}
