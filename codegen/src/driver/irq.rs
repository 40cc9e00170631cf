//! The interrupt, as data for the crate root template: which vector types
//! probe allocates, and the handler's protocol (the spec's `status`, `mine`
//! and `ack ... when ...`, see `ir::Interrupt::handler_reads`): read the
//! registers the test needs, each once, into `rN` locals; if `mine` is 0,
//! another device's interrupt on a shared line (`IrqReturn::None`); else
//! read the registers only the acks need, write each ack whose `when`
//! holds (values from `ack.rs`), count.

use super::ack::{self, Ack};
use super::regs::{RegRef, fallible};
use super::text::{self, Doc};
use pcidevc_dsl::ir::{self, Device};

#[derive(Debug)]
pub struct IrqView {
    /// What is allocated, for a comment.
    pub what: String,
    pub msi: bool,
    pub intx: bool,
    /// Vectors the spec declares when more than one vector or MSI-X is
    /// declared (see [`multi_vector`]), else `None`: one handler per vector.
    pub multi: Option<MultiView>,
    /// The BARs the handler accesses (an `ioN` binding each).
    pub ios: Vec<u8>,
    /// Registers read before the `mine` test, then after it.
    pub reads_first: Vec<ReadView>,
    pub reads_then: Vec<ReadView>,
    pub mine: Option<MineView>,
    pub acks: Vec<AckView>,
}

/// Several vectors: allocated MSI-X first (all or nothing), then MSI, else
/// one vector as before; one registration per vector.
#[derive(Debug)]
pub struct MultiView {
    /// Vectors the spec declares (its `msix`/`msi` count).
    pub vectors: u16,
    /// `vectors - 1`: the handlers besides vector 0's.
    pub more: u16,
    /// The all-vectors attempt asks for MSI-X.
    pub msix: bool,
    /// The all-vectors attempt asks for MSI (it declares as many vectors).
    pub msi: bool,
}

/// Whether the driver registers one handler per vector: the spec declares
/// MSI-X, or more than one MSI vector.
pub fn multi_vector(dev: &Device) -> bool {
    dev.interrupt.msix.is_some() || dev.interrupt.max_vectors() > 1
}

/// One register read into a `u64` local.
#[derive(Debug)]
pub struct ReadView {
    pub comment: Doc,
    /// The local (`_`-prefixed when no expression uses it).
    pub var: String,
    pub reg: RegRef,
    pub fallible: bool,
    /// `u64::from(..)` the raw value (not for a 64-bit register).
    pub widen: bool,
}

/// The test: the interrupt is the device's when `cond` holds.
#[derive(Debug)]
pub struct MineView {
    pub comment: Doc,
    /// A Rust `bool` expression over the `rN` locals: true when the
    /// interrupt is NOT the device's.
    pub not_cond: String,
}

/// One acknowledging write.
#[derive(Debug)]
pub struct AckView {
    pub comment: Doc,
    pub reg: RegRef,
    pub value: AckValue,
    /// Written only when this Rust `bool` holds.
    pub when: Option<String>,
    /// Indentation of the write's lines (deeper inside `if when`).
    pub pad: &'static str,
    pub fallible: bool,
    /// The register's width in bits.
    pub bits: u32,
}

#[derive(Debug)]
pub enum AckValue {
    /// A constant, already cut to the register's width.
    Const(String),
    /// A `u64` expression of the `rN` locals, and the register's type
    /// when it is narrower (`ack as u32`).
    Expr {
        expr: String,
        cast: Option<&'static str>,
    },
    /// Not expressible in the driver (never for a checked IR): writes 0.
    Unexpressible,
}

pub fn view(dev: &Device) -> Option<IrqView> {
    let int = &dev.interrupt;
    if !int.any() {
        return None;
    }
    let (msi, intx) = (int.msi_vectors.is_some(), int.pin.is_some());
    let multi = multi_vector(dev).then(|| {
        let vectors = int.max_vectors();
        MultiView {
            vectors,
            more: vectors - 1,
            msix: int.msix.is_some(),
            msi: int.msi_vectors.is_some_and(|n| u16::from(n) >= vectors),
        }
    });
    let what = match (msi, int.pin) {
        (true, Some(p)) => format!(
            "MSI if the platform has it, else INTx (pin {}, shared).",
            p.letter()
        ),
        (true, None) => "MSI (the spec declares no INTx pin).".to_string(),
        (false, p) => format!(
            "INTx (pin {}), shared with other devices.",
            p.map(|p| p.letter()).unwrap_or('?')
        ),
    };
    let (first, then) = int.handler_reads();
    let used = used_registers(dev, int);
    let read = |r: &ir::RegId, why: &str| {
        let reg = dev.register(*r);
        let bar = dev.bar(reg.bar()?)?;
        let var = ack::reg_var(dev, *r);
        Some(ReadView {
            comment: Doc(format!("`{var}`: `{}`, {why}.", reg.name)),
            var: if used.contains(r) {
                var
            } else {
                format!("_{var}")
            },
            reg: reg_ref(reg),
            fallible: fallible(bar, reg.width),
            widen: reg.width != 8,
        })
    };
    let reads_first: Vec<ReadView> = first
        .iter()
        .filter_map(|r| {
            read(
                r,
                if Some(*r) == int.status {
                    "the spec's `status`, read first"
                } else {
                    "read once, for the `mine` test"
                },
            )
        })
        .collect();
    let reads_then: Vec<ReadView> = then
        .iter()
        .filter_map(|r| read(r, "read once (the interrupt is ours), for the acks"))
        .collect();
    let mine = int.mine.as_ref().map(|m| MineView {
        comment: Doc(format!(
            "The spec's `mine {}`: otherwise another device's interrupt (shared line).",
            crate::summary::expr(dev, m)
        )),
        not_cond: ack::condition(dev, &ack::negate(m)).unwrap_or_else(|| "false".into()),
    });
    let acks: Vec<AckView> = int
        .acks
        .iter()
        .filter_map(|a| {
            let reg = dev.register(a.register);
            let bar = dev.bar(reg.bar()?)?;
            let value = match ack::render_in(Some(dev), &a.value) {
                Some(Ack::Const(v)) => AckValue::Const(text::hex(v & ir::low_mask(reg.bits()))),
                Some(Ack::Expr(expr)) => AckValue::Expr {
                    expr,
                    cast: (reg.width != 8).then(|| text::uint(reg.width)),
                },
                None => AckValue::Unexpressible,
            };
            Some(AckView {
                comment: Doc(format!(
                    "The spec's `ack {}`.",
                    crate::summary::ack_text(dev, a)
                )),
                reg: reg_ref(reg),
                value,
                when: a
                    .when
                    .as_ref()
                    .map(|w| ack::condition(dev, w).unwrap_or_else(|| "false".into())),
                pad: if a.when.is_some() {
                    "            "
                } else {
                    "        "
                },
                fallible: fallible(bar, reg.width),
                bits: reg.bits(),
            })
        })
        .collect();
    let mut ios: Vec<u8> = reads_first
        .iter()
        .chain(&reads_then)
        .map(|r| r.reg.bar)
        .chain(acks.iter().map(|a| a.reg.bar))
        .collect();
    ios.sort_unstable();
    ios.dedup();
    let what = match &multi {
        Some(m) => format!(
            "{} {} vectors, a handler each; else {}",
            m.vectors,
            match (m.msix, m.msi) {
                (true, true) => "MSI-X or MSI",
                (true, false) => "MSI-X",
                _ => "MSI",
            },
            if msi || intx {
                format!("one vector: {what}")
            } else {
                "nothing (no MSI, no pin).".to_string()
            }
        ),
        None => what,
    };
    Some(IrqView {
        what,
        msi,
        intx,
        multi,
        ios,
        reads_first,
        reads_then,
        mine,
        acks,
    })
}

/// Registers some handler expression reads (a `status` register nothing
/// uses is still read, into an unused local), as the Rust handler renders
/// them: the model's and the Rust driver's. A register that only appears in
/// a part the rendering folds away (`R * 0`, `if 1 { 2 } else { R }`) is not
/// used: its local would be an unused variable.
pub fn used_registers(dev: &Device, int: &ir::Interrupt) -> Vec<ir::RegId> {
    let mut texts = Vec::new();
    if let Some(m) = &int.mine {
        texts.extend(ack::condition(dev, &ack::negate(m)));
    }
    for a in &int.acks {
        if let Some(Ack::Expr(t)) = ack::render_in(Some(dev), &a.value) {
            texts.push(t);
        }
        if let Some(w) = &a.when {
            texts.extend(ack::condition(dev, w));
        }
    }
    mentioned(dev, int, &texts)
}

/// The handler's registers whose local (`rN`) appears as a word in one of
/// `texts` (handler expressions as some backend renders them).
pub fn mentioned(dev: &Device, int: &ir::Interrupt, texts: &[String]) -> Vec<ir::RegId> {
    let (first, then) = int.handler_reads();
    first
        .iter()
        .chain(&then)
        .copied()
        .filter(|r| {
            let var = ack::reg_var(dev, *r);
            texts.iter().any(|t| mentions_word(t, &var))
        })
        .collect()
}

/// `word` occurs in `text` with no identifier character on either side.
fn mentions_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

fn reg_ref(reg: &ir::Register) -> RegRef {
    // status and ack are BAR registers (the checker guarantees it).
    RegRef::of(reg.bar().unwrap_or_default(), reg)
}
