{#-
  One scenario step of the probe self-test, `ind` deeper than a statement of the scenario method:
  `t.step(LINE, "TEXT");`, then the access, then one check of the `Tally` (support file
  selftest.rs) that passes or fails the step and logs it. `ioN` is `&self.bars.barN`;
  `step.action` is computed in codegen/src/driver/steps.rs. A short step is its `inline` lines
  (shapes in inline_step.rs); the longer forms below bind the parts first.

  A value `dma.addr + C` is the bus address of the DMA buffer plus C (`self.dma_plus(C)`): bound
  to `want` before a check, or converted with `t.fits(..)` before a write (which fails the step if
  the address does not fit the register).
-#}
{#-
  The body of a scenario method: `ioN` / `cfg` bindings, then the steps of one part
  (`PartView`), a top-level `repeat` as a `for` loop.
-#}
{%- macro part(p) %}
{%- for b in p.bars %}
        let io{{ b }} = &self.bars.bar{{ b }};
{%- endfor %}
{%- if p.config %}
        let cfg = self.pdev.config_space();
{%- endif %}
{%- for b in p.blocks %}
{%- if let Some(n) = b.repeat %}
{# #}
        for _ in 0..{{ n }} {
{%- for st in b.steps %}
{%- if !loop.first %}
{# #}
{%- endif %}
{%- call step(st, "    ") %}{% endcall %}
{%- endfor %}
        }
{%- else %}
{%- for st in b.steps %}
{# #}
{%- call step(st, "") %}{% endcall %}
{%- endfor %}
{%- endif %}
{%- endfor %}
{%- endmacro %}

{%- macro step(s, ind) %}
{%- if s.one_line %}
{{ ind }}        t.step({{ s.line }}, {{ s.text }});
{%- else %}
{{ ind }}        t.step(
{{ ind }}            {{ s.line }},
{{ ind }}            {{ s.text }},
{{ ind }}        );
{%- endif %}
{%- if !s.inline.is_empty() %}
{%- for l in s.inline %}
{{ ind }}        {{ l }}
{%- endfor %}
{%- else %}
{%- match s.action %}
{%- when Action::Read { reg, fallible: false } %}
{{ ind }}        let _ = io{{ reg.bar }}.read({{ reg }});
{{ ind }}        t.pass();
{%- when Action::Read { reg, fallible: true } %}
{{ ind }}        let got = io{{ reg.bar }}.try_read({{ reg }});
{{ ind }}        t.done(got);
{%- when Action::ReadRaw(raw) %}
{{ ind }}        let got = {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }});
{{ ind }}        t.done(got);
{%- when Action::Write { reg, value, fallible } %}
{%- if let Some(offset) = value.dma_plus %}
{{ ind }}        if let Some(raw) = t.fits(self.dma_plus({{ offset }})) {
{%- call reg_write(reg, "raw", fallible, ind, "    ") %}{% endcall %}
{{ ind }}        }
{%- else %}
{%- call reg_write(reg, value.constant, fallible, ind, "") %}{% endcall %}
{%- endif %}
{%- when Action::WriteRaw { raw, value } %}
{%- if let Some(offset) = value.dma_plus %}
{{ ind }}        if let Some(raw) = t.fits(self.dma_plus({{ offset }})) {
{{ ind }}            let done = {{ raw.io }}.try_write{{ raw.bits }}(raw, {{ raw.offset }});
{{ ind }}            t.done(done);
{{ ind }}        }
{%- else %}
{{ ind }}        let done = {{ raw.io }}.try_write{{ raw.bits }}({{ value.constant }}, {{ raw.offset }});
{{ ind }}        t.done(done);
{%- endif %}
{%- when Action::Expect { reg, fallible, want, mask, ne } %}
{%- call want_binding(want, ind) %}{% endcall %}
{%- if fallible %}
{{ ind }}        let got = io{{ reg.bar }}.try_read({{ reg }});
{{ ind }}        t.check_reg{% if ne %}_ne{% endif %}(got, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- else %}
{{ ind }}        let got = io{{ reg.bar }}.read({{ reg }});
{{ ind }}        t.check_reg{% if ne %}_ne{% endif %}(Ok(got), {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- endif %}
{%- when Action::ExpectRaw { raw, want, mask, ne } %}
{%- call want_binding(want, ind) %}{% endcall %}
{{ ind }}        let got = {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }});
{{ ind }}        t.check{% if ne %}_ne{% endif %}(got, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- when Action::Advance(us) %}
{{ ind }}        t.advance({{ us }});
{%- when Action::Wait { reg, want, mask } %}
{%- call want_binding(want, ind) %}{% endcall %}
{{ ind }}        let read = || io{{ reg.bar }}.try_read({{ reg }});
{{ ind }}        t.wait_reg(read, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- when Action::WaitRaw { raw, want, mask } %}
{%- call want_binding(want, ind) %}{% endcall %}
{{ ind }}        let read = || {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }});
{{ ind }}        t.wait(read, {% call want_arg(want) %}{% endcall %}, {{ mask }});
{%- when Action::ExpectIrq %}
{{ ind }}        t.expect_irq(|| self.irq_count());
{%- when Action::ExpectNoIrq %}
{{ ind }}        t.expect_no_irq(|| self.irq_count());
{%- when Action::ExpectMsi(vector) %}
{{ ind }}        self.expect_msi(t, {{ vector }});
{%- when Action::ExpectDma { start, end, data } %}
{{ ind }}        let data = DmaContents::{{ data.variant }}({{ data.arg }});
{{ ind }}        t.expect_dma(&self.dma, {{ start }}, {{ end }}, data);
{%- when Action::FillDma { start, end, data } %}
{{ ind }}        let data = DmaContents::{{ data.variant }}({{ data.arg }});
{{ ind }}        t.fill_dma(&self.dma, {{ start }}, {{ end }}, data);
{%- when Action::Skip(why) %}
{{ ind }}        t.skip({{ why }});
{%- endmatch %}
{%- endif %}
{%- endmacro %}

{#- Writes `value` to register `reg`, `indent` deeper than the step. #}
{%- macro reg_write(reg, value, fallible, ind, indent) %}
{{ ind }}{{ indent }}        let v = {{ reg.ty() }}::from_raw({{ value }});
{%- if fallible %}
{%- if reg.index.is_some() %}
{{ ind }}{{ indent }}        let done = io{{ reg.bar }}.try_write({{ reg }}, v);
{%- else %}
{{ ind }}{{ indent }}        let done = io{{ reg.bar }}.try_write_reg(v);
{%- endif %}
{{ ind }}{{ indent }}        t.done(done);
{%- else %}
{%- if reg.index.is_some() %}
{{ ind }}{{ indent }}        io{{ reg.bar }}.write({{ reg }}, v);
{%- else %}
{{ ind }}{{ indent }}        io{{ reg.bar }}.write_reg(v);
{%- endif %}
{{ ind }}{{ indent }}        t.pass();
{%- endif %}
{%- endmacro %}

{#- `let want = ...;` for a value relative to the DMA buffer. #}
{%- macro want_binding(want, ind) %}
{%- if let Some(offset) = want.dma_plus %}
{{ ind }}        let want = self.dma_plus({{ offset }});
{%- endif %}
{%- endmacro %}

{#- The expected value as an argument. #}
{%- macro want_arg(want) %}
{%- if want.dma_plus.is_some() %}want{% else %}{{ want.constant }}{% endif %}
{%- endmacro %}
