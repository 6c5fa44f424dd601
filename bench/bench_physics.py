"""Benchmark (not a test): the hashed embedding, A_Phys and the context cosines on synthetic turns.

    python -m bench.bench_physics [--history /tmp/h100k.db] [--repeat 3] [--mode both]

Two measurements, on a synthetic history (generated first if missing, with
`python -m bench.make_history --turns 100000 --sessions 2000 --seed 1`):

* `python`: the UDF code in this process, batched as DuckDB calls it (2048 texts per embedding
  call, up to 2048 sessions per physics call), tokens from udfs._text (the CLI reads them from
  feat_text instead; the `tokens` stage shows what that saves). Each stage runs in its own
  child process so that its peak resident memory (ru_maxrss) is its own. F-turns: 2% of the user
  turns, SAFE_MODE 5% of the turns, chosen deterministically (the real flags need the lexicon
  models).
* `cli`: the project is copied into a temporary folder (the repo's target/ stays untouched),
  seeded, the upstream models built once, then feat_embedding, feat_a_phys (the per-session pass:
  A_Phys and the context cosines) and feat_emb_context (a view on it) are each run `--repeat`
  times through the real CLI; the model's own execution time comes from run_results.json and the
  peak memory of the whole `evoki_sql run` process from ru_maxrss.

Prints a Markdown table and writes it to bench/results/physics.md. Never prints turn text.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from bench.project import copy_project, generate_history

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PARTS = ("pyproject.toml", "profiles.yml", "models", "macros", "udfs", "seeds", "materializations")
CLI_MODELS = ["feat_embedding", "feat_a_phys", "feat_emb_context"]
STAGES = ["tokens", "embedding", "physics"]


_CHILD = (
    "import resource, sys\n"
    "from evoki_sql.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code or 0)\n"
)


def ensure_history(path: Path, turns: int, sessions: int) -> None:
    if not path.exists():
        generate_history(path, turns, sessions)


# --- in-process stages ------------------------------------------------------------------------------


def _load(history: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    con = sqlite3.connect(history)
    rows = con.execute(
        "select turn_id, session_id, role, text from turns "
        "order by session_id, prompt_num is null, prompt_num, turn_id"
    ).fetchall()
    con.close()
    return (
        [r[0] for r in rows],
        [r[1] for r in rows],
        ["ai" if r[2] == "assistant" else r[2] for r in rows],
        [r[3] or "" for r in rows],
    )


def stage(name: str, history: Path) -> dict[str, float]:
    """Run one stage (everything before it untimed) and return its seconds, turns and peak MB."""
    import csv

    import numpy as np
    import pyarrow as pa

    import udfs.a_phys as A
    import udfs.embedding as E
    from udfs._text import tokens

    ids, sessions, roles, texts = _load(history)
    n = len(texts)
    start = time.perf_counter()
    token_lists = [tokens(t) for t in texts]
    if name == "tokens":
        return {"seconds": time.perf_counter() - start, "turns": n, "peak_mb": _peak()}
    arrow_tokens = pa.array(token_lists, pa.list_(pa.string()))
    start = time.perf_counter()
    parts = [E.emb_sparse_tokens(arrow_tokens.slice(s, 2048)) for s in range(0, n, 2048)]
    if name == "embedding":
        return {"seconds": time.perf_counter() - start, "turns": n, "peak_mb": _peak()}
    embs = pa.concat_arrays([p.field("emb") for p in parts])
    bounds = [0] + [i for i in range(1, n) if sessions[i] != sessions[i - 1]] + [n]
    turn_idx = np.concatenate([np.arange(1, b - a + 1) for a, b in pairwise(bounds)])
    rng = np.random.default_rng(1)
    is_f = ((rng.random(n) < 0.02) & (np.array(roles) == "user")).astype(np.int32)
    safe = (rng.random(n) < 0.05).astype(np.int32)
    turns = pa.StructArray.from_arrays(
        [
            pa.array(turn_idx, pa.int64()),
            pa.array(ids),
            pa.array(roles),
            embs,
            pa.array(is_f),
            pa.array(safe),
        ],
        names=["turn_idx", "turn_id", "role", "emb", "is_f_turn", "rag_safe_mode"],
    )
    per_session = pa.ListArray.from_arrays(pa.array(bounds, pa.int32()), turns)
    with open(ROOT / "seeds" / "lexika.csv", encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    centres = "\n".join(
        f"lex:{lex}:{r['term']}"
        for lex in ("Suicide", "Self_harm")
        for r in sorted((r for r in seed if r["lexicon"] == lex), key=lambda r: r["term"])
    )
    # DuckDB hands the UDF at most 2048 sessions per call
    start = time.perf_counter()
    for s in range(0, len(bounds) - 1, 2048):
        chunk = per_session.slice(s, 2048)
        A.a_phys(pa.chunked_array([chunk]), pa.chunked_array([pa.array([centres] * len(chunk))]))
    return {"seconds": time.perf_counter() - start, "turns": n, "peak_mb": _peak()}


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_stage_child(name: str, history: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_physics", "--stage", name, "--history", str(history)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- through the CLI ----------------------------------------------------------------------------------


def cli(project: Path, env: dict[str, str], *args: str) -> float:
    """Run the CLI in a child; returns its peak resident memory in MB."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args, "--project-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"evoki_sql {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
    return float(peak[-1].split()[1]) / 1024.0 if peak else float("nan")


def model_seconds(project: Path, model: str) -> float:
    results = json.loads((project / "target" / "run_results.json").read_text())
    for r in results["results"]:
        if r["unique_id"].endswith(f".{model}"):
            return float(r["execution_time"])
    raise KeyError(model)


def cli_rows(history_src: Path, repeat: int) -> tuple[int, list[tuple]]:
    import duckdb

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_physics_") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        copy_project(project, PARTS, data_tests=False)
        history = Path(tmp) / "history.db"
        shutil.copy2(history_src, history)  # the runner attaches read-write
        env = {
            **os.environ,
            "EVOKI_TARGET": "prod",
            "EVOKI_HISTORY_DB": str(history),
            "EVOKI_DUCKDB": str(Path(tmp) / "bench.duckdb"),
        }
        cli(project, env, "seed")
        cli(project, env, "run", "-s", *[f"+{m}" for m in CLI_MODELS])
        con = duckdb.connect(env["EVOKI_DUCKDB"], read_only=True)
        n_turns = con.execute("select count(*) from stg_turns").fetchone()[0]
        con.close()
        for model in CLI_MODELS:
            times, peaks = [], []
            for _ in range(repeat):
                peaks.append(cli(project, env, "run", "-s", model))
                times.append(model_seconds(project, model))
            rows.append((model, statistics.median(times), min(times), max(peaks)))
    return n_turns, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, default=Path("/tmp/h100k.db"))
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=["python", "cli", "both"], default="both")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.history)))
        return

    ensure_history(args.history, args.turns, args.sessions)
    lines = [
        (
            f"Physics features on {args.history.name}; machine {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
            f"{os.getloadavg()[0]:.1f} at the start."
        ),
        "",
    ]
    if args.mode in ("python", "both"):
        lines += [
            f"In-process UDF code, best of {args.repeat} (each stage in its own process):",
            "",
            "| stage | best s | turns/s | peak RSS MB |",
            "|---|---|---|---|",
        ]
        for name in STAGES:
            results = [run_stage_child(name, args.history) for _ in range(args.repeat)]
            best = min(results, key=lambda r: r["seconds"])
            lines.append(
                f"| {name} | {best['seconds']:.2f} | {best['turns'] / best['seconds']:,.0f} | "
                f"{max(r['peak_mb'] for r in results):,.0f} |"
            )
        lines.append("")
    if args.mode in ("cli", "both"):
        n_turns, rows = cli_rows(args.history, args.repeat)
        lines += [
            f"Through the CLI (model execution time, {args.repeat} runs each, {n_turns} turns):",
            "",
            "| model | median s | best s | turns/s (median) | peak RSS MB (run process) |",
            "|---|---|---|---|---|",
            *[
                f"| {m} | {med:.2f} | {best:.2f} | {n_turns / med:,.0f} | {peak:,.0f} |"
                for m, med, best, peak in rows
            ],
        ]
        total = sum(r[1] for r in rows)
        lines.append(f"| all three | {total:.2f} | | {n_turns / total:,.0f} | |")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "physics.md").write_text(text)


if __name__ == "__main__":
    main()
