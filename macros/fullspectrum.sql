{#- The FullSpectrum168 JSON, generated from the metric contract seed (seeds/metric_contract.csv):
    the keys, their order and how each value is written come from the seed, never from a
    hand-written list. Contract order is the seed's row order, which is its id order
    (tests/python/test_seeds.py checks it). -#}

{#- One metric value as JSON text, by contract type. Fixed formatting:
    - float: DuckDB's double -> varchar cast, the shortest text that reads back to the same
      double (identical to Python's repr); -0.0 is written as 0.0. DuckDB 1.5.5 misprints a
      few huge doubles (2^81 prints as 2^82, 2^807 as invalid text), so a magnitude of 1e15
      or more stops the build (no metric comes near it), and the test
      readback_values_equal_metric_models compares every value read back from the history with
      its metric model;
    - int / binary: an integer without a decimal point; a value that is not a whole number
      stops the build (it would be a silent rounding);
    - enum: a JSON string, the value must be one of the contract's enum values.
    A NULL, NaN or Inf value stops the build with the metric key and the turn_id (no text):
    the history must never receive a silent wrong value. -#}
{% macro fs168_json_value(row, turn_id='turn_id') -%}
{%- set key = row['key'] -%}
{%- set fail = "error('fullspectrum168: metric " ~ key ~ " is ' || {reason} || ' for turn ' || " ~ turn_id ~ ")" -%}
{%- if row['type'] == 'enum' -%}
case
    when {{ key }} in ({% for v in row['enum_values'].split('|') %}{{ literal(v) }}{{ ", " if not loop.last }}{% endfor %})
        then '"' || {{ key }} || '"'
    else {{ fail.format(reason="'NULL or not an allowed value'") }}
end
{%- elif row['type'] in ('int', 'binary') -%}
case
    when {{ key }} is null or not isfinite({{ key }}::double) then {{ fail.format(reason="'NULL or not finite'") }}
    when {{ key }}::double <> trunc({{ key }}::double) then {{ fail.format(reason="'not a whole number'") }}
    else cast({{ key }} as bigint)::varchar
end
{%- else -%}
case
    when {{ key }} is null or not isfinite({{ key }}::double) then {{ fail.format(reason="'NULL or not finite'") }}
    when abs({{ key }}::double) >= 1e15 then {{ fail.format(reason="'too large to print exactly (>= 1e15)'") }}
    else ({{ key }}::double + 0.0)::varchar
end
{%- endif -%}
{%- endmacro %}

{#- The metrics_json expression: '{"m1_A":<v>,...,"m168_cum_stress":<v>}', all 168 contract keys
    in contract order, no spaces.
    Two paths, one text. A row whose values are all "plain" (every float finite with
    1e-4 <= |x| < 1e15 or x = 0, every int/binary a finite whole number, every enum an allowed
    value) is written by json_object, whose number writer is 3.5x faster than the double ->
    varchar cast and writes exactly the same text for those values (shortest round-trip
    digits in plain decimal notation, x.0 for whole numbers; -0.0 is made 0.0 first). Any other
    row (a value below 1e-4, which the cast writes as 1e-05 and json_object as 0.00001, or a
    value that must stop the build) takes the exact path, fs168_json_value per key, which
    writes it or raises the error naming key and turn.
    tests/python/output/test_metrics_json_format.py checks both paths against Python's repr. -#}
{% macro fs168_metrics_json(turn_id='turn_id') -%}
{%- set rows = seed_rows('metric_contract') -%}
case
    when {% for row in rows %}{{ fs168_needs_exact_path(row) }}{{ "\n        or " if not loop.last }}{% endfor %}
        then concat(
            '{',
{%- for row in rows %}
            '{{ "," if not loop.first }}"{{ row['key'] }}":', {{ fs168_json_value(row, turn_id) | indent(12) }},
{%- endfor %}
            '}'
        )
    else json_object(
{%- for row in rows %}
        '{{ row['key'] }}', {{ fs168_plain_value(row) }}{{ "," if not loop.last }}
{%- endfor %}
    )::varchar
end
{%- endmacro %}

{#- True when the key's value is not plain (see fs168_metrics_json); never NULL. -#}
{% macro fs168_needs_exact_path(row) -%}
{%- set key = row['key'] -%}
{%- if row['type'] == 'enum' -%}
{%- set values = row['enum_values'].split('|') -%}
{#- an enum value with any character other than [a-z0-9_] (one json_object might escape) always takes the exact path -#}
{%- if values | map('list') | sum(start=[]) | reject('in', 'abcdefghijklmnopqrstuvwxyz0123456789_') | list -%}
true
{%- else -%}
({{ key }} is null or {{ key }} not in ({% for v in values %}{{ literal(v) }}{{ ", " if not loop.last }}{% endfor %}))
{%- endif -%}
{%- elif row['type'] in ('int', 'binary') -%}
({{ key }} is null or not (isfinite({{ key }}::double) and {{ key }}::double = trunc({{ key }}::double)))
{%- else -%}
({{ key }} is null or not (isfinite({{ key }}::double) and abs({{ key }}::double) < 1e15 and (abs({{ key }}::double) >= 1e-4 or {{ key }}::double = 0)))
{%- endif -%}
{%- endmacro %}

{#- The value json_object writes for a plain row. -#}
{% macro fs168_plain_value(row) -%}
{%- set key = row['key'] -%}
{%- if row['type'] == 'enum' -%}
{{ key }}
{%- elif row['type'] in ('int', 'binary') -%}
cast({{ key }} as bigint)
{%- else -%}
{{ key }}::double + 0.0
{%- endif -%}
{%- endmacro %}

{#- The json_transform structure that reads metrics_json back into one typed column per
    contract key (DOUBLE for numbers, VARCHAR for enums). -#}
{% macro fs168_json_structure() -%}
{%- set rows = seed_rows('metric_contract') -%}
'{ {%- for row in rows -%}
"{{ row['key'] }}":"{{ 'VARCHAR' if row['type'] == 'enum' else 'DOUBLE' }}"{{ "," if not loop.last }}
{%- endfor -%} }'
{%- endmacro %}

{#- The contract keys as a SQL list literal, in contract order. -#}
{% macro fs168_key_list() -%}
{%- set rows = seed_rows('metric_contract') -%}
[{% for row in rows %}'{{ row['key'] }}'{{ ", " if not loop.last }}{% endfor %}]
{%- endmacro %}

{#- The per-turn record digest of the input fingerprint: the turn's own input fields as a
    JSON array (NULL-safe, unambiguous), hashed. -#}
{% macro fs168_input_record(turn_id, prompt_num, role, ts_iso, text) -%}
sha256(json_array({{ turn_id }}, {{ prompt_num }}, {{ role }}, {{ ts_iso }}, {{ text }})::varchar)
{%- endmacro %}

{#- The one-line comment of a contract key's column: key, family, type and catalogue range. -#}
{% macro fs168_column_comment(row) -%}
{{ row['key'] }}: {{ row['type'] }}
{%- if row['type'] == 'enum' %}, one of {{ row['enum_values'] | replace('|', ', ') }}
{%- else %} in [{{ row['range_lo'] or '-inf' }}, {{ row['range_hi'] or 'inf' }}]
{%- endif %} ({{ row['family'] }})
{%- endmacro %}

{#- The metric family models joined by turn_id (each contract key lives in exactly one). -#}
{% macro fs168_family_join() -%}
{{ ref('metrics_core') }}
    inner join {{ ref('metrics_physics') }} using (turn_id)
    inner join {{ ref('metrics_integrity') }} using (turn_id)
    inner join {{ ref('metrics_fep') }} using (turn_id)
    inner join {{ ref('metrics_evolution') }} using (turn_id)
    inner join {{ ref('metrics_sentiment') }} using (turn_id)
    inner join {{ ref('metrics_grain') }} using (turn_id)
    inner join {{ ref('metrics_trauma') }} using (turn_id)
    inner join {{ ref('metrics_lix') }} using (turn_id)
    inner join {{ ref('metrics_health_p3') }} using (turn_id)
    inner join {{ ref('metrics_dynamics') }} using (turn_id)
    inner join {{ ref('metrics_synthesis') }} using (turn_id)
    inner join {{ ref('metrics_context') }} using (turn_id)
{%- endmacro %}
