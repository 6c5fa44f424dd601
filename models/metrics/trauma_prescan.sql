{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase1', 'trauma'],
) }}

-- The phase-3a trauma pre-scan hoisted into phase 1 (ENGINE §5, METRICS m101 / m102): the
-- final values of m101_t_panic and m102_t_disso (the trauma family of phase 4 copies them),
-- and the two flags built on them, per turn, any role, text only:
--   m101 = 0 if n_words = 0 else clamp((lex_sum_occ(T_panic) / (n_words + 1)) · 10, 0, 1)
--   m102 = 0 if n_words = 0 else clamp((lex_sum(T_disso) / (n_words + 1)) · 8, 0, 1)
--   rag_safe_mode = [m101 > 0.6 or m102 > 0.6]
--   is_f_turn     = [role = 'user' and (hazard > 0.8 or m101 > 0.8)]   (ENGINE §3.2)
-- Lexicon statistics come from feat_lexicon_wide (ENGINE §2.4 matcher, variants included),
-- n_words from feat_text, hazard (ENGINE §2.7) from feat_hazard.

with inputs as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        x.n_words,
        w.lex_T_panic_sum_occ as panic_sum_occ,
        w.lex_T_disso_sum as disso_sum,
        h.hazard
    from {{ ref('stg_turns') }} as t
    inner join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    inner join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    inner join {{ ref('feat_hazard') }} as h
        on h.turn_id = t.turn_id
),

scored as (
    select
        *,
        case
            when n_words = 0 then 0.0
            else least(1.0, greatest(0.0, (panic_sum_occ / (n_words + 1)) * 10))
        end as m101_t_panic,
        case
            when n_words = 0 then 0.0
            else least(1.0, greatest(0.0, (disso_sum / (n_words + 1)) * 8))
        end as m102_t_disso
    from inputs
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- 1-based order in the session (ENGINE §0)
    turn_idx,
    -- user / ai
    role,
    -- m101_t_panic: panic vector, every T_panic occurrence counts, in [0, 1]
    m101_t_panic::double as m101_t_panic,
    -- m102_t_disso: dissociation, each distinct T_disso term once, in [0, 1]
    m102_t_disso::double as m102_t_disso,
    -- RAG SAFE_MODE of the pre-scan: 1 if m101 > 0.6 or m102 > 0.6
    (m101_t_panic > 0.6 or m102_t_disso > 0.6)::integer as rag_safe_mode,
    -- the hazard score (ENGINE §2.7) the F-turn flag used, in [0, 1]
    hazard::double as hazard,
    -- F-turn (trauma memory, ENGINE §3.2): a user turn with hazard > 0.8 or m101 > 0.8
    (role = 'user' and (hazard > 0.8 or m101_t_panic > 0.8))::integer as is_f_turn
from scored
