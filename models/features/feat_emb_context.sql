{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase3', 'physics'],
) }}

-- The embedding context cosines of METRICS P-5 (udf:emb_context: m142, m156, m157, m159 and the
-- topic shift of m133) and m114 (udf:embedding), per turn. They are computed by the per-session
-- physics pass of feat_a_phys, which already holds every turn vector of the session in order
-- (exact integer cosines of ENGINE §3.2); this view publishes them under their own model.

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- 1-based order in the session (ENGINE §0)
    turn_idx,
    -- m114_cos_sim: cosine to the immediately previous turn (any role), in [−1, 1]
    cos_prev,
    -- m142_rag_align: max(0, cos) to the sum of the memories (F-turns out in SAFE_MODE), [0, 1]
    rag_align,
    -- m156_relevance: max(0, cos) to the latest earlier turn of the other role, [0, 1]
    relevance,
    -- m157_coherence: mean consecutive cosine over the last 10 non-zero turns (1 if < 2), [0, 1]
    coherence,
    -- m159_novelty: 1 − max(0, max cos) to every earlier non-zero turn (0 if v_t = 0), [0, 1]
    novelty,
    -- m133 input: 1 on the first turn or a same-role cosine below 0.08, else 0
    topic_shift
from {{ ref('feat_a_phys') }}
