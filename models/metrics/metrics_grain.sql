{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase1', 'grain'],
) }}

-- Phase 1 of METRICS.md Part 3: the grain family m96-m99, text only, every turn, any role.
--   m96 = 0.5 if n_words = 0 else mean over tokens of min(1, len(token) / 12)
--       = Σ min(12, len(token)) / (12 · n_words)   (integer sum, one division: exact and
--         independent of summation order; len = code points)
--   m97 = 0 if n_words = 0 else min(1, 5 · (lex_hits(Emotion_pos) + lex_hits(Emotion_neg)) / n_words)
--   m98 = the local sentiment variance of udf:grain (feat_grain), 0 below two sentences
--   m99 = 1 if n_words < 2 else n_unique / n_words
-- Inputs: feat_text (tokens, n_words, n_unique), feat_lexicon_wide (ENGINE §2.4 hit counts),
-- feat_grain (m98). Features are left-joined: a missing feature row gives NULL, which the
-- not_null tests report.

with inputs as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        x.tokens,
        x.n_words,
        x.n_unique,
        w.lex_Emotion_pos_hits + w.lex_Emotion_neg_hits as emo_hits,
        g.grain_sentiment
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    left join {{ ref('feat_grain') }} as g
        on g.turn_id = t.turn_id
),

lengths as (
    select
        *,
        -- Σ min(12, code points of the token) over all tokens
        list_sum(list_transform(tokens, lambda w: least(12, length(w)))) as capped_len_sum
    from inputs
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- 1-based order in the session (ENGINE §0)
    turn_idx,
    -- user / ai
    role,
    -- m96_grain_word: word complexity, mean of min(1, len/12) over tokens (0.5 without words)
    case
        when n_words = 0 then 0.5
        else capped_len_sum / (12.0 * n_words)
    end::double as m96_grain_word,
    -- m97_grain_impact: emotional density, min(1, 5 · emotion hits / n_words) (0 without words)
    case
        when n_words = 0 then 0.0
        else {{ min2('1.0', '5.0 * emo_hits / n_words') }}
    end::double as m97_grain_impact,
    -- m98_grain_sentiment: local sentiment variance over sentences (udf:grain), in [0, 1]
    grain_sentiment::double as m98_grain_sentiment,
    -- m99_grain_novelty: type-token ratio n_unique / n_words (1 below two words)
    case
        when n_words < 2 then 1.0
        else n_unique / n_words
    end::double as m99_grain_novelty
from lengths
