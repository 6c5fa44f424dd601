{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1'],
) }}

-- Text primitives of ENGINE §1.1, one row per turn of stg_turns (any role).
-- Every expression comes from macros/text.sql, whose output is identical to the Python
-- reference udfs/_text.py (tests/python/features/test_feat_text.py). Each step is
-- evaluated once. Texts without any of the code points where DuckDB and Python differ
-- (`text_is_plain`: almost every text) take the short path: nfc(text) = text and
-- norm(text) = lower(text); the general path reconciles the two (macros/text.sql).

with turns as (
    select
        turn_id,
        session_id,
        text,
        {{ text_is_plain('text') }} as is_plain
    from {{ ref('stg_turns') }}
),

normalised as (
    select
        turn_id,
        session_id,
        is_plain,
        case when is_plain then text else {{ text_nfc('text') }} end as text_nfc,
        case
            when is_plain then lower(text)
            -- norm() replaces U+0130 by I before NFC
            else {{ text_lower_nfc(text_nfc("replace(text, 'İ', 'I')")) }}
        end as text_norm
    from turns
),

listed as (
    select
        turn_id,
        session_id,
        is_plain,
        text_nfc,
        text_norm,
        case
            when is_plain then {{ text_plain_word_runs('text_norm') }}
            else {{ text_word_runs('text_norm') }}
        end as tokens,
        case
            when is_plain then {{ text_plain_word_runs('text_nfc') }}
            else {{ text_word_runs('text_nfc') }}
        end as tokens_cased,
        case
            when is_plain then {{ text_plain_sentence_pieces('text_nfc') }}
            else {{ text_sentence_pieces('text_nfc') }}
        end as sentences
    from normalised
)

select
    -- the turn (stg_turns.turn_id)
    turn_id,
    -- its session (the partition key of incremental builds)
    session_id,
    -- nfc(text): Unicode NFC of the text ('' for NULL text)
    text_nfc,
    -- norm(text): lower(nfc(text)) with U+0130 read as I (Python str.lower, final sigma included)
    text_norm,
    -- tokens(text): maximal runs of WORDCHAR (Python's \w = [\p{L}\p{N}_] of Unicode 14) in norm(text)
    tokens,
    -- tokens_cased(text): the same runs taken from nfc(text), case kept
    tokens_cased,
    -- sentences(text): pieces of nfc(text) cut at runs of [.!?] that hold a word character
    sentences,
    -- n_words = len(tokens)
    len(tokens)::integer as n_words,
    -- n_unique = number of distinct tokens
    len(list_distinct(tokens))::integer as n_unique,
    -- n_chars = code points of nfc(text), whitespace included
    length(text_nfc)::integer as n_chars,
    -- n_sent = len(sentences); n_sent >= 1 exactly when n_words >= 1
    len(sentences)::integer as n_sent
from listed
