"""The number format of FullSpectrum168's metrics_json (macros/fullspectrum.sql).

In isolation (the macros rendered with Jinja and run in DuckDB on hand-made values):
- a float metric is written as Python's repr of the same double, for a wide sample of doubles
  (random bit patterns, subnormals, powers of ten and two, values next to 1, 1e-7, 1e16,
  5e-324, 0.1 + 0.2, ...), and json.loads gives back exactly that double; -0.0 is written 0.0;
- an int / binary metric is written without a decimal point ("1", not "1.0");
- an enum metric is written as a JSON string;
- a NULL, NaN or infinite float, a non-whole or non-finite int and a NULL or unknown enum
  value make the query fail with an error naming the metric key and the turn_id, and
  carrying no turn text;
- the whole-object macro writes every contract key in contract order with no whitespace.

On the real project (a small history backfilled with `run -s +fullspectrum168`):
metrics_json holds exactly the contract keys in order, with no whitespace, in the format
above, every value equals the column of the family model that owns the key (compared
exactly: float(json) == column value), and the history received the same text.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
import sqlite3
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pyarrow as pa
import pytest
from output_support import Backfill

from evoki_sql.jinja_env import sql_literal

ROOT = Path(__file__).resolve().parents[3]
CONTRACT: list[dict[str, str]] = list(
    csv.DictReader((ROOT / "seeds" / "metric_contract.csv").open(newline="", encoding="utf-8"))
)
KEYS = [row["key"] for row in CONTRACT]
BY_KEY = {row["key"]: row for row in CONTRACT}
SECRET = "Mein geheimer Satz 4711"  # turn text that must never show up in an error


def seed_rows(name: str) -> list[dict[str, str]]:
    path = ROOT / "seeds" / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return [dict(r) for r in csv.DictReader(handle)]


ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
ENV.globals.update(literal=sql_literal, seed_rows=seed_rows)
MACROS = ENV.from_string((ROOT / "macros" / "fullspectrum.sql").read_text(encoding="utf-8")).module

FLOAT_KEY = next(r["key"] for r in CONTRACT if r["type"] == "float")
INT_KEY = next(r["key"] for r in CONTRACT if r["type"] == "int")
BINARY_KEY = next(r["key"] for r in CONTRACT if r["type"] == "binary")
ENUM_KEY = next(r["key"] for r in CONTRACT if r["type"] == "enum")


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def arrow_type(kind: str) -> pa.DataType:
    return {"double": pa.float64(), "bigint": pa.int64(), "varchar": pa.string()}[kind]


def json_values(
    con: duckdb.DuckDBPyConnection,
    key: str,
    values: Sequence[Any],
    kind: str = "double",
    turn_ids: Sequence[str] | None = None,
) -> list[str]:
    """fs168_json_value of contract key `key` over `values` (one turn each), in order."""
    ids = list(turn_ids) if turn_ids is not None else [f"turn-{i}" for i in range(len(values))]
    table = pa.table(
        {
            "ord": pa.array(range(len(values)), pa.int64()),
            "turn_id": pa.array(ids, pa.string()),
            key: pa.array(list(values), arrow_type(kind)),
            "text": pa.array([SECRET] * len(values), pa.string()),
        }
    )
    expression = MACROS.fs168_json_value(BY_KEY[key], "turn_id")
    con.register("metric_input", table)
    try:
        rows = con.execute(f"select {expression} from metric_input order by ord").fetchall()
    finally:
        con.unregister("metric_input")
    return [r[0] for r in rows]


def sample_doubles() -> list[float]:
    """Finite doubles of every magnitude and shape, deterministic."""
    rng = random.Random(168)
    values: list[float] = [
        1e-7,
        1e16,
        5e-324,
        -5e-324,
        0.1 + 0.2,
        0.1,
        1 / 3,
        2 / 3,
        1.0,
        0.0,
        1e15,
        1e17,
        1e21,
        1e22,
        1e-5,
        1e-4,
        123456789012345680.0,
        2.0**53,
        2.0**53 + 2,
        2.0**63,
        2.2250738585072014e-308,  # smallest normal
        2.225073858507201e-308,  # largest subnormal
        1.7976931348623157e308,
        -1.7976931348623157e308,
        0.9999999999999999,
        1.0000000000000002,
    ]
    # next to 1 (and to 0.5, 0 and 1e16) on both sides
    for centre in (1.0, 0.5, 0.0, 1e16, -1.0):
        up = down = centre
        for _ in range(40):
            up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
            values += [up, down]
    # powers of ten and two over the whole range
    values += [float(f"1e{k}") for k in range(-323, 309)]
    values += [2.0**k for k in range(-1074, 1024, 7)]
    # random bit patterns: every exponent, subnormals included
    while len(values) < 20_000:
        x = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            values.append(x)
    # random values of the ranges metrics live in
    values += [rng.random() for _ in range(3000)]
    values += [rng.uniform(-100, 100) for _ in range(1000)]
    values += [round(rng.random(), rng.randint(1, 6)) for _ in range(1000)]
    values += [rng.randint(0, 10**6) / 10 ** rng.randint(0, 12) for _ in range(1000)]
    return values


# DuckDB 1.5.5's double -> varchar cast misprints these three powers of two (and their
# negatives): 2**81 comes out as 2**82's text, 2**91 as 2**92's, and 2**807 with a digit "A"
# (not even JSON). A scan of 10**6 random doubles and of every power of two and its
# neighbours found no other case. Excluded from the sample test, pinned by an xfail below.
PRINT_LIMIT = 1e15
DUCKDB_MISPRINTED = [2.0**81, 2.0**91, 2.0**807, -(2.0**81), -(2.0**91), -(2.0**807)]


def same_double(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b)


# -- floats -----------------------------------------------------------------------------------


def test_floats_are_written_as_python_repr_and_round_trip(con: duckdb.DuckDBPyConnection) -> None:
    values = [v for v in sample_doubles() if abs(v) < PRINT_LIMIT]
    assert len(values) > 15_000
    texts = json_values(con, FLOAT_KEY, values)
    wrong = [(v, t) for v, t in zip(values, texts) if t != repr(v + 0.0)]
    assert not wrong, wrong[:10]
    for value, text in zip(values, texts):
        back = json.loads(text)
        assert isinstance(back, float), text
        assert same_double(back, value + 0.0), (value, text)
        # and inside an object, as metrics_json holds it
        assert json.loads(f'{{"{FLOAT_KEY}":{text}}}')[FLOAT_KEY] == value


@pytest.mark.parametrize("value", DUCKDB_MISPRINTED + [1e15, -1e15, 1e16, 1e300], ids=repr)
def test_huge_floats_stop_the_build_instead_of_being_misprinted(
    con: duckdb.DuckDBPyConnection, value: float
) -> None:
    # DuckDB 1.5.5 misprints some doubles >= 2**81; the macro refuses any magnitude >= 1e15
    # (no metric comes near it) so a misprint can never reach the history
    with pytest.raises(duckdb.Error, match=f"metric {FLOAT_KEY} is too large to print exactly"):
        json_values(con, FLOAT_KEY, [value])


def test_the_largest_allowed_floats_are_printed_exactly(con: duckdb.DuckDBPyConnection) -> None:
    below = [math.nextafter(PRINT_LIMIT, 0.0), -math.nextafter(PRINT_LIMIT, 0.0), 999999999999999.9]
    assert json_values(con, FLOAT_KEY, below) == [repr(v) for v in below]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e-7, "1e-07"),
        (123456789012345.6, "123456789012345.6"),
        (5e-324, "5e-324"),
        (0.1 + 0.2, "0.30000000000000004"),
        (0.9999999999999999, "0.9999999999999999"),
        (1.0, "1.0"),
        (0.0, "0.0"),
        (-0.0, "0.0"),
        (0.5, "0.5"),
        (-2.5, "-2.5"),
    ],
)
def test_float_examples(con: duckdb.DuckDBPyConnection, value: float, expected: str) -> None:
    assert json_values(con, FLOAT_KEY, [value]) == [expected]


def test_negative_zero_is_written_as_zero(con: duckdb.DuckDBPyConnection) -> None:
    (text,) = json_values(con, FLOAT_KEY, [-0.0])
    assert text == "0.0"
    assert not math.copysign(1.0, json.loads(text)) < 0


def test_float_metric_from_an_integer_column_is_still_a_float(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert json_values(con, FLOAT_KEY, [0, 1, -3], kind="bigint") == ["0.0", "1.0", "-3.0"]


# -- int / binary / enum ----------------------------------------------------------------------


@pytest.mark.parametrize("key", [INT_KEY, BINARY_KEY])
def test_int_and_binary_have_no_decimal_point(con: duckdb.DuckDBPyConnection, key: str) -> None:
    from_doubles = json_values(con, key, [0.0, 1.0, -0.0, 2.0, -3.0, 1e15])
    assert from_doubles == ["0", "1", "0", "2", "-3", "1000000000000000"]
    assert json_values(con, key, [0, 1, 42, -7], kind="bigint") == ["0", "1", "42", "-7"]
    for text in from_doubles:
        assert isinstance(json.loads(text), int)


def test_enum_values_are_json_strings(con: duckdb.DuckDBPyConnection) -> None:
    for row in (r for r in CONTRACT if r["type"] == "enum"):
        allowed = row["enum_values"].split("|")
        texts = json_values(con, row["key"], allowed, kind="varchar")
        assert texts == [f'"{v}"' for v in allowed]
        assert [json.loads(t) for t in texts] == allowed


# -- values that must stop the build ----------------------------------------------------------

BAD_VALUES = [
    pytest.param(FLOAT_KEY, None, "double", "NULL or not finite", id="float-null"),
    pytest.param(FLOAT_KEY, math.nan, "double", "NULL or not finite", id="float-nan"),
    pytest.param(FLOAT_KEY, math.inf, "double", "NULL or not finite", id="float-inf"),
    pytest.param(FLOAT_KEY, -math.inf, "double", "NULL or not finite", id="float-minus-inf"),
    pytest.param(INT_KEY, 1.5, "double", "not a whole number", id="int-fraction"),
    pytest.param(INT_KEY, 2.0000000000000004, "double", "not a whole number", id="int-almost"),
    pytest.param(INT_KEY, None, "double", "NULL or not finite", id="int-null"),
    pytest.param(INT_KEY, math.nan, "double", "NULL or not finite", id="int-nan"),
    pytest.param(BINARY_KEY, 0.5, "double", "not a whole number", id="binary-half"),
    pytest.param(BINARY_KEY, math.inf, "double", "NULL or not finite", id="binary-inf"),
    pytest.param(ENUM_KEY, "maybe", "varchar", "not an allowed value", id="enum-unknown"),
    pytest.param(ENUM_KEY, "", "varchar", "not an allowed value", id="enum-empty"),
    pytest.param(ENUM_KEY, None, "varchar", "NULL", id="enum-null"),
]


@pytest.mark.parametrize(("key", "bad", "kind", "reason"), BAD_VALUES)
def test_bad_value_fails_naming_metric_and_turn(
    con: duckdb.DuckDBPyConnection, key: str, bad: Any, kind: str, reason: str
) -> None:
    good = {"double": 0.0, "varchar": BY_KEY[key]["enum_values"].split("|")[0]}[kind]
    with pytest.raises(duckdb.Error) as caught:
        json_values(con, key, [good, bad, good], kind, turn_ids=["ok-1", "bad-turn-7", "ok-2"])
    message = str(caught.value)
    assert f"metric {key} is" in message, message
    assert "bad-turn-7" in message, message
    assert reason in message, message
    assert "ok-1" not in message and "ok-2" not in message
    assert SECRET not in message and "geheim" not in message


@pytest.mark.parametrize("key", KEYS)
def test_every_contract_key_refuses_null(con: duckdb.DuckDBPyConnection, key: str) -> None:
    kind = "varchar" if BY_KEY[key]["type"] == "enum" else "double"
    with pytest.raises(duckdb.Error, match=rf"metric {key} is .* for turn t-{key}\b"):
        json_values(con, key, [None], kind, turn_ids=[f"t-{key}"])


# -- the whole object -------------------------------------------------------------------------


def test_object_macro_writes_all_keys_in_contract_order_without_spaces(
    con: duckdb.DuckDBPyConnection,
) -> None:
    columns = []
    for i, row in enumerate(CONTRACT):
        if row["type"] == "enum":
            value = sql_literal(row["enum_values"].split("|")[-1])
        elif row["type"] in ("int", "binary"):
            value = f"{i % 2}::double"
        else:
            value = f"{i}.25::double / 7"
        columns.append(f"{value} as {row['key']}")
    expression = MACROS.fs168_metrics_json("turn_id")
    text = con.execute(
        f"select {expression} from (select 'turn-x' as turn_id, {', '.join(columns)})"
    ).fetchone()[0]
    assert not re.search(r"\s", text)
    pairs = json.loads(text, object_pairs_hook=list)
    assert [k for k, _ in pairs] == KEYS
    assert json.dumps(dict(pairs), separators=(",", ":")) == text


def expected_object(values: dict[str, Any]) -> str:
    """metrics_json as the contract defines it, written by Python: repr for floats (-0.0 as
    0.0), integers without a decimal point, enums as JSON strings."""
    parts = []
    for row in CONTRACT:
        value = values[row["key"]]
        if row["type"] == "enum":
            text = f'"{value}"'
        elif row["type"] in ("int", "binary"):
            text = str(int(value))
        else:
            text = repr(value + 0.0)
        parts.append(f'"{row["key"]}":{text}')
    return "{" + ",".join(parts) + "}"


def test_object_macro_writes_python_repr_on_both_paths(con: duckdb.DuckDBPyConnection) -> None:
    # 4,000 rows of the sample doubles (every magnitude below the print limit): rows whose
    # floats are all >= 1e-4 or 0 take json_object's writer, rows with a smaller value take the
    # per-key cast; both must give Python's text exactly
    rng = random.Random(4711)
    doubles = [v for v in sample_doubles() if abs(v) < PRINT_LIMIT]
    plain = [v for v in doubles if v == 0 or abs(v) >= 1e-4]
    small = [v for v in doubles if v != 0 and abs(v) < 1e-4]
    assert len(plain) > 5_000 and len(small) > 5_000
    rows: list[dict[str, Any]] = []
    for i in range(4_000):
        row: dict[str, Any] = {}
        for contract_row in CONTRACT:
            kind = contract_row["type"]
            if kind == "enum":
                row[contract_row["key"]] = rng.choice(contract_row["enum_values"].split("|"))
            elif kind in ("int", "binary"):
                row[contract_row["key"]] = float(
                    rng.randint(-3, 10**9) if kind == "int" else rng.randint(0, 1)
                )
            else:
                row[contract_row["key"]] = rng.choice(plain)
        if i % 4 == 0:  # one value below 1e-4: the whole row takes the exact path
            row[FLOAT_KEY] = rng.choice(small)
        rows.append(row)
    columns: dict[str, Any] = {"turn_id": pa.array([f"t{i}" for i in range(len(rows))])}
    columns["ord"] = pa.array(range(len(rows)), pa.int64())
    for contract_row in CONTRACT:
        kind = "varchar" if contract_row["type"] == "enum" else "double"
        columns[contract_row["key"]] = pa.array(
            [r[contract_row["key"]] for r in rows], arrow_type(kind)
        )
    con.register("metric_rows", pa.table(columns))
    try:
        expression = MACROS.fs168_metrics_json("turn_id")
        texts = [
            r[0]
            for r in con.execute(f"select {expression} from metric_rows order by ord").fetchall()
        ]
    finally:
        con.unregister("metric_rows")
    wrong = [i for i, (row, text) in enumerate(zip(rows, texts)) if text != expected_object(row)]
    assert not wrong, (len(wrong), texts[wrong[0]][:300], expected_object(rows[wrong[0]])[:300])


# -- the real project -------------------------------------------------------------------------


def family_models() -> list[str]:
    """The metric family models fullspectrum168 joins (macro fs168_family_join)."""
    sql = (ROOT / "macros" / "fullspectrum.sql").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"ref\('(metrics_\w+)'\)", sql)))


@pytest.fixture(scope="module")
def written(base_backfill: Backfill) -> dict[str, str]:
    rows = base_backfill.query("select turn_id, metrics_json from fullspectrum168")
    return dict(rows)


def test_project_json_has_the_contract_keys_in_order_without_whitespace(
    base_backfill: Backfill, written: dict[str, str]
) -> None:
    turns = {r[0] for r in base_backfill.query("select turn_id from stg_turns")}
    assert set(written) == turns and len(turns) == 18
    for turn_id, text in written.items():
        assert not re.search(r"\s", text), turn_id
        pairs = json.loads(text, object_pairs_hook=list)
        assert [k for k, _ in pairs] == KEYS, turn_id
        # Python's own compact serialization of the parsed values gives the same text: floats
        # as repr, ints without a decimal point, enums as strings, nothing else in between
        assert json.dumps(dict(pairs), separators=(",", ":"), ensure_ascii=False) == text
        for key, value in pairs:
            kind = BY_KEY[key]["type"]
            if kind == "enum":
                assert value in BY_KEY[key]["enum_values"].split("|"), (turn_id, key)
            elif kind in ("int", "binary"):
                assert type(value) is int, (turn_id, key, value)
            else:
                assert type(value) is float and math.isfinite(value), (turn_id, key, value)
        assert '"-0.0"' not in text and ":-0.0," not in text and ":-0.0}" not in text


def test_project_json_values_equal_the_family_model_columns(
    base_backfill: Backfill, written: dict[str, str]
) -> None:
    families = family_models()
    assert len(families) >= 10, families
    owners: dict[str, list[str]] = {key: [] for key in KEYS}
    for table, column in base_backfill.query(
        "select table_name, column_name from information_schema.columns "
        f"where table_name in ({', '.join(sql_literal(f) for f in families)})"
    ):
        if column in owners:
            owners[column].append(table)
    # every contract key lives in exactly one family model
    assert {k: v for k, v in owners.items() if len(v) != 1} == {}
    parsed = {t: json.loads(text) for t, text in written.items()}
    compared: set[str] = set()
    for family in families:
        keys = [k for k in KEYS if owners[k] == [family]]
        if not keys:
            continue
        rows = base_backfill.query(f"select turn_id, {', '.join(keys)} from {family}")
        assert {r[0] for r in rows} == set(parsed), family
        for turn_id, *values in rows:
            for key, column_value in zip(keys, values):
                got = parsed[turn_id][key]
                if BY_KEY[key]["type"] == "enum":
                    assert got == column_value, (family, turn_id, key)
                else:
                    # exact: the JSON text reads back to the column's double
                    assert float(got) == float(column_value), (family, turn_id, key, got)
                compared.add(key)
    assert compared == set(KEYS)


def test_project_critical_columns_equal_their_json_values(
    base_backfill: Backfill, written: dict[str, str]
) -> None:
    critical = [r["key"] for r in CONTRACT if r["critical_column"] == "1"]
    assert critical
    rows = base_backfill.query(f"select turn_id, {', '.join(critical)} from fullspectrum168")
    for turn_id, *values in rows:
        parsed = json.loads(written[turn_id])
        for key, value in zip(critical, values):
            assert parsed[key] == value, (turn_id, key)


def test_history_received_the_same_json(base_backfill: Backfill, written: dict[str, str]) -> None:
    con = sqlite3.connect(base_backfill.history)
    try:
        stored = dict(con.execute("select turn_id, metrics_json from metrics").fetchall())
    finally:
        con.close()
    assert stored == written
