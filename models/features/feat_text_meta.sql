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

with scored as (
    select
        turn_id,
        session_id,
        turn_idx,
        text_meta(text) as r
    from {{ ref('stg_turns') }}
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
