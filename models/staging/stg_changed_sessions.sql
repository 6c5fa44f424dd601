{{ config(materialized='table', tags=['staging', 'partitions']) }}

-- The sessions this build recomputes: every partitioned model (incremental_strategy=
-- 'replace_partitions', partition_by='session_id') replaces exactly these sessions' rows.
-- A session is listed when it is new, removed, or its input digest differs from the one in
-- evoki_session_state, which hooks/session_state.py writes only after a build in which every
-- partitioned model and the write-back succeeded. No state, a state written by another
-- project fingerprint (models, macros, seeds, UDFs, vars, DuckDB version), or --full-refresh:
-- every session is listed.
{% set state = adapter.get_relation(schema='main', identifier='evoki_session_state') %}

with current_digests as (
    select
        session_id,
        digest
    from {{ ref('stg_session_digests') }}
),

previous_digests as (
    {% if state is not none %}
    select
        session_id,
        digest
    from {{ state }}
    where code_version = {{ literal(project_fingerprint()) }}
    {% else %}
    select
        null::varchar as session_id,
        null::varchar as digest
    where false
    {% endif %}
)

select
    coalesce(c.session_id, p.session_id) as session_id,
    case
        when p.digest is null then 'new'
        when c.digest is null then 'removed'
        else 'changed'
    end as change
from current_digests as c
full outer join previous_digests as p
    on p.session_id is not distinct from c.session_id
where c.digest is distinct from p.digest
