{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase6', 'part4'],
) }}

-- Phase 6 of METRICS.md Part 4: synthesis m151-m160 and the executive gate m161. One row per
-- turn of stg_turns. m156, m157, m159 come from udf:emb_context (METRICS P-5) in the feature
-- layer (feat_emb_context); the marker counts (P-2) from feat_lexicon_wide (seed lists,
-- ENGINE matcher). m161 keeps the spec's own rule (C-29 changes only guardian_action).
-- Every input is left-joined, so a missing upstream row surfaces as NULL in the not_null tests.

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        x.n_words,
        w.lex_COMPLETION_nterms as completion_dist,
        w.lex_DEPTH_nterms as depth_dist,
        w.lex_CLARITY_hits as clarity_occ,
        h.hazard,
        c.relevance,
        c.coherence,
        c.novelty,
        core.m1_A,
        core.m2_PCI,
        core.m19_z_prox,
        phys.m21_chaos,
        integ.m36_rule_conflict,
        integ.m38_soul_integrity,
        integ.m45_trust_score,
        fep.m63_phi_score,
        sent.m87_sent_14
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    left join {{ ref('feat_hazard') }} as h
        on h.turn_id = t.turn_id
    left join {{ ref('feat_emb_context') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('metrics_core') }} as core
        on core.turn_id = t.turn_id
    left join {{ ref('metrics_physics') }} as phys
        on phys.turn_id = t.turn_id
    left join {{ ref('metrics_integrity') }} as integ
        on integ.turn_id = t.turn_id
    left join {{ ref('metrics_fep') }} as fep
        on fep.turn_id = t.turn_id
    left join {{ ref('metrics_sentiment') }} as sent
        on sent.turn_id = t.turn_id
),

synthesis as (
    select
        turn_id,
        session_id,
        turn_idx,
        role,
        -- m151_omega: OMEGA = clamp(φ − 1.5 · rule_conflict, −1, 1) (V3.0.2 subtractive form)
        {{ clamp("m63_phi_score - 1.5 * m36_rule_conflict", "-1.0", "1.0") }} as m151_omega,
        -- m152_alignment: user alignment = trust · soul integrity
        m45_trust_score * m38_soul_integrity as m152_alignment,
        -- m153_sys_ent: global entropy = running session mean of m21_chaos (t included)
        avg(m21_chaos) over (
            partition by session_id order by turn_idx
            rows between unbounded preceding and current row
        ) as m153_sys_ent,
        -- m155_completeness: 0.5 without a COMPLETION marker, 1.0 with one or more
        least(1.0, completion_dist / 2.0 + 0.5)::double as m155_completeness,
        -- m156_relevance: max(0, cos) to the latest earlier turn of the other role (udf:emb_context)
        relevance as m156_relevance,
        -- m157_coherence: mean consecutive cosine of the last 10 non-empty turns (udf:emb_context)
        coherence as m157_coherence,
        -- m158_depth: elaboration depth = dist(DEPTH)
        depth_dist::integer as m158_depth,
        -- m159_novelty: 1 − max cosine to every earlier non-empty turn (udf:emb_context)
        novelty as m159_novelty,
        -- m160_clarity: min(1, 1 − confusion + 10 · occ(CLARITY) / n_words); 1 − confusion without words
        case
            when n_words = 0 then 1.0 - m87_sent_14
            else least(1.0, 1.0 - m87_sent_14 + 10.0 * clarity_occ / n_words)
        end as m160_clarity,
        m1_A,
        m2_PCI,
        m19_z_prox,
        m36_rule_conflict,
        hazard
    from turns
)

select
    turn_id,
    session_id,
    turn_idx,
    role,
    m151_omega,
    m152_alignment,
    m153_sys_ent,
    -- m154_quality: (A + PCI + alignment) / 3
    (m1_A + m2_PCI + m152_alignment) / 3.0 as m154_quality,
    m155_completeness,
    m156_relevance,
    m157_coherence,
    m158_depth,
    m159_novelty,
    m160_clarity,
    -- m161_commit_action: final gate, first rule that holds (hazard > 0.8, z_prox > 0.65,
    -- rule_conflict > 0.5 → alert; z_prox > 0.50 → commit; omega < 0.3 → retry; else commit)
    {{ part4_commit_action('hazard', 'm19_z_prox', 'm36_rule_conflict', 'm151_omega') }}
        as m161_commit_action
from synthesis
