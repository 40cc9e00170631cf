// SPDX-License-Identifier: GPL-2.0
//
// Support file of pcidevc's generated drivers, copied verbatim into every driver whose spec has
// scenario steps. Do not edit: it is rewritten whenever the driver is generated.

//! The probe self-test's bookkeeping and checks.
//!
//! The driver runs each scenario step as [`Tally::step`] followed by one check, which passes or
//! fails the step and logs one line: `selftest: SCENARIO: step N (line L): TEXT: ok` (or `FAIL:
//! why`, or `skipped: why`). [`Tally::verdict`] then logs `selftest: P/N passed` (with `, S
//! skipped` when steps were skipped: those only a host can run, such as stream input), the line
//! test harnesses read. Each driver uses only the checks its scenarios need.

#![allow(dead_code, reason = "a driver uses the checks it needs")]

use kernel::{
    dma::Coherent,
    fmt,
    io::{
        io_read,
        io_write,
        poll::read_poll_timeout,
        register::Register, //
    },
    prelude::*,
    time::{
        delay::fsleep,
        Delta, //
    },
};

/// Poll interval of the self-test's waits.
const POLL_SLEEP: Delta = Delta::from_millis(1);
/// How long a `wait` step polls: real devices answer asynchronously.
const WAIT_TIMEOUT: Delta = Delta::from_secs(2);
/// How long `expect irq` waits for the interrupt handler.
const IRQ_TIMEOUT: Delta = Delta::from_secs(1);
/// How long `expect no irq` waits before checking that no interrupt came.
const NO_IRQ_DELAY: Delta = Delta::from_millis(20);

/// Self-test bookkeeping: the current step and what passed.
pub(crate) struct Tally {
    scenario: &'static str,
    index: u32,
    line: u32,
    text: &'static str,
    passed: u32,
    total: u32,
    /// Steps logged as skipped (counted in neither `passed` nor `total`).
    skipped: u32,
    /// Handled-interrupt count at the last `expect irq` / `expect no irq`.
    irqs: u32,
}

impl Tally {
    /// Nothing run yet; `irqs` is the interrupt handler's count now (0 without a handler).
    pub(crate) fn new(irqs: u32) -> Self {
        Tally {
            scenario: "",
            index: 0,
            line: 0,
            text: "",
            passed: 0,
            total: 0,
            skipped: 0,
            irqs,
        }
    }

    /// Starts scenario `name`; `irqs` is the interrupt handler's count now
    /// (0 without a handler). Interrupts handled before a scenario starts
    /// do not count for its `expect irq` / `expect no irq`, as in host
    /// tests, where they look at the line as the scenario left it.
    pub(crate) fn scenario(&mut self, name: &'static str, irqs: u32) {
        self.scenario = name;
        self.index = 0;
        self.irqs = irqs;
    }

    /// Starts the next step: `text`, at `line` of the spec.
    pub(crate) fn step(&mut self, line: u32, text: &'static str) {
        self.index += 1;
        self.total += 1;
        self.line = line;
        self.text = text;
    }

    /// Logs the verdict: `selftest: P/N passed`, and `, S skipped` when steps were skipped.
    pub(crate) fn verdict(&self) {
        if self.skipped == 0 {
            pr_info!("selftest: {}/{} passed\n", self.passed, self.total);
        } else {
            pr_info!(
                "selftest: {}/{} passed, {} skipped\n",
                self.passed,
                self.total,
                self.skipped
            );
        }
    }

    pub(crate) fn pass(&mut self) {
        self.passed += 1;
        pr_info!(
            "selftest: {}: step {} (line {}): {}: ok\n",
            self.scenario,
            self.index,
            self.line,
            self.text
        );
    }

    pub(crate) fn fail(&mut self, why: fmt::Arguments<'_>) {
        pr_err!(
            "selftest: {}: step {} (line {}): {}: FAIL: {}\n",
            self.scenario,
            self.index,
            self.line,
            self.text,
            why
        );
    }

    /// The step cannot be run here: logged, and counted as skipped only.
    pub(crate) fn skip(&mut self, why: &str) {
        self.total -= 1;
        self.skipped += 1;
        pr_warn!(
            "selftest: {}: step {} (line {}): {}: skipped: {}\n",
            self.scenario,
            self.index,
            self.line,
            self.text,
            why
        );
    }

    /// Passes if the access worked.
    pub(crate) fn done<T>(&mut self, result: Result<T>) {
        match result {
            Ok(_) => self.pass(),
            Err(e) => self.fail(fmt!("access failed: {:?}", e)),
        }
    }

    /// `expect`: passes if `(got & mask) == (want & mask)`.
    pub(crate) fn check<T: Into<u64>>(&mut self, got: Result<T>, want: u64, mask: u64) {
        match got.map(Into::into) {
            Ok(got) if got & mask == want & mask => self.pass(),
            Ok(got) => self.fail(fmt!(
                "read {:#x}, expected {:#x} (mask {:#x})",
                got,
                want,
                mask
            )),
            Err(e) => self.fail(fmt!("access failed: {:?}", e)),
        }
    }

    /// `expect ... != ...`: passes if `(got & mask) != (want & mask)`.
    pub(crate) fn check_ne<T: Into<u64>>(&mut self, got: Result<T>, want: u64, mask: u64) {
        match got.map(Into::into) {
            Ok(got) if got & mask != want & mask => self.pass(),
            Ok(got) => self.fail(fmt!(
                "read {:#x}, expected anything but {:#x} (mask {:#x})",
                got,
                want,
                mask
            )),
            Err(e) => self.fail(fmt!("access failed: {:?}", e)),
        }
    }

    /// [`Self::check_ne`] for a register value.
    pub(crate) fn check_reg_ne<R: Register>(&mut self, got: Result<R>, want: u64, mask: u64)
    where
        R::Storage: Into<u64>,
    {
        self.check_ne(got.map(R::Storage::from), want, mask)
    }

    /// `advance`: lets `us` microseconds pass (the device's timers run meanwhile).
    pub(crate) fn advance(&mut self, us: i64) {
        fsleep(Delta::from_micros(us));
        self.pass();
    }

    /// [`Self::check`] for a register value.
    pub(crate) fn check_reg<R: Register>(&mut self, got: Result<R>, want: u64, mask: u64)
    where
        R::Storage: Into<u64>,
    {
        self.check(got.map(R::Storage::from), want, mask)
    }

    /// `wait`: polls `read` until `(value & mask) == (want & mask)`, for up to
    /// [`WAIT_TIMEOUT`].
    pub(crate) fn wait<T: Into<u64>>(
        &mut self,
        mut read: impl FnMut() -> Result<T>,
        want: u64,
        mask: u64,
    ) {
        let waited = read_poll_timeout(
            || read().map(Into::into),
            |got: &u64| got & mask == want & mask,
            POLL_SLEEP,
            WAIT_TIMEOUT,
        );
        match waited {
            Ok(_) => self.pass(),
            Err(e) => match read().map(Into::into) {
                Ok(got) => self.fail(fmt!(
                    "{:?}: still {:#x}, expected {:#x} (mask {:#x})",
                    e,
                    got,
                    want,
                    mask
                )),
                Err(e) => self.fail(fmt!("access failed: {:?}", e)),
            },
        }
    }

    /// [`Self::wait`] for a register.
    pub(crate) fn wait_reg<R: Register>(
        &mut self,
        mut read: impl FnMut() -> Result<R>,
        want: u64,
        mask: u64,
    ) where
        R::Storage: Into<u64>,
    {
        self.wait(|| read().map(R::Storage::from), want, mask)
    }

    /// Converts a computed value to a register's width, failing the step if it does not fit.
    pub(crate) fn fits<T: TryFrom<u64>>(&mut self, value: u64) -> Option<T> {
        let fits = T::try_from(value).ok();
        if fits.is_none() {
            self.fail(fmt!("{:#x} does not fit the register", value));
        }
        fits
    }

    /// `expect irq`: waits until the handler's `count` moved since the last interrupt check.
    pub(crate) fn expect_irq(&mut self, count: impl Fn() -> u32) {
        let seen = self.irqs;
        let waited = read_poll_timeout(
            || Ok(count()),
            |count| *count != seen,
            POLL_SLEEP,
            IRQ_TIMEOUT,
        );
        match waited {
            Ok(count) => {
                self.irqs = count;
                self.pass();
            }
            Err(_) => self.fail(fmt!("no interrupt handled within 1 s")),
        }
    }

    /// `expect msi N`: waits until `count` (interrupts vector N's handler handled) exceeds
    /// `consumed` (those earlier `expect msi N` steps took), then takes one. Returns the new
    /// `consumed` for the caller to keep.
    pub(crate) fn expect_msi(
        &mut self,
        vector: usize,
        consumed: u32,
        count: impl Fn() -> u32,
    ) -> u32 {
        let waited = read_poll_timeout(
            || Ok(count()),
            |count| count.wrapping_sub(consumed) != 0,
            POLL_SLEEP,
            IRQ_TIMEOUT,
        );
        match waited {
            Ok(_) => {
                self.pass();
                consumed.wrapping_add(1)
            }
            Err(_) => {
                self.fail(fmt!("vector {} not handled within 1 s", vector));
                consumed
            }
        }
    }

    /// `expect no irq`: waits a little, then checks that the handler's `count` did not move.
    pub(crate) fn expect_no_irq(&mut self, count: impl Fn() -> u32) {
        fsleep(NO_IRQ_DELAY);
        let count = count();
        let seen = core::mem::replace(&mut self.irqs, count);
        if count == seen {
            self.pass();
        } else {
            self.fail(fmt!("{} interrupt(s) handled", count.wrapping_sub(seen)));
        }
    }

    /// `expect dma[start..end] == data`, on the driver's DMA buffer `dma`.
    pub(crate) fn expect_dma(
        &mut self,
        dma: &Coherent<[u8]>,
        start: usize,
        end: usize,
        data: DmaContents,
    ) {
        let mut first = None;
        let mut differ = 0usize;
        for (offset, want) in (start..end).zip(DmaBytes::new(data)) {
            match dma_byte(dma, offset) {
                Ok(got) if got == want => {}
                Ok(got) => {
                    differ += 1;
                    first.get_or_insert((offset, got, want));
                }
                Err(e) => return self.fail(fmt!("buffer byte {:#x}: {:?}", offset, e)),
            }
        }
        match first {
            None => self.pass(),
            Some((offset, got, want)) => self.fail(fmt!(
                "{} byte(s) differ; first at {:#x}: {:#04x}, expected {:#04x}",
                differ,
                offset,
                got,
                want
            )),
        }
    }

    /// `fill dma[start..end] = data`, on the driver's DMA buffer `dma`.
    pub(crate) fn fill_dma(
        &mut self,
        dma: &Coherent<[u8]>,
        start: usize,
        end: usize,
        data: DmaContents,
    ) {
        for (offset, byte) in (start..end).zip(DmaBytes::new(data)) {
            if let Err(e) = set_dma_byte(dma, offset, byte) {
                return self.fail(fmt!("buffer byte {:#x}: {:?}", offset, e));
            }
        }
        self.pass();
    }
}

/// Byte `offset` of the DMA buffer.
fn dma_byte(dma: &Coherent<[u8]>, offset: usize) -> Result<u8> {
    Ok(io_read!(dma, [try: offset]))
}

/// Sets byte `offset` of the DMA buffer.
fn set_dma_byte(dma: &Coherent<[u8]>, offset: usize, byte: u8) -> Result {
    io_write!(dma, [try: offset], byte);
    Ok(())
}

/// Scenario data for `fill dma[..]` and `expect dma[..]`.
#[derive(Clone, Copy)]
pub(crate) enum DmaContents {
    /// The xorshift32 stream from a seed, as the runtime's `random_bytes`.
    Random(u32),
    /// One byte, repeated.
    Pattern(u8),
    /// The 8 little-endian bytes of a value, repeated.
    Word(u64),
}

/// The bytes of a [`DmaContents`], in order.
struct DmaBytes {
    data: DmaContents,
    index: usize,
    /// xorshift32 state: the last word produced.
    state: u32,
}

impl DmaBytes {
    fn new(data: DmaContents) -> Self {
        // xorshift32 never leaves 0, so seed 0 starts from this state instead.
        let state = match data {
            DmaContents::Random(0) => 0x9e37_79b9,
            DmaContents::Random(seed) => seed,
            _ => 0,
        };
        DmaBytes {
            data,
            index: 0,
            state,
        }
    }
}

impl Iterator for DmaBytes {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let i = self.index;
        self.index += 1;
        let byte = match self.data {
            DmaContents::Random(_) => {
                // A new word every 4 bytes, emitted little-endian.
                if i % 4 == 0 {
                    let mut x = self.state;
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    self.state = x;
                }
                self.state.to_le_bytes()[i % 4]
            }
            DmaContents::Pattern(byte) => byte,
            DmaContents::Word(word) => word.to_le_bytes()[i % 8],
        };
        Some(byte)
    }
}
