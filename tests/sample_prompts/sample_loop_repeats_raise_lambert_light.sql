{{ config(enabled=target.name == 'demo', tags=['sample_prompts']) }}
-- Sample prompt (demo history): the loop session. The user repeats earlier sentences
-- verbatim (demo-loop-018 and -020 repeat -017). The catalogue measures cross-turn
-- repetition with m7_LL's rep_same (|U ∩ V| / |U ∪ V| against the previous user turn = 1 for a
-- verbatim repeat, so m7 = 0.6 + 0.4·(1 − m4) ≥ 0.6), not with m6_ZLF, whose own block says a
-- verbatim repeat is not what it detects (m6 of demo-loop-009, one sentence said three times,
-- is 0: flow 1, coh 1). Both are checked: repeats raise m7_LL above every non-repeat user turn
-- of the session, and m6_ZLF behaves as its block states.

with loop_user as (
    select
        turn_id,
        m6_ZLF,
        m7_LL
    from {{ ref('history_metrics_readback') }}
    where session_id = 'demo-loop'
        and turn_id in (select turn_id from {{ ref('stg_turns') }} where role = 'user')
),

repeats as (
    select min(m7_LL) as lowest_repeat_ll
    from loop_user
    where turn_id in ('demo-loop-018', 'demo-loop-020')
    having count(*) = 2
),

others as (
    select max(m7_LL) as highest_other_ll
    from loop_user
    where turn_id not in ('demo-loop-017', 'demo-loop-018', 'demo-loop-020')
),

checks as (
    select 'repeats below 0.6' as failed
    from repeats
    where lowest_repeat_ll < 0.6
    union all
    select 'repeats not above the other user turns'
    from repeats, others
    where lowest_repeat_ll <= highest_other_ll
    union all
    select 'repeat turns missing'
    where not exists (select 1 from repeats)
    union all
    select 'demo-loop-009 m6_ZLF is not 0'
    where coalesce((select m6_ZLF from loop_user where turn_id = 'demo-loop-009'), -1) <> 0
)

select * from checks
