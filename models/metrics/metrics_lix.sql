{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase1', 'part4'],
) }}

-- Phase 1 (ANALYSIS) of METRICS.md Part 4: m116_lix, the LIX readability index, from the
-- engine tokens and sentences (C-01/C-02). One row per turn of stg_turns; text only, any role.
-- LIX = n_words / n_sent + 100 · L / n_words, L = tokens longer than 6 code points
-- (DuckDB length() counts code points, as Python len does); 50.0 without words. A text with
-- words has n_sent ≥ 1, so there is no division by zero. Not rounded.

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        x.n_words,
        x.n_sent,
        len(list_filter(x.tokens, lambda tok: length(tok) > 6)) as n_long
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
)

select
    turn_id,
    session_id,
    turn_idx,
    role,
    -- m116_lix: LIX readability = words per sentence + percentage of long words; 50.0 without words
    case
        when n_words = 0 then 50.0::double
        else n_words::double / n_sent + 100.0 * n_long / n_words
    end as m116_lix,
    -- tokens longer than 6 code points (L of the LIX formula)
    n_long as lix_n_long
from turns
