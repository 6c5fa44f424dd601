{{ config(enabled=target.name == 'demo', tags=['sample_prompts']) }}
-- Sample prompt (demo history): demo-calm-013, a user turn about the Saturday market with no
-- safety-lexicon hit, has no panic (m101 = 0), no hazard (0) and no alert.

select
    e.turn_id,
    r.m101_t_panic,
    r.m151_hazard_column,
    r.guardian_action
from (values ('demo-calm-013')) as e(turn_id)
left join {{ ref('history_metrics_readback') }} as r
    on r.turn_id = e.turn_id
where r.turn_id is null
    or not (r.m101_t_panic < 0.2 and r.m151_hazard_column = 0 and not r.is_alert)
