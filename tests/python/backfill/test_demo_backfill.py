"""The backfill of the bundled demo history through the real CLI (`build`, demo target).

Proves on the demo history (338 turns, a partial metrics table of 113 rows and one orphan):
every turn ends with exactly one complete row (the 168 contract keys in contract order, the
critical columns equal to their JSON values, is_alert iff a veto, calculated_at UTC and not in
the future); the orphan row is left alone byte for byte; old rows keep their metric_id and new
ones get the deterministic fs168- id; sessions and turns are not touched; the backfill report
counts what happened and holds no turn text (nor does the output); a second `build` without a
change rebuilds no session (incremental, 0 turns seen) and rewrites nothing, not even
calculated_at.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from backfill_support import (
    REPORT_NAME,
    assert_complete_row,
    assert_no_turn_text,
    cli,
    dump,
    metric_id_for,
    parse_utc,
    raw_row,
    read_report,
    table_rows,
    turn_ids,
    turn_texts,
)

from project_copy import copy_project

ORPHAN_METRIC_ID = "metric-demo-deleted-001"  # demo/README.md, "orphan metrics row"
DEMO_TURNS = 338
DEMO_PARTIAL_ROWS = 113


@dataclass(frozen=True)
class DemoBackfill:
    project: Path
    history: Path
    before: Path  # the history as the demo target bootstrapped it, before any backfill
    started: datetime
    first: tuple[int, str]
    first_report: dict[str, Any]
    first_rows: list[dict[str, Any]]
    first_dump: list[str]
    first_bytes: bytes
    second: tuple[int, str]
    second_report: dict[str, Any]
    second_dump: list[str]
    second_bytes: bytes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBackfill:
    folder = tmp_path_factory.mktemp("demo")
    project = copy_project(folder / "project")
    history = project / "target" / "demo_history.db"
    # `seed` opens the demo target, which bootstraps the demo history; keep it as it was.
    code, output = cli(project, "seed")
    assert code == 0, output
    assert "does not exist: building it" in output
    before = folder / "before.db"
    shutil.copyfile(history, before)
    started = datetime.now(timezone.utc).replace(microsecond=0)
    first = cli(project, "build")
    first_report = read_report(project)
    first_rows = table_rows(history)
    first_dump = dump(history)
    first_bytes = history.read_bytes()
    second = cli(project, "build")
    return DemoBackfill(
        project,
        history,
        before,
        started,
        first,
        first_report,
        first_rows,
        first_dump,
        first_bytes,
        second,
        read_report(project),
        dump(history),
        history.read_bytes(),
    )


def test_build_succeeds(demo: DemoBackfill) -> None:
    code, output = demo.first
    assert code == 0, output[-3000:]
    assert "Completed successfully" in output


def test_every_turn_has_exactly_one_complete_row(demo: DemoBackfill) -> None:
    turns = turn_ids(demo.history)
    assert len(turns) == DEMO_TURNS
    by_turn = Counter(r["turn_id"] for r in demo.first_rows)
    assert {t: by_turn[t] for t in turns} == {t: 1 for t in turns}
    assert len(demo.first_rows) == DEMO_TURNS + 1  # plus the orphan
    for row in demo.first_rows:
        if row["metric_id"] != ORPHAN_METRIC_ID:
            assert_complete_row(row)


def test_calculated_at_is_utc_of_this_build_and_not_in_the_future(demo: DemoBackfill) -> None:
    now = datetime.now(timezone.utc)
    stamps = {r["calculated_at"] for r in demo.first_rows if r["metric_id"] != ORPHAN_METRIC_ID}
    assert len(stamps) == 1  # one write, one time
    stamp = parse_utc(stamps.pop())
    assert demo.started - timedelta(seconds=1) <= stamp <= now


def test_orphan_row_is_left_alone_byte_for_byte(demo: DemoBackfill) -> None:
    where = "metric_id = ?"
    original = raw_row(demo.before, where, (ORPHAN_METRIC_ID,))
    after = raw_row(demo.history, where, (ORPHAN_METRIC_ID,))
    assert original[1] == ("text", "demo-deleted-001")  # the row README.md names
    assert after[: len(original)] == original
    # the one column the backfill added (input_fingerprint) reads NULL in the old row
    assert after[len(original) :] == [("null", None)]


def test_old_rows_keep_their_metric_id_new_rows_get_fs168_ids(demo: DemoBackfill) -> None:
    old = {r["turn_id"]: r["metric_id"] for r in table_rows(demo.before)}
    assert len(old) == DEMO_PARTIAL_ROWS + 1
    new = {r["turn_id"]: r["metric_id"] for r in demo.first_rows}
    for turn_id, metric_id in new.items():
        assert metric_id == old.get(turn_id, metric_id_for(turn_id)), turn_id
    assert sum(1 for m in new.values() if m.startswith("fs168-")) == DEMO_TURNS - DEMO_PARTIAL_ROWS


def test_sessions_and_turns_are_not_touched(demo: DemoBackfill) -> None:
    for table in ("sessions", "turns"):
        assert table_rows(demo.history, table) == table_rows(demo.before, table)


def test_report_counts_what_the_build_did(demo: DemoBackfill) -> None:
    report = demo.first_report
    rows = report["rows"]
    assert report["status"] == "written"
    assert report["turns_seen"] == DEMO_TURNS
    assert rows["inserted"] + rows["updated"] + rows["unchanged"] == DEMO_TURNS
    assert (rows["inserted"], rows["updated"]) == (
        DEMO_TURNS - DEMO_PARTIAL_ROWS,
        DEMO_PARTIAL_ROWS,
    )
    assert rows["orphans_left_alone"] == 1
    assert rows["table_created"] is False and rows["columns_added"] == ["input_fingerprint"]
    metrics = report["metrics"]
    assert metrics["rows"] == DEMO_TURNS and metrics["keys_per_row"] == 168
    assert metrics["nan_inf_count"] == 0
    assert metrics["missing_count"] == 0 and metrics["out_of_range_count"] == 0
    alerts = report["alerts_by_guardian_action"]
    assert sum(alerts.values()) == DEMO_TURNS
    written = [r for r in demo.first_rows if r["metric_id"] != ORPHAN_METRIC_ID]
    assert alerts == dict(Counter(r["guardian_action"] for r in written))
    assert report["alerts_total"] == sum(r["is_alert"] for r in written) > 0
    assert report["tests"]["fail"] == 0 and report["tests"]["error"] == 0
    assert report["tests"]["pass"] > 1700  # the build ran the data tests
    assert report["paths"]["history"] == str(demo.history.resolve())


def test_no_turn_text_in_the_report_or_the_output(demo: DemoBackfill) -> None:
    texts = turn_texts(demo.history)
    assert sum(1 for t in texts if len(t) > 12) > 250
    report = (demo.project / "target" / REPORT_NAME).read_text(encoding="utf-8")
    assert_no_turn_text(texts, report, demo.first[1], demo.second[1])


def test_second_build_without_changes_rewrites_nothing(demo: DemoBackfill) -> None:
    code, output = demo.second
    assert code == 0, output[-3000:]
    report = demo.second_report
    assert (report["build"], report["sessions_rebuilt"], report["turns_seen"]) == (
        "incremental",
        0,
        0,
    )
    assert report["turns_total"] == DEMO_TURNS
    rows = report["rows"]
    assert (rows["inserted"], rows["updated"], rows["unchanged"]) == (0, 0, 0)
    assert rows["orphans_left_alone"] == 1
    assert demo.second_dump == demo.first_dump  # every table, calculated_at included
    assert demo.second_bytes == demo.first_bytes  # not a page of the file written
