{#-
  One scenario step of the probe self-test: `t.step(LINE, "TEXT");`, then the access, then one
  check of the `Tally` (support file selftest.rs) that passes or fails the step and logs it.
  `ioN` is `&self.bars.barN`; `step.action` is computed in codegen/src/driver/steps.rs.

  A value `dma.addr + C` is the bus address of the DMA buffer plus C (`self.dma_plus(C)`): bound
  to `want` before a check, or converted with `t.fits(..)` before a write (which fails the step if
  the address does not fit the register).
-#}
{%- macro step(s) %}
{%- if s.one_line %}
        t.step({{ s.line }}, {{ s.text }});
{%- else %}
        t.step(
            {{ s.line }},
            {{ s.text }},
        );
{%- endif %}
{%- match s.action %}
{%- when Action::Read { reg, fallible: false } %}
        let _ = io{{ reg.bar }}.read({{ reg }});
        t.pass();
{%- when Action::Read { reg, fallible: true } %}
        let got = io{{ reg.bar }}.try_read({{ reg }});
        t.done(got);
{%- when Action::ReadRaw(raw) %}
        let got = {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }});
        t.done(got);
{%- when Action::Write { reg, value, fallible } %}
{%- if let Some(offset) = value.dma_plus %}
        if let Some(raw) = t.fits(self.dma_plus({{ offset }})) {
{%- call reg_write(reg, "raw", fallible, "    ") %}{% endcall %}
        }
{%- else %}
{%- call reg_write(reg, value.constant, fallible, "") %}{% endcall %}
{%- endif %}
{%- when Action::WriteRaw { raw, value } %}
{%- if let Some(offset) = value.dma_plus %}
        if let Some(raw) = t.fits(self.dma_plus({{ offset }})) {
            let done = {{ raw.io }}.try_write{{ raw.bits }}(raw, {{ raw.offset }});
            t.done(done);
        }
{%- else %}
        let done = {{ raw.io }}.try_write{{ raw.bits }}({{ value.constant }}, {{ raw.offset }});
        t.done(done);
{%- endif %}
{%- when Action::Expect { reg, fallible, want, mask, ne } %}
{%- call want_binding(want) %}{% endcall %}
{%- if fallible %}
        let got = io{{ reg.bar }}.try_read({{ reg }});
        t.check_reg{% if ne %}_ne{% endif %}(got, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- else %}
        let got = io{{ reg.bar }}.read({{ reg }});
        t.check_reg{% if ne %}_ne{% endif %}(Ok(got), {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- endif %}
{%- when Action::ExpectRaw { raw, want, mask, ne } %}
{%- call want_binding(want) %}{% endcall %}
        let got = {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }});
        t.check{% if ne %}_ne{% endif %}(got, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- when Action::Advance(us) %}
        t.advance({{ us }});
{%- when Action::Wait { reg, want, mask } %}
{%- call want_binding(want) %}{% endcall %}
        let read = || io{{ reg.bar }}.try_read({{ reg }});
        t.wait_reg(read, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- when Action::WaitRaw { raw, want, mask } %}
{%- call want_binding(want) %}{% endcall %}
        let read = || {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }});
        t.wait(read, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- when Action::ExpectIrq %}
        t.expect_irq(|| self.irq_count());
{%- when Action::ExpectNoIrq %}
        t.expect_no_irq(|| self.irq_count());
{%- when Action::ExpectMsi(vector) %}
        self.expect_msi(t, {{ vector }});
{%- when Action::ExpectDma { start, end, data } %}
        let data = DmaContents::{{ data.variant }}({{ data.arg }});
        t.expect_dma(&self.dma, {{ start }}, {{ end }}, data);
{%- when Action::FillDma { start, end, data } %}
        let data = DmaContents::{{ data.variant }}({{ data.arg }});
        t.fill_dma(&self.dma, {{ start }}, {{ end }}, data);
{%- when Action::Skip(why) %}
        t.skip({{ why }});
{%- endmatch %}
{%- endmacro %}

{#- Writes `value` to register `reg`, `indent` deeper than the step. #}
{%- macro reg_write(reg, value, fallible, indent) %}
{{ indent }}        let v = {{ reg.ty() }}::from_raw({{ value }});
{%- if fallible %}
{%- if reg.index.is_some() %}
{{ indent }}        let done = io{{ reg.bar }}.try_write({{ reg }}, v);
{%- else %}
{{ indent }}        let done = io{{ reg.bar }}.try_write_reg(v);
{%- endif %}
{{ indent }}        t.done(done);
{%- else %}
{%- if reg.index.is_some() %}
{{ indent }}        io{{ reg.bar }}.write({{ reg }}, v);
{%- else %}
{{ indent }}        io{{ reg.bar }}.write_reg(v);
{%- endif %}
{{ indent }}        t.pass();
{%- endif %}
{%- endmacro %}

{#- `let want = ...;` for a value relative to the DMA buffer. #}
{%- macro want_binding(want) %}
{%- if let Some(offset) = want.dma_plus %}
        let want = self.dma_plus({{ offset }});
{%- endif %}
{%- endmacro %}

{#- The expected value as an argument. #}
{%- macro want_arg(want) %}
{%- if want.dma_plus.is_some() %}want{% else %}{{ want.constant }}{% endif %}
{%- endmacro %}
