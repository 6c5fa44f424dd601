{#- Session partitions of incremental builds (models/staging/stg_changed_sessions.sql). -#}

{#- The row `alias` belongs to a session this build rebuilds. For the models that read the
    history's tables directly (stg_turns, stg_sessions); partitioned models reading ref()s of
    partitioned models get those sessions' rows through the runner's partition views. -#}
{% macro in_changed_sessions(alias) -%}
exists (
        select 1
        from {{ ref('stg_changed_sessions') }} as c
        where c.session_id is not distinct from {{ alias }}.session_id
    )
{%- endmacro %}
