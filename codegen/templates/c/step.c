{#-
  One scenario step of the C driver's probe self-test (`StepC`, computed in
  codegen/src/c_driver/steps.rs): `pcidevc_step(t, LINE, "TEXT");`, then the access, then a helper
  of pcidevc_selftest.h that passes, fails or skips the step (the log line). Every line starts with
  `ind` (the scenario function's tab, one more inside a `repeat` loop); c_driver.rs wraps the
  lines wider than 100 columns.

  A value `dma.addr + C` is `d->dma_addr + C`, first checked to fit the register
  (`pcidevc_fits`, which fails the step if it does not).
-#}
{%- import "c/items.c" as items %}
{{ ind }}pcidevc_step(t, {{ line }}, "{{ text }}");
{%- match action %}
{%- when ActionC::Read(at) %}
{{ ind }}(void){% call items::read(at) %}{% endcall %};
{{ ind }}pcidevc_pass(t);
{%- when ActionC::CfgRead { off, width } %}
{{ ind }}(void)pcidevc_cfg_read(d->pdev, {{ off }}, {{ width }});
{{ ind }}pcidevc_pass(t);
{%- when ActionC::Write { at, value } %}
{%- call items::write(at, value, ind) %}{% endcall %}
{{ ind }}pcidevc_pass(t);
{%- when ActionC::WriteFits { at, value, cast } %}
{{ ind }}if (pcidevc_fits(t, {{ value }}, {{ at.width * 8 }})) {
{%- call items::write(at, cast ~ "(" ~ value ~ ")", ind ~ "\t") %}{% endcall %}
{{ ind }}	pcidevc_pass(t);
{{ ind }}}
{%- when ActionC::CfgWrite { off, width, value } %}
{{ ind }}pcidevc_cfg_write(t, d->pdev, {{ off }}, {{ width }}, {{ value }});
{%- when ActionC::Check { ne, at, want, mask } %}
{{ ind }}pcidevc_check{% if ne %}_ne{% endif %}(t, {% call items::read(at) %}{% endcall %}, {{ want }}, {{ mask }});
{%- when ActionC::CfgCheck { ne, off, width, want, mask } %}
{{ ind }}pcidevc_check{% if ne %}_ne{% endif %}(t, pcidevc_cfg_read(d->pdev, {{ off }}, {{ width }}), {{ want }}, {{ mask }});
{%- when ActionC::Wait { at, want, mask } %}
{{ ind }}pcidevc_wait(t, {{ at.addr }}, {{ at.width }}, {{ want }}, {{ mask }});
{%- when ActionC::CfgWait { off, width, want, mask } %}
{{ ind }}pcidevc_cfg_wait(t, d->pdev, {{ off }}, {{ width }}, {{ want }}, {{ mask }});
{%- when ActionC::ExpectIrq %}
{{ ind }}pcidevc_expect_irq(t);
{%- when ActionC::ExpectNoIrq %}
{{ ind }}pcidevc_expect_no_irq(t);
{%- when ActionC::ExpectMsi(v) %}
{{ ind }}pcidevc_expect_msi(t, &d->vec[{{ v }}].irqs, &d->vec[{{ v }}].consumed, {{ v }});
{%- when ActionC::Dma { fill, size, start, end, data } %}
{{ ind }}pcidevc_{% if fill %}fill{% else %}expect{% endif %}_dma(t, d->dma, {{ size }}, {{ start }}, {{ end }}, {{ data }});
{%- when ActionC::Advance(us) %}
{{ ind }}pcidevc_advance(t, {{ us }}ULL);
{%- when ActionC::Skip(why) %}
{{ ind }}pcidevc_skip(t, "{{ why }}");
{%- endmatch %}
