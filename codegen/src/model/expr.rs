//! Expressions and actions of the IR as Rust tokens.
//!
//! Every rendered expression carries its Rust precedence and its type
//! (`u64` or `bool`), so parentheses appear only where Rust needs them
//! (generated code is warning-free: no `unused_parens`) and conversions
//! only where types differ. Constant sub-expressions are folded with the
//! language's own evaluator.

use super::lit_hex;
use pcidev_core::ops::{eval_binary, eval_unary};
use pcidevc_dsl::ir::{self, AssignOp, BinOp, Device, Expr, Place, Stmt, UnOp};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

mod stmts;
pub use stmts::stmts;

/// Rust operator precedence, higher binds tighter.
pub mod prec {
    pub const OR: u8 = 10;
    pub const AND: u8 = 20;
    pub const CMP: u8 = 30;
    pub const BITOR: u8 = 40;
    pub const XOR: u8 = 45;
    pub const BITAND: u8 = 50;
    pub const SHIFT: u8 = 55;
    pub const CAST: u8 = 80;
    pub const UNARY: u8 = 90;
    pub const ATOM: u8 = 100;
    /// An `if` whose results are all integer literals: it has no type of
    /// its own (fine as an operand, not as a method receiver: rustc
    /// E0689). Otherwise like an `if` (0).
    pub const UNTYPED_IF: u8 = 1;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    U64,
    Bool,
}

/// A rendered expression.
#[derive(Debug, Clone)]
pub struct Rendered {
    ts: TokenStream,
    prec: u8,
    ty: Ty,
    /// The value, when the expression is a constant.
    konst: Option<u64>,
}

impl Rendered {
    fn atom(ts: TokenStream, ty: Ty) -> Self {
        Rendered {
            ts,
            prec: prec::ATOM,
            ty,
            konst: None,
        }
    }

    fn konst(v: u64) -> Self {
        Rendered {
            ts: lit_hex(v),
            prec: prec::ATOM,
            ty: Ty::U64,
            konst: Some(v),
        }
    }

    fn op(ts: TokenStream, prec: u8, ty: Ty) -> Self {
        Rendered {
            ts,
            prec,
            ty,
            konst: None,
        }
    }

    /// An unsigned place of `bits` bits, as u64.
    pub fn from_u64_of(place: TokenStream, bits: u32) -> Self {
        if bits >= 64 {
            Self::atom(place, Ty::U64)
        } else {
            Self::atom(quote!(u64::from(#place)), Ty::U64)
        }
    }

    /// Tokens usable where precedence `min` is required.
    pub fn wrap(&self, min: u8) -> TokenStream {
        let ts = &self.ts;
        if self.prec >= min {
            ts.clone()
        } else {
            quote!((#ts))
        }
    }

    /// Tokens as a method-call receiver (a literal needs its type suffix).
    fn receiver(&self) -> TokenStream {
        match self.konst {
            Some(v) => {
                let lit = syn::LitInt::new(
                    &format!(
                        "{}u64",
                        if v < 10 {
                            v.to_string()
                        } else {
                            format!("{v:#x}_")
                        }
                    ),
                    proc_macro2::Span::call_site(),
                );
                quote!(#lit)
            }
            None => self.wrap(prec::ATOM),
        }
    }

    pub fn into_tokens(self) -> TokenStream {
        self.ts
    }

    /// Whether it renders as a bool or a u64.
    pub fn ty(&self) -> Ty {
        self.ty
    }

    fn into_u64(self) -> Rendered {
        match self.ty {
            Ty::U64 => self,
            Ty::Bool => match self.konst {
                Some(v) => Rendered::konst(v),
                None => {
                    let ts = self.ts;
                    Rendered::atom(quote!(u64::from(#ts)), Ty::U64)
                }
            },
        }
    }

    fn into_bool(self) -> Rendered {
        match (self.ty, self.konst) {
            (Ty::Bool, _) => self,
            (Ty::U64, Some(v)) => {
                let b = v != 0;
                Rendered {
                    ts: quote!(#b),
                    prec: prec::ATOM,
                    ty: Ty::Bool,
                    konst: Some(b as u64),
                }
            }
            (Ty::U64, None) => {
                let x = self.wrap(prec::CMP + 1);
                Rendered::op(quote!(#x != 0), prec::CMP, Ty::Bool)
            }
        }
    }
}

/// What an expression or action may use where it is rendered, and what it
/// did use (to name unused parameters `_x`).
pub struct Ctx<'a> {
    dev: &'a Device,
    /// `value` is in scope (write actions, ack).
    pub in_write: bool,
    /// `&self` only (the interrupt level, a stream's `ready`, a `let`
    /// without hooks): no hooks, no effects; `ctx` is `&DeviceCtx`.
    pub read_only: bool,
    pub used_value: bool,
    pub used_ctx: bool,
    /// `byte` was used (a stream's `on input`).
    pub used_byte: bool,
    /// The parameters of the `fn` being rendered, and which were used.
    pub params: Vec<(String, ir::Type)>,
    pub used_params: Vec<bool>,
    /// The Rust type each `let` method returns.
    let_tys: Vec<Ty>,
    /// `index` (an array's methods' parameter) was used.
    pub used_index: bool,
    /// `let`s computed once into a local of the method's name
    /// (`let_NAME`) before the body, read from it (see
    /// `usage::read_once_lets`).
    pub once_lets: Vec<ir::LetId>,
    /// Render the first literal of an untyped `if` with its `u64` suffix
    /// (see [`prec::UNTYPED_IF`]): set while re-rendering a receiver.
    type_literals: bool,
    /// A tracked interrupt level's inputs, in a guest access's methods: a
    /// statement that writes one notes it (`self.level_dirty = true`).
    pub level: Option<std::rc::Rc<ir::LevelInputs>>,
}

impl<'a> Ctx<'a> {
    pub fn new(dev: &'a Device) -> Self {
        let let_tys = let_types(dev);
        Ctx::with_let_types(dev, let_tys)
    }

    fn with_let_types(dev: &'a Device, let_tys: Vec<Ty>) -> Self {
        Ctx {
            dev,
            in_write: false,
            read_only: false,
            used_value: false,
            used_ctx: false,
            used_byte: false,
            params: Vec::new(),
            used_params: Vec::new(),
            let_tys,
            used_index: false,
            once_lets: Vec::new(),
            type_literals: false,
            level: None,
        }
    }

    /// A context for the body of `fn` `f`.
    pub fn for_fn(dev: &'a Device, f: &ir::Function) -> Self {
        let mut cx = Ctx::new(dev);
        cx.read_only = true;
        cx.params = f.params.clone();
        cx.used_params = vec![false; f.params.len()];
        cx
    }

    /// The Rust type of `let` `id`'s method.
    pub fn let_ty(&self, id: ir::LetId) -> Ty {
        self.let_tys.get(id.0).copied().unwrap_or(Ty::U64)
    }

    /// The name of the `&mut DeviceCtx` parameter: `_ctx` when unused.
    pub fn ctx_param(&self) -> TokenStream {
        if self.used_ctx {
            quote!(ctx)
        } else {
            quote!(_ctx)
        }
    }
}

/// The type each `let` renders to (bool or u64), computed in dependency
/// order (the checker guarantees lets are not recursive).
fn let_types(dev: &Device) -> Vec<Ty> {
    fn compute(dev: &Device, i: usize, memo: &mut Vec<Option<Ty>>, depth: usize) -> Ty {
        if let Some(t) = memo[i] {
            return t;
        }
        // Lets this one uses first.
        let mut deps = Vec::new();
        dev.lets[i].value.walk(&mut |e| {
            if let Expr::Let(l) = e {
                deps.push(l.0);
            }
        });
        for d in deps {
            if d < memo.len() && depth < dev.lets.len() {
                compute(dev, d, memo, depth + 1);
            }
        }
        let tys = memo.iter().map(|t| t.unwrap_or(Ty::U64)).collect();
        let mut cx = Ctx::with_let_types(dev, tys);
        let t = render(&mut cx, &dev.lets[i].value).ty;
        memo[i] = Some(t);
        t
    }
    let mut memo = vec![None; dev.lets.len()];
    (0..dev.lets.len())
        .map(|i| compute(dev, i, &mut memo, 0))
        .collect()
}

/// `expr` as it renders (bool or u64).
pub fn any_expr(cx: &mut Ctx<'_>, e: &Expr) -> Rendered {
    render(cx, e)
}

/// `expr` as a u64.
pub fn u64_expr(cx: &mut Ctx<'_>, e: &Expr) -> Rendered {
    render(cx, e).into_u64()
}

/// `expr` as a bool (non-zero is true).
pub fn bool_expr(cx: &mut Ctx<'_>, e: &Expr) -> Rendered {
    render(cx, e).into_bool()
}

/// A u64 expression stored into `bits` bits (truncating, as the language
/// defines assignment).
pub fn narrow(ts: TokenStream, bits: u32) -> TokenStream {
    narrow_rendered(Rendered::op(ts, prec::ATOM, Ty::U64), bits)
}

/// A rendered u64 stored into `bits` bits.
pub fn narrow_rendered(r: Rendered, bits: u32) -> TokenStream {
    if bits >= 64 {
        return r.ts;
    }
    if let Some(v) = r.konst {
        return lit_hex(v & ir::low_mask(bits));
    }
    let t = format_ident!("u{}", bits.next_power_of_two().max(8));
    let x = r.wrap(prec::CAST);
    quote!(#x as #t)
}

fn state_place(cx: &Ctx<'_>, s: ir::StateId) -> TokenStream {
    super::parts::state_place(cx.dev, s)
}

fn storage_place(cx: &Ctx<'_>, r: ir::RegId) -> TokenStream {
    super::arrays::storage_of(cx.dev, r)
}

fn render(cx: &mut Ctx<'_>, e: &Expr) -> Rendered {
    match e {
        Expr::Const(v) => Rendered::konst(*v),
        Expr::State(s) => {
            let p = state_place(cx, *s);
            match cx.dev.state(*s).ty {
                ir::Type::Bool => Rendered::atom(p, Ty::Bool),
                ir::Type::Uint(b) => Rendered::from_u64_of(p, b),
                // Buffers are only indexed and FIFOs only used through
                // their operations (the checker guarantees it).
                ir::Type::Buffer(_) | ir::Type::Fifo { .. } => Rendered::konst(0),
            }
        }
        Expr::Register(r) => {
            Rendered::from_u64_of(storage_place(cx, *r), cx.dev.register(*r).bits())
        }
        Expr::Field(r, f) => {
            let reg = cx.dev.register(*r);
            let Some(field) = reg.fields.get(*f) else {
                return Rendered::konst(0);
            };
            let whole = Rendered::from_u64_of(storage_place(cx, *r), reg.bits());
            let shifted = if field.lo == 0 {
                whole
            } else {
                let w = whole.wrap(prec::SHIFT);
                let lo = lit_hex(field.lo.into());
                Rendered::op(quote!(#w >> #lo), prec::SHIFT, Ty::U64)
            };
            if field.hi + 1 == reg.bits() {
                shifted
            } else {
                let s = shifted.wrap(prec::BITAND);
                let m = lit_hex(ir::low_mask(field.bits()));
                Rendered::op(quote!(#s & #m), prec::BITAND, Ty::U64)
            }
        }
        Expr::BufferByte(s, i) => {
            let p = state_place(cx, *s);
            let i = u64_expr(cx, i).into_tokens();
            Rendered::atom(quote!(pcidev_runtime::ops::buf_get(&#p, #i)), Ty::U64)
        }
        Expr::Value => {
            cx.used_value = true;
            Rendered::atom(quote!(value), Ty::U64)
        }
        Expr::Call(h, args) => {
            let call = hook_call(cx, *h, args);
            let hook = cx.dev.hook(*h);
            match hook.ret {
                Some(ir::Type::Bool) => Rendered::atom(call, Ty::Bool),
                Some(ir::Type::Uint(b)) => Rendered::from_u64_of(call, b),
                _ => Rendered::konst(0),
            }
        }
        Expr::Unary(op, x_ir) => {
            // `!` says what it means without a negated comparison or a
            // double negation (clippy's nonminimal_bool): `!(a < b)` is
            // `a >= b`, `!!p` is `p`, and `!n` of an integer is `n == 0`.
            if *op == UnOp::Not {
                match &**x_ir {
                    Expr::Binary(cmp, a, b) if inverse(*cmp).is_some() => {
                        let inv = inverse(*cmp).unwrap_or(*cmp);
                        return binary(cx, inv, a, b).into_bool();
                    }
                    Expr::Unary(UnOp::Not, inner) => return render(cx, inner).into_bool(),
                    _ => {}
                }
            }
            let x = render(cx, x_ir);
            if *op == UnOp::Not && x.ty == Ty::U64 && x.konst.is_none() {
                let v = x.wrap(prec::CMP + 1);
                return Rendered::op(quote!(#v == 0), prec::CMP, Ty::Bool);
            }
            if let Some(v) = x.konst {
                let v = if x.ty == Ty::Bool && *op == UnOp::Not {
                    (v == 0) as u64
                } else {
                    eval_unary(*op, v)
                };
                return if *op == UnOp::Not {
                    Rendered::konst(v).into_bool()
                } else {
                    Rendered::konst(v)
                };
            }
            match op {
                UnOp::Not => {
                    let b = x.into_bool().wrap(prec::UNARY);
                    Rendered::op(quote!(!#b), prec::UNARY, Ty::Bool)
                }
                UnOp::Neg => {
                    let r = typed(cx, x_ir, x).into_u64().receiver();
                    Rendered::atom(quote!(#r.wrapping_neg()), Ty::U64)
                }
                UnOp::BitNot => {
                    let v = x.into_u64().wrap(prec::UNARY);
                    Rendered::op(quote!(!#v), prec::UNARY, Ty::U64)
                }
            }
        }
        Expr::Binary(op, a, b) => binary(cx, *op, a, b),
        Expr::TimerRunning(t) => {
            cx.used_ctx = true;
            let i = lit_hex(t.0 as u64);
            Rendered::atom(quote!(ctx.timer_running(#i)), Ty::Bool)
        }
        Expr::TimerRemaining(t) => {
            cx.used_ctx = true;
            let i = lit_hex(t.0 as u64);
            Rendered::atom(quote!(ctx.timer_remaining(#i)), Ty::U64)
        }
        Expr::FifoLen(s) => {
            let p = state_place(cx, *s);
            Rendered::atom(quote!(#p.count()), Ty::U64)
        }
        Expr::FifoFront(s) => {
            let p = state_place(cx, *s);
            Rendered::atom(quote!(#p.front()), Ty::U64)
        }
        Expr::FifoFull(s) => {
            let p = state_place(cx, *s);
            Rendered::atom(quote!(#p.is_full()), Ty::Bool)
        }
        Expr::FifoEmpty(s) => {
            let p = state_place(cx, *s);
            Rendered::atom(quote!(#p.is_empty()), Ty::Bool)
        }
        Expr::StreamSpace(st) => {
            cx.used_ctx = true;
            let i = lit_hex(st.0 as u64);
            Rendered::atom(quote!(ctx.stream_space(#i)), Ty::U64)
        }
        Expr::AccessSize => {
            cx.used_ctx = true;
            Rendered::atom(quote!(ctx.access_size()), Ty::U64)
        }
        Expr::AccessMask => {
            cx.used_ctx = true;
            Rendered::atom(quote!(ctx.access_mask()), Ty::U64)
        }
        Expr::Index => {
            cx.used_index = true;
            Rendered::atom(quote!(index), Ty::U64)
        }
        Expr::Byte => {
            cx.used_byte = true;
            Rendered::atom(quote!(u64::from(byte)), Ty::U64)
        }
        Expr::Let(l) => {
            let name = format_ident!("let_{}", cx.dev.let_(*l).name);
            if cx.once_lets.contains(l) {
                return Rendered::atom(quote!(#name), cx.let_ty(*l));
            }
            cx.used_ctx = true;
            Rendered::atom(quote!(self.#name(ctx)), cx.let_ty(*l))
        }
        Expr::Fn(f, args) => {
            let func = cx.dev.function(*f);
            let name = format_ident!("fn_{}", func.name);
            let args = hook_args(cx, &func.params, args);
            let call = quote!(Self::#name(#(#args),*));
            match func.ret {
                ir::Type::Bool => Rendered::atom(call, Ty::Bool),
                ir::Type::Uint(b) => Rendered::from_u64_of(call, b),
                _ => Rendered::konst(0),
            }
        }
        Expr::Param(i) => {
            let Some((name, ty)) = cx.params.get(*i).cloned() else {
                return Rendered::konst(0);
            };
            if let Some(u) = cx.used_params.get_mut(*i) {
                *u = true;
            }
            let n = format_ident!("{}", name);
            match ty {
                ir::Type::Bool => Rendered::atom(quote!(#n), Ty::Bool),
                ir::Type::Uint(b) => Rendered::from_u64_of(quote!(#n), b),
                _ => Rendered::konst(0),
            }
        }
        Expr::Cond(c, a_ir, b_ir) => {
            let c = bool_expr(cx, c);
            // A constant condition renders only its branch: what the other
            // one uses (`value`, a parameter, `ctx`) is not used.
            if let Some(k) = c.konst {
                return render(cx, if k != 0 { a_ir } else { b_ir });
            }
            let (a, b) = (render(cx, a_ir), render(cx, b_ir));
            let both_bool = a.ty == Ty::Bool && b.ty == Ty::Bool;
            let (a, b, ty) = if both_bool {
                (a, b, Ty::Bool)
            } else {
                (a.into_u64(), b.into_u64(), Ty::U64)
            };
            // `else if` chains stay flat (an `if` is the only rendering of
            // precedence 0, or UNTYPED_IF).
            let else_if = b.prec == 0 || b.prec == prec::UNTYPED_IF;
            // Integer literals alone have no type: `(if c { 0 } else { 5
            // }).wrapping_mul(x)` does not compile. Such an `if` says so
            // (UNTYPED_IF), and a receiver renders it again with its first
            // literal typed (`typed`).
            let literal = |r: &Rendered| r.konst.is_some() || r.prec == prec::UNTYPED_IF;
            let untyped = ty == Ty::U64 && literal(&a) && literal(&b);
            let block = is_block(&c.ts);
            // Untyped, the literals would be i32 where nothing else decides
            // (`(if c { 5 } else { 0xffff_ffff_ff }) as u16`): one that does
            // not fit gets the type now.
            let big = |r: &Rendered| r.konst.is_some_and(|v| v > i32::MAX as u64);
            let now = cx.type_literals || block || big(&a) || big(&b);
            let a = if untyped && now && a.konst.is_some() {
                a.receiver()
            } else {
                a.into_tokens()
            };
            let p = if untyped && !now { prec::UNTYPED_IF } else { 0 };
            let (c, b) = (c.into_tokens(), b.into_tokens());
            if block {
                // Not a block as the condition (see `is_block`).
                let e = if else_if {
                    quote!(if cond { #a } else #b)
                } else {
                    quote!(if cond { #a } else { #b })
                };
                return Rendered::atom(quote!({ let cond = #c; #e }), ty);
            }
            // Lowest precedence: parenthesised wherever it is an operand.
            if else_if {
                Rendered::op(quote!(if #c { #a } else #b), p, ty)
            } else {
                Rendered::op(quote!(if #c { #a } else { #b }), p, ty)
            }
        }
    }
}

/// `r` (the rendering of `e`) fit to be a method receiver: an untyped
/// `if` (see [`prec::UNTYPED_IF`]) is rendered again with a typed literal.
fn typed(cx: &mut Ctx<'_>, e: &Expr, r: Rendered) -> Rendered {
    if r.prec != prec::UNTYPED_IF {
        return r;
    }
    let old = std::mem::replace(&mut cx.type_literals, true);
    let r = render(cx, e);
    cx.type_literals = old;
    r
}

/// The comparison that is true exactly when `op` is false.
fn inverse(op: BinOp) -> Option<BinOp> {
    Some(match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Ge => BinOp::Lt,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        _ => return None,
    })
}

fn binary(cx: &mut Ctx<'_>, op: BinOp, a_ir: &Expr, b_ir: &Expr) -> Rendered {
    let a = render(cx, a_ir);
    let b = render(cx, b_ir);
    if let (Some(x), Some(y)) = (a.konst, b.konst) {
        let v = eval_binary(op, x, y);
        let r = Rendered::konst(v);
        return if op.is_boolean() { r.into_bool() } else { r };
    }
    let infix = |a: TokenStream, b: TokenStream, p: u8, ty: Ty, op: TokenStream| {
        Rendered::op(quote!(#a #op #b), p, ty)
    };
    // `p == !q` on bools is `p != q`: say it that way (what clippy's
    // `nonminimal_bool` asks of the generated code), and `!p == !q` is
    // `p == q`.
    let (op, a, b) = if matches!(op, BinOp::Eq | BinOp::Ne) && a.ty == Ty::Bool && b.ty == Ty::Bool
    {
        let peel = |cx: &mut Ctx<'_>, e: &Expr, r: Rendered| match e {
            Expr::Unary(UnOp::Not, inner) => (render(cx, inner).into_bool(), true),
            _ => (r, false),
        };
        let (a, na) = peel(cx, a_ir, a);
        let (b, nb) = peel(cx, b_ir, b);
        let op = match (na != nb, op) {
            (false, op) => op,
            (true, BinOp::Eq) => BinOp::Ne,
            (true, _) => BinOp::Eq,
        };
        (op, a, b)
    } else {
        (op, a, b)
    };
    match op {
        BinOp::Or | BinOp::And => {
            let p = if op == BinOp::Or { prec::OR } else { prec::AND };
            let (x, y) = (a.into_bool().wrap(p), b.into_bool().wrap(p + 1));
            infix(
                x,
                y,
                p,
                Ty::Bool,
                if op == BinOp::Or {
                    quote!(||)
                } else {
                    quote!(&&)
                },
            )
        }
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            // Compare bools as bools (`flag == true` reads worse, but is exact).
            let (a, b) =
                if a.ty == Ty::Bool && b.ty == Ty::Bool && matches!(op, BinOp::Eq | BinOp::Ne) {
                    (a, b)
                } else {
                    (a.into_u64(), b.into_u64())
                };
            let (x, y) = (a.wrap(prec::CMP + 1), b.wrap(prec::CMP + 1));
            let o = match op {
                BinOp::Eq => quote!(==),
                BinOp::Ne => quote!(!=),
                BinOp::Lt => quote!(<),
                BinOp::Le => quote!(<=),
                BinOp::Gt => quote!(>),
                _ => quote!(>=),
            };
            infix(x, y, prec::CMP, Ty::Bool, o)
        }
        BinOp::BitOr | BinOp::BitXor | BinOp::BitAnd => {
            let (p, o) = match op {
                BinOp::BitOr => (prec::BITOR, quote!(|)),
                BinOp::BitXor => (prec::XOR, quote!(^)),
                _ => (prec::BITAND, quote!(&)),
            };
            let (x, y) = (a.into_u64().wrap(p), b.into_u64().wrap(p + 1));
            infix(x, y, p, Ty::U64, o)
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul => {
            let m = match op {
                BinOp::Add => format_ident!("wrapping_add"),
                BinOp::Sub => format_ident!("wrapping_sub"),
                _ => format_ident!("wrapping_mul"),
            };
            let a = typed(cx, a_ir, a);
            let (x, y) = (a.into_u64().receiver(), b.into_u64().into_tokens());
            Rendered::atom(quote!(#x.#m(#y)), Ty::U64)
        }
        BinOp::Shl | BinOp::Shr | BinOp::Div | BinOp::Rem => {
            let f = match op {
                BinOp::Shl => format_ident!("shl"),
                BinOp::Shr => format_ident!("shr"),
                BinOp::Div => format_ident!("div"),
                _ => format_ident!("rem"),
            };
            let (x, y) = (a.into_u64().into_tokens(), b.into_u64().into_tokens());
            Rendered::atom(quote!(pcidev_runtime::ops::#f(#x, #y)), Ty::U64)
        }
    }
}

/// `self.hook_NAME(ctx, args..)`. Arguments that use `ctx` themselves (a
/// hook call, a `let`, `access.size`) cannot be evaluated inside the call,
/// which has borrowed `self` and `ctx` already (rustc E0499): then every
/// argument is computed first, in order, into a local of a block.
fn hook_call(cx: &mut Ctx<'_>, h: ir::HookId, args: &[Expr]) -> TokenStream {
    let hook = cx.dev.hook(h);
    let name = format_ident!("hook_{}", hook.name);
    cx.used_ctx = false;
    let args = hook_args(cx, &hook.params, args);
    let nested = cx.used_ctx;
    cx.used_ctx = true;
    if nested {
        let names: Vec<_> = (0..args.len()).map(|i| format_ident!("arg{i}")).collect();
        quote!({
            #(let #names = #args;)*
            self.#name(ctx, #(#names),*)
        })
    } else {
        quote!(self.#name(ctx, #(#args),*))
    }
}

/// Is `ts` one brace block (a hook call with its arguments computed
/// first)? As an `if` condition it would be clippy's
/// `blocks_in_conditions`: callers bind it to a local first.
fn is_block(ts: &TokenStream) -> bool {
    let mut it = ts.clone().into_iter();
    matches!(
        (it.next(), it.next()),
        (Some(proc_macro2::TokenTree::Group(g)), None)
            if g.delimiter() == proc_macro2::Delimiter::Brace
    )
}

/// Arguments converted to the hook's parameter types.
fn hook_args(cx: &mut Ctx<'_>, params: &[(String, ir::Type)], args: &[Expr]) -> Vec<TokenStream> {
    params
        .iter()
        .zip(args)
        .map(|((_, t), a)| match t {
            ir::Type::Bool => bool_expr(cx, a).into_tokens(),
            ir::Type::Uint(b) => narrow_rendered(u64_expr(cx, a), *b),
            ir::Type::Buffer(_) | ir::Type::Fifo { .. } => quote!(0),
        })
        .collect()
}
