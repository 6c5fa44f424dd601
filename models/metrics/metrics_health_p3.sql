{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase3', 'part4'],
) }}

-- Phase 3 (3b CONTEXT) of METRICS.md Part 4: m142_rag_align, alignment of the turn with its
-- retrieved context. The value is computed by udf:emb_context (METRICS P-5) in the feature
-- layer (feat_emb_context.rag_align, the per-session physics pass): C(t) = the active memories
-- M(t) of ENGINE §3.2 (the last 10 earlier non-zero turns), without F-turns when
-- rag_safe_mode(t) = 1; rag_align = max(0, cos(v_t, Σ_{j∈C(t)} v_j)) with the exact integer
-- cosine; 0 without a vector, without context or for a zero context sum. This model publishes
-- it under its contract key. Left join: a missing feature row stays NULL for the not_null test.

select
    t.turn_id,
    t.session_id,
    t.turn_idx,
    t.role,
    -- m142_rag_align: max(0, cos(emb(text), Σ emb of the retrieved memories)), SAFE_MODE drops F-turns
    c.rag_align as m142_rag_align
from {{ ref('stg_turns') }} as t
left join {{ ref('feat_emb_context') }} as c
    on c.turn_id = t.turn_id
