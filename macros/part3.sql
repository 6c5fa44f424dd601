{#- Helpers of METRICS.md Part 3 (metrics_grain, metrics_trauma, metrics_sentiment,
    metrics_evolution). Each returns a SQL expression. Unlike DuckDB's least/greatest (which
    skip NULL), they keep a NULL input visible, so a missing upstream row fails the not_null
    tests instead of turning into a plausible value. -#}

{#- max(a, b); NULL when either is NULL. -#}
{% macro p3_max(a, b) -%}
case
    when ({{ a }}) is null or ({{ b }}) is null then null
    when ({{ a }}) >= ({{ b }}) then ({{ a }})
    else ({{ b }})
end
{%- endmacro %}

{#- min(a, b); NULL when either is NULL. -#}
{% macro p3_min(a, b) -%}
case
    when ({{ a }}) is null or ({{ b }}) is null then null
    when ({{ a }}) <= ({{ b }}) then ({{ a }})
    else ({{ b }})
end
{%- endmacro %}

{#- x with a negative zero replaced by +0.0 (P3.3: nabla values, so atan2 stays in (−π, π]). -#}
{% macro p3_no_negzero(x) -%}
case when ({{ x }}) = 0 then 0.0::double else ({{ x }}) end
{%- endmacro %}
