"""Benchmark (not a test): wall time of `ls` and `compile` on a generated 200-model project.

    python -m bench.runner_startup [--models 200] [--repeat 5]

Writes a fixture project with a chain-and-fan DAG of models that use refs and macros into a
temporary folder, runs each command `--repeat` times as a fresh process and prints the
median and best wall times as a Markdown table (also written to bench/results/runner.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_project(folder: Path, n_models: int) -> None:
    (folder / "models").mkdir(parents=True)
    (folder / "macros").mkdir()
    (folder / "pyproject.toml").write_text('[tool.evoki_sql]\nname = "bench"\nprofile = "bench"\n')
    (folder / "profiles.yml").write_text(
        "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: target/bench.duckdb\n      attach:\n        - path: src.db\n"
        "          alias: src\n          type: sqlite\n"
    )
    con = sqlite3.connect(folder / "src.db")
    con.execute("create table events(id integer, v double)")
    con.commit()
    con.close()
    (folder / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: src\n    tables:\n      - name: events\n"
    )
    (folder / "macros" / "util.sql").write_text(
        "{% macro clamp01(x) %}least(1.0, greatest(0.0, {{ x }})){% endmacro %}\n"
        "{% macro safe_div(a, b) %}case when {{ b }} = 0 then 0 else {{ a }} / {{ b }} end"
        "{% endmacro %}\n"
    )
    lines = ["version: 2", "models:"]
    for i in range(n_models):
        if i == 0:
            source = "{{ source('src', 'events') }}"
            parents = []
        else:
            parents = sorted({(i - 1), (i * 7) % i, (i // 2)})
            source = "{{ ref('m" + f"{parents[0]:03d}" + "') }}"
        joins = "".join(
            f"\nleft join {{{{ ref('m{p:03d}') }}}} as p{p} using (id)" for p in parents[1:]
        )
        sql = (
            "{{ config(materialized='view', tags=['t"
            + str(i % 5)
            + "']) }}\n"
            + "with base as (\n    select id, v from "
            + source
            + " as b"
            + joins
            + "\n)\nselect\n    id,\n    {{ clamp01('v') }} as v,\n"
            + "    {{ safe_div('v', 'id') }} as r\nfrom base\n"
        )
        (folder / "models" / f"m{i:03d}.sql").write_text(sql)
        lines += [
            f"  - name: m{i:03d}",
            "    columns:",
            "      - name: v",
            "        data_tests: [not_null]",
        ]
    (folder / "models" / "schema.yml").write_text("\n".join(lines) + "\n")


def time_command(folder: Path, args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "evoki_sql", *args, "--project-dir", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{args} failed:\n{result.stdout}\n{result.stderr}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project"
        make_project(folder, args.models)
        rows = []
        for label, cmd in [("--help", ["--help"]), ("ls", ["ls"]), ("compile", ["compile"])]:
            if label == "--help":
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    subprocess.run(
                        [sys.executable, "-m", "evoki_sql", "--help"],
                        capture_output=True,
                        check=True,
                    )
                    times.append(time.perf_counter() - start)
            else:
                times = time_command(folder, cmd, args.repeat)
            rows.append((label, statistics.median(times), min(times)))
    header = (
        f"Runner startup on a generated project of {args.models} models (+{args.models} tests), "
        f"{args.repeat} runs each, fresh process per run.\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}.\n\n| command | median s | best s |\n|---|---|---|\n"
    )
    table = header + "".join(f"| {c} | {m:.3f} | {b:.3f} |\n" for c, m, b in rows)
    print(table)
    out = HERE / "results" / "runner.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
