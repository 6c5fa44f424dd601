"""Command line: `python -m evoki_sql <command>` with dbt's commands, flags and exit codes.

Exit codes: 0 everything passed (warnings allowed), 1 a node failed, 2 a usage,
configuration or compilation error. Heavy modules (duckdb, sqlglot) load only when a
command needs them, so `--help` and `ls` stay fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

COMMANDS = {
    "build": "seed, run and test in DAG order; skip what is downstream of a failure",
    "run": "build the selected models",
    "test": "run the data tests (generic and singular)",
    "seed": "load the CSV seeds into tables",
    "compile": "render every selected model and test to target/compiled and parse it",
    "ls": "list the project's nodes",
    "show": "run an ad-hoc query or preview a model",
    "lineage": "column-level lineage of MODEL.COLUMN",
    "docs": "write the HTML report target/docs/index.html from the built database",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evoki_sql",
        description="A dbt-style runner for SQL-first projects on DuckDB.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        common = cmd.add_argument_group("project")
        common.add_argument(
            "--project-dir",
            type=Path,
            default=None,
            help="project folder (default: nearest with [tool.evoki_sql])",
        )
        common.add_argument(
            "--profiles-dir",
            type=Path,
            default=None,
            help="folder of profiles.yml (default: the project folder)",
        )
        common.add_argument("-t", "--target", default=None, help="target of the profile")
        common.add_argument(
            "--vars", default=None, help="YAML mapping overriding project vars, e.g. '{k: v}'"
        )
        common.add_argument("--debug", action="store_true", help="show stack traces")
        if name in ("build", "run", "test", "seed", "compile", "ls", "show"):
            cmd.add_argument(
                "-s",
                "--select",
                nargs="+",
                default=None,
                metavar="SELECTOR",
                help="name, +name, name+, n+name, tag:x, path:p; space = union, "
                "comma = intersection",
            )
        if name in ("build", "run", "test", "seed", "compile", "ls"):
            cmd.add_argument("--exclude", nargs="+", default=None, metavar="SELECTOR")
        if name in ("build", "run", "seed", "compile"):
            cmd.add_argument(
                "--full-refresh",
                action="store_true",
                help="rebuild incremental models and custom materializations whole",
            )
        if name == "ls":
            cmd.add_argument(
                "--output", choices=["name", "path", "json", "selector"], default="selector"
            )
            cmd.add_argument(
                "--resource-type",
                nargs="+",
                default=None,
                choices=["model", "seed", "test", "source"],
            )
        if name == "show":
            cmd.add_argument("--inline", default=None, help="a SQL query (Jinja allowed)")
            cmd.add_argument("--limit", type=int, default=10)
            cmd.add_argument("--output", choices=["table", "json"], default="table")
        if name == "lineage":
            cmd.add_argument("column", metavar="MODEL.COLUMN")
        if name == "docs":
            cmd.add_argument(
                "--include-text",
                action="store_true",
                help="show each turn's text in the chart tooltips (private: off by default)",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from evoki_sql.console import Console
    from evoki_sql.errors import EvokiError

    console = Console()
    try:
        return _dispatch(args, console)
    except EvokiError as exc:
        if args.debug:
            traceback.print_exc()
        console.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 1


def _parse_vars(text: str | None) -> dict[str, Any]:
    from evoki_sql.errors import ConfigError

    if not text:
        return {}
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--vars is not valid YAML: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError("--vars must be a YAML mapping, e.g. '{key: value}'")
    return value


def _dispatch(args: argparse.Namespace, console: Any) -> int:
    from evoki_sql.session import Session

    started = time.perf_counter()
    session = Session.open(args, _parse_vars(args.vars), console)
    try:
        return _run_command(session, args, started)
    finally:
        session.close()


def _run_command(session: Any, args: argparse.Namespace, started: float) -> int:
    if args.command == "ls":
        return _ls(session, args)
    if args.command == "compile":
        return session.compile_command(args.select, args.exclude)
    if args.command == "show":
        return session.show(args.inline, args.select, args.limit, args.output)
    if args.command == "lineage":
        return session.lineage(args.column)
    if args.command == "docs":
        from evoki_sql.docs.command import docs_command

        return docs_command(session, args.include_text)
    kinds = {
        "build": {"seed", "model", "test"},
        "run": {"model"},
        "test": {"test"},
        "seed": {"seed"},
    }[args.command]
    return session.execute(
        args.command,
        kinds,
        args.select,
        getattr(args, "exclude", None),
        getattr(args, "full_refresh", False),
        started,
    )


def _ls(session: Any, args: argparse.Namespace) -> int:
    kinds = set(args.resource_type or ["model", "seed", "test", "source"])
    order = session.graph.select(args.select, args.exclude, kinds)
    nodes = [session.manifest.nodes[u] for u in order]
    for node in nodes:
        if args.output == "json":
            print(
                json.dumps(
                    {
                        "name": node.name,
                        "resource_type": node.resource_type,
                        "unique_id": node.unique_id,
                        "original_file_path": node.rel_path,
                        "config": node.config,
                        "depends_on": node.depends_on,
                        "tags": node.tags,
                    },
                    default=str,
                )
            )
        elif args.output == "path":
            print(node.rel_path)
        elif args.output == "name":
            print(node.name)
        else:
            print(
                node.unique_id.split(".", 1)[1]
                if node.resource_type != "source"
                else f"source:{node.unique_id.split('.', 2)[2]}"
            )
    session.write_manifest()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
