{#- Numeric helpers every metric family uses. Each returns a SQL expression. -#}

{#- x clamped to [lo, hi] (ENGINE §0 clamp); NULL stays NULL so a missing input is loud. -#}
{% macro clamp(x, lo, hi) -%}
least({{ hi }}, greatest({{ lo }}, {{ x }}))
{%- endmacro %}

{#- x clamped to [0, 1]. -#}
{% macro clamp01(x) -%}
{{ clamp(x, 0.0, 1.0) }}
{%- endmacro %}

{#- a / b, or `default` when b is 0 or NULL (a guarded denominator). -#}
{% macro safe_div(a, b, default=0.0) -%}
case when coalesce({{ b }}, 0) = 0 then {{ default }} else ({{ a }}) / ({{ b }}) end
{%- endmacro %}

{#- The numerically stable logistic function 1 / (1 + e^-x). -#}
{% macro sigmoid(x) -%}
case when ({{ x }}) >= 0 then 1.0 / (1.0 + exp(-({{ x }})))
     else exp({{ x }}) / (1.0 + exp({{ x }})) end
{%- endmacro %}
