//! DMA outcomes and the status codes a spec's `dma ... status PLACE` stores.
//!
//! | code | meaning |
//! |---|---|
//! | 1 | done |
//! | 2 | refused: COMMAND.bus-master is off |
//! | 3 | refused: the host gave the device no guest memory |
//! | 4 | refused: `[addr, addr+len)` is not entirely guest RAM (nothing written) |
//! | 5 | refused: longer than [`MAX_DMA_LEN`] |
//! | 6 | refused by the device: its buffer range is outside the buffer |

/// The longest single DMA transfer a model may make. Transfer lengths often
/// come from guest-written registers: without a cap a guest could make the
/// host allocate gigabytes.
pub const MAX_DMA_LEN: usize = 16 << 20;

/// How a DMA transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DmaOutcome {
    /// All bytes transferred.
    Done,
    /// COMMAND.BUS_MASTER is clear: nothing transferred.
    BusMasterDisabled,
    /// The host gave the model no guest memory: nothing transferred.
    NoGuestMemory,
    /// `[addr, addr + len)` is not entirely inside guest memory (or wraps
    /// around the address space): nothing transferred.
    OutOfRange,
    /// Longer than [`MAX_DMA_LEN`]: nothing transferred.
    TooLong,
    /// The device-side buffer range is outside the device's buffer: the
    /// device refused before asking the runtime.
    BadBufferRange,
}

impl DmaOutcome {
    /// Every outcome, by status code.
    pub const ALL: [DmaOutcome; 6] = [
        DmaOutcome::Done,
        DmaOutcome::BusMasterDisabled,
        DmaOutcome::NoGuestMemory,
        DmaOutcome::OutOfRange,
        DmaOutcome::TooLong,
        DmaOutcome::BadBufferRange,
    ];

    /// The status code a spec's `dma ... status PLACE` stores (module docs).
    pub const fn status_code(self) -> u64 {
        match self {
            DmaOutcome::Done => 1,
            DmaOutcome::BusMasterDisabled => 2,
            DmaOutcome::NoGuestMemory => 3,
            DmaOutcome::OutOfRange => 4,
            DmaOutcome::TooLong => 5,
            DmaOutcome::BadBufferRange => 6,
        }
    }

    /// One line saying what the code means (docs, summaries, driver logs).
    pub const fn describe(self) -> &'static str {
        match self {
            DmaOutcome::Done => "done",
            DmaOutcome::BusMasterDisabled => "bus mastering off",
            DmaOutcome::NoGuestMemory => "no guest memory",
            DmaOutcome::OutOfRange => "not guest RAM",
            DmaOutcome::TooLong => "too long",
            DmaOutcome::BadBufferRange => "bad buffer range",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_one_based_and_distinct() {
        for (i, o) in DmaOutcome::ALL.iter().enumerate() {
            assert_eq!(o.status_code(), i as u64 + 1);
        }
    }
}
