{#-
  Small shapes of the driver's crate root.

  `use_item(group)`: one item of `use kernel::{...}` in the kernel's style: `head,` alone,
  `head::item,` for one item, else one item per line with `//` after the last, which keeps
  rustfmt from joining the list (`group.items` is already in rustfmt's order).
  `use_stmt(group)`: the same as a `use` statement of its own (nothing without items).
-#}
{%- macro use_item(group) %}
{%- if group.items.is_empty() %}
    {{ group.head }},
{%- else if group.items.len() == 1 %}
    {{ group.head }}::{{ group.items[0] }},
{%- else %}
    {{ group.head }}::{
{%- for item in group.items %}
        {{ item }},{% if loop.last %} //{% endif %}
{%- endfor %}
    },
{%- endif %}
{%- endmacro %}

{%- macro use_stmt(group) %}
{%- if group.items.len() == 1 %}
use {{ group.head }}::{{ group.items[0] }};
{%- else if !group.items.is_empty() %}
use {{ group.head }}::{
{%- for item in group.items %}
    {{ item }},{% if loop.last %} //{% endif %}
{%- endfor %}
};
{%- endif %}
{%- endmacro %}
