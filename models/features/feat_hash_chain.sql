{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- m113_hash_state (METRICS.md m113): the per-session SHA-256 state chain, computed by
-- udf:hash_chain (hash_chain_packed) over each whole session in engine order (ENGINE §0). One
-- UDF row is one session, so the result does not depend on how DuckDB batches rows; the
-- per-turn list is unnested and joined back by turn_id.

with turns as (
    select
        session_id,
        turn_id,
        turn_idx,
        -- position: the raw prompt_num as a base-10 integer, '' when NULL
        coalesce(cast(prompt_num as varchar), '') as position,
        -- role: already normalised by staging ('assistant' -> 'ai')
        role,
        -- text: NULL already read as '' by staging; SHA-256 of the UTF-8 of its NFC form, per
        -- row, so the per-session lists below hold 64 characters per turn, not whole texts
        text_sha256(text) as text_hash
    from {{ ref('stg_turns') }}
),

sessions as (
    -- one text per session: a JSON array [turn_id, position, role, text_hash] per turn, in
    -- engine order, one per line (JSON escapes newlines inside strings). Four VARCHAR[] lists
    -- per session ran DuckDB 1.5.5 out of its 4GB cap at 2M turns when handed to the UDF.
    select
        session_id,
        string_agg(
            json_array(turn_id, position, role, text_hash)::varchar,
            chr(10)
            order by turn_idx
        ) as packed_turns
    from turns
    group by session_id
),

chained as (
    select
        session_id,
        unnest(hash_chain_packed(session_id, packed_turns)) as link
    from sessions
)

select
    -- turn key
    t.turn_id,
    -- session key
    t.session_id,
    -- order in the session (1-based, ENGINE §0)
    t.turn_idx,
    -- SHA-256 state of this turn, 64 lowercase hex digits (m113_hash_state_hex)
    c.link.hash_state_hex as hash_state_hex,
    -- first 13 hex digits / 2^52, in [0, 1) (the m113_hash_state value)
    c.link.hash_state as hash_state
from turns as t
inner join chained as c
    on c.session_id = t.session_id
    and c.link.turn_id = t.turn_id
