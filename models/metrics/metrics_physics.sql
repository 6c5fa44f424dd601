{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase3'],
) }}

-- Phase 3 of METRICS.md Part 1: m21-m27 and m33-m35, one row per turn of stg_turns. Every
-- input comes from phase 2 (metrics_core) or from the text features (n_words of feat_text).
-- m23 differences m2_PCI against the latest earlier same-role turn that has words (P1-04,
-- P1-06): word-less turns get 0 and are skipped as predecessors. No rounding (P1-20).

with inputs as (
    select
        c.turn_id,
        c.session_id,
        c.turn_idx,
        c.role,
        x.n_words,
        c.m2_PCI as m2,
        c.m5_coh as m5,
        c.m6_ZLF as m6,
        c.m15_affekt_a as m15,
        c.m17_nabla_a as m17,
        c.m18_s_entropy as m18,
        c.m19_z_prox as m19
    from {{ ref('metrics_core') }} as c
    left join {{ ref('feat_text') }} as x
        on x.turn_id = c.turn_id
),

gradients as (
    select
        *,
        -- m23: m2 minus m2 of the latest earlier same-role turn with words (0 if none)
        case
            when n_words = 0 then 0.0::double
            when n_words >= 1 then coalesce(
                m2 - last_value(case when n_words >= 1 then m2 end ignore nulls) over (
                    partition by session_id, role
                    order by turn_idx
                    rows between unbounded preceding and 1 preceding
                ),
                0.0
            )
        end as m23
    from inputs
)

select
    -- the turn (stg_turns.turn_id), every turn once
    turn_id,
    -- its session
    session_id,
    -- its 1-based position in the session (ENGINE §0)
    turn_idx,
    -- user / ai
    role,
    -- m21_chaos: character entropy scaled by 4, clamp(m18 / 4, 0, 1)
    {{ clamp01('m18 / 4.0') }}::double as m21_chaos,
    -- m22_cog_load: length load, min(1, n_words / 500)
    {{ clamp01('n_words / 500.0') }}::double as m22_cog_load,
    -- m23_nabla_pci: m2_PCI minus m2_PCI of the previous same-role turn with words
    m23::double as m23_nabla_pci,
    -- m24_zeta: stability factor (1 − z_prox) · A-core
    ((1.0 - m19) * m15)::double as m24_zeta,
    -- m25_psi: length-normalised complexity, m2_PCI / (1 + n_words / 100)
    (m2 / (1.0 + n_words / 100.0))::double as m25_psi,
    -- m26_e_i_proxy: energy-information proxy |∇A| · (1 − m2_PCI)
    (abs(m17) * (1.0 - m2))::double as m26_e_i_proxy,
    -- m27_lambda_depth: semantic depth, min(1, n_words / 100)
    {{ clamp01('n_words / 100.0') }}::double as m27_lambda_depth,
    -- m33_phys_6: coherence-weighted complexity m2_PCI · m5_coh
    (m2 * m5)::double as m33_phys_6,
    -- m34_phys_7: absolute rate of change of A, |m17_nabla_a|
    abs(m17)::double as m34_phys_7,
    -- m35_phys_8: fixed-point proximity, m6_ZLF (D-05 fallback, no Wormhole graph in a backfill)
    m6::double as m35_phys_8
from gradients
