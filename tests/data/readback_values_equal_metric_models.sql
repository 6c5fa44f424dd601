{{ config(partitions_only=true) }}

-- Every value of every contract key, read back from the history's metrics table, equals the
-- value of its metric family model exactly (double equality; enums as text), as metrics_wide
-- holds it (the family models' columns, selected unchanged). Proves that assembling,
-- formatting and writing the JSON changed no value. Fails with the turn and the
-- names of the keys that differ (never text). In an incremental build it compares the
-- sessions that build rebuilt (the rows it read back); `test` compares every row.

with compared as (
    select
        r.turn_id,
        concat_ws(
            ',',
{%- for row in seed_rows('metric_contract') %}
            case when r.{{ row['key'] }}{{ '' if row['type'] == 'enum' else '::double' }}
                is distinct from m.{{ row['key'] }}{{ '' if row['type'] == 'enum' else '::double' }}
                then '{{ row['key'] }}' end{{ ',' if not loop.last }}
{%- endfor %}
        ) as differing_keys
    from {{ ref('history_metrics_readback') }} as r
    left join {{ ref('metrics_wide') }} as m
        on m.turn_id = r.turn_id
)

select
    turn_id,
    differing_keys
from compared
where differing_keys <> ''
