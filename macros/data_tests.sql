{#- Project generic data tests (dbt conventions: each returns the failing rows). -#}

{#- dbt_utils' expression_is_true: the rows where `expression` is not true (false or NULL). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where {{ expression_is_true_condition(expression) }}
{% endtest %}

{#- Its failing-row predicate (the runner batches it with the model's column tests). -#}
{% macro expression_is_true_condition(expression, column_name=none) -%}
not coalesce(({{ expression }}), false)
{%- endmacro %}

{#- One contract metric read back from metrics_json (a column of that name): the rows whose
    value is missing, not finite, outside [min_value, max_value], not a whole number for int /
    binary metrics, or not an allowed enum value. Reports the key, the turn and the value only. -#}
{% test contract_metric(model, column_name, type, min_value=none, max_value=none, values=none) %}
select
    turn_id,
    {{ literal(column_name) }} as metric_key,
    {{ column_name }}::varchar as value
from {{ model }}
where {{ contract_metric_condition(column_name, type, min_value, max_value, values) }}
{% endtest %}

{#- Its failing-row predicate (the runner batches it with the model's column tests). -#}
{% macro contract_metric_condition(column_name, type, min_value=none, max_value=none, values=none) -%}
(
{%- if type == 'enum' %}
    {{ column_name }} is null
    or {{ column_name }} not in ({% for v in values %}{{ literal(v) }}{{ ", " if not loop.last }}{% endfor %})
{%- else %}
    {{ column_name }} is null
    or not isfinite({{ column_name }})
    {%- if min_value is not none %}
    or {{ column_name }} < {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or {{ column_name }} > {{ max_value }}
    {%- endif %}
    {%- if type in ('int', 'binary') %}
    or {{ column_name }} <> trunc({{ column_name }})
    {%- endif %}
{%- endif %}
)
{%- endmacro %}
