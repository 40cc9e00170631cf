//! Scenario steps: what a spec's `scenario` blocks compile to.
//!
//! The same steps run in three places: host tests of a generated model or
//! of the interpreter (the runtime's harness), and the generated drivers'
//! probe self-test in a real guest. Steps that only the host can perform
//! (looking at device state, delivering stream input, expecting output or
//! VMM requests) report [`Step::host_only`]; drivers skip and count them.
//!
//! A scenario is a flat list. `repeat N { ... }` becomes
//! [`Step::Repeat`]` { count: N, len }` followed by the `len` steps of its
//! body (which may contain further repeats), so the list works as a static
//! table in generated code and as a `Vec` in the IR alike.

use crate::data::Data;
use crate::space::Space;
use crate::vmm::VmmRequest;

/// Where an access goes: a space, an offset in it and a width in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    /// Configuration space or a BAR.
    pub space: Space,
    /// Byte offset in the space.
    pub offset: u64,
    /// Access width in bytes (1, 2, 4 or 8).
    pub width: u8,
}

impl Loc {
    /// A location in BAR `bar`.
    pub const fn bar(bar: u8, offset: u64, width: u8) -> Self {
        Loc {
            space: Space::Bar(bar),
            offset,
            width,
        }
    }

    /// A location in configuration space.
    pub const fn config(offset: u64, width: u8) -> Self {
        Loc {
            space: Space::Config,
            offset,
            width,
        }
    }
}

/// A value a step writes or expects: a constant, optionally plus the bus
/// address of the DMA buffer the driver (or harness) allocated (`dma.addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StepValue {
    /// The constant (or the offset from `dma.addr`).
    pub constant: u64,
    /// Add the DMA buffer's address.
    pub plus_dma_addr: bool,
}

impl StepValue {
    /// A constant.
    pub const fn new(constant: u64) -> Self {
        StepValue {
            constant,
            plus_dma_addr: false,
        }
    }

    /// `dma.addr + offset`.
    pub const fn dma_addr(offset: u64) -> Self {
        StepValue {
            constant: offset,
            plus_dma_addr: true,
        }
    }

    /// The value, given where the DMA buffer is.
    pub const fn resolve(self, dma_addr: u64) -> u64 {
        if self.plus_dma_addr {
            dma_addr.wrapping_add(self.constant)
        } else {
            self.constant
        }
    }
}

/// How an expectation compares (`(got & mask) OP (want & mask)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Cmp {
    /// Does `got` satisfy the comparison with `want` under `mask`?
    pub const fn holds(self, got: u64, want: u64, mask: u64) -> bool {
        let eq = got & mask == want & mask;
        match self {
            Cmp::Eq => eq,
            Cmp::Ne => !eq,
        }
    }

    /// The operator as written.
    pub const fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
        }
    }
}

/// A piece of device state a host-only expectation looks at. Indexes are
/// declaration order among the spec's states (or timers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Probe {
    /// A scalar state's value (a bool is 0 or 1).
    State(u32),
    /// The number of elements in a FIFO state.
    FifoLen(u32),
    /// The first element of a FIFO state (0 when empty).
    FifoFront(u32),
    /// 1 when the timer is running.
    TimerRunning(u32),
    /// Nanoseconds until the timer fires (0 when stopped).
    TimerRemaining(u32),
}

/// One step. `B` holds stream bytes: `&'static [u8]` in generated tables,
/// `Vec<u8>` in the compiler's IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step<B = &'static [u8]> {
    /// Read (for side effects); the value is ignored.
    Read(Loc),
    /// Write a value.
    Write(Loc, StepValue),
    /// Read and compare.
    Expect {
        /// Where to read.
        loc: Loc,
        /// What to compare with.
        value: StepValue,
        /// Bits compared.
        mask: u64,
        /// `==` or `!=`.
        cmp: Cmp,
    },
    /// Like `Expect` with `==`, polled until true (a driver waits; the
    /// synchronous model must already satisfy it).
    Wait {
        /// Where to read.
        loc: Loc,
        /// What to wait for.
        value: StepValue,
        /// Bits compared.
        mask: u64,
    },
    /// An access the BAR's policy rejects: a write has no effect...
    InvalidWrite(Loc, StepValue),
    /// ...and a read returns this (0 for `ignore`, all-ones otherwise).
    InvalidRead {
        /// Where to read.
        loc: Loc,
        /// What the rejected read returns.
        expect: u64,
    },
    /// The INTx line is (or is not) asserted. When asserted, the handler
    /// protocol runs (status reads, "mine", ack).
    ExpectIrq(bool),
    /// MSI or MSI-X vector N was signalled since the last `ExpectMsi`.
    ExpectMsi(u16),
    /// The DMA buffer's bytes `[start, end)` equal the data.
    ExpectDma {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
        /// Expected contents.
        data: Data,
    },
    /// Fill the DMA buffer's bytes `[start, end)` with the data.
    Fill {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
        /// Contents.
        data: Data,
    },
    /// Run the next `len` steps `count` times.
    Repeat {
        /// Iterations.
        count: u32,
        /// Steps in the body (nested repeats count with their bodies).
        len: u32,
    },
    /// Host only: compare a piece of device state.
    ExpectState {
        /// What to look at.
        probe: Probe,
        /// `==` or `!=`.
        cmp: Cmp,
        /// What to compare with.
        value: u64,
        /// Bits compared.
        mask: u64,
    },
    /// Let time pass: the host harness advances the virtual clock (firing
    /// due timers); a driver sleeps.
    Advance(u64),
    /// Host only: the outside world sends these bytes on a stream.
    Input {
        /// Stream index (declaration order).
        stream: u32,
        /// The bytes.
        bytes: B,
    },
    /// Host only: the device sent exactly these bytes on a stream since the
    /// last `ExpectOutput` of that stream.
    ExpectOutput {
        /// Stream index (declaration order).
        stream: u32,
        /// The bytes.
        bytes: B,
    },
    /// Host only: the device asked its VMM for this since the last
    /// `ExpectVmm`.
    ExpectVmm(VmmRequest),
}

impl<B> Step<B> {
    /// Steps a guest driver cannot perform (it skips and counts them).
    pub const fn host_only(&self) -> bool {
        matches!(
            self,
            Step::ExpectState { .. }
                | Step::Input { .. }
                | Step::ExpectOutput { .. }
                | Step::ExpectVmm(_)
        )
    }
}

/// The most steps a scenario may run once its repeats are unrolled (the
/// checker enforces it; runners rely on it).
pub const MAX_EXPANDED_STEPS: u64 = 100_000;

/// The number of steps `steps` runs with repeats unrolled, or `None` when
/// the list is malformed (a repeat body longer than what follows it).
pub fn expanded_len<B>(steps: &[Step<B>]) -> Option<u64> {
    fn walk<B>(steps: &[Step<B>]) -> Option<u64> {
        let mut i = 0;
        let mut total: u64 = 0;
        while i < steps.len() {
            match &steps[i] {
                Step::Repeat { count, len } => {
                    let len = *len as usize;
                    let body = steps.get(i + 1..i + 1 + len)?;
                    total = total.checked_add(u64::from(*count).checked_mul(walk(body)?)?)?;
                    i += 1 + len;
                }
                _ => {
                    total = total.checked_add(1)?;
                    i += 1;
                }
            }
        }
        Some(total)
    }
    walk(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_expand() {
        let r = Step::Read(Loc::bar(0, 0, 4));
        let steps: [Step; 5] = [
            r,
            Step::Repeat { count: 3, len: 3 },
            r,
            Step::Repeat { count: 2, len: 1 },
            r,
        ];
        assert_eq!(expanded_len(&steps), Some(1 + 3 * (1 + 2)));
        let bad: [Step; 2] = [Step::Repeat { count: 3, len: 5 }, r];
        assert_eq!(expanded_len(&bad), None);
    }

    #[test]
    fn compare() {
        assert!(Cmp::Eq.holds(0x12, 0x02, 0x0f));
        assert!(Cmp::Ne.holds(0x12, 0x03, 0x0f));
        assert_eq!(StepValue::dma_addr(4).resolve(0x1000), 0x1004);
        assert!(Step::<&[u8]>::ExpectVmm(VmmRequest::Reset).host_only());
        assert!(!Step::<&[u8]>::Advance(1).host_only());
    }
}
