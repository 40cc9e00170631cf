//! The static description of a device, emitted by generated code as `const`s.
//!
//! Everything here is plain data, constructible in `const` context, so a
//! generated model is a handful of `const` items plus one `Registers` impl.
//! The runtime never trusts this data blindly: a malformed description (a BAR
//! index above 5, an unsorted register layout, a register wider than 8 bytes)
//! makes the affected part inert, it never causes a panic.

use serde::{Deserialize, Serialize};

/// Identity, BARs, interrupt and MSI of one PCI function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device name (for traces and diagnostics).
    pub name: &'static str,
    /// PCI vendor id (config 0x00).
    pub vendor_id: u16,
    /// PCI device id (config 0x02).
    pub device_id: u16,
    /// Revision id (config 0x08).
    pub revision: u8,
    /// `[base class, subclass, prog-if]` (config 0x0b, 0x0a, 0x09).
    pub class_code: [u8; 3],
    /// Subsystem vendor id (config 0x2c).
    pub subsystem_vendor_id: u16,
    /// Subsystem id (config 0x2e).
    pub subsystem_id: u16,
    /// The legacy interrupt pin, `None` when the device has no INTx.
    pub interrupt_pin: Option<IntxPin>,
    /// The BARs, sorted by index.
    pub bars: &'static [BarInfo],
    /// MSI capability, if any (placed at config offset 0x40).
    pub msi: Option<MsiInfo>,
}

impl DeviceInfo {
    /// The BAR declared with `index`, if any.
    pub fn bar(&self, index: u8) -> Option<&'static BarInfo> {
        self.bars.iter().find(|b| b.index == index)
    }
}

/// Legacy interrupt pin; config offset 0x3d holds 1 (A) to 4 (D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntxPin {
    /// INTA#
    A,
    /// INTB#
    B,
    /// INTC#
    C,
    /// INTD#
    D,
}

impl IntxPin {
    /// The value of the interrupt pin register (0x3d): 1 for A .. 4 for D.
    pub const fn register_value(self) -> u8 {
        match self {
            IntxPin::A => 1,
            IntxPin::B => 2,
            IntxPin::C => 3,
            IntxPin::D => 4,
        }
    }
}

/// The MSI capability of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiInfo {
    /// Number of vectors the device requests: a power of two, 1..=32.
    /// Other values are rounded down to a power of two and clamped to 1..=32.
    pub vectors: u8,
}

impl MsiInfo {
    /// log2 of the vector count as encoded in the Multiple Message Capable
    /// field (0..=5).
    pub const fn mmc(&self) -> u8 {
        let v = if self.vectors == 0 { 1 } else { self.vectors };
        let log = 7 - v.leading_zeros() as u8;
        if log > 5 { 5 } else { log }
    }
}

/// One base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarInfo {
    /// BAR index 0..=5. A 64-bit BAR occupies `index` and `index + 1`.
    pub index: u8,
    /// I/O, 32-bit or 64-bit memory.
    pub kind: BarKind,
    /// Size in bytes, a power of two. Accesses at or beyond `size` are
    /// invalid. (For BAR sizing the window is at least 4 bytes for I/O and
    /// 16 bytes for memory, as PCI requires.)
    pub size: u64,
    /// Which accesses are valid and what an invalid one does.
    pub policy: AccessPolicy,
    /// The registers of this BAR, sorted by offset, non-overlapping.
    pub registers: &'static [RegisterLayout],
}

/// The kind of a BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BarKind {
    /// I/O space.
    Io,
    /// 32-bit memory space.
    Mem32 {
        /// Prefetchable (bit 3 of the BAR).
        prefetchable: bool,
    },
    /// 64-bit memory space; uses BAR slots `index` and `index + 1`.
    Mem64 {
        /// Prefetchable (bit 3 of the BAR).
        prefetchable: bool,
    },
}

impl BarKind {
    /// True for I/O BARs.
    pub const fn is_io(self) -> bool {
        matches!(self, BarKind::Io)
    }

    /// Number of BAR slots this kind occupies (1 or 2).
    pub const fn slots(self) -> u8 {
        match self {
            BarKind::Mem64 { .. } => 2,
            _ => 1,
        }
    }
}

/// The valid accesses of a BAR and the outcome of invalid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessPolicy {
    /// Allowed access lengths.
    pub sizes: AccessSizes,
    /// Whether an access must be naturally aligned (offset % len == 0).
    pub aligned: bool,
    /// What an invalid access does.
    pub invalid: InvalidAccess,
    /// What the bytes of a valid access that no register covers read as.
    pub unmapped: Unmapped,
}

impl AccessPolicy {
    /// Every size from 1 to 8 bytes, unaligned allowed, invalid accesses
    /// ignored, unmapped bytes read 0.
    pub const PERMISSIVE: AccessPolicy = AccessPolicy {
        sizes: AccessSizes::ALL,
        aligned: false,
        invalid: InvalidAccess::Ignore,
        unmapped: Unmapped::Zero,
    };
}

/// What bytes no register covers read as (writes to them are always
/// ignored). QEMU devices differ: most read 0, some (edu) all-ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unmapped {
    /// Read 0x00.
    Zero,
    /// Read 0xff.
    Ones,
}

impl Unmapped {
    /// The byte value unmapped bytes read as.
    pub const fn fill(self) -> u8 {
        match self {
            Unmapped::Zero => 0,
            Unmapped::Ones => 0xff,
        }
    }
}

/// A set of access lengths, as a bit mask whose bit values are the lengths:
/// `1` = 1 byte, `2` = 2 bytes, `4` = 4 bytes, `8` = 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessSizes(pub u8);

impl AccessSizes {
    /// 1-byte accesses.
    pub const B1: AccessSizes = AccessSizes(1);
    /// 2-byte accesses.
    pub const B2: AccessSizes = AccessSizes(2);
    /// 4-byte accesses.
    pub const B4: AccessSizes = AccessSizes(4);
    /// 8-byte accesses.
    pub const B8: AccessSizes = AccessSizes(8);
    /// 1, 2, 4 and 8-byte accesses.
    pub const ALL: AccessSizes = AccessSizes(1 | 2 | 4 | 8);

    /// The union of two sets (usable in `const` context).
    pub const fn with(self, other: AccessSizes) -> AccessSizes {
        AccessSizes(self.0 | other.0)
    }

    /// Whether an access of `len` bytes is allowed. Lengths other than
    /// 1, 2, 4 and 8 (including 0) are never allowed.
    pub const fn contains(self, len: usize) -> bool {
        match len {
            1 | 2 | 4 | 8 => self.0 & (len as u8) != 0,
            _ => false,
        }
    }
}

/// What an invalid BAR access does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvalidAccess {
    /// Reads return 0, writes are dropped.
    Ignore,
    /// Reads return all-ones, writes are dropped.
    AllOnes,
    /// The access fails with an [`AccessError`](crate::AccessError); reads
    /// are filled with all-ones, writes are dropped.
    Error,
}

/// One register inside a BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegisterLayout {
    /// Register name.
    pub name: &'static str,
    /// Byte offset inside the BAR.
    pub offset: u64,
    /// Width in bytes: 1, 2, 4 or 8.
    pub width: u8,
    /// Access lengths this register accepts on top of its BAR's policy
    /// (an access overlapping it with another length is invalid);
    /// `AccessSizes(0)` means "whatever the BAR allows".
    pub sizes: AccessSizes,
}

impl RegisterLayout {
    /// A register accepting whatever its BAR allows (generated code's
    /// compact form: one line per register).
    pub const fn new(name: &'static str, offset: u64, width: u8) -> Self {
        RegisterLayout {
            name,
            offset,
            width,
            sizes: AccessSizes(0),
        }
    }

    /// The same register, narrowed to `sizes`.
    pub const fn with_sizes(self, sizes: AccessSizes) -> Self {
        RegisterLayout { sizes, ..self }
    }

    /// Width in bytes, clamped to 1..=8 so a malformed layout cannot make
    /// the runtime shift out of range.
    pub const fn clamped_width(&self) -> u64 {
        match self.width {
            0 => 1,
            w if w > 8 => 8,
            w => w as u64,
        }
    }

    /// One past the last byte of the register (saturating).
    pub const fn end(&self) -> u64 {
        self.offset.saturating_add(self.clamped_width())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_sizes_contains() {
        let s = AccessSizes::B1.with(AccessSizes::B4);
        assert!(s.contains(1));
        assert!(!s.contains(2));
        assert!(s.contains(4));
        assert!(!s.contains(8));
        for bad in [0, 3, 5, 6, 7, 9, 16, usize::MAX] {
            assert!(!AccessSizes::ALL.contains(bad), "{bad}");
        }
    }

    #[test]
    fn msi_mmc() {
        let mmc = |vectors| MsiInfo { vectors }.mmc();
        assert_eq!(mmc(1), 0);
        assert_eq!(mmc(2), 1);
        assert_eq!(mmc(4), 2);
        assert_eq!(mmc(32), 5);
        assert_eq!(mmc(0), 0);
        assert_eq!(mmc(3), 1);
        assert_eq!(mmc(255), 5);
    }

    #[test]
    fn pin_values() {
        assert_eq!(IntxPin::A.register_value(), 1);
        assert_eq!(IntxPin::D.register_value(), 4);
    }
}
