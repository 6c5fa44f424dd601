"""What a docs section can read: the manifest, the graph, the target's database (read-only),
the JSON artifacts under target/, one-level column lineage, and notes for the model list."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evoki_sql.docs.column_inputs import ColumnInputs


@dataclass
class DocsContext:
    """Handed to every docs section; `con` is a read-only DuckDB connection."""

    manifest: Any
    graph: Any
    target: Any
    target_path: Path
    con: Any
    include_text: bool
    variables: dict[str, Any] = field(default_factory=dict)
    model_notes: dict[str, list[str]] = field(default_factory=dict)
    _relations: dict[str, dict[str, str]] | None = None

    # -- artifacts -----------------------------------------------------------
    def artifact(self, name: str) -> dict[str, Any] | None:
        """A JSON file under target/ (run_results.json, manifest.json, a report), or None."""
        path = self.target_path / name
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # -- the database --------------------------------------------------------
    def _tables(self) -> dict[str, dict[str, str]]:
        """{lower-case relation name: {lower-case column: column}} of the main schema."""
        if self._relations is None:
            rows = self.con.execute(
                "select table_name, column_name from information_schema.columns "
                "where table_schema = 'main' and table_catalog = current_database() "
                "order by table_name, ordinal_position"
            ).fetchall()
            found: dict[str, dict[str, str]] = {}
            for table, column in rows:
                found.setdefault(str(table).lower(), {})[str(column).lower()] = str(column)
            self._relations = found
        return self._relations

    def node(self, name: str) -> Any | None:
        """The model or seed node of that name, or None."""
        uid = self.manifest.by_name.get(name)
        return self.manifest.nodes.get(uid) if uid else None

    def relation(self, name: str) -> str | None:
        """The relation of a model or seed when the database holds it, else None."""
        node = self.node(name)
        if node is None or node.relation is None:
            return None
        rel = node.relation
        if (
            rel.database is None
            and rel.schema == "main"
            and rel.identifier.lower() not in self._tables()
        ):
            return None
        return str(node.relation)

    def columns(self, name: str) -> list[str]:
        """The columns of a model or seed as built in the database (empty when absent)."""
        node = self.node(name)
        if node is None or node.relation is None:
            return []
        return list(self._tables().get(node.relation.identifier.lower(), {}).values())

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    # -- lineage -------------------------------------------------------------
    def column_inputs(self, models: list[str], budget_seconds: float) -> ColumnInputs:
        """One-level column lineage of the given models (see column_inputs.py)."""
        from evoki_sql.docs.column_inputs import direct_inputs

        return direct_inputs(
            self.manifest,
            self.con,
            self.target_path,
            [self.node(m) for m in models if self.node(m) is not None],
            time.perf_counter() + budget_seconds,
        )

    # -- the model list ------------------------------------------------------
    def note_model(self, name: str, html: str) -> None:
        """Add an HTML note (a link back to a section, say) to a model's row in the model list."""
        self.model_notes.setdefault(name, []).append(html)
