"""Checks rendered SQL (DuckDB's parser first, sqlglot to explain an error) and reports
errors at the source line."""

from __future__ import annotations

import re
from typing import Any

from evoki_sql.errors import CompilationError


def parse_sql(sql: str) -> Any:
    """The sqlglot expressions of the SQL, or the sqlglot ParseError."""
    import sqlglot

    return sqlglot.parse(sql, read="duckdb")


def check(
    sql: str, raw: str, rel_path: str, compiled_rel: str, con: Any | None = None
) -> list[Any]:
    """Check that `sql` is exactly one statement; on a syntax error raise with file, line,
    column, the line and what is wrong (sqlglot's description when it has one, else DuckDB's).

    The position is mapped back to the source file when the offending line appears there
    verbatim; otherwise it is given in the compiled file under target/compiled/.
    """
    from sqlglot.errors import ParseError, TokenError

    if con is not None:
        # the fast path: DuckDB's own parser (C++) accepts it as exactly one statement; sqlglot,
        # about a hundred times slower, is only needed to explain an error
        statements = _duckdb_statements(con, sql)
        if statements == 1:
            return []
    try:
        expressions = [e for e in parse_sql(sql) if e is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line = int(first.get("line") or 1)
        highlight = str(first.get("highlight") or "")
        col = max(1, int(first.get("col") or 1) - len(highlight) + 1)
        description = str(first.get("description") or "syntax error")
        raise _located(sql, raw, rel_path, compiled_rel, line, col, description) from None
    except TokenError as exc:
        raise CompilationError(f"SQL syntax error: {exc}", path=rel_path) from None
    if not expressions:
        raise CompilationError("the model renders to no SQL statement", path=rel_path)
    if con is not None:
        _check_with_duckdb(con, sql, raw, rel_path, compiled_rel)
    if len(expressions) > 1:
        raise CompilationError(
            f"a model must be exactly one select statement (found {len(expressions)} statements)",
            path=rel_path,
        )
    return expressions


def _duckdb_statements(con: Any, sql: str) -> int | None:
    """The number of statements DuckDB parses from `sql`, or None when it does not parse."""
    import duckdb

    try:
        return len(con.extract_statements(sql))
    except duckdb.Error:
        return None


_REQUIRED = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>")


_DUCK_LINE = re.compile(r"^LINE (\d+): ?(.*)$")


def _check_with_duckdb(con: Any, sql: str, raw: str, rel_path: str, compiled_rel: str) -> None:
    """DuckDB's own parser has the last word: sqlglot accepts some SQL that DuckDB rejects."""
    import duckdb

    try:
        con.extract_statements(sql)
    except duckdb.ParserException as exc:
        lines = str(exc).splitlines()
        message = lines[0].replace("Parser Error: ", "") if lines else "syntax error"
        line, col = len(sql.splitlines()) or 1, 1
        for i, text in enumerate(lines):
            match = _DUCK_LINE.match(text)
            if match and i + 1 < len(lines):
                line = int(match.group(1))
                prefix = len(f"LINE {match.group(1)}: ")
                col = max(1, lines[i + 1].index("^") - prefix + 1) if "^" in lines[i + 1] else 1
                break
        if "end of input" in message:
            last = (sql.splitlines() or [""])[-1]
            col = max(1, len(last))
        raise _located(sql, raw, rel_path, compiled_rel, line, col, message) from None


def _describe(description: str) -> str:
    """sqlglot's message, without its Python class names."""
    match = _REQUIRED.search(description)
    if match:
        return f"incomplete {match.group(2)} expression (its {match.group(1)} is missing)"
    return description


def _map_to_source(
    sql_lines: list[str], raw_lines: list[str], line: int, col: int
) -> tuple[int, int, str] | None:
    """(line, col, text) of the error in the source file, when it can be found there."""
    offending = sql_lines[line - 1]
    exact = [i for i, text in enumerate(raw_lines, 1) if text == offending]
    if len(exact) == 1:
        return exact[0], col, offending
    if len(raw_lines) == len(sql_lines):
        raw_line = raw_lines[line - 1]
        suffix = offending[col - 1 :]
        at = raw_line.rfind(suffix) if suffix else len(raw_line)
        if at >= 0:
            return line, at + 1, raw_line
    return None


def _located(
    sql: str, raw: str, rel_path: str, compiled_rel: str, line: int, col: int, description: str
) -> CompilationError:
    lines = sql.splitlines() or [""]
    line = min(max(line, 1), len(lines))
    mapped = _map_to_source(lines, raw.splitlines(), line, col) if raw else None
    if mapped is not None:
        path, (shown_line, col, offending) = rel_path, mapped
    else:
        path, shown_line, offending = compiled_rel, line, lines[line - 1]
    description = _describe(description)
    pointer = " " * (col - 1) + "^"
    detail = f"  {offending}\n  {pointer}"
    where = "" if path == rel_path else f" (rendered from {rel_path})"
    return CompilationError(
        f"SQL syntax error: {description}{where}",
        path=path,
        line=shown_line,
        col=col,
        detail=detail,
    )
