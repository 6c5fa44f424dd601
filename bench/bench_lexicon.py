"""Benchmark (not a test): the lexicon matcher and the text / lexicon / hazard feature models.

    python -m bench.bench_lexicon [--history /tmp/h100k.db] [--turns 100000] [--repeat 3]

Texts come from a synthetic history (`python -m bench.make_history --turns 100000 --sessions
2000 --seed 1 --out /tmp/h100k.db`; made here when missing and make_history exists, otherwise a
history is written from texts generated here). Measured:

1. the matcher in this process on the history's distinct texts: tokens() alone (the floor set by
   the normative Python tokeniser), match_text() per text, and the UDF lexicon_match on Arrow
   batches as the model calls it, with EVOKI_UDF_WORKERS = 1 and = the CPU count;
2. the models feat_text, feat_lexicon, feat_lexicon_wide, feat_hazard through the real CLI
   (`run`), in a copy of the project holding only what they need (the repo's target/ stays
   untouched), each model's own execution time read from run_results.json, median of
   --repeat runs; peak resident memory of the CLI process (largest child, getrusage).

Prints a Markdown table. Never prints turn text.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.project import copy_project

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = ["feat_text", "feat_lexicon", "feat_lexicon_wide", "feat_hazard"]
PARTS = [
    "pyproject.toml",
    "profiles.yml",
    "seeds",
    "models/sources.yml",
    "models/staging",
    "models/features/feat_text.sql",
    "models/features/feat_lexicon.sql",
    "models/features/feat_lexicon_wide.sql",
    "models/features/feat_hazard.sql",
    "models/features/features_text_lexicon.yml",
    "macros/text.sql",
    "udfs/__init__.py",
    "udfs/_text.py",
    "udfs/lexicon.py",
]


def ensure_history(path: Path, turns: int) -> None:
    """Use `path`, or make it: with bench.make_history if present, else from generated texts."""
    if path.exists():
        return
    if (HERE / "make_history.py").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.make_history",
                "--turns",
                str(turns),
                "--sessions",
                str(max(1, turns // 50)),
                "--seed",
                "1",
                "--out",
                str(path),
            ],
            cwd=ROOT,
            check=True,
        )
        return
    sys.path.insert(0, str(ROOT / "tests" / "python"))
    from history_db import make_history

    texts = synthetic_texts(turns)
    rows = [
        (f"t{i:07d}", f"s{i // 50:05d}", None, i % 50 + 1, "user" if i % 2 == 0 else "ai", t)
        for i, t in enumerate(texts)
    ]
    make_history(path, sorted({r[1] for r in rows}), rows)


def synthetic_texts(n: int, seed: int = 1) -> list[str]:
    """German-looking texts: neutral words, sentence punctuation, ~15% with lexicon terms."""
    rnd = random.Random(seed)
    words = [
        "der",
        "die",
        "das",
        "und",
        "ich",
        "du",
        "wir",
        "heute",
        "morgen",
        "gestern",
        "haus",
        "weg",
        "zeit",
        "arbeit",
        "frage",
        "antwort",
        "gut",
        "schlecht",
        "vielleicht",
        "wirklich",
        "immer",
        "manchmal",
        "nie",
        "sehr",
        "auch",
        "noch",
        "schon",
        "dann",
    ]
    with open(ROOT / "seeds" / "lexika.csv", encoding="utf-8", newline="") as f:
        terms = [r["term"] for r in csv.DictReader(f) if r["lexicon"] != "EMOJI_MAP"]
    out = []
    for _ in range(n):
        k = rnd.choice([0, 3, 8, 15, 25, 40, 60, 120])
        parts = []
        for j in range(k):
            w = rnd.choice(terms) if rnd.random() < 0.02 else rnd.choice(words)
            parts.append(w + (rnd.choice([".", "!", "?", ","]) if rnd.random() < 0.12 else ""))
        out.append(" ".join(parts))
    return out


def distinct_texts(history: Path) -> list[str]:
    con = sqlite3.connect(history)
    try:
        return [t for (t,) in con.execute("select distinct coalesce(text, '') from turns")]
    finally:
        con.close()


def bench_matcher(texts: list[str]) -> list[tuple[str, float, str]]:
    """(what, seconds, note) for the in-process measurements."""
    import pyarrow as pa

    sys.path.insert(0, str(ROOT))
    from udfs._text import tokens
    from udfs.lexicon import ENTRY_TYPE, compile_lexica, lexicon_match, match_text

    del ENTRY_TYPE
    entries = seed_entries()
    rows: list[tuple[str, float, str]] = []
    start = time.perf_counter()
    lx = compile_lexica(entries)
    rows.append(("compile the lexica (once per content)", time.perf_counter() - start, ""))

    start = time.perf_counter()
    for text in texts:
        tokens(text)
    rows.append(("tokens() alone (normative tokeniser)", time.perf_counter() - start, "floor"))

    start = time.perf_counter()
    hits = 0
    for text in texts:
        hits += len(match_text(lx, text)[1])
    rows.append(("match_text(), one process", time.perf_counter() - start, f"{hits} list hits"))

    batches = [texts[i : i + 2048] for i in range(0, len(texts), 2048)]
    entry_type = pa.struct(
        [
            ("lexicon", pa.string()),
            ("term", pa.string()),
            ("weight", pa.float64()),
            ("surface", pa.string()),
        ]
    )
    spec = [dict(zip(("lexicon", "term", "weight", "surface"), e)) for e in entries]
    arr_entries = pa.array([spec] * len(batches), pa.list_(entry_type))
    arr_texts = pa.array(batches, pa.list_(pa.string()))
    previous = os.environ.get("EVOKI_UDF_WORKERS")
    results = []
    for workers in sorted({1, max(2, min(4, os.cpu_count() or 1))}):
        os.environ["EVOKI_UDF_WORKERS"] = str(workers)
        best = float("inf")
        for _ in range(2):  # the second call finds the lexica compiled and any workers started
            start = time.perf_counter()
            results.append(lexicon_match(arr_texts, arr_entries))
            best = min(best, time.perf_counter() - start)
        note = "Arrow in and out, as the model calls it (best of 2)"
        if workers > 1:
            note += "; opt-in, worker processes already started"
        rows.append((f"UDF lexicon_match, EVOKI_UDF_WORKERS={workers}", best, note))
    if previous is None:
        os.environ.pop("EVOKI_UDF_WORKERS", None)
    else:
        os.environ["EVOKI_UDF_WORKERS"] = previous
    assert all(r.equals(results[0]) for r in results), "worker count changed the result"
    return rows


def seed_entries() -> list[tuple[str, str, float, str]]:
    """The entry list feat_lexicon builds from the seeds (same rows, same order)."""

    def rows(name: str) -> list[dict[str, str]]:
        with open(ROOT / "seeds" / f"{name}.csv", encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    token = {r["lexicon"] for r in rows("lexicon_catalog") if r["match_kind"] == "token"}
    lexika = rows("lexika")
    weight = {(r["lexicon"], r["term"]): float(r["weight"]) for r in lexika}
    entries = [
        (r["lexicon"], r["term"], float(r["weight"]), r["term"])
        for r in lexika
        if r["lexicon"] in token
    ]
    entries += [
        (r["lexicon"], r["term"], weight[(r["lexicon"], r["term"])], r["variant"])
        for r in rows("lexika_variants")
    ]
    entries += [
        (r["dimension"], r["term"], float(r["weight"]), r["term"])
        for r in rows("b_vector_keywords")
    ]
    return sorted(entries)


def cli(project: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args, "--project-dir", str(project)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"evoki_sql {' '.join(args)} failed:\n{done.stdout[-3000:]}")


def bench_models(history: Path, repeat: int) -> tuple[dict[str, list[float]], float]:
    """Per model the execution times of `repeat` runs, and the CLI's peak RSS in MB."""
    times: dict[str, list[float]] = {m: [] for m in MODELS}
    with tempfile.TemporaryDirectory(prefix="bench_lexicon_") as tmp:
        project = Path(tmp) / "project"
        copy_project(project, PARTS, data_tests=False)
        env = {
            **os.environ,
            "EVOKI_TARGET": "prod",
            "EVOKI_HISTORY_DB": str(history),
            "EVOKI_DUCKDB": str(Path(tmp) / "bench.duckdb"),
        }
        cli(project, env, "seed")
        cli(project, env, "run", "-s", "stg_turns")
        for _ in range(repeat):
            cli(project, env, "run", "-s", *MODELS)
            results = json.loads((project / "target" / "run_results.json").read_text())
            for r in results["results"]:
                name = r["unique_id"].rsplit(".", 1)[-1]
                if name in times:
                    times[name].append(float(r["execution_time"]))
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return times, peak_kb / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, default=Path("/tmp/h100k.db"))
    parser.add_argument("--turns", type=int, default=100000, help="when the history is made here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-models", action="store_true")
    args = parser.parse_args(argv)

    ensure_history(args.history, args.turns)
    con = sqlite3.connect(args.history)
    n_turns = con.execute("select count(*) from turns").fetchone()[0]
    con.close()
    texts = distinct_texts(args.history)
    print(f"# bench_lexicon — {n_turns} turns, {len(texts)} distinct texts")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.2f}\n")
    print("| matcher (in process, distinct texts) | seconds | texts/s | note |")
    print("|---|---:|---:|---|")
    for what, seconds, note in bench_matcher(texts):
        rate = len(texts) / seconds if seconds > 0 and "compile" not in what else float("nan")
        print(f"| {what} | {seconds:.3f} | {rate:,.0f} | {note} |")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process (matcher part): {peak_self:.0f} MB\n")
    if args.skip_models:
        return 0
    times, peak = bench_models(args.history, args.repeat)
    print(f"| model (CLI run, median of {args.repeat}) | seconds | turns/s |")
    print("|---|---:|---:|")
    total = 0.0
    for name in MODELS:
        median = statistics.median(times[name])
        total += median
        print(f"| {name} | {median:.2f} | {n_turns / median:,.0f} |")
    print(f"| all four | {total:.2f} | {n_turns / total:,.0f} |")
    print(f"\npeak RSS of the CLI process (largest child): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
