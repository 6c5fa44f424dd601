"""Benchmark (not a test): turns/s of the B-vector and meta feature models on a synthetic history.

    python -m bench.bench_b_meta [--history /tmp/h100k.db] [--repeat 3]

Uses (or first generates, with `python -m bench.make_history --turns 100000 --sessions 2000
--seed 1`) a synthetic history, copies the project into a temporary folder (so target/ of the
repo is untouched), seeds it, builds stg_turns (and the lexicon features if feat_b_vector
exists), then runs each model of this group `--repeat` times through the real CLI and reads
the model's own execution time from run_results.json. Prints a Markdown table (median and
best seconds, turns/s at the median) and writes it to bench/results/b_meta.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from bench.project import copy_project, generate_history

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = ["feat_b_vector", "feat_ctx_break", "feat_hash_chain", "feat_grain", "feat_text_meta"]
PARTS = ("pyproject.toml", "profiles.yml", "models", "macros", "udfs", "seeds")


def ensure_history(path: Path, turns: int, sessions: int) -> None:
    if not path.exists():
        generate_history(path, turns, sessions)


def cli(project: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args, "--project-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"evoki_sql {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def model_seconds(project: Path, model: str) -> float:
    results = json.loads((project / "target" / "run_results.json").read_text())
    for r in results["results"]:
        if r["unique_id"].endswith(f".{model}"):
            return float(r["execution_time"])
    raise KeyError(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, default=Path("/tmp/h100k.db"))
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ensure_history(args.history, args.turns, args.sessions)
    models = [m for m in MODELS if (ROOT / "models" / "features" / f"{m}.sql").exists()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_b_meta_") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        copy_project(project, PARTS, data_tests=False)
        history = Path(tmp) / "history.db"
        shutil.copy2(args.history, history)  # the runner attaches read-write
        env = {
            **os.environ,
            "EVOKI_TARGET": "prod",
            "EVOKI_HISTORY_DB": str(history),
            "EVOKI_DUCKDB": str(Path(tmp) / "bench.duckdb"),
        }
        cli(project, env, "seed")
        upstream = ["+feat_b_vector"] if "feat_b_vector" in models else ["stg_turns"]
        cli(project, env, "run", "-s", *upstream)
        con = duckdb.connect(env["EVOKI_DUCKDB"], read_only=True)
        n_turns = con.execute("select count(*) from stg_turns").fetchone()[0]
        con.close()
        for model in models:
            times = []
            for _ in range(args.repeat):
                cli(project, env, "run", "-s", model)
                times.append(model_seconds(project, model))
            med = statistics.median(times)
            rows.append((model, med, min(times), n_turns / med))

    lines = [
        (
            f"B-vector / meta feature models on {n_turns} synthetic turns "
            f"({args.history.name}), {args.repeat} runs each, model execution time only."
        ),
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| model | median s | best s | turns/s (median) |",
        "|---|---|---|---|",
        *[f"| {m} | {med:.2f} | {best:.2f} | {tps:,.0f} |" for m, med, best, tps in rows],
    ]
    total = sum(r[1] for r in rows)
    lines.append(f"| all of the above | {total:.2f} | | {n_turns / total:,.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "b_meta.md").write_text(text)


if __name__ == "__main__":
    main()
