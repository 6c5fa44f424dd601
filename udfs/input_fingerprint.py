"""The input fingerprint of a turn: a SHA-256 chain over its session up to and including it.

A turn's metrics read its own row and the earlier turns of its session (previous turn, same
role, partner, running sums and windows), never a later turn. So the inputs that produced a
turn's FullSpectrum168 row are the session's rows up to that turn in engine order. The SQL
side hashes each turn's input fields into one record digest; this UDF chains them:

    fp_0 = '0' * 64
    fp_i = hex(SHA-256(fp_{i-1} | record_i))

Any change to an earlier turn (text, role, order, timestamp, a turn inserted before it)
changes the fingerprint of every later turn of the session, and nothing else does. The write
back adds the project's code version on top, so a changed model or seed changes it too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pyarrow as pa

from evoki_sql import udf

GENESIS = "0" * 64


def prefix_chain(records: Sequence[str]) -> list[str]:
    """The chained digests of one session's record digests, given in engine order."""
    out: list[str] = []
    prev = GENESIS
    for record in records:
        if record is None:
            raise ValueError("input_fingerprint: a record digest is NULL")
        prev = hashlib.sha256(f"{prev}|{record}".encode("ascii")).hexdigest()
        out.append(prev)
    return out


@udf(args=["VARCHAR[]"], returns="VARCHAR[]", vectorized="arrow")
def input_fingerprint(records: pa.Array) -> pa.Array:
    """Per session row: the chained fingerprints of its record digests (same order)."""
    result: list[list[str]] = []
    for session_records in records.to_pylist():
        if session_records is None:
            raise ValueError("input_fingerprint: the record list is NULL")
        result.append(prefix_chain(session_records))
    return pa.array(result, type=pa.list_(pa.string()))
