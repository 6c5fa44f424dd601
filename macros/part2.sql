{#- Helpers of METRICS.md Part 2 (metrics_fep, metrics_integrity). Each returns a SQL expression.
    Unlike DuckDB's least/greatest (which skip NULL), they keep a NULL input visible, so a
    missing upstream row fails the not_null tests instead of turning into a plausible value. -#}

{#- max(0, x); NULL when x is NULL. -#}
{% macro p2_pos(x) -%}
case
    when ({{ x }}) is null then null
    when ({{ x }}) > 0.0 then ({{ x }})
    else 0.0::double
end
{%- endmacro %}

{#- The dyadic token Jaccard of m40 (P2.3): |U ∩ V| / |U ∪ V| of two distinct-token lists;
    0.5 (neutral) when there is no partner (`has_partner` false) or either set is empty. NULL
    lists (a missing feat_text row) stay NULL. -#}
{% macro p2_dyad_jaccard(u, v, has_partner) -%}
case
    when ({{ u }}) is null then null
    when not ({{ has_partner }}) then 0.5::double
    when ({{ v }}) is null then null
    when len({{ u }}) = 0 or len({{ v }}) = 0 then 0.5::double
    else len(list_intersect({{ u }}, {{ v }}))::double
        / len(list_distinct(list_concat({{ u }}, {{ v }})))
end
{%- endmacro %}
