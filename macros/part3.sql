{#- Helpers of METRICS.md Part 3 (metrics_grain, metrics_trauma, metrics_sentiment,
    metrics_evolution). Each returns a SQL expression. NULL-keeping max/min live in
    macros/math.sql (max2, min2). -#}

{#- x with a negative zero replaced by +0.0 (P3.3: nabla values, so atan2 stays in (−π, π]). -#}
{% macro p3_no_negzero(x) -%}
case when ({{ x }}) = 0 then 0.0::double else ({{ x }}) end
{%- endmacro %}
