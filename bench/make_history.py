"""Deterministic generator of large synthetic Evoki histories (SQLite) for benchmarks.

Usage (from the repo root)::

    python -m bench.make_history --turns 1000000 --sessions 5000 --seed 1 --out bench/out/h.db

The database has the three tables the Evoki app writes (``sessions``, ``turns``, ``metrics``);
``metrics`` stays empty. Everything is derived from ``--seed`` through one
``numpy.random.Generator(PCG64(seed))`` (no wall clock in the data), so the same arguments give the
same ids, timestamps and turn texts byte for byte (with the same numpy version: numpy does not
promise identical random streams across releases).

What the data looks like:

* exactly ``--turns`` turns in exactly ``--sessions`` sessions of varying length (each >= 1 turn);
* roles alternate user / ai, starting with user; sometimes a user writes twice in a row; a few
  sessions (and a few single turns) use ``assistant`` instead of ``ai``;
* ``prompt_num`` = 1, 2, 3 ... per session; ISO-8601 timestamps, seconds to hours apart within a
  session, days apart between sessions (shorter when there are very many sessions); ~0.5% NULL;
* texts: neutral German words (Zipf-like), sentences with capitalisation and ``. ! ? ,``; length
  mostly 5-60 words, a tail of a few hundred words, rarely ~2000, ~1% empty; ~10% of the turns carry
  lexicon terms, ~1% crisis phrases (only user turns).

Speed (1M turns in ~15 s on 2 cores): the per-turn plan is drawn with vectorised numpy calls;
texts are built per chunk of ``CHUNK_TURNS`` turns by a byte-level gather from one vocabulary blob,
in a producer thread one chunk ahead of the writer; rows go in with ``executemany`` in one
transaction with journaling and syncing off, into a temporary file next to ``--out`` that is
renamed into place at the end (journal mode DELETE). An existing ``--out`` is only replaced with
``--force``. Only a one-line summary is printed, never turn text.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue

import numpy as np

from bench.vocabulary import NEUTRAL_WORDS, crisis_pool, general_pool

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    date_ymd TEXT NOT NULL,
    source_root TEXT,
    created_at TEXT NOT NULL
)""",
    """CREATE TABLE turns (
    turn_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    ts_iso TEXT,
    date_ymd TEXT NOT NULL,
    prompt_num INTEGER,
    role TEXT NOT NULL CHECK(role IN ('user','ai','assistant')),
    text TEXT NOT NULL,
    file_path TEXT UNIQUE,
    created_at TEXT NOT NULL
)""",
    """CREATE TABLE metrics (
    metric_id TEXT PRIMARY KEY,
    turn_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    m1_A REAL,
    m2_PCI REAL,
    m19_z_prox REAL,
    m101_t_panic REAL,
    m110_black_hole REAL,
    m151_hazard REAL,
    F_risk REAL,
    metrics_json TEXT NOT NULL,
    calculated_at TEXT,
    is_alert BOOLEAN DEFAULT 0,
    guardian_action TEXT
)""",
)

#: Turns per text-generation / insert chunk. Part of the output definition: changing it changes
#: the texts for a given seed (the random stream is consumed chunk by chunk).
CHUNK_TURNS = 10000

ROLE_NAMES: tuple[str, str, str] = ("user", "ai", "assistant")
PUNCTUATION: tuple[str, ...] = (".", "!", "?", ",")

# --- distribution parameters ---------------------------------------------------------------------
P_EMPTY = 0.01  # empty text
P_LONG = {"user": 0.03, "ai": 0.08}  # a few hundred words
P_VERY_LONG = 0.001  # ~2000 words
P_DOUBLE_USER = 0.04  # an exchange where the user writes twice before the reply
P_ASSISTANT_SESSION = 0.03  # sessions that call the ai role 'assistant'
P_ASSISTANT_TURN = 0.003  # single ai turns written as 'assistant'
P_LEXICON = {"user": 0.11, "ai": 0.07}  # turns with (non-crisis) lexicon terms
P_CRISIS_USER = 0.02  # user turns with a crisis phrase
P_NULL_TS = 0.005
P_SENTENCE_END = 0.12  # after a word, mean sentence length ~8 words
P_FINAL_PUNCT = 0.85  # the turn's last word ends with . ! ?
P_COMMA = 0.05
P_CAP_TERM = 0.2  # lexicon term written with a capital letter mid-sentence
BASE_EPOCH_DAY = 14610  # 2010-01-01 as days since 1970-01-01 (the start is up to a year later)
SESSION_GAP_DAYS = 2.0  # mean gap between sessions ...
SESSION_GAPS_MAX_YEARS = 8.0  # ... unless the gaps would add up to more than this (many sessions)


@dataclass(frozen=True)
class Summary:
    """What a run produced (counts only, never text)."""

    path: Path
    turns: int
    sessions: int
    empty: int
    lexicon_turns: int
    crisis_turns: int
    seconds: float
    bytes: int

    def line(self) -> str:
        """The one summary line printed by the CLI."""
        return (
            f"make_history: {self.turns} turns, {self.sessions} sessions, {self.empty} empty, "
            f"{self.lexicon_turns} with lexicon terms, {self.crisis_turns} with crisis phrases "
            f"-> {self.path} ({self.bytes / 1e6:.1f} MB) in {self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class _Vocab:
    """All token strings as one UTF-8 blob plus offsets; see ``_build_vocab`` for the layout."""

    blob: np.ndarray  # uint8
    start: np.ndarray  # int32, byte offset of each token
    length: np.ndarray  # int32, byte length of each token
    n_base: int  # number of base words (neutral + general + crisis)
    n_neutral: int
    n_general: int
    n_crisis: int
    chars: np.ndarray  # int32, length of each token in code points
    zipf_table: np.ndarray  # 65536 neutral word indices, each repeated by its frequency


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


def _build_vocab() -> _Vocab:
    """Token index layout: [0, B) base words with a leading space, [B, 2B) the same capitalised,
    [2B, 2B+4) punctuation (no leading space)."""
    neutral = list(NEUTRAL_WORDS)
    general = list(general_pool())
    crisis = list(crisis_pool())
    base = neutral + general + crisis
    tokens = [" " + w for w in base] + [" " + _capitalise(w) for w in base] + list(PUNCTUATION)
    encoded = [t.encode("utf-8") for t in tokens]
    length = np.fromiter((len(e) for e in encoded), dtype=np.int32, count=len(encoded))
    start = (np.cumsum(length) - length).astype(np.int32)
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    weights = 1.0 / (np.arange(len(neutral), dtype=np.float64) + 8.0) ** 0.8
    counts = np.maximum(1, np.floor(weights / weights.sum() * 65536)).astype(np.int64)
    counts[0] += 65536 - counts.sum()  # exactly 2**16 entries, indexed by 16 random bits
    zipf_table = np.repeat(np.arange(len(neutral), dtype=np.int32), counts)
    chars = np.array([len(t) for t in tokens], dtype=np.int32)
    return _Vocab(
        blob, start, length, len(base), len(neutral), len(general), len(crisis), chars, zipf_table
    )


@dataclass
class _Plan:
    """Per-turn and per-session attributes (everything except the texts)."""

    session_len: np.ndarray
    session_of_turn: np.ndarray
    prompt_num: np.ndarray
    role: np.ndarray  # 0 user, 1 ai, 2 assistant
    n_words: np.ndarray
    k_general: np.ndarray  # lexicon terms to put into the turn
    k_crisis: np.ndarray  # crisis phrases to put into the turn
    ts: np.ndarray  # datetime64[s]
    ts_null: np.ndarray  # bool
    created: np.ndarray  # datetime64[s]
    session_created: np.ndarray  # datetime64[s]
    tag: str


def _session_lengths(rng: np.random.Generator, n_turns: int, n_sessions: int) -> np.ndarray:
    """Exactly ``n_turns`` split into ``n_sessions`` sessions of >= 1 turn, lognormal-ish sizes."""
    weights = rng.lognormal(0.0, 1.0, n_sessions)
    pvals = weights / weights.sum()
    extra = rng.multinomial(n_turns - n_sessions, pvals)
    return (extra + 1).astype(np.int64)


def _roles(
    rng: np.random.Generator, session_start: np.ndarray, session_of: np.ndarray, pos: np.ndarray
) -> np.ndarray:
    """user/ai alternation built from exchanges (user, ai) or (user, user, ai); every session
    starts at an exchange boundary, so it starts with a user turn."""
    n_turns = len(pos)
    n_units = n_turns // 2 + 4  # >= n_turns + 3 roles in the stream
    unit_len = np.where(rng.random(n_units) < P_DOUBLE_USER, 3, 2).astype(np.int64)
    unit_start = np.cumsum(unit_len) - unit_len
    unit_of = np.repeat(np.arange(n_units), unit_len)
    within = np.arange(unit_len.sum()) - unit_start[unit_of]
    stream_is_ai = within == unit_len[unit_of] - 1
    first = unit_start[np.searchsorted(unit_start, session_start)]  # <= session_start + 2
    n_sessions = len(session_start)
    role = stream_is_ai[first[session_of] + pos].astype(np.int8)
    assistant_session = rng.random(n_sessions) < P_ASSISTANT_SESSION
    assistant = (role == 1) & (
        assistant_session[session_of] | (rng.random(n_turns) < P_ASSISTANT_TURN)
    )
    role[assistant] = 2
    return role


def _plan(rng: np.random.Generator, n_turns: int, n_sessions: int) -> _Plan:
    tag = f"{int(rng.integers(0, 16**6)):06x}"
    session_len = _session_lengths(rng, n_turns, n_sessions)
    session_start = np.cumsum(session_len) - session_len
    session_of_turn = np.repeat(np.arange(n_sessions, dtype=np.int64), session_len)
    pos = np.arange(n_turns, dtype=np.int64) - session_start[session_of_turn]
    role = _roles(rng, session_start, session_of_turn, pos)
    is_user = role == 0

    # Lengths in words: core lognormal (user shorter than ai), a long tail, rare ~2000, ~1% empty.
    u = rng.random(n_turns)
    core_user = rng.lognormal(np.log(14.0), 0.75, n_turns)
    core_ai = rng.lognormal(np.log(24.0), 0.7, n_turns)
    long_ = rng.lognormal(np.log(220.0), 0.45, n_turns)
    very_long = rng.integers(1500, 2501, n_turns)
    n_words = np.clip(np.rint(np.where(is_user, core_user, core_ai)), 1, 90)
    p_long = np.where(is_user, P_LONG["user"], P_LONG["ai"])
    n_words = np.where(u < P_EMPTY + p_long, np.clip(np.rint(long_), 61, 1200), n_words)
    n_words = np.where(u < P_EMPTY + P_VERY_LONG, very_long, n_words)
    n_words = np.where(u < P_EMPTY, 0, n_words).astype(np.int64)

    # Lexicon terms and crisis phrases (replace words at random positions of non-empty turns).
    nonempty = n_words > 0
    p_lex = np.where(is_user, P_LEXICON["user"], P_LEXICON["ai"])
    lex = nonempty & (rng.random(n_turns) < p_lex)
    extra_terms = (rng.random(n_turns) < 0.35).astype(np.int64) + (rng.random(n_turns) < 0.12)
    k_general = np.where(lex, 1 + extra_terms, 0)
    k_crisis = (nonempty & is_user & (rng.random(n_turns) < P_CRISIS_USER)).astype(np.int64)
    k_crisis += (k_crisis > 0) & (rng.random(n_turns) < 0.2)

    # Timestamps: a global clock; gaps of seconds to hours inside a session, days between sessions.
    inner = np.clip(rng.lognormal(np.log(45.0), 1.4, n_turns), 2, 6 * 3600)
    mean_session_gap = min(
        SESSION_GAP_DAYS * 86400.0, SESSION_GAPS_MAX_YEARS * 365 * 86400.0 / n_sessions
    )
    between = np.maximum(rng.exponential(mean_session_gap, n_sessions), mean_session_gap / 8)
    gaps = inner
    gaps[session_start] = between
    gaps[0] = 0
    t0 = BASE_EPOCH_DAY * 86400 + int(rng.integers(0, 365 * 86400))
    ts = (t0 + np.cumsum(np.rint(gaps).astype(np.int64))).astype("datetime64[s]")
    ts_null = rng.random(n_turns) < P_NULL_TS
    created = ts + rng.integers(1, 30, n_turns).astype("timedelta64[s]")
    session_created = ts[session_start] + rng.integers(1, 600, n_sessions).astype("timedelta64[s]")
    return _Plan(
        session_len=session_len,
        session_of_turn=session_of_turn,
        prompt_num=pos + 1,
        role=role,
        n_words=n_words,
        k_general=k_general,
        k_crisis=k_crisis,
        ts=ts,
        ts_null=ts_null,
        created=created,
        session_created=session_created,
        tag=tag,
    )


def _inject(
    rng: np.random.Generator,
    words: np.ndarray,
    word_start: np.ndarray,
    n_words: np.ndarray,
    k: np.ndarray,
    first_index: int,
    pool_size: int,
    n_base: int,
) -> None:
    """Overwrite ``k[i]`` random word slots of turn ``i`` with terms from a pool (in place); some
    terms get the capitalised form (index + ``n_base``)."""
    turn = np.repeat(np.arange(len(k)), k)
    if len(turn) == 0:
        return
    offset = np.floor(rng.random(len(turn)) * n_words[turn]).astype(np.int64)
    term = first_index + rng.integers(0, pool_size, len(turn))
    term += n_base * (rng.random(len(turn)) < P_CAP_TERM)
    words[word_start[turn] + offset] = term


_ARANGE32: list[np.ndarray] = [np.arange(0, dtype=np.int32)]


def _arange32(n: int) -> np.ndarray:
    """``np.arange(n)`` as int32, served from one cached array (fresh big arrays are slow here)."""
    if len(_ARANGE32[0]) < n:
        _ARANGE32[0] = np.arange(max(n, 2 * len(_ARANGE32[0])), dtype=np.int32)
    return _ARANGE32[0][:n]


# Thresholds on a uniform 16-bit number deciding what follows a word: a sentence end ('.', '!' or
# '?'), a comma, or nothing.
_T_DOT = int(65536 * P_SENTENCE_END * 0.75)
_T_BANG = int(65536 * P_SENTENCE_END * 0.85)
_T_END = int(65536 * P_SENTENCE_END)
_T_COMMA = int(65536 * (P_SENTENCE_END + P_COMMA))


def _texts(rng: np.random.Generator, vocab: _Vocab, plan: _Plan, lo: int, hi: int) -> list[str]:
    """Texts of turns ``lo .. hi-1``."""
    n = plan.n_words[lo:hi]
    n_total = int(n.sum())
    word_end = np.cumsum(n)
    word_start = word_end - n
    nv, ng, nc, nb = vocab.n_neutral, vocab.n_general, vocab.n_crisis, vocab.n_base

    # One 32-bit draw per word: low 16 bits pick the neutral word, high 16 bits the punctuation.
    r = rng.integers(0, 2**32, n_total, dtype=np.uint32)
    words = vocab.zipf_table[r & 0xFFFF].astype(np.int32)
    p = r >> 16
    _inject(rng, words, word_start, n, plan.k_general[lo:hi], nv, ng, nb)
    _inject(rng, words, word_start, n, plan.k_crisis[lo:hi], nv + ng, nc, nb)

    # Sentences: end marks after words (the turn's last word usually ends one), commas, capitals.
    nonempty = n > 0
    last = word_end[nonempty] - 1
    end = p < _T_END
    end[last] = rng.random(len(last)) < P_FINAL_PUNCT
    p[last] %= _T_END  # a final mark is '.', '!' or '?' ...
    comma = ~end & (p < _T_COMMA)
    comma[last] = False  # ... and never a comma
    has_p = end | comma
    punct = (2 * nb + 3) - (p < _T_BANG) - (p < _T_DOT) - end  # '.', '!', '?' or ','
    cap = np.zeros(n_total, dtype=bool)
    cap[1:] = end[:-1]
    cap[word_start[nonempty]] = True
    cap &= words < nb
    words += nb * cap

    # Token stream: each word, then its punctuation mark if any.
    emitted = 1 + has_p.astype(np.int32)
    out_end = np.cumsum(emitted)
    out_pos = out_end - emitted
    tokens = np.empty(int(out_end[-1]) if n_total else 0, dtype=np.int32)
    tokens[out_pos] = words
    tokens[out_pos[has_p] + 1] = punct[has_p]
    out_end0 = np.concatenate(([0], out_end))
    tok_lo = out_end0[word_start]
    tok_hi = out_end0[word_end]

    # Byte gather from the vocabulary blob (int32 indices: a chunk is far below 2**31 bytes), one
    # decode per chunk, then the turns are cut out by character offsets.
    tok_len = vocab.length[tokens]
    byte_end = np.cumsum(tok_len, dtype=np.int32)
    n_bytes = int(byte_end[-1]) if len(tokens) else 0
    src = np.repeat(vocab.start[tokens] - (byte_end - tok_len), tok_len)
    src += _arange32(n_bytes)
    chunk = vocab.blob[src].tobytes().decode("utf-8")
    char_end0 = np.concatenate(([0], np.cumsum(vocab.chars[tokens], dtype=np.int32)))
    c_lo = (char_end0[tok_lo] + 1).tolist()  # skip the first word's leading space
    c_hi = char_end0[tok_hi].tolist()
    return [chunk[a:b] for a, b in zip(c_lo, c_hi)]


def _iso(values: np.ndarray) -> list[str]:
    return np.datetime_as_string(values, unit="s").tolist()


Row = tuple[object, ...]


def _turn_rows(
    rng: np.random.Generator, vocab: _Vocab, plan: _Plan, session_ids: np.ndarray
) -> Iterator[list[Row]]:
    """Rows of the ``turns`` table, one list per chunk of ``CHUNK_TURNS`` turns."""
    n_turns = len(plan.n_words)
    pn_width = max(4, len(str(int(plan.session_len.max()))))
    role_names = np.array(ROLE_NAMES, dtype=object)
    for lo in range(0, n_turns, CHUNK_TURNS):
        hi = min(n_turns, lo + CHUNK_TURNS)
        texts = _texts(rng, vocab, plan, lo, hi)
        sids = session_ids[plan.session_of_turn[lo:hi]].tolist()
        pns = plan.prompt_num[lo:hi].tolist()
        roles = role_names[plan.role[lo:hi]].tolist()
        ts = np.array(_iso(plan.ts[lo:hi]), dtype=object)
        ts[plan.ts_null[lo:hi]] = None
        dates = np.datetime_as_string(plan.ts[lo:hi], unit="D").tolist()
        created = _iso(plan.created[lo:hi])
        turn_ids = [f"{s}-p{p:0{pn_width}d}" for s, p in zip(sids, pns)]
        paths = [f"{t}_{r}.txt" for t, r in zip(turn_ids, roles)]
        yield list(zip(turn_ids, sids, ts.tolist(), dates, pns, roles, texts, paths, created))


def _pipelined(chunks: Iterator[list[Row]], depth: int = 2) -> Iterator[list[Row]]:
    """Run ``chunks`` in a producer thread, ``depth`` chunks ahead of the consumer (numpy and
    SQLite release the GIL for much of their work, so generation overlaps with inserting). The
    order of the chunks, and so the output, is unchanged."""
    queue: Queue[tuple[str, object]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(("chunk", chunk)):
                    return
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
            put(("error", exc))

    worker = threading.Thread(target=produce, name="make_history-producer", daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = queue.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(payload, BaseException)
                raise payload
            yield payload  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.unlink()


def generate(
    out: str | os.PathLike[str], turns: int, sessions: int, seed: int, force: bool = False
) -> Summary:
    """Write a synthetic history to ``out`` and return a summary (raises ``ValueError`` on bad
    arguments, ``FileExistsError`` if ``out`` exists and ``force`` is false)."""
    if turns < 1:
        raise ValueError(f"--turns must be >= 1 (got {turns})")
    if sessions < 1:
        raise ValueError(f"--sessions must be >= 1 (got {sessions})")
    if sessions > turns:
        raise ValueError(
            f"--sessions ({sessions}) must not exceed --turns ({turns}): "
            "every session needs at least one turn"
        )
    if seed < 0:
        raise ValueError(f"--seed must be >= 0 (got {seed})")
    path = Path(out)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")

    t_start = time.perf_counter()
    rng = np.random.Generator(np.random.PCG64(seed))
    vocab = _build_vocab()
    plan = _plan(rng, turns, sessions)

    sid_width = max(6, len(str(sessions)))
    source_root = f"bench://seed-{seed}"
    session_ids = np.array(
        [f"bench-{plan.tag}-s{i:0{sid_width}d}" for i in range(sessions)], dtype=object
    )
    session_start = np.cumsum(plan.session_len) - plan.session_len
    session_rows = list(
        zip(
            session_ids.tolist(),
            np.datetime_as_string(plan.ts[session_start], unit="D").tolist(),
            [source_root] * sessions,
            _iso(plan.session_created),
        )
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    _remove_sidecars(tmp)
    if tmp.exists():
        tmp.unlink()
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.execute("PRAGMA locking_mode=EXCLUSIVE")
            con.execute("PRAGMA temp_store=MEMORY")
            con.execute("PRAGMA cache_size=-262144")
            con.execute("BEGIN")
            for ddl in SCHEMA:
                con.execute(ddl)
            con.executemany("INSERT INTO sessions VALUES (?,?,?,?)", session_rows)
            del session_rows
            for rows in _pipelined(_turn_rows(rng, vocab, plan, session_ids)):
                con.executemany("INSERT INTO turns VALUES (?,?,?,?,?,?,?,?,?)", rows)
            con.execute("COMMIT")
            con.execute("PRAGMA locking_mode=NORMAL")
            con.execute("PRAGMA journal_mode=DELETE")
        finally:
            con.close()
        if force:
            _remove_sidecars(path)
        os.replace(tmp, path)
    except BaseException:
        _remove_sidecars(tmp)
        tmp.unlink(missing_ok=True)
        raise
    return Summary(
        path=path,
        turns=turns,
        sessions=sessions,
        empty=int((plan.n_words == 0).sum()),
        lexicon_turns=int(((plan.k_general > 0) | (plan.k_crisis > 0)).sum()),
        crisis_turns=int((plan.k_crisis > 0).sum()),
        seconds=time.perf_counter() - t_start,
        bytes=path.stat().st_size,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.make_history",
        description="Write a deterministic synthetic Evoki history (SQLite) for benchmarks.",
    )
    parser.add_argument("--turns", type=int, required=True, help="number of turns (>= 1)")
    parser.add_argument("--sessions", type=int, required=True, help="number of sessions (<= turns)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="path of the SQLite file to write")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.out, args.turns, args.sessions, args.seed, force=args.force)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))  # exits with status 2
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
