{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- The hazard score of ENGINE §2.7 (the history column m151_hazard) and the B_past pattern
-- scan of ENGINE §2.6, one row per turn of stg_turns, any role.
--   hazard   = max(lex_max(Suicide), 0.9 · lex_max(Self_harm), 0.8 · lex_max(Crisis))
--   bonus    = min(0.5, lex(Suicide) + lex(Self_harm) + lex(Crisis))
--   bpast_rx = udf bpast_rx (Python re on norm(text)) with the patterns and weights of the
--              b_past_patterns seed, passed in as one list.

with patterns as (
    select
        list(
            struct_pack(pattern_id := pattern_id, pattern := pattern, weight := weight)
            order by pattern_id
        ) as patterns
    from {{ ref('b_past_patterns') }}
),

batches as (
    -- distinct texts, about 256 per row (macros/text.sql)
    {{ text_distinct_batches(ref('stg_turns')) }}
),

scanned as (
    select
        unnest(b.texts) as text,
        unnest(bpast_rx(b.texts, p.patterns)) as r
    from batches as b
    cross join patterns as p
),

scored as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        greatest(
            w.lex_Suicide_max,
            0.9 * w.lex_Self_harm_max,
            0.8 * w.lex_Crisis_max
        ) as hazard,
        least(0.5, w.lex_Suicide_score + w.lex_Self_harm_score + w.lex_Crisis_score)
            as hazard_bonus,
        list_concat(
            list_transform(w.lex_Suicide_terms, lambda term: 'Suicide:' || term),
            list_transform(w.lex_Self_harm_terms, lambda term: 'Self_harm:' || term),
            list_transform(w.lex_Crisis_terms, lambda term: 'Crisis:' || term)
        ) as hazard_terms,
        s.r.bpast_rx_max as bpast_rx_max,
        s.r.bpast_rx_hits as bpast_rx_hits
    from {{ ref('stg_turns') }} as t
    inner join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    inner join scanned as s
        on s.text = t.text
)

select
    -- the turn (stg_turns.turn_id); every turn, any role
    turn_id,
    -- its session
    session_id,
    -- its 1-based position in the session (ENGINE §0)
    turn_idx,
    -- hazard = max(lex_max Suicide, 0.9 lex_max Self_harm, 0.8 lex_max Crisis), in [0, 1]
    hazard::double as hazard,
    -- [hazard > 0.5]
    (hazard > 0.5)::integer as hazard_critical,
    -- low (< 0.3), medium ([0.3, 0.6)), high ([0.6, 0.8]), critical (> 0.8)
    case
        when hazard < 0.3 then 'low'
        when hazard < 0.6 then 'medium'
        when hazard <= 0.8 then 'high'
        else 'critical'
    end as hazard_level,
    -- min(0.5, lex(Suicide) + lex(Self_harm) + lex(Crisis)), in [0, 0.5] (for m19_z_prox)
    hazard_bonus::double as hazard_bonus,
    -- the matched terms, prefixed 'Suicide:' / 'Self_harm:' / 'Crisis:', in that order
    hazard_terms,
    -- max weight of the B_past patterns found at least once, 0 if none, in [0, 1]
    bpast_rx_max::double as bpast_rx_max,
    -- non-overlapping B_past pattern matches, summed over the patterns, >= 0
    bpast_rx_hits::integer as bpast_rx_hits
from scored
