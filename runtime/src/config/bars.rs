//! The six BAR slots of a type-0 header: what occupies each, and the
//! writable address bits and read-only flag bits of a BAR (sizing reads
//! back `~(size - 1)` plus the flags).

use crate::info::{BarInfo, BarKind};

/// What occupies one of the six BAR slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Unused,
    /// An I/O or 32-bit BAR, or the lower dword of a 64-bit BAR.
    Low(&'static BarInfo),
    /// The upper dword of the 64-bit BAR in the previous slot.
    High(&'static BarInfo),
}

/// Size of the address window a BAR decodes: the declared size rounded up to
/// a power of two and to the PCI minimum (4 bytes for I/O, 16 for memory).
pub(super) fn decode_size(bar: &BarInfo) -> u64 {
    let min = if bar.kind.is_io() { 4 } else { 16 };
    bar.size
        .max(min)
        .checked_next_power_of_two()
        .unwrap_or(1 << 63)
}

/// Address bits of a whole (up to 64-bit) BAR that software can set.
pub(super) fn address_mask(bar: &BarInfo) -> u64 {
    !(decode_size(bar) - 1)
}

/// The read-only flag bits in the low dword of a BAR.
pub(super) fn flag_bits(kind: BarKind) -> u32 {
    match kind {
        BarKind::Io => 0x1,
        BarKind::Mem32 { prefetchable } => u32::from(prefetchable) << 3,
        BarKind::Mem64 { prefetchable } => 0x4 | u32::from(prefetchable) << 3,
    }
}

/// Writable mask of the low dword of a BAR (flag bits excluded).
pub(super) fn low_mask(bar: &BarInfo) -> u32 {
    let flags = if bar.kind.is_io() { 0x3 } else { 0xf };
    // Truncation keeps the low dword of the 64-bit mask.
    (address_mask(bar) as u32) & !flags
}

/// Writable mask of the upper dword of a 64-bit BAR.
pub(super) fn high_mask(bar: &BarInfo) -> u32 {
    (address_mask(bar) >> 32) as u32
}
