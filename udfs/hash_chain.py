"""The per-session SHA-256 state chain of m113_hash_state (METRICS.md, block m113).

One call row = one whole session, its turns in engine order (ENGINE §0; the SQL side
aggregates `list(x order by turn_idx)` per session). For every turn:

    text_hash = hex(SHA-256(UTF-8(nfc(text))))                 -- NULL text -> ''
    prev_hex  = hex of the previous turn of the session, '0' * 64 for the first turn
    state     = prev_hex|session_id|turn_id|position|role|text_hash
    hex       = hex(SHA-256(UTF-8(state)))                     -- lowercase
    value     = int(hex[:13], 16) / 2**52                      -- in [0, 1), exact in a double

`position` is the raw prompt_num written as a base-10 integer ('' when NULL), `role` the
normalised role ('assistant' -> 'ai'); the SQL side passes both already formatted. The
result depends only on the session's own rows, never on how DuckDB batches sessions, and
any change to an earlier turn changes every later hex of the session.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import pyarrow as pa

from evoki_sql import udf
from udfs._text import nfc

GENESIS = "0" * 64
_SCALE = float(2**52)

CHAIN_TYPE = pa.list_(
    pa.struct(
        [
            pa.field("turn_id", pa.string()),
            pa.field("hash_state_hex", pa.string()),
            pa.field("hash_state", pa.float64()),
        ]
    )
)


def text_hash(text: str | None) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes of nfc(text); NULL text hashes ''."""
    return hashlib.sha256(nfc(text).encode("utf-8")).hexdigest()


def hex_value(hex_digest: str) -> float:
    """The float fingerprint of a hex digest: its first 13 hex digits (52 bits) / 2**52."""
    return int(hex_digest[:13], 16) / _SCALE


def chain_step(
    prev_hex: str, session_id: str, turn_id: str, position: str, role: str, text: str | None
) -> str:
    """One link of the chain: the hex state of a turn given the previous turn's hex."""
    state = "|".join((prev_hex, session_id, turn_id, position, role, text_hash(text)))
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def position_str(prompt_num: int | None) -> str:
    """The raw prompt_num as a base-10 integer without padding; NULL -> ''."""
    return "" if prompt_num is None else str(int(prompt_num))


def session_chain(
    session_id: str,
    turn_ids: Sequence[str],
    positions: Sequence[str | None],
    roles: Sequence[str | None],
    texts: Sequence[str | None],
) -> list[tuple[str, str, float]]:
    """(turn_id, hex, value) for every turn of one session, given in engine order."""
    if len(texts) != len(turn_ids):
        raise ValueError("hash_chain: the per-session lists differ in length")
    return session_chain_hashed(
        session_id, turn_ids, positions, roles, [text_hash(t) for t in texts]
    )


def session_chain_hashed(
    session_id: str,
    turn_ids: Sequence[str],
    positions: Sequence[str | None],
    roles: Sequence[str | None],
    text_hashes: Sequence[str],
) -> list[tuple[str, str, float]]:
    """session_chain with each text already reduced to text_hash(text)."""
    n = len(turn_ids)
    if not (len(positions) == len(roles) == len(text_hashes) == n):
        raise ValueError("hash_chain: the per-session lists differ in length")
    out: list[tuple[str, str, float]] = []
    prev = GENESIS
    for turn_id, position, role, digest in zip(turn_ids, positions, roles, text_hashes):
        state = "|".join((prev, session_id, turn_id, position or "", role or "", digest))
        prev = hashlib.sha256(state.encode("utf-8")).hexdigest()
        out.append((turn_id, prev, hex_value(prev)))
    return out


@udf(
    args=["VARCHAR", "VARCHAR[]", "VARCHAR[]", "VARCHAR[]", "VARCHAR[]"],
    returns="STRUCT(turn_id VARCHAR, hash_state_hex VARCHAR, hash_state DOUBLE)[]",
    vectorized="arrow",
)
def hash_chain(
    session_ids: pa.Array,
    turn_ids: pa.Array,
    positions: pa.Array,
    roles: pa.Array,
    texts: pa.Array,
) -> pa.Array:
    """Per session row: the m113 chain of its turns (lists in engine order, equal lengths)."""
    result: list[list[dict[str, object]] | None] = []
    for sid, tids, pos, rls, txt in zip(
        session_ids.to_pylist(),
        turn_ids.to_pylist(),
        positions.to_pylist(),
        roles.to_pylist(),
        texts.to_pylist(),
    ):
        if sid is None or tids is None:
            raise ValueError("hash_chain: session_id and turn_ids must not be NULL")
        chain = session_chain(sid, tids, pos or [], rls or [], txt or [])
        result.append([{"turn_id": t, "hash_state_hex": h, "hash_state": v} for t, h, v in chain])
    return pa.array(result, type=CHAIN_TYPE)


@udf(args=["VARCHAR"], returns="VARCHAR", vectorized="arrow")
def text_sha256(texts: pa.Array) -> pa.Array:
    """Per row: text_hash(text), so that a session's chain needs 64 characters per turn, not
    its whole text (feat_hash_chain aggregates these per session)."""
    return pa.array([text_hash(t) for t in texts.to_pylist()], type=pa.string())


@udf(
    args=["VARCHAR", "VARCHAR"],
    returns="STRUCT(turn_id VARCHAR, hash_state_hex VARCHAR, hash_state DOUBLE)[]",
    vectorized="arrow",
)
def hash_chain_packed(session_ids: pa.Array, packed: pa.Array) -> pa.Array:
    """hash_chain with each session's turns packed into one text: one JSON array
    [turn_id, position, role, text_hash] per turn, in engine order, joined by newlines (JSON
    escapes a newline inside a string, so the packing is unambiguous), the texts already
    reduced to text_sha256(text). Same result as hash_chain. Why: DuckDB 1.5.5 runs out of memory handing 2M turns as four
    VARCHAR[] lists per session to a UDF under a 4GB cap; one VARCHAR per session does not."""
    result: list[list[dict[str, object]]] = []
    for sid, text in zip(session_ids.to_pylist(), packed.to_pylist()):
        if sid is None or text is None:
            raise ValueError("hash_chain: session_id and the packed turns must not be NULL")
        records = [json.loads(line) for line in text.split("\n")]
        if any(
            not isinstance(r, list) or len(r) != 4 or r[0] is None or r[3] is None for r in records
        ):
            raise ValueError("hash_chain: a packed turn is not [turn_id, position, role, hash]")
        tids = [r[0] for r in records]
        chain = session_chain_hashed(
            sid, tids, [r[1] for r in records], [r[2] for r in records], [r[3] for r in records]
        )
        result.append([{"turn_id": t, "hash_state_hex": h, "hash_state": v} for t, h, v in chain])
    return pa.array(result, type=CHAIN_TYPE)
