{#-
  A step's code as one short statement (or an access and `t.pass();`), without indentation, one
  per line: codegen/src/driver/steps.rs keeps it when every line fits in `INLINE_WIDTH`, else the
  step is written in the longer form of `step.rs` (which binds the parts first). Nothing for a
  value relative to the DMA buffer, which always takes the longer form.
-#}
{%- match action %}
{%- when Action::Read { reg, fallible: false } %}
let _ = io{{ reg.bar }}.read({{ reg }});
t.pass();
{%- when Action::Read { reg, fallible: true } %}
t.done(io{{ reg.bar }}.try_read({{ reg }}));
{%- when Action::ReadRaw(raw) %}
t.done({{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }}));
{%- when Action::Write { reg, value, fallible } %}
{%- if value.dma_plus.is_none() %}
{%- if fallible %}
{%- if reg.index.is_some() %}
t.done(io{{ reg.bar }}.try_write({{ reg }}, {{ reg.ty() }}::from_raw({{ value.constant }})));
{%- else %}
t.done(io{{ reg.bar }}.try_write_reg({{ reg.ty() }}::from_raw({{ value.constant }})));
{%- endif %}
{%- else %}
{%- if reg.index.is_some() %}
io{{ reg.bar }}.write({{ reg }}, {{ reg.ty() }}::from_raw({{ value.constant }}));
{%- else %}
io{{ reg.bar }}.write_reg({{ reg.ty() }}::from_raw({{ value.constant }}));
{%- endif %}
t.pass();
{%- endif %}
{%- endif %}
{%- when Action::WriteRaw { raw, value } %}
{%- if value.dma_plus.is_none() %}
t.done({{ raw.io }}.try_write{{ raw.bits }}({{ value.constant }}, {{ raw.offset }}));
{%- endif %}
{%- when Action::Expect { reg, fallible, want, mask, ne } %}
{%- if want.dma_plus.is_none() %}
{%- if fallible %}
t.check_reg{% if ne %}_ne{% endif %}(io{{ reg.bar }}.try_read({{ reg }}), {{ want.constant }}, {{ mask }});
{%- else %}
t.check_reg{% if ne %}_ne{% endif %}(Ok(io{{ reg.bar }}.read({{ reg }})), {{ want.constant }}, {{ mask }});
{%- endif %}
{%- endif %}
{%- when Action::ExpectRaw { raw, want, mask, ne } %}
{%- if want.dma_plus.is_none() %}
t.check{% if ne %}_ne{% endif %}({{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }}), {{ want.constant }}, {{ mask }});
{%- endif %}
{%- when Action::Wait { reg, want, mask } %}
{%- if want.dma_plus.is_none() %}
t.wait_reg(|| io{{ reg.bar }}.try_read({{ reg }}), {{ want.constant }}, {{ mask }});
{%- endif %}
{%- when Action::WaitRaw { raw, want, mask } %}
{%- if want.dma_plus.is_none() %}
t.wait(|| {{ raw.io }}.try_read{{ raw.bits }}({{ raw.offset }}), {{ want.constant }}, {{ mask }});
{%- endif %}
{%- when Action::ExpectDma { start, end, data } %}
t.expect_dma(&self.dma, {{ start }}, {{ end }}, DmaContents::{{ data.variant }}({{ data.arg }}));
{%- when Action::FillDma { start, end, data } %}
t.fill_dma(&self.dma, {{ start }}, {{ end }}, DmaContents::{{ data.variant }}({{ data.arg }}));
{%- when _ %}
{%- endmatch %}
