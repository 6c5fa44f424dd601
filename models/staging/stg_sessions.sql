{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['staging'],
) }}

-- One row per session that has turns or a row in `sessions`. Sessions that only the
-- turns name (missing from `sessions`) are kept, flagged by in_sessions_table = false.

with from_turns as (
    select
        session_id,
        count(*) as n_turns,
        count(*) filter (where role = 'user') as n_user_turns,
        count(*) filter (where role = 'ai') as n_ai_turns,
        count(ts) as n_timestamps,
        min(ts) as first_ts,
        max(ts) as last_ts
    from {{ ref('stg_turns') }}
    group by session_id
),

from_sessions as (
    select
        session_id,
        date_ymd,
        source_root,
        created_at
    from {{ source('history', 'sessions') }} as s
    {% if is_incremental() %}
    where {{ in_changed_sessions('s') }}
    {% endif %}
)

select
    coalesce(s.session_id, t.session_id) as session_id,
    s.date_ymd,
    s.source_root,
    s.created_at,
    coalesce(t.n_turns, 0) as n_turns,
    coalesce(t.n_user_turns, 0) as n_user_turns,
    coalesce(t.n_ai_turns, 0) as n_ai_turns,
    coalesce(t.n_timestamps, 0) as n_timestamps,
    t.first_ts,
    t.last_ts,
    s.session_id is not null as in_sessions_table
from from_sessions as s
full outer join from_turns as t
    on t.session_id = s.session_id
