{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- m98_grain_sentiment (METRICS.md m98), computed by udf:grain: the variance of the
-- per-sentence positive share P/(P+N) over the sentence lists sent_pos / sent_neg (P3.1),
-- times 4, capped at 1; 0 for fewer than two sentences. The keyword lists come from the
-- `lexika` seed, passed to the UDF as one newline-joined string per list.

with keywords as (
    select
        string_agg(term, chr(10) order by term) filter (where lexicon = 'sent_pos') as pos_terms,
        string_agg(term, chr(10) order by term) filter (where lexicon = 'sent_neg') as neg_terms
    from {{ ref('lexika') }}
),

scored as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        grain_sentiment(t.text, k.pos_terms, k.neg_terms) as r
    from {{ ref('stg_turns') }} as t
    cross join keywords as k
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- order in the session (1-based, ENGINE §0)
    turn_idx,
    -- m98_grain_sentiment value: local sentiment variance, in [0, 1]
    r.grain_sentiment as grain_sentiment,
    -- number of engine sentences of the text (m98 is 0 below 2)
    r.grain_n_sent as grain_n_sent
from scored
