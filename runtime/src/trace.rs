//! Tracing of everything a model does: config and BAR accesses with their
//! outcome, interrupt edges, MSI messages, DMA, hooks, resets, timer
//! firings, stream bytes in and out, and VMM requests.
//!
//! Events are `serde`-serializable; [`JsonLinesTrace`] writes one JSON object
//! per line (serde's externally tagged form, e.g.
//! `{"BarRead":{"bar":0,"offset":4,"size":4,"value":1,"outcome":"Done"}}`).
//! [`TraceBuffer`] collects events in memory for tests.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::info::InvalidAccess;
use pcidev_core::VmmRequest;

/// Why a BAR access was invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvalidReason {
    /// The device has no BAR with that index.
    UnknownBar,
    /// The access length is not allowed by the BAR's policy (0, 3, 5..=7
    /// and lengths above 8 are never allowed).
    Size,
    /// The BAR requires natural alignment and the offset is not a multiple
    /// of the length.
    Misaligned,
    /// `offset + len` goes beyond the BAR's size.
    OutOfRange,
}

/// How a BAR access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccessOutcome {
    /// Valid access, dispatched to the registers it overlaps.
    Done,
    /// COMMAND.IO (I/O BAR) or COMMAND.MEM (memory BAR) is clear: reads
    /// returned all-ones, writes were dropped.
    DecodeDisabled,
    /// Invalid access, handled as `action` says.
    Invalid {
        /// What made it invalid.
        reason: InvalidReason,
        /// What the BAR's policy did about it (an unknown BAR always errors).
        action: InvalidAccess,
    },
}

/// Direction of a DMA transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DmaDirection {
    /// Device to guest memory.
    ToGuest,
    /// Guest memory to device.
    FromGuest,
}

pub use pcidev_core::data::fnv1a64;
pub use pcidev_core::dma::DmaOutcome;

/// The status code a spec's `dma ... status PLACE` stores when the device
/// itself refuses a transfer because its buffer range is invalid.
pub const DMA_STATUS_BAD_BUFFER_RANGE: u64 = DmaOutcome::BadBufferRange.status_code();

/// One traced event. Access values are the bytes of the access as a
/// little-endian integer (the first 8 bytes when the access is longer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceEvent {
    /// Configuration space read.
    ConfigRead {
        /// Byte offset.
        offset: u64,
        /// Access length in bytes.
        size: usize,
        /// Value returned.
        value: u64,
    },
    /// Configuration space write.
    ConfigWrite {
        /// Byte offset.
        offset: u64,
        /// Access length in bytes.
        size: usize,
        /// Value written.
        value: u64,
    },
    /// BAR read.
    BarRead {
        /// BAR index (255 when a PIO/MMIO base matched no BAR).
        bar: u8,
        /// Offset inside the BAR.
        offset: u64,
        /// Access length in bytes.
        size: usize,
        /// Value returned.
        value: u64,
        /// How the access ended.
        outcome: AccessOutcome,
    },
    /// BAR write.
    BarWrite {
        /// BAR index (255 when a PIO/MMIO base matched no BAR).
        bar: u8,
        /// Offset inside the BAR.
        offset: u64,
        /// Access length in bytes.
        size: usize,
        /// Value written.
        value: u64,
        /// How the access ended.
        outcome: AccessOutcome,
    },
    /// The INTx line, as the interrupt sink sees it, changed.
    Intx {
        /// New line state.
        asserted: bool,
    },
    /// The model pulsed INTx (assert then deassert).
    IntxPulse {
        /// False when the pulse could not reach the line (no pin, INTx
        /// disabled, MSI enabled, or the line is already asserted).
        delivered: bool,
    },
    /// The model signalled an MSI vector.
    Msi {
        /// Vector number.
        vector: u8,
        /// Message address (0 when not delivered).
        address: u64,
        /// Message data (0 when not delivered).
        data: u32,
        /// False when MSI is disabled or the vector is not enabled.
        delivered: bool,
    },
    /// A DMA transfer.
    Dma {
        /// Direction.
        direction: DmaDirection,
        /// Guest physical address.
        address: u64,
        /// Length in bytes.
        len: usize,
        /// How it ended.
        outcome: DmaOutcome,
        /// FNV-1a (64-bit) of the bytes transferred, when the transfer was
        /// done: lets a harness check the payload from the host side.
        fnv1a: Option<u64>,
    },
    /// A user hook ran.
    Hook {
        /// Hook name.
        name: String,
    },
    /// The device was reset.
    Reset,
    /// A timer fired (its fire block ran).
    TimerFired {
        /// Timer index (declaration order).
        timer: u32,
        /// Timer name.
        name: String,
        /// The clock when it fired, in ns.
        now: u64,
    },
    /// The device sent a byte on a stream.
    StreamOut {
        /// Stream index (declaration order).
        stream: u32,
        /// The byte.
        byte: u8,
        /// False when the output queue was full and the byte was dropped.
        queued: bool,
    },
    /// The outside world delivered a byte on a stream.
    StreamIn {
        /// Stream index (declaration order).
        stream: u32,
        /// The byte.
        byte: u8,
    },
    /// The device asked its VMM for something.
    Vmm {
        /// What.
        request: VmmRequest,
        /// False when too many requests were pending and this one was
        /// dropped.
        queued: bool,
    },
}

/// Receives trace events.
pub trait TraceSink: Send {
    /// Record one event.
    fn record(&mut self, event: &TraceEvent);
}

/// An in-memory trace shared between clones (give one clone to the model,
/// keep one to inspect). Mostly for tests.
#[derive(Debug, Clone, Default)]
pub struct TraceBuffer {
    events: Arc<Mutex<Vec<TraceEvent>>>,
}

impl TraceBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<TraceEvent>> {
        // A panic elsewhere while holding the lock cannot leave a Vec of
        // plain events inconsistent, so poisoning is ignored.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A snapshot of the events recorded so far.
    pub fn events(&self) -> Vec<TraceEvent> {
        self.lock().clone()
    }

    /// Remove and return the events recorded so far.
    pub fn take(&self) -> Vec<TraceEvent> {
        std::mem::take(&mut *self.lock())
    }

    /// Forget the events recorded so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// A boxed clone, ready for [`Model::set_trace`](crate::Model::set_trace).
    pub fn sink(&self) -> Option<Box<dyn TraceSink>> {
        Some(Box::new(self.clone()))
    }
}

impl TraceSink for TraceBuffer {
    fn record(&mut self, event: &TraceEvent) {
        self.lock().push(event.clone());
    }
}

/// Writes each event as one JSON object followed by `\n`, flushing after
/// each line so a trace survives the process being killed. Write errors do
/// not disturb the device: the first one is kept (see [`Self::take_error`])
/// and later events are still attempted.
///
/// With a limit ([`Self::with_limit`]) the trace stops, on a line boundary,
/// before it would exceed that many bytes: a guest cannot fill the disk
/// through it. Later events are dropped and counted ([`Self::dropped`]).
#[derive(Debug)]
pub struct JsonLinesTrace<W: Write + Send> {
    writer: W,
    error: Option<std::io::Error>,
    limit: u64,
    written: u64,
    dropped: u64,
}

impl<W: Write + Send> JsonLinesTrace<W> {
    /// Trace into `writer`, without a size limit.
    pub fn new(writer: W) -> Self {
        Self::with_limit(writer, u64::MAX)
    }

    /// Trace into `writer`, at most `max_bytes` bytes of whole lines.
    pub fn with_limit(writer: W, max_bytes: u64) -> Self {
        JsonLinesTrace {
            writer,
            error: None,
            limit: max_bytes,
            written: 0,
            dropped: 0,
        }
    }

    /// Events not written because the limit was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The first write error, if any, clearing it.
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.writer
    }

    /// Give back the underlying writer.
    pub fn into_inner(self) -> W {
        self.writer
    }

    fn write_event(&mut self, event: &TraceEvent) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event)?;
        line.push(b'\n');
        let len = line.len() as u64;
        if self.dropped > 0 || self.written.saturating_add(len) > self.limit {
            self.dropped += 1;
            return Ok(());
        }
        self.written += len;
        self.writer.write_all(&line)?;
        self.writer.flush()
    }
}

impl<W: Write + Send> TraceSink for JsonLinesTrace<W> {
    fn record(&mut self, event: &TraceEvent) {
        if let Err(e) = self.write_event(event) {
            self.error.get_or_insert(e);
        }
    }
}

/// The bytes of an access as a little-endian integer (first 8 bytes).
pub(crate) fn le_value(data: &[u8]) -> u64 {
    data.iter()
        .take(8)
        .enumerate()
        .fold(0, |acc, (i, &b)| acc | u64::from(b) << (8 * i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_value_takes_first_eight_bytes() {
        assert_eq!(le_value(&[]), 0);
        assert_eq!(le_value(&[0x34, 0x12]), 0x1234);
        assert_eq!(
            le_value(&[1, 2, 3, 4, 5, 6, 7, 8, 9]),
            0x0807_0605_0403_0201
        );
    }

    struct Failing;
    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_limited_trace_stops_on_a_line_boundary() {
        let one = serde_json::to_vec(&TraceEvent::Reset).unwrap().len() + 1;
        let mut t = JsonLinesTrace::with_limit(Vec::new(), (2 * one + one / 2) as u64);
        for _ in 0..5 {
            t.record(&TraceEvent::Reset);
        }
        assert_eq!(t.get_ref().len(), 2 * one, "two whole lines");
        assert_eq!(t.dropped(), 3);
        assert!(t.take_error().is_none());
    }

    #[test]
    fn write_errors_are_kept_not_raised() {
        let mut t = JsonLinesTrace::new(Failing);
        t.record(&TraceEvent::Reset);
        t.record(&TraceEvent::Reset);
        assert_eq!(t.take_error().unwrap().to_string(), "disk full");
        assert!(t.take_error().is_none());
    }
}
