//! Deterministic data for DMA and scenarios: a seeded xorshift32 stream, a
//! repeated byte, a repeated little-endian word.
//!
//! The generated guest drivers re-implement [`Xorshift32`] bit for bit to
//! verify DMA payloads, so the algorithm is fixed:
//!
//! ```text
//! x = seed; if x == 0 { x = 0x9E3779B9 }
//! repeat:
//!     x ^= x << 13      (all arithmetic on u32, shifts drop bits)
//!     x ^= x >> 17
//!     x ^= x << 5
//!     emit x as 4 bytes, little-endian (x & 0xff first)
//! truncate the output to len bytes
//! ```
//!
//! For seed 1 the first words are 0x00042021, 0x04080601, 0x9DCCA8C5,
//! so `Data::Random(1).bytes(6) == [0x21, 0x20, 0x04, 0x00, 0x01, 0x06]`.

/// State substituted for a zero seed (xorshift never leaves 0).
pub const ZERO_SEED_REPLACEMENT: u32 = 0x9E37_79B9;

/// Marsaglia's xorshift32 (shifts 13, 17, 5). See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xorshift32 {
    state: u32,
}

impl Xorshift32 {
    /// A generator seeded with `seed` (0 is replaced by `0x9E3779B9`).
    pub const fn new(seed: u32) -> Self {
        Xorshift32 {
            state: if seed == 0 {
                ZERO_SEED_REPLACEMENT
            } else {
                seed
            },
        }
    }

    /// Advance one step and return the new state.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }

    /// Fill `out` with successive words, little-endian; a final partial word
    /// contributes its low bytes (and the rest of it is discarded).
    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let word = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

impl Iterator for Xorshift32 {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        Some(self.next_u32())
    }
}

/// Constant data a DMA writes or a scenario fills or expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Data {
    /// The xorshift32 stream from this seed.
    Random(u32),
    /// One byte, repeated.
    Pattern(u8),
    /// The 8 little-endian bytes of a value, repeated.
    Word(u64),
}

impl Data {
    /// Fill `out` with the data from its start.
    pub fn fill(self, out: &mut [u8]) {
        match self {
            Data::Random(seed) => Xorshift32::new(seed).fill_bytes(out),
            Data::Pattern(b) => out.fill(b),
            Data::Word(w) => {
                let b = w.to_le_bytes();
                for (i, x) in out.iter_mut().enumerate() {
                    *x = b[i % 8];
                }
            }
        }
    }

    /// The first `len` bytes of the data.
    pub fn bytes(self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.fill(&mut out);
        out
    }

    /// How a spec writes it: `random(0x5eed)`, `pattern(0xa5)`, `word(0x1)`.
    pub fn spelling(self) -> String {
        match self {
            Data::Random(s) => format!("random({s:#x})"),
            Data::Pattern(b) => format!("pattern({b:#x})"),
            Data::Word(w) => format!("word({w:#x})"),
        }
    }
}

/// FNV-1a, 64-bit: the payload checksum traces carry (simple enough for any
/// harness to recompute).
pub fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(
            Data::Random(1).bytes(6),
            [0x21, 0x20, 0x04, 0x00, 0x01, 0x06]
        );
        let mut g = Xorshift32::new(1);
        assert_eq!(g.next_u32(), 0x0004_2021);
        assert_eq!(g.next_u32(), 0x0408_0601);
        assert_eq!(g.next_u32(), 0x9DCC_A8C5);
        assert_eq!(Xorshift32::new(0), Xorshift32::new(ZERO_SEED_REPLACEMENT));
        assert_eq!(Data::Pattern(0xa5).bytes(3), [0xa5; 3]);
        assert_eq!(Data::Word(0x0102).bytes(10), [2, 1, 0, 0, 0, 0, 0, 0, 2, 1]);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    }
}
