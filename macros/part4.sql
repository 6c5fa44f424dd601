{#-
  METRICS.md Part 4 (m116-m168) and the guardian of ENGINE §4/§6: the decision rules as
  SQL expressions, kept here so that each rule lives in one place and can be tested on its
  own with hand-made inputs (`python -m evoki_sql show --inline "select {{ ... }}"`).
  Every argument is a SQL expression; comparisons are strict exactly as the catalogue writes.
-#}

{#- ENGINE §6 safe_context: a ctx_safe marker (game, film, fiction, hypothetical) and no
    Suicide / Self_harm hit (C-32). Arguments are lex_hits counts. -#}
{% macro part4_safe_context(ctx_safe_hits, suicide_hits, self_harm_hits) -%}
(({{ ctx_safe_hits }}) >= 1 and ({{ suicide_hits }}) + ({{ self_harm_hits }}) = 0)
{%- endmacro %}

{#- ENGINE §4 F_risk = clamp(0.40·(1 − effective_A) + 0.35·m101_t_panic + 0.25·(1 − B_align), 0, 1). -#}
{% macro part4_f_risk(effective_a, t_panic, b_align) -%}
{{ clamp01("0.40 * (1.0 - (" ~ effective_a ~ ")) + 0.35 * (" ~ t_panic ~ ") + 0.25 * (1.0 - (" ~ b_align ~ "))") }}
{%- endmacro %}

{#- ENGINE §6 guardian_action: the first rule that holds (C-28 black hole, C-29 rule_conflict
    only warns, C-31 veto_f_risk above 0.75, C-32 safe_context turns panic vetoes into warn).
    A NULL input makes no rule hold silently: it falls through to the NULL branch, which the
    model's not_null test reports (never a quiet 'commit'). -#}
{% macro part4_guardian_action(hazard, t_panic, black_hole, z_prox, phys_3, f_risk, cum_stress, rule_conflict, omega, safe_context) -%}
case
    when ({{ hazard }}) is null or ({{ t_panic }}) is null or ({{ black_hole }}) is null
        or ({{ z_prox }}) is null or ({{ phys_3 }}) is null or ({{ f_risk }}) is null
        or ({{ cum_stress }}) is null or ({{ rule_conflict }}) is null or ({{ omega }}) is null
        or ({{ safe_context }}) is null
        then null
    when ({{ hazard }}) > 0.8 then 'veto_hazard'
    when ({{ t_panic }}) > 0.8 and not ({{ safe_context }}) then 'veto_panic'
    when ({{ black_hole }}) > 0.7 and not ({{ safe_context }}) then 'veto_black_hole'
    when ({{ z_prox }}) > 0.65 then 'veto_z_prox'
    when ({{ phys_3 }}) = 1 then 'veto_a29'
    when ({{ f_risk }}) > 0.75 and not ({{ safe_context }}) then 'veto_f_risk'
    when ({{ z_prox }}) > 0.50
        or ({{ cum_stress }}) > 15.0
        or ({{ rule_conflict }}) > 0.5
        or ({{ f_risk }}) > 0.6
        or ({{ t_panic }}) > 0.8
        or ({{ black_hole }}) > 0.7
        then 'warn'
    when ({{ omega }}) < 0.3 then 'retry'
    else 'commit'
end
{%- endmacro %}

{#- m161_commit_action: the spec's own rule (METRICS.md m161; C-29 does not touch it). -#}
{% macro part4_commit_action(hazard, z_prox, rule_conflict, omega) -%}
case
    when ({{ hazard }}) is null or ({{ z_prox }}) is null or ({{ rule_conflict }}) is null
        or ({{ omega }}) is null
        then null
    when ({{ hazard }}) > 0.8 then 'alert'
    when ({{ z_prox }}) > 0.65 then 'alert'
    when ({{ rule_conflict }}) > 0.5 then 'alert'
    when ({{ z_prox }}) > 0.50 then 'commit'
    when ({{ omega }}) < 0.3 then 'retry'
    else 'commit'
end
{%- endmacro %}

{#- min(1, k · count / n_words), 0 when n_words = 0 (the marker densities m135, m137, m140). -#}
{% macro part4_density(count, n_words, k) -%}
case when ({{ n_words }}) = 0 then 0.0::double
     else least(1.0, {{ k }} * ({{ count }}) / ({{ n_words }}))::double end
{%- endmacro %}
