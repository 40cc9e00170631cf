//! Output queues of a model's byte streams.
//!
//! A spec's `send NAME v;` appends one byte to the stream's queue; the host
//! (or the scenario harness) drains it with
//! [`Model::take_output`](crate::Model::take_output). Each queue holds at
//! most [`QUEUE_BYTES`]: a byte sent into a full queue is dropped (the
//! caller traces it), so a guest transmitting faster than the backend reads
//! cannot make the host use unbounded memory. `NAME.space` is what a queue
//! can still take.

pub use pcidev_core::stream::{MAX_INPUT_CHUNK, QUEUE_BYTES};

/// One bounded queue per declared stream. A queue is only appended to
/// and drained whole, so a `Vec` serves: a push is a store, a drain one
/// copy.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    queues: Vec<Vec<u8>>,
}

impl Outputs {
    /// `count` empty queues.
    pub fn new(count: usize) -> Self {
        Outputs {
            queues: vec![Vec::new(); count],
        }
    }

    /// Append `byte` to stream `stream`; false when the queue is full (or
    /// the stream does not exist) and the byte was dropped.
    #[inline]
    pub fn push(&mut self, stream: usize, byte: u8) -> bool {
        match self.queues.get_mut(stream) {
            Some(q) if q.len() < QUEUE_BYTES => {
                q.push(byte);
                true
            }
            _ => false,
        }
    }

    /// Bytes stream `stream`'s queue can still take.
    #[inline]
    pub fn space(&self, stream: usize) -> usize {
        self.queues.get(stream).map_or(0, |q| QUEUE_BYTES - q.len())
    }

    /// Everything queued on `stream`, oldest first, emptying the queue.
    #[inline]
    pub fn take(&mut self, stream: usize) -> Vec<u8> {
        match self.queues.get_mut(stream) {
            // One copy; the queue keeps its allocation for what comes next.
            Some(q) => {
                let out = q.as_slice().to_vec();
                q.clear();
                out
            }
            None => Vec::new(),
        }
    }
}

impl Outputs {
    /// Each queue's bytes, oldest first (for snapshots).
    pub(crate) fn save(&self) -> Vec<Vec<u8>> {
        self.queues.clone()
    }

    /// Is `saved` valid for `count` streams (each within [`QUEUE_BYTES`])?
    pub(crate) fn check(saved: &[crate::snapshot::Hex], count: usize) -> Result<(), String> {
        if saved.len() != count {
            return Err(format!(
                "{} stream queues, the layout has {count}",
                saved.len()
            ));
        }
        match saved.iter().position(|q| q.0.len() > QUEUE_BYTES) {
            Some(i) => Err(format!("stream {i}: queue longer than {QUEUE_BYTES} bytes")),
            None => Ok(()),
        }
    }

    /// The queues of a checked `saved`.
    pub(crate) fn restore(&mut self, saved: &[crate::snapshot::Hex]) {
        for (q, s) in self.queues.iter_mut().zip(saved) {
            q.clone_from(&s.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_drained_in_order() {
        let mut o = Outputs::new(2);
        assert!(o.push(1, b'a'));
        assert!(o.push(1, b'b'));
        assert_eq!(o.space(1), QUEUE_BYTES - 2);
        assert_eq!(o.take(0), b"");
        assert_eq!(o.take(1), b"ab");
        for _ in 0..QUEUE_BYTES {
            assert!(o.push(0, 0));
        }
        assert_eq!(o.space(0), 0);
        assert!(!o.push(0, 1));
        assert_eq!(o.take(0).len(), QUEUE_BYTES);
        assert!(!o.push(5, 1));
        assert_eq!(o.space(5), 0);
    }
}
