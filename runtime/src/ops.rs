//! The language's operators and storage helpers, for generated code.
//!
//! The spec language evaluates everything in `u64` with total semantics:
//! division by zero gives 0, shifts by 64 or more give 0, a buffer index
//! out of range reads 0 and ignores writes. Generated models call these
//! helpers so that no guest-controlled value can make them panic. The
//! operators themselves are defined once, in `pcidev_core::ops` and
//! `pcidev_core::access`, and re-exported here.

pub use pcidev_core::access::{lanes_mask, write_fields};
pub use pcidev_core::ops::{div, rem, set_field, shl, shr};

/// Byte `index` of a buffer as u64; 0 when out of range.
#[inline]
pub fn buf_get(buf: &[u8], index: u64) -> u64 {
    usize::try_from(index)
        .ok()
        .and_then(|i| buf.get(i))
        .map_or(0, |b| u64::from(*b))
}

/// Store the low byte of `value` at `index`; ignored when out of range.
#[inline]
pub fn buf_set(buf: &mut [u8], index: u64, value: u64) {
    if let Some(b) = usize::try_from(index).ok().and_then(|i| buf.get_mut(i)) {
        *b = value as u8;
    }
}

/// `len` bytes of a buffer from `offset`, or `None` when the range does not
/// fit (the spec's DMA then ends with status `BAD_BUFFER_RANGE`).
#[inline]
pub fn buf_range(buf: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let (start, end) = range(buf.len(), offset, len)?;
    buf.get(start..end)
}

/// Mutable form of [`buf_range`].
#[inline]
pub fn buf_range_mut(buf: &mut [u8], offset: u64, len: u64) -> Option<&mut [u8]> {
    let (start, end) = range(buf.len(), offset, len)?;
    buf.get_mut(start..end)
}

fn range(size: usize, offset: u64, len: u64) -> Option<(usize, usize)> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= size).then_some((start, end))
}

/// A device buffer of `len` bytes starting with `prefix` (the rest zero;
/// a longer prefix is cut).
pub fn init_buffer(len: usize, prefix: &[u8]) -> Box<[u8]> {
    let mut b = vec![0u8; len];
    let n = prefix.len().min(len);
    b[..n].copy_from_slice(&prefix[..n]);
    b.into_boxed_slice()
}

/// Register storage: the unsigned integers a register can be.
pub trait Storage: Copy {
    /// The register's value, zero-extended to 64 bits.
    fn to_u64(self) -> u64;
    /// Truncating, as the language's assignment is.
    fn from_u64(v: u64) -> Self;
}

macro_rules! storage {
    ($($t:ty),*) => {$(
        impl Storage for $t {
            #[inline]
            fn to_u64(self) -> u64 {
                self.into()
            }
            #[inline]
            fn from_u64(v: u64) -> Self {
                v as $t
            }
        }
    )*};
}
storage!(u8, u16, u32, u64);

/// [`write_fields`] applied to a register's storage in place: the one line
/// a generated model spends on a guest write to a register with storage.
#[inline]
pub fn write<S: Storage>(reg: &mut S, value: u64, mask: u64, rw: u64, w1c: u64, w1s: u64) {
    *reg = S::from_u64(write_fields(reg.to_u64(), value, mask, rw, w1c, w1s));
}

/// An MSI / MSI-X vector number from an expression (saturating at 65535;
/// the runtime ignores vectors the guest did not enable or the table lacks).
#[inline]
pub fn msi_vector(v: u64) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_total() {
        // The operators are tested where they are defined (pcidev_core::ops).
        let mut b = [1u8, 2, 3];
        assert_eq!(buf_get(&b, 2), 3);
        assert_eq!(buf_get(&b, 3), 0);
        assert_eq!(buf_get(&b, u64::MAX), 0);
        buf_set(&mut b, 0, 0x1ff);
        buf_set(&mut b, 99, 7);
        assert_eq!(b, [0xff, 2, 3]);
        assert_eq!(buf_range(&b, 1, 2), Some(&[2u8, 3][..]));
        assert_eq!(buf_range(&b, 2, 2), None);
        assert_eq!(buf_range(&b, u64::MAX, 1), None);
        assert_eq!(buf_range(&b, 1, u64::MAX), None);
        assert_eq!(set_field(0xffff, 4, 0xf0, 0x3), 0xff3f);
        assert_eq!(set_field(0, 60, 0xf << 60, 0xff), 0xf << 60);
        assert_eq!(lanes_mask(0b0000_0101), 0x00ff_00ff);
        assert_eq!(lanes_mask(0xff), u64::MAX);
        assert_eq!(msi_vector(300), 300);
        assert_eq!(msi_vector(1 << 20), u16::MAX);
        assert_eq!(&*init_buffer(4, b"ab"), b"ab\0\0");
        let mut r: u16 = 0x01aa;
        write(&mut r, 0x1_0355, u64::MAX, 0xff, 0x100, 0x200);
        assert_eq!(r, 0x0255, "bits above the storage are dropped");
        assert_eq!(&*init_buffer(1, b"ab"), b"a");
        // rw low byte, w1c bit 8, w1s bit 9, ro bits 16..
        let old = 0x00ff_01aa;
        assert_eq!(
            write_fields(old, 0x0000_0355, 0xffff, 0xff, 0x100, 0x200),
            0x00ff_0255
        );
        // Only the enabled lane changes.
        assert_eq!(
            write_fields(old, 0x0000_0355, 0xff00, 0xff, 0x100, 0x200),
            0x00ff_02aa
        );
    }
}
