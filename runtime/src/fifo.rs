//! [`Fifo`]: a spec's `state NAME: fifo[T; N]`.
//!
//! A ring of at most `N` elements of `T` in a fixed array (no allocation,
//! `Copy` when `T` is, so generated `State` structs keep their derives).
//! Total operations, as the language defines them: `push` on a full FIFO
//! and `pop` on an empty one do nothing; `front` of an empty FIFO is 0.
//!
//! [`DynFifo`] is the same ring with its capacity chosen at run time (the
//! interpreter's FIFO states): both run the ring operations of [`Ring`],
//! so they behave identically, and `DynFifo`'s `Debug` prints what the
//! `Fifo` of the same contents prints (`Fifo { buf: [..], head, len }`).

/// The ring operations both FIFO types share: a head index and a length
/// over a buffer whose length is the capacity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Ring {
    head: usize,
    len: usize,
}

impl Ring {
    #[inline]
    fn push<T>(&mut self, buf: &mut [T], value: T) {
        let n = buf.len();
        if self.len < n {
            buf[(self.head + self.len) % n] = value;
            self.len += 1;
        }
    }

    #[inline]
    fn pop(&mut self, capacity: usize) {
        if self.len > 0 {
            self.head = (self.head + 1) % capacity;
            self.len -= 1;
        }
    }

    #[inline]
    fn clear(&mut self) {
        *self = Ring::default();
    }

    #[inline]
    fn front<T: Copy>(&self, buf: &[T]) -> Option<T> {
        (self.len > 0).then(|| buf[self.head])
    }
}

/// A bounded first-in first-out queue of `N` elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fifo<T: Copy + Default + Into<u64>, const N: usize> {
    buf: [T; N],
    head: usize,
    len: usize,
}

impl<T: Copy + Default + Into<u64>, const N: usize> Default for Fifo<T, N> {
    fn default() -> Self {
        Fifo {
            buf: [T::default(); N],
            head: 0,
            len: 0,
        }
    }
}

impl<T: Copy + Default + Into<u64>, const N: usize> Fifo<T, N> {
    /// `NAME.push(v)`: append; nothing when full.
    #[inline]
    pub fn push(&mut self, value: T) {
        let mut ring = self.ring();
        ring.push(&mut self.buf, value);
        self.set_ring(ring);
    }

    #[inline]
    fn ring(&self) -> Ring {
        Ring {
            head: self.head,
            len: self.len,
        }
    }

    #[inline]
    fn set_ring(&mut self, ring: Ring) {
        self.head = ring.head;
        self.len = ring.len;
    }

    /// `NAME.pop()`: drop the first element; nothing when empty.
    #[inline]
    pub fn pop(&mut self) {
        let mut ring = self.ring();
        ring.pop(N);
        self.set_ring(ring);
    }

    /// `NAME.clear()`.
    #[inline]
    pub fn clear(&mut self) {
        let mut ring = self.ring();
        ring.clear();
        self.set_ring(ring);
    }

    /// `NAME.front`: the first element, 0 when empty.
    #[inline]
    pub fn front(&self) -> u64 {
        self.ring().front(&self.buf).map_or(0, Into::into)
    }

    /// `NAME.len`. (Not `len()`: generated code compares it with numbers,
    /// and clippy would ask for `is_empty` where a spec wrote `len != 0`.)
    #[inline]
    pub fn count(&self) -> u64 {
        self.len as u64
    }

    /// `NAME.empty`.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `NAME.full`.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// The elements, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.len).map(move |i| self.buf[(self.head + i) % N])
    }
}

impl<T: Copy + Default + Into<u64> + TryFrom<u64>, const N: usize> Fifo<T, N> {
    /// The elements, oldest first, as u64 (a snapshot's value).
    pub fn save_items(&self) -> Vec<u64> {
        self.iter().map(Into::into).collect()
    }

    /// Hold exactly `items` (oldest first): at most `N` of them are
    /// taken, an element that does not fit `T` becomes 0 (a checked
    /// snapshot has neither).
    pub fn restore_items(&mut self, items: &[u64]) {
        self.clear();
        for &v in items.iter().take(N) {
            self.push(T::try_from(v).unwrap_or_default());
        }
    }
}

/// A FIFO of `u64` elements whose capacity is set at run time: the
/// interpreter's `state NAME: fifo[T; N]` (elements are truncated to `T`
/// by the caller, as generated code's `as T` does).
#[derive(Clone, PartialEq, Eq)]
pub struct DynFifo {
    buf: Box<[u64]>,
    ring: Ring,
}

impl std::fmt::Debug for DynFifo {
    /// As `Fifo`'s derived `Debug`, so states compare by their text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fifo")
            .field("buf", &self.buf)
            .field("head", &self.ring.head)
            .field("len", &self.ring.len)
            .finish()
    }
}

impl DynFifo {
    /// An empty FIFO holding at most `capacity` elements.
    pub fn new(capacity: usize) -> Self {
        DynFifo {
            buf: vec![0; capacity].into_boxed_slice(),
            ring: Ring::default(),
        }
    }

    /// See [`Fifo::push`].
    pub fn push(&mut self, value: u64) {
        self.ring.push(&mut self.buf, value);
    }

    /// See [`Fifo::pop`].
    pub fn pop(&mut self) {
        self.ring.pop(self.buf.len());
    }

    /// See [`Fifo::clear`].
    pub fn clear(&mut self) {
        self.ring.clear();
    }

    /// See [`Fifo::front`].
    pub fn front(&self) -> u64 {
        self.ring.front(&self.buf).unwrap_or(0)
    }

    /// See [`Fifo::count`].
    pub fn count(&self) -> u64 {
        self.ring.len as u64
    }

    /// See [`Fifo::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.ring.len == 0
    }

    /// See [`Fifo::is_full`].
    pub fn is_full(&self) -> bool {
        self.ring.len == self.buf.len()
    }

    /// See [`Fifo::save_items`].
    pub fn save_items(&self) -> Vec<u64> {
        let n = self.buf.len();
        (0..self.ring.len)
            .map(|i| self.buf[(self.ring.head + i) % n])
            .collect()
    }

    /// See [`Fifo::restore_items`] (elements are taken as they are; the
    /// caller checked their width).
    pub fn restore_items(&mut self, items: &[u64]) {
        self.clear();
        for &v in items.iter().take(self.buf.len()) {
            self.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_semantics() {
        let mut f: Fifo<u8, 3> = Fifo::default();
        assert!(f.is_empty() && !f.is_full());
        assert_eq!(f.front(), 0);
        f.pop();
        assert_eq!(f.count(), 0);
        for v in 1..=4 {
            f.push(v);
        }
        assert!(f.is_full());
        assert_eq!(f.iter().collect::<Vec<_>>(), [1, 2, 3]);
        f.pop();
        f.push(9);
        assert_eq!(f.iter().collect::<Vec<_>>(), [2, 3, 9]);
        assert_eq!(f.front(), 2);
        f.clear();
        assert!(f.is_empty());
        f.push(5);
        assert_eq!((f.front(), f.count()), (5, 1));
    }

    #[test]
    fn dyn_fifo_matches_fifo_and_prints_alike() {
        let mut f: Fifo<u8, 3> = Fifo::default();
        let mut d = DynFifo::new(3);
        for op in [1u64, 2, 0, 3, 4, 5, 0, 0, 6, 9, 9, 9, 0] {
            if op == 0 {
                f.pop();
                d.pop();
            } else {
                f.push(op as u8);
                d.push(op);
            }
            assert_eq!(format!("{f:?}"), format!("{d:?}"));
            assert_eq!((f.front(), f.count()), (d.front(), d.count()));
            assert_eq!((f.is_empty(), f.is_full()), (d.is_empty(), d.is_full()));
        }
        f.clear();
        d.clear();
        assert_eq!(format!("{f:?}"), format!("{d:?}"));
    }

    #[test]
    fn zero_capacity_is_always_full_and_empty() {
        let mut f: Fifo<u8, 0> = Fifo::default();
        f.push(1);
        f.pop();
        assert!(f.is_empty() && f.is_full());
        assert_eq!(f.front(), 0);
    }
}
