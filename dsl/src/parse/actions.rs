//! Action statements and expressions. Expressions are built with an
//! explicit operator stack (no recursion) and capped at
//! [`MAX_EXPR_DEPTH`] levels.

use super::*;

impl ParseSession<'_> {
    pub(super) fn block(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Vec<Stmt> {
        let mut out = Vec::new();
        for s in p.into_inner() {
            if let Some(stmt) = self.stmt(cx, s) {
                out.push(stmt);
            }
        }
        out
    }

    pub(super) fn stmt(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Stmt> {
        let span = Self::span(cx, &p);
        let rule = p.as_rule();
        if rule == Rule::recover_stmt {
            self.recover(cx, &p, Rule::only_stmt);
            return None;
        }
        let mut inner: Vec<Pair<'_, Rule>> = p
            .into_inner()
            .filter(|i| !is_keyword(i.as_rule()))
            .collect();
        let kind = match rule {
            Rule::if_stmt => {
                let cond = self.expr(cx, inner.remove(0))?;
                let then = inner
                    .first()
                    .cloned()
                    .map(|b| self.block(cx, b))
                    .unwrap_or_default();
                let otherwise = match inner.get(1).cloned() {
                    Some(e) if e.as_rule() == Rule::if_stmt => {
                        self.stmt(cx, e).into_iter().collect()
                    }
                    Some(b) => self.block(cx, b),
                    None => Vec::new(),
                };
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            Rule::irq_stmt => StmtKind::Irq(match inner.first().map(|o| o.as_str()) {
                Some("lower") => IrqOp::Lower,
                Some("pulse") => IrqOp::Pulse,
                _ => IrqOp::Raise,
            }),
            Rule::msi_stmt => StmtKind::Msi(self.expr(cx, inner.remove(0))?),
            Rule::dma_stmt => {
                let op = inner.remove(0);
                let status = match inner.pop() {
                    Some(pl) => Some(self.place(cx, pl)?),
                    None => None,
                };
                let is_write = op.as_rule() == Rule::dma_write;
                let mut parts = op.into_inner().filter(|i| !is_keyword(i.as_rule()));
                let (a, l, t) = (parts.next()?, parts.next()?, parts.next()?);
                let addr = self.expr(cx, a)?;
                let len = self.expr(cx, l)?;
                if is_write {
                    StmtKind::DmaWrite {
                        addr,
                        len,
                        source: self.source(cx, t)?,
                        status,
                    }
                } else {
                    StmtKind::DmaRead {
                        addr,
                        len,
                        into: self.place(cx, t)?,
                        status,
                    }
                }
            }
            Rule::assign => {
                let place = self.place(cx, inner.remove(0))?;
                let op = match inner.remove(0).as_str() {
                    "|=" => AssignOp::Or,
                    "&=" => AssignOp::And,
                    "^=" => AssignOp::Xor,
                    "+=" => AssignOp::Add,
                    "-=" => AssignOp::Sub,
                    _ => AssignOp::Set,
                };
                let value = self.expr(cx, inner.remove(0))?;
                StmtKind::Assign { place, op, value }
            }
            Rule::call_stmt => {
                let (hook, args) = self.call(cx, inner.remove(0))?;
                StmtKind::Call { hook, args }
            }
            Rule::start_stmt => {
                let timer = Self::ident(cx, inner.remove(0));
                let periodic = inner.first()?.as_rule() == Rule::every_kw;
                if periodic {
                    inner.remove(0);
                }
                let duration = self.expr(cx, inner.remove(0))?;
                let unit = TimeUnit::parse(inner.first()?.as_str())?;
                StmtKind::Start {
                    timer,
                    periodic,
                    duration,
                    unit,
                }
            }
            Rule::stop_stmt => StmtKind::Stop(Self::ident(cx, inner.remove(0))),
            Rule::send_stmt => {
                let stream = Self::ident(cx, inner.remove(0));
                let value = self.expr(cx, inner.remove(0))?;
                StmtKind::Send { stream, value }
            }
            Rule::vmm_stmt => StmtKind::Vmm(Self::ident(cx, inner.remove(0))),
            Rule::method_stmt => {
                let target = Self::ident(cx, inner.remove(0));
                let method = Self::ident(cx, inner.remove(0));
                let arg = match inner.pop() {
                    Some(e) => Some(self.expr(cx, e)?),
                    None => None,
                };
                StmtKind::Method {
                    target,
                    method,
                    arg,
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span })
    }

    pub(super) fn source(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Source> {
        let span = Self::span(cx, &p);
        let s = p.into_inner().next()?;
        let rule = s.as_rule();
        let kind = if rule == Rule::place {
            SourceKind::Place(self.place(cx, s)?)
        } else {
            let e = s.into_inner().find(|i| i.as_rule() == Rule::expr)?;
            let e = self.expr(cx, e)?;
            match rule {
                Rule::random_src => SourceKind::Random(e),
                Rule::pattern_src => SourceKind::Pattern(e),
                _ => SourceKind::Word(e),
            }
        };
        Some(Source { kind, span })
    }

    pub(super) fn place(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Place> {
        let span = Self::span(cx, &p);
        let mut inner = p.into_inner();
        let base = Self::ident(cx, inner.next()?);
        let mut place = Place {
            base,
            field: None,
            index: None,
            span,
        };
        if let Some(x) = inner.next() {
            let y = x.clone().into_inner().next()?;
            match x.as_rule() {
                Rule::field_ref => place.field = Some(Self::ident(cx, y)),
                _ => place.index = Some(Box::new(self.expr(cx, y)?)),
            }
        }
        Some(place)
    }

    pub(super) fn call(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<(Ident, Vec<Expr>)> {
        let mut inner = p.into_inner();
        let hook = Self::ident(cx, inner.next()?);
        let mut args = Vec::new();
        for a in inner {
            args.push(self.expr(cx, a)?);
        }
        Some((hook, args))
    }

    /// Build an expression with an explicit operator stack (no recursion
    /// except into parentheses, which the nesting guard bounds).
    pub(super) fn expr(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Expr> {
        let whole = Self::span(cx, &p);
        let mut operands: Vec<(Expr, usize)> = Vec::new();
        let mut operators: Vec<BinOp> = Vec::new();
        let mut prefixes: Vec<(UnOp, Span)> = Vec::new();
        let too_deep = |s: &mut Self| {
            s.diags.push(
                Diagnostic::error(
                    diag::TOO_DEEP,
                    whole,
                    format!("expression nests more than {MAX_EXPR_DEPTH} operators deep"),
                )
                .label("this expression")
                .hint("split it into named parts (`let`, `fn`); a long `else if` table reads better as a buffer state indexed by the key"),
            );
        };
        // Pop one operator and its two operands into a Binary node.
        fn reduce(operands: &mut Vec<(Expr, usize)>, op: BinOp) -> Option<usize> {
            let (rhs, dr) = operands.pop()?;
            let (lhs, dl) = operands.pop()?;
            let depth = 1 + dl.max(dr);
            let span = lhs.span.to(rhs.span);
            operands.push((
                Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                },
                depth,
            ));
            Some(depth)
        }
        for t in p.into_inner() {
            let tspan = Self::span(cx, &t);
            let rule = t.as_rule();
            if let Some(op) = unary_op(rule) {
                prefixes.push((op, tspan));
                continue;
            }
            if let Some(op) = binary_op(rule) {
                while let Some(&top) = operators.last() {
                    if top.precedence() >= op.precedence() {
                        operators.pop();
                        if reduce(&mut operands, top)? > MAX_EXPR_DEPTH {
                            too_deep(self);
                            return None;
                        }
                    } else {
                        break;
                    }
                }
                operators.push(op);
                continue;
            }
            // A primary.
            let kind = match rule {
                Rule::number => ExprKind::Num(self.number(cx, t).value),
                Rule::boolean => ExprKind::Bool(t.as_str() == "true"),
                Rule::value_kw => ExprKind::Value,
                Rule::index_kw => ExprKind::Index,
                Rule::byte_kw => ExprKind::Byte,
                Rule::dma_addr => ExprKind::DmaAddr,
                Rule::access_prop if t.as_str().ends_with("size") => ExprKind::AccessSize,
                Rule::access_prop => ExprKind::AccessMask,
                Rule::if_expr => self.if_expr(cx, t)?,
                Rule::place => ExprKind::Place(self.place(cx, t)?),
                Rule::call => {
                    let (hook, args) = self.call(cx, t)?;
                    ExprKind::Call { hook, args }
                }
                Rule::expr => {
                    let inner = self.expr(cx, t)?;
                    inner.kind
                }
                _ => continue,
            };
            let mut e = Expr { kind, span: tspan };
            // Depths count operators: an operand alone is 0 deep.
            let mut depth = 0;
            for (op, ospan) in prefixes.drain(..).rev() {
                depth += 1;
                if depth > MAX_EXPR_DEPTH {
                    too_deep(self);
                    return None;
                }
                let span = ospan.to(e.span);
                e = Expr {
                    kind: ExprKind::Unary(op, Box::new(e)),
                    span,
                };
            }
            operands.push((e, depth));
        }
        while let Some(op) = operators.pop() {
            if reduce(&mut operands, op)? > MAX_EXPR_DEPTH {
                too_deep(self);
                return None;
            }
        }
        let (mut e, _) = operands.pop()?;
        e.span = whole;
        // Parentheses, call arguments and indexes restart the count above:
        // bound the depth of the whole tree so later passes may recurse
        // (`ast_depth` counts the operands' level too).
        if ast_depth(&e) > MAX_EXPR_DEPTH + 1 {
            too_deep(self);
            return None;
        }
        Some(e)
    }

    /// `if c { a } else if d { b } else { e }`, as a chain of conditionals.
    pub(super) fn if_expr(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<ExprKind> {
        let mut parts = p.into_inner().filter(|i| !is_keyword(i.as_rule()));
        let cond = self.expr(cx, parts.next()?)?;
        let then = self.expr(cx, parts.next()?)?;
        let other = parts.next()?;
        let otherwise = if other.as_rule() == Rule::if_expr {
            let ospan = Self::span(cx, &other);
            Expr {
                kind: self.if_expr(cx, other)?,
                span: ospan,
            }
        } else {
            self.expr(cx, other)?
        };
        Some(ExprKind::Cond(
            Box::new(cond),
            Box::new(then),
            Box::new(otherwise),
        ))
    }
}

/// Depth of an expression tree, computed without recursion.
pub fn ast_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        match &e.kind {
            ExprKind::Unary(_, x) => stack.push((x, d + 1)),
            ExprKind::Binary(_, a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| (a, d + 1))),
            ExprKind::Cond(c, a, b) => {
                stack.push((c, d + 1));
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            ExprKind::Place(p) => {
                if let Some(i) = &p.index {
                    stack.push((i, d + 1));
                }
            }
            _ => {}
        }
    }
    max
}

pub(super) fn is_keyword(r: Rule) -> bool {
    format!("{r:?}").starts_with("k_")
}

pub(super) fn unary_op(r: Rule) -> Option<UnOp> {
    Some(match r {
        Rule::not => UnOp::Not,
        Rule::neg => UnOp::Neg,
        Rule::bit_not => UnOp::BitNot,
        _ => return None,
    })
}

pub(super) fn binary_op(r: Rule) -> Option<BinOp> {
    Some(match r {
        Rule::or => BinOp::Or,
        Rule::and => BinOp::And,
        Rule::eq => BinOp::Eq,
        Rule::ne => BinOp::Ne,
        Rule::lt => BinOp::Lt,
        Rule::le => BinOp::Le,
        Rule::gt => BinOp::Gt,
        Rule::ge => BinOp::Ge,
        Rule::bit_or => BinOp::BitOr,
        Rule::bit_xor => BinOp::BitXor,
        Rule::bit_and => BinOp::BitAnd,
        Rule::shl => BinOp::Shl,
        Rule::shr => BinOp::Shr,
        Rule::add => BinOp::Add,
        Rule::sub => BinOp::Sub,
        Rule::mul => BinOp::Mul,
        Rule::div => BinOp::Div,
        Rule::rem => BinOp::Rem,
        _ => return None,
    })
}
