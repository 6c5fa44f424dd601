{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    partition_by='session_id',
    partitions='stg_changed_sessions',
    tags=['metrics', 'phase6', 'part4'],
) }}

-- Phase 6 of METRICS.md Part 4: text analytics m117-m121, dynamics m122-m130, chronos
-- m131-m134, meta-cognition m135-m140 and m145-m150, system health m141, m143, m144.
-- One row per turn of stg_turns. Schema A only (P-1).
-- Windows (all over the session in turn order, nothing looks ahead):
--   W_sess = partition by session_id order by turn_idx
--   W_role = partition by session_id, role order by turn_idx (P-4 same-role affect window:
--            the last min(10, k) m1_A values of the turn's own role, t included)
-- Timestamps (P-3): ts = stg_turns.ts_epoch (epoch of try_cast(ts_iso as timestamptz), session
-- TimeZone UTC; NULL when missing or unparseable); start(t) = first non-NULL ts so far,
-- e(t) = running max of ts (missing / out-of-order stamps add zero time).
-- Marker lists (P-2) come from the lexika seed through feat_lexicon_wide: occ(L) = lex_L_hits,
-- dist(L) = lex_L_nterms (ENGINE matcher: whole tokens, phrases inside one segment).
-- Every input is left-joined, so a missing upstream row surfaces as NULL in the not_null tests.

{#- EMOJI_MAP (m120) from the lexika seed at compile time: one code point per entry, its
    polarity as weight. A multi-code-point entry would break the character class: refuse it. -#}
{%- set emoji_map = [] -%}
{%- for row in seed_rows('lexika') if row['lexicon'] == 'EMOJI_MAP' -%}
{%- if row['term'] | length != 1 -%}
{{ exceptions.raise_compiler_error("metrics_dynamics: EMOJI_MAP entry is not one code point") }}
{%- endif -%}
{%- do emoji_map.append(row) -%}
{%- endfor -%}
{%- if emoji_map | length != 22 -%}
{{ exceptions.raise_compiler_error("metrics_dynamics: EMOJI_MAP must have 22 entries") }}
{%- endif %}

with turns as (
    select
        t.turn_id,
        t.session_id,
        t.turn_idx,
        t.role,
        t.ts_epoch as ts,
        t.partner_turn_id,
        x.text_nfc,
        x.tokens,
        x.tokens_cased,
        x.n_words,
        x.n_sent,
        part4_token_counts(x.tokens_cased, x.tokens) as token_counts,
        w.lex_FUTURE_hits as future_occ,
        w.lex_PAST_hits as past_occ,
        w.lex_ABSTRACT_hits as abstract_occ,
        w.lex_INTEGRATION_nterms as integration_dist,
        w.lex_SYNTHESIS_nterms as synthesis_dist,
        w.lex_EVAL_hits as eval_occ,
        w.lex_RECURSIVE_hits as recursive_occ,
        w.lex_PARADOX_nterms as paradox_dist,
        w.lex_PAST_T_hits as past_t_occ,
        w.lex_FUTURE_T_hits as future_t_occ,
        w.lex_BRIDGE_hits as bridge_occ,
        w.lex_CAUSAL_nterms as causal_dist,
        w.lex_CLOSURE_hits as closure_occ,
        c.topic_shift,
        m.text_meta_consistency,
        core.m1_A,
        core.m17_nabla_a,
        phys.m21_chaos,
        fep.m60_delta_tokens,
        fep.m70_decay_factor,
        evo.m71_ev_resonance,
        integ.m45_trust_score,
        trauma.m111_g_phase,
        partner.m111_g_phase as partner_g_phase,
        health.m142_rag_align
    from {{ ref('stg_turns') }} as t
    left join {{ ref('feat_text') }} as x
        on x.turn_id = t.turn_id
    left join {{ ref('feat_lexicon_wide') }} as w
        on w.turn_id = t.turn_id
    left join {{ ref('feat_emb_context') }} as c
        on c.turn_id = t.turn_id
    left join {{ ref('feat_text_meta') }} as m
        on m.turn_id = t.turn_id
    left join {{ ref('metrics_core') }} as core
        on core.turn_id = t.turn_id
    left join {{ ref('metrics_physics') }} as phys
        on phys.turn_id = t.turn_id
    left join {{ ref('metrics_fep') }} as fep
        on fep.turn_id = t.turn_id
    left join {{ ref('metrics_evolution') }} as evo
        on evo.turn_id = t.turn_id
    left join {{ ref('metrics_integrity') }} as integ
        on integ.turn_id = t.turn_id
    left join {{ ref('metrics_trauma') }} as trauma
        on trauma.turn_id = t.turn_id
    left join {{ ref('metrics_trauma') }} as partner
        on partner.turn_id = t.partner_turn_id
    left join {{ ref('metrics_health_p3') }} as health
        on health.turn_id = t.turn_id
),

word_lists as (
    -- single-token lists read straight from the seed (one place for the data)
    select
        list(term) filter (where lexicon = 'CAUSAL') as causal_terms,
        list(term) filter (where lexicon = 'CLOSURE') as closure_terms
    from {{ ref('lexika') }}
    where lexicon in ('CAUSAL', 'CLOSURE')
),

-- the per-turn text lists reduced to the scalars the metrics read, before the windows: the
-- window sorts below then carry numbers instead of the texts and token lists
text_lists as (
    select
        t.*,
        -- m117: segments = a run of non-[.!?] characters plus its terminator run, kept when it
        -- holds a word character (exactly the engine sentences)
        list_filter(
            regexp_extract_all(t.text_nfc, '[^.!?]+[.!?]*'),
            lambda seg: {{ text_has_word('seg') }}
        ) as segments,
        -- m120: the polarity of every EMOJI_MAP code point of nfc(text), in text order
        list_transform(
            regexp_extract_all(
                t.text_nfc,
                '[{% for row in emoji_map %}{{ row["term"] }}{% endfor %}]'
            ),
            lambda e: case e
                {%- for row in emoji_map %}
                when '{{ row["term"] }}' then {{ row["weight"] | float }}::double
                {%- endfor %}
            end
        ) as emoji_polarities
    from turns as t
),

text_parts as (
    select
        t.* exclude (text_nfc, tokens, tokens_cased, token_counts, segments, emoji_polarities),
        -- m117: sentences whose terminator run holds '?'
        len(list_filter(t.segments, lambda seg: contains(seg, '?'))) as question_segments,
        -- m118: all-caps tokens (≥ 2 code points, Python isupper)
        t.token_counts.caps as caps_tokens,
        -- m120: number and sum of the EMOJI_MAP polarities
        len(t.emoji_polarities) as emoji_n,
        list_sum(t.emoji_polarities) as emoji_sum,
        -- m136: the token 'ich' occurs
        list_contains(t.tokens, 'ich') as has_ich,
        -- m150: the text ends in '?' (trailing white space allowed)
        regexp_matches(t.text_nfc, '\?[\p{Z}\t\n\x0B\f\r\x1C-\x1F\x{85}]*$') as ends_with_question,
        -- m149: 0-based positions i with tokens[i] in CAUSAL and at least three tokens after it
        len(
            list_filter(
                range(t.n_words),
                lambda i: list_contains(l.causal_terms, t.tokens[i + 1]) and i < t.n_words - 3
            )
        ) as causal_complete,
        len(list_filter(t.tokens, lambda tok: list_contains(l.closure_terms, tok))) as closure_tokens
    from text_lists as t
    cross join word_lists as l
),

timed as (
    select
        *,
        -- P-3 start(t): first valid timestamp so far; e(t): running max (effective time)
        first_value(ts ignore nulls) over w_upto as ts_start,
        max(ts) over w_upto as ts_eff,
        -- m134: the immediately preceding turn (raw timestamp, role)
        lag(role) over w_sess as prev_role,
        lag(ts) over w_sess as prev_ts,
        -- P-4 same-role window, first step: the two previous same-role m1_A values
        lag(m1_A, 1) over w_role as a1,
        lag(m1_A, 2) over w_role as a2,
        -- running word and AI-turn counters for m119, m121, m144
        sum(case when role = 'user' then n_words else 0 end) over w_upto as user_words,
        sum(case when role = 'ai' then n_words else 0 end) over w_upto as ai_words,
        count(*) filter (where role = 'ai') over w_upto as ai_turns,
        count(*) filter (where role = 'ai' and n_words = 0) over w_upto as ai_empty_turns,
        avg(case when role = 'ai' then n_words end) over w_upto as ai_mean_words,
        -- m133: the latest topic-shift turn so far (turn 1 always shifts)
        max(case when topic_shift = 1 then turn_idx end) over w_upto as anchor_idx
    from text_parts
    window
        w_sess as (partition by session_id order by turn_idx),
        w_upto as (
            partition by session_id order by turn_idx
            rows between unbounded preceding and current row
        ),
        w_role as (partition by session_id, role order by turn_idx)
),

windowed as (
    select
        *,
        -- P-4 reversal flag at this turn (the reversal sits at the previous same-role turn)
        case
            when a2 is not null and (a1 - a2) * (m1_A - a1) < 0 then 1 else 0
        end as rev_flag,
        -- m134: latency of a response pair (AI turn right after a user turn, both stamped, in order)
        case
            when role = 'ai' and prev_role = 'user' and ts is not null and prev_ts is not null
                and ts >= prev_ts
                then ts - prev_ts
        end as pair_latency
    from timed
),

role_window as (
    select
        *,
        -- rev(t): reversals among x_2 … x_{n-1} of SA(t) = flags of the last 8 same-role turns
        sum(rev_flag) over (w_role rows between 7 preceding and current row) as rev,
        count(*) over w_role10 as sa_n,
        max(m1_A) over w_role10 as sa_max,
        min(m1_A) over w_role10 as sa_min,
        var_pop(m1_A) over w_role10 as sa_var,
        -- e(j_1): effective time of the oldest turn of SA(t) (NULL if it had none)
        first_value(ts_eff) over w_role10 as sa_first_eff,
        -- m134: running mean latency over the pairs so far
        avg(pair_latency) over (
            partition by session_id order by turn_idx
            rows between unbounded preceding and current row
        ) as mean_latency
    from windowed
    window
        w_role as (partition by session_id, role order by turn_idx),
        w_role10 as (
            partition by session_id, role order by turn_idx
            rows between 9 preceding and current row
        )
),

anchored as (
    select
        r.*,
        a.ts_eff as anchor_eff
    from role_window as r
    left join role_window as a
        on a.session_id = r.session_id
        and a.turn_idx = r.anchor_idx
),

metrics as (
    select
        turn_id,
        session_id,
        turn_idx,
        role,
        -- m117_question_density: share of sentences whose terminator run holds '?'
        case
            when n_sent = 0 then 0.0::double
            else question_segments::double / n_sent
        end as m117_question_density,
        -- m118_capital_stress: share of all-caps tokens (≥ 2 code points, Python isupper)
        case
            when n_words = 0 then 0.0::double
            else caps_tokens::double / n_words
        end as m118_capital_stress,
        -- m119_turn_len_ai: mean word count of the session's AI turns so far; 0 without one
        coalesce(ai_mean_words, 0.0)::double as m119_turn_len_ai,
        -- m120_emoji_sentiment: mean polarity of the EMOJI_MAP code points; 0 without one
        case
            when emoji_n = 0 then 0.0::double
            else emoji_sum / emoji_n
        end as m120_emoji_sentiment,
        -- m121_talk_ratio: user words / AI words so far; 1.0 while there are no AI words
        case
            when ai_words = 0 then 1.0::double
            else user_words::double / ai_words
        end as m121_talk_ratio,
        -- m122_dyn_1: energy flow = clamp((∇A + clamp(Δtokens / 5, −1, 1)) / 2, 0, 1)
        {{ clamp01("(m17_nabla_a + " ~ clamp("m60_delta_tokens / 5.0", "-1.0", "1.0") ~ ") / 2.0") }}
            as m122_dyn_1,
        -- m123_dyn_2: momentum = |c| when the speaker's last two affect steps share a sign
        case
            when a2 is null then 0.0::double
            when (m1_A - a1) * (a1 - a2) > 0 then abs(m1_A - a1)
            else 0.0::double
        end as m123_dyn_2,
        -- m124_dyn_3: oscillation = min(1, reversals / (n / 2)) over the same-role window
        case
            when sa_n < 3 then 0.0::double
            else least(1.0, rev / (sa_n / 2.0))::double
        end as m124_dyn_3,
        -- m128_dyn_7: amplitude = (max − min) / 2 of the same-role window
        (sa_max - sa_min) / 2.0 as m128_dyn_7,
        -- m129_dyn_8: reversals per minute of the window's wall-clock span; 0 without a span
        case
            when sa_n < 3 or ts_eff is null or sa_first_eff is null then 0.0::double
            when (ts_eff - sa_first_eff) / 60.0 > 0
                then rev / ((ts_eff - sa_first_eff) / 60.0)
            else 0.0::double
        end as m129_dyn_8,
        -- m130_dyn_9: stability = max(0, 1 − var_pop(window) / 0.1)
        greatest(0.0, 1.0 - sa_var / 0.1)::double as m130_dyn_9,
        -- m126_dyn_5: dynamic resonance = mean of evolution resonance and trust
        (m71_ev_resonance + m45_trust_score) / 2.0 as m126_dyn_5,
        -- m127_dyn_6: g_phase minus the partner's latest g_phase, wrapped into [−π, π]; 0 without
        case
            when partner_turn_id is null then 0.0::double
            when m111_g_phase - partner_g_phase > pi()
                then m111_g_phase - partner_g_phase - 2 * pi()
            when m111_g_phase - partner_g_phase < -pi()
                then m111_g_phase - partner_g_phase + 2 * pi()
            else m111_g_phase - partner_g_phase
        end as m127_dyn_6,
        -- m131_session_dur: minutes from the first valid timestamp to the effective time
        case
            when ts_eff is null then 0.0::double
            else (ts_eff - ts_start) / 60.0
        end as m131_session_dur,
        -- m132_inter_freq: turns so far per second of session time; 0 without a span
        case
            when ts_eff is null or ts_eff - ts_start <= 0 then 0.0::double
            else turn_idx / (ts_eff - ts_start)
        end as m132_inter_freq,
        -- m133_chr_1: seconds since the latest topic shift (from start(t) if it had no time)
        case
            when ts_eff is null then 0.0::double
            else ts_eff - coalesce(anchor_eff, ts_start)
        end as m133_chr_1,
        -- m134_chr_2: mean response latency (s) of the user→AI pairs so far; 0 without one
        coalesce(mean_latency, 0.0)::double as m134_chr_2,
        -- m135_meta_20: planning = min(1, 20 · occ(FUTURE) / n_words)
        {{ part4_density('future_occ', 'n_words', '20.0') }} as m135_meta_20,
        -- m136_meta_21: reflection = min(1, 15 · occ(PAST) / n_words) when the token 'ich' occurs
        case
            when not has_ich then 0.0::double
            else {{ part4_density('past_occ', 'n_words', '15.0') }}
        end as m136_meta_21,
        -- m137_meta_22: abstraction = min(1, 10 · occ(ABSTRACT) / n_words)
        {{ part4_density('abstract_occ', 'n_words', '10.0') }} as m137_meta_22,
        -- m138_meta_23: integration = min(1, dist(INTEGRATION) / 3)
        least(1.0, integration_dist / 3.0)::double as m138_meta_23,
        -- m139_meta_24: synthesis = min(1, dist(SYNTHESIS) / 2)
        least(1.0, synthesis_dist / 2.0)::double as m139_meta_24,
        -- m140_meta_25: evaluation = min(1, 15 · occ(EVAL) / n_words)
        {{ part4_density('eval_occ', 'n_words', '15.0') }} as m140_meta_25,
        -- m141_hallu_risk: chaos not anchored by the retrieved context = m21 · (1 − m142)
        m21_chaos * (1.0 - m142_rag_align) as m141_hallu_risk,
        -- m143_mem_pressure: constant default 0.0 (no host RAM in a stored history, P-6)
        0.0::double as m143_mem_pressure,
        -- m144_sys_stab: 1 − (min(1, latency / 10 s) + share of empty AI turns) / 2
        1.0 - (
            least(1.0, coalesce(mean_latency, 0.0) / 10.0)
            + case when ai_turns = 0 then 0.0 else ai_empty_turns::double / ai_turns end
        ) / 2.0 as m144_sys_stab,
        -- m145_meta_30: recursion depth = occ(RECURSIVE)
        recursive_occ::integer as m145_meta_30,
        -- m146_meta_31: paradox = min(1, dist(PARADOX) / 2)
        least(1.0, paradox_dist / 2.0)::double as m146_meta_31,
        -- m147_meta_32: statement consistency (udf:text_meta, feat_text_meta)
        text_meta_consistency as m147_meta_32,
        -- m148_meta_33: temporal coherence = 0.6 for past and future forms without a bridge
        case
            when past_t_occ > 0 and future_t_occ > 0 and bridge_occ = 0 then 0.6::double
            else 1.0::double
        end as m148_meta_33,
        -- m149_meta_34: causal-chain completeness = min(1, completed causal words / dist(CAUSAL))
        case
            when causal_dist = 0 then 1.0::double
            else least(1.0, causal_complete / causal_dist::double)::double
        end as m149_meta_34,
        -- m150_meta_35: semantic closure (trailing '?' 0.5; < 3 words 0.3; closure word 1.0; 0.7)
        case
            when ends_with_question then 0.5::double
            when n_words < 3 then 0.3::double
            when closure_tokens > 0 then 1.0::double
            else 0.7::double
        end as m150_meta_35,
        -- inputs kept for m125 (next CTE) and for inspection
        m70_decay_factor,
        rev as dyn_rev,
        sa_n as dyn_window_n,
        topic_shift,
        ts_start as chronos_start,
        ts_eff as chronos_eff
    from anchored
)

select
    turn_id,
    session_id,
    turn_idx,
    role,
    m117_question_density,
    m118_capital_stress,
    m119_turn_len_ai,
    m120_emoji_sentiment,
    m121_talk_ratio,
    m122_dyn_1,
    m123_dyn_2,
    m124_dyn_3,
    -- m125_dyn_4: damping = clamp(m124 · (1 − m70_decay_factor), 0, 1)
    {{ clamp01("m124_dyn_3 * (1.0 - m70_decay_factor)") }} as m125_dyn_4,
    m126_dyn_5,
    m127_dyn_6,
    m128_dyn_7,
    m129_dyn_8,
    m130_dyn_9,
    m131_session_dur,
    m132_inter_freq,
    m133_chr_1,
    m134_chr_2,
    m135_meta_20,
    m136_meta_21,
    m137_meta_22,
    m138_meta_23,
    m139_meta_24,
    m140_meta_25,
    m141_hallu_risk,
    m143_mem_pressure,
    m144_sys_stab,
    m145_meta_30,
    m146_meta_31,
    m147_meta_32,
    m148_meta_33,
    m149_meta_34,
    m150_meta_35,
    -- rev(t) and n of the P-4 same-role window (m124, m129)
    dyn_rev,
    dyn_window_n,
    -- the embedding topic-shift flag used by m133 (udf:emb_context)
    topic_shift,
    -- P-3 start(t) and e(t) in epoch seconds (NULL before the first valid timestamp)
    chronos_start,
    chronos_eff
from metrics
