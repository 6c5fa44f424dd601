{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase4', 'trauma'],
) }}

-- Phase 4 (TRAUMA_FULL) of METRICS.md Part 3: m101-m115, one row per turn of stg_turns, any role.
-- m101/m102 are the hoisted phase-1 pre-scan values, copied from trauma_prescan (ENGINE §5).
-- Text features: feat_text (n_words), feat_lexicon_wide (ENGINE §2.4 matcher statistics of
-- T_integ, T_shock, T_panic, Suicide, Self_harm and the P3.1 lists ctx_safe, spatial),
-- feat_hash_chain (m113, udf:hash_chain), feat_emb_context (m114, exact integer cosine to the
-- previous turn). Earlier phases: metrics_core (m7_LL, m15_affekt_a, effective_A, phase 2),
-- metrics_physics (m21_chaos, phase 3). All inputs are left-joined: a missing upstream row gives
-- NULL, which the not_null tests report instead of a plausible value. No rounding (C-19).

with inputs as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        x.n_words,
        p.m101_t_panic,
        p.m102_t_disso,
        w.lex_T_integ_sum as integ_sum,
        w.lex_T_shock_hits as shock_hits,
        w.lex_T_panic_nterms as panic_nterms,
        w.lex_Suicide_hits + w.lex_Self_harm_hits as harm_hits,
        w.lex_ctx_safe_hits as ctx_safe_hits,
        w.lex_spatial_hits as spatial_hits,
        c.m7_LL as ll,
        c.m15_affekt_a as a15,
        c.effective_A as eff_a,
        ph.m21_chaos as chaos,
        h.hash_state,
        h.hash_state_hex,
        e.cos_prev
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('trauma_prescan') }} as p
        on p.turn_id = t.turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    left join {{ ref('metrics_core') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('metrics_physics') }} as ph
        on ph.turn_id = t.turn_id
    left join {{ ref('feat_hash_chain') }} as h
        on h.turn_id = t.turn_id
    left join {{ ref('feat_emb_context') }} as e
        on e.turn_id = t.turn_id
),

-- m103 first: m104 reads it
integration as (
    select
        *,
        -- m103: 0.5 without words, else clamp((lex_sum(T_integ) / (n + 1)) · 8, 0, 1)
        case
            when n_words = 0 then 0.5
            else {{ clamp01('(integ_sum / (n_words + 1)) * 8') }}
        end::double as m103
    from inputs
),

-- P3.3 dual-stream gradients: the step of m15 inside the user stream and inside the ai stream
role_steps as (
    select
        *,
        -- m15(t) − m15(previous turn of the same role); 0 for the first turn of its role
        coalesce(
            a15 - lag(a15) over (partition by session_id, role order by turn_idx),
            0.0
        ) as own_step
    from integration
),

streams as (
    select
        *,
        -- nabla_A(t) = m15(u1) − m15(u0): the step of the latest user turn at or before t
        coalesce(
            last_value(case when role = 'user' then own_step end ignore nulls) over (
                partition by session_id
                order by turn_idx
                rows between unbounded preceding and current row
            ),
            0.0
        ) as nabla_a_raw,
        -- nabla_B(t) = m15(i1) − m15(i0): the step of the latest ai turn at or before t
        coalesce(
            last_value(case when role = 'ai' then own_step end ignore nulls) over (
                partition by session_id
                order by turn_idx
                rows between unbounded preceding and current row
            ),
            0.0
        ) as nabla_b_raw
    from role_steps
),

scored as (
    select
        *,
        {{ p3_no_negzero('nabla_a_raw') }} as nabla_a,
        {{ p3_no_negzero('nabla_b_raw') }} as nabla_b,
        -- m110 base: 0.4·chaos + 0.3·(1 − effective_A) + 0.3·LL (spec order of evaluation)
        0.4 * chaos + 0.3 * (1 - eff_a) + 0.3 * ll as bh_base,
        -- the deterministic guardian verdict of m110 (replaces the LLM): a user turn with a
        -- Suicide/Self_harm hit, or without any ctx_safe marker, is a confirmed emergency
        (role = 'user' and (harm_hits >= 1 or ctx_safe_hits = 0)) as bh_guardian
    from streams
),

phase as (
    select
        *,
        -- atan2 with atan2(0, 0) = 0 and no −0.0 arguments, so the value lies in (−π, π]
        atan2(nabla_a, nabla_b) as m111,
        -- m110 before the final clamp: base below 2 distinct panic terms; otherwise
        -- max(base, 0.85) in a confirmed emergency, min(1, base + 0.1) in a safe context
        case
            when panic_nterms is null or bh_guardian is null then null
            when panic_nterms < 2 then bh_base
            when bh_guardian then {{ max2('bh_base', '0.85::double') }}
            else {{ min2('1.0::double', 'bh_base + 0.1') }}
        end as bh_value
    from scored
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
    -- m101_t_panic: panic vector (hoisted phase-1 value of trauma_prescan), in [0, 1]
    m101_t_panic::double as m101_t_panic,
    -- m102_t_disso: dissociation (hoisted phase-1 value of trauma_prescan), in [0, 1]
    m102_t_disso::double as m102_t_disso,
    -- m103_t_integ: integration, distinct T_integ weight per word · 8 (0.5 without words)
    m103::double as m103_t_integ,
    -- m104_t_shock: 1 on a T_shock hit or derived shock (m101 > 0.8 and m103 < 0.2)
    case
        when shock_hits is null or m101_t_panic is null or m103 is null then null
        when shock_hits >= 1 or (m101_t_panic > 0.8 and m103 < 0.2) then 1
        else 0
    end::integer as m104_t_shock,
    -- m105_t_fog: mental fog, (m7_LL + m102) / 2
    ((ll + m102_t_disso) / 2)::double as m105_t_fog,
    -- m106_i_eff: inverse efficiency (clarity), 1 − m105
    (1 - (ll + m102_t_disso) / 2)::double as m106_i_eff,
    -- m107_turb_c: turbidity-chaos, m7_LL · m21_chaos
    (ll * chaos)::double as m107_turb_c,
    -- m108_turb_l: turbidity × dissociation, m7_LL · m102
    (ll * m102_t_disso)::double as m108_turb_l,
    -- m109_turb_1: composite turbidity, (LL + 0.5·chaos + 0.5·m102) / 2
    ((ll + 0.5 * chaos + 0.5 * m102_t_disso) / 2)::double as m109_turb_1,
    -- m110_black_hole: event horizon; ≥ 0.85 on ≥ 2 distinct panic terms in a confirmed emergency,
    -- base + 0.1 in a safe context (ctx_safe marker without Suicide/Self_harm, or an ai turn)
    {{ clamp01('bh_value') }}::double as m110_black_hole,
    -- m111_g_phase: gravitational phase atan2(nabla_A, nabla_B), in (−π, π]
    m111::double as m111_g_phase,
    -- m112_g_phase_norm: (m111 + π) / (2π), in [0, 1]
    {{ clamp01('(m111 + pi()) / (2 * pi())') }}::double as m112_g_phase_norm,
    -- m113_hash_state: SHA-256 chain fingerprint, first 13 hex digits / 2^52, in [0, 1)
    hash_state::double as m113_hash_state,
    -- m114_cos_sim: exact hashed-embedding cosine to the previous turn (0 first / empty), [−1, 1]
    {{ clamp('cos_prev', '-1.0::double', '1.0::double') }}::double as m114_cos_sim,
    -- m115_spatial_1: spatial markers, min(1, 10 · hits / (n + 1)) (0.5 without words)
    case
        when n_words = 0 then 0.5
        else {{ min2('1.0', '10.0 * spatial_hits / (n_words + 1)') }}
    end::double as m115_spatial_1,
    -- m113_hash_state_hex: the chain state, 64 lowercase hex digits (not a contract slot)
    hash_state_hex as m113_hash_state_hex,
    -- nabla_A (P3.3): m15 step of the user stream at this turn, in [−1, 1] (m111 input)
    nabla_a::double as nabla_a,
    -- nabla_B (P3.3): m15 step of the ai stream at this turn, in [−1, 1] (m111 input)
    nabla_b::double as nabla_b,
    -- m110 base before the guardian rule: 0.4·chaos + 0.3·(1 − effective_A) + 0.3·LL
    bh_base::double as m110_base,
    -- m110 guardian verdict: 1 = confirmed emergency (user, harm hit or no ctx_safe marker)
    bh_guardian::integer as m110_guardian
from phase
