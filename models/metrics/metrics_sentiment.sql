{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase5', 'sentiment'],
) }}

-- Phase 5 of METRICS.md Part 3: m76-m95 and m100, one row per turn of stg_turns, any role.
-- v, a, d = sent_valence, sent_arousal, sent_dominance of feat_vad (P3.2, each in [0, 1],
-- 0.5 for wordless text). Other inputs: m2_PCI (metrics_core, phase 2), m101_t_panic,
-- m102_t_disso, m103_t_integ (metrics_trauma, phase 4). Inputs are left-joined: a missing
-- upstream row gives NULL, which the not_null tests report. Formulas are the catalogue's, kept in
-- its order of evaluation; no rounding (C-19).

with inputs as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        f.sent_valence as v,
        f.sent_arousal as a,
        f.sent_dominance as d,
        c.m2_PCI as pci,
        tr.m101_t_panic as panic,
        tr.m102_t_disso as disso,
        tr.m103_t_integ as integ
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_vad') }} as f
        on f.turn_id = t.turn_id
    left join {{ ref('metrics_core') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('metrics_trauma') }} as tr
        on tr.turn_id = t.turn_id
),

-- the metrics other metrics of this family read (m78 → m86, m83 → m85, m89 → m90)
base as (
    select
        *,
        {{ clamp01('(2 - v - a) / 2') }} as m78,
        0.8 * a as m83,
        (v + (1 - a) + integ) / 3 as m89
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
    -- m76_ev_1: agency / dominance, = sent_dominance d
    d::double as m76_ev_1,
    -- m77_sent_4: joy, clamp(v + a − 1, 0, 1)
    {{ clamp01('v + a - 1') }}::double as m77_sent_4,
    -- m78_sent_5: sadness, clamp((2 − v − a) / 2, 0, 1)
    m78::double as m78_sent_5,
    -- m79_sent_6: anger, clamp((1 − v + a) / 2, 0, 1)
    {{ clamp01('(1 - v + a) / 2') }}::double as m79_sent_6,
    -- m80_sent_7: fear, max(clamp((3 − v + a − d) / 3, 0, 1), 0.8 · m101_t_panic)
    {{ max2(clamp01('(3 - v + a - d) / 3'), '0.8 * panic') }}::double as m80_sent_7,
    -- m81_sent_8: trust, max(clamp((v + (1 − a) + d) / 3, 0, 1), 0.6 · m103_t_integ)
    {{ max2(clamp01('(v + (1 - a) + d) / 3'), '0.6 * integ') }}::double as m81_sent_8,
    -- m82_sent_9: disgust, 0.7 · (1 − v), in [0, 0.7]
    (0.7 * (1 - v))::double as m82_sent_9,
    -- m83_sent_10: anticipation, 0.8 · a, in [0, 0.8]
    m83::double as m83_sent_10,
    -- m84_sent_11: surprise, a · (1 − 2·|v − 0.5|)
    (a * (1 - 2 * abs(v - 0.5)))::double as m84_sent_11,
    -- m85_sent_12: hope, (v + m83) / 2
    ((v + m83) / 2)::double as m85_sent_12,
    -- m86_sent_13: despair, ((1 − v) + m78) / 2
    (((1 - v) + m78) / 2)::double as m86_sent_13,
    -- m87_sent_14: confusion, a · (1 − m2_PCI)
    (a * (1 - pci))::double as m87_sent_14,
    -- m88_sent_15: clarity, m2_PCI · (0.5 + 0.5·a)
    (pci * (0.5 + 0.5 * a))::double as m88_sent_15,
    -- m89_sent_16: acceptance, (v + (1 − a) + m103_t_integ) / 3
    m89::double as m89_sent_16,
    -- m90_sent_17: resistance, a · (1 − m89)
    (a * (1 - m89))::double as m90_sent_17,
    -- m91_sent_18: emotional coherence, m2_PCI · (1 − m102_t_disso)
    (pci * (1 - disso))::double as m91_sent_18,
    -- m92_sent_19: emotional stability, (1 − a) · (1 − 2·|v − 0.5|)
    ((1 - a) * (1 - 2 * abs(v - 0.5)))::double as m92_sent_19,
    -- m93_sent_20: emotional range, distance from the VAD centre, in [0, √3/2]
    sqrt((v - 0.5) * (v - 0.5) + (a - 0.5) * (a - 0.5) + (d - 0.5) * (d - 0.5))::double
        as m93_sent_20,
    -- m94_sent_21: comfort, (1 − a) · (1 − |v − 0.6|)
    ((1 - a) * (1 - abs(v - 0.6)))::double as m94_sent_21,
    -- m95_sent_22: tension (aroused polarisation), 2 · a · |v − 0.5|
    (2 * a * abs(v - 0.5))::double as m95_sent_22,
    -- m100_sent_27: sentiment closure, d · (0.5 + 0.5·v)
    (d * (0.5 + 0.5 * v))::double as m100_sent_27
from base
