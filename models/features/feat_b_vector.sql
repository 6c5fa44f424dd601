{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- The per-turn B-vector of ENGINE §4 (C-14):
--   B_d     = lex_sum(list_d, text) / W_d    distinct matched keywords (ENGINE §2.4 matcher)
--   B_align = (B_life + B_truth + B_depth + B_init + B_warmth + B_safety + B_clarity) / 7
-- lex_sum comes from feat_lexicon_wide (one row per turn of stg_turns; the 7 B lists are
-- registered in the lexicon model under their dimension names, lex_B_<d>_sum). W_d is the
-- dimension's total keyword weight, summed from the seed as an exact decimal (so W_d is the
-- double nearest 4.4, 4.3, ...). F_risk is a phase-6 engine column; b_align is its text
-- input. No rounding (C-19). The clamps only guard the last ulp of a full match.

with dimensions as (
    select
        dimension,
        -- W_d: total keyword weight of the dimension, exact decimal sum
        cast(sum(cast(weight as decimal(18, 6))) as double) as w_total
    from {{ ref('b_vector_keywords') }}
    group by dimension
),

weights as (
    -- one row: W_d per dimension; a missing dimension stops the model instead of giving NULL
    select
        case
            when count(*) filter (
                where dimension in (
                    'B_life', 'B_truth', 'B_depth', 'B_init', 'B_warmth', 'B_safety', 'B_clarity'
                )
            ) <> 7
                then error('feat_b_vector: b_vector_keywords lacks one of the 7 B dimensions')
            else max(case when dimension = 'B_life' then w_total end)
        end as w_life,
        max(case when dimension = 'B_truth' then w_total end) as w_truth,
        max(case when dimension = 'B_depth' then w_total end) as w_depth,
        max(case when dimension = 'B_init' then w_total end) as w_init,
        max(case when dimension = 'B_warmth' then w_total end) as w_warmth,
        max(case when dimension = 'B_safety' then w_total end) as w_safety,
        max(case when dimension = 'B_clarity' then w_total end) as w_clarity
    from dimensions
),

b as (
    select
        l.turn_id,
        least(1.0, greatest(0.0, l.lex_B_life_sum / w.w_life)) as b_life,
        least(1.0, greatest(0.0, l.lex_B_truth_sum / w.w_truth)) as b_truth,
        least(1.0, greatest(0.0, l.lex_B_depth_sum / w.w_depth)) as b_depth,
        least(1.0, greatest(0.0, l.lex_B_init_sum / w.w_init)) as b_init,
        least(1.0, greatest(0.0, l.lex_B_warmth_sum / w.w_warmth)) as b_warmth,
        least(1.0, greatest(0.0, l.lex_B_safety_sum / w.w_safety)) as b_safety,
        least(1.0, greatest(0.0, l.lex_B_clarity_sum / w.w_clarity)) as b_clarity
    from {{ ref('feat_lexicon_wide') }} as l
    cross join weights as w
)

select
    -- turn key
    t.turn_id,
    -- session key
    t.session_id,
    -- order in the session (1-based, ENGINE §0)
    t.turn_idx,
    -- share of the B_life keyword weight present (leben, lebenswille, ..., will leben)
    case
        when b.turn_id is null
            then error('feat_b_vector: feat_lexicon_wide has no row for turn ' || t.turn_id)
        else b.b_life
    end as b_life,
    -- share of the B_truth keyword weight present (wahrheit, ehrlich, echt, ...)
    b.b_truth,
    -- share of the B_depth keyword weight present (warum, tief, sinn, ...)
    b.b_depth,
    -- share of the B_init keyword weight present (will, werde, mache, ...)
    b.b_init,
    -- share of the B_warmth keyword weight present (wärme, geborgen, liebe, ...)
    b.b_warmth,
    -- share of the B_safety keyword weight present (sicher, schutz, geborgen, ...)
    b.b_safety,
    -- share of the B_clarity keyword weight present (klar, klarheit, verstehe, ...)
    b.b_clarity,
    -- mean of the seven dimensions; the B input of F_risk (ENGINE §4)
    least(1.0, greatest(0.0,
        (b.b_life + b.b_truth + b.b_depth + b.b_init + b.b_warmth + b.b_safety + b.b_clarity) / 7
    )) as b_align
from {{ ref('stg_turns') }} as t
left join b
    on b.turn_id = t.turn_id
