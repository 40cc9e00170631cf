//! The generic path of a BAR access, for every access the model's
//! whole-register fast path ([`Registers::read_whole`]) does not serve:
//! the MSI-X table and PBA, the BAR's access policy (sizes, alignment,
//! range, registers that narrow the sizes), the split of the access over
//! the registers and windows it overlaps, and its trace.

use super::{AccessError, Model, Registers};
use crate::info::{BarInfo, InvalidAccess, RegisterLayout};
use crate::trace::{AccessOutcome, InvalidReason, TraceEvent, le_value};

impl<R: Registers> Model<R> {
    /// [`Self::bar_read`] for any access: the access policy, MSI-X, the
    /// access split over the registers and windows it overlaps. Kept out
    /// of line so that the fast path stays small where it is inlined.
    #[inline(never)]
    pub(super) fn bar_read_split(
        &mut self,
        bar: u8,
        offset: u64,
        data: &mut [u8],
    ) -> Result<(), AccessError> {
        let msix = if self.msix_decodes(bar, offset, data.len()) {
            self.ctx.msix_read(bar, offset, data)
        } else {
            None
        };
        let checked = match msix {
            Some(valid) => Err(msix_outcome(valid, offset, data.len())),
            None => self.check_bar_access(bar, offset, data.len()),
        };
        let outcome = match checked {
            Ok(info) => {
                self.dispatch_read(info.0, info.1, offset, data);
                AccessOutcome::Done
            }
            // An MSI-X table/PBA access was served (or filled) already.
            Err(outcome) if msix.is_some() => outcome,
            Err(outcome) => {
                let fill = match outcome {
                    AccessOutcome::Invalid {
                        action: InvalidAccess::Ignore,
                        ..
                    } => 0,
                    _ => 0xff,
                };
                data.fill(fill);
                outcome
            }
        };
        self.ctx.trace_with(|| TraceEvent::BarRead {
            bar,
            offset,
            size: data.len(),
            value: le_value(data),
            outcome,
        });
        self.refresh_interrupt();
        result(bar, offset, data.len(), outcome)
    }

    /// [`Self::bar_write`] for any access, as [`Self::bar_read_split`].
    #[inline(never)]
    pub(super) fn bar_write_split(
        &mut self,
        bar: u8,
        offset: u64,
        data: &[u8],
    ) -> Result<(), AccessError> {
        let msix = if self.msix_decodes(bar, offset, data.len()) {
            self.ctx.msix_write(bar, offset, data)
        } else {
            None
        };
        let checked = match msix {
            Some(valid) => Err(msix_outcome(valid, offset, data.len())),
            None => self.check_bar_access(bar, offset, data.len()),
        };
        let outcome = match checked {
            Ok(info) => {
                self.dispatch_write(info.0, info.1, offset, data);
                AccessOutcome::Done
            }
            Err(outcome) => outcome,
        };
        self.ctx.trace_with(|| TraceEvent::BarWrite {
            bar,
            offset,
            size: data.len(),
            value: le_value(data),
            outcome,
        });
        self.refresh_interrupt();
        result(bar, offset, data.len(), outcome)
    }

    /// Whether an access to `bar` may reach the MSI-X structures: a memory
    /// BAR that decodes, and the access lies inside it.
    fn msix_decodes(&self, bar: u8, offset: u64, len: usize) -> bool {
        let config = &self.ctx.config;
        config.msix().is_some()
            && config.mem_enabled()
            && config.bar_info(bar).is_some_and(|b| {
                !b.kind.is_io() && offset.checked_add(len as u64).is_some_and(|e| e <= b.size)
            })
    }

    /// The BAR to use for an access and the registers it overlaps, or how
    /// the access ends without reaching any register.
    fn check_bar_access(
        &self,
        bar: u8,
        offset: u64,
        len: usize,
    ) -> Result<(&'static BarInfo, Overlaps), AccessOutcome> {
        let config = &self.ctx.config;
        let Some(info) = config.bar_info(bar) else {
            return Err(AccessOutcome::Invalid {
                reason: InvalidReason::UnknownBar,
                action: InvalidAccess::Error,
            });
        };
        let decoding = if info.kind.is_io() {
            config.io_enabled()
        } else {
            config.mem_enabled()
        };
        if !decoding {
            return Err(AccessOutcome::DecodeDisabled);
        }
        let policy = info.policy;
        let invalid = |reason| {
            Err(AccessOutcome::Invalid {
                reason,
                action: policy.invalid,
            })
        };
        if !policy.sizes.contains(len) {
            return invalid(InvalidReason::Size);
        }
        let Some(end) = offset
            .checked_add(len as u64)
            .filter(|end| *end <= info.size)
        else {
            return invalid(InvalidReason::OutOfRange);
        };
        if policy.aligned && !offset.is_multiple_of(len as u64) {
            return invalid(InvalidReason::Misaligned);
        }
        let overlaps = Overlaps::find(info, offset, end);
        // Registers may narrow the BAR's sizes (e.g. edu: 4 bytes below 0x80,
        // 4 or 8 above).
        let narrowed = overlaps.iter(info).any(|(i, _, _, _)| {
            let sizes = info.registers[i].sizes;
            sizes.0 != 0 && !sizes.contains(len)
        });
        if narrowed {
            return invalid(InvalidReason::Size);
        }
        Ok((info, overlaps))
    }

    fn dispatch_read(
        &mut self,
        info: &'static BarInfo,
        overlaps: Overlaps,
        offset: u64,
        data: &mut [u8],
    ) {
        // Bytes no register covers read as the policy says.
        data.fill(info.policy.unmapped.fill());
        for (reg, element, lo, hi) in overlaps.iter(info) {
            let base = element_base(&info.registers[reg], element);
            self.ctx
                .set_access(data.len() as u64, access_mask(lo - base, hi - base));
            self.ctx.set_array_index(element);
            let value = self.regs.read_register(&mut self.ctx, info.index, reg);
            self.ctx.set_access(0, 0);
            self.ctx.set_array_index(0);
            for b in lo..hi {
                // b - base < 8: the overlap lies inside the (clamped) register.
                data[(b - offset) as usize] = (value >> ((b - base) * 8)) as u8;
            }
        }
        self.windows_io(info.index, offset, WindowIo::Read(data));
    }

    /// For each window of BAR `bar` that the access at `offset` overlaps,
    /// copy the overlapping bytes between the buffer and the access (a
    /// write only into writable windows). Windows whose buffer is missing
    /// or of the wrong length are skipped.
    fn windows_io(&mut self, bar: u8, offset: u64, mut io: WindowIo<'_>) {
        let len = match &io {
            WindowIo::Read(d) => d.len(),
            WindowIo::Write(d) => d.len(),
        };
        let end = offset.saturating_add(len as u64);
        for (i, w) in self.regs.windows().iter().enumerate() {
            let (lo, hi) = (offset.max(w.offset), end.min(w.end()));
            if w.bar != bar || lo >= hi {
                continue;
            }
            if matches!(io, WindowIo::Write(_)) && !w.writable {
                continue;
            }
            let Some(buf) = self.regs.window(i).filter(|b| b.len() as u64 == w.len) else {
                continue;
            };
            // In range: lo..hi lies inside both the window and the access,
            // and the buffer is the window's length.
            let (from, to) = ((lo - w.offset) as usize, (hi - w.offset) as usize);
            let (a, b) = ((lo - offset) as usize, (hi - offset) as usize);
            match &mut io {
                WindowIo::Read(d) => d[a..b].copy_from_slice(&buf[from..to]),
                WindowIo::Write(d) => buf[from..to].copy_from_slice(&d[a..b]),
            }
        }
    }

    fn dispatch_write(
        &mut self,
        info: &'static BarInfo,
        overlaps: Overlaps,
        offset: u64,
        data: &[u8],
    ) {
        for (reg, element, lo, hi) in overlaps.iter(info) {
            let base = element_base(&info.registers[reg], element);
            let (value, lanes) = gather_lanes(data, offset, base, lo, hi);
            self.ctx
                .set_access(data.len() as u64, access_mask(lo - base, hi - base));
            self.ctx.set_array_index(element);
            self.regs
                .write_register(&mut self.ctx, info.index, reg, value, lanes);
            self.ctx.set_access(0, 0);
            self.ctx.set_array_index(0);
        }
        self.windows_io(info.index, offset, WindowIo::Write(data));
    }
}

/// The guest's side of a window access.
enum WindowIo<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
}

/// The registers a valid access `[offset, end)` overlaps, each with the
/// element of an array entry it reaches (0 for a plain register) and the
/// overlapping byte range `[lo, hi)`. The binary search for the first one
/// runs once per access (O(log n) in layout entries, an array being one);
/// the element is computed, not searched; the policy check and the
/// dispatch both iterate.
#[derive(Debug, Clone, Copy)]
struct Overlaps {
    first: usize,
    offset: u64,
    end: u64,
}

impl Overlaps {
    /// The layout is sorted, so a binary search finds the first register.
    fn find(info: &'static BarInfo, offset: u64, end: u64) -> Self {
        let first = info.registers.partition_point(|r| r.end() <= offset);
        Overlaps { first, offset, end }
    }

    fn iter(self, info: &'static BarInfo) -> impl Iterator<Item = (usize, u64, u64, u64)> {
        let Overlaps { first, offset, end } = self;
        info.registers
            .iter()
            .enumerate()
            .skip(first)
            .take_while(move |(_, r)| r.offset < end)
            .flat_map(move |(i, r)| {
                let lo = offset.max(r.offset);
                let hi = end.min(r.end());
                // The elements `[lo, hi)` reaches: at most 8 (an access is
                // at most 8 bytes); none when the ranges do not meet.
                let w = r.clamped_width();
                let (from, to) = if lo < hi {
                    ((lo - r.offset) / w, (hi - 1 - r.offset) / w + 1)
                } else {
                    (0, 0)
                };
                (from..to).map(move |e| {
                    let base = element_base(r, e);
                    (i, e, lo.max(base), hi.min(base.saturating_add(w)))
                })
            })
    }
}

/// Offset of element `element` of a layout entry (the entry's own for a
/// plain register). In range: elements come from the entry's `end()`.
fn element_base(r: &RegisterLayout, element: u64) -> u64 {
    r.offset + element * r.clamped_width()
}

/// How an access to the MSI-X table or PBA ended: done, or invalid (a size
/// other than 4 or 8, or misaligned: reads all-ones, writes dropped).
fn msix_outcome(valid: bool, offset: u64, len: usize) -> AccessOutcome {
    if valid {
        AccessOutcome::Done
    } else {
        AccessOutcome::Invalid {
            reason: if matches!(len, 4 | 8) && !offset.is_multiple_of(len as u64) {
                InvalidReason::Misaligned
            } else {
                InvalidReason::Size
            },
            action: InvalidAccess::AllOnes,
        }
    }
}

/// The part of a write at `offset` (`data`) that covers bytes `lo..hi` of a
/// register at `base`: its value in register position and the byte lanes
/// written (bit `k`: byte `k` of the register).
pub(super) fn gather_lanes(data: &[u8], offset: u64, base: u64, lo: u64, hi: u64) -> (u64, u8) {
    (lo..hi).fold((0, 0), |(value, lanes), b| {
        let lane = b - base;
        (
            value | u64::from(data[(b - offset) as usize]) << (lane * 8),
            lanes | 1 << lane,
        )
    })
}

/// `access.mask` for an access covering bytes `lo..hi` of a register
/// (`hi <= 8`).
pub(super) fn access_mask(lo: u64, hi: u64) -> u64 {
    let bits = |n: u64| {
        if n >= 8 {
            u64::MAX
        } else {
            (1u64 << (n * 8)) - 1
        }
    };
    bits(hi) & !bits(lo)
}

fn result(bar: u8, offset: u64, len: usize, outcome: AccessOutcome) -> Result<(), AccessError> {
    match outcome {
        AccessOutcome::Invalid {
            reason,
            action: InvalidAccess::Error,
        } => Err(AccessError {
            bar,
            offset,
            len,
            reason,
        }),
        _ => Ok(()),
    }
}
