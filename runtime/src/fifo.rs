//! [`Fifo`]: a spec's `state NAME: fifo[T; N]`.
//!
//! A ring of at most `N` elements of `T` in a fixed array (no allocation,
//! `Copy` when `T` is, so generated `State` structs keep their derives).
//! Total operations, as the language defines them: `push` on a full FIFO
//! and `pop` on an empty one do nothing; `front` of an empty FIFO is 0.

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
    pub fn push(&mut self, value: T) {
        if self.len < N {
            let tail = (self.head + self.len) % N;
            self.buf[tail] = value;
            self.len += 1;
        }
    }

    /// `NAME.pop()`: drop the first element; nothing when empty.
    pub fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % N;
            self.len -= 1;
        }
    }

    /// `NAME.clear()`.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// `NAME.front`: the first element, 0 when empty.
    pub fn front(&self) -> u64 {
        if self.len == 0 {
            0
        } else {
            self.buf[self.head].into()
        }
    }

    /// `NAME.len`.
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    /// `NAME.empty`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `NAME.full`.
    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// The elements, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.len).map(move |i| self.buf[(self.head + i) % N])
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
        assert_eq!(f.len(), 0);
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
        assert_eq!((f.front(), f.len()), (5, 1));
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
