//! The interrupt, as data for the crate root template: which vector types
//! probe allocates, and the handler's protocol: read the spec's `status`
//! register (0: another device's interrupt on a shared line,
//! `IrqReturn::None`), write its `ack` register (see `ack.rs`), count.

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
    /// The BARs the handler accesses (an `ioN` binding each).
    pub ios: Vec<u8>,
    pub status: Option<StatusView>,
    /// Without a status register: does the ack use `value`?
    pub value_used: bool,
    pub ack: Option<AckView>,
}

/// The status read.
#[derive(Debug)]
pub struct StatusView {
    pub comment: Doc,
    pub reg: RegRef,
    pub fallible: bool,
    /// `u64::from(..)` the raw value (not for a 64-bit register).
    pub widen: bool,
}

/// The acknowledging write.
#[derive(Debug)]
pub struct AckView {
    pub comment: Doc,
    pub reg: RegRef,
    pub value: AckValue,
    pub fallible: bool,
    /// The register's width in bits.
    pub bits: u32,
}

#[derive(Debug)]
pub enum AckValue {
    /// A constant, already cut to the register's width.
    Const(String),
    /// A `u64` expression of `value`, and the register's type when it is
    /// narrower (`ack as u32`).
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
    // Registers on a BAR the device has (the checker guarantees it).
    let on_bar = |r: ir::RegId| {
        let reg = dev.register(r);
        dev.bar(reg.bar()?).map(|bar| (reg, bar))
    };
    let status = int.status.and_then(on_bar).map(|(reg, bar)| StatusView {
        comment: Doc(format!(
            "The spec's `status {}`: 0 means another device's interrupt (shared line).",
            reg.name
        )),
        reg: reg_ref(reg),
        fallible: fallible(bar, reg.width),
        widen: reg.width != 8,
    });
    let ack = int.ack.as_ref().and_then(|(r, e)| {
        let (reg, bar) = on_bar(*r)?;
        let value = match ack::render(e) {
            Some(Ack::Const(v)) => AckValue::Const(text::hex(v & ir::low_mask(reg.bits()))),
            Some(Ack::Expr(expr)) => AckValue::Expr {
                expr,
                cast: (reg.width != 8).then(|| text::uint(reg.width)),
            },
            None => AckValue::Unexpressible,
        };
        Some(AckView {
            comment: Doc(format!(
                "The spec's `ack {} = {}`.",
                reg.name,
                crate::summary::expr(dev, e)
            )),
            reg: reg_ref(reg),
            value,
            fallible: fallible(bar, reg.width),
            bits: reg.bits(),
        })
    });
    let mut ios: Vec<u8> = status
        .iter()
        .map(|s| s.reg.bar)
        .chain(ack.iter().map(|a| a.reg.bar))
        .collect();
    ios.sort_unstable();
    ios.dedup();
    let value_used = matches!(
        &ack,
        Some(AckView {
            value: AckValue::Expr { .. },
            ..
        })
    );
    Some(IrqView {
        what,
        msi,
        intx,
        ios,
        status,
        value_used,
        ack,
    })
}

fn reg_ref(reg: &ir::Register) -> RegRef {
    RegRef {
        // status and ack are BAR registers (the checker guarantees it).
        bar: reg.bar().unwrap_or_default(),
        name: reg.name.clone(),
    }
}
