//! Deterministic data sources for DMA: a seeded xorshift32 generator and a
//! byte pattern.
//!
//! The generated guest driver re-implements [`random_bytes`] bit for bit to
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
//! so `random_bytes(1, 6) == [0x21, 0x20, 0x04, 0x00, 0x01, 0x06]`.

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

/// `len` pseudo-random bytes from `seed`, exactly as described in the module
/// docs.
pub fn random_bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    Xorshift32::new(seed).fill_bytes(&mut out);
    out
}

/// `len` copies of `byte`.
pub fn pattern_bytes(byte: u8, len: usize) -> Vec<u8> {
    vec![byte; len]
}
