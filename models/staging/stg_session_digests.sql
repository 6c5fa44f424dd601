{{ config(materialized='table', tags=['staging', 'partitions']) }}
-- One row per session (of `turns` or `sessions`, NULL session_id included) with a digest of
-- every input field the models read: the session's turns (turn_id, role, text, prompt_num,
-- ts_iso, date_ymd, file_path, created_at) and its `sessions` row. Two builds see the same
-- digest iff the session's inputs are the same; stg_changed_sessions compares it with the
-- digest the last complete build recorded.
-- The turns' part is order-free, so no sort and no per-turn text is built (it runs on every
-- build, over the whole history: 1.1 s instead of 2.1-2.2 s at 1M turns with an MD5 over a JSON
-- array per turn). Per session it sums, over the turns, two per-turn hashes:
--   fields_hash  DuckDB's 64-bit hash() over all eight fields (NULL and '' hash apart);
--   text_md5     the 128-bit MD5 of turn_id, a unit separator and the text, summed as
--                two 64-bit halves (so the sum cannot overflow a HUGEINT),
-- plus the number of turns. A changed, added, removed or moved turn changes the sums unless
-- both hashes collide at once. hash() may differ between DuckDB versions: the project
-- fingerprint includes the DuckDB version, so a new version rebuilds every session anyway.
with turn_hashes as (
    select
        session_id,
        hash(
            turn_id, role, text, prompt_num, ts_iso, date_ymd, file_path, created_at
        ) as fields_hash,
        md5_number(concat(turn_id, chr(31), text)) as text_md5
    from {{ source('history', 'turns') }}
),
turn_digests as (
    select
        session_id,
        md5(concat_ws(
            '|',
            count(*),
            sum(fields_hash::hugeint),
            sum((text_md5 >> 64)::hugeint),
            sum((text_md5 & 18446744073709551615::uhugeint)::hugeint)
        )) as turns_digest
    from turn_hashes
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
