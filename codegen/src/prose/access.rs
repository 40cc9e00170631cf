//! Access kinds as a register map shows them, and sizes in words.

use pcidevc_dsl::ir::{AccessKind, Field, Register};

/// The access kind a register map shows for a register.
///
/// The register's own kind when it declares one; else the kinds of its
/// fields, in bit order (`ro/rw`); a register without storage shows what a
/// guest can do with it (`ro`: a computed read, `wo`: a write that runs
/// actions, `rw`: both, `-`: neither) and [`AccessLabel::storage`] is false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLabel {
    /// The kinds as shown: one keyword (`rw`), the fields' kinds joined with
    /// `/` (`ro/rw`), or `-` for a register a guest can neither read nor write.
    pub kinds: String,
    /// Does the register store bits? (false: shown as `(no storage)`).
    pub storage: bool,
}

impl AccessLabel {
    /// `rw`, or `rw (no storage)`.
    pub fn text(&self) -> String {
        if self.storage {
            self.kinds.clone()
        } else {
            format!("{} (no storage)", self.kinds)
        }
    }
}

/// The [`AccessLabel`] a register map shows for `reg`.
pub fn access_label(reg: &Register) -> AccessLabel {
    if let Some(k) = reg.access {
        return AccessLabel {
            kinds: k.keyword().into(),
            storage: reg.has_storage(),
        };
    }
    if reg.has_storage() {
        let mut fields: Vec<&Field> = reg.fields.iter().collect();
        fields.sort_by_key(|f| f.lo);
        let mut kinds: Vec<&str> = Vec::new();
        for f in fields {
            let k = f.access.keyword();
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        return AccessLabel {
            kinds: kinds.join("/"),
            storage: true,
        };
    }
    let r = reg.read.is_some();
    let w = !reg.on_write.is_empty();
    AccessLabel {
        kinds: match (r, w) {
            (true, true) => "rw",
            (true, false) => "ro",
            (false, true) => "wo",
            (false, false) => "-",
        }
        .into(),
        storage: false,
    }
}

/// What a guest access does to bits of this kind, in a few words.
pub fn kind_meaning(k: AccessKind) -> &'static str {
    match k {
        AccessKind::Rw => "read/write",
        AccessKind::Ro => "read-only",
        AccessKind::Wo => "write-only, reads 0",
        AccessKind::W1c => "write 1 to clear",
        AccessKind::W1s => "write 1 to set",
        AccessKind::Rclr => "read-only, cleared by a read",
    }
}

/// `16 bytes`, `4 KiB`, `1 MiB`.
pub fn size_text(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (u, name) in UNITS {
        if n >= u && n.is_multiple_of(u) {
            return format!("{} {name}", n / u);
        }
    }
    format!("{n} bytes")
}
