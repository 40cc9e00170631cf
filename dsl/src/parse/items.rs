//! The file and the device: `language`, device items, states, hooks,
//! interrupts and streams.

use super::*;

impl ParseSession<'_> {
    pub(super) fn top_items(&mut self, cx: Cx, file: Pair<'_, Rule>, spec: &mut SpecAst) {
        let mut items = file.into_inner().peekable();
        if let Some(p) = items.next_if(|p| p.as_rule() == Rule::language)
            && !self.language(cx, p, spec)
        {
            // A newer language may use anything: reading on would only
            // report its new constructs as syntax errors.
            return;
        }
        for p in items {
            match p.as_rule() {
                Rule::device => {
                    let d = self.device(cx, p);
                    spec.devices.push(d);
                }
                Rule::include => self.include(cx, p, IncludeContext::Top, Sink::Top(spec)),
                Rule::recover_top => self.recover(cx, &p, Rule::only_top),
                _ => {}
            }
        }
    }

    /// `language N;`: record it (the spec's own file's counts) and say
    /// whether this compiler reads that version.
    pub(super) fn language(&mut self, cx: Cx, p: Pair<'_, Rule>, spec: &mut SpecAst) -> bool {
        let Some(n) = p.into_inner().find(|p| p.as_rule() == Rule::number) else {
            return true;
        };
        let num = self.number(cx, n);
        let newest = crate::ir::LANGUAGE_VERSION;
        if (1..=newest).contains(&num.value) {
            spec.language.get_or_insert(num);
            return true;
        }
        spec.language = Some(num);
        let version = env!("CARGO_PKG_VERSION");
        let d = if num.value == 0 {
            Diagnostic::error(diag::LANGUAGE_VERSION, num.span, "there is no language 0")
                .label("versions start at 1")
                .hint(format!("write `language {newest};`, or leave the item out"))
        } else {
            Diagnostic::error(
                diag::LANGUAGE_VERSION,
                num.span,
                format!(
                    "this spec is written for language {}, newer than pcidevc {version} reads",
                    num.value
                ),
            )
            .label(format!("pcidevc {version} reads languages 1 to {newest}"))
            .hint("use a newer pcidevc")
        };
        self.diags.push(d);
        false
    }

    pub(super) fn device(&mut self, cx: Cx, p: Pair<'_, Rule>) -> DeviceAst {
        let span = Self::span(cx, &p);
        let mut inner = p.into_inner().filter(|p| p.as_rule() != Rule::k_device);
        let name = inner.next().map(|p| Self::ident(cx, p)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let mut items = Vec::new();
        for p in inner {
            self.device_item(cx, p, &mut items);
        }
        DeviceAst { name, span, items }
    }

    pub(super) fn device_item(&mut self, cx: Cx, p: Pair<'_, Rule>, items: &mut Vec<DeviceItem>) {
        let span = Self::span(cx, &p);
        let rule = p.as_rule();
        if rule == Rule::include {
            self.include(cx, p, IncludeContext::Device, Sink::Device(items));
            return;
        }
        if rule == Rule::recover_item {
            self.recover(cx, &p, Rule::only_device_item);
            return;
        }
        if rule == Rule::EOI {
            return;
        }
        let mut nums = Vec::new();
        let mut inner = Vec::new();
        for i in p.into_inner().filter(|i| !is_keyword(i.as_rule())) {
            if i.as_rule() == Rule::number {
                nums.push(self.number(cx, i));
            } else {
                inner.push(i);
            }
        }
        let num = |k: usize| nums.get(k).copied().unwrap_or(Num { value: 0, span });
        let item = match rule {
            Rule::description => {
                let Some(s) = inner.pop().and_then(|s| self.string(cx, s)) else {
                    return;
                };
                DeviceItem::Description(s)
            }
            Rule::id_item => DeviceItem::Id {
                vendor: num(0),
                device: num(1),
                span,
            },
            Rule::revision => DeviceItem::Revision(num(0)),
            Rule::class_item => DeviceItem::Class {
                base: num(0),
                sub: num(1),
                prog_if: num(2),
                span,
            },
            Rule::subsystem => DeviceItem::Subsystem {
                vendor: num(0),
                id: num(1),
                span,
            },
            Rule::dma_buffer => DeviceItem::DmaBuffer(num(0)),
            Rule::interrupt => DeviceItem::Interrupt(self.interrupt(cx, span, inner)),
            Rule::state => DeviceItem::State(self.state(cx, span, inner, nums)),
            Rule::hook => DeviceItem::Hook(self.hook(cx, span, inner)),
            Rule::bar => DeviceItem::Bar(self.bar(cx, span, inner, &nums)),
            Rule::config_block => DeviceItem::Config(self.config(cx, span, inner)),
            Rule::scenario => DeviceItem::Scenario(self.scenario(cx, span, inner)),
            Rule::timer => {
                let mut it = inner.into_iter();
                let (Some(n), Some(b)) = (it.next(), it.next()) else {
                    return;
                };
                DeviceItem::Timer(TimerAst {
                    name: Self::ident(cx, n),
                    on_fire: self.block(cx, b),
                    span,
                })
            }
            Rule::stream => DeviceItem::Stream(self.stream(cx, span, inner)),
            Rule::let_item => {
                let mut it = inner.into_iter();
                let (Some(n), Some(e)) = (it.next(), it.next()) else {
                    return;
                };
                let name = Self::ident(cx, n);
                let Some(value) = self.expr(cx, e) else {
                    self.malformed_names.push(name.name);
                    return;
                };
                DeviceItem::Let(LetAst { name, value, span })
            }
            Rule::fn_item => {
                let hook = self.hook(cx, span, inner.clone());
                let Some(body) = inner
                    .into_iter()
                    .find(|p| p.as_rule() == Rule::expr)
                    .and_then(|e| self.expr(cx, e))
                else {
                    self.malformed_names.push(hook.name.name);
                    return;
                };
                let Some(ret) = hook.ret else { return };
                DeviceItem::Fn(FnAst {
                    name: hook.name,
                    params: hook.params,
                    ret,
                    body,
                    span,
                })
            }
            _ => return,
        };
        items.push(item);
    }

    pub(super) fn stream(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> StreamAst {
        let mut st = StreamAst {
            name: Ident {
                name: String::new(),
                span,
            },
            ready: Vec::new(),
            on_input: Vec::new(),
            span,
        };
        for p in inner {
            let item_span = Self::span(cx, &p);
            match p.as_rule() {
                Rule::ident => st.name = Self::ident(cx, p),
                Rule::recover_item => self.recover(cx, &p, Rule::only_stream_item),
                Rule::ready_item => {
                    if let Some(e) = p
                        .into_inner()
                        .find(|i| i.as_rule() == Rule::expr)
                        .and_then(|e| self.expr(cx, e))
                    {
                        st.ready.push((e, item_span));
                    }
                }
                Rule::on_input => {
                    if let Some(b) = p.into_inner().find(|i| i.as_rule() == Rule::block) {
                        let stmts = self.block(cx, b);
                        st.on_input.push((stmts, item_span));
                    }
                }
                _ => {}
            }
        }
        st
    }

    pub(super) fn interrupt(
        &mut self,
        cx: Cx,
        span: Span,
        inner: Vec<Pair<'_, Rule>>,
    ) -> InterruptAst {
        let mut items = Vec::new();
        let mut malformed = false;
        for p in inner {
            let item_span = Self::span(cx, &p);
            let rule = p.as_rule();
            if rule == Rule::recover_item {
                self.recover(cx, &p, Rule::only_interrupt_item);
                malformed = true;
                continue;
            }
            let mut parts = p.into_inner().filter(|i| !is_keyword(i.as_rule()));
            let (Some(first), second, third) = (parts.next(), parts.next(), parts.next()) else {
                malformed = true;
                continue;
            };
            let item = match rule {
                Rule::pin_item => Some(InterruptItem::Pin(Self::ident(cx, first))),
                Rule::msi_item => Some(InterruptItem::Msi(self.number(cx, first))),
                Rule::msix_item => {
                    let mut nums = [first]
                        .into_iter()
                        .chain(second)
                        .chain(third)
                        .chain(parts)
                        .map(|n| self.number(cx, n));
                    match (
                        nums.next(),
                        nums.next(),
                        nums.next(),
                        nums.next(),
                        nums.next(),
                    ) {
                        (Some(vectors), Some(tb), Some(to), Some(pb), Some(po)) => {
                            Some(InterruptItem::Msix {
                                vectors,
                                table: (tb, to),
                                pba: (pb, po),
                            })
                        }
                        _ => None,
                    }
                }
                Rule::level_item => self.expr(cx, first).map(InterruptItem::Level),
                Rule::status_item => Some(InterruptItem::Status(Self::ident(cx, first))),
                Rule::mine_item => self.expr(cx, first).map(InterruptItem::Mine),
                Rule::ack_item => {
                    let register = Self::ident(cx, first);
                    let value = second.and_then(|e| self.expr(cx, e));
                    let when = match third {
                        Some(w) => self.expr(cx, w).map(Some),
                        None => Some(None),
                    };
                    match (value, when) {
                        (Some(value), Some(when)) => Some(InterruptItem::Ack {
                            register,
                            value,
                            when,
                        }),
                        _ => None,
                    }
                }
                _ => None,
            };
            match item {
                Some(item) => items.push((item, item_span)),
                // Reported by the expression parser (E0003 and friends).
                None => malformed = true,
            }
        }
        InterruptAst {
            span,
            items,
            malformed,
        }
    }

    pub(super) fn state(
        &mut self,
        cx: Cx,
        span: Span,
        inner: Vec<Pair<'_, Rule>>,
        nums: Vec<Num>,
    ) -> StateAst {
        let mut name = Ident {
            name: String::new(),
            span,
        };
        let mut ty = TypeAst::Scalar(ScalarType::U32, span);
        let mut reset = nums.first().copied();
        let mut init = None;
        let mut sticky = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident => name = Self::ident(cx, p),
                Rule::type_name => {
                    let tspan = Self::span(cx, &p);
                    if let Some(t) = p.into_inner().next() {
                        ty = match t.as_rule() {
                            Rule::fifo_type => {
                                let mut elem = ScalarType::U8;
                                let mut cap = Num {
                                    value: 0,
                                    span: tspan,
                                };
                                for i in t.into_inner() {
                                    match i.as_rule() {
                                        Rule::scalar_type => {
                                            elem = ScalarType::parse(i.as_str())
                                                .unwrap_or(ScalarType::U8)
                                        }
                                        Rule::number => cap = self.number(cx, i),
                                        _ => {}
                                    }
                                }
                                TypeAst::Fifo(elem, cap, tspan)
                            }
                            Rule::buffer_type => {
                                let n = t.into_inner().find(|i| i.as_rule() == Rule::number);
                                let n = n.map(|n| self.number(cx, n)).unwrap_or(Num {
                                    value: 0,
                                    span: tspan,
                                });
                                TypeAst::Buffer(n, tspan)
                            }
                            _ => TypeAst::Scalar(
                                ScalarType::parse(t.as_str()).unwrap_or(ScalarType::U32),
                                tspan,
                            ),
                        };
                    }
                }
                Rule::boolean => {
                    reset = Some(Num {
                        value: (p.as_str() == "true") as u64,
                        span: Self::span(cx, &p),
                    });
                }
                Rule::string => init = self.string(cx, p).map(BufferInit::Text),
                Rule::sticky => sticky = Some(Self::span(cx, &p)),
                Rule::byte_list => {
                    let span = Self::span(cx, &p);
                    let bytes = p.into_inner().map(|n| self.number(cx, n)).collect();
                    init = Some(BufferInit::Bytes { bytes, span });
                }
                Rule::strings_init => {
                    let ispan = Self::span(cx, &p);
                    let mut slot = Num {
                        value: 0,
                        span: ispan,
                    };
                    let mut strings = Vec::new();
                    for i in p.into_inner() {
                        match i.as_rule() {
                            Rule::number => slot = self.number(cx, i),
                            Rule::string => strings.extend(self.string(cx, i)),
                            _ => {}
                        }
                    }
                    init = Some(BufferInit::Strings {
                        slot,
                        strings,
                        span: ispan,
                    });
                }
                _ => {}
            }
        }
        StateAst {
            name,
            ty,
            reset,
            init,
            sticky,
            span,
        }
    }

    pub(super) fn hook(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> HookAst {
        let mut name = Ident {
            name: String::new(),
            span,
        };
        let mut params = Vec::new();
        let mut ret = None;
        for p in inner {
            match p.as_rule() {
                Rule::ident => name = Self::ident(cx, p),
                Rule::hook_params => {
                    for param in p.into_inner() {
                        let mut parts = param.into_inner();
                        if let (Some(n), Some(t)) = (parts.next(), parts.next()) {
                            let ty = ScalarType::parse(t.as_str()).unwrap_or(ScalarType::U64);
                            params.push((Self::ident(cx, n), ty));
                        }
                    }
                }
                Rule::scalar_type => {
                    let ty = ScalarType::parse(p.as_str()).unwrap_or(ScalarType::U64);
                    ret = Some((ty, Self::span(cx, &p)));
                }
                _ => {}
            }
        }
        HookAst {
            name,
            params,
            ret,
            span,
        }
    }
}
