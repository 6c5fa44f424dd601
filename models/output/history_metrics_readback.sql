{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['output', 'readback'],
) }}

-- depends_on: {{ ref('fullspectrum168') }}
-- The history's metrics table read back through the attached database after the write-back,
-- one row per stored row of an existing turn (orphan rows of deleted turns are left out: the
-- backfill leaves them alone and the report counts them). metrics_json is parsed once into one
-- typed column per contract key, so the data tests (models/output/history_metrics_readback.yml,
-- one range test per metric) read columns instead of re-parsing JSON 168 times.
-- A row whose metrics_json is not valid JSON keeps NULL metric columns and json_valid = false.
-- The JSON text itself and its key list are not kept: they are checked here, row by row
-- (json_valid, json_keys_in_contract_order), and the text stays in the history's metrics
-- table. Storing them again took a third of this model's time at 1M turns (4.7 GB of text,
-- 168M list entries).
-- Partitioned by session like the metric models: an incremental build re-reads the rows of
-- the sessions it rebuilt.

with written as (
    select
        m.metric_id,
        m.turn_id,
        m.session_id,
        m.m1_A as m1_A_column,
        m.m2_PCI as m2_PCI_column,
        m.m19_z_prox as m19_z_prox_column,
        m.m101_t_panic as m101_t_panic_column,
        m.m110_black_hole as m110_black_hole_column,
        m.m151_hazard as m151_hazard_column,
        m.F_risk as F_risk_column,
        m.metrics_json,
        m.calculated_at,
        m.is_alert,
        m.guardian_action,
        m.input_fingerprint
    {% if is_incremental() and 'model.evoki.fullspectrum168' in selected_resources %}
    -- an incremental build: the stored rows of this build's sessions, which the write-back
    -- read back after its commit through a fresh read-only SQLite connection (a temp table of
    -- this invocation)
    from {{ this.schema }}.fullspectrum168__readback as m
    {% else %}
    -- the stored rows of existing turns; an incremental build that does not run the write-back
    -- (a selection without fullspectrum168) reads those of this build's sessions only
    from {{ source('history', 'metrics') }} as m
    where exists (
        select 1
        from {{ source('history', 'turns') }} as t
        where t.turn_id = m.turn_id
    )
    {% if is_incremental() %}
        and {{ in_changed_sessions('m') }}
    {% endif %}
    {% endif %}
),

parsed as (
    select
        *,
        coalesce(json_valid(metrics_json), false) as json_valid,
        case
            when json_valid(metrics_json)
                then json_keys(metrics_json) = {{ fs168_key_list() }}
            else false
        end as json_keys_in_contract_order,
        case
            when json_valid(metrics_json)
                then json_transform(metrics_json, {{ fs168_json_structure() }})
        end as metric_values
    from written
)

select
    -- deterministic id of the row (kept from an older row when there was one)
    metric_id,
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- the critical columns as stored (suffix _column; the bare names are the JSON values)
    m1_A_column,
    m2_PCI_column,
    m19_z_prox_column,
    m101_t_panic_column,
    m110_black_hole_column,
    m151_hazard_column,
    F_risk_column,
    -- whether the stored metrics_json parses as JSON
    json_valid,
    -- whether its top-level keys are exactly the 168 contract keys, in contract order
    json_keys_in_contract_order,
    -- ISO-8601 UTC time of the write that produced the row
    calculated_at,
    -- alert flag and guardian action as stored
    is_alert,
    guardian_action,
    -- input fingerprint of the row (SHA-256 of the code version and the session prefix)
    input_fingerprint,
    -- one column per contract key (DOUBLE, enums VARCHAR), NULL when the key is missing
    unnest(metric_values)
from parsed
