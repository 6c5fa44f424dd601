{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- m147_meta_32 (METRICS.md m147), computed by udf:text_meta: statement consistency,
-- max(0, 1 - 0.2 c) where c counts sentence pairs i < j whose later sentence contains the
-- earlier one negated ('nicht' directly before or after it, as a token run); 1.0 for
-- fewer than two sentences. Text only, so it is computed with the phase-1 features.
-- Only a text holding the token 'nicht' can have c > 0: every other text is (1.0, 0, its
-- sentence count) by the definition, taken from feat_text without calling the UDF (which
-- DuckDB then hands only the texts with 'nicht'). tests/python/features/
-- test_text_meta_grain.py checks every turn against the reference, with and without it.

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.text,
        x.n_sent,
        -- 'nicht' is udfs/text_meta.py's NEGATION token (tokens are lower-case NFC)
        list_contains(x.tokens, 'nicht') as has_negation
    from {{ ref('stg_turns') }} as t
    inner join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
),

scored as (
    select
        turn_id,
        session_id,
        turn_idx,
        case
            when has_negation then text_meta(text)
            else {
                'text_meta_consistency': 1.0::double,
                'text_meta_contradictions': 0::bigint,
                'text_meta_n_sent': n_sent::integer
            }
        end as r
    from turns
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- order in the session (1-based, ENGINE §0)
    turn_idx,
    -- m147_meta_32 value: statement consistency, in [0, 1]
    r.text_meta_consistency as text_meta_consistency,
    -- c: number of contradicting sentence pairs (>= 0)
    r.text_meta_contradictions as text_meta_contradictions,
    -- number of engine sentences of the text (m147 is 1.0 below 2)
    r.text_meta_n_sent as text_meta_n_sent
from scored
