{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1', 'sentiment'],
) }}

-- METRICS.md P3.2: the Schema-B valence / arousal / dominance features (engine columns, phase 1,
-- any role), read by m76-m95 and m100 (metrics_sentiment):
--   sent_valence   v = clamp((10 + lex_hits(sent_pos) − lex_hits(sent_neg)) / 20, 0, 1)
--   sent_arousal   a = clamp((10 + lex_hits(arousal_high) − lex_hits(arousal_low)) / 20, 0, 1)
--   sent_dominance d = clamp((10 + lex_hits(dom_high) − lex_hits(dom_low)) / 20, 0, 1)
-- lex_hits = accepted occurrences of the ENGINE §2.4 matcher (feat_lexicon_wide; every list of
-- P3.1 is registered there, every occurrence counts 1, weights unused). A term in two lists counts
-- in both (sicher: sent_pos and dom_high). No negation handling. Empty / wordless text: no hits,
-- so v = a = d = 0.5. Written as one division so the value is exact in steps of 0.05.

with hits as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        w.lex_sent_pos_hits as pos_hits,
        w.lex_sent_neg_hits as neg_hits,
        w.lex_arousal_high_hits as arousal_high_hits,
        w.lex_arousal_low_hits as arousal_low_hits,
        w.lex_dom_high_hits as dom_high_hits,
        w.lex_dom_low_hits as dom_low_hits
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- 1-based order in the session (ENGINE §0)
    turn_idx,
    -- lex_hits(sent_pos): positive sentiment words (P3.1)
    pos_hits::integer as sent_pos_hits,
    -- lex_hits(sent_neg): negative sentiment words (P3.1)
    neg_hits::integer as sent_neg_hits,
    -- lex_hits(arousal_high) (P3.1)
    arousal_high_hits::integer as arousal_high_hits,
    -- lex_hits(arousal_low) (P3.1)
    arousal_low_hits::integer as arousal_low_hits,
    -- lex_hits(dom_high) (P3.1)
    dom_high_hits::integer as dom_high_hits,
    -- lex_hits(dom_low) (P3.1)
    dom_low_hits::integer as dom_low_hits,
    -- sent_valence v: clamp((10 + pos − neg) / 20, 0, 1), neutral 0.5
    {{ clamp01('(10 + pos_hits - neg_hits) / 20.0') }}::double as sent_valence,
    -- sent_arousal a: clamp((10 + high − low) / 20, 0, 1), neutral 0.5
    {{ clamp01('(10 + arousal_high_hits - arousal_low_hits) / 20.0') }}::double as sent_arousal,
    -- sent_dominance d: clamp((10 + high − low) / 20, 0, 1), neutral 0.5
    {{ clamp01('(10 + dom_high_hits - dom_low_hits) / 20.0') }}::double as sent_dominance
from hits
