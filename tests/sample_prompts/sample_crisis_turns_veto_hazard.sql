{{ config(enabled=target.name == 'demo', tags=['sample_prompts']) }}
-- Sample prompts (demo history): the explicit suicidal statement demo-crisis-005 and the
-- self-harm statement demo-crisis-015 (an inflected variant, C-30) score hazard > 0.8 and
-- alert with veto_hazard (ENGINE §6 rule 1), whatever else the turn holds.

with expected(turn_id) as (
    values ('demo-crisis-005'), ('demo-crisis-015')
)

select
    e.turn_id,
    r.m151_hazard_column,
    r.guardian_action
from expected as e
left join {{ ref('history_metrics_readback') }} as r
    on r.turn_id = e.turn_id
where r.turn_id is null
    or not (r.m151_hazard_column > 0.8 and r.is_alert and r.guardian_action = 'veto_hazard')
