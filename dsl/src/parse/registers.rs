//! BARs, configuration space, registers and fields.

use super::*;

impl ParseSession<'_> {
    pub(super) fn bar(
        &mut self,
        cx: Cx,
        span: Span,
        inner: Vec<Pair<'_, Rule>>,
        nums: &[Num],
    ) -> BarAst {
        let zero = Num { value: 0, span };
        let mut bar = BarAst {
            index: nums.first().copied().unwrap_or(zero),
            kind: BarKindAst::Mem32,
            kind_span: span,
            prefetchable: None,
            size: nums.get(1).copied().unwrap_or(zero),
            access: Vec::new(),
            invalid: Vec::new(),
            unmapped: Vec::new(),
            registers: Vec::new(),
            windows: Vec::new(),
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::bar_kind => {
                    bar.kind_span = Self::span(cx, &p);
                    bar.kind = match p.as_str() {
                        "io" => BarKindAst::Io,
                        "mem64" => BarKindAst::Mem64,
                        _ => BarKindAst::Mem32,
                    };
                }
                Rule::prefetchable => bar.prefetchable = Some(Self::span(cx, &p)),
                _ => self.bar_item(cx, p, &mut bar),
            }
        }
        bar
    }

    pub(super) fn bar_item(&mut self, cx: Cx, p: Pair<'_, Rule>, bar: &mut BarAst) {
        let span = Self::span(cx, &p);
        match p.as_rule() {
            Rule::access_item => {
                let mut sizes = Vec::new();
                let mut unaligned = false;
                for i in p.into_inner() {
                    match i.as_rule() {
                        Rule::number => sizes.push(self.number(cx, i)),
                        Rule::unaligned => unaligned = true,
                        _ => {}
                    }
                }
                bar.access.push(AccessAst {
                    sizes,
                    unaligned,
                    span,
                });
            }
            Rule::invalid_item => {
                if let Some(k) = p.into_inner().find(|i| i.as_rule() == Rule::invalid_kind) {
                    let kind = match k.as_str() {
                        "ones" => InvalidKindAst::Ones,
                        "error" => InvalidKindAst::Error,
                        _ => InvalidKindAst::Ignore,
                    };
                    bar.invalid.push((kind, span));
                }
            }
            Rule::unmapped_item => {
                let ones = p
                    .into_inner()
                    .any(|i| i.as_rule() == Rule::unmapped_kind && i.as_str() == "ones");
                bar.unmapped.push((ones, span));
            }
            Rule::register => {
                let r = self.register(cx, p);
                bar.registers.push(r);
            }
            Rule::window_item => {
                let mut state = None;
                let mut offset = None;
                let mut writable = (true, None);
                for i in p.into_inner() {
                    match i.as_rule() {
                        Rule::ident => state = Some(Self::ident(cx, i)),
                        Rule::number => offset = Some(self.number(cx, i)),
                        Rule::window_access => {
                            writable = (i.as_str() == "rw", Some(Self::span(cx, &i)));
                        }
                        _ => {}
                    }
                }
                if let (Some(state), Some(offset)) = (state, offset) {
                    bar.windows.push(WindowAst {
                        state,
                        offset,
                        writable,
                        span,
                    });
                }
            }
            Rule::include => self.include(cx, p, IncludeContext::Bar, Sink::Bar(bar)),
            Rule::recover_item => self.recover(cx, &p, Rule::only_bar_item),
            _ => {}
        }
    }

    pub(super) fn config(&mut self, cx: Cx, span: Span, inner: Vec<Pair<'_, Rule>>) -> ConfigAst {
        let mut config = ConfigAst {
            registers: Vec::new(),
            capabilities: Vec::new(),
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::register => {
                    let r = self.register(cx, p);
                    config.registers.push(r);
                }
                Rule::capability => {
                    let cspan = Self::span(cx, &p);
                    let zero = Num {
                        value: 0,
                        span: cspan,
                    };
                    let mut cap = CapabilityAst {
                        kind: (String::new(), cspan),
                        offset: zero,
                        size: zero,
                        registers: Vec::new(),
                        span: cspan,
                    };
                    let mut nums = 0;
                    for i in p.into_inner() {
                        match i.as_rule() {
                            Rule::cap_kind => {
                                cap.kind = (i.as_str().to_owned(), Self::span(cx, &i));
                            }
                            Rule::number => {
                                let n = self.number(cx, i);
                                if nums == 0 {
                                    cap.offset = n;
                                } else {
                                    cap.size = n;
                                }
                                nums += 1;
                            }
                            Rule::register => {
                                let r = self.register(cx, i);
                                cap.registers.push(r);
                            }
                            Rule::recover_item => self.recover(cx, &i, Rule::only_cap_item),
                            _ => {}
                        }
                    }
                    config.capabilities.push(cap);
                }
                Rule::recover_item => self.recover(cx, &p, Rule::only_config_item),
                _ => {}
            }
        }
        config
    }

    pub(super) fn register(&mut self, cx: Cx, p: Pair<'_, Rule>) -> RegisterAst {
        let span = Self::span(cx, &p);
        let zero = Num { value: 0, span };
        let mut reg = RegisterAst {
            name: Ident {
                name: String::new(),
                span,
            },
            count: None,
            offset: zero,
            width: (ScalarType::U32, span),
            access: None,
            reset: None,
            fields: Vec::new(),
            access_sizes: Vec::new(),
            read: Vec::new(),
            on_read: Vec::new(),
            on_write: Vec::new(),
            span,
        };
        let mut seen_offset = false;
        for i in p.into_inner() {
            let ispan = Self::span(cx, &i);
            match i.as_rule() {
                Rule::ident => reg.name = Self::ident(cx, i),
                Rule::array_len => {
                    if let Some(n) = i.into_inner().next() {
                        reg.count = Some(self.number(cx, n));
                    }
                }
                Rule::access_item => {
                    let mut sizes = Vec::new();
                    let mut unaligned = false;
                    for x in i.into_inner() {
                        match x.as_rule() {
                            Rule::number => sizes.push(self.number(cx, x)),
                            Rule::unaligned => unaligned = true,
                            _ => {}
                        }
                    }
                    reg.access_sizes.push(AccessAst {
                        sizes,
                        unaligned,
                        span: ispan,
                    });
                }
                Rule::number if !seen_offset => {
                    reg.offset = self.number(cx, i);
                    seen_offset = true;
                }
                Rule::number => reg.reset = Some(self.number(cx, i)),
                Rule::scalar_type => {
                    reg.width = (
                        ScalarType::parse(i.as_str()).unwrap_or(ScalarType::U32),
                        ispan,
                    )
                }
                Rule::access_kind => reg.access = AccessKind::parse(i.as_str()).map(|a| (a, ispan)),
                Rule::field => {
                    let f = self.field(cx, i);
                    reg.fields.push(f);
                }
                Rule::read_item => {
                    if let Some(e) = i
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::expr)
                        .and_then(|e| self.expr(cx, e))
                    {
                        reg.read.push((e, ispan));
                    }
                }
                Rule::on_read | Rule::on_write => {
                    let is_read = i.as_rule() == Rule::on_read;
                    let block = i.into_inner().find(|x| x.as_rule() == Rule::block);
                    let stmts = block.map(|b| self.block(cx, b)).unwrap_or_default();
                    if is_read {
                        reg.on_read.push((stmts, ispan));
                    } else {
                        reg.on_write.push((stmts, ispan));
                    }
                }
                Rule::recover_item => self.recover(cx, &i, Rule::only_reg_item),
                _ => {}
            }
        }
        reg
    }

    pub(super) fn field(&mut self, cx: Cx, p: Pair<'_, Rule>) -> FieldAst {
        let span = Self::span(cx, &p);
        let zero = Num { value: 0, span };
        let mut f = FieldAst {
            name: Ident {
                name: String::new(),
                span,
            },
            hi: zero,
            lo: zero,
            bits_span: span,
            access: (AccessKind::Rw, span),
            reset: None,
            variants: Vec::new(),
            span,
        };
        for i in p.into_inner() {
            let ispan = Self::span(cx, &i);
            match i.as_rule() {
                Rule::ident => f.name = Self::ident(cx, i),
                Rule::bits => {
                    f.bits_span = ispan;
                    let nums: Vec<Num> = i.into_inner().map(|n| self.number(cx, n)).collect();
                    f.hi = nums.first().copied().unwrap_or(zero);
                    f.lo = nums.get(1).copied().unwrap_or(f.hi);
                }
                Rule::access_kind => {
                    f.access = (
                        AccessKind::parse(i.as_str()).unwrap_or(AccessKind::Rw),
                        ispan,
                    )
                }
                Rule::number => f.reset = Some(self.number(cx, i)),
                Rule::enum_variants => {
                    for v in i.into_inner() {
                        let mut parts = v.into_inner();
                        if let (Some(n), Some(val)) = (parts.next(), parts.next()) {
                            let name = Self::ident(cx, n);
                            let value = self.number(cx, val);
                            f.variants.push((name, value));
                        }
                    }
                }
                _ => {}
            }
        }
        f
    }
}
