//! BAR kinds and access policies: which guest accesses a BAR accepts
//! (QEMU's `MemoryRegionOps.valid`) and what an invalid one does.

/// The kind of a BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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

    /// True for prefetchable memory BARs.
    pub const fn is_prefetchable(self) -> bool {
        matches!(
            self,
            BarKind::Mem32 { prefetchable: true } | BarKind::Mem64 { prefetchable: true }
        )
    }

    /// Number of BAR slots this kind occupies (1 or 2).
    pub const fn slots(self) -> u8 {
        match self {
            BarKind::Mem64 { .. } => 2,
            _ => 1,
        }
    }

    /// How a spec spells the kind (`io`, `mem32`, `mem64`), without
    /// `prefetchable`.
    pub const fn keyword(self) -> &'static str {
        match self {
            BarKind::Io => "io",
            BarKind::Mem32 { .. } => "mem32",
            BarKind::Mem64 { .. } => "mem64",
        }
    }

    /// The largest size a BAR of this kind may have (I/O: 256 bytes).
    pub const fn max_size(self) -> u64 {
        match self {
            BarKind::Io => 256,
            BarKind::Mem32 { .. } => 1 << 31,
            BarKind::Mem64 { .. } => 1 << 62,
        }
    }
}

/// A set of access lengths, as a bit mask whose bit values are the lengths:
/// `1` = 1 byte, `2` = 2 bytes, `4` = 4 bytes, `8` = 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AccessSizes(pub u8);

impl AccessSizes {
    /// No size (for registers: "whatever the BAR allows").
    pub const NONE: AccessSizes = AccessSizes(0);
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

    /// True when no size is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 & 0xf == 0
    }

    /// The sizes in bytes, ascending.
    pub fn list(self) -> Vec<u8> {
        [1u8, 2, 4, 8]
            .into_iter()
            .filter(|s| self.contains(usize::from(*s)))
            .collect()
    }

    /// The sizes as text, e.g. `1, 2, 4` with `sep` = ", ".
    pub fn text(self, sep: &str) -> String {
        self.list()
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// What an invalid BAR access does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InvalidAccess {
    /// Reads return 0, writes are dropped.
    Ignore,
    /// Reads return all-ones, writes are dropped.
    AllOnes,
    /// The access fails (the host sees an error); reads are filled with
    /// all-ones, writes are dropped.
    Error,
}

impl InvalidAccess {
    /// How a spec spells it (`invalid ignore;`).
    pub const fn keyword(self) -> &'static str {
        match self {
            InvalidAccess::Ignore => "ignore",
            InvalidAccess::AllOnes => "ones",
            InvalidAccess::Error => "error",
        }
    }

    /// The byte an invalid read returns.
    pub const fn fill(self) -> u8 {
        match self {
            InvalidAccess::Ignore => 0,
            InvalidAccess::AllOnes | InvalidAccess::Error => 0xff,
        }
    }
}

/// What bytes no register covers read as (writes to them are always
/// ignored). QEMU devices differ: most read 0, some (edu) all-ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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

    /// How a spec spells it (`unmapped zero;`).
    pub const fn keyword(self) -> &'static str {
        match self {
            Unmapped::Zero => "zero",
            Unmapped::Ones => "ones",
        }
    }
}

/// The valid accesses of a BAR and the outcome of invalid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AccessPolicy {
    /// Allowed access lengths.
    pub sizes: AccessSizes,
    /// Whether an access must be naturally aligned (offset.is_multiple_of(len)).
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

    /// The policy of a BAR that says nothing: 1, 2 and 4-byte accesses on
    /// I/O BARs, also 8 on memory BARs; aligned; invalid accesses ignored;
    /// unmapped bytes read 0.
    pub const fn default_for(kind: BarKind) -> AccessPolicy {
        AccessPolicy {
            sizes: if kind.is_io() {
                AccessSizes(1 | 2 | 4)
            } else {
                AccessSizes::ALL
            },
            aligned: true,
            invalid: InvalidAccess::Ignore,
            unmapped: Unmapped::Zero,
        }
    }

    /// Is an access of `len` bytes at `offset` valid as far as size and
    /// alignment go? (Range and register narrowing are checked by the
    /// caller, which knows the BAR's size and layout.)
    pub const fn allows(&self, offset: u64, len: u64) -> bool {
        let size_ok = len <= 8 && self.sizes.contains(len as usize);
        size_ok && (!self.aligned || offset.is_multiple_of(len))
    }

    /// Why an access of `len` bytes at `offset` of a BAR of `size` bytes is
    /// invalid, checked in the order the runtime checks it (size, range,
    /// alignment); `None` when the policy allows it.
    pub const fn reject(&self, size: u64, offset: u64, len: u64) -> Option<Rejection> {
        if len > 8 || !self.sizes.contains(len as usize) {
            return Some(Rejection::Size);
        }
        match offset.checked_add(len) {
            Some(end) if end <= size => {}
            _ => return Some(Rejection::OutOfRange),
        }
        if self.aligned && !offset.is_multiple_of(len) {
            return Some(Rejection::Misaligned);
        }
        None
    }
}

/// Why an access is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Rejection {
    /// The BAR (or a register it overlaps) does not accept this length.
    Size,
    /// The access reaches beyond the end of the BAR.
    OutOfRange,
    /// The policy requires natural alignment.
    Misaligned,
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
        assert_eq!(s.text(", "), "1, 4");
        assert!(AccessSizes::NONE.is_empty());
    }

    #[test]
    fn policy_rejects_in_runtime_order() {
        let p = AccessPolicy::default_for(BarKind::Io);
        assert_eq!(p.reject(16, 0, 8), Some(Rejection::Size));
        assert_eq!(p.reject(16, 14, 4), Some(Rejection::OutOfRange));
        assert_eq!(p.reject(16, u64::MAX, 4), Some(Rejection::OutOfRange));
        assert_eq!(p.reject(16, 2, 4), Some(Rejection::Misaligned));
        assert_eq!(p.reject(16, 4, 4), None);
        assert!(p.allows(4, 4));
        assert!(!p.allows(2, 4));
        assert!(!p.allows(0, 0));
        assert!(AccessPolicy::PERMISSIVE.allows(3, 4));
    }

    #[test]
    fn kinds() {
        assert_eq!(BarKind::Mem64 { prefetchable: true }.slots(), 2);
        assert!(BarKind::Mem32 { prefetchable: true }.is_prefetchable());
        assert_eq!(BarKind::Io.max_size(), 256);
    }
}
