{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase5'],
) }}

-- Phase 5 of METRICS.md Part 2: m56-m70 (Andromatik drive, FEP, token economy), one row per
-- turn of stg_turns. Canonical inputs (P2.2): A = m15_affekt_a, PCI = m2_PCI, ZLF = m6_ZLF,
-- LL = m7_LL, z_prox = m19_z_prox (metrics_core), T_panic = m101_t_panic (trauma_prescan, its
-- final value, ENGINE §5), T_integ = m103_t_integ (metrics_trauma, phase 4), causal_density
-- (P2.6) from feat_lexicon_wide's CAUSAL_MARKERS distinct-term count.
-- Order inside the phase: A_pred -> m56 (= m64) -> benefit -> m60 -> token fold (m57, m58)
-- -> m59, m65-m68; m61 -> m63 <- m62; m69, m70. prev_same_role = latest earlier turn of the
-- same role (P2.1). The recursive reserves (P2.7) are folded per session in turn order by the
-- vectorized UDF part2_token_economy (udfs/part2_token_economy.py, the catalogue's Python
-- reference, bit-identical to its WITH RECURSIVE form). Inputs are left-joined: a missing
-- upstream row gives NULL (and the fold raises), never a plausible value. No rounding (C-19).

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        c.m15_affekt_a,
        c.m2_PCI,
        c.m6_ZLF,
        c.m7_LL,
        c.m19_z_prox,
        p.m101_t_panic,
        tr.m103_t_integ,
        w.lex_CAUSAL_MARKERS_nterms as causal_nterms
    from {{ ref('stg_turns') }} as t
    left join {{ ref('metrics_core') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('trauma_prescan') }} as p
        on p.turn_id = t.turn_id
    left join {{ ref('metrics_trauma') }} as tr
        on tr.turn_id = t.turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
),

-- P2.5 affect forecast: the previous same-role m15, 0.5 (neutral prior) when none exists
forecast as (
    select
        *,
        case
            when lag(turn_id) over w_role is null then 0.5::double
            else lag(m15_affekt_a) over w_role
        end as a_pred,
        -- P2.6: distinct causal markers / 4, capped at 1
        case when causal_nterms >= 4 then 1.0::double else causal_nterms / 4.0 end
            as causal_density
    from turns
    window w_role as (partition by session_id, role order by turn_idx)
),

surprise as (
    select
        *,
        {{ clamp01('abs(m15_affekt_a - a_pred)') }} as m56
    from forecast
),

-- P2.7 surprise reduction against the same-role predecessor (0 without one) and m60
deltas as (
    select
        *,
        case
            when lag(turn_id) over w_role is null then 0.0::double
            else {{ p2_pos('lag(m56) over w_role - m56') }}
        end as surprise_benefit
    from surprise
    window w_role as (partition by session_id, role order by turn_idx)
),

learning as (
    select
        *,
        (5.0 * surprise_benefit) * m15_affekt_a - 0.05 as m60
    from deltas
),

-- P2.7 the shared per-session state, folded in turn order (one UDF row = one session)
sessions as (
    select
        session_id,
        list(turn_idx order by turn_idx) as turn_idxs,
        list(m60 order by turn_idx) as m60s,
        list(causal_density order by turn_idx) as causal_densities
    from learning
    group by session_id
),

economy as (
    select
        session_id,
        unnest(part2_token_economy(turn_idxs, m60s, causal_densities)) as state
    from sessions
),

reserves as (
    select
        l.*,
        {{ clamp('e.state.soc', '0.0::double', '100.0::double') }} as m57,
        {{ clamp('e.state.log', '0', '100') }}::integer as m58
    from learning as l
    left join economy as e
        on e.session_id = l.session_id
        and e.state.turn_idx = l.turn_idx
),

decision as (
    select
        *,
        {{ clamp01('0.4 * m15_affekt_a + 0.3 * m2_PCI + 0.3 * m103_t_integ') }} as m61,
        {{ clamp01('0.5 * m19_z_prox + 0.05 * (1.0 - m2_PCI) + 0.45 * m101_t_panic') }} as m62,
        -- P2-C16: ZLF above 0.7 (strict) is the hard stagnation add-on of m59
        case when m6_ZLF > 0.7 then m6_ZLF else 0.0::double end as stagnation
    from reserves
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
    -- A_pred (P2.5): m15 of the previous same-role turn, 0.5 when none
    a_pred,
    -- causal_density (P2.6): min(1, distinct causal markers / 4)
    causal_density,
    -- b (P2.7): max(0, m56 of the previous same-role turn - m56), 0 when none
    surprise_benefit,
    -- m56_surprise: |m15 - A_pred|, the affect forecast error
    m56 as m56_surprise,
    -- m57_tokens_soc: social token reserve, fold of m60 over the session from 50.0
    m57 as m57_tokens_soc,
    -- m58_tokens_log: logical token reserve, integer fold of m60 - 2*causal_density from 30
    m58 as m58_tokens_log,
    -- m59_p_antrieb: drive pressure (m57 + m58)/200 plus ZLF when ZLF > 0.7, capped at 1
    {{ clamp01('(m57 + m58) / 200.0 + stagnation') }} as m59_p_antrieb,
    -- m60_delta_tokens: learning signal (5 * surprise reduction) * m15 - 0.05
    m60 as m60_delta_tokens,
    -- m61_u_fep: FEP utility 0.4*m15 + 0.3*m2 + 0.3*m103
    m61 as m61_u_fep,
    -- m62_r_fep: FEP risk 0.5*m19 + 0.05*(1 - m2) + 0.45*m101 (V3.3 bridge)
    m62 as m62_r_fep,
    -- m63_phi_score: net utility m61 - m62
    {{ clamp('m61 - m62', '-1.0::double', '1.0::double') }} as m63_phi_score,
    -- m64_pred_error: prediction error, the same forecast as m56 (bit-identical)
    m56 as m64_pred_error,
    -- m65_drive_soc: social drive m57 / 100
    {{ clamp01('m57 / 100.0') }} as m65_drive_soc,
    -- m66_drive_log: logical drive m58 / 100
    {{ clamp01('m58 / 100.0') }} as m66_drive_log,
    -- m67_total_drive: total drive (m57 + m58) / 200
    {{ clamp01('(m57 + m58) / 200.0') }} as m67_total_drive,
    -- m68_drive_balance: social share m57 / (m57 + m58 + 0.01)
    {{ clamp01('m57 / (m57 + m58 + 0.01)') }} as m68_drive_balance,
    -- m69_learning_rate: 5 * (1 - m19)
    {{ clamp('5.0 * (1.0 - m19_z_prox)', '0.0::double', '5.0::double') }} as m69_learning_rate,
    -- m70_decay_factor: 0.05 * (1 + m7)
    {{ clamp('0.05 * (1.0 + m7_LL)', '0.05::double', '0.1::double') }} as m70_decay_factor
from decision
