"""Shared bench scaffolding: copy the project into a scratch folder, build cached synthetic
histories, and run the CLI as a measured child process (wall, CPU, peak RSS)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_PARTS = (
    "pyproject.toml",
    "profiles.yml",
    "models",
    "macros",
    "udfs",
    "seeds",
    "materializations",
    "hooks",
    "demo",
)


def copy_project(dest: Path, parts: Sequence[str] = FULL_PARTS, data_tests: bool = True) -> Path:
    """The project's `parts` (and the SQL data tests under tests/, outside tests/python)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        src, target = ROOT / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, target)
    if data_tests:
        tests = ROOT / "tests"
        for sql in tests.rglob("*.sql"):
            if "python" not in sql.relative_to(tests).parts:
                target = dest / "tests" / sql.relative_to(tests)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(sql, target)
    return dest


def session_count(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("select count(*) from sessions").fetchone()[0]
    finally:
        con.close()


def ensure_history(cache: Path, turns: int, sessions: int, seed: int = 1) -> tuple[Path, float]:
    """The cached synthetic history of `turns` turns (generated when missing); seconds taken."""
    path = cache / f"hist_{turns}.db"
    if path.exists() and session_count(path) == sessions:
        return path, 0.0
    start = time.perf_counter()
    generate_history(path, turns, sessions, seed)
    return path, time.perf_counter() - start


def generate_history(path: Path, turns: int, sessions: int, seed: int = 1) -> None:
    """Write (or overwrite) a synthetic history with bench.make_history."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["--turns", str(turns), "--sessions", str(sessions), "--seed", str(seed)]
    subprocess.run(
        [sys.executable, "-m", "bench.make_history", *args, "--out", str(path), "--force"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Measured:
    """One child process: exit code, wall and CPU seconds, peak resident memory (MB) of its
    whole process tree (the build and its UDF worker processes)."""

    code: int
    wall: float
    cpu: float
    peak_mb: float
    # (UNIX time, MB of the process tree, CPU seconds the tree has used so far) every 0.2 s:
    # which phase held the memory and which used the processors
    samples: list[tuple[float, float, float]] = field(default_factory=list)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _tree_usage(root: int) -> tuple[int, float]:
    """Resident kB and CPU seconds (user + system, the reaped children of each process
    included) of `root` and all its descendants now, from /proc. Shared pages count once
    per process, so the memory is an upper bound."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                # the command name (field 2) may hold spaces: split after its closing ')'
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        # fields[0] is the state (stat field 3): ppid 4, utime 14, stime 15, cutime 16,
        # cstime 17, rss 24 (pages)
        parents[pid] = int(fields[1])
        cpu[pid] = sum(int(v) for v in fields[11:15]) / CLOCK_TICKS
        rss[pid] = int(fields[21]) * PAGE_KB
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree), sum(cpu.get(pid, 0.0) for pid in tree)


def run_measured(args: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> Measured:
    """Run `python -m evoki_sql ARGS` in `cwd`. CPU: the child and every process it waited
    for (rusage of wait4, UDF workers included). Peak memory: the larger of the child's
    ru_maxrss and the sum of resident memory over its process tree, sampled every 0.2 s."""
    start = time.perf_counter()
    peak_tree_kb = 0
    samples: list[tuple[float, float, float]] = []
    done = threading.Event()

    def sample(pid: int) -> None:
        nonlocal peak_tree_kb
        while not done.wait(0.2):
            now_kb, cpu_s = _tree_usage(pid)
            samples.append((time.time(), now_kb / 1024.0, cpu_s))
            peak_tree_kb = max(peak_tree_kb, now_kb)

    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evoki_sql", *args, "--project-dir", str(cwd)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        sampler = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    return Measured(
        os.waitstatus_to_exitcode(status),
        wall,
        usage.ru_utime + usage.ru_stime,
        max(usage.ru_maxrss, peak_tree_kb) / 1024.0,
        samples,
    )


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured child: this repo's evoki_sql first on the path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}
