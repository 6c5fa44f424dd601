"""The demo project built once (a copy, demo target), its report written twice: without
and with --include-text, plus the facts of the built database the tests compare against."""

from __future__ import annotations

import shutil

import pytest
from docs_support import DemoDocs, cli, cli_process

from project_copy import copy_project


@pytest.fixture(scope="session")
def demo_docs(tmp_path_factory: pytest.TempPathFactory) -> DemoDocs:
    import duckdb

    folder = tmp_path_factory.mktemp("docs")
    project = copy_project(folder / "project")
    code, output = cli_process(project, "build")
    assert code == 0, output[-3000:]
    code, plain_out = cli(project, "docs")
    assert code == 0, plain_out
    plain = folder / "plain.html"
    shutil.copyfile(project / "target" / "docs" / "index.html", plain)
    code, text_out = cli(project, "docs", "--include-text")
    assert code == 0, text_out
    with_text = folder / "with_text.html"
    shutil.copyfile(project / "target" / "docs" / "index.html", with_text)
    con = duckdb.connect(str(project / "target" / "evoki_demo.duckdb"), read_only=True)
    try:
        cursor = con.execute(
            "select f.turn_id, f.session_id, f.turn_idx, f.role, f.is_alert, f.guardian_action, "
            "t.text from fullspectrum168 as f join stg_turns as t using (turn_id) "
            "order by f.session_id, f.turn_idx"
        )
        names = [d[0] for d in cursor.description]
        turns = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    return DemoDocs(project, plain, with_text, (plain_out, text_out), turns)
