{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase6', 'evolution'],
) }}

-- Phase 6 of METRICS.md Part 3: the evolution family m71-m75 (Schema A), one row per turn of
-- stg_turns, any role. Inputs: m15_affekt_a and m2_PCI (metrics_core, phase 2), m38_soul_integrity
-- and m45_trust_score (metrics_integrity, phase 6; metrics.csv: metrics_integrity reads nothing of
-- m71-m75, so there is no cycle). Inputs are left-joined: a missing upstream row gives NULL, which
-- the not_null tests report. No rounding (C-19).

with inputs as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        c.m15_affekt_a as a15,
        c.m2_PCI as pci,
        i.m38_soul_integrity as soul,
        i.m45_trust_score as trust
    from {{ ref('stg_turns') }} as t
    left join {{ ref('metrics_core') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('metrics_integrity') }} as i
        on i.turn_id = t.turn_id
),

resonance as (
    select
        *,
        -- m71: clamp((A + PCI + soul_integrity) / 3, 0, 1)
        {{ clamp01('(a15 + pci + soul) / 3') }} as m71,
        -- A_prev: m15 of the latest earlier turn with the same role; the turn's own m15 if none
        coalesce(
            lag(a15) over (partition by session_id, role order by turn_idx),
            a15
        ) as a15_prev_same_role
    from inputs
),

readiness as (
    select
        *,
        -- m73: clamp(m71 · trust_score, 0, 1)
        {{ clamp01('m71 * trust') }} as m73
    from resonance
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
    -- m71_ev_resonance: evolution resonance, mean of m15_affekt_a, m2_PCI, m38_soul_integrity
    m71::double as m71_ev_resonance,
    -- m72_ev_tension: change pressure, |m15 − m15(prev same role)| · (1 − m71) (0 on a role's first turn)
    {{ clamp01('abs(a15 - a15_prev_same_role) * (1 - m71)') }}::double as m72_ev_tension,
    -- m73_ev_readiness: evolution readiness, m71 · m45_trust_score
    m73::double as m73_ev_readiness,
    -- m74_ev_signal: evolution signal, 1 if m73 > 0.8 (strict) else 0
    case
        when m73 is null then null
        when m73 > 0.8 then 1
        else 0
    end::integer as m74_ev_signal,
    -- m75_vkon_mag: resonance amplitude, 2 · |m71 − 0.5|
    {{ clamp01('2 * abs(m71 - 0.5)') }}::double as m75_vkon_mag
from readiness
