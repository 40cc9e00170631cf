{#-
  Shapes of the C driver shared by the interrupt handler and the self-test steps, as macros (this
  file renders nothing itself). Every statement is written on one line, `ind` (tabs) first;
  codegen/src/c_driver.rs then wraps a line wider than 100 columns at its call's arguments
  (`wrap_calls`), as checkpatch wants.

  `at` is an `At`: an address expression (`d->barN + OFFSET`), the access width in bytes and
  whether the BAR is port I/O. 8-byte accesses use `readq`/`writeq` on memory and two 4-byte
  accesses on port I/O (which has no 8-byte accesses).
-#}

{#- A read of `at`, as an expression. #}
{%- macro read(at) -%}
{%- if at.width == 1 -%}
ioread8({{ at.addr }})
{%- else if at.width == 2 -%}
ioread16({{ at.addr }})
{%- else if at.width == 4 -%}
ioread32({{ at.addr }})
{%- else if !at.io -%}
readq({{ at.addr }})
{%- else -%}
ioread32({{ at.addr }}) | (u64)ioread32({{ at.addr }} + 4) << 32
{%- endif -%}
{%- endmacro %}

{#- The statement(s) writing `value` to `at`. #}
{%- macro write(at, value, ind) %}
{%- if at.width == 1 %}
{{ ind }}iowrite8({{ value }}, {{ at.addr }});
{%- else if at.width == 2 %}
{{ ind }}iowrite16({{ value }}, {{ at.addr }});
{%- else if at.width == 4 %}
{{ ind }}iowrite32({{ value }}, {{ at.addr }});
{%- else if !at.io %}
{{ ind }}writeq({{ value }}, {{ at.addr }});
{%- else %}
{{ ind }}iowrite32(lower_32_bits({{ value }}), {{ at.addr }});
{{ ind }}iowrite32(upper_32_bits({{ value }}), {{ at.addr }} + 4);
{%- endif %}
{%- endmacro %}

{#-
  The interrupt handler's body before the count (`HandlerC`, the protocol of
  `ir::Interrupt::handler_reads`): read the registers the `mine` test needs into `rN` locals,
  `IRQ_NONE` when it is 0 (a message-signalled vector of a multi-vector driver is never shared, so
  it stays ours), read the registers only the acks need, write each ack whose `when` holds.
-#}
{%- macro handler(h) %}
{%- if let Some(decl) = h.decl %}
	u64 {{ decl }};
{# #}
{%- endif %}
{%- for r in h.first %}
	/* `{{ r.var }}`: `{{ r.name }}`, {{ r.why }}. */
	{{ r.var }} = {% call read(r.at) %}{% endcall %};
{%- if r.unused %}
	(void){{ r.var }};
{%- endif %}
{%- endfor %}
{%- if let Some(m) = h.mine %}
	/* The spec's `mine {{ m.prose }}`: otherwise another device's interrupt. */
{%- if h.multi %}
	if (!({{ m.test }})) {
		if (!v->exclusive)
			return IRQ_NONE;
		/* A message-signalled vector is ours even when the test says otherwise. */
	} else {
{%- call after_mine(h, "\t\t") %}{% endcall %}
	}
{%- else %}
	if (!({{ m.test }}))
		return IRQ_NONE;
{%- call after_mine(h, "\t") %}{% endcall %}
{%- endif %}
{%- else %}
	/* The spec gives no `status`/`mine` test: every interrupt is ours. */
{%- call after_mine(h, "\t") %}{% endcall %}
{%- endif %}
{%- endmacro %}

{#- What the handler does once the interrupt is known to be ours, at `ind`. #}
{%- macro after_mine(h, ind) %}
{%- for r in h.then %}
{{ ind }}/* `{{ r.var }}`: `{{ r.name }}`, read once (the interrupt is ours), for the acks. */
{{ ind }}{{ r.var }} = {% call read(r.at) %}{% endcall %};
{%- endfor %}
{%- for a in h.acks %}
{{ ind }}/* The spec's `ack {{ a.text }}`. */
{%- if let Some(when) = a.when %}
{{ ind }}if ({{ when }})
{%- call write(a.at, a.value, ind ~ "\t") %}{% endcall %}
{%- else %}
{%- call write(a.at, a.value, ind) %}{% endcall %}
{%- endif %}
{%- endfor %}
{%- if h.acks.is_empty() && h.mine.is_some() %}
{{ ind }}/* The spec declares no `ack`: the device stops interrupting by itself. */
{%- endif %}
{%- endmacro %}
