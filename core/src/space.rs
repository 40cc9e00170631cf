//! Address spaces a register can live in.

/// Where a register or a scenario location lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Space {
    /// PCI configuration space (absolute offsets; device registers in
    /// 0x40..0x100, see [`crate::config`]).
    Config,
    /// BAR `n` (0..=5).
    Bar(u8),
}

impl Space {
    /// The BAR index, for BAR spaces.
    pub const fn bar(self) -> Option<u8> {
        match self {
            Space::Bar(n) => Some(n),
            Space::Config => None,
        }
    }
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Space::Config => f.write_str("config"),
            Space::Bar(n) => write!(f, "bar {n}"),
        }
    }
}
