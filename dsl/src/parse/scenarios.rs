//! Scenarios: steps, locations and byte data.

use super::*;

impl ParseSession<'_> {
    pub(super) fn scenario(
        &mut self,
        cx: Cx,
        span: Span,
        inner: Vec<Pair<'_, Rule>>,
    ) -> ScenarioAst {
        let mut sc = ScenarioAst {
            name: Ident {
                name: String::new(),
                span,
            },
            description: None,
            steps: Vec::new(),
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::ident => sc.name = Self::ident(cx, p),
                Rule::string => sc.description = self.string(cx, p),
                Rule::recover_stmt => self.recover(cx, &p, Rule::only_step),
                _ => {
                    if let Some(s) = self.step(cx, p) {
                        sc.steps.push(s);
                    }
                }
            }
        }
        sc
    }

    pub(super) fn location(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Location> {
        let l = p.into_inner().next()?;
        if l.as_rule() == Rule::ident {
            return Some(Location::Register(Self::ident(cx, l)));
        }
        self.raw_location(cx, l)
    }

    /// `bar N @ OFF : W` or `config @ OFF : W`.
    pub(super) fn raw_location(&mut self, cx: Cx, l: Pair<'_, Rule>) -> Option<Location> {
        let span = Self::span(cx, &l);
        let mut config = false;
        let mut nums = Vec::new();
        let mut width = (ScalarType::U32, span);
        for i in l.into_inner() {
            match i.as_rule() {
                Rule::config_kw => config = true,
                Rule::number => nums.push(self.number(cx, i)),
                Rule::scalar_type => {
                    width = (
                        ScalarType::parse(i.as_str()).unwrap_or(ScalarType::U32),
                        Self::span(cx, &i),
                    )
                }
                _ => {}
            }
        }
        let (bar, offset) = if config {
            (None, *nums.first()?)
        } else {
            (Some(*nums.first()?), *nums.get(1)?)
        };
        Some(Location::Raw {
            bar,
            offset,
            width,
            span,
        })
    }

    pub(super) fn dma_range(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<(Expr, Expr)> {
        let mut it = p.into_inner().filter(|i| i.as_rule() == Rule::expr);
        let a = it.next()?;
        let b = it.next()?;
        Some((self.expr(cx, a)?, self.expr(cx, b)?))
    }

    pub(super) fn step(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Step> {
        let span = Self::span(cx, &p);
        let rule = p.as_rule();
        let mut inner: Vec<Pair<'_, Rule>> = p
            .into_inner()
            .filter(|i| !is_keyword(i.as_rule()))
            .collect();
        if inner.is_empty() && !matches!(rule, Rule::expect_irq | Rule::repeat_step) {
            return None;
        }
        let kind = match rule {
            Rule::expect_irq => StepKind::ExpectIrq {
                asserted: !inner.iter().any(|i| i.as_rule() == Rule::no_kw),
            },
            Rule::expect_msi => StepKind::ExpectMsi {
                vector: self.number(cx, inner.remove(0)),
            },
            Rule::expect_dma | Rule::fill_step => {
                let (start, end) = self.dma_range(cx, inner.remove(0))?;
                let source = self.source(cx, inner.pop()?)?;
                if rule == Rule::expect_dma {
                    StepKind::ExpectDma { start, end, source }
                } else {
                    StepKind::Fill { start, end, source }
                }
            }
            Rule::expect_step | Rule::wait_step => {
                let location = self.probe_location(cx, inner.remove(0))?;
                let not_equal = match inner.first() {
                    Some(c) if c.as_rule() == Rule::cmp_op => inner.remove(0).as_str() == "!=",
                    _ => false,
                };
                let value = self.expr(cx, inner.remove(0))?;
                let mask = match inner.pop() {
                    Some(m) => Some(self.expr(cx, m)?),
                    None => None,
                };
                if rule == Rule::expect_step {
                    StepKind::Expect {
                        location,
                        not_equal,
                        value,
                        mask,
                    }
                } else {
                    StepKind::Wait {
                        location,
                        value,
                        mask,
                    }
                }
            }
            Rule::write_step => {
                let location = self.location(cx, inner.remove(0))?;
                let value = self.expr(cx, inner.remove(0))?;
                StepKind::Write { location, value }
            }
            Rule::read_step => StepKind::Read {
                location: self.location(cx, inner.remove(0))?,
            },
            Rule::invalid_step => {
                let op = inner.remove(0);
                let is_write = op.as_rule() == Rule::invalid_write;
                let mut parts: Vec<Pair<'_, Rule>> = op
                    .into_inner()
                    .filter(|i| !is_keyword(i.as_rule()))
                    .collect();
                let location = self.location(cx, parts.remove(0))?;
                if is_write {
                    let value = self.expr(cx, parts.pop()?)?;
                    StepKind::InvalidWrite { location, value }
                } else {
                    StepKind::InvalidRead { location }
                }
            }
            Rule::repeat_step => {
                let count = self.expr(cx, inner.remove(0))?;
                let mut body = Vec::new();
                for p in inner {
                    if p.as_rule() == Rule::recover_stmt {
                        self.recover(cx, &p, Rule::only_step);
                    } else if let Some(s) = self.step(cx, p) {
                        body.push(s);
                    }
                }
                StepKind::Repeat { count, body }
            }
            Rule::advance_step => {
                let amount = self.expr(cx, inner.remove(0))?;
                let unit = TimeUnit::parse(inner.first()?.as_str())?;
                StepKind::Advance { amount, unit }
            }
            Rule::input_step | Rule::expect_output => {
                let stream = Self::ident(cx, inner.remove(0));
                let data = self.byte_data(cx, inner.remove(0))?;
                if rule == Rule::input_step {
                    StepKind::Input { stream, data }
                } else {
                    StepKind::ExpectOutput { stream, data }
                }
            }
            Rule::expect_vmm => StepKind::ExpectVmm(Self::ident(cx, inner.remove(0))),
            _ => return None,
        };
        Some(Step { kind, span })
    }

    pub(super) fn probe_location(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<ProbeLocation> {
        let mut inner = p.into_inner();
        let first = inner.next()?;
        if first.as_rule() == Rule::raw_location {
            return self.raw_location(cx, first).map(ProbeLocation::Location);
        }
        let name = Self::ident(cx, first);
        let property = inner
            .next()
            .and_then(|f| f.into_inner().next())
            .map(|i| Self::ident(cx, i));
        Some(ProbeLocation::Named { name, property })
    }

    pub(super) fn byte_data(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<ByteData> {
        let span = Self::span(cx, &p);
        let mut exprs = Vec::new();
        for i in p.into_inner() {
            match i.as_rule() {
                Rule::string => return self.string(cx, i).map(ByteData::Text),
                Rule::expr => exprs.push(self.expr(cx, i)?),
                _ => {}
            }
        }
        Some(ByteData::List(exprs, span))
    }
}
