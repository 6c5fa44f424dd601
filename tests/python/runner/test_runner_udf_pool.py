"""The target's `udf_processes`: Python UDFs computed in worker processes.

The same project is built in-process and with a pool of two workers: the values are the
same, the pool's rows were computed in other processes (the UDF reports its pid), a UDF
with side effects stays in-process, a UDF's error and a dying worker stop the build with
the UDF's name, a worker that cannot load the UDF files names why, a script without a
`__main__` guard is named as a cause of dying workers, and a bad `udf_processes` names
profiles.yml.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runner_support import (
    profiles_without_history,
    query,
    run_cli,
    write_project,
)

UDFS = """\
    import os

    import pyarrow as pa

    from evoki_sql import udf


    @udf(args=["BIGINT"], returns="BIGINT")
    def collatz_steps(values):
        out = []
        for v in values.to_pylist():
            steps, n = 0, v
            while n > 1:
                n = n // 2 if n % 2 == 0 else 3 * n + 1
                steps += 1
            out.append(steps)
        return pa.array(out, pa.int64())


    @udf(args=["BIGINT"], returns="BIGINT")
    def worker_pid(values):
        return pa.array([os.getpid()] * len(values), pa.int64())


    @udf(args=["BIGINT"], returns="BIGINT", side_effects=True)
    def caller_pid(values):
        return pa.array([os.getpid()] * len(values), pa.int64())


    @udf(args=["BIGINT"], returns="BIGINT", vectorized="numpy")
    def doubled(values):
        return values * 2


    @udf(args=["BIGINT", "BIGINT", "VARCHAR"], returns="BIGINT")
    def weighted(values, weights, label):
        return pa.array(
            [v * w + len(s) for v, w, s in zip(values.to_pylist(), weights.to_pylist(), label.to_pylist())],
            pa.int64(),
        )


    @udf(args=["BIGINT"], returns="BIGINT")
    def fails_on_seven(values):
        if 7 in values.to_pylist():
            raise ValueError("row value 7 is not allowed")
        return values


    @udf(args=["BIGINT"], returns="BIGINT")
    def kills_its_process(values):
        os._exit(3)
"""

NUMBERS = """\
select
    i as n,
    collatz_steps(i) as steps,
    doubled(i) as twice,
    weighted(i, 3, 'ab') as weighted,
    worker_pid(i) as computed_in,
    caller_pid(i) as called_in
from range(1, 20001) as r(i)
"""


def project(root: Path, processes: str, models: dict[str, str]) -> Path:
    files = {
        "profiles.yml": profiles_without_history(udf_processes=processes),
        "udfs/numbers.py": UDFS,
    }
    files.update(
        {
            f"models/{name}.sql": "{{ config(materialized='table') }}\n" + sql
            for name, sql in models.items()
        }
    )
    return write_project(root, files, history=None)


def collatz(n: int) -> int:
    steps = 0
    while n > 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def test_a_pool_of_two_computes_the_same_values_in_other_processes(tmp_path: Path) -> None:
    in_process = project(tmp_path / "inproc", "0", {"numbers": NUMBERS})
    pooled = project(tmp_path / "pooled", "2", {"numbers": NUMBERS})
    for root in (in_process, pooled):
        result = run_cli(root, "run")
        assert result.code == 0, result.text
    sql = "select n, steps, twice, weighted from numbers order by n"
    rows = query(pooled / "target" / "fx.duckdb", sql)
    assert rows == query(in_process / "target" / "fx.duckdb", sql)
    assert len(rows) == 20000
    assert all(
        steps == collatz(n) and twice == 2 * n and weighted == 3 * n + 2
        for n, steps, twice, weighted in rows
    )

    me = os.getpid()
    inproc_pids = query(
        in_process / "target" / "fx.duckdb", "select distinct computed_in from numbers"
    )
    assert inproc_pids == [(me,)]
    pooled_pids = {
        r[0] for r in query(pooled / "target" / "fx.duckdb", "select computed_in from numbers")
    }
    assert me not in pooled_pids
    assert 1 <= len(pooled_pids) <= 2
    # a UDF with side effects is never sent to a worker
    assert query(pooled / "target" / "fx.duckdb", "select distinct called_in from numbers") == [
        (me,)
    ]


def test_an_error_raised_in_a_worker_stops_the_build_with_its_message(tmp_path: Path) -> None:
    root = project(
        tmp_path, "2", {"checked": "select fails_on_seven(i) as v from range(1, 100) as r(i)"}
    )
    result = run_cli(root, "run")
    assert result.code == 1
    assert "checked" in result.text
    assert "row value 7 is not allowed" in result.text


def test_a_dying_worker_stops_the_build_with_the_udf_name(tmp_path: Path) -> None:
    root = project(tmp_path, "2", {"doomed": "select kills_its_process(i) as v from range(3) r(i)"})
    result = run_cli(root, "run")
    assert result.code == 1
    assert "kills_its_process" in result.text
    assert "worker process" in result.text


def test_a_worker_that_cannot_load_the_udf_files_names_the_error(tmp_path: Path) -> None:
    # the UDF file imports in the build process (which registers the UDFs) but not in a worker
    udfs = textwrap.dedent(UDFS) + textwrap.dedent(
        """
        import multiprocessing

        if multiprocessing.parent_process() is not None:
            raise ImportError("this module loads only in the build process")
        """
    )
    root = project(tmp_path, "2", {"numbers": NUMBERS})
    (root / "udfs" / "numbers.py").write_text(udfs, encoding="utf-8")
    result = run_cli(root, "run")
    assert result.code == 1
    assert "could not load the UDF files" in result.text
    assert "this module loads only in the build process" in result.text


def test_a_script_without_a_main_guard_is_named_when_its_workers_die(tmp_path: Path) -> None:
    # a spawned worker first runs the script that started the build; without the guard that
    # script runs the build again inside the worker, which fails and ends the worker
    root = project(tmp_path, "2", {"numbers": NUMBERS})
    script = tmp_path / "unguarded_build.py"
    script.write_text(
        "import sys\n"
        "from evoki_sql.cli import main\n"
        f"sys.exit(main(['run', '--project-dir', {str(root)!r}]))\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "worker process of the UDF pool died" in result.stdout + result.stderr
    assert "needs a __main__ guard" in result.stdout + result.stderr


def test_the_workers_of_a_killed_build_exit(tmp_path: Path) -> None:
    # the UDF writes its worker's pid into a file, then sleeps until the build is killed
    udfs = textwrap.dedent(UDFS) + textwrap.dedent(
        """
        import time
        from pathlib import Path


        @udf(args=["BIGINT"], returns="BIGINT")
        def report_pid_and_wait(values):
            Path("pids").mkdir(exist_ok=True)
            Path("pids", str(os.getpid())).touch()
            time.sleep(600)
            return values
        """
    )
    root = project(tmp_path, "2", {"slow": "select report_pid_and_wait(i) as v from range(3) r(i)"})
    (root / "udfs" / "numbers.py").write_text(udfs, encoding="utf-8")
    build = subprocess.Popen(
        [sys.executable, "-m", "evoki_sql", "run", "--project-dir", str(root)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list((root / "pids").glob("*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = [int(p.name) for p in (root / "pids").glob("*")]
        assert workers, "no worker started within 60 s"
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers still running 10 s after their build was killed: {alive}"


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_bad_udf_processes_names_the_profile(tmp_path: Path, value: str) -> None:
    root = project(tmp_path, value, {"one": "select 1 as x"})
    result = run_cli(root, "run")
    assert result.code == 2, result.text
    assert "udf_processes" in result.text
    assert "profiles.yml" in result.text
