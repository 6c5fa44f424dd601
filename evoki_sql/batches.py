"""Models built in batches: `config(batch_by='col', batch_source='model', batch_rows=N)`.

Some queries hold too much at once when the history grows: a join of many wide tables keeps
a hash table of each in memory, whatever DuckDB's memory_limit. A batched model is built in
consecutive ascending ranges of `batch_by`, each holding about `batch_rows` rows of
`batch_source` (a range never splits one value of the column). Inside the model, ref() of
`batch_source` and of every model partitioned or batched by the same column reads only the
current range: the filter reaches DuckDB's table scans, so each batch's joins, sorts and
expressions hold one batch's rows, and memory no longer grows with the history.

The range lives in two DuckDB variables that the materialization sets before each batch's
statement (low inclusive, high exclusive; unset means open, and the last range also takes
NULL keys, which sort last). The first batch creates the relation, the next ones insert into
it: a model ordered by `batch_by` keeps its order across batches. The compiled SQL in target/compiled
runs whole when the variables are unset.

The contract is the one of partitioned models: a row of the result may only depend on input
rows of the same `batch_by` value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOW = "evoki_batch_low"
HIGH = "evoki_batch_high"
DEFAULT_ROWS = 250_000


@dataclass(frozen=True)
class BatchPlan:
    """How one batched model runs: the quoted key column, the relation its rows are counted
    in (as the model reads it: a partition view in a partitioned run) and the batch size."""

    key: str
    source: str
    rows: int


def predicate(key: str) -> str:
    """True for a row whose `key` lies in the current batch range."""
    low, high = f"getvariable('{LOW}')", f"getvariable('{HIGH}')"
    return (
        f"({low} is null or {key} >= {low} or ({key} is null and {high} is null)) "
        f"and ({high} is null or {key} < {high})"
    )


def filtered(relation: str, key: str) -> str:
    """`relation` narrowed to the current batch range, as a subquery ref() can render."""
    return f"(select * from {relation} where {predicate(key)})"


def ranges(con: Any, plan: BatchPlan) -> list[tuple[Any, Any]]:
    """Ascending half-open ranges [low, high) of the key that together cover every value
    (None: open), each holding about `plan.rows` rows of the source. One range when the
    source holds no more than that."""
    counts = con.execute(
        f"select {plan.key}, count(*) from {plan.source} where {plan.key} is not null "
        f"group by all order by 1"
    ).fetchall()
    cuts: list[Any] = []
    held = 0
    for value, rows in counts:
        if held >= plan.rows:
            cuts.append(value)
            held = 0
        held += rows
    return list(zip([None, *cuts], [*cuts, None], strict=True))


def set_range(con: Any, low: Any, high: Any) -> None:
    """Point the batch variables at [low, high)."""
    for name, value in ((LOW, low), (HIGH, high)):
        if value is None:
            con.execute(f"reset variable {name}")
        else:
            con.execute(f"set variable {name} = ?", [value])


def clear(con: Any) -> None:
    """Unset the batch variables (the model's SQL then reads everything)."""
    set_range(con, None, None)
