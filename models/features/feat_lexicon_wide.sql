{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

{#-
  feat_lexicon pivoted to one row per turn: for every list L and statistic s a column
  lex_<L>_<s>, e.g. lex_T_panic_score, lex_Suicide_max, lex_B_life_sum. Every turn of stg_turns
  is present; a list without a hit gives 0 (and an empty term list). Metric models read this
  table: a misspelt list or statistic is a binder error, never a silent NULL.

  The runner has no run_query, so the column list cannot be read from the seeds at compile
  time. It is written out below, in seed order (lexicon_catalog rows with match_kind 'token',
  then the b_vector_keywords dimensions), and the model refuses to build when it differs from
  the seeds in either direction (check `column_list` below).

  The pivot: the hit rows of a turn become one map list -> statistics, and each column reads
  its list from the map. (DuckDB's PIVOT is about 25% faster here, but sqlglot cannot follow
  it, so column lineage through this model would break; filtered aggregates or one join per
  list are 10-20 times slower.)
-#}

{%- set lexica = [
    'B_empathy', 'B_past', 'Coh_conn', 'Crisis', 'Emotion_neg', 'Emotion_pos', 'Flow_neg',
    'Flow_pos', 'Help', 'Kastasis_intent', 'Lambda_depth', 'Math_meta', 'Physics_meta',
    'S_self', 'Self_harm', 'Suicide', 'T_disso', 'T_integ', 'T_panic', 'T_shock', 'X_exist',
    'ZLF', 'CAUSAL_MARKERS', 'sent_pos', 'sent_neg', 'arousal_high', 'arousal_low', 'dom_high',
    'dom_low', 'spatial', 'ctx_safe', 'FUTURE', 'PAST', 'ABSTRACT', 'INTEGRATION', 'SYNTHESIS',
    'EVAL', 'RECURSIVE', 'PARADOX', 'PAST_T', 'FUTURE_T', 'BRIDGE', 'CAUSAL', 'CLOSURE',
    'COMPLETION', 'DEPTH', 'CLARITY', 'B_life', 'B_truth', 'B_depth', 'B_init', 'B_warmth',
    'B_safety', 'B_clarity'
] -%}

{#- (statistic, type, zero, meaning) -#}
{%- set stats = [
    ('hits', 'integer', '0', 'lex_hits: accepted occurrences'),
    ('nterms', 'integer', '0', 'lex_nterms: distinct matched terms'),
    ('sum', 'double', '0.0', 'lex_sum: weight sum over distinct matched terms'),
    ('sum_occ', 'double', '0.0', 'lex_sum_occ: weight sum over all hits'),
    ('max', 'double', '0.0', 'lex_max: largest matched weight, in [0, 1]'),
    ('score', 'double', '0.0', 'lex: min(1, sum / (1 + ln(1 + n_words))), in [0, 1]'),
    ('terms', 'varchar[]', '[]::varchar[]', 'distinct matched terms, first-occurrence order'),
] -%}

{%- for name in lexica -%}
{%- if not name.replace('_', '').isalnum() -%}
{{ exceptions.raise_compiler_error("feat_lexicon_wide: list name " ~ name ~ " is not a plain identifier") }}
{%- endif -%}
{%- endfor -%}

{%- set lexica_sql -%}
[{% for name in lexica %}'{{ name }}'{{ ", " if not loop.last }}{% endfor %}]
{%- endset %}

with seed_lists as (
    select
        lexicon
    from {{ ref('lexicon_catalog') }}
    where match_kind = 'token'

    union

    select
        dimension as lexicon
    from {{ ref('b_vector_keywords') }}
),

column_list as (
    -- the lists of the seeds that have no columns here, and columns of lists not in the seeds
    select
        list_filter(
            list(lexicon),
            lambda seed_list: not list_contains({{ lexica_sql }}, seed_list)
        ) as unlisted,
        list_filter(
            {{ lexica_sql }},
            lambda column_lexicon: not list_contains(list(lexicon), column_lexicon)
        ) as missing
    from seed_lists
),

by_turn as (
    -- the hits of each turn as a map list -> statistics (usually a handful of entries)
    select
        turn_id,
        map_from_entries(
            list(
                struct_pack(
                    k := lexicon,
                    v := struct_pack(
                        hits := hits,
                        nterms := nterms,
                        sum := sum,
                        sum_occ := sum_occ,
                        max := max,
                        score := score,
                        terms := terms
                    )
                )
            )
        ) as lex
    from {{ ref('feat_lexicon') }}
    group by turn_id
)

select
    -- the turn (stg_turns.turn_id); every turn of stg_turns, once
    t.turn_id,
    -- its session
    t.session_id,
    -- its 1-based position in the session (ENGINE §0)
    t.turn_idx,
    {%- for name in lexica %}
    {%- set outer = loop %}
    {%- for stat in stats %}
    -- {{ name }} {{ stat[3] }}
    coalesce(b.lex['{{ name }}'].{{ stat[0] }}, {{ stat[2] }})::{{ stat[1] }} as lex_{{ name }}_{{ stat[0] }}
    {{- "," if not (outer.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}
from {{ ref('stg_turns') }} as t
left join by_turn as b
    on b.turn_id = t.turn_id
where
    (select len(unlisted) = 0 and len(missing) = 0 from column_list)
    or error(
        'feat_lexicon_wide: the column list differs from the seeds; lists without columns: ['
        || (select array_to_string(unlisted, ', ') from column_list)
        || '], columns without a list: ['
        || (select array_to_string(missing, ', ') from column_list)
        || ']'
    )
