{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase6', 'part4'],
) }}

-- Phase 6 of METRICS.md Part 4: context m162-m167 and the cumulative stress integral m168.
-- One row per turn of stg_turns. Timestamps as in P-3: ts = stg_turns.ts_epoch (UTC epoch
-- seconds, NULL when missing or unparseable), e(t) = running max of ts over the session in
-- turn order (missing / out-of-order stamps add zero time, nothing looks ahead).
-- m168: every turn with e non-NULL is a sample (e, z = m19_z_prox); the segment of turn j is
-- ½ (z_{j−1} + z_j) · (e(j) − e(j−1)) / 60 when e(j−1) is non-NULL; cum_stress(t) sums the
-- segments of turns j ≤ t with e(j−1) ≥ e(t) − 1800. Zero-length segments add exactly 0 and are
-- left out. The window sum is the UDF cum_stress_window (udfs/cum_stress.py), one call row per
-- session, adding in turn order from 0.0: deterministic to the bit and linear in the session
-- (a turn-by-segment join was quadratic per session). No RANGE frame on e (rows with equal e
-- after t would enter as peers: look-ahead).

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        t.ts_epoch as ts,
        x.n_words,
        part4_token_counts(x.tokens_cased, x.tokens) as token_counts,
        core.m1_A,
        core.m19_z_prox,
        dyn.m131_session_dur
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('metrics_core') }} as core
        on core.turn_id = t.turn_id
    left join {{ ref('metrics_dynamics') }} as dyn
        on dyn.turn_id = t.turn_id
),

effective as (
    select
        *,
        -- P-3 e(t): running max of the valid timestamps so far
        max(ts) over (
            partition by session_id order by turn_idx
            rows between unbounded preceding and current row
        ) as ts_eff
    from turns
),

samples as (
    select
        *,
        lag(ts_eff) over w_sess as prev_eff,
        lag(m19_z_prox) over w_sess as prev_z,
        -- m164: the user's weighted recent affect (user turns only; lags over the user series)
        case
            when role = 'user' then (
                0.30 * m1_A
                + 0.25 * coalesce(lag(m1_A, 1) over w_role, 0)
                + 0.20 * coalesce(lag(m1_A, 2) over w_role, 0)
                + 0.15 * coalesce(lag(m1_A, 3) over w_role, 0)
                + 0.10 * coalesce(lag(m1_A, 4) over w_role, 0)
            ) / (
                0.30
                + case when lag(turn_idx, 1) over w_role is not null then 0.25 else 0 end
                + case when lag(turn_idx, 2) over w_role is not null then 0.20 else 0 end
                + case when lag(turn_idx, 3) over w_role is not null then 0.15 else 0 end
                + case when lag(turn_idx, 4) over w_role is not null then 0.10 else 0 end
            )
        end as user_state_own
    from effective
    window
        w_sess as (partition by session_id order by turn_idx),
        w_role as (partition by session_id, role order by turn_idx)
),

segments as (
    -- trapezoids with positive length: e(j) > e(j−1)
    select
        session_id,
        turn_idx,
        prev_eff,
        0.5 * (prev_z + m19_z_prox) * (ts_eff - prev_eff) / 60.0 as seg
    from samples
    where prev_eff is not null
        and ts_eff > prev_eff
),

turn_lists as (
    select
        session_id,
        list(turn_id order by turn_idx) as turn_ids,
        list(turn_idx order by turn_idx) as turn_idxs,
        list(ts_eff order by turn_idx) as effs
    from samples
    group by session_id
),

segment_lists as (
    select
        session_id,
        list(turn_idx order by turn_idx) as seg_idxs,
        list(prev_eff order by turn_idx) as seg_prev_effs,
        list(seg order by turn_idx) as segs
    from segments
    group by session_id
),

stress as (
    -- udfs/cum_stress.py: the window sum per turn, linear in the session
    select
        unnest(l.turn_ids) as turn_id,
        unnest(
            cum_stress_window(l.turn_idxs, l.effs, g.seg_idxs, g.seg_prev_effs, g.segs)
        ) as cum_stress
    from turn_lists as l
    left join segment_lists as g
        on g.session_id = l.session_id
),

context as (
    select
        s.*,
        -- m164 on AI turns: the latest earlier user value; 0.5 before the first user turn
        coalesce(
            s.user_state_own,
            last_value(s.user_state_own ignore nulls) over (
                partition by s.session_id order by s.turn_idx
                rows between unbounded preceding and current row
            ),
            0.5
        ) as user_state,
        st.cum_stress
    from samples as s
    left join stress as st
        on st.turn_id = s.turn_id
)

select
    turn_id,
    session_id,
    turn_idx,
    role,
    -- m162_ctx_time: normalised session time = min(1, m131 minutes / 60)
    least(1.0, m131_session_dur / 60.0)::double as m162_ctx_time,
    -- m163_ctx_loc: constant default 0.5 (no location in a stored history, P-6)
    0.5::double as m163_ctx_loc,
    -- m164_user_state: weighted mean of the last ≤ 5 user m1_A (0.10 … 0.30, newest heaviest)
    user_state::double as m164_user_state,
    -- m165_platform: constant default 'pc' (FINAL7 is the PC-phase specification, P-6)
    'pc' as m165_platform,
    -- m166_modality: 'text' (only text is stored: has_audio = has_image = 0, P-6)
    'text' as m166_modality,
    -- m167_noise: min(1, 0.3 · repeated-character tokens + 0.7 · ASCII fragments / n_words)
    case
        when n_words = 0 then 0.0::double
        else least(1.0, 0.3 * token_counts.typos + 0.7 * token_counts.frags / n_words)::double
    end as m167_noise,
    -- m168_cum_stress: z_prox integrated over the last 30 minutes (stress-minutes, trapezoids)
    case
        when ts_eff is null then 0.0::double
        else coalesce(cum_stress, 0.0)::double
    end as m168_cum_stress,
    -- P-3 e(t) in epoch seconds (NULL before the first valid timestamp)
    ts_eff as chronos_eff
from context
