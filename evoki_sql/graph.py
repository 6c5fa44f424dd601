"""The DAG of nodes: ordering, cycle detection and dbt-style node selection."""

from __future__ import annotations

import fnmatch
import heapq
import re
from collections.abc import Iterable

from evoki_sql.errors import CompilationError, SelectionError
from evoki_sql.project import Manifest, Node

# When several nodes are ready, tests go first: a model's tests run before its children,
# so that `build` can skip what lies downstream of a failing test.
_ORDER = {"source": 0, "test": 1, "seed": 2, "model": 3}
_ATOM = re.compile(
    r"^(?:(?P<up_n>\d+)?(?P<up>\+))?(?P<body>[^+]+?)(?:(?P<down>\+)(?P<down_n>\d+)?)?$"
)


class Graph:
    """Parents and children of every node, built from `depends_on`."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.parents: dict[str, list[str]] = {
            u: list(n.depends_on) for u, n in manifest.nodes.items()
        }
        self.children: dict[str, list[str]] = {u: [] for u in manifest.nodes}
        for uid, parents in self.parents.items():
            for parent in parents:
                self.children[parent].append(uid)

    def _key(self, uid: str) -> tuple[int, str]:
        node = self.manifest.nodes[uid]
        return (_ORDER.get(node.resource_type, 9), uid)

    def topological(self, subset: Iterable[str] | None = None) -> list[str]:
        """Nodes in dependency order (stable: type, then id); raises on a cycle."""
        wanted = set(self.manifest.nodes if subset is None else subset)
        indegree = {u: sum(1 for p in self.parents[u] if p in wanted) for u in wanted}
        ready = [self._key(u) for u, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, uid = heapq.heappop(ready)
            order.append(uid)
            for child in self.children[uid]:
                if child in indegree:
                    indegree[child] -= 1
                    if indegree[child] == 0:
                        heapq.heappush(ready, self._key(child))
        if len(order) != len(wanted):
            raise self._cycle_error({u for u, d in indegree.items() if d > 0})
        return order

    def _cycle_error(self, remaining: set[str]) -> CompilationError:
        start = min(remaining)
        path = [start]
        seen = {start: 0}
        current = start
        while True:
            current = min(p for p in self.parents[current] if p in remaining)
            if current in seen:
                cycle = path[seen[current] :] + [current]
                break
            seen[current] = len(path)
            path.append(current)
        names = [self.manifest.nodes[u].name for u in reversed(cycle)]
        node = self.manifest.nodes[cycle[0]]
        return CompilationError("dependency cycle: " + " -> ".join(names), path=node.rel_path)

    def ancestors(self, uid: str, depth: int | None = None) -> set[str]:
        return self._walk(uid, self.parents, depth)

    def descendants(self, uid: str, depth: int | None = None) -> set[str]:
        return self._walk(uid, self.children, depth)

    @staticmethod
    def _walk(uid: str, edges: dict[str, list[str]], depth: int | None) -> set[str]:
        found: set[str] = set()
        frontier = [uid]
        level = 0
        while frontier and (depth is None or level < depth):
            nxt = []
            for item in frontier:
                for other in edges[item]:
                    if other not in found:
                        found.add(other)
                        nxt.append(other)
            frontier = nxt
            level += 1
        return found

    # -- selection -----------------------------------------------------------
    def select(
        self, select: list[str] | None, exclude: list[str] | None, resource_types: set[str]
    ) -> list[str]:
        """The selected nodes of the given types, in dependency order."""
        if select:
            chosen = self._union(select)
            chosen |= self._tests_of(chosen)
        else:
            chosen = set(self.manifest.nodes)
        if exclude:
            chosen -= self._union(exclude)
        chosen = {u for u in chosen if self.manifest.nodes[u].resource_type in resource_types}
        return self.topological(chosen)

    def _tests_of(self, chosen: set[str]) -> set[str]:
        """Tests whose every model and seed parent is selected (sources are always there).

        A relationships test between a selected and an unselected model is left out: the
        unselected model may not be built, and dbt's 'buildable' selection does the same.
        """
        nodes = self.manifest.nodes
        found = set()
        for uid, node in nodes.items():
            if node.resource_type != "test":
                continue
            parents = [p for p in node.depends_on if nodes[p].resource_type != "source"]
            wanted = (
                all(p in chosen for p in parents)
                if parents
                else any(p in chosen for p in node.depends_on)
            )
            if wanted:
                found.add(uid)
        return found

    def _union(self, specs: list[str]) -> set[str]:
        result: set[str] = set()
        for spec in specs:
            for part in spec.split():
                result |= self._intersection(part)
        return result

    def _intersection(self, spec: str) -> set[str]:
        sets = [self._atom(atom) for atom in spec.split(",") if atom]
        if not sets:
            raise SelectionError(f"empty selector '{spec}'")
        out = sets[0]
        for other in sets[1:]:
            out &= other
        return out

    def _atom(self, atom: str) -> set[str]:
        match = _ATOM.match(atom)
        if not match:
            raise SelectionError(f"cannot read selector '{atom}'")
        base = self._match(match["body"], atom)
        out = set(base)
        for uid in base:
            if match["up"]:
                out |= self.ancestors(uid, int(match["up_n"]) if match["up_n"] else None)
            if match["down"]:
                out |= self.descendants(uid, int(match["down_n"]) if match["down_n"] else None)
        return out

    def _match(self, body: str, atom: str) -> set[str]:
        nodes = self.manifest.nodes
        method, _, value = body.partition(":") if ":" in body else ("name", "", body)
        if method == "tag":
            found = {u for u, n in nodes.items() if value in n.tags}
        elif method == "path":
            value = value.rstrip("/")
            found = {u for u, n in nodes.items() if _path_match(n, value)}
        elif method == "source":
            found = {
                u
                for u, n in nodes.items()
                if n.resource_type == "source"
                and (fnmatch.fnmatchcase(n.name, value) or n.name.split(".")[0] == value)
            }
        elif method in ("resource_type", "test_type"):
            found = {u for u, n in nodes.items() if n.resource_type == value}
        elif method == "config.materialized":
            found = {
                u
                for u, n in nodes.items()
                if n.resource_type == "model" and n.materialized == value
            }
        elif method == "name":
            found = {u for u, n in nodes.items() if fnmatch.fnmatchcase(n.name, value)}
        else:
            raise SelectionError(
                f"unknown selector method '{method}:' in '{atom}' "
                "(known: tag:, path:, source:, config.materialized:, "
                "resource_type:)"
            )
        if not found:
            raise SelectionError(
                f"selector '{atom}' matches no node"
                + _did_you_mean(value, [n.name for n in nodes.values()])
            )
        return found


def _path_match(node: Node, value: str) -> bool:
    rel = node.rel_path
    return rel == value or rel.startswith(value + "/") or fnmatch.fnmatchcase(rel, value)


def _did_you_mean(value: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(value, names, n=3, cutoff=0.5)
    return f". Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
