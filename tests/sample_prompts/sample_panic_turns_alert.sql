{{ config(enabled=target.name == 'demo', tags=['sample_prompts']) }}
-- Sample prompts (demo history, demo/README.md): the panic turns hold two or more T_panic
-- terms in a user turn without a safe context, so m101_t_panic saturates (> 0.8) and the
-- guardian vetoes with veto_panic (ENGINE §6 rule 2). Read from the written-back table.
-- A missing turn fails too.

with expected(turn_id) as (
    values ('demo-panic-013'), ('demo-panic-009'), ('demo-panic-007')
)

select
    e.turn_id,
    r.m101_t_panic,
    r.guardian_action
from expected as e
left join {{ ref('history_metrics_readback') }} as r
    on r.turn_id = e.turn_id
where r.turn_id is null
    or not (r.m101_t_panic > 0.8 and r.is_alert and r.guardian_action = 'veto_panic')
