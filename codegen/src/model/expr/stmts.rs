//! Actions (statements) of the IR as Rust tokens: assignments with their
//! access-kind and width rules, `if`, FIFO, timer, stream, DMA, interrupt,
//! hook and VMM statements.

use super::*;

/// Render a block of actions. With a tracked level, a block one of whose
/// own statements (not those of a nested `if`) writes the level's inputs
/// notes it once, at its end (actions never leave a block early); the
/// blocks nested in it then need not.
pub fn stmts(cx: &mut Ctx<'_>, stmts: &[Stmt]) -> TokenStream {
    let noted = cx
        .level
        .as_ref()
        .is_some_and(|l| stmts.iter().any(|s| l.written_by(s)));
    let level = if noted { cx.level.take() } else { None };
    let items = stmts.iter().map(|s| stmt(cx, s)).collect::<Vec<_>>();
    let note = noted.then(|| quote!(self.level_dirty = true;));
    if noted {
        cx.level = level;
    }
    quote!(#(#items)* #note)
}

fn stmt(cx: &mut Ctx<'_>, s: &Stmt) -> TokenStream {
    match s {
        Stmt::If {
            cond,
            then,
            otherwise,
        } => {
            let c = bool_expr(cx, cond).into_tokens();
            let t = stmts(cx, then);
            // A block condition is bound first (see `is_block`); a nested
            // `else if` is then `else { let cond = ..; if cond .. }`.
            let (bind, c) = if is_block(&c) {
                (quote!(let cond = #c;), quote!(cond))
            } else {
                (TokenStream::new(), c)
            };
            let s = match otherwise.as_slice() {
                [] => quote!(if #c { #t }),
                [nested @ Stmt::If { .. }] => {
                    let e = stmt(cx, nested);
                    quote!(if #c { #t } else #e)
                }
                other => {
                    let e = stmts(cx, other);
                    quote!(if #c { #t } else { #e })
                }
            };
            if bind.is_empty() {
                s
            } else {
                quote!({ #bind #s })
            }
        }
        Stmt::Irq(op) => {
            cx.used_ctx = true;
            match op {
                ir::IrqOp::Raise => quote!(ctx.set_irq(true);),
                ir::IrqOp::Lower => quote!(ctx.set_irq(false);),
                ir::IrqOp::Pulse => quote!(ctx.pulse_irq();),
            }
        }
        Stmt::Msi(v) => {
            cx.used_ctx = false;
            let r = u64_expr(cx, v);
            // A vector that uses ctx (a hook, a `let`) is computed before
            // `ctx.msi_notify(..)` borrows ctx.
            let nested = std::mem::replace(&mut cx.used_ctx, true);
            let vec = match r.konst {
                Some(k) if k <= 0xffff => lit_hex(k),
                _ => {
                    let t = r.into_tokens();
                    quote!(pcidev_runtime::ops::msi_vector(#t))
                }
            };
            if nested {
                quote! {{
                    let vector = #vec;
                    ctx.msi_notify(vector);
                }}
            } else {
                quote!(ctx.msi_notify(#vec);)
            }
        }
        Stmt::Assign { place, op, value } => {
            // A bitwise compound assignment to a full-width u64 place is
            // Rust's own `|=` (clippy flags `x = x | v`).
            let full_width = match place {
                Place::State(s) if cx.dev.state(*s).ty == ir::Type::Uint(64) => {
                    Some(state_place(cx, *s))
                }
                Place::Register(r) if cx.dev.register(*r).bits() == 64 => {
                    Some(storage_place(cx, *r))
                }
                _ => None,
            };
            if let Some(p) = full_width
                && matches!(op, AssignOp::Or | AssignOp::And | AssignOp::Xor)
            {
                let v = u64_expr(cx, value).into_tokens();
                return match op {
                    AssignOp::Or => quote!(#p |= #v;),
                    AssignOp::And => quote!(#p &= #v;),
                    _ => quote!(#p ^= #v;),
                };
            }
            let v = match op {
                AssignOp::Set => value.clone(),
                other => Expr::Binary(
                    compound(*other),
                    Box::new(place_expr(place)),
                    Box::new(value.clone()),
                ),
            };
            let r = render(cx, &v);
            store(cx, place, r)
        }
        Stmt::TimerStart {
            timer,
            duration,
            unit,
            periodic,
        } => {
            cx.used_ctx = true;
            let i = lit_hex(timer.0 as u64);
            let ns = if unit.nanos() == 1 {
                duration.clone()
            } else {
                Expr::Binary(
                    BinOp::Mul,
                    Box::new(duration.clone()),
                    Box::new(Expr::Const(unit.nanos())),
                )
            };
            let ns = u64_expr(cx, &ns);
            if ns.konst.is_some() {
                let ns = ns.into_tokens();
                quote!(ctx.start_timer(#i, #ns, #periodic);)
            } else {
                // Evaluate first: the duration may call a hook with `ctx`.
                let ns = ns.into_tokens();
                quote! {{
                    let ns = #ns;
                    ctx.start_timer(#i, ns, #periodic);
                }}
            }
        }
        Stmt::TimerStop(t) => {
            cx.used_ctx = true;
            let i = lit_hex(t.0 as u64);
            quote!(ctx.stop_timer(#i);)
        }
        Stmt::FifoPush(st, v) => {
            let p = state_place(cx, *st);
            let bits = match cx.dev.state(*st).ty {
                ir::Type::Fifo { elem_bits, .. } => elem_bits,
                _ => 64,
            };
            let r = u64_expr(cx, v);
            if r.konst.is_some() {
                let v = narrow_rendered(r, bits);
                quote!(#p.push(#v);)
            } else {
                let v = narrow_rendered(r, bits);
                quote! {{
                    let element = #v;
                    #p.push(element);
                }}
            }
        }
        Stmt::FifoPop(st) => {
            let p = state_place(cx, *st);
            quote!(#p.pop();)
        }
        Stmt::FifoClear(st) => {
            let p = state_place(cx, *st);
            quote!(#p.clear();)
        }
        Stmt::Send(st, v) => {
            cx.used_ctx = true;
            let i = lit_hex(st.0 as u64);
            let r = u64_expr(cx, v);
            if r.konst.is_some() {
                let v = narrow_rendered(r, 8);
                quote!(ctx.send(#i, #v);)
            } else {
                let v = narrow_rendered(r, 8);
                quote! {{
                    let out = #v;
                    ctx.send(#i, out);
                }}
            }
        }
        Stmt::Vmm(r) => {
            cx.used_ctx = true;
            let r = format_ident!("{}", format!("{r:?}"));
            quote!(ctx.vmm_request(pcidev_runtime::VmmRequest::#r);)
        }
        Stmt::Call { hook, args } => {
            cx.used_ctx = true;
            let call = hook_call(cx, *hook, args);
            quote!(#call;)
        }
        Stmt::DmaWrite {
            addr,
            len,
            source,
            status,
        } => {
            cx.used_ctx = true;
            let a = u64_expr(cx, addr).into_tokens();
            let l = u64_expr(cx, len).into_tokens();
            let mut first = TokenStream::new();
            let call = match source {
                ir::Source::Random(seed) => {
                    let s = operand(cx, &mut first, "seed", |cx| {
                        narrow_rendered(u64_expr(cx, seed), 32)
                    });
                    quote!(ctx.dma_write_random(addr, len, #s).status_code())
                }
                ir::Source::Pattern(b) => {
                    let b = operand(cx, &mut first, "fill", |cx| {
                        narrow_rendered(u64_expr(cx, b), 8)
                    });
                    quote!(ctx.dma_write_pattern(addr, len, #b).status_code())
                }
                ir::Source::Word(w) => {
                    let w = operand(cx, &mut first, "word", |cx| u64_expr(cx, w).into_tokens());
                    quote!(ctx.dma_write_word(addr, len, #w).status_code())
                }
                ir::Source::Buffer { state, offset } => {
                    let p = state_place(cx, *state);
                    let o = operand(cx, &mut first, "offset", |cx| {
                        u64_expr(cx, offset).into_tokens()
                    });
                    quote! {
                        match pcidev_runtime::ops::buf_range(&#p, #o, len) {
                            Some(data) => ctx.dma_write(addr, data).status_code(),
                            None => pcidev_runtime::DMA_STATUS_BAD_BUFFER_RANGE,
                        }
                    }
                }
            };
            dma_block(cx, a, l, first, call, status)
        }
        Stmt::DmaRead {
            addr,
            len,
            into,
            status,
        } => {
            cx.used_ctx = true;
            let a = u64_expr(cx, addr).into_tokens();
            let l = u64_expr(cx, len).into_tokens();
            let mut first = TokenStream::new();
            let call = match into {
                ir::DmaDest::Buffer { state, offset } => {
                    let p = state_place(cx, *state);
                    let o = operand(cx, &mut first, "offset", |cx| {
                        u64_expr(cx, offset).into_tokens()
                    });
                    quote! {
                        match pcidev_runtime::ops::buf_range_mut(&mut #p, #o, len) {
                            Some(dst) => ctx.dma_read(addr, dst).status_code(),
                            None => pcidev_runtime::DMA_STATUS_BAD_BUFFER_RANGE,
                        }
                    }
                }
                ir::DmaDest::Scalar(place) => {
                    let set = store(cx, place, Rendered::atom(quote!(data), Ty::U64));
                    quote! {{
                        let (outcome, data) = ctx.dma_read_le(addr, len);
                        if outcome == pcidev_runtime::DmaOutcome::Done {
                            #set
                        }
                        outcome.status_code()
                    }}
                }
            };
            dma_block(cx, a, l, first, call, status)
        }
    }
}

/// `{ let addr = ..; let len = ..; let status = CALL; PLACE = status; }`.
/// A DMA operand (seed, byte, word, buffer offset) as the call's
/// argument. One that uses `ctx` (a hook, a `let`, `access.size`) cannot be
/// evaluated inside `ctx.dma_*(..)` or next to a borrow of the buffer:
/// it is computed first, into a local of that name, added to `first`.
fn operand(
    cx: &mut Ctx<'_>,
    first: &mut TokenStream,
    name: &str,
    render: impl FnOnce(&mut Ctx<'_>) -> TokenStream,
) -> TokenStream {
    let before = std::mem::replace(&mut cx.used_ctx, false);
    let t = render(cx);
    let uses_ctx = cx.used_ctx;
    cx.used_ctx |= before;
    if uses_ctx {
        let v = format_ident!("{name}");
        first.extend(quote!(let #v = #t;));
        quote!(#v)
    } else {
        t
    }
}

fn dma_block(
    cx: &mut Ctx<'_>,
    addr: TokenStream,
    len: TokenStream,
    first: TokenStream,
    call: TokenStream,
    status: &Option<Place>,
) -> TokenStream {
    match status {
        Some(p) => {
            let set = store(cx, p, Rendered::atom(quote!(status), Ty::U64));
            quote! {{
                let addr = #addr;
                let len = #len;
                #first
                let status = #call;
                #set
            }}
        }
        None => quote! {{
            let addr = #addr;
            let len = #len;
            #first
            let _status = #call;
        }},
    }
}

fn compound(op: AssignOp) -> BinOp {
    match op {
        AssignOp::Or => BinOp::BitOr,
        AssignOp::And => BinOp::BitAnd,
        AssignOp::Xor => BinOp::BitXor,
        AssignOp::Add => BinOp::Add,
        AssignOp::Sub => BinOp::Sub,
        AssignOp::Set => BinOp::Or, // unused: Set is not compound
    }
}

fn place_expr(p: &Place) -> Expr {
    match p {
        Place::State(s) => Expr::State(*s),
        Place::Register(r) => Expr::Register(*r),
        Place::Field(r, f) => Expr::Field(*r, *f),
        Place::BufferByte(s, i) => Expr::BufferByte(*s, i.clone()),
    }
}

/// `place = value` with the language's truncation.
fn store(cx: &mut Ctx<'_>, place: &Place, value: Rendered) -> TokenStream {
    match place {
        Place::State(s) => {
            let p = state_place(cx, *s);
            match cx.dev.state(*s).ty {
                ir::Type::Bool => {
                    let v = value.into_bool().into_tokens();
                    quote!(#p = #v;)
                }
                ir::Type::Uint(b) => {
                    let v = narrow_rendered(value.into_u64(), b);
                    quote!(#p = #v;)
                }
                ir::Type::Buffer(_) | ir::Type::Fifo { .. } => quote!(),
            }
        }
        Place::Register(r) => {
            let p = storage_place(cx, *r);
            let v = narrow_rendered(value.into_u64(), cx.dev.register(*r).bits());
            quote!(#p = #v;)
        }
        Place::Field(r, f) => {
            let reg = cx.dev.register(*r);
            let Some(field) = reg.fields.get(*f) else {
                return quote!();
            };
            let p = storage_place(cx, *r);
            let old = Rendered::from_u64_of(p.clone(), reg.bits()).into_tokens();
            let (lo, mask) = (lit_hex(field.lo.into()), lit_hex(field.mask()));
            let v = value.into_u64().into_tokens();
            let set = quote!(pcidev_runtime::ops::set_field(#old, #lo, #mask, #v));
            let set = narrow(set, reg.bits());
            quote!(#p = #set;)
        }
        Place::BufferByte(s, i) => {
            let p = state_place(cx, *s);
            let i = u64_expr(cx, i).into_tokens();
            let v = value.into_u64().into_tokens();
            // Evaluate first: the index or value may read the same buffer.
            // Not `index`: that is an array register's element, which the
            // value may use.
            quote! {{
                let at = #i;
                let byte = #v;
                pcidev_runtime::ops::buf_set(&mut #p, at, byte);
            }}
        }
    }
}
