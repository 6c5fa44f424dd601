{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    batch_by='session_id',
    batch_source='stg_turns',
    batch_rows=env_var('EVOKI_BATCH_TURNS', '250000') | int,
    tags=['output'],
) }}

-- metrics_wide: one row per turn with all 168 contract metrics as columns, in contract order
-- (seeds/metric_contract.csv), exactly as their family models computed them. fullspectrum168
-- writes its JSON from this table, and the readback test compares the history against it;
-- for ad-hoc queries it is the one table that holds every metric of a turn.
-- Each contract key lives in exactly one family model (fs168_family_join), so an unqualified
-- key is unambiguous (a second owner would fail to bind, loudly). A turn missing from a family
-- model has no row here; fullspectrum168 stops the build for it.
-- Built in batches of sessions (batch_by, evoki_sql/batches.py): the join holds a hash table
-- of each family model, and one batch of sessions keeps that bounded at any history size.

with turns as (
    select
        turn_id,
        session_id,
        turn_idx
    from {{ ref('stg_turns') }}
),

families as (
    select
        turn_id,
        {%- for row in seed_rows('metric_contract') %}
        {{ row['key'] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ fs168_family_join() | indent(4) }}
)

select
    -- turn key
    t.turn_id,
    -- session key
    t.session_id,
    -- 1-based order in the session (ENGINE §0)
    t.turn_idx,
    {%- for row in seed_rows('metric_contract') %}
    -- {{ fs168_column_comment(row) }}
    f.{{ row['key'] }}{{ ',' if not loop.last }}
    {%- endfor %}
from turns as t
inner join families as f
    on f.turn_id = t.turn_id
