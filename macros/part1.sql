{#- Helpers of METRICS.md Part 1 (metrics_core, metrics_physics). Each returns a SQL expression.
    NULL-keeping max/min live in macros/math.sql (max2, min2). -#}

{#- Token-set Jaccard |A ∩ B| / |A ∪ B| of two distinct-token lists; 0 when either is empty
    (m5 pairs are never empty; m7's rep_same defines the empty case as 0). -#}
{% macro p1_jaccard(a, b) -%}
case
    when len({{ a }}) = 0 or len({{ b }}) = 0 then 0.0::double
    else len(list_intersect({{ a }}, {{ b }}))::double
        / (len({{ a }}) + len({{ b }}) - len(list_intersect({{ a }}, {{ b }})))
end
{%- endmacro %}

{#- Non-overlapping left-to-right occurrences of the literal `marker` in `s` (Python str.count). -#}
{% macro p1_count(s, marker) -%}
((length({{ s }}) - length(replace({{ s }}, '{{ marker }}', ''))) // length('{{ marker }}'))
{%- endmacro %}
