{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase6'],
) }}

-- Phase 6 of METRICS.md Part 2: m36-m55 (integrity and hypermetrics incl. the dyad), one row
-- per turn of stg_turns. Canonical inputs (P2.2): A = m15_affekt_a, PCI = m2_PCI, coh = m5_coh,
-- LL = m7_LL, gap_s = m11_gap_s (metrics_core), g_phase_norm = m112_g_phase_norm
-- (metrics_trauma, phase 4), ctx_break (P2.4, feat_ctx_break: the current turn against the
-- immediately previous turn, any role), engine tokens (feat_text).
-- Dyad partner (P2.3): stg_turns.partner_turn_id = the latest earlier turn of the other role
-- (ai <-> user, not necessarily adjacent, empty texts not skipped; NULL for the first turn,
-- single-role sessions and roles outside {user, ai}); no partner -> m40 = 0.5.
-- Order inside the phase: m36 -> m37 (= m50) -> m38 -> m39, m49, m55; m40 -> m41, m42, m44,
-- m51; m43; m38, m40 -> m45; m43, m44 -> m46 (= m48) -> m54; m47; m52; m53. Inputs are
-- left-joined: a missing upstream row gives NULL, never a plausible value. No rounding (C-19).

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        t.partner_turn_id,
        c.m2_PCI,
        c.m5_coh,
        c.m7_LL,
        c.m11_gap_s,
        c.m15_affekt_a,
        tr.m112_g_phase_norm,
        b.ctx_break,
        -- m40: distinct tokens of the turn and of its partner, and how many they share
        x.n_unique,
        px.n_unique as partner_n_unique,
        {{ p1_n_common('x.tokens', 'px.tokens') }} as n_common_with_partner
    from {{ ref('stg_turns') }} as t
    left join {{ ref('metrics_core') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('metrics_trauma') }} as tr
        on tr.turn_id = t.turn_id
    left join {{ ref('feat_ctx_break') }} as b
        on b.turn_id = t.turn_id
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('feat_text') }} as px
        on px.turn_id = t.partner_turn_id
),

integrity as (
    select
        *,
        {{ clamp01('0.5 * m7_LL + 0.3 * (1.0 - m5_coh) + 0.2 * ctx_break') }} as m36,
        {{ p2_dyad_jaccard(
            'n_unique', 'partner_n_unique', 'n_common_with_partner', 'partner_turn_id is not null'
        ) }}
            as m40_raw
    from turns
),

stable as (
    select
        *,
        {{ clamp01('1.0 - m36') }} as m37,
        {{ clamp01('m40_raw') }} as m40,
        {{ clamp01('0.9 * m5_coh') }} as m43
    from integrity
),

soul as (
    select
        *,
        {{ clamp01('m37 * m15_affekt_a') }} as m38,
        {{ clamp01('0.9 * m40') }} as m44
    from stable
),

rapport as (
    select
        *,
        {{ clamp01('0.4 * m38 + 0.3 * m40 + 0.3 * m5_coh') }} as m45,
        {{ clamp01('0.5 * (m43 + m44)') }} as m46
    from soul
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- order in the session (1-based, ENGINE §0)
    turn_idx,
    -- speaker role ('user' / 'ai' / other)
    role,
    -- dyad partner (P2.3): latest earlier turn of the other role, NULL when none
    partner_turn_id,
    -- ctx_break (P2.4): 1 - max(0, cos) against the previous turn, 0 when undefined
    ctx_break,
    -- m36_rule_conflict: 0.5*LL + 0.3*(1 - coh) + 0.2*ctx_break
    m36 as m36_rule_conflict,
    -- m37_rule_stable: 1 - m36
    m37 as m37_rule_stable,
    -- m38_soul_integrity: m37 * m15
    m38 as m38_soul_integrity,
    -- m39_soul_check: m38 * m15 (= m37 * m15^2), stored as a float (P2-C06)
    {{ clamp01('m38 * m15_affekt_a') }} as m39_soul_check,
    -- m40_h_conv: token Jaccard with the dyad partner, 0.5 without partner or tokens
    m40 as m40_h_conv,
    -- m41_h_symbol: 1.0 when m40 > 0.7 (strict), else 0.0
    case when m40 > 0.7 then 1.0::double when m40 <= 0.7 then 0.0::double end as m41_h_symbol,
    -- m42_nabla_dyad: m40 - 0.5, the deviation from neutral harmony
    {{ clamp('m40 - 0.5', '-0.5::double', '0.5::double') }} as m42_nabla_dyad,
    -- m43_pacing: 0.9 * coh of the current turn
    m43 as m43_pacing,
    -- m44_mirroring: 0.9 * m40
    m44 as m44_mirroring,
    -- m45_trust_score: 0.4*m38 + 0.3*m40 + 0.3*coh
    m45 as m45_trust_score,
    -- m46_rapport: (m43 + m44) / 2
    m46 as m46_rapport,
    -- m47_focus_stability: 1 - ctx_break
    {{ clamp01('1.0 - ctx_break') }} as m47_focus_stability,
    -- m48_hyp_1: synchronisation index (m43 + m44) / 2.0, bit-identical to m46
    {{ clamp01('(m43 + m44) / 2.0') }} as m48_hyp_1,
    -- m49_hyp_2: m38 squared
    {{ clamp01('m38 * m38') }} as m49_hyp_2,
    -- m50_hyp_3: inverse conflict 1 - m36 (= m37)
    {{ clamp01('1.0 - m36') }} as m50_hyp_3,
    -- m51_hyp_4: harmony-weighted affect m40 * m15
    {{ clamp01('m40 * m15_affekt_a') }} as m51_hyp_4,
    -- m52_hyp_5: normalised gravitational phase, m112_g_phase_norm
    {{ clamp01('m112_g_phase_norm') }} as m52_hyp_5,
    -- m53_hyp_6: time factor in hours, max(0, gap_s) / 3600
    {{ p2_pos('m11_gap_s') }} / 3600.0 as m53_hyp_6,
    -- m54_hyp_7: trust-rapport product m45 * m46
    {{ clamp01('m45 * m46') }} as m54_hyp_7,
    -- m55_hyp_8: soul-complexity product m38 * PCI
    {{ clamp01('m38 * m2_PCI') }} as m55_hyp_8
from rapport
