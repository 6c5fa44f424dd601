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
-- Only a text of two or more sentences holding a token of some sent_pos / sent_neg term can
-- have a hit, so only such texts go to the UDF; every other text is (0.0, its sentence
-- count) by the definition (every σ is 0.5, so the variance is exactly 0), taken from
-- feat_text. tests/python/features/test_text_meta_grain.py checks every turn against the
-- reference, with and without hits.

with terms as (
    select
        lexicon,
        term,
        -- tokens(term) (ENGINE §2.4: a term matches as its tokens)
        {{ text_tokens('term') }} as tokens
    from {{ ref('lexika') }}
    where lexicon in ('sent_pos', 'sent_neg')
),

keywords as (
    select
        string_agg(term, chr(10) order by term) filter (where lexicon = 'sent_pos') as pos_terms,
        string_agg(term, chr(10) order by term) filter (where lexicon = 'sent_neg') as neg_terms,
        -- a term without tokens is an error the UDF reports
        coalesce(bool_or(len(tokens) = 0), false) as has_empty_term
    from terms
),

-- every token of every term of both lists
term_tokens as (
    select distinct unnest(tokens) as token
    from terms
),

-- the turns of two or more sentences holding a token of some term (a semi-join on the
-- tokens: cheaper than a list test per turn)
may_hit as (
    select distinct turn_id
    from (
        select
            turn_id,
            unnest(tokens) as token
        from {{ ref('feat_text') }}
        where n_sent >= 2
    )
    where token in (select token from term_tokens)
),

turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.text,
        x.n_sent,
        case
            -- a missing list or a term without tokens: the UDF stops the build saying so
            when k.pos_terms is null or k.neg_terms is null or k.has_empty_term then true
            else h.turn_id is not null
        end as may_hit,
        k.pos_terms,
        k.neg_terms
    from {{ ref('stg_turns') }} as t
    inner join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join may_hit as h
        on h.turn_id = t.turn_id
    cross join keywords as k
),

scored as (
    select
        turn_id,
        session_id,
        turn_idx,
        case
            when may_hit then grain_sentiment(text, pos_terms, neg_terms)
            else {'grain_sentiment': 0.0::double, 'grain_n_sent': n_sent::integer}
        end as r
    from turns
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
