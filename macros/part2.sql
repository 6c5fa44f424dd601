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

{#- The dyadic token Jaccard of m40 (P2.3): |U ∩ V| / |U ∪ V| of the distinct-token sets U, V
    of a turn and its partner, from their sizes `n_u`, `n_v` (feat_text.n_unique) and
    `n_common` = |U ∩ V| (p1_n_common of the two token lists); |U ∪ V| = n_u + n_v − n_common,
    the same integers list_intersect / list_distinct(list_concat) give, so the same quotient,
    without building either set. 0.5 (neutral) when there is no partner (`has_partner` false)
    or either set is empty. A missing feat_text row (`n_u` or, with a partner, `n_v` NULL)
    stays NULL. -#}
{% macro p2_dyad_jaccard(n_u, n_v, n_common, has_partner) -%}
case
    when ({{ n_u }}) is null then null
    when not ({{ has_partner }}) then 0.5::double
    when ({{ n_v }}) is null then null
    when {{ n_u }} = 0 or {{ n_v }} = 0 then 0.5::double
    else {{ n_common }}::double / ({{ n_u }} + {{ n_v }} - {{ n_common }})
end
{%- endmacro %}
