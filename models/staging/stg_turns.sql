{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['staging'],
) }}

-- One row per turn, in the catalogue's turn order (ENGINE §0): within a session by
-- prompt_num ascending (NULL last), ties by turn_id. Role 'assistant' is read as 'ai',
-- NULL text as ''. Timestamps: ISO-8601, zone-less = UTC, unparseable or empty = NULL
-- (METRICS P-3); they never reorder turns. Partitioned by session: an incremental build
-- rebuilds the sessions stg_changed_sessions lists.

with turns as (
    select
        t.turn_id,
        t.session_id,
        case lower(trim(t.role)) when 'assistant' then 'ai' else lower(trim(t.role)) end as role,
        t.role as role_raw,
        coalesce(t.text, '') as text,
        t.prompt_num,
        t.ts_iso,
        try_cast(nullif(trim(t.ts_iso), '') as timestamptz) as ts,
        t.date_ymd,
        t.file_path,
        t.created_at,
        s.session_id is not null as session_known
    from {{ source('history', 'turns') }} as t
    left join {{ source('history', 'sessions') }} as s
        on s.session_id = t.session_id
    {% if is_incremental() %}
    -- an incremental build reads the turns of this build's sessions only
    where {{ in_changed_sessions('t') }}
    {% endif %}
),

ordered as (
    select
        *,
        row_number() over (
            partition by session_id
            order by prompt_num asc nulls last, turn_id asc
        ) as turn_idx
    from turns
),

linked as (
    select
        *,
        lag(turn_id) over w_session as prev_turn_id,
        lag(turn_idx) over w_role as prev_same_role_idx,
        lag(turn_id) over w_role as prev_same_role_turn_id,
        max(case when role = 'user' then turn_idx end) over w_before as last_user_idx,
        max(case when role = 'ai' then turn_idx end) over w_before as last_ai_idx,
        lag(ts) over w_session as prev_ts,
        count(*) over (partition by session_id) as session_turns,
        min(date_ymd) over (partition by session_id) as session_first_date
    from ordered
    window
        w_session as (partition by session_id order by turn_idx),
        w_role as (partition by session_id, role order by turn_idx),
        w_before as (
            partition by session_id order by turn_idx
            rows between unbounded preceding and 1 preceding
        )
)

select
    l.turn_id,
    l.session_id,
    l.turn_idx,
    l.session_turns,
    l.role,
    l.role_raw,
    l.text,
    l.prompt_num,
    l.ts_iso,
    l.ts,
    epoch(l.ts) as ts_epoch,
    l.prev_turn_id,
    l.turn_idx - 1 as prev_turn_idx,
    l.prev_same_role_turn_id,
    l.prev_same_role_idx,
    -- the dyad partner (METRICS P2.3): latest earlier turn of the other role
    case l.role when 'user' then l.last_ai_idx when 'ai' then l.last_user_idx end as partner_idx,
    p.turn_id as partner_turn_id,
    l.prev_ts,
    epoch(l.ts) - epoch(l.prev_ts) as gap_s,
    l.date_ymd,
    l.file_path,
    l.created_at,
    l.session_known
from linked as l
left join ordered as p
    on p.session_id = l.session_id
    and p.turn_idx = case l.role when 'user' then l.last_ai_idx when 'ai' then l.last_user_idx end
-- stored in session order: sessions by their first turn's date (then session_id), each
-- session's turns in turn order. An incremental build deletes and re-inserts whole sessions,
-- mostly the latest ones; with those next to each other at the end of the table it touches
-- few of its row groups, which keeps DuckDB's checkpoints after the delete small (whatever
-- the shape of the session ids). The models reading stg_turns inherit the order.
order by l.session_first_date nulls first, l.session_id, l.turn_idx
