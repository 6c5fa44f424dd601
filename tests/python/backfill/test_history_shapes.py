"""The backfill on histories whose metrics table has another shape (prod target, real CLI).

Proves: a legacy `metrics(turn_id, metrics_json, created_at)` table gets the hybrid columns
added after its own (nothing dropped or moved), its row of an existing turn is upgraded in
place (168-key JSON, created_at kept) and its orphan row is left alone; a history without a
metrics table gets one in the hybrid shape with one row per turn; in a partial hybrid table
the rows of existing turns keep their metric_id and get new values, and the orphan row is
left alone and counted in the report. Each case reads the table back through the CLI
(history_metrics_readback) and the report's value checks find nothing missing or out of range.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backfill_support import (
    HYBRID_NAMES,
    WRITEBACK_ONLY,
    assert_complete_row,
    columns,
    connect,
    metric_id_for,
    parse_utc,
    prod,
    raw_row,
    read_report,
    rows,
    table_rows,
    turn_ids,
)

Fresh = Callable[[], tuple[Path, Path]]
TURNS = 24  # base_turns()


def backfill(project: Path, history: Path, duckdb: Path) -> dict:
    """Write back (and read back) on the prepared DuckDB file; the report of the run."""
    code, output = prod(project, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
    assert code == 0, output[-3000:]
    report = read_report(project)
    assert report["status"] == "written"
    assert report["turns_seen"] == TURNS
    values = report["metrics"]
    assert values["rows"] == TURNS
    assert values["nan_inf_count"] == values["missing_count"] == values["out_of_range_count"] == 0
    return report


def execute(history: Path, *statements: tuple[str, tuple]) -> None:
    con = connect(history)
    try:
        for sql, params in statements:
            con.execute(sql, params)
    finally:
        con.close()


def test_legacy_shape_gets_the_hybrid_columns_and_keeps_its_rows(
    project: Path, fresh: Fresh
) -> None:
    history, duckdb = fresh()
    execute(
        history,
        ("drop table metrics", ()),
        ("create table metrics(turn_id TEXT, metrics_json TEXT, created_at TEXT)", ()),
        ("insert into metrics values ('s-beta-002', '{\"old\": 1}', '2020-01-01T00:00:00Z')", ()),
        ("insert into metrics values ('gone-001', '{\"x\": [1]}', '2019-12-31T23:59:59Z')", ()),
    )
    orphan_before = raw_row(history, "turn_id = 'gone-001'")
    report = backfill(project, history, duckdb)

    added = [c for c in HYBRID_NAMES if c not in ("turn_id", "metrics_json")]
    assert columns(history) == ["turn_id", "metrics_json", "created_at", *added]
    assert report["rows"]["columns_added"] == added
    assert (report["rows"]["inserted"], report["rows"]["updated"]) == (TURNS - 1, 1)
    assert report["rows"]["orphans_left_alone"] == 1

    in_order = table_rows(history)
    assert [r["turn_id"] for r in in_order[:2]] == ["s-beta-002", "gone-001"]  # updated in place
    by_turn = rows(history)
    assert sorted(by_turn) == sorted([*turn_ids(history), "gone-001"])
    legacy = by_turn["s-beta-002"]
    assert_complete_row(legacy)
    assert legacy["created_at"] == "2020-01-01T00:00:00Z"
    assert legacy["metric_id"] == metric_id_for("s-beta-002")
    assert legacy["session_id"] == "s-beta"
    orphan = raw_row(history, "turn_id = 'gone-001'")
    assert orphan[:3] == orphan_before
    # the added columns read NULL in the orphan row, is_alert its declared default 0
    assert dict(zip(added, orphan[3:])) == {
        c: ("integer", 0) if c == "is_alert" else ("null", None) for c in added
    }
    for turn_id, row in by_turn.items():
        if turn_id not in ("s-beta-002", "gone-001"):
            assert_complete_row(row)
            assert row["created_at"] == row["calculated_at"]  # new rows: written now


def test_missing_metrics_table_is_created_in_the_hybrid_shape(project: Path, fresh: Fresh) -> None:
    history, duckdb = fresh()
    execute(history, ("drop table metrics", ()))
    report = backfill(project, history, duckdb)
    assert columns(history) == HYBRID_NAMES
    con = connect(history)
    try:
        info = {r[1]: r for r in con.execute("pragma table_info(metrics)")}
    finally:
        con.close()
    assert info["metric_id"][5] == 1  # primary key
    assert all(info[c][3] == 1 for c in ("turn_id", "session_id", "metrics_json"))  # not null
    assert report["rows"]["table_created"] is True
    assert (report["rows"]["inserted"], report["rows"]["orphans_left_alone"]) == (TURNS, 0)
    by_turn = rows(history)
    assert sorted(by_turn) == turn_ids(history)
    for turn_id, row in by_turn.items():
        assert_complete_row(row)
        assert row["metric_id"] == metric_id_for(turn_id)


def test_partial_rows_keep_their_metric_id_and_get_new_values(project: Path, fresh: Fresh) -> None:
    history, duckdb = fresh()
    old = ["s-alpha-002", "s-alpha-005", "s-gamma-001"]
    insert = (
        "insert into metrics (metric_id, turn_id, session_id, m1_A, m2_PCI, m19_z_prox, "
        "m101_t_panic, m110_black_hole, metrics_json, calculated_at, is_alert, guardian_action) "
        "values (?, ?, ?, 0.99, 0.01, 0.99, 0.99, 0.99, '{\"m1_A\": 0.99}', "
        "'2024-05-01T06:30:00Z', 1, 'veto_old')"
    )
    execute(
        history,
        *[(insert, (f"app-{t}", t, t.rsplit("-", 1)[0])) for t in old],
        (insert, ("app-orphan", "deleted-001", "deleted")),
    )
    orphan_before = raw_row(history, "metric_id = 'app-orphan'")
    before = table_rows(history)
    report = backfill(project, history, duckdb)

    assert report["rows"]["columns_added"] == ["input_fingerprint"]
    counts = {k: report["rows"][k] for k in ("inserted", "updated", "unchanged")}
    assert counts == {"inserted": TURNS - len(old), "updated": len(old), "unchanged": 0}
    assert report["rows"]["orphans_left_alone"] == 1
    after = table_rows(history)
    assert [r["metric_id"] for r in after[: len(before)]] == [r["metric_id"] for r in before]
    by_turn = rows(history)
    assert sorted(by_turn) == sorted([*turn_ids(history), "deleted-001"])
    for turn_id in old:
        row = by_turn[turn_id]
        assert row["metric_id"] == f"app-{turn_id}"
        assert_complete_row(row)
        assert row["guardian_action"] != "veto_old"
        assert parse_utc(row["calculated_at"]) > parse_utc("2024-05-01T06:30:00Z")
        assert (row["m1_A"], row["m2_PCI"]) != (0.99, 0.01)
    orphan = raw_row(history, "metric_id = 'app-orphan'")
    assert orphan == [*orphan_before, ("null", None)]  # plus the added input_fingerprint
    for turn_id, row in by_turn.items():
        if turn_id not in old and turn_id != "deleted-001":
            assert_complete_row(row)
            assert row["metric_id"] == metric_id_for(turn_id)
