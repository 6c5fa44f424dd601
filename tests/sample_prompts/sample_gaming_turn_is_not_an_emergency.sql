{{ config(enabled=target.name == 'demo', tags=['sample_prompts']) }}
-- Sample prompt (demo history): demo-gaming-003 is full of panic words inside a horror game
-- (ctx_safe marker, no Suicide / Self_harm term). The lexicon accuses (m101 > 0.8), the
-- guardian judges: no veto_panic (C-32) and no veto_black_hole (PD-1), it only warns.

select
    e.turn_id,
    r.m101_t_panic,
    r.m110_black_hole,
    r.guardian_action
from (values ('demo-gaming-003')) as e(turn_id)
left join {{ ref('history_metrics_readback') }} as r
    on r.turn_id = e.turn_id
where r.turn_id is null
    or not (r.m101_t_panic > 0.8 and not r.is_alert and r.guardian_action = 'warn')
