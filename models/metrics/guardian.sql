{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase6', 'part4', 'guardian'],
) }}

-- Phase 6, last step: the guardian engine columns of ENGINE §4 and §6, one row per turn of
-- stg_turns, any role (C-21).
--   F_risk          = clamp(0.40·(1 − effective_A) + 0.35·m101_t_panic + 0.25·(1 − B_align), 0, 1)
--                     (Book 3 weights, C-16/C-17; not rounded, C-19; not a contract slot)
--   safe_context    = lex_hits(ctx_safe) ≥ 1 and lex_hits(Suicide) + lex_hits(Self_harm) = 0 (C-32)
--   guardian_action = the first rule of ENGINE §6 that holds: veto_hazard, veto_panic,
--                     veto_black_hole, veto_z_prox, veto_a29, veto_f_risk, warn, retry, commit
--                     (C-28 black hole, C-29 rule_conflict only warns, C-31 F_risk veto > 0.75,
--                     C-32 panic in a game / film / hypothetical context warns; PD-1 the same
--                     context verdict for the black-hole veto, see guardian.yml)
--   is_alert        = [guardian_action starts with 'veto_']
-- The rules live in macros/part4.sql (part4_f_risk, part4_safe_context, part4_guardian_action).
-- Every input is left-joined; a NULL input gives a NULL action, which the not_null test reports.

with inputs as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        h.hazard,
        w.lex_ctx_safe_hits as ctx_safe_hits,
        w.lex_Suicide_hits as suicide_hits,
        w.lex_Self_harm_hits as self_harm_hits,
        b.b_align,
        core.effective_A,
        core.m19_z_prox,
        core.m30_phys_3,
        trauma.m101_t_panic,
        trauma.m110_black_hole,
        integ.m36_rule_conflict,
        syn.m151_omega,
        ctx.m168_cum_stress
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_hazard') }} as h
        on h.turn_id = t.turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    left join {{ ref('feat_b_vector') }} as b
        on b.turn_id = t.turn_id
    left join {{ ref('metrics_core') }} as core
        on core.turn_id = t.turn_id
    left join {{ ref('metrics_trauma') }} as trauma
        on trauma.turn_id = t.turn_id
    left join {{ ref('metrics_integrity') }} as integ
        on integ.turn_id = t.turn_id
    left join {{ ref('metrics_synthesis') }} as syn
        on syn.turn_id = t.turn_id
    left join {{ ref('metrics_context') }} as ctx
        on ctx.turn_id = t.turn_id
),

risk as (
    select
        *,
        -- F_risk: the guardian's risk score (ENGINE §4)
        {{ part4_f_risk('effective_A', 'm101_t_panic', 'b_align') }} as F_risk,
        -- safe_context: a game / film / fiction / hypothetical marker and no suicide or self-harm term
        {{ part4_safe_context('ctx_safe_hits', 'suicide_hits', 'self_harm_hits') }} as safe_context
    from inputs
),

decided as (
    select
        *,
        {{ part4_guardian_action(
            'hazard', 'm101_t_panic', 'm110_black_hole', 'm19_z_prox', 'm30_phys_3', 'F_risk',
            'm168_cum_stress', 'm36_rule_conflict', 'm151_omega', 'safe_context'
        ) }} as guardian_action
    from risk
)

select
    turn_id,
    session_id,
    turn_idx,
    role,
    -- F_risk: clamp(0.40·(1 − effective_A) + 0.35·T_panic + 0.25·(1 − B_align), 0, 1)
    F_risk,
    -- safe_context: 1 if the panic vetoes are lifted to warn (ctx_safe hit, no Suicide/Self_harm hit)
    safe_context::integer as safe_context,
    -- guardian_action: the first ENGINE §6 rule that holds
    guardian_action,
    -- is_alert: 1 if guardian_action is a veto (a human should look at this turn)
    case when guardian_action is null then null
         when starts_with(guardian_action, 'veto_') then 1 else 0 end as is_alert,
    -- inputs of the decision, kept for audit
    hazard,
    m101_t_panic,
    m110_black_hole,
    m19_z_prox,
    m30_phys_3,
    m36_rule_conflict,
    m151_omega,
    m168_cum_stress,
    effective_A,
    b_align
from decided
