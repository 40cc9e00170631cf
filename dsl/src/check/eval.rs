//! The language's operators on `u64`, as every stage evaluates them.
//!
//! Scenario folding and the non-RAM DMA lint use them here; the backends
//! (`codegen`) import them as `check::eval_unary` / `check::eval_binary` so
//! that the model, the driver and the checker agree bit for bit. Emits no
//! diagnostics.

use crate::ast::{BinOp, UnOp};

/// The language's unary operators on u64 (shared with backends' docs).
pub fn eval_unary(op: UnOp, v: u64) -> u64 {
    match op {
        UnOp::Not => (v == 0) as u64,
        UnOp::Neg => v.wrapping_neg(),
        UnOp::BitNot => !v,
    }
}

/// The language's binary operators on u64: wrapping, x/0 = 0, shifts >= 64 give 0.
pub fn eval_binary(op: BinOp, a: u64, b: u64) -> u64 {
    match op {
        BinOp::Or => (a != 0 || b != 0) as u64,
        BinOp::And => (a != 0 && b != 0) as u64,
        BinOp::Eq => (a == b) as u64,
        BinOp::Ne => (a != b) as u64,
        BinOp::Lt => (a < b) as u64,
        BinOp::Le => (a <= b) as u64,
        BinOp::Gt => (a > b) as u64,
        BinOp::Ge => (a >= b) as u64,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::BitAnd => a & b,
        BinOp::Shl => u32::try_from(b)
            .ok()
            .and_then(|s| a.checked_shl(s))
            .unwrap_or(0),
        BinOp::Shr => u32::try_from(b)
            .ok()
            .and_then(|s| a.checked_shr(s))
            .unwrap_or(0),
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => a.checked_div(b).unwrap_or(0),
        BinOp::Rem => a.checked_rem(b).unwrap_or(0),
    }
}
