"""Run-end hooks (`@on_run_end` in the project's hook-paths) driven through the CLI.

Proves: a hook is called once after `build`, `run` and `test` with the command, the node
results and the --full-refresh flag, and the lines it returns close the output; a hook that
raises makes the command exit 1 with the hook and its file named while the other hooks still
run and target/run_results.json is still written; a hook file that does not import stops the
command with exit 2 naming the file (and, for a syntax error, the line) before anything runs;
two projects loaded one after the other in the same process do not share hooks; and
`hook-paths` in [tool.evoki_sql] moves the hook folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner_support import SOURCES_YML, CliResult, read_json, results_by_id

CALLS = "hook_calls.jsonl"

# Each call appends one JSON line to target/hook_calls.jsonl and returns two summary lines.
RECORDING_HOOK = """\
import json
from pathlib import Path

from evoki_sql import on_run_end


@on_run_end
def record_{tag}(ctx):
    path = Path(ctx.target_path) / "{calls}"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {{
        "tag": "{tag}",
        "command": ctx.command,
        "results": len(ctx.results),
        "statuses": sorted(r.status for r in ctx.results),
        "full_refresh": ctx.full_refresh,
    }}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\\n")
    return [
        f"HOOK {tag} {{ctx.command}} results={{len(ctx.results)}} full_refresh={{ctx.full_refresh}}",
        "HOOK {tag} second line",
    ]
"""

RAISING_HOOKS = """\
from evoki_sql import on_run_end


@on_run_end
def explode(ctx):
    raise RuntimeError("the hook went off")


@on_run_end
def after_the_explosion(ctx):
    return ["HOOK after the explosion"]
"""

BASE_FILES = {
    "models/sources.yml": SOURCES_YML,
    "models/stg.sql": "select id, kind, v from {{ source('hist', 'events') }}\n",
    "models/agg.sql": (
        "{{ config(materialized='table') }}\n"
        "select kind, sum(v) as total from {{ ref('stg') }} group by kind\n"
    ),
    "tests/no_negative.sql": "select * from {{ ref('agg') }} where total < 0\n",
}


def recording_hook(tag: str) -> str:
    return RECORDING_HOOK.format(tag=tag, calls=CALLS)


def calls(project: Path, target: str = "target") -> list[dict[str, Any]]:
    path = project / target / CALLS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def summary(tag: str, command: str, results: int, full_refresh: bool = False) -> list[str]:
    """The two lines the recording hook returns."""
    return [
        f"HOOK {tag} {command} results={results} full_refresh={full_refresh}",
        f"HOOK {tag} second line",
    ]


def tail(result: CliResult, n: int) -> list[str]:
    """The last n lines of stdout without their time stamps."""
    return [line.split("  ", 1)[-1] for line in result.lines()[-n:]]


def test_hook_sees_each_command_and_its_lines_close_the_output(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    project = project_factory({**BASE_FILES, "hooks/x.py": recording_hook("x")}, name="hooks")

    build = cli(project, "build")
    assert build.code == 0, build.text
    assert tail(build, 2) == summary("x", "build", 3)

    run = cli(project, "run", "--full-refresh")
    assert run.code == 0, run.text
    assert tail(run, 2) == summary("x", "run", 2, True)

    test = cli(project, "test")
    assert test.code == 0, test.text
    assert tail(test, 2) == summary("x", "test", 1)

    # exactly one call per command, in order, with the results of that command
    got = [(c["command"], c["results"], c["full_refresh"]) for c in calls(project)]
    assert got == [("build", 3, False), ("run", 2, True), ("test", 1, False)]
    assert calls(project)[0]["statuses"] == ["pass", "success", "success"]
    # the summary comes after the runner's own closing lines
    assert build.out.index("Done. PASS=3") < build.out.index("HOOK x build")


def test_hook_runs_after_a_failed_node_with_its_result(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    files = {
        **BASE_FILES,
        "models/broken.sql": "select no_such_column from {{ ref('stg') }}\n",
        "hooks/x.py": recording_hook("x"),
    }
    project = project_factory(files, name="hooks_failed_node")
    result = cli(project, "run")
    assert result.code == 1, result.text
    assert tail(result, 2) == summary("x", "run", 3)
    assert calls(project)[0]["statuses"] == ["error", "success", "success"]


def test_raising_hook_fails_the_command_and_keeps_the_results(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    files = {**BASE_FILES, "hooks/boom.py": RAISING_HOOKS}
    project = project_factory(files, name="hooks_raise")
    result = cli(project, "build")
    assert result.code == 1, result.text
    assert "run-end hook explode failed" in result.err
    assert "boom.py" in result.err
    assert "RuntimeError: the hook went off" in result.err
    # the nodes themselves succeeded and their results were written before the hooks ran
    assert (project / "target" / "run_results.json").is_file()
    statuses = {uid: r["status"] for uid, r in results_by_id(project).items()}
    assert len(statuses) == 3 and set(statuses.values()) <= {"success", "pass"}, statuses
    assert read_json(project / "target" / "manifest.json")["nodes"]
    # a failing hook does not stop the next one
    assert tail(result, 1) == ["HOOK after the explosion"]


def test_hook_file_with_a_syntax_error_stops_before_anything_runs(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    bad = "from evoki_sql import on_run_end\n\n\ndef broken(:\n    pass\n"
    project = project_factory({**BASE_FILES, "hooks/bad.py": bad}, name="hooks_syntax")
    result = cli(project, "build")
    assert result.code == 2, result.text
    assert "hooks/bad.py:4" in result.err, result.err
    assert "SyntaxError" in result.err
    assert "Traceback" not in result.text
    assert not (project / "target" / "run_results.json").exists()
    assert not result.node_lines()


def test_hook_file_raising_at_import_names_the_file(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    bad = "import no_such_module_for_evoki_hooks\n"
    project = project_factory({**BASE_FILES, "hooks/missing.py": bad}, name="hooks_import")
    result = cli(project, "run")
    assert result.code == 2, result.text
    assert "hooks/missing.py" in result.err
    assert "ModuleNotFoundError" in result.err
    assert not result.node_lines()


def test_two_projects_in_one_process_do_not_share_hooks(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    first = project_factory({**BASE_FILES, "hooks/x.py": recording_hook("first")}, name="hk_a")
    second = project_factory({**BASE_FILES, "hooks/x.py": recording_hook("second")}, name="hk_b")
    plain = project_factory(BASE_FILES, name="hk_plain")

    assert cli(first, "run").code == 0
    result = cli(second, "run")
    assert result.code == 0, result.text
    assert "HOOK first" not in result.out
    assert tail(result, 2) == summary("second", "run", 2)

    # a project without hooks after one with hooks: nothing is called
    result = cli(plain, "run")
    assert result.code == 0, result.text
    assert "HOOK" not in result.out
    assert not (plain / "target" / CALLS).exists()

    # each project's file holds only its own hook's calls
    assert [c["tag"] for c in calls(first)] == ["first"]
    assert [c["tag"] for c in calls(second)] == ["second"]


def test_hook_paths_is_configurable(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    pyproject = (
        "[tool.evoki_sql]\n"
        'name = "fx"\n'
        'profile = "fx"\n'
        'hook-paths = ["myhooks"]\n'
        "\n"
        "[tool.evoki_sql.vars]\n"
        "factor = 2\n"
    )
    files = {
        **BASE_FILES,
        "pyproject.toml": pyproject,
        "myhooks/x.py": recording_hook("configured"),
        # not in hook-paths any more: never imported (it would fail if it were)
        "hooks/ignored.py": "raise RuntimeError('hooks/ is not a hook path here')\n",
    }
    project = project_factory(files, name="hooks_paths")
    result = cli(project, "run")
    assert result.code == 0, result.text
    assert tail(result, 2) == summary("configured", "run", 2)
    assert [c["tag"] for c in calls(project)] == ["configured"]
