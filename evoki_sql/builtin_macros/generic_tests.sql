{#- The generic data tests every project gets (dbt's names and arguments).
    Each returns the failing rows; a project macro of the same name replaces one. -#}

{% test not_null(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is null
{% endtest %}

{% test unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{% test accepted_values(model, column_name, values, quote=true) %}
select
    {{ column_name }} as value_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
    {%- for v in values %}{{ literal(v) if quote else v }}{{ ", " if not loop.last }}{% endfor -%}
  )
group by {{ column_name }}
{% endtest %}

{% test relationships(model, column_name, to, field) %}
select child.{{ column_name }} as from_field
from {{ model }} as child
left join {{ to }} as parent
  on child.{{ column_name }} = parent.{{ field }}
where child.{{ column_name }} is not null
  and parent.{{ field }} is null
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
{{ exceptions.raise_compiler_error("accepted_range needs min_value or max_value") }}
{%- endif %}
select *
from {{ model }}
where {{ column_name }} is not null
  and not (
    true
    {%- if min_value is not none %}
    and {{ column_name }} {{ ">=" if inclusive else ">" }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    and {{ column_name }} {{ "<=" if inclusive else "<" }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}
