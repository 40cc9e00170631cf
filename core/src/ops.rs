//! The language's operators and their total semantics on `u64`.
//!
//! Every expression of a spec is evaluated in `u64` with wrapping
//! arithmetic; comparisons and logical operators give 0 or 1; division and
//! remainder by zero give 0; shifts by 64 or more give 0. The checker folds
//! constants with [`eval_binary`]/[`eval_unary`], the interpreter evaluates
//! with them, and generated models call the same functions, so no
//! guest-controlled value can make a model panic and every backend agrees.

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// `!x`: 1 when x is 0, else 0.
    Not,
    /// `-x`: two's complement negation (wrapping).
    Neg,
    /// `~x`: bitwise not.
    BitNot,
}

impl UnOp {
    /// The operator as written.
    pub const fn symbol(self) -> &'static str {
        match self {
            UnOp::Not => "!",
            UnOp::Neg => "-",
            UnOp::BitNot => "~",
        }
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "the variants are the operators of `symbol`")]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    BitOr,
    BitXor,
    BitAnd,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// Every operator.
    pub const ALL: [BinOp; 18] = [
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::BitOr,
        BinOp::BitXor,
        BinOp::BitAnd,
        BinOp::Shl,
        BinOp::Shr,
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
    ];

    /// Binding power: higher binds tighter. Rust's order, not C's: bitwise
    /// operators bind tighter than comparisons, so `a & 1 == 1` is
    /// `(a & 1) == 1`.
    pub const fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::BitOr => 4,
            BinOp::BitXor => 5,
            BinOp::BitAnd => 6,
            BinOp::Shl | BinOp::Shr => 7,
            BinOp::Add | BinOp::Sub => 8,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 9,
        }
    }

    /// The operator as written.
    pub const fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::BitAnd => "&",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    /// True for operators whose result is 0 or 1.
    pub const fn is_boolean(self) -> bool {
        matches!(
            self,
            BinOp::Or
                | BinOp::And
                | BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
        )
    }
}

/// An assignment operator: `=` or a compound one (`x += e` is `x = x + e`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `|=`
    Or,
    /// `&=`
    And,
    /// `^=`
    Xor,
    /// `+=`
    Add,
    /// `-=`
    Sub,
}

impl AssignOp {
    /// The binary operator of a compound assignment (`None` for `=`).
    pub const fn binary(self) -> Option<BinOp> {
        match self {
            AssignOp::Set => None,
            AssignOp::Or => Some(BinOp::BitOr),
            AssignOp::And => Some(BinOp::BitAnd),
            AssignOp::Xor => Some(BinOp::BitXor),
            AssignOp::Add => Some(BinOp::Add),
            AssignOp::Sub => Some(BinOp::Sub),
        }
    }

    /// The operator as written.
    pub const fn symbol(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Or => "|=",
            AssignOp::And => "&=",
            AssignOp::Xor => "^=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
        }
    }

    /// The value stored: `new` for `=`, else `old OP new`.
    pub const fn apply(self, old: u64, new: u64) -> u64 {
        match self.binary() {
            None => new,
            Some(op) => eval_binary(op, old, new),
        }
    }
}

/// `a / b`, 0 when `b` is 0.
#[inline]
pub const fn div(a: u64, b: u64) -> u64 {
    match a.checked_div(b) {
        Some(v) => v,
        None => 0,
    }
}

/// `a % b`, 0 when `b` is 0.
#[inline]
pub const fn rem(a: u64, b: u64) -> u64 {
    match a.checked_rem(b) {
        Some(v) => v,
        None => 0,
    }
}

/// `a << b`, 0 when `b >= 64`.
#[inline]
pub const fn shl(a: u64, b: u64) -> u64 {
    if b >= 64 { 0 } else { a << b }
}

/// `a >> b`, 0 when `b >= 64`.
#[inline]
pub const fn shr(a: u64, b: u64) -> u64 {
    if b >= 64 { 0 } else { a >> b }
}

/// A unary operator applied to `v`.
#[inline]
pub const fn eval_unary(op: UnOp, v: u64) -> u64 {
    match op {
        UnOp::Not => (v == 0) as u64,
        UnOp::Neg => v.wrapping_neg(),
        UnOp::BitNot => !v,
    }
}

/// A binary operator applied to `a` and `b` (both already evaluated: the
/// short-circuit of `&&`/`||` matters only for hooks, which generated code
/// and the interpreter handle before calling this).
#[inline]
pub const fn eval_binary(op: BinOp, a: u64, b: u64) -> u64 {
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
        BinOp::Shl => shl(a, b),
        BinOp::Shr => shr(a, b),
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => div(a, b),
        BinOp::Rem => rem(a, b),
    }
}

/// Truncate `v` to `bits` bits (a bool, 1 bit, stores `v != 0`): what an
/// assignment to a place of that width stores.
#[inline]
pub const fn truncate(v: u64, bits: u32) -> u64 {
    match bits {
        1 => (v != 0) as u64,
        b if b >= 64 => v,
        b => v & ((1u64 << b) - 1),
    }
}

/// Replace the bits `mask` of `old` with `value` shifted to `lo`.
#[inline]
pub const fn set_field(old: u64, lo: u32, mask: u64, value: u64) -> u64 {
    (old & !mask) | (shl(value, lo as u64) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_semantics() {
        assert_eq!(div(7, 0), 0);
        assert_eq!(rem(7, 0), 0);
        assert_eq!(div(7, 2), 3);
        assert_eq!(shl(1, 64), 0);
        assert_eq!(shl(1, u64::MAX), 0);
        assert_eq!(shr(u64::MAX, 63), 1);
        assert_eq!(shr(1, 1 << 40), 0);
        assert_eq!(eval_binary(BinOp::Sub, 0, 1), u64::MAX);
        assert_eq!(eval_binary(BinOp::Mul, u64::MAX, 2), u64::MAX - 1);
        assert_eq!(eval_binary(BinOp::Or, 0, 5), 1);
        assert_eq!(eval_unary(UnOp::Not, 5), 0);
        assert_eq!(eval_unary(UnOp::Neg, 1), u64::MAX);
        assert_eq!(set_field(0xffff, 4, 0xf0, 0x3), 0xff3f);
        assert_eq!(set_field(0, 60, 0xf << 60, 0xff), 0xf << 60);
        assert_eq!(truncate(0x1ff, 8), 0xff);
        assert_eq!(truncate(2, 1), 1);
        assert_eq!(truncate(u64::MAX, 64), u64::MAX);
    }

    #[test]
    fn precedence_is_rusts() {
        assert!(BinOp::BitAnd.precedence() > BinOp::Eq.precedence());
        assert!(BinOp::Mul.precedence() > BinOp::Add.precedence());
        assert!(BinOp::ALL.iter().all(|op| op.precedence() >= 1));
    }
}
