//! Access kinds (SystemRDL-like names) and what a guest access does to the
//! bits of each kind.
//!
//! | kind | guest read | guest write |
//! |---|---|---|
//! | `rw` | value | sets the bits written |
//! | `ro` | value | no effect |
//! | `wo` | 0 | sets the bits written |
//! | `w1c` | value | clears the bits written as 1 |
//! | `w1s` | value | sets the bits written as 1 |
//! | `rclr` | value, then cleared | no effect |
//!
//! A register's storage is the union of its fields; [`WriteMasks`] sorts a
//! register's bits by kind once (at compile time, in generated code) and
//! [`WriteMasks::apply`] is the one definition of a guest write.

/// How the guest may access a register or field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AccessKind {
    /// Read/write.
    Rw,
    /// Read-only.
    Ro,
    /// Write-only (reads 0).
    Wo,
    /// Write 1 to clear.
    W1c,
    /// Write 1 to set.
    W1s,
    /// Read-only, cleared by a read.
    Rclr,
}

impl AccessKind {
    /// Every kind, in the order of the table above.
    pub const ALL: [AccessKind; 6] = [
        AccessKind::Rw,
        AccessKind::Ro,
        AccessKind::Wo,
        AccessKind::W1c,
        AccessKind::W1s,
        AccessKind::Rclr,
    ];

    /// The kind spelled `s` in a spec.
    pub fn parse(s: &str) -> Option<AccessKind> {
        AccessKind::ALL.into_iter().find(|k| k.keyword() == s)
    }

    /// How a spec spells it.
    pub const fn keyword(self) -> &'static str {
        match self {
            AccessKind::Rw => "rw",
            AccessKind::Ro => "ro",
            AccessKind::Wo => "wo",
            AccessKind::W1c => "w1c",
            AccessKind::W1s => "w1s",
            AccessKind::Rclr => "rclr",
        }
    }

    /// Can a guest write change the stored value?
    pub const fn writable(self) -> bool {
        !matches!(self, AccessKind::Ro | AccessKind::Rclr)
    }

    /// Does a guest read see the stored value?
    pub const fn readable(self) -> bool {
        !matches!(self, AccessKind::Wo)
    }

    /// Does a guest read clear the stored value?
    pub const fn read_clears(self) -> bool {
        matches!(self, AccessKind::Rclr)
    }
}

/// A register's bits sorted by access kind: everything a guest access to a
/// register with storage needs to know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WriteMasks {
    /// Bits of `rw` and `wo` fields: take the written value.
    pub set: u64,
    /// Bits of `w1c` fields: cleared where the written value is 1.
    pub w1c: u64,
    /// Bits of `w1s` fields: set where the written value is 1.
    pub w1s: u64,
    /// Bits a guest read returns (all but `wo` fields and bits in no field).
    pub readable: u64,
    /// Bits a guest read clears afterwards (`rclr` fields).
    pub read_clears: u64,
}

impl WriteMasks {
    /// Add a field of `kind` covering the bits `mask`.
    pub const fn with(mut self, kind: AccessKind, mask: u64) -> Self {
        match kind {
            AccessKind::Rw | AccessKind::Wo => self.set |= mask,
            AccessKind::W1c => self.w1c |= mask,
            AccessKind::W1s => self.w1s |= mask,
            AccessKind::Ro | AccessKind::Rclr => {}
        }
        if kind.readable() {
            self.readable |= mask;
        }
        if kind.read_clears() {
            self.read_clears |= mask;
        }
        self
    }

    /// The bits a guest write can change.
    pub const fn writable(&self) -> u64 {
        self.set | self.w1c | self.w1s
    }

    /// The stored value after a guest write of `value` whose bytes cover the
    /// bits `lanes` (other bits of `value` are ignored). Bits of no writable
    /// kind keep their value.
    pub const fn apply(&self, old: u64, value: u64, lanes: u64) -> u64 {
        write_fields(old, value, lanes, self.set, self.w1c, self.w1s)
    }
}

/// A guest write to a register with storage: `lanes` is the written bytes'
/// bits; `set` the bits of rw/wo fields (take the written value), `w1c` of
/// write-1-to-clear fields, `w1s` of write-1-to-set fields. Other bits keep
/// their value.
#[inline]
pub const fn write_fields(old: u64, value: u64, lanes: u64, set: u64, w1c: u64, w1s: u64) -> u64 {
    let v = value & lanes;
    let kept = old & !(set & lanes);
    ((kept | (v & set)) & !(v & w1c)) | (v & w1s)
}

/// The bit mask of the bytes whose lane bit is set (bit i of `lanes` =
/// byte i).
#[inline]
pub const fn lanes_mask(lanes: u8) -> u64 {
    LANE_MASKS[lanes as usize]
}

/// [`lanes_mask`] for every lane set, computed at compile time (the write
/// path runs on every guest store).
const LANE_MASKS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut lanes = 0;
    while lanes < 256 {
        let mut m = 0u64;
        let mut i = 0;
        while i < 8 {
            if lanes & (1 << i) != 0 {
                m |= 0xff << (8 * i);
            }
            i += 1;
        }
        table[lanes] = m;
        lanes += 1;
    }
    table
};

/// A mask of the `bits` low bits (64 and more give all ones).
#[inline]
pub const fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for k in AccessKind::ALL {
            assert_eq!(AccessKind::parse(k.keyword()), Some(k));
        }
        assert_eq!(AccessKind::parse("rw1"), None);
    }

    #[test]
    fn write_rules() {
        // rw low byte, w1c bit 8, w1s bit 9, ro bits 16..
        let m = WriteMasks::default()
            .with(AccessKind::Rw, 0xff)
            .with(AccessKind::W1c, 0x100)
            .with(AccessKind::W1s, 0x200)
            .with(AccessKind::Ro, 0xff_0000);
        let old = 0x00ff_01aa;
        assert_eq!(m.apply(old, 0x0000_0355, 0xffff), 0x00ff_0255);
        // Only the enabled lane changes.
        assert_eq!(m.apply(old, 0x0000_0355, 0xff00), 0x00ff_02aa);
        assert_eq!(m.writable(), 0x3ff);
        assert_eq!(m.readable, 0xff_03ff);
    }

    #[test]
    fn wo_and_rclr() {
        let m = WriteMasks::default()
            .with(AccessKind::Wo, 0xf)
            .with(AccessKind::Rclr, 0xf0);
        assert_eq!(m.readable, 0xf0);
        assert_eq!(m.read_clears, 0xf0);
        assert_eq!(m.apply(0xa0, 0xff, u64::MAX), 0xaf);
    }

    #[test]
    fn masks() {
        assert_eq!(lanes_mask(0b0000_0101), 0x00ff_00ff);
        assert_eq!(lanes_mask(0xff), u64::MAX);
        assert_eq!(low_mask(0), 0);
        assert_eq!(low_mask(12), 0xfff);
        assert_eq!(low_mask(64), u64::MAX);
        assert_eq!(low_mask(99), u64::MAX);
    }
}
