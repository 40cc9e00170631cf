{#-
  One BAR's register module: the `register!` block (offsets, widths, fields), the field enums, and
  per register the access helpers that carry what `register!` does not know, the spec's access
  semantics (`RegView::helpers`, computed in codegen/src/driver/regs.rs).

  Helpers are inherent methods of the register types, as nova-core writes them: `ID::read(io)`,
  `value.write(io)` / `value.trigger(io)` (a write that makes the device act), `CTRL::clear_done(io)`
  / `CTRL::set_go(io)` for write-1-to-clear / write-1-to-set fields. Their signatures name no
  register, so their width does not depend on the spec.

  A big BAR (more than `TYPED_REGISTERS_MAX` registers) types only the registers the driver names;
  the others are offset constants in a nested `offsets` module.
-#}
{%- macro module(bar) %}
{{ bar.doc.at(0) }}
#[allow(dead_code, reason = "the skeleton declares every register of the spec")]
{%- if !bar.enums.is_empty() %}
#[allow(clippy::enum_variant_names, reason = "value names come from the spec")]
{%- endif %}
mod bar{{ bar.index }} {
{%- if !bar.registers.is_empty() %}
    use super::*;
{%- endif %}
{%- if !bar.enums.is_empty() %}
    use kernel::num::Bounded;
{%- endif %}
{%- for e in bar.enums %}
{# #}
{%- call field_enum(e) %}{% endcall %}
{%- endfor %}
{%- if !bar.registers.is_empty() %}

    register! {
{%- for r in bar.registers %}
{%- if !loop.first %}
{% endif %}
{{ r.doc.at(8) }}
        pub(super) {{ r.name }}({{ r.storage }}){% if let Some(n) = r.count %}[{{ n }}]{% endif %} @ {{ r.offset }} {
{%- for f in r.fields %}
{%- if let Some(doc) = f.doc %}
{{ doc.at(12) }}
{%- endif %}
            {{ f.hi }}:{{ f.lo }} {{ f.name }}{% if let Some(e) = f.conversion %} {% if !e.total %}?{% endif %}=> {{ e.name }}{% endif %};
{%- endfor %}
        }
{%- endfor %}
    }
{%- endif %}
{%- for r in bar.registers %}
{%- if !r.helpers.is_empty() %}
{# #}
{%- call helpers(bar, r) %}{% endcall %}
{%- endif %}
{%- endfor %}
{%- if !bar.offsets.is_empty() %}

{{ bar.offsets_doc.at(4) }}
    pub(super) mod offsets {
{%- for o in bar.offsets %}
{%- if !loop.first %}
{% endif %}
{{ o.doc.at(8) }}
        pub(crate) const {{ o.name }}: usize = {{ o.offset }};
{%- endfor %}
    }
{%- endif %}
}
{%- endmacro %}

{#- The access helpers of register `r` of `bar`. #}
{%- macro helpers(bar, r) %}
    impl {{ r.name }} {
{%- for h in r.helpers %}
{%- if !loop.first %}
{% endif %}
{{ h.doc.at(8) }}
{%- match h.kind %}
{%- when HelperKind::Read %}
        pub(super) fn {{ h.name }}(io: &Bar{{ bar.index }}<'_>) -> {{ r.access.value_type }} {
            io.{{ r.access.read }}({{ r.name }})
        }
{%- when HelperKind::Write %}
        pub(super) fn {{ h.name }}(self, io: &Bar{{ bar.index }}<'_>){{ r.access.returns }} {
            io.{{ r.access.write }}(self)
        }
{%- when HelperKind::Bits { bits, keep } %}
        pub(super) fn {{ h.name }}(io: &Bar{{ bar.index }}<'_>){{ r.access.returns }} {
{%- if let Some(keep) = keep %}
            let keep = Self::read(io){{ r.access.question }}.into_raw() & {{ keep }};
            let value = Self::from_raw(keep | {{ bits }});
{%- else %}
            let value = Self::from_raw({{ bits }});
{%- endif %}
            io.{{ r.access.write }}(value)
        }
{%- endmatch %}
{%- endfor %}
    }
{%- endmacro %}

{#- A field's named values, converted from and to the field's `Bounded` by `register!`. #}
{%- macro field_enum(e) %}
{{ e.doc.at(4) }}
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr({{ e.storage }})]
    pub(super) enum {{ e.name }} {
{%- for v in e.variants %}
        {{ v.name }} = {{ v.value }},
{%- endfor %}
    }
{%- if e.total %}

    impl From<Bounded<{{ e.storage }}, {{ e.bits }}>> for {{ e.name }} {
        fn from(v: Bounded<{{ e.storage }}, {{ e.bits }}>) -> Self {
            match v.get() {
{%- for v in e.variants %}
{%- if loop.last %}
                _ => Self::{{ v.name }},
{%- else %}
                {{ v.value }} => Self::{{ v.name }},
{%- endif %}
{%- endfor %}
            }
        }
    }
{%- else %}

    impl TryFrom<Bounded<{{ e.storage }}, {{ e.bits }}>> for {{ e.name }} {
        type Error = {{ e.storage }};

        fn try_from(v: Bounded<{{ e.storage }}, {{ e.bits }}>) -> Result<Self, {{ e.storage }}> {
            match v.get() {
{%- for v in e.variants %}
                {{ v.value }} => Ok(Self::{{ v.name }}),
{%- endfor %}
                other => Err(other),
            }
        }
    }
{%- endif %}

    impl From<{{ e.name }}> for Bounded<{{ e.storage }}, {{ e.bits }}> {
        fn from(v: {{ e.name }}) -> Self {
            // CAST: the discriminant is one of the field's values, so `try_new` cannot fail.
            Self::try_new(v as {{ e.storage }}).unwrap_or_default()
        }
    }
{%- endmacro %}
