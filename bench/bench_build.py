"""Benchmark (not a test): the whole project build on synthetic histories of N turns.

    python -m bench.bench_build [--sizes 100000 10000] [--sessions-per 50] [--keep DIR]

Per size N: a synthetic history (`python -m bench.make_history --turns N --sessions N//50
--seed 1`, cached in --cache, default /tmp/evoki_bench/hist_N.db) is copied to a fresh working
file (the build writes into it), the project is copied into a temporary folder (the repo's
target/ stays untouched) and `python -m evoki_sql build --target prod --full-refresh` runs there
as a child process. Measured: wall time, CPU time (user+sys) and peak resident memory of the
child from os.wait4 (ru_maxrss of the largest process in the tree; the sum over the process tree
is sampled instead when psutil is installed), and each node's execution time from
target/run_results.json, summed by group (seeds, staging, features, each metric family model in
models/metrics, guardian, other; tests separately).

Prints a Markdown report and writes it to bench/results/build.md. Never prints turn text.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bench.project import copy_project

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = ["build", "--target", "prod", "--full-refresh"]

try:  # optional: sums the RSS of the whole process tree
    import psutil
except ImportError:
    psutil = None


@dataclass
class BuildRun:
    turns: int
    sessions: int
    gen_seconds: float
    exit_code: int = -1
    wall: float = 0.0
    cpu: float = 0.0
    peak_mb: float = 0.0
    results: list[dict] = field(default_factory=list)
    nodes: dict[str, dict] = field(default_factory=dict)


# --- input --------------------------------------------------------------------------------------


def _session_count(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("select count(*) from sessions").fetchone()[0]
    finally:
        con.close()


def ensure_history(cache: Path, turns: int, sessions: int) -> tuple[Path, float]:
    """The cached history of `turns` turns (generated if missing or of another session count)."""
    path = cache / f"hist_{turns}.db"
    if path.exists() and _session_count(path) == sessions:
        return path, 0.0
    cache.mkdir(parents=True, exist_ok=True)
    args = ["--turns", str(turns), "--sessions", str(sessions), "--seed", "1", "--out", str(path)]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.make_history", *args, "--force"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path, time.perf_counter() - start


# --- the build ----------------------------------------------------------------------------------


def _sample_tree_rss(pid: int, stop: threading.Event, peak: list[float]) -> None:
    """Keeps peak[0] at the largest sum of RSS (MB) over the process and its descendants."""
    try:
        root = psutil.Process(pid)
        while not stop.is_set():
            procs = [root, *root.children(recursive=True)]
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total / 2**20)
            stop.wait(0.1)
    except psutil.Error:
        return


def run_build(project: Path, env: dict[str, str], log: Path) -> tuple[int, float, float, float]:
    """Runs the build in a child; returns exit code, wall s, CPU s (user+sys) and peak RSS MB."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evoki_sql", *BUILD, "--project-dir", str(project)],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        stop, tree_peak = threading.Event(), [0.0]
        sampler = None
        if psutil is not None:
            sampler = threading.Thread(target=_sample_tree_rss, args=(proc.pid, stop, tree_peak))
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        stop.set()
        if sampler is not None:
            sampler.join()
    peak = max(usage.ru_maxrss / 1024.0, tree_peak[0])
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, peak


def bench_size(turns: int, sessions_per: int, cache: Path, keep: Path | None) -> BuildRun:
    sessions = max(1, turns // sessions_per)
    history, gen_seconds = ensure_history(cache, turns, sessions)
    run = BuildRun(turns, sessions, gen_seconds)
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        work = keep / f"n{turns}" if keep else Path(tmp)
        if keep:
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
        project = work / "project"
        project.mkdir()
        copy_project(project)
        working_db = work / "history.db"
        shutil.copy2(history, working_db)
        env = {
            **os.environ,
            "EVOKI_HISTORY_DB": str(working_db),
            "EVOKI_DUCKDB": str(work / "evoki.duckdb"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        run.exit_code, run.wall, run.cpu, run.peak_mb = run_build(project, env, work / "build.log")
        target = project / "target"
        if (target / "run_results.json").exists():
            run.results = json.loads((target / "run_results.json").read_text())["results"]
        if (target / "manifest.json").exists():
            run.nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    return run


# --- report -------------------------------------------------------------------------------------


def group_of(node: dict) -> str:
    """The report group of a model or seed, from its type and file path."""
    if node["resource_type"] == "seed":
        return "seeds"
    path = Path(node["original_file_path"])
    if path.parent == Path("models/staging"):
        return "staging"
    if path.parent == Path("models/features"):
        return "features"
    if path.parent == Path("models/metrics"):
        return "guardian" if path.stem == "guardian" else f"metric family: {path.stem}"
    return f"other: {path.stem}"


def status_counts(results: list[dict]) -> dict[str, int]:
    raw = Counter(r["status"] for r in results)
    return {
        "PASS": raw["pass"] + raw["success"],
        "WARN": raw["warn"],
        "ERROR": raw["error"] + raw["fail"],
        "SKIP": raw["skipped"],
    }


def machine_facts() -> list[str]:
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    rss_how = "sum over the process tree (psutil)" if psutil else "ru_maxrss (psutil not installed)"
    return [
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        (
            f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{mem_kb / 2**20:.1f} GiB RAM, load average {os.getloadavg()[0]:.1f} at the start"
        ),
        f"- Python {platform.python_version()}, duckdb {duckdb.__version__}",
        f"- command: `python -m evoki_sql {' '.join(BUILD)}`; peak RSS: {rss_how}",
    ]


def split_times(run: BuildRun) -> tuple[list[tuple[str, str, float, str]], float, int]:
    """(name, group, seconds, status) of each model and seed; the tests' total seconds and count."""
    models, tests_s, n_tests = [], 0.0, 0
    for r in run.results:
        node = run.nodes.get(r["unique_id"])
        if node is None or node["resource_type"] == "test":
            tests_s += r["execution_time"]
            n_tests += 1
        else:
            models.append((node["name"], group_of(node), r["execution_time"], r["status"]))
    return models, tests_s, n_tests


def size_report(run: BuildRun) -> list[str]:
    counts = ", ".join(f"{k} {v}" for k, v in status_counts(run.results).items())
    gen = f"generated in {run.gen_seconds:.1f} s" if run.gen_seconds else "cached"
    models, tests_s, n_tests = split_times(run)
    total = sum(m[2] for m in models)
    rest = run.wall - total - tests_s
    lines = [
        f"## {run.turns:,} turns in {run.sessions:,} sessions (history {gen})",
        "",
        f"- exit code {run.exit_code}; {counts} ({len(run.results)} nodes)",
        (
            f"- wall {run.wall:.1f} s, CPU {run.cpu:.1f} s (user+sys), "
            f"peak RSS {run.peak_mb:,.0f} MB, {run.turns / run.wall:,.0f} turns/s"
        ),
        (
            f"- models and seeds {total:.1f} s, tests {tests_s:.1f} s ({n_tests} tests), "
            f"rest of the wall time (start-up, parsing, compiling) {rest:.1f} s"
        ),
        *metric_family_summary(models, run.turns),
    ]
    return lines + group_table(models, total) + model_table(models, total) + failures(run)


def metric_family_summary(models: list[tuple[str, str, float, str]], turns: int) -> list[str]:
    families = [m for m in models if m[1].startswith("metric family")]
    if not families:
        return []
    seconds = sum(m[2] for m in families)
    top = max(families, key=lambda m: m[2])
    return [
        (
            f"- metric families (models/metrics without guardian): {seconds:.1f} s, "
            f"{seconds * 100_000 / turns:.1f} s per 100k turns; dominated by {top[0]} "
            f"({top[2]:.1f} s, {top[2] / seconds:.0%})"
        )
    ]


def group_table(models: list[tuple[str, str, float, str]], total: float) -> list[str]:
    by_group: dict[str, float] = defaultdict(float)
    for _, group, seconds, _ in models:
        by_group[group] += seconds
    rows = sorted(by_group.items(), key=lambda kv: -kv[1])
    return [
        "",
        "| group | s | share |",
        "|---|---|---|",
        *[f"| {g} | {s:.2f} | {s / total:.1%} |" for g, s in rows],
    ]


def model_table(models: list[tuple[str, str, float, str]], total: float) -> list[str]:
    rows = sorted(models, key=lambda m: -m[2])
    return [
        "",
        "| model | group | s | share | status |",
        "|---|---|---|---|---|",
        *[f"| {n} | {g} | {s:.2f} | {s / total:.1%} | {st} |" for n, g, s, st in rows],
        "",
    ]


def failures(run: BuildRun) -> list[str]:
    bad = [r for r in run.results if r["status"] in ("error", "fail", "warn", "skipped")]
    if not bad and run.exit_code == 0:
        return []
    lines = ["Nodes not passing:", ""]
    lines += [f"- `{r['unique_id']}` {r['status']}: {r['message'][:300]}" for r in bad]
    if not run.results:
        lines.append("- no run_results.json (the build stopped before running nodes)")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--sessions-per", type=int, default=50, help="turns per session")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/evoki_bench"))
    parser.add_argument("--keep", type=Path, help="keep each build's folder in DIR/nN")
    args = parser.parse_args()

    lines = ["# Whole build benchmark", "", *machine_facts(), ""]
    for turns in args.sizes:
        run = bench_size(turns, args.sessions_per, args.cache, args.keep)
        lines += size_report(run)
    text = "\n".join(lines)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "build.md").write_text(text)


if __name__ == "__main__":
    main()
