//! The interrupt handler's expressions (`mine`, `ack` values, `when`
//! conditions) as Rust text, shared by the driver and the model's scenario
//! harness (`model.rs` parses the same text).
//!
//! Handler expressions contain only constants, registers and fields (each
//! register is a `u64` local `rN` named by [`reg_var`], read once by the
//! handler), operators and `if` (the checker enforces it); `value` (a bare
//! [`Expr::Value`]) renders as the local `value`. Semantics are the IR's:
//! u64 arithmetic that wraps, comparisons and logical operators give 0 or
//! 1, division by zero gives 0, shifts by 64 or more give 0. Constant
//! sub-expressions are folded with the front end's own evaluator, so the
//! generated code is small and clippy finds no constant arithmetic in it.

use pcidev_core::ops::{eval_binary, eval_unary};
use pcidevc_dsl::ir::{BinOp, Device, Expr, UnOp};

/// What the handler writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// A constant (the expression reads no register).
    Const(u64),
    /// A Rust expression of type `u64` in terms of the handler's locals.
    Expr(String),
}

/// The handler's `u64` local holding register `r`'s value: `rN`, N its
/// place in `ir::Interrupt::handler_reads` (short, so that long register
/// names keep the driver's lines rustfmt-clean).
pub fn reg_var(dev: &Device, r: pcidevc_dsl::ir::RegId) -> String {
    let (first, then) = dev.interrupt.handler_reads();
    let n = first
        .iter()
        .chain(&then)
        .position(|x| *x == r)
        .unwrap_or(first.len() + then.len());
    format!("r{n}")
}

/// The value of `e` if it is constant (None if it reads anything).
pub fn fold(e: &Expr) -> Option<u64> {
    match e {
        Expr::Const(v) => Some(*v),
        Expr::Unary(op, x) => Some(eval_unary(*op, fold(x)?)),
        Expr::Binary(op, a, b) => match (fold(a), fold(b)) {
            (Some(x), Some(y)) => Some(eval_binary(*op, x, y)),
            (x, y) => absorbed(*op, x, y),
        },
        Expr::Cond(c, a, b) => Some(if fold(c)? != 0 { fold(a)? } else { fold(b)? }),
        _ => None,
    }
}

/// The value of `x OP y` when one constant operand decides it whatever the
/// other (`R * 0`, `R / 0`, `R >> 64`, `1 || R`): handler expressions have
/// no side effects, so such an expression is that constant (rendering it
/// would be clippy's `erasing_op`, `identity_op` or `eq_op` on what remains).
fn absorbed(op: BinOp, x: Option<u64>, y: Option<u64>) -> Option<u64> {
    let either = |v: u64| x == Some(v) || y == Some(v);
    match op {
        BinOp::Mul | BinOp::BitAnd if either(0) => Some(0),
        BinOp::Div | BinOp::Rem if either(0) => Some(0),
        BinOp::Shl | BinOp::Shr if x == Some(0) || y.is_some_and(|s| s >= 64) => Some(0),
        BinOp::And if either(0) => Some(0),
        BinOp::Or if x.is_some_and(|v| v != 0) || y.is_some_and(|v| v != 0) => Some(1),
        BinOp::BitOr if either(u64::MAX) => Some(u64::MAX),
        BinOp::Lt if y == Some(0) => Some(0),
        BinOp::Ge if y == Some(0) => Some(1),
        BinOp::Gt if x == Some(0) => Some(0),
        BinOp::Le if x == Some(0) => Some(1),
        _ => None,
    }
}

/// Renders `e` without a device (`value` and constants only; the tests').
#[cfg(test)]
pub fn render(e: &Expr) -> Option<Ack> {
    render_in(None, e)
}

/// Renders `e` (registers and fields need `dev`); None if it contains
/// anything a handler expression cannot (never for an IR that passed the
/// checker).
pub fn render_in(dev: Option<&Device>, e: &Expr) -> Option<Ack> {
    if let Some(v) = fold(e) {
        return Some(Ack::Const(v));
    }
    let r = node(dev, e)?;
    Some(match r.literal {
        Some(v) => Ack::Const(v),
        None => Ack::Expr(r.top()),
    })
}

/// `e` as a Rust `bool` expression ("non-zero"), for `if`: comparisons and
/// `&&`/`||` stay as they are, anything else is compared with 0.
pub fn condition(dev: &Device, e: &Expr) -> Option<String> {
    if let Some(v) = fold(e) {
        return Some((v != 0).to_string());
    }
    Some(match e {
        Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
            let sub = |x: &Expr| -> Option<String> {
                let c = condition(dev, x)?;
                Some(match x {
                    Expr::Binary(BinOp::And | BinOp::Or, ..) => format!("({c})"),
                    _ => c,
                })
            };
            let sym = if *op == BinOp::And { "&&" } else { "||" };
            format!("{} {sym} {}", sub(a)?, sub(b)?)
        }
        Expr::Binary(op, a, b) if is_comparison(*op) => {
            let (x, y) = (node(Some(dev), a)?, node(Some(dev), b)?);
            format!("{} {} {}", x.operand(), op.symbol(), y.operand())
        }
        Expr::Unary(UnOp::Not, x) => match &**x {
            Expr::Binary(op, a, b) if is_comparison(*op) => {
                let (x, y) = (node(Some(dev), a)?, node(Some(dev), b)?);
                format!("{} {} {}", x.operand(), negated(*op).symbol(), y.operand())
            }
            x => format!("{} == 0", node(Some(dev), x)?.operand()),
        },
        _ => format!("{} != 0", node(Some(dev), e)?.operand()),
    })
}

/// The logical negation of `e` ("is zero"), pushed inward (De Morgan,
/// flipped comparisons) so that [`condition`] renders it without `!(..)`
/// (clippy's `nonminimal_bool`).
pub fn negate(e: &Expr) -> Expr {
    let bx = |e: Expr| Box::new(e);
    match e {
        Expr::Binary(BinOp::And, a, b) => Expr::Binary(BinOp::Or, bx(negate(a)), bx(negate(b))),
        Expr::Binary(BinOp::Or, a, b) => Expr::Binary(BinOp::And, bx(negate(a)), bx(negate(b))),
        Expr::Binary(op, a, b) if is_comparison(*op) => {
            Expr::Binary(negated(*op), a.clone(), b.clone())
        }
        Expr::Unary(UnOp::Not, x) => match &**x {
            Expr::Binary(op, ..) if is_comparison(*op) || matches!(op, BinOp::And | BinOp::Or) => {
                (**x).clone()
            }
            Expr::Unary(UnOp::Not, _) => (**x).clone(),
            _ => Expr::Binary(BinOp::Ne, x.clone(), bx(Expr::Const(0))),
        },
        _ => Expr::Binary(BinOp::Eq, bx(e.clone()), bx(Expr::Const(0))),
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

fn negated(op: BinOp) -> BinOp {
    match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        _ => BinOp::Lt,
    }
}

/// A rendered sub-expression.
#[derive(Debug, Clone)]
struct R {
    text: String,
    /// A prefix expression (`!x`): fine as an operand, not as a receiver.
    prefix: bool,
    /// A literal (needs a `u64` suffix as a method receiver).
    literal: Option<u64>,
    /// Wrapped in parentheses by us (removable at top level).
    parens: bool,
}

impl R {
    fn atom(text: String) -> R {
        R {
            text,
            prefix: false,
            literal: None,
            parens: false,
        }
    }
    fn lit(v: u64) -> R {
        R {
            text: format!("{v:#x}"),
            prefix: false,
            literal: Some(v),
            parens: false,
        }
    }
    fn paren(text: String) -> R {
        R {
            text: format!("({text})"),
            prefix: false,
            literal: None,
            parens: true,
        }
    }
    /// As an operand of a binary operator (unary operators bind tighter).
    fn operand(&self) -> String {
        self.text.clone()
    }
    /// As the receiver of a method call.
    fn receiver(&self) -> String {
        match self.literal {
            Some(v) => format!("{v:#x}_u64"),
            None if self.prefix => format!("({})", self.text),
            None => self.text.clone(),
        }
    }
    /// As a whole expression (no redundant outer parentheses).
    fn top(self) -> String {
        if self.parens {
            self.text[1..self.text.len() - 1].to_string()
        } else {
            self.text
        }
    }
}

fn node(dev: Option<&Device>, e: &Expr) -> Option<R> {
    if let Some(v) = fold(e) {
        return Some(R::lit(v));
    }
    Some(match e {
        Expr::Value => R::atom("value".into()),
        Expr::Register(r) => R::atom(reg_var(dev?, *r)),
        Expr::Field(r, i) => {
            let reg = dev?.register(*r);
            let f = reg.fields.get(*i)?;
            let v = reg_var(dev?, *r);
            let mask = pcidevc_dsl::ir::low_mask(f.bits());
            if f.lo == 0 {
                R::paren(format!("{v} & {mask:#x}"))
            } else {
                R::paren(format!("({v} >> {}) & {mask:#x}", f.lo))
            }
        }
        Expr::Cond(c, a, b) => {
            let c = condition(dev?, c)?;
            let (a, b) = (node(dev, a)?, node(dev, b)?);
            R::paren(format!(
                "if {c} {{ {} }} else {{ {} }}",
                a.as_value(),
                b.as_value()
            ))
        }
        Expr::Unary(op, x) => {
            let x = node(dev, x)?;
            match op {
                UnOp::Not => R::atom(format!("u64::from({} == 0)", x.operand())),
                UnOp::Neg => R::atom(format!("{}.wrapping_neg()", x.receiver())),
                UnOp::BitNot => R {
                    text: format!("!{}", x.receiver()),
                    prefix: true,
                    literal: None,
                    parens: false,
                },
            }
        }
        Expr::Binary(op, a, b) => binary(dev, *op, a, b)?,
        _ => return None,
    })
}

fn binary(dev: Option<&Device>, op: BinOp, a: &Expr, b: &Expr) -> Option<R> {
    let (ca, cb) = (fold(a), fold(b));
    let (ra, rb) = (node(dev, a)?, node(dev, b)?);
    // Identities with a constant operand (clippy flags `x | 0` and friends).
    match (op, ca, cb) {
        (BinOp::BitOr | BinOp::BitXor | BinOp::Add, Some(0), _) => return Some(rb),
        (BinOp::BitOr | BinOp::BitXor | BinOp::Add | BinOp::Sub, _, Some(0)) => return Some(ra),
        (BinOp::Shl | BinOp::Shr, _, Some(0)) => return Some(ra),
        (BinOp::BitAnd, Some(u64::MAX), _) | (BinOp::Mul, Some(1), _) => return Some(rb),
        (BinOp::BitAnd, _, Some(u64::MAX)) | (BinOp::Mul | BinOp::Div, _, Some(1)) => {
            return Some(ra);
        }
        (BinOp::BitAnd | BinOp::Mul, Some(0), _) | (BinOp::BitAnd | BinOp::Mul, _, Some(0)) => {
            return Some(R::lit(0));
        }
        (BinOp::Div | BinOp::Rem, _, Some(0)) => return Some(R::lit(0)),
        (BinOp::Shl | BinOp::Shr, _, Some(s)) if s >= 64 => return Some(R::lit(0)),
        _ => {}
    }
    let (x, y) = (ra.operand(), rb.operand());
    let method = |m: &str| R::atom(format!("{}.{m}({})", ra.receiver(), rb.top_ref()));
    Some(match op {
        BinOp::BitOr => R::paren(format!("{x} | {y}")),
        BinOp::BitXor => R::paren(format!("{x} ^ {y}")),
        BinOp::BitAnd => R::paren(format!("{x} & {y}")),
        BinOp::Shl | BinOp::Shr => {
            let sym = if op == BinOp::Shl { "<<" } else { ">>" };
            match cb {
                Some(s) => R::paren(format!("{x} {sym} {s}")),
                None => {
                    let m = if op == BinOp::Shl {
                        "checked_shl"
                    } else {
                        "checked_shr"
                    };
                    R::atom(format!(
                        "u32::try_from({}).ok().and_then(|s| {}.{m}(s)).unwrap_or(0)",
                        rb.top_ref(),
                        ra.receiver()
                    ))
                }
            }
        }
        BinOp::Add => method("wrapping_add"),
        BinOp::Sub => method("wrapping_sub"),
        BinOp::Mul => method("wrapping_mul"),
        BinOp::Div | BinOp::Rem => {
            let sym = if op == BinOp::Div { "/" } else { "%" };
            match cb {
                // Non-zero constant divisor (zero was folded above).
                Some(_) => R::paren(format!("{x} {sym} {y}")),
                None => {
                    let m = if op == BinOp::Div {
                        "checked_div"
                    } else {
                        "checked_rem"
                    };
                    R::atom(format!(
                        "{}.{m}({}).unwrap_or(0)",
                        ra.receiver(),
                        rb.top_ref()
                    ))
                }
            }
        }
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            R::atom(format!("u64::from({x} {} {y})", op.symbol()))
        }
        BinOp::Or => R::atom(format!("u64::from({x} != 0 || {y} != 0)")),
        BinOp::And => R::atom(format!("u64::from({x} != 0 && {y} != 0)")),
    })
}

impl R {
    /// As a whole `u64` value (a literal gets its type).
    fn as_value(&self) -> String {
        match self.literal {
            Some(v) => format!("{v:#x}_u64"),
            None => self.top_ref(),
        }
    }
    /// As a function argument (no redundant outer parentheses).
    fn top_ref(&self) -> String {
        self.clone().top()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }
    fn c(v: u64) -> Expr {
        Expr::Const(v)
    }
    fn ex(e: &Expr) -> String {
        match render(e) {
            Some(Ack::Expr(s)) => s,
            other => panic!("not an expression: {other:?}"),
        }
    }

    #[test]
    fn constants_fold_with_the_front_ends_semantics() {
        assert_eq!(render(&c(0)), Some(Ack::Const(0)));
        assert_eq!(render(&bin(BinOp::Div, c(7), c(0))), Some(Ack::Const(0)));
        assert_eq!(render(&bin(BinOp::Shl, c(1), c(64))), Some(Ack::Const(0)));
        assert_eq!(
            render(&bin(BinOp::Sub, c(0), c(1))),
            Some(Ack::Const(u64::MAX))
        );
        let not = Expr::Unary(UnOp::Not, Box::new(c(5)));
        assert_eq!(render(&not), Some(Ack::Const(0)));
    }

    #[test]
    fn value_expressions() {
        assert_eq!(ex(&Expr::Value), "value");
        assert_eq!(
            ex(&bin(BinOp::BitAnd, Expr::Value, c(0xff))),
            "value & 0xff"
        );
        assert_eq!(
            ex(&Expr::Unary(UnOp::BitNot, Box::new(Expr::Value))),
            "!value"
        );
        assert_eq!(
            ex(&bin(BinOp::Add, Expr::Value, c(1))),
            "value.wrapping_add(0x1)"
        );
        assert_eq!(
            ex(&bin(BinOp::Sub, c(1), Expr::Value)),
            "0x1_u64.wrapping_sub(value)"
        );
        assert_eq!(
            ex(&bin(BinOp::Div, c(8), Expr::Value)),
            "0x8_u64.checked_div(value).unwrap_or(0)"
        );
        assert_eq!(ex(&bin(BinOp::Div, Expr::Value, c(4))), "value / 0x4");
        assert_eq!(
            ex(&bin(BinOp::Eq, Expr::Value, c(3))),
            "u64::from(value == 0x3)"
        );
        assert_eq!(
            ex(&bin(BinOp::Shl, c(1), Expr::Value)),
            "u32::try_from(value).ok().and_then(|s| 0x1_u64.checked_shl(s)).unwrap_or(0)"
        );
        // Nesting keeps exactly the parentheses Rust needs.
        let e = bin(
            BinOp::BitOr,
            bin(BinOp::BitAnd, Expr::Value, c(0xf)),
            Expr::Unary(UnOp::BitNot, Box::new(Expr::Value)),
        );
        assert_eq!(ex(&e), "(value & 0xf) | !value");
        let e = bin(
            BinOp::Add,
            Expr::Unary(UnOp::BitNot, Box::new(Expr::Value)),
            c(1),
        );
        assert_eq!(ex(&e), "(!value).wrapping_add(0x1)");
    }

    #[test]
    fn identities_are_simplified() {
        assert_eq!(ex(&bin(BinOp::BitOr, Expr::Value, c(0))), "value");
        assert_eq!(ex(&bin(BinOp::BitAnd, c(u64::MAX), Expr::Value)), "value");
        assert_eq!(
            render(&bin(BinOp::Mul, Expr::Value, c(0))),
            Some(Ack::Const(0))
        );
        assert_eq!(
            render(&bin(BinOp::Rem, Expr::Value, c(0))),
            Some(Ack::Const(0))
        );
    }

    #[test]
    fn non_ack_expressions_are_refused() {
        assert_eq!(render(&Expr::State(pcidevc_dsl::ir::StateId(0))), None);
    }
}

/// The rendered expressions, compiled by rustc and run, against the front
/// end's evaluator (`eval_unary` / `eval_binary`) on edge values.
#[cfg(test)]
mod differential {
    use super::*;
    use std::process::Command;

    fn eval(e: &Expr, value: u64) -> u64 {
        match e {
            Expr::Const(v) => *v,
            Expr::Value => value,
            Expr::Unary(op, x) => eval_unary(*op, eval(x, value)),
            Expr::Binary(op, a, b) => eval_binary(*op, eval(a, value), eval(b, value)),
            _ => unreachable!("not an ack expression"),
        }
    }

    /// Every operator with `value` on either side, plus some nesting.
    fn cases() -> Vec<Expr> {
        use BinOp::*;
        let v = || Expr::Value;
        let c = |n: u64| Expr::Const(n);
        let b = |op, x: Expr, y: Expr| Expr::Binary(op, Box::new(x), Box::new(y));
        let u = |op, x: Expr| Expr::Unary(op, Box::new(x));
        let ops = [
            Or, And, Eq, Ne, Lt, Le, Gt, Ge, BitOr, BitXor, BitAnd, Shl, Shr, Add, Sub, Mul, Div,
            Rem,
        ];
        let mut out = vec![
            v(),
            u(UnOp::Not, v()),
            u(UnOp::Neg, v()),
            u(UnOp::BitNot, v()),
        ];
        for op in ops {
            out.push(b(op, v(), c(3)));
            out.push(b(op, c(3), v()));
            out.push(b(op, v(), v()));
            out.push(b(op, v(), c(0)));
            out.push(b(op, c(0), v()));
            out.push(b(op, v(), c(64)));
            out.push(b(op, u(UnOp::BitNot, v()), b(Add, v(), c(1))));
        }
        out.push(b(
            BitOr,
            b(BitAnd, v(), c(0xff)),
            b(Add, u(UnOp::BitNot, v()), c(1)),
        ));
        out.push(b(Mul, b(Add, v(), c(1)), c(3)));
        out.push(u(UnOp::Neg, u(UnOp::BitNot, b(Sub, c(1), v()))));
        out
    }

    #[test]
    fn rendered_acks_compute_what_the_ir_means() {
        let values = [
            0u64,
            1,
            2,
            3,
            63,
            64,
            65,
            0xff,
            0x8000_0000,
            u64::MAX - 1,
            u64::MAX,
        ];
        let exprs = cases();
        let mut program = String::from("#![allow(unused_parens, clippy::all)]\n");
        for (i, e) in exprs.iter().enumerate() {
            let body = match render(e).expect("ack expression") {
                Ack::Const(k) => format!("{k:#x}"),
                Ack::Expr(s) => s,
            };
            program.push_str(&format!(
                "#[allow(unused_variables)]\nfn f{i}(value: u64) -> u64 {{\n    let ack: u64 = {body};\n    ack\n}}\n"
            ));
        }
        program.push_str("fn main() {\n");
        for i in 0..exprs.len() {
            for v in values {
                program.push_str(&format!("    println!(\"{{}}\", f{i}({v:#x}));\n"));
            }
        }
        program.push_str("}\n");
        let dir = std::env::temp_dir().join(format!("pcidevc-ack-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let src = dir.join("ack.rs");
        let exe = dir.join("ack");
        std::fs::write(&src, program).expect("write");
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let out = Command::new(rustc)
            .args(["--edition", "2021", "-o"])
            .arg(&exe)
            .arg(&src)
            .output()
            .expect("rustc runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let run = Command::new(&exe).output().expect("runs");
        let _ = std::fs::remove_dir_all(&dir);
        let got: Vec<u64> = String::from_utf8_lossy(&run.stdout)
            .lines()
            .map(|l| l.parse().expect("number"))
            .collect();
        let mut k = 0;
        for e in &exprs {
            for v in values {
                assert_eq!(
                    got[k],
                    eval(e, v),
                    "{e:?} with value = {v:#x}: {:?}",
                    render(e)
                );
                k += 1;
            }
        }
    }
}
