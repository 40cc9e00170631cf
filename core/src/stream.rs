//! Limits of byte streams between a device and the outside world.
//!
//! A spec's `send` puts a byte into its stream's output queue; the host
//! drains the queue into the stream's backend. The queue is bounded so a
//! guest that transmits faster than the backend takes bytes cannot make the
//! host use unbounded memory: a `send` into a full queue is dropped (and
//! traced), and specs that must not lose bytes wait on `NAME.space`.

/// Capacity of a stream's output queue, in bytes.
pub const QUEUE_BYTES: usize = 64 << 10;

/// The most bytes one `input` step or one host delivery hands a model at
/// once (the rest waits for the next delivery).
pub const MAX_INPUT_CHUNK: usize = 4096;
