{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    batch_by='session_id',
    batch_source='stg_turns',
    batch_rows=env_var('EVOKI_BATCH_TURNS', '250000') | int,
    tags=['metrics', 'phase2'],
) }}

-- Phase 2 (CORE) of METRICS.md Part 1: m1-m20, the A_Phys slots m28-m32 and the engine column
-- effective_A, one row per turn of stg_turns. Topological order inside the phase (Part 1
-- conventions): m4, m5 -> m6 -> rep_same -> m7 -> m29 -> [feat_a_phys] -> m15 -> m17 -> m1 ->
-- effective_A -> m19; the text-only metrics whenever their inputs exist; m20 after m15 and m2.
-- Temporal helpers (P1-04): prev = the preceding turn of the session, any role (m2, m11);
-- prev_same_role = the latest earlier turn of the same role (m1, m7, m17). Nothing looks ahead.
-- No rounding (P1-20). Every feature is left-joined, so a missing feature row shows up as a NULL
-- that the not_null tests report, never as a silently dropped turn.
-- Cost notes (list work dominates this model; every value is the same as with the plain
-- list_distinct/list_intersect forms): set sizes and overlaps are counted with list_filter,
-- list_contains and list_position (p1_n_distinct, p1_n_common), several times cheaper on short
-- token lists; the previous turns' tokens are joined by stg_turns.prev_turn_id /
-- prev_same_role_turn_id instead of lagged through a window over the wide rows; m3's bigrams are
-- (token, token) column pairs grouped under an integer session key, and m3 joins the narrow
-- finished rows last; m18's entropy is the batch-vectorized udfs/core_entropy.py.
-- Built in batches of sessions (batch_by, evoki_sql/batches.py): the bigram aggregates hold
-- every bigram of the batch (about 50 per turn), which spilled to disk at 2M turns in one piece
-- (255 s at 2M against 71 s at 1M); session_key numbers the sessions of the batch only.

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        t.ts,
        t.prev_ts,
        x.text_nfc,
        x.text_norm,
        x.tokens,
        -- tokens per sentence (macros/text.sql: computed here, not stored in feat_text)
        {{ text_sentence_tokens('x.sentences', 'x.text_nfc') | indent(8) }} as sentence_tokens,
        x.n_words,
        x.n_unique,
        x.n_sent,
        -- tokens of the previous turn, any role (m2 integration); NULL on the first turn
        prev_any.tokens as prev_tokens,
        -- tokens and distinct-token count of the previous same-role turn (m7 rep_same); NULL on
        -- the first turn of its role
        prev_same.tokens as prev_same_role_tokens,
        prev_same.n_unique as prev_same_role_n_unique,
        w.lex_Emotion_pos_sum_occ + w.lex_Emotion_neg_sum_occ as emo_occ,
        w.lex_S_self_max as s_self,
        w.lex_X_exist_max as x_exist_max,
        w.lex_B_past_max as b_past_max,
        h.bpast_rx_max,
        h.hazard_bonus,
        p.physics_available,
        p.a_phys,
        p.a_phys_raw,
        p.resonance,
        p.danger,
        p.a29_trip
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('feat_text') }} as prev_any
        on prev_any.turn_id = t.prev_turn_id
    left join {{ ref('feat_text') }} as prev_same
        on prev_same.turn_id = t.prev_same_role_turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    left join {{ ref('feat_hazard') }} as h
        on h.turn_id = t.turn_id
    left join {{ ref('feat_a_phys') }} as p
        on p.turn_id = t.turn_id
),

-- m3: an integer key per session, so the bigram aggregates below hash and compare an integer
-- instead of the session_id string
session_keys as (
    select
        session_id,
        row_number() over (order by session_id) as session_key
    from (select distinct session_id from {{ ref('stg_turns') }})
),

-- m3: every bigram occurrence of a turn (whole token list) as the pair (first, second); the pair
-- is the bigram string 'first second' of the spec (tokens never contain a space). Read straight
-- from the inputs, so the wide `turns` rows are not materialised for a second reader.
bigrams as (
    select
        k.session_key,
        t.turn_idx,
        unnest(x.tokens[1:x.n_words - 1]) as first_token,
        unnest(x.tokens[2:x.n_words]) as second_token
    from {{ ref('stg_turns') }} as t
    inner join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    inner join session_keys as k
        on k.session_id = t.session_id
    where x.n_words >= 2
),

-- the distinct bigrams of each turn
turn_bigrams as (
    select distinct
        session_key,
        turn_idx,
        first_token,
        second_token
    from bigrams
),

-- the turn of the session that holds each bigram first (a hash aggregate: much cheaper than a
-- window partitioned by bigram)
bigram_first as (
    select
        session_key,
        first_token,
        second_token,
        min(turn_idx) as first_idx
    from turn_bigrams
    group by session_key, first_token, second_token
),

-- per turn: how many of its distinct bigrams are new (first held by this turn)
bigram_new as (
    select
        session_key,
        first_idx as turn_idx,
        count(*) as n_new
    from bigram_first
    group by session_key, first_idx
),

-- per turn: the number of its distinct bigrams
bigram_count as (
    select
        session_key,
        turn_idx,
        count(*) as n_bigrams
    from turn_bigrams
    group by session_key, turn_idx
),

-- per turn: the share of new distinct bigrams (a turn without new bigrams has none in bigram_new)
novelty as (
    select
        k.session_id,
        c.turn_idx,
        coalesce(n.n_new, 0)::double / c.n_bigrams as new_share
    from bigram_count as c
    inner join session_keys as k
        on k.session_key = c.session_key
    left join bigram_new as n
        on n.session_key = c.session_key
        and n.turn_idx = c.turn_idx
),

-- text-only and previous-turn inputs
shaped as (
    select
        t.*,
        -- tokens per sentence (each >= 1)
        list_transform(t.sentence_tokens, lambda s: len(s)) as sent_len,
        -- distinct tokens per sentence (m5)
        list_transform(t.sentence_tokens, lambda s: {{ p1_n_distinct('s') }}) as sent_n_distinct,
        -- distinct tokens shared by consecutive sentences i and i + 1 (m5)
        list_transform(
            range(1, t.n_sent),
            lambda i: {{ p1_n_common('t.sentence_tokens[i]', 't.sentence_tokens[i + 1]') }}
        ) as sent_n_common,
        -- break markers of m4 in nfc(text): "...", "--", em dash, "()", two spaces
        {{ p1_count('t.text_nfc', '...') }}
        + {{ p1_count('t.text_nfc', '--') }}
        + {{ p1_count('t.text_nfc', '—') }}
        + {{ p1_count('t.text_nfc', '()') }}
        + {{ p1_count('t.text_nfc', '  ') }} as breaks,
        -- distinct tokens shared with the previous turn, any role (m2); 0 on the first turn
        {{ p1_n_common('t.tokens', 't.prev_tokens') }} as n_common_prev,
        -- distinct tokens shared with the previous same-role turn (m7 rep_same); 0 on the first
        -- turn of its role (rep_same reads prev_same_role_tokens is null there)
        {{ p1_n_common('t.tokens', 't.prev_same_role_tokens') }} as n_common_prev_same_role,
        -- Shannon entropy of the code points of norm(text) (m18; udfs/core_entropy.py, the
        -- batch-vectorized twin of udfs/part1_entropy.py, bit-for-bit the same values)
        core_char_entropy(t.text_norm) as char_entropy
    from turns as t
),

-- the formulas before their edge-case branches (NULL where a denominator is 0; only read
-- when it is not) and before the guard clamp, so each is evaluated once
raw_metrics as (
    select
        *,
        -- m2 before the guard clamp: 0.5·unique_ratio + 0.3·complexity + 0.2·integration
        0.5 * (n_unique::double / nullif(n_words, 0))
        + 0.3 * least(1.0, (n_words::double / nullif(n_sent, 0)) / 15.0)
        + 0.2 * coalesce(
            n_common_prev::double / nullif(n_unique, 0),
            0.0
        ) as m2_raw,
        -- m4 before the guard clamp: smoothness of sentence lengths · (1 − break penalty)
        (1.0 / (1.0 + list_aggregate(sent_len, 'var_pop') / list_avg(sent_len)))
        * (1.0 - least(0.5, breaks::double / nullif(n_sent, 0))) as m4_raw,
        -- m5 before the guard clamp: mean Jaccard of consecutive sentences' token sets
        list_avg(
            list_transform(
                range(1, n_sent),
                lambda i: {{ p1_jaccard(
                    'sent_n_distinct[i]', 'sent_n_distinct[i + 1]', 'sent_n_common[i]'
                ) }}
            )
        ) as m5_raw
    from shaped
),

text_metrics as (
    select
        *,
        -- m2_PCI (0.5 for word-less text)
        case
            when n_words = 0 then 0.5::double
            else {{ clamp01('m2_raw') }}
        end as m2_pci,
        -- m4_flow (0.8 below two sentences; the mean-0 guard is unreachable)
        case
            when n_sent < 2 then 0.8::double
            when list_avg(sent_len) = 0 then 0.5::double
            else {{ clamp01('m4_raw') }}
        end as m4,
        -- m5_coh (1.0 below two sentences)
        case
            when n_sent < 2 then 1.0::double
            else {{ clamp01('m5_raw') }}
        end as m5,
        -- rep_same: Jaccard with the previous same-role message (0 if none or either empty)
        case
            when prev_same_role_tokens is null then 0.0::double
            else {{ p1_jaccard('n_unique', 'prev_same_role_n_unique', 'n_common_prev_same_role') }}
        end as rep_same,
        -- m9 = max(lex_max(B_past), bpast_rx_max)
        {{ max2('b_past_max', 'bpast_rx_max') }} as m9,
        -- m11: seconds since the previous turn (any role)
        case
            when turn_idx = 1 or ts is null or prev_ts is null then 300.0::double
            else greatest(0.0, (epoch_us(ts) - epoch_us(prev_ts)) / 1e6)
        end as m11,
        -- m18: Shannon entropy (bits) of the code points of norm(text), capped at 6
        case
            when char_entropy > 6.0 then 6.0::double
            else char_entropy
        end as m18
    from raw_metrics
),

flow_metrics as (
    select
        *,
        -- m6 = 0.5·(1 - flow) + 0.5·(1 - coh)
        {{ clamp01('0.5 * (1.0 - m4) + 0.5 * (1.0 - m5)') }} as m6,
        -- m7 = 0.6·rep_same + 0.4·(1 - flow)
        {{ clamp01('0.6 * rep_same + 0.4 * (1.0 - m4)') }} as m7
    from text_metrics
),

legacy as (
    select
        *,
        -- m29 (A_legacy) = 0.5 + 0.2·flow + 0.2·coh - 0.3·LL - 0.1·ZLF
        {{ clamp01('0.5 + 0.2 * m4 + 0.2 * m5 - 0.3 * m7 - 0.1 * m6') }} as m29
    from flow_metrics
),

a_core as (
    select
        *,
        -- m15 = A_phys if physics_available else m29
        case
            when physics_available = 1 then a_phys
            when physics_available = 0 then m29
        end as m15
    from legacy
),

a_gradient as (
    select
        *,
        -- m17: m15 minus m15 of the latest earlier same-role turn with physics (0 if none)
        case
            when physics_available = 1 then coalesce(
                m15 - last_value(case when physics_available = 1 then m15 end ignore nulls) over (
                    partition by session_id, role
                    order by turn_idx
                    rows between unbounded preceding and 1 preceding
                ),
                0.0
            )
            when physics_available = 0 then 0.0::double
        end as m17
    from a_core
),

damping as (
    select
        *,
        -- g = prev_same_role(m17_nabla_a), 0 on the first turn of its role
        coalesce(lag(m17) over (partition by session_id, role order by turn_idx), 0.0) as prev_g
    from a_gradient
),

affect as (
    select
        *,
        -- m1: (0.4 + 0.6·complexity)·(1 + 0.5·lex_boost)·stability, stability = 1/(1 + |g|)
        case
            when n_words = 0 then 0.5::double
            else {{ clamp01(
                "(0.4 + 0.6 * least(1.0, (n_words::double / n_sent) / 15.0))"
                ~ " * (1.0 + 0.5 * (emo_occ / n_words))"
                ~ " * (1.0 / (1.0 + abs(prev_g)))"
            ) }}
        end as m1
    from damping
),

guarded as (
    select
        *,
        -- effective_A = min(m1_A, m15_affekt_a)
        {{ min2('m1', 'm15') }} as effective_a
    from affect
),

-- m3 joins last, onto the narrow rows of the finished metrics (the lists are gone by then)
generative as (
    select
        g.*,
        -- m3: share of new distinct bigrams (1.0 when no earlier bigram exists), novelty_boost 1
        case
            when g.n_words < 2 then 0.5::double
            else {{ clamp01('n.new_share') }}
        end as m3_gen
    from guarded as g
    left join novelty as n
        on n.session_id = g.session_id
        and n.turn_idx = g.turn_idx
)

select
    -- the turn (stg_turns.turn_id), every turn once
    turn_id,
    -- its session
    session_id,
    -- its 1-based position in the session (ENGINE §0)
    turn_idx,
    -- user / ai
    role,
    -- m1_A: lexical affect side channel A_lex, damped by the previous same-role |∇A|
    m1::double as m1_A,
    -- m2_PCI: unique ratio, sentence complexity and token overlap with the previous turn
    m2_pci::double as m2_PCI,
    -- m3_gen_index: share of the turn's bigrams not seen earlier in the session
    m3_gen::double as m3_gen_index,
    -- m4_flow: sentence-length smoothness minus the break-marker penalty
    m4::double as m4_flow,
    -- m5_coh: mean token-set Jaccard of consecutive sentences
    m5::double as m5_coh,
    -- m6_ZLF: zero-loop flag, 0.5·(1 − flow) + 0.5·(1 − coh)
    m6::double as m6_ZLF,
    -- m7_LL: turbidity, 0.6·rep_same + 0.4·(1 − flow)
    m7::double as m7_LL,
    -- m8_x_exist: strongest existential marker, lex_max(X_exist)
    x_exist_max::double as m8_x_exist,
    -- m9_b_past: strongest past reference, max(lex_max(B_past), bpast_rx_max)
    m9::double as m9_b_past,
    -- m10_angstrom: conversation depth 1.25·(s_self + x_exist + b_past + coh), in [0, 5]
    (1.25 * (s_self + x_exist_max + m9 + m5))::double as m10_angstrom,
    -- m11_gap_s: seconds since the previous turn (300 first/missing, 0 when out of order)
    m11::double as m11_gap_s,
    -- m12_lex_hit: dominant Ångström dimension, max(s_self, x_exist, b_past)
    {{ max2(max2('s_self', 'x_exist_max'), 'm9') }}::double as m12_lex_hit,
    -- m13_base_score: flow × coherence
    (m4 * m5)::double as m13_base_score,
    -- m14_base_stability: 1 − LL
    (1.0 - m7)::double as m14_base_stability,
    -- m15_affekt_a: A-core, A_phys if physics is available, else A_legacy (m29)
    m15::double as m15_affekt_a,
    -- m16_pci: 0.4·flow + 0.4·coh + 0.2·(1 − LL)
    {{ clamp01('0.4 * m4 + 0.4 * m5 + 0.2 * (1.0 - m7)') }}::double as m16_pci,
    -- m17_nabla_a: m15 minus m15 of the previous same-role turn with physics
    m17::double as m17_nabla_a,
    -- m18_s_entropy: character-level Shannon entropy of norm(text), capped at 6
    m18::double as m18_s_entropy,
    -- m19_z_prox: collapse proximity, min(1, (1 − effective_A)·LL·(1 + hazard_bonus))
    {{ clamp01('(1.0 - effective_a) * m7 * (1.0 + hazard_bonus)') }}::double as m19_z_prox,
    -- m20_phi_proxy: A-core × PCI
    (m15 * m2_pci)::double as m20_phi_proxy,
    -- m28_phys_1: A_phys_raw = R − 1.5·D (0 without physics), unbounded
    a_phys_raw::double as m28_phys_1,
    -- m29_phys_2: A_legacy, the linear V3 affect (fallback of m15)
    m29::double as m29_phys_2,
    -- m30_phys_3: A29 guardian trip, 1 if the cosine to a danger centre exceeds 0.85
    a29_trip::integer as m30_phys_3,
    -- m31_phys_4: danger sum D over the danger centres (0 without physics)
    danger::double as m31_phys_4,
    -- m32_phys_5: resonance sum R over the active memories (0 without physics)
    resonance::double as m32_phys_5,
    -- effective_A (engine column): min(m1_A, m15_affekt_a), read by m19 and F_risk
    effective_a::double as effective_A,
    -- intermediate: emo_occ = lex_sum_occ(Emotion_pos) + lex_sum_occ(Emotion_neg) (m1)
    emo_occ::double as emo_occ,
    -- intermediate: rep_same, token-set Jaccard with the previous same-role turn (m7)
    rep_same::double as rep_same,
    -- intermediate: s_self = lex_max(S_self) (m10, m12)
    s_self::double as s_self,
    -- input: hazard_bonus = min(0.5, lex(Suicide) + lex(Self_harm) + lex(Crisis)) (m19)
    hazard_bonus::double as hazard_bonus,
    -- input: physics_available (1 if the turn has a non-zero embedding)
    physics_available::integer as physics_available
from generative
