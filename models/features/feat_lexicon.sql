{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    batch_by='session_id',
    batch_source='stg_turns',
    batch_rows=env_var('EVOKI_BATCH_TURNS', '250000') | int,
    tags=['features', 'phase1'],
) }}

-- The lexicon matcher of ENGINE §2.4 (udf lexicon_match, udfs/lexicon.py) as a long table:
-- one row per turn and list with at least one hit (a missing row means zero hits; the
-- zero-filled per-turn view is feat_lexicon_wide). Lists: every lexicon of the `lexika` seed
-- with lexicon_catalog.match_kind = 'token' (the 22 JSON lexica and the part-local token
-- lists), with the inflected variants of `lexika_variants` (rule 4), plus the seven B-vector
-- keyword lists of `b_vector_keywords`. The seeds are the only source of terms and weights:
-- they are aggregated into one list of entries and passed to the UDF. The UDF sees each
-- distinct text once, in batches of about 256 texts per call row, so the entry list is not
-- copied into every row. Built in batches of sessions (batch_by, evoki_sql/batches.py): the
-- distinct texts of the whole history, gathered in one list aggregate, made this model the
-- memory peak of a 2M-turn build (7.8 GB for the process tree against 5.9 GB at 1M).

with catalog as (
    select
        lexicon
    from {{ ref('lexicon_catalog') }}
    where match_kind = 'token'
),

entries as (
    -- the terms of every token-matched list: matched as themselves
    select
        l.lexicon,
        l.term,
        l.weight,
        l.term as surface
    from {{ ref('lexika') }} as l
    inner join catalog as c
        on c.lexicon = l.lexicon

    union all

    -- inflected variants: matched as themselves, a hit counts as the base term with its
    -- weight (a variant without its base term gets a NULL weight and the UDF fails loudly)
    select
        v.lexicon,
        v.term,
        l.weight,
        v.variant as surface
    from {{ ref('lexika_variants') }} as v
    left join {{ ref('lexika') }} as l
        on l.lexicon = v.lexicon
        and l.term = v.term

    union all

    -- the B-vector keyword lists (ENGINE §4), matched with the same matcher
    select
        dimension as lexicon,
        term,
        weight,
        term as surface
    from {{ ref('b_vector_keywords') }}
),

name_clash as (
    -- a B-vector dimension named like a lexicon would silently merge the two lists
    select
        string_agg(distinct b.dimension, ', ') as names
    from {{ ref('b_vector_keywords') }} as b
    inner join {{ ref('lexicon_catalog') }} as c
        on c.lexicon = b.dimension
),

spec as (
    select
        case
            when (select names from name_clash) is not null
                then error(
                    'feat_lexicon: B-vector dimension(s) named like a lexicon: '
                    || (select names from name_clash)
                )
            else list(
                struct_pack(lexicon := lexicon, term := term, weight := weight, surface := surface)
                order by lexicon, term, surface
            )
        end as entries
    from entries
),

batches as (
    -- distinct texts, about 256 per row (macros/text.sql)
    {{ text_distinct_batches(ref('stg_turns')) }}
),

matched as (
    select
        unnest(b.texts) as text,
        unnest(lexicon_match(b.texts, s.entries)) as r
    from batches as b
    cross join spec as s
),

per_turn as (
    select
        t.turn_id,
        t.session_id,
        m.r.n_words as n_words,
        m.r.lexica as lexica
    from {{ ref('stg_turns') }} as t
    inner join matched as m
        on m.text = t.text
    inner join {{ ref('feat_text') }} as f
        on f.turn_id = t.turn_id
    -- the UDF's Python token count must equal feat_text's SQL one (ENGINE §1.3); a filter,
    -- so that it is evaluated for every turn
    where m.r.n_words = f.n_words
        or error('feat_lexicon: udf lexicon_match and feat_text disagree on n_words for turn '
            || t.turn_id)
),

hits as (
    select
        turn_id,
        session_id,
        n_words,
        unnest(lexica, recursive := true)
    from per_turn
)

select
    -- the turn (stg_turns.turn_id)
    turn_id,
    -- its session (the partition key of incremental builds)
    session_id,
    -- the list: a lexika lexicon with match_kind 'token' or a B-vector dimension (B_life ...)
    lexicon,
    -- lex_hits: accepted occurrences, >= 1 here (a variant's hit counts for its base term)
    hits::integer as hits,
    -- lex_nterms: distinct matched base terms, 1 <= nterms <= hits
    nterms::integer as nterms,
    -- lex_sum: sum of the weights of the distinct matched terms
    sum::double as sum,
    -- lex_sum_occ: sum of the weights over all hits (>= sum)
    sum_occ::double as sum_occ,
    -- lex_max: the largest weight among the matched terms, in [0, 1]
    max::double as max,
    -- lex: min(1, sum / (1 + ln(1 + n_words))), in [0, 1]
    score::double as score,
    -- the distinct matched base terms in first-occurrence order (seed spelling)
    terms,
    -- n_words of the turn (the score's denominator)
    n_words::integer as n_words
from hits
