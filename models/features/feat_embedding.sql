{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['features', 'phase1', 'physics'],
) }}

-- emb(text), the hashed character-n-gram embedding of ENGINE §3.2, one row per turn, stored
-- sparse: the non-zero entries of the 1024-dimensional integer vector, packed in one BLOB.
-- Every gram of chargrams(tokens(text)) adds +1 or -1 (BLAKE2b-64 sign) at index h mod 1024.
-- A turn without tokens (empty, punctuation- or emoji-only) has the zero vector (emb_nnz = 0):
-- it has no physics and is never a memory, a danger centre or a context turn (ENGINE §3.4).
-- The tokens come from feat_text (tokens(text) of ENGINE §1.1, identical to udfs/_text.py);
-- udf:emb_sparse_tokens hashes their char-grams. It is a pure per-turn function, so batching
-- cannot change a value.

with embedded as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        emb_sparse_tokens(x.tokens) as e
    from {{ ref('stg_turns') }} as t
    inner join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
)

select
    -- turn key
    turn_id,
    -- session key
    session_id,
    -- 1-based order in the session (ENGINE §0)
    turn_idx,
    -- 'user' / 'ai'
    role,
    -- emb(text), packed: kind byte, 1024-bit presence bitmap, the non-zero values as int8
    -- (int32 when one leaves -127..127); b'' = zero vector; emb_unpack(emb) gives the lists
    e.emb as emb,
    -- x·x, the exact squared norm (0 = zero vector)
    e.emb_norm2 as emb_norm2,
    -- number of non-zero entries (0..1024)
    e.emb_nnz as emb_nnz,
    -- number of char-grams hashed (with repetition)
    e.n_grams as n_grams,
    -- 1 if the vector is non-zero (the turn has physics / is a possible memory)
    (e.emb_norm2 > 0)::integer as has_vector
from embedded
