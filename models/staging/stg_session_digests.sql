{{ config(materialized='table', tags=['staging', 'partitions']) }}

-- One row per session (of `turns` or `sessions`, NULL session_id included) with an MD5 digest
-- of every input field the models read: the session's turns (turn_id, role, text, prompt_num,
-- ts_iso, date_ymd, file_path, created_at, in turn_id order) and its `sessions` row. Two
-- builds see the same digest iff the session's inputs are the same; stg_changed_sessions
-- compares it with the digest the last complete build recorded.

with turn_digests as (
    select
        session_id,
        md5(string_agg(
            md5(json_array(
                turn_id, role, text, prompt_num, ts_iso, date_ymd, file_path, created_at
            )::varchar),
            ''
            order by turn_id
        )) as turns_digest
    from {{ source('history', 'turns') }}
    group by session_id
),

session_digests as (
    select
        session_id,
        md5(string_agg(
            md5(json_array(session_id, date_ymd, source_root, created_at)::varchar),
            ''
            order by date_ymd, source_root, created_at
        )) as session_digest
    from {{ source('history', 'sessions') }}
    group by session_id
)

select
    coalesce(t.session_id, s.session_id) as session_id,
    md5(coalesce(t.turns_digest, '-') || '|' || coalesce(s.session_digest, '-')) as digest
from turn_digests as t
full outer join session_digests as s
    on s.session_id is not distinct from t.session_id
