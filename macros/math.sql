{#- Numeric helpers every metric family uses. Each returns a SQL expression. -#}

{#- x clamped to [lo, hi] (ENGINE §0 clamp). NULL and NaN pass through unchanged, so a
    missing or broken input stays visible to the not_null and NaN tests (DuckDB's
    least/greatest would turn NULL into a bound and NaN into the upper bound). -#}
{% macro clamp(x, lo, hi) -%}
case
    when ({{ x }}) < {{ lo }} then {{ lo }}
    when ({{ x }}) > {{ hi }} and not isnan(({{ x }})::double) then {{ hi }}
    else ({{ x }})
end
{%- endmacro %}

{#- x clamped to [0, 1]. -#}
{% macro clamp01(x) -%}
{{ clamp(x, "0.0::double", "1.0::double") }}
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

{#- max(a, b) and min(a, b) that keep a NULL input visible (NULL when either is NULL),
    unlike DuckDB's greatest/least, which skip NULL and would hide a missing upstream row. -#}
{% macro max2(a, b) -%}
case
    when ({{ a }}) is null or ({{ b }}) is null then null
    when ({{ a }}) >= ({{ b }}) then ({{ a }})
    else ({{ b }})
end
{%- endmacro %}

{% macro min2(a, b) -%}
case
    when ({{ a }}) is null or ({{ b }}) is null then null
    when ({{ a }}) <= ({{ b }}) then ({{ a }})
    else ({{ b }})
end
{%- endmacro %}
