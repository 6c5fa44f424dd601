{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase2', 'physics'],
) }}

-- The per-session physics pass, udf:a_phys: one call row per session holding the session's
-- turns (turn_idx, packed embedding, role, phase-1 flags); the UDF puts them in turn order and
-- returns one struct per turn.
--  * A_Phys V11 with the deterministic backfill (ENGINE §3.1-§3.4): memories = the last 10
--    earlier non-zero turns (r = 0.3 for F-turns, else 1.0); danger centres = emb(term) of every
--    Suicide term, then every Self_harm term, in lexika.csv order (ids lex:<lexicon>:<term>),
--    then the last 10 earlier non-zero F-turns of the session (ids turn:<turn_id>).
--  * The embedding context cosines of METRICS P-5 and m114 from the same pass (published by
--    feat_emb_context): they need dots with earlier turns of the session too.
-- The lexika.csv order of Suicide and Self_harm is alphabetical (checked by
-- tests/python/features/test_a_phys.py), so `order by term` reproduces it for any seed loader.

with centres as (
    select
        string_agg(
            'lex:' || lexicon || ':' || term,
            chr(10)
            order by case lexicon when 'Suicide' then 0 else 1 end, term
        ) as centre_ids
    from {{ ref('lexika') }}
    where lexicon in ('Suicide', 'Self_harm')
),

turns as (
    select
        e.turn_id,
        e.session_id,
        e.turn_idx,
        e.role,
        e.emb,
        p.is_f_turn,
        p.rag_safe_mode
    from {{ ref('feat_embedding') }} as e
    inner join {{ ref('trauma_prescan') }} as p
        on p.turn_id = e.turn_id
),

sessions as (
    -- one list per session; the UDF orders it by turn_idx itself (no sort per aggregate here)
    select
        t.session_id,
        a_phys(
            list(
                struct_pack(
                    turn_idx := t.turn_idx,
                    turn_id := t.turn_id,
                    role := t.role,
                    emb := t.emb,
                    is_f_turn := t.is_f_turn,
                    rag_safe_mode := t.rag_safe_mode
                )
            ),
            c.centre_ids
        ) as per_turn
    from turns as t
    cross join centres as c
    group by t.session_id, c.centre_ids
),

unnested as (
    select
        unnest(per_turn) as p
    from sessions
)

select
    -- turn key
    t.turn_id,
    -- session key
    t.session_id,
    -- 1-based order in the session (ENGINE §0)
    t.turn_idx,
    -- the phase-1 F-turn flag the physics used (trauma_prescan)
    t.is_f_turn,
    -- the phase-1 RAG SAFE_MODE flag rag_align used (trauma_prescan)
    t.rag_safe_mode,
    -- 1 if emb(text) is non-zero; 0: no physics, m15 falls back to m29 (ENGINE §3.4)
    u.p.physics_available as physics_available,
    -- σ(A_phys_raw) in (0, 1); NULL exactly when physics_available = 0
    u.p.a_phys as a_phys,
    -- m28_phys_1: R − 1.5·D (0 without physics)
    u.p.a_phys_raw as a_phys_raw,
    -- m32_phys_5: resonance R over the active memories, in [0, 10]
    u.p.resonance as resonance,
    -- m31_phys_4: danger D over the danger centres, in [0, 35]
    u.p.danger as danger,
    -- m30_phys_3: 1 if a29_max_sim > 0.85
    u.p.a29_trip as a29_trip,
    -- highest cosine to a danger centre, in [−1, 1] (0 without physics)
    u.p.a29_max_sim as a29_max_sim,
    -- id of the first centre reaching a29_max_sim (lex:<lexicon>:<term> or turn:<turn_id>)
    u.p.a29_id as a29_id,
    -- |M(t)|: non-zero earlier turns used as memories, 0..10
    u.p.n_active_memories as n_active_memories,
    -- |F(t)|: 25 static centres + up to 10 earlier non-zero F-turns
    u.p.n_danger_centres as n_danger_centres,
    -- m114_cos_sim (see feat_emb_context)
    u.p.cos_prev as cos_prev,
    -- m142_rag_align (see feat_emb_context)
    u.p.rag_align as rag_align,
    -- m156_relevance (see feat_emb_context)
    u.p.relevance as relevance,
    -- m157_coherence (see feat_emb_context)
    u.p.coherence as coherence,
    -- m159_novelty (see feat_emb_context)
    u.p.novelty as novelty,
    -- m133's topic shift flag (see feat_emb_context)
    u.p.topic_shift as topic_shift
from unnested as u
inner join turns as t
    on t.turn_id = u.p.turn_id
