//! Registers, their place in a register array, and their bit fields.

use super::{AccessKind, AccessSizes, Expr, Space, Stmt, WriteMasks, low_mask};
use crate::source::Span;

/// A register: `width` bytes at `offset` of `space` (a BAR, or
/// configuration space with an absolute offset).
///
/// Configuration-space registers behave exactly as BAR registers do; an
/// access of a size the register does not accept (`sizes`), or a
/// misaligned one when it lists sizes, does not reach it and sees plain
/// device-specific configuration memory instead (QEMU's
/// `pci_default_read_config`/`write_config` fallback).
///
/// Read: the value is `read` if given, else the stored value of the readable
/// fields (bits of `wo` fields and bits in no field read 0); then `rclr`
/// fields are cleared; then `on_read` runs.
///
/// Write (value `v`, bytes outside the access are 0 and not enabled): each
/// field's enabled bits are updated by its access kind (rw/wo: set to v;
/// w1c: cleared where v is 1; w1s: set where v is 1; ro/rclr: unchanged);
/// then `on_write` runs with `value` = v.
#[derive(Debug, Clone)]
pub struct Register {
    /// UPPER_SNAKE_CASE.
    pub name: String,
    /// A BAR, or configuration space.
    pub space: Space,
    /// Offset of the first byte: in the BAR, or absolute in configuration
    /// space.
    pub offset: u64,
    /// Bytes: 1, 2, 4 or 8.
    pub width: u8,
    /// The register-level access kind, if declared.
    pub access: Option<AccessKind>,
    /// Access sizes this register accepts, narrowing its BAR's; `None`:
    /// the BAR's.
    pub sizes: Option<AccessSizes>,
    /// Empty: no storage (reads 0 unless `read`; writes only run actions).
    pub fields: Vec<Field>,
    /// Reset value of the storage (all fields' resets combined).
    pub reset: u64,
    /// `read EXPR;`: the value a guest read returns, instead of the stored
    /// bits.
    pub read: Option<Expr>,
    /// Actions run after every guest read (after `rclr` clears).
    pub on_read: Vec<Stmt>,
    /// Actions run after every guest write (after the storage update).
    pub on_write: Vec<Stmt>,
    /// `Some` for an element of a register array (`register NAME[N]`).
    pub array: Option<ArrayElem>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// Where a register sits in its array. The checker lists every element of
/// `register NAME[N]` as its own register `NAME_i` (names, placement and
/// scenarios see elements), consecutive in
/// [`Device::registers`](super::Device::registers), all with
/// the same behaviour in which [`Expr::Index`] stands for the element
/// number. Backends emit one item per array from its head (element 0, see
/// [`Register::array_head`]) so generated code does not grow with `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayElem {
    /// The array's name (`NAME`; the element is `NAME_{index}`).
    pub array: String,
    /// This element's number, `0..count`.
    pub index: u64,
    /// Elements in the array (1..=[`crate::check::MAX_ARRAY`]).
    pub count: u64,
    /// Bytes from one element to the next (the register width).
    pub stride: u64,
}

impl Register {
    /// The element number [`Expr::Index`] evaluates to in this register's
    /// behaviour (0 outside arrays, where the checker rejects `index`).
    pub fn index_value(&self) -> u64 {
        self.array.as_ref().map_or(0, |a| a.index)
    }
    /// `Some(array)` for element 0 of an array: the register that stands
    /// for the whole array in generated code.
    pub fn array_head(&self) -> Option<&ArrayElem> {
        self.array.as_ref().filter(|a| a.index == 0)
    }
    /// An element other than the first: backends that emit one item per
    /// array skip it.
    pub fn is_array_tail(&self) -> bool {
        self.array.as_ref().is_some_and(|a| a.index > 0)
    }
    /// The name generated code uses: the array's (`NAME`) for an array
    /// element, the register's otherwise.
    pub fn item_name(&self) -> &str {
        self.array.as_ref().map_or(&self.name, |a| &a.array)
    }
    /// Bytes the register occupies, or for an array head, the whole array
    /// (`count * stride`).
    pub fn span_bytes(&self) -> u64 {
        match self.array_head() {
            Some(a) => a.count.saturating_mul(a.stride),
            None => self.width as u64,
        }
    }
    /// The BAR index, for BAR registers.
    pub fn bar(&self) -> Option<u8> {
        self.space.bar()
    }
    /// Is it in configuration space?
    pub fn in_config(&self) -> bool {
        self.space == Space::Config
    }
    /// Does the register store bits (has fields)?
    pub fn has_storage(&self) -> bool {
        !self.fields.is_empty()
    }
    /// Width in bits (8, 16, 32 or 64).
    pub fn bits(&self) -> u32 {
        self.width as u32 * 8
    }
    /// Can a guest read return something other than 0?
    pub fn readable(&self) -> bool {
        self.read.is_some() || self.fields.iter().any(|f| f.access.readable())
    }
    /// Does a guest write have any effect?
    pub fn writable(&self) -> bool {
        !self.on_write.is_empty() || self.fields.iter().any(|f| f.access.writable())
    }
    /// The register's bits sorted by access kind.
    pub fn masks(&self) -> WriteMasks {
        self.fields
            .iter()
            .fold(WriteMasks::default(), |m, f| m.with(f.access, f.mask()))
    }

    /// Mask of the register's bits that a guest write can change.
    pub fn write_mask(&self) -> u64 {
        self.masks().writable()
    }
}

/// A bit field of a register with storage.
#[derive(Debug, Clone)]
pub struct Field {
    /// lower_snake_case; `value` for the implicit whole-register field.
    pub name: String,
    /// Least significant bit.
    pub lo: u32,
    /// Most significant bit (`>= lo`, below the register's width).
    pub hi: u32,
    /// What guest reads and writes do to these bits.
    pub access: AccessKind,
    /// Value at reset, in field position (bit 0 is the field's `lo`).
    pub reset: u64,
    /// Named values, lower_snake_case.
    pub variants: Vec<(String, u64)>,
    /// True for the field standing for a whole field-less register.
    pub implicit: bool,
}

impl Field {
    /// Width in bits (`hi - lo + 1`).
    pub fn bits(&self) -> u32 {
        self.hi - self.lo + 1
    }
    /// The field's bits in register position.
    pub fn mask(&self) -> u64 {
        low_mask(self.bits()) << self.lo
    }
}
