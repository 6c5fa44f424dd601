{{ config(
    materialized='history_writeback',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    batch_by='session_id',
    batch_source='stg_turns',
    batch_rows=env_var('EVOKI_BATCH_TURNS', '250000') | int,
    tags=['output'],
) }}

-- FullSpectrum168: one row per turn with all 168 contract metrics, written back into the
-- history's `metrics` table by the history_writeback materialization (one transaction,
-- upsert by turn_id, unchanged fingerprints skipped unless --full-refresh).
--   critical columns  the five contract critical metrics, m151_hazard (= the ENGINE §2.7 hazard
--                     score, C-11, not m151_omega) and F_risk, as REAL columns for indexing
--   metrics_json      the 168 contract keys in contract order (macros/fullspectrum.sql)
--   fingerprint       the SHA-256 chain of the session's input rows up to this turn
--                     (udfs/input_fingerprint.py); the write-back adds the code version
-- The metric values come from metrics_wide (every contract key as a column). Built in batches
-- of sessions (batch_by, evoki_sql/batches.py): the JSON text is about 5 KB a turn, and one
-- batch at a time keeps its assembly and its sort bounded at any history size. The batches
-- are ascending session ranges, each sorted, so the table keeps its row order.

with turns as (
    select
        turn_id,
        session_id,
        turn_idx,
        role,
        prompt_num,
        ts_iso,
        text
    from {{ ref('stg_turns') }}
),

sessions as (
    select
        session_id,
        list(turn_id order by turn_idx) as turn_ids,
        list(
            {{ fs168_input_record('turn_id', 'prompt_num', 'role', 'ts_iso', 'text') }}
            order by turn_idx
        ) as records
    from turns
    group by session_id
),

fingerprints as (
    select
        unnest(turn_ids) as turn_id,
        unnest(input_fingerprint(records)) as fingerprint
    from sessions
),

assembled as (
    -- the rows in their final order, before the JSON is written: the sort then moves the
    -- 168 values of a turn (1.3 KB) instead of its JSON text (about 5 KB)
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        m.turn_id is null as has_no_metrics_row,
        m.* exclude (turn_id, session_id, turn_idx),
        h.hazard as m151_hazard,
        g.F_risk,
        g.is_alert,
        g.guardian_action,
        f.fingerprint
    from turns as t
    left join {{ ref('metrics_wide') }} as m
        on m.turn_id = t.turn_id
    left join {{ ref('feat_hazard') }} as h
        on h.turn_id = t.turn_id
    left join {{ ref('guardian') }} as g
        on g.turn_id = t.turn_id
    left join fingerprints as f
        on f.turn_id = t.turn_id
    order by t.session_id, t.turn_idx
)

select
    -- turn key (upsert key of the write-back)
    turn_id,
    -- session key
    session_id,
    -- 1-based order in the session (ENGINE §0)
    turn_idx,
    -- user / ai ('assistant' read as 'ai')
    role,
    -- m1_A: affect core, [0, 1]
    m1_A,
    -- m2_PCI: process coherence index, [0, 1]
    m2_PCI,
    -- m19_z_prox: proximity to the zero point (collapse), [0, 1]
    m19_z_prox,
    -- m101_t_panic: panic trauma score, [0, 1]
    m101_t_panic,
    -- m110_black_hole: event horizon, [0, 1]
    m110_black_hole,
    -- m151_hazard: the hazard lexicon score of ENGINE §2.7 (C-11), [0, 1]
    m151_hazard,
    -- F_risk: the guardian's risk score (ENGINE §4), [0, 1]
    F_risk,
    -- metrics_json: the 168 contract metrics, contract order, fixed number format
    case
        when has_no_metrics_row
            then error('fullspectrum168: turn ' || turn_id || ' has no row in a metric family model (metrics_wide)')
        else {{ fs168_metrics_json('turn_id') | indent(8) }}
    end as metrics_json,
    -- is_alert: 1 if guardian_action is a veto
    is_alert,
    -- guardian_action: the first ENGINE §6 rule that holds
    guardian_action,
    -- fingerprint: SHA-256 chain of the session's inputs up to this turn
    fingerprint
-- a fixed row order, set by the ordered CTE `assembled` (a projection keeps its input's
-- order in DuckDB): the write-back streams the table in this order, so the history's metrics
-- rows are inserted in conversation order, the same on every run
from assembled
