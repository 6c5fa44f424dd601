"""Loads seed CSV files into tables, with declared column types; bad CSVs name file and line."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from evoki_sql.errors import NodeFailure
from evoki_sql.relation import quote_ident, quote_literal


def check_csv(path: Path, rel_path: str) -> list[str]:
    """The header of a well-formed CSV; a ragged row or bad quoting names its line."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, None)
            if not header:
                raise NodeFailure(f"{rel_path}:1: seed file is empty (a header row is needed)")
            if len(set(header)) != len(header):
                raise NodeFailure(f"{rel_path}:1: duplicate column names in the header")
            if any(not h.strip() for h in header):
                raise NodeFailure(f"{rel_path}:1: empty column name in the header")
            start = reader.line_num
            for row in reader:
                if len(row) != len(header):
                    raise NodeFailure(
                        f"{rel_path}:{start + 1}: expected {len(header)} fields, found {len(row)}"
                    )
                start = reader.line_num
    except csv.Error as exc:
        raise NodeFailure(f"{rel_path}:{start + 1}: malformed CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise NodeFailure(f"{rel_path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return header


def _bad_value(
    con: Any, source: str, path: Path, rel_path: str, column: str, type_name: str
) -> str | None:
    """The first value of the column that does not cast to its type, named by CSV line."""
    row = con.execute(
        f"select {quote_ident(column)} from {source} where {quote_ident(column)} is not null "
        f"and try_cast({quote_ident(column)} as {type_name}) is null limit 1"
    ).fetchone()
    if row is None:
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        line = 1
        for record in reader:
            if record.get(column) == row[0]:
                break
            line = reader.line_num
        shown = row[0] if len(row[0]) <= 40 else row[0][:37] + "..."
    return f"{rel_path}:{line + 1}: {shown!r} in column '{column}' is not a {type_name}"


def load_seed(
    con: Any, path: Path, rel_path: str, relation: str, column_types: dict[str, str]
) -> tuple[int, list[str]]:
    """Replace the seed's table with the CSV's rows; returns the row count and statements."""
    header = check_csv(path, rel_path)
    for col, type_name in column_types.items():
        try:
            con.sqltype(str(type_name))
        except Exception:  # noqa: BLE001 - any parser error means an unknown type
            raise NodeFailure(
                f"{rel_path}: column_types: '{type_name}' (column '{col}') is not a DuckDB type"
            ) from None
    unknown = [c for c in column_types if c not in header]
    if unknown:
        raise NodeFailure(
            f"{rel_path}: column_types names columns not in the CSV: {', '.join(unknown)}"
        )
    source = (
        f"read_csv({quote_literal(str(path))}, header = true, all_varchar = true, "
        "delim = ',', quote = '\"', escape = '\"', strict_mode = true)"
    )
    inferred = con.execute(
        f"describe select * from read_csv({quote_literal(str(path))}, header = true, "
        "delim = ',', quote = '\"', escape = '\"')"
    ).fetchall()
    types = {r[0]: r[1] for r in inferred}
    selects = []
    for col in header:
        type_name = column_types.get(col) or types.get(col, "varchar")
        error = _bad_value(con, source, path, rel_path, col, type_name)
        if error:
            raise NodeFailure(error)
        selects.append(f"cast({quote_ident(col)} as {type_name}) as {quote_ident(col)}")
    statement = (
        f"create or replace table {relation} as\nselect\n    "
        + ",\n    ".join(selects)
        + f"\nfrom {source}"
    )
    con.execute("begin transaction")
    try:
        row = con.execute(statement).fetchone()
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return (int(row[0]) if row else 0), [statement]
