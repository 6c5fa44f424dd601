{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- ctx_break (METRICS.md P2.4, input of m36_rule_conflict and m47_focus_stability): topic
-- break of a turn against the immediately previous turn of its session (any role),
-- 1 - max(0, cos) of the ENGINE §3.2 hashed embeddings; 0 on the first turn or when either
-- text has no tokens. The embeddings are feat_embedding's (one per turn of stg_turns), so no
-- text is tokenized or hashed again; udf:ctx_break_emb is a pure function of (emb, previous
-- emb) and equals the reference ctx_break_value(text, previous text) bit for bit.

with turns as (
    select
        turn_id,
        session_id,
        turn_idx,
        emb,
        -- emb of the previous turn of the session, any role; NULL for the first turn
        lag(emb) over (partition by session_id order by turn_idx) as prev_emb
    from {{ ref('feat_embedding') }}
),

scored as (
    select
        turn_id,
        session_id,
        turn_idx,
        ctx_break_emb(emb, prev_emb) as r
    from turns
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- order in the session (1-based, ENGINE §0)
    turn_idx,
    -- topic break against the previous turn, in [0, 1] (P2.4)
    r.ctx_break as ctx_break,
    -- exact hashed-embedding cosine to the previous turn, in [-1, 1]; 0 where undefined
    r.ctx_cos as ctx_cos
from scored
