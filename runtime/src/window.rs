//! Memory-backed BAR windows: [`WindowInfo`] (where a device buffer shows
//! in a BAR) and [`Bytes`] (the buffer itself, on the heap or in a shared
//! file mapping a host can hand to its VMM).
//!
//! Contract:
//! - a window is `len` bytes at `offset` of BAR `bar`; byte `i` of the
//!   window is byte `i` of the buffer. Guest accesses copy bytes, nothing
//!   else happens (no actions, no interrupt change of their own);
//! - [`Bytes`] always holds exactly the length it was created with; a
//!   [`Bytes::share`] keeps the contents and the length, only the backing
//!   moves into the file, so a model's buffer can be shared after creation;
//! - [`Bytes::reset`] rewrites the bytes in place: a shared buffer stays
//!   shared across device resets (the VMM's mapping stays valid).

use std::fs::File;
use std::io;
use std::ops::{Deref, DerefMut};

use vm_memory::FileOffset;
use vm_memory::mmap::MmapRegion;

/// One window: a buffer state shown in a BAR (the spec's `window`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowInfo {
    /// The buffer state's name.
    pub name: &'static str,
    /// BAR index (0..=5).
    pub bar: u8,
    /// Byte offset inside the BAR.
    pub offset: u64,
    /// Length in bytes (the buffer's length).
    pub len: u64,
    /// Guest writes store bytes (`false`: `ro`, writes are ignored).
    pub writable: bool,
}

impl WindowInfo {
    /// One past the last byte (saturating, so a malformed description
    /// cannot overflow).
    pub const fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }
}

/// A device byte buffer: zeroed heap memory, or a shared mapping of a file
/// (a memfd the host also passes to the VMM, see [`Bytes::share`]).
///
/// Dereferences to `[u8]`, so generated code and the runtime use it as a
/// slice. Cloning gives a heap copy; equality compares the bytes.
pub struct Bytes {
    repr: Repr,
}

enum Repr {
    Heap(Box<[u8]>),
    /// A `MAP_SHARED` read-write mapping of the whole buffer; the region
    /// keeps its file open.
    Shared(MmapRegion<()>),
}

impl Bytes {
    /// `len` bytes: `init` first (truncated to `len`), then zeros. Heap
    /// memory is requested zeroed, so a large buffer costs no page until
    /// it is touched.
    pub fn new(len: usize, init: &[u8]) -> Self {
        Bytes {
            repr: Repr::Heap(crate::ops::init_buffer(len, init)),
        }
    }

    /// Move the contents into `file` at byte `offset` (a multiple of the
    /// page size) and use a shared mapping of that part of it from now on.
    /// `file` grows to `offset + len` if it is shorter (a memfd grows
    /// sparse: untouched pages cost nothing); the buffer's bytes overwrite
    /// what the file held there. Whatever else maps the file (the VMM,
    /// through the fd it was sent) then sees and changes the same bytes.
    ///
    /// Fails (and keeps the buffer as it was) when the buffer is empty or
    /// already shared, or the file cannot be resized or mapped there.
    pub fn share(&mut self, file: File, offset: u64) -> io::Result<()> {
        let len = self.len();
        if len == 0 || self.shared_file().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "empty or already shared buffer",
            ));
        }
        let end = offset
            .checked_add(len as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        if file.metadata()?.len() < end {
            file.set_len(end)?;
        }
        let region = MmapRegion::<()>::from_file(FileOffset::new(file, offset), len)
            .map_err(|e| io::Error::other(e.to_string()))?;
        // SAFETY: `region` is a fresh read-write mapping of exactly `len`
        // bytes; `self` is `len` bytes; they do not overlap (the mapping is
        // new).
        unsafe { std::ptr::copy_nonoverlapping(self.as_ptr(), region.as_ptr(), len) };
        self.repr = Repr::Shared(region);
        Ok(())
    }

    /// The file backing a shared buffer and the buffer's offset in it
    /// (`None` on the heap).
    pub fn shared_file(&self) -> Option<(&File, u64)> {
        match &self.repr {
            Repr::Heap(_) => None,
            Repr::Shared(r) => r.file_offset().map(|f| (f.file(), f.start())),
        }
    }

    /// Back to `init` then zeros, in place (a shared buffer stays shared).
    pub fn reset(&mut self, init: &[u8]) {
        let n = init.len().min(self.len());
        self[..n].copy_from_slice(&init[..n]);
        self[n..].fill(0);
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.repr {
            Repr::Heap(b) => b,
            // SAFETY: the region is a live read-write mapping of `size()`
            // bytes owned by `self`, unmapped only on drop. Every byte
            // value is a valid u8. Another process (the VMM) may store to
            // the same pages while the slice lives: the device then reads
            // whichever bytes are there, as real hardware sharing memory
            // with a CPU would; the model never relies on two reads of a
            // shared byte agreeing.
            Repr::Shared(r) => unsafe { std::slice::from_raw_parts(r.as_ptr(), r.size()) },
        }
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.repr {
            Repr::Heap(b) => b,
            // SAFETY: as in `deref`; `&mut self` makes this the only slice
            // of the mapping in this process.
            Repr::Shared(r) => unsafe { std::slice::from_raw_parts_mut(r.as_ptr(), r.size()) },
        }
    }
}

impl Clone for Bytes {
    /// A heap copy of the bytes (a clone never shares the file).
    fn clone(&self) -> Self {
        Bytes {
            repr: Repr::Heap(self.to_vec().into_boxed_slice()),
        }
    }
}

impl Default for Bytes {
    /// An empty buffer.
    fn default() -> Self {
        Bytes::new(0, &[])
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Bytes {}

impl std::fmt::Debug for Bytes {
    /// Length and backing only: a window may be megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backing = match self.repr {
            Repr::Heap(_) => "heap",
            Repr::Shared(_) => "shared",
        };
        f.debug_struct("Bytes")
            .field("len", &self.len())
            .field("backing", &backing)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file() -> File {
        let path = std::env::temp_dir().join(format!(
            "pcidev-bytes-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }

    #[test]
    fn heap_init_reset_clone() {
        let mut b = Bytes::new(6, b"abc");
        assert_eq!(&*b, b"abc\0\0\0");
        b[4] = 7;
        let c = b.clone();
        assert_eq!(c, b);
        b.reset(b"z");
        assert_eq!(&*b, b"z\0\0\0\0\0");
        assert_ne!(c, b);
        assert!(b.shared_file().is_none());
        assert_eq!(&*Bytes::new(2, b"abc"), b"ab");
    }

    #[test]
    fn shared_keeps_contents_and_is_seen_through_the_file() {
        use std::os::unix::fs::FileExt;
        let mut b = Bytes::new(8192, b"hello");
        b[8191] = 0x5a;
        b.share(temp_file(), 4096).unwrap();
        assert!(b.share(temp_file(), 0).is_err(), "shared once");
        assert_eq!(&b[..5], b"hello");
        assert_eq!(b[8191], 0x5a);
        assert_eq!(b.len(), 8192);
        let (f, at) = b.shared_file().unwrap();
        assert_eq!(at, 4096);
        assert_eq!(f.metadata().unwrap().len(), 4096 + 8192);
        let f = f.try_clone().unwrap();
        // The other side writes: the device sees it.
        f.write_all_at(b"XY", 4096 + 100).unwrap();
        assert_eq!(&b[100..102], b"XY");
        // The device writes: the other side sees it.
        b[200] = 0x33;
        let mut one = [0u8];
        f.read_exact_at(&mut one, 4096 + 200).unwrap();
        assert_eq!(one[0], 0x33);
        // Reset in place keeps sharing.
        b.reset(b"R");
        f.read_exact_at(&mut one, 4096).unwrap();
        assert_eq!(one[0], b'R');
        f.read_exact_at(&mut one, 4096 + 100).unwrap();
        assert_eq!(one[0], 0);
        assert!(b.shared_file().is_some());
        assert!(Bytes::default().share(temp_file(), 0).is_err());
    }
}
