"""udf:a_phys: A_Phys V11 with the deterministic backfill of ENGINE §3.1-§3.4, and the embedding
context cosines of METRICS P-5 (udf:emb_context) from the same pass.

One call row = one whole session: the SQL side aggregates the session's turns (turn_idx,
turn_id, role, packed embedding, flags) into one list, and the UDF puts them in engine order by
turn_idx itself. Per turn t with vector v_t = emb(text_t) (ENGINE §3.2, passed packed from
feat_embedding) and the phase-1 flags is_f_turn and rag_safe_mode:

    M(t) = the last 10 earlier turns of the session with v_j != 0 (any role); r_j = 0.3 if j is an
           F-turn, else 1.0
    F(t) = the 25 static centres emb(term) of Suicide then Self_harm (lexika order), then v_j of the
           last 10 earlier F-turns with v_j != 0, in turn order; ids 'lex:<lexicon>:<term>' and
           'turn:<turn_id>'
    R = sum_{j in M(t)} r_j max(0, cos(v_t, v_j))              (in turn order)
    D = sum_{f in F(t)} exp(-5 max(0, 1 - cos(v_t, v_f)))      (in F(t) order)
    A_phys_raw = 1.0 R - 1.5 D;  A_phys = sigma(A_phys_raw), evaluated as e^x / (1 + e^x) for x < 0
    a29_max_sim = max_f cos(v_t, v_f); a29_id = first centre (F(t) order) reaching it;
    a29_trip = [a29_max_sim > 0.85]

A turn with v_t = 0 has no physics (§3.4): physics_available = 0, a_phys NULL (m15 falls back to
m29), a_phys_raw = resonance = danger = a29_max_sim = 0, a29_trip = 0, a29_id NULL; it is never a
memory or a centre. n_active_memories = |M(t)| and n_danger_centres = |F(t)| are reported for every
turn (they do not depend on v_t).

The context cosines (cos_prev, rag_align, relevance, coherence, novelty, topic_shift) are
defined in udfs.embedding.context_from_dots. Both families need exact dot products between turns
of a session; one triangular pass (udfs.embedding.session_dots) serves them: the novelty of m159
needs every earlier turn anyway, and the memories, the dynamic centres, the partner turn and the
latest same-role turn are all earlier turns of the session.

Cosines are the exact integer cosines of udfs.embedding (clamped to [-1, 1] against the last ulp).
Sessions are independent and every per-turn reduction runs over fixed-width arrays in a fixed
order, so no value depends on how DuckDB batches the sessions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa

import udfs.embedding as E
from evoki_sql import udf

LAMBDA_R = 1.0
LAMBDA_D = 1.5
K_FACTOR = 5.0
A29_DANGER_THRESHOLD = 0.85
#: memory category weights (Book 6 SEARCH_WEIGHTS F and C)
WEIGHT_F = 0.3
WEIGHT_C = 1.0
#: W = A66 HISTORY_WINDOW: memories, and dynamic danger centres
MEMORY_WINDOW = 10
DYNAMIC_CENTRES = 10

A_PHYS_FIELDS: list[pa.Field] = [
    pa.field("turn_id", pa.string()),
    pa.field("physics_available", pa.int32()),
    pa.field("a_phys", pa.float64()),
    pa.field("a_phys_raw", pa.float64()),
    pa.field("resonance", pa.float64()),
    pa.field("danger", pa.float64()),
    pa.field("a29_trip", pa.int32()),
    pa.field("a29_max_sim", pa.float64()),
    pa.field("a29_id", pa.string()),
    pa.field("n_active_memories", pa.int32()),
    pa.field("n_danger_centres", pa.int32()),
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), evaluated as e^x / (1 + e^x) for x < 0 (no overflow, no NaN)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


@lru_cache(maxsize=8)
def static_centres(centres: str) -> tuple[tuple[str, ...], E.Sparse]:
    """Parse 'lex:<lexicon>:<term>' ids (one per line) and embed each term: (ids, vectors)."""
    ids = tuple(line for line in centres.split("\n") if line)
    terms = []
    for cid in ids:
        parts = cid.split(":", 2)
        if len(parts) != 3 or parts[0] != "lex" or not parts[2]:
            raise ValueError("a_phys: danger centre ids must read 'lex:<lexicon>:<term>'")
        terms.append(parts[2])
    vectors, _ = E.embed_texts(terms)
    if len(ids) and (vectors.norm2() == 0).any():
        raise ValueError("a_phys: a danger centre term has no tokens (zero vector)")
    return ids, vectors


def a_phys_pairs(batch: E.Batch, is_f_turn: np.ndarray) -> tuple[np.ndarray, ...]:
    """The (k, j) pairs of every compressed row k with its dynamic centres j (the last
    DYNAMIC_CENTRES earlier non-zero F-turns of its session) and each pair's slot 0..9 in F(t)
    after the static centres (oldest first)."""
    k = np.arange(batch.z.n)
    row_f = np.asarray(is_f_turn, dtype=bool)[batch.comp_turn]
    f_rows = np.flatnonzero(row_f)  # compressed rows of non-zero F-turns, in order
    p = np.searchsorted(f_rows, k)  # F rows before k (batch-wide)
    p0 = np.searchsorted(f_rows, batch.comp_start)  # F rows before k's session
    count = np.minimum(p - p0, DYNAMIC_CENTRES)
    slot_k, slot_j, slot_s = [], [], []
    for s in range(DYNAMIC_CENTRES):
        # slot s holds the (count - s)-th latest F row before k, so slots run oldest first
        use = s < count
        slot_k.append(k[use])
        slot_j.append(f_rows[p[use] - count[use] + s])
        slot_s.append(np.full(int(use.sum()), s))
    return np.concatenate(slot_k), np.concatenate(slot_j), np.concatenate(slot_s)


def a_phys_from_dots(
    batch: E.Batch,
    is_f_turn: np.ndarray,
    n_static: int,
    centre_norm2: np.ndarray,
    dots: E.SessionDots,
    pairs: tuple[np.ndarray, ...],
    pair_dots: np.ndarray,
) -> dict[str, np.ndarray]:
    """A_Phys per turn (see the module docstring) from the session pass; arrays of length n.

    `a29_ref` holds the closest centre: j < n_static for static centre j, or n_static + t for
    the dynamic centre of turn t (-1 without physics).
    """
    n = batch.vectors.n
    m = batch.z.n
    comp = batch.comp_turn
    zn = batch.zn
    k = np.arange(m)
    is_f = np.asarray(is_f_turn, dtype=bool)

    # |M(t)| and |F(t)| for every turn: non-zero (F-)turns earlier in the session
    nz_in_session = batch.nz_before - batch.nz_before[batch.start]
    f_nz = (batch.nonzero & is_f).astype(np.int64)
    f_before = np.cumsum(f_nz) - f_nz
    f_in_session = f_before - f_before[batch.start]
    out = {
        "physics_available": batch.nonzero.astype(np.int32),
        "a_phys": np.full(n, np.nan),
        "a_phys_raw": np.zeros(n),
        "resonance": np.zeros(n),
        "danger": np.zeros(n),
        "a29_trip": np.zeros(n, dtype=np.int32),
        "a29_max_sim": np.zeros(n),
        "a29_ref": np.full(n, -1, dtype=np.int64),
        "n_active_memories": np.minimum(nz_in_session, MEMORY_WINDOW).astype(np.int32),
        "n_danger_centres": (n_static + np.minimum(f_in_session, DYNAMIC_CENTRES)).astype(np.int32),
    }
    if m == 0:
        return out
    band = dots.band

    # resonance over the memories, oldest first
    row_f = is_f[comp]
    resonance = np.zeros(m)
    for d in range(MEMORY_WINDOW, 0, -1):
        j = k - d
        use = j >= batch.comp_start
        cos = np.zeros(m)
        cos[use] = np.clip(E.cos_from_dots(band[use, d], zn[use], zn[j[use]]), -1.0, 1.0)
        weight = np.where(row_f[np.maximum(j, 0)], WEIGHT_F, WEIGHT_C)
        resonance = resonance + np.where(use, weight * np.maximum(0.0, cos), 0.0)

    # cosines to F(t): static centres, then the dynamic ones (oldest first)
    width = n_static + DYNAMIC_CENTRES
    cos_f = np.zeros((m, width))
    valid = np.zeros((m, width), dtype=bool)
    ref = np.full((m, width), -1, dtype=np.int64)
    if n_static:
        cos_f[:, :n_static] = np.clip(
            E.cos_from_dots(dots.extra, zn[:, None], centre_norm2[None, :]), -1.0, 1.0
        )
        valid[:, :n_static] = True
        ref[:, :n_static] = np.arange(n_static)[None, :]
    pk, pj, slot = pairs
    if len(pk):
        pc = n_static + slot
        cos_f[pk, pc] = np.clip(E.cos_from_dots(pair_dots, zn[pk], zn[pj]), -1.0, 1.0)
        valid[pk, pc] = True
        ref[pk, pc] = n_static + comp[pj]

    danger = np.zeros(m)
    for c in range(width):
        term = np.exp(-K_FACTOR * np.maximum(0.0, 1.0 - cos_f[:, c]))
        danger = danger + np.where(valid[:, c], term, 0.0)
    masked = np.where(valid, cos_f, -np.inf)
    best = np.argmax(masked, axis=1)  # first centre reaching the maximum
    has_centre = valid.any(axis=1)
    max_sim = np.where(has_centre, masked[k, best], 0.0)

    raw = LAMBDA_R * resonance - LAMBDA_D * danger
    out["a_phys"][comp] = sigmoid(raw)
    out["a_phys_raw"][comp] = raw
    out["resonance"][comp] = resonance
    out["danger"][comp] = danger
    out["a29_max_sim"][comp] = max_sim
    out["a29_trip"][comp] = (has_centre & (max_sim > A29_DANGER_THRESHOLD)).astype(np.int32)
    out["a29_ref"][comp] = np.where(has_centre, ref[k, best], -1)
    return out


def physics_batch(
    batch: E.Batch,
    roles: np.ndarray,
    is_f_turn: np.ndarray,
    rag_safe_mode: np.ndarray,
    centre_ids: tuple[str, ...],
    centres: E.Sparse,
) -> dict[str, np.ndarray]:
    """A_Phys and the P-5 context cosines per turn for whole sessions, from one session pass."""
    f_pairs = a_phys_pairs(batch, is_f_turn)
    ck, cj, n_partner = E.context_pairs(batch, roles)
    dots = E.session_dots(
        batch.z,
        batch.comp_start,
        E.WINDOW,
        np.concatenate([f_pairs[0], ck]),
        np.concatenate([f_pairs[1], cj]),
        centres if len(centre_ids) else None,
    )
    n_f = len(f_pairs[0])
    out = a_phys_from_dots(
        batch, is_f_turn, len(centre_ids), centres.norm2(), dots, f_pairs, dots.pairs[:n_f]
    )
    context_dots = E.SessionDots(dots.band, dots.max_cos, dots.pairs[n_f:], dots.extra)
    out.update(
        E.context_from_dots(batch, is_f_turn, rag_safe_mode, context_dots, ck, cj, n_partner)
    )
    return out


def a_phys_batch(
    batch: E.Batch, is_f_turn: np.ndarray, centre_ids: tuple[str, ...], centres: E.Sparse
) -> dict[str, np.ndarray]:
    """A_Phys alone per turn for whole sessions (see `a_phys_from_dots`)."""
    pairs = a_phys_pairs(batch, is_f_turn)
    dots = E.session_dots(
        batch.z,
        batch.comp_start,
        MEMORY_WINDOW,
        pairs[0],
        pairs[1],
        centres if len(centre_ids) else None,
    )
    return a_phys_from_dots(
        batch, is_f_turn, len(centre_ids), centres.norm2(), dots, pairs, dots.pairs
    )


def a29_ids(ref: np.ndarray, centre_ids: tuple[str, ...], turn_ids: list[str]) -> list[str | None]:
    """Ids of the closest centres: static ids, 'turn:<turn_id>' for dynamic ones, None for -1."""
    n_static = len(centre_ids)
    return [
        None if r < 0 else (centre_ids[r] if r < n_static else f"turn:{turn_ids[r - n_static]}")
        for r in ref.tolist()
    ]


PHYSICS_FIELDS = A_PHYS_FIELDS + E.CONTEXT_FIELDS
PHYSICS_SQL_TYPE = (
    "STRUCT(turn_id VARCHAR, physics_available INTEGER, a_phys DOUBLE, a_phys_raw DOUBLE, "
    "resonance DOUBLE, danger DOUBLE, a29_trip INTEGER, a29_max_sim DOUBLE, a29_id VARCHAR, "
    "n_active_memories INTEGER, n_danger_centres INTEGER, cos_prev DOUBLE, rag_align DOUBLE, "
    "relevance DOUBLE, coherence DOUBLE, novelty DOUBLE, topic_shift INTEGER)[]"
)


TURN_SQL_TYPE = (
    "STRUCT(turn_idx BIGINT, turn_id VARCHAR, role VARCHAR, emb BLOB, is_f_turn INTEGER, "
    "rag_safe_mode INTEGER)[]"
)


@udf(args=[TURN_SQL_TYPE, "VARCHAR"], returns=PHYSICS_SQL_TYPE)
def a_phys(turns: pa.Array, centres: pa.Array) -> pa.Array:
    """One row per session -> one list of per-turn structs, in turn order.

    `turns` holds the session's turns in any order (the UDF sorts them by turn_idx, which must
    be unique within the session; the SQL side needs no ORDER BY). `centres` is the
    newline-joined list of static centre ids 'lex:<lexicon>:<term>' in F(t) order (the same
    value on every row).
    """
    centre_values = E.combined(centres)
    E.require_no_nulls(centre_values, "centres")
    groups = centre_values.to_pylist()
    distinct = list(dict.fromkeys(groups))
    turns = E.combined(turns)
    if len(distinct) > 1:
        # sessions are independent: evaluate each group of rows with its own centre list
        pieces, order = [], []
        for value in distinct:
            rows = [i for i, g in enumerate(groups) if g == value]
            pieces.append(_physics_rows(turns.take(pa.array(rows, pa.int64())), value))
            order.extend(rows)
        merged = pa.concat_arrays(pieces)
        return merged.take(pa.array(np.argsort(np.array(order, dtype=np.int64), kind="stable")))
    return _physics_rows(turns, distinct[0] if distinct else "")


def _physics_rows(turns: pa.Array, centres: str) -> pa.Array:
    off, child = E.list_parts(turns, "turns")
    E.require_no_nulls(child, "turn")
    fields = dict(zip([f.name for f in child.type], child.flatten()))
    turn_idx = np.asarray(_field(fields, "turn_idx").to_numpy(zero_copy_only=False), np.int64)
    session = np.repeat(np.arange(len(off) - 1), np.diff(off))
    order = np.lexsort((turn_idx, session))
    if (np.diff(turn_idx[order])[np.diff(session) == 0] == 0).any():
        raise ValueError("a_phys: turn_idx repeats within a session")
    sorted_already = bool((order == np.arange(len(order))).all())
    take = None if sorted_already else pa.array(order, pa.int64())

    def column(name: str) -> pa.Array:
        values = _field(fields, name)
        return values if take is None else values.take(take)

    vectors = E.unpack(column("emb"))
    ids = column("turn_id").to_pylist()
    role = E.role_codes(column("role").to_pylist())
    flags = {
        name: np.asarray(column(name).to_numpy(zero_copy_only=False)) != 0
        for name in ("is_f_turn", "rag_safe_mode")
    }
    centre_ids, centre_vectors = static_centres(centres)
    out = physics_batch(
        E.Batch(vectors, off),
        role,
        flags["is_f_turn"],
        flags["rag_safe_mode"],
        centre_ids,
        centre_vectors,
    )
    no_physics = out["physics_available"] == 0
    numbers = [out[f.name] for f in PHYSICS_FIELDS if f.type == pa.float64() and f.name != "a_phys"]
    if (
        not all(np.isfinite(x).all() for x in numbers)
        or not np.isfinite(out["a_phys"][~no_physics]).all()
    ):
        raise ValueError("a_phys: non-finite value (this is a bug, not a data problem)")
    out["turn_id"] = ids
    out["a_phys"] = pa.array(out["a_phys"], pa.float64(), mask=no_physics)
    out["a29_id"] = a29_ids(out["a29_ref"], centre_ids, ids)
    return E.per_session_lists(off, PHYSICS_FIELDS, [out[f.name] for f in PHYSICS_FIELDS])


def _field(fields: dict[str, pa.Array], name: str) -> pa.Array:
    if name not in fields:
        raise ValueError(f"a_phys: the turn structs lack the field {name!r}")
    E.require_no_nulls(fields[name], name)
    return fields[name]
