"""Benchmark (not a test): the whole backfill against its physical floor, at 10k to 1M turns.

    python -m bench.bench_backfill [--sizes 10000 100000 1000000] [--incremental-size 1000000]
                                   [--cache /tmp/evoki_bench] [--out bench/RESULTS.md]

Measured in one run, each command a separate child process (wall, CPU user+sys, peak RSS):

* floor(N): a minimal project that attaches the history, reads every turn (its text too),
  builds a 168-key JSON of constants per turn (17 significant digits per value, the size of
  real values) and writes it back through the project's own history_writeback
  materialization (`run --full-refresh`). No metric work: the least the job can cost.
* full(N): `build --target prod --full-refresh` of the real project on a fresh copy of the
  synthetic history (bench.make_history, 50 turns per session): seeds, all models, all data
  tests, the write-back and the readback.
* incremental: on the largest history after its full build, `build --target prod` with
  nothing changed, then after appending 1% new turns the way a history grows (the latest
  sessions continue, new sessions start), then after 1% scattered over old sessions.
* demo: `python -m evoki_sql build` on a fresh copy of the project (bootstraps the demo
  history), then a second build with nothing changed; whole process, start-up included.
* profile: per-model time of the largest full build (target/run_results.json) and its phases
  (target/METRICS_BACKFILL_REPORT.json).

Writes bench/RESULTS.md (Markdown) and prints it. Never prints turn text.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from bench.project import ROOT, Measured, child_env, copy_project, ensure_history, run_measured

TURNS_PER_SESSION = 50
FLOOR_VALUE = "0.12345678901234568"  # 17 significant digits, like a typical metric value


@dataclass
class SizeRun:
    turns: int
    floor: Measured | None = None
    full: Measured | None = None
    report: dict[str, Any] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- the floor project -------------------------------------------------------------------------


def floor_json() -> str:
    """The constant 168-key JSON (keys and enum values from the contract seed)."""
    with (ROOT / "seeds" / "metric_contract.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    parts = []
    for row in rows:
        if row["type"] == "enum":
            value = '"' + row["enum_values"].split("|")[0] + '"'
        elif row["type"] in ("int", "binary"):
            value = "0"
        else:
            value = FLOOR_VALUE
        parts.append(f'"{row["key"]}":{value}')
    return "{" + ",".join(parts) + "}"


def write_floor_project(dest: Path) -> Path:
    copy_project(dest, ("materializations",), data_tests=False)
    (dest / "models").mkdir(parents=True, exist_ok=True)
    (dest / "pyproject.toml").write_text(
        '[tool.evoki_sql]\nname = "floor"\nprofile = "floor"\n', encoding="utf-8"
    )
    (dest / "profiles.yml").write_text(
        "floor:\n  target: floor\n  outputs:\n    floor:\n      type: duckdb\n"
        "      path: \"{{ env_var('EVOKI_DUCKDB') }}\"\n      attach:\n"
        "        - path: \"{{ env_var('EVOKI_HISTORY_DB') }}\"\n          alias: history\n"
        "          type: sqlite\n          read_only: false\n          busy_timeout_ms: 5000\n",
        encoding="utf-8",
    )
    (dest / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: history\n    database: history\n    schema: main\n"
        "    tables:\n      - name: turns\n",
        encoding="utf-8",
    )
    value = f"cast({FLOOR_VALUE} as double)"
    (dest / "models" / "floor168.sql").write_text(
        "{{ config(materialized='history_writeback') }}\n"
        "select\n    turn_id,\n    session_id,\n"
        + "".join(
            f"    {value} as {c},\n"
            for c in ("m1_A", "m2_PCI", "m19_z_prox", "m101_t_panic", "m110_black_hole")
        )
        + f"    {value} as m151_hazard,\n    {value} as F_risk,\n"
        f"    '{floor_json()}' as metrics_json,\n    0 as is_alert,\n"
        "    'commit' as guardian_action,\n"
        "    sha256(concat_ws('|', turn_id, role, ts_iso, prompt_num, text)) as fingerprint\n"
        "from {{ source('history', 'turns') }}\norder by session_id, prompt_num, turn_id\n",
        encoding="utf-8",
    )
    return dest


# --- runs --------------------------------------------------------------------------------------


def run_floor(history: Path, work: Path, keep: bool = False) -> Measured:
    """The floor on a copy of `history`; its files are removed after the run unless `keep`
    (they take as much disk as the full build's history)."""
    project = write_floor_project(work / "floor_project")
    db = work / "floor_history.db"
    shutil.copy2(history, db)
    env = child_env(EVOKI_HISTORY_DB=str(db), EVOKI_DUCKDB=str(work / "floor.duckdb"))
    measured = run_measured(["run", "--full-refresh"], project, env, work / "floor.log")
    _check(measured, work / "floor.log")
    if not keep:
        for leftover in ("floor_history.db", "floor.duckdb", "floor.duckdb.wal"):
            (work / leftover).unlink(missing_ok=True)
    return measured


def run_full(history: Path, work: Path, run: SizeRun) -> Path:
    """Full build on a fresh copy; returns the working history (kept for the incremental run)."""
    project = copy_project(work / "project")
    db = work / "history.db"
    shutil.copy2(history, db)
    env = child_env(EVOKI_HISTORY_DB=str(db), EVOKI_DUCKDB=str(work / "evoki.duckdb"))
    args = ["build", "--target", "prod", "--full-refresh"]
    run.full = run_measured(args, project, env, work / "full.log")
    _check(run.full, work / "full.log")
    target = project / "target"
    run.report = json.loads((target / "METRICS_BACKFILL_REPORT.json").read_text())
    run.results = json.loads((target / "run_results.json").read_text())["results"]
    run.nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    return db


def _donors(con: sqlite3.Connection, n: int, seed: int) -> list[tuple[str, str]]:
    """(text, role) of existing turns to copy (never printed)."""
    return con.execute(
        "select text, role from turns where rowid % 97 = ? limit ?", [seed, n]
    ).fetchall()


def _insert(con: sqlite3.Connection, rows: list[tuple[str, str, int, tuple[str, str]]]) -> None:
    new_sessions = sorted({sid for _, sid, _, _ in rows if sid.startswith("bench-new-")})
    con.executemany(
        "insert or ignore into sessions values (?, '2027-01-01', null, '2027-01-01T00:00:00Z')",
        [(sid,) for sid in new_sessions],
    )
    con.executemany(
        "insert into turns (turn_id, session_id, ts_iso, date_ymd, prompt_num, role, text,"
        " file_path, created_at) values (?, ?, '2027-01-01T12:00:00Z', '2027-01-01', ?, ?,"
        " ?, null, '2027-01-01T12:00:00Z')",
        [(tid, sid, num, donor[1], donor[0]) for tid, sid, num, donor in rows],
    )
    con.commit()


def _append(
    db: Path,
    tag: str,
    seed: int,
    old_sessions: Callable[[sqlite3.Connection, int], list[str]],
    first_num: int,
) -> tuple[int, int]:
    """Append 1% new turns: half at the end of old sessions (`old_sessions(con, n)` names the
    session of each), half in new sessions of TURNS_PER_SESSION turns. Texts are copies of
    existing turns' texts (never printed). Returns (turns added, sessions touched)."""
    con = sqlite3.connect(db)
    try:
        total = con.execute("select count(*) from turns").fetchone()[0]
        n_new = max(2, total // 100)
        tail = n_new // 2
        targets = old_sessions(con, tail)
        donors = _donors(con, n_new, seed)
        rows = [
            (f"{sid}-{tag}-{i:06d}", sid, first_num + i, donors[i % len(donors)])
            for i, sid in enumerate(targets)
        ]
        n_sessions = max(1, (n_new - tail) // TURNS_PER_SESSION)
        for j in range(n_new - tail):
            sid = f"bench-new-{tag}-{j % n_sessions:05d}"
            rows.append((f"{sid}-{j:06d}", sid, j, donors[(tail + j) % len(donors)]))
        _insert(con, rows)
        return len(rows), len(set(targets)) + n_sessions
    finally:
        con.close()


def append_recent(db: Path, tag: str, seed: int = 7) -> tuple[int, int]:
    """1% new turns the way a history grows: half continue the 100 latest sessions (by
    session_id, the generator's creation order), half open new sessions."""

    def latest(con: sqlite3.Connection, n: int) -> list[str]:
        sql = "select session_id from sessions order by session_id desc limit 100"
        sessions = [r[0] for r in con.execute(sql)]
        return [sessions[i % len(sessions)] for i in range(n)]

    return _append(db, tag, seed, latest, 200_000)


def append_scattered(db: Path, tag: str, seed: int = 11) -> tuple[int, int]:
    """1% new turns, the worst case for session-incremental builds: half as one new turn
    at the end of each of many old sessions spread over the whole history, half in new
    sessions."""

    def spread(con: sqlite3.Connection, n: int) -> list[str]:
        sql = (
            "select session_id from sessions where session_id not like 'bench-new-%' "
            "order by session_id"
        )
        sessions = [r[0] for r in con.execute(sql)]
        step = max(1, len(sessions) // max(1, n))
        return [sessions[(i * step) % len(sessions)] for i in range(n)]

    return _append(db, tag, seed, spread, 300_000)


@dataclass
class IncrementalRun:
    pattern: str
    added: int
    sessions_touched: int
    measured: Measured
    report: dict[str, Any]


def run_incremental(db: Path, work: Path) -> list[IncrementalRun]:
    """A build with nothing changed, then the recent and the scattered 1% appends, each
    followed by `build` (the same DuckDB file, as a user would run it)."""
    env = child_env(EVOKI_HISTORY_DB=str(db), EVOKI_DUCKDB=str(work / "evoki.duckdb"))
    report_path = work / "project" / "target" / "METRICS_BACKFILL_REPORT.json"
    done = []
    for pattern, append in (
        ("nothing changed", None),
        ("recent", append_recent),
        ("scattered", append_scattered),
    ):
        added, touched = append(db, pattern[:3]) if append else (0, 0)
        log = work / f"incremental_{pattern.replace(' ', '_')}.log"
        measured = run_measured(["build", "--target", "prod"], work / "project", env, log)
        _check(measured, log)
        report = json.loads(report_path.read_text())
        done.append(IncrementalRun(pattern, added, touched, measured, report))
    return done


def run_demo(work: Path) -> tuple[Measured, Measured]:
    project = copy_project(work / "demo_project")
    env = child_env()
    first = run_measured(["build"], project, env, work / "demo1.log")
    _check(first, work / "demo1.log")
    second = run_measured(["build"], project, env, work / "demo2.log")
    _check(second, work / "demo2.log")
    return first, second


def _check(measured: Measured, log: Path) -> None:
    if measured.code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise SystemExit(f"bench: a child failed (exit {measured.code}), see {log}:\n{tail}")


# --- report ------------------------------------------------------------------------------------


def machine_facts() -> list[str]:
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- date: {now}",
        (
            f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
            f"{mem_kb / 2**20:.1f} GiB memory, load average {os.getloadavg()[0]:.1f} at the end"
        ),
        f"- Python {platform.python_version()}, duckdb {duckdb.__version__}",
    ]


def size_table(runs: list[SizeRun]) -> list[str]:
    lines = [
        "| turns | floor wall s | full wall s | full CPU s | peak RSS MB | turns/s | full / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        assert run.full is not None and run.floor is not None
        lines.append(
            f"| {run.turns:,} | {run.floor.wall:.1f} | {run.full.wall:.1f} | {run.full.cpu:.1f} "
            f"| {run.full.peak_mb:,.0f} | {run.turns / run.full.wall:,.0f} "
            f"| {run.full.wall / run.floor.wall:.2f} |"
        )
    lines.append("")
    lines.append(
        "Floor peak RSS MB: "
        + ", ".join(f"{r.turns:,}: {r.floor.peak_mb:,.0f}" for r in runs if r.floor)
    )
    return lines


def _usage_while(
    result: dict[str, Any], samples: list[tuple[float, float, float]]
) -> tuple[float | None, float | None]:
    """The process tree's largest sampled memory (MB) and the CPU seconds it used while the
    node ran (its timing entry), from the 0.2 s samples."""
    timing = next((t for t in result.get("timing", []) if t.get("name") == "execute"), None)
    if timing is None:
        return None, None

    def epoch(stamp: str) -> float:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    low, high = epoch(timing["started_at"]), epoch(timing["completed_at"])
    during = [(mb, cpu) for at, mb, cpu in samples if low <= at <= high]
    if not during:
        return None, None
    before = [cpu for at, _, cpu in samples if at < low]
    cpu_used = during[-1][1] - (before[-1] if before else during[0][1])
    return max(mb for mb, _ in during), cpu_used


def profile(run: SizeRun, top: int = 20) -> list[str]:
    samples = run.full.samples if run.full else []
    models = [
        (r["unique_id"].split(".")[-1], r["execution_time"], *_usage_while(r, samples))
        for r in run.results
        if not r["unique_id"].startswith("test.")
    ]
    tests = sum(r["execution_time"] for r in run.results if r["unique_id"].startswith("test."))
    models.sort(key=lambda m: -m[1])
    total = run.full.wall if run.full else 1.0
    lines = [f"Per model, {run.turns:,} turns (wall {total:.1f} s):", ""]
    lines += [
        "| model | s | share of wall | CPU s while it ran | peak RSS MB while it ran |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {sec:.1f} | {sec / total:.1%} | "
        + (f"{cpu:.1f}" if cpu is not None else "-")
        + " | "
        + (f"{peak:,.0f}" if peak is not None else "-")
        + " |"
        for name, sec, peak, cpu in models[:top]
    ]
    n_tests = sum(1 for r in run.results if r["unique_id"].startswith("test."))
    lines += [f"| {n_tests} data tests | {tests:.1f} | {tests / total:.1%} | | |", ""]
    phases = run.report.get("seconds", {})
    lines.append(
        "Phases (backfill report): " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
    )
    return lines


def render(
    runs: list[SizeRun],
    incremental: list[IncrementalRun] | None,
    demo: tuple[Measured, Measured] | None,
) -> str:
    lines = ["# Backfill benchmark", "", *machine_facts(), ""]
    lines += ["Command: `python -m bench.bench_backfill " + " ".join(ARGV) + "`", ""]
    lines += ["## Full build against the floor", "", *size_table(runs), ""]
    lines += BEFORE
    by_size = {r.turns: r for r in runs}
    if 100_000 in by_size and 1_000_000 in by_size:
        ratio = by_size[1_000_000].full.wall / by_size[100_000].full.wall
        lines += [f"Growth: time(1M) / time(100k) = {ratio:.2f} (target <= 11)", ""]
    if incremental:
        largest = runs[-1]
        lines += [
            "## Incremental (+1%)",
            "",
            (
                f"On the {largest.turns:,}-turn history after its full build, `build` (same "
                "DuckDB "
                "file). recent: half of the new turns continue the 100 latest sessions, half open "
                "new sessions (how a history grows); scattered: half are one new turn at the end of "
                "each of many old sessions across the whole history (worst case: every touched "
                "session is recomputed whole, because appending a turn changes the session-level "
                "values of its earlier turns)."
            ),
            "",
            (
                "| change | turns added | sessions rebuilt | turns recomputed | rows written "
                "| wall s | CPU s | peak RSS MB | of full build |"
            ),
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for inc in incremental:
            rows = inc.report.get("rows", {})
            written = (rows.get("inserted") or 0) + (rows.get("updated") or 0)
            lines.append(
                f"| {inc.pattern} | {inc.added:,} | {inc.report.get('sessions_rebuilt')} "
                f"| {inc.report.get('turns_seen'):,} | {written:,} | {inc.measured.wall:.1f} "
                f"| {inc.measured.cpu:.1f} | {inc.measured.peak_mb:,.0f} "
                f"| {inc.measured.wall / largest.full.wall:.1%} |"
            )
        lines.append("")
    if demo is not None:
        first, second = demo
        lines += [
            "## Demo history",
            "",
            (
                f"`python -m evoki_sql build`, whole process: first build (bootstraps the demo "
                f"history) {first.wall:.1f} s, second build (nothing changed) {second.wall:.1f} s "
                f"(target <= 5 s); peak RSS {first.peak_mb:,.0f} MB."
            ),
            "",
        ]
    if runs:
        lines += ["## Profile of the largest build", "", *profile(runs[-1]), ""]
    lines += [
        (
            "Peak RSS: the process tree of the build (the build process, where DuckDB runs, and "
            "its UDF worker processes), the sum of their resident memory sampled every 0.2 s, or "
            "the build process's ru_maxrss if larger. CPU includes the workers."
        ),
        "",
    ]
    return "\n".join(lines) + "\n"


ARGV: list[str] = []

# Earlier measurements of the same benchmark on this machine (kept by hand, not re-measured).
BEFORE = [
    (
        "Before (earlier runs of this benchmark; up to 2026-11-28 00:35 on another machine "
        "with the same 2 cores and 23.5 GiB, slower per core):"
    ),
    "",
    "| state | 100k full s | 1M floor s | 1M full s | full / floor | +1% incremental | demo s |",
    "|---|---:|---:|---:|---:|---:|---:|",
    "| before any performance work | 199 (loaded machine) | - | out of memory | - | - | ~20 |",
    (
        "| 2026-11-27 early (streaming write-back, batched tests, compile once) | 123.2 | 163.5 "
        "| 741.0 | 4.5 | 695 s = 94% (every model recomputed every session) | 5.8 |"
    ),
    (
        "| 2026-11-27 noon (session-incremental builds; UDFs in-process, DuckDB capped at 6GB, "
        "peak 6.9 GB) | 88.0 | 101.7 | 696.5 | 6.85 | recent 33.2 s = 4.8%, scattered 337.8 s "
        "= 48.5% (10.3 GB) | 5.1 |"
    ),
    (
        "| 2026-11-27 11:19 (UDF worker processes, DuckDB capped at 4GB; 2M out of memory in "
        "fullspectrum168) | 81.7 | 88.9 | 545.4 | 6.14 | recent 27.9-45.6 s = 4.8-8.4%, "
        "scattered 267.5 s = 49.0% (5.3 GB) | 4.4 |"
    ),
    (
        "| 2026-11-27 15:01 (batched models, metrics_wide; 2M completes at 6.7 GB) | - | 87.9 "
        "| 573.6 | 6.53 | - | - |"
    ),
    (
        "| 2026-11-27 16:00 (the same code, re-measured at the start of the next session) "
        "| 62.5 | 84.4 | 466.9 | 5.53 | - | 3.5-3.8 (by hand) |"
    ),
    (
        "| 2026-11-27 17:23 (ctx_break from embeddings, UDFs only where a text can score; "
        "stg_turns in history order) | 58.3 | 81.2 | 443.4 | 5.46 | recent 26.4-58.0 s = "
        "6.1-13.1%, scattered 286-292 s = 65-66% | 4.4 |"
    ),
    (
        "| 2026-11-27 20:00 (stg_turns stored in session order; two runs) | 67.6 | 78.3-81.7 "
        "| 397.9-431.7 | 5.08-5.29 | recent 24.5-25.9 s = 6.0-6.2%, scattered 242.5-275.6 s "
        "= 61-64% | 3.8 |"
    ),
    (
        "| 2026-11-27 22:14 (order-free session digest, cheaper relation_type, Jinja bytecode "
        "cache; two runs) | 67.9 | 75.1-91.1 | 414.1-422.3 | 4.64-5.51 | recent 19.6-21.1 s = "
        "4.6-5.1%, scattered 248.6-256.6 s = 60-61% | 4.4 |"
    ),
    (
        "| 2026-11-28 00:35 (no vacuum at checkpoints, compaction instead; two runs) | 58.3 "
        "| 75.6-80.5 | 377.2-394.0 | 4.68-5.21 | recent 19.2-20.6 s = 5.1-5.2%, scattered "
        "181.9-199.2 s = 48-51% | 4.1 |"
    ),
    (
        "| 2026-11-28 01:28 (the same code on this machine; 1M only, the recent build by hand) "
        "| - | 94.4 (60.1 when run again) | 307.0 | 3.25 | recent 15.3-16.1 s | - |"
    ),
    (
        "| 2026-11-28 02:41 (unique tests batched, the write-back's probe thread, read-back rows "
        "in a temp table; three runs) | 43.7-45.0 | 51.1-64.0 | 283.7-296.7 | 4.53-5.80 | "
        "recent 13.9-14.3 s = 4.8-5.04%, scattered 121.1-129.1 s = 42-44% | 2.9-3.0 |"
    ),
    "",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--incremental-size", type=int, default=None)
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/evoki_bench"))
    parser.add_argument("--work", type=Path, default=None, help="keep the scratch folders here")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    ARGV[:] = argv if argv is not None else __import__("sys").argv[1:]
    incremental_size = args.incremental_size or max(args.sizes)
    runs: list[SizeRun] = []
    failures: list[str] = []
    incremental = demo = None
    with tempfile.TemporaryDirectory(prefix="bench_backfill_") as tmp:
        scratch = args.work or Path(tmp)
        for turns in sorted(args.sizes):
            history, _ = ensure_history(args.cache, turns, max(1, turns // TURNS_PER_SESSION))
            work = scratch / f"n{turns}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            run = SizeRun(turns)
            try:
                run.floor = run_floor(history, work, keep=args.work is not None)
                db = run_full(history, work, run)
                runs.append(run)
                if turns == incremental_size and not args.no_incremental:
                    incremental = run_incremental(db, work)
            except SystemExit as failure:  # keep what was measured; say what failed
                failures.append(f"{turns:,} turns: {failure}")
                break
        if not args.no_demo:
            demo_work = scratch / "demo"
            shutil.rmtree(demo_work, ignore_errors=True)
            demo_work.mkdir(parents=True)
            demo = run_demo(demo_work)
    text = render(runs, incremental, demo)
    if failures:
        text += "\n## Failed\n\n" + "\n".join(f"- {f.splitlines()[0]}" for f in failures) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
