//! Where registers live: BARs, windows onto buffer states, and the
//! capabilities a spec places in configuration space.

use super::{AccessPolicy, BarKind, RegId, StateId};
use crate::source::Span;

/// A capability the spec places in configuration space. The runtime writes
/// its header (id, next pointer, and for a vendor capability the length
/// byte) and links it into the list in offset order; the rest of its bytes
/// are its registers (read 0 and ignore writes where there is none).
#[derive(Debug, Clone)]
pub struct Capability {
    /// Which capability (its id and header length).
    pub kind: CapabilityKind,
    /// Absolute configuration-space offset, dword aligned, >= 0x40.
    pub offset: u8,
    /// Bytes, header included (the vendor capability's length byte).
    pub size: u8,
    /// Its registers (absolute offsets after the header), sorted by offset;
    /// also listed in [`Device::config_registers`](super::Device::config_registers).
    pub registers: Vec<RegId>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// What kind of capability: its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapabilityKind {
    /// Vendor-specific (id 0x09): 3-byte header, the rest is the device's.
    Vendor,
}

impl CapabilityKind {
    /// The capability id byte.
    pub fn id(self) -> u8 {
        match self {
            CapabilityKind::Vendor => pcidev_core::config::VENDOR_CAP_ID,
        }
    }
    /// Bytes of the header the runtime owns.
    pub fn header_len(self) -> u8 {
        match self {
            CapabilityKind::Vendor => pcidev_core::config::VENDOR_CAP_HEADER,
        }
    }
}

/// A base address register and what lies in it.
#[derive(Debug, Clone)]
pub struct Bar {
    /// BAR number, 0..=5 (a 64-bit BAR also uses the next slot).
    pub index: u8,
    /// I/O, 32- or 64-bit memory (with prefetchable).
    pub kind: BarKind,
    /// Size in bytes: a power of two, 4..=256 for I/O, at least 16 for memory.
    pub size: u64,
    /// Allowed access sizes, alignment, what invalid accesses and unmapped
    /// bytes do.
    pub policy: AccessPolicy,
    /// This BAR's registers, sorted by offset.
    pub registers: Vec<RegId>,
    /// Buffer states shown in this BAR, sorted by offset; they overlap
    /// neither each other nor a register and lie inside the BAR.
    pub windows: Vec<Window>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// `window STATE @ OFFSET [ro];`: the bytes of a buffer state at
/// `offset .. offset + len` of its BAR.
///
/// A guest access of any size the BAR allows reads (and, when `writable`,
/// writes) the buffer's bytes directly, little-endian, with no side effects:
/// byte `i` of the access is buffer byte `offset_in_window + i`. A write to
/// a read-only window is ignored. Device actions see the same bytes
/// (`state[i]`, DMA to and from the buffer).
#[derive(Debug, Clone)]
pub struct Window {
    /// A state of type [`Type::Buffer`](super::Type::Buffer).
    pub state: StateId,
    /// Offset of the window's first byte in its BAR.
    pub offset: u64,
    /// The buffer's length.
    pub len: u64,
    /// `rw` (the default): guest writes change the buffer; `ro`: ignored.
    pub writable: bool,
    /// The `window` item, for diagnostics.
    pub span: Span,
}

impl Window {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}
