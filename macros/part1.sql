{#- Helpers of METRICS.md Part 1 (metrics_core). Each returns a SQL expression.
    NULL-keeping max/min live in macros/math.sql (max2, min2). -#}

{#- Token-set Jaccard |A ∩ B| / |A ∪ B| from the set sizes n_a = |A|, n_b = |B| and
    n_common = |A ∩ B|; 0 when either set is empty (m5 pairs are never empty; m7's rep_same
    defines the empty case as 0). -#}
{% macro p1_jaccard(n_a, n_b, n_common) -%}
case
    when {{ n_a }} = 0 or {{ n_b }} = 0 then 0.0::double
    else ({{ n_common }})::double / (({{ n_a }})::bigint + ({{ n_b }})::bigint - ({{ n_common }}))
end
{%- endmacro %}

{#- Number of distinct tokens of the list `s`, len(list_distinct(s)). A short list counts the
    tokens that sit at their first position (a scan per token, cheaper than a hash set for short
    lists); a long one uses list_distinct, so the cost stays linear. -#}
{% macro p1_n_distinct(s) -%}
case
    when len({{ s }}) <= 128
        then len(list_filter({{ s }}, lambda tok, pos: list_position({{ s }}, tok) = pos))
    else len(list_distinct({{ s }}))
end
{%- endmacro %}

{#- Number of distinct tokens that the lists `a` and `b` share, |set(a) ∩ set(b)| (0 when b is
    NULL, like len(list_intersect(a, b))). Small pairs filter a by membership in b (a scan of b
    per token: far cheaper than list_intersect's hash sets on short lists); large pairs count
    |A| + |B| − |A ∪ B| with list_distinct, so the cost stays linear in the list lengths. -#}
{% macro p1_n_common(a, b) -%}
case
    when len({{ a }}) * coalesce(len({{ b }}), 0) <= 64 * (len({{ a }}) + coalesce(len({{ b }}), 0))
        then len(list_distinct(list_filter({{ a }}, lambda tok: list_contains({{ b }}, tok))))
    else len(list_distinct({{ a }})) + len(list_distinct({{ b }}))
        - len(list_distinct(list_concat({{ a }}, {{ b }})))
end
{%- endmacro %}

{#- Non-overlapping left-to-right occurrences of the literal `marker` in `s` (Python str.count);
    the replace is skipped when `s` does not contain the marker at all (then the count is 0). -#}
{% macro p1_count(s, marker) -%}
(case
    when contains({{ s }}, '{{ marker }}')
        then (length({{ s }}) - length(replace({{ s }}, '{{ marker }}', '')))
            // length('{{ marker }}')
    else 0
end)
{%- endmacro %}
