//! How the device interrupts: INTx, MSI and MSI-X, and how a driver
//! recognises (`mine`) and acknowledges (`ack`) an interrupt.

use super::{Expr, IntxPin, RegId};

/// How the device interrupts, and how a driver recognises and acknowledges it.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    /// The INTx pin; `None`: no legacy interrupt.
    pub pin: Option<IntxPin>,
    /// Number of MSI vectors (power of two, 1..=32).
    pub msi_vectors: Option<u8>,
    /// MSI-X: vectors, table and PBA placement.
    pub msix: Option<Msix>,
    /// Derived level: the line is this expression, recomputed after every
    /// access. When absent, `irq raise/lower/pulse` drive a latched line.
    pub level: Option<Expr>,
    /// `status REG;`: a register the driver's handler reads first; `value`
    /// in `mine` and `ack` stands for it (the checker rewrites `value` to
    /// [`Expr::Register`] of it).
    pub status: Option<RegId>,
    /// When an interrupt is the device's (non-zero: it is). `mine EXPR;`,
    /// or `REG != 0` for a lone `status REG;`. `None`: the spec gives no
    /// test (an MSI-only device: its vectors are its own), so every
    /// interrupt is the device's. Uses only constants, operators, `if`,
    /// registers and fields ([`Interrupt::handler_reads`]).
    pub mine: Option<Expr>,
    /// The acknowledging writes, in spec order: each one whose condition
    /// holds is written (the same expressions as `mine`).
    pub acks: Vec<Ack>,
}

/// `ack REG = VALUE [when COND];`
#[derive(Debug, Clone)]
pub struct Ack {
    /// The register written (a BAR register; the handler writes BARs only).
    pub register: RegId,
    /// The value written, computed from the values the handler read.
    pub value: Expr,
    /// Written only when this is non-zero (`None`: always).
    pub when: Option<Expr>,
}

impl Interrupt {
    /// Does the device interrupt at all (an INTx pin, MSI or MSI-X)?
    pub fn any(&self) -> bool {
        self.pin.is_some() || self.msi_vectors.is_some() || self.msix.is_some()
    }

    /// The most vectors the device can signal: MSI-X's or MSI's count (1
    /// for INTx only, 0 without an interrupt).
    pub fn max_vectors(&self) -> u16 {
        let msix = self.msix.map_or(0, |m| m.vectors);
        let msi = self.msi_vectors.map_or(0, u16::from);
        msix.max(msi).max(u16::from(self.pin.is_some()))
    }

    /// The registers the driver's handler reads, each exactly once, in this
    /// order: first the `status` register and those `mine` names (in order
    /// of first mention); then, only once the interrupt is known to be the
    /// device's, the registers only the acks name (ack by ack, `when`
    /// before value, in order of first mention). Every `mine`, `when` and
    /// ack value is evaluated over these values; no register is read again
    /// after a write. Returns (read before `mine`, read after).
    pub fn handler_reads(&self) -> (Vec<RegId>, Vec<RegId>) {
        // Left to right (source order); depth is bounded by MAX_EXPR_DEPTH.
        fn regs(e: &Expr, out: &mut Vec<RegId>) {
            match e {
                Expr::Register(r) | Expr::Field(r, _) if !out.contains(r) => out.push(*r),
                Expr::Unary(_, x) => regs(x, out),
                Expr::Binary(_, a, b) => {
                    regs(a, out);
                    regs(b, out);
                }
                Expr::Cond(c, a, b) => {
                    regs(c, out);
                    regs(a, out);
                    regs(b, out);
                }
                _ => {}
            }
        }
        let mut first = Vec::new();
        first.extend(self.status);
        if let Some(m) = &self.mine {
            regs(m, &mut first);
        }
        let mut all = first.clone();
        for a in &self.acks {
            if let Some(w) = &a.when {
                regs(w, &mut all);
            }
            regs(&a.value, &mut all);
        }
        let then = all.split_off(first.len());
        (first, then)
    }
}

/// The MSI-X capability: `msix N table bar B @ OFF pba bar B @ OFF;`.
/// The table takes 16 bytes per vector, the PBA 8 bytes per 64 vectors;
/// both lie 8-byte aligned inside memory BARs, clear of registers and of
/// each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msix {
    /// 1..=2048.
    pub vectors: u16,
    /// BAR holding the vector table (a memory BAR).
    pub table_bar: u8,
    /// Offset of the vector table in its BAR (8-byte aligned).
    pub table_offset: u64,
    /// BAR holding the pending bit array (a memory BAR).
    pub pba_bar: u8,
    /// Offset of the pending bit array in its BAR (8-byte aligned).
    pub pba_offset: u64,
}

impl Msix {
    /// Bytes of the vector table.
    pub fn table_len(&self) -> u64 {
        u64::from(self.vectors) * 16
    }

    /// Bytes of the pending bit array.
    pub fn pba_len(&self) -> u64 {
        u64::from(self.vectors).div_ceil(64) * 8
    }
}
