"""models/output/history_metrics_readback.yml against its generator and the metric contract.

Proves: `python scripts/generate_readback_yml.py --check` exits 0 on the repository (the
checked-in YAML is the generator's output) and fails on a stale copy; and the YAML, parsed
with yaml.safe_load, declares exactly one `contract_metric` test per contract key of
seeds/metric_contract.csv, in contract order, with the contract's type, range (min_value /
max_value exactly when the seed has a bound, numerically equal to it) and enum values.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "generate_readback_yml.py"
YML = ROOT / "models" / "output" / "history_metrics_readback.yml"
CONTRACT: list[dict[str, str]] = list(
    csv.DictReader((ROOT / "seeds" / "metric_contract.csv").open(newline="", encoding="utf-8"))
)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_readback_yml_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def readback_model() -> dict[str, Any]:
    document = yaml.safe_load(YML.read_text(encoding="utf-8"))
    models = [m for m in document["models"] if m["name"] == "history_metrics_readback"]
    assert len(models) == 1
    return models[0]


def contract_tests(model: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column, arguments) of every contract_metric test declared on the model."""
    found = []
    for column in model.get("columns", []):
        for test in column.get("data_tests", []) or []:
            if isinstance(test, dict) and "contract_metric" in test:
                found.append((column["name"], test["contract_metric"]))
    for test in model.get("data_tests", []) or []:  # none expected at model level
        if isinstance(test, dict) and "contract_metric" in test:
            found.append(("<model>", test["contract_metric"]))
    return found


def test_check_passes_on_the_repository() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checked_in_file_equals_the_rendered_text() -> None:
    assert load_generator().render() == YML.read_text(encoding="utf-8")


def test_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generator = load_generator()
    stale = tmp_path / "history_metrics_readback.yml"
    stale.write_text(YML.read_text(encoding="utf-8").replace("m1_A", "m1_a", 1), encoding="utf-8")
    monkeypatch.setattr(generator, "TARGET", stale)
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0  # rewrites it
    assert generator.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == YML.read_text(encoding="utf-8")


def test_one_contract_metric_test_per_contract_key_in_order(readback_model: dict[str, Any]) -> None:
    tests = contract_tests(readback_model)
    assert [column for column, _ in tests] == [row["key"] for row in CONTRACT]
    names = [args["name"] for _, args in tests]
    assert names == [f"readback_{row['key']}_in_contract" for row in CONTRACT]
    assert len(set(names)) == len(names) == 168


@pytest.mark.parametrize("row", CONTRACT, ids=[row["key"] for row in CONTRACT])
def test_contract_metric_arguments_match_the_contract(
    readback_model: dict[str, Any], row: dict[str, str]
) -> None:
    (args,) = [a for column, a in contract_tests(readback_model) if column == row["key"]]
    assert args["type"] == row["type"]
    if row["type"] == "enum":
        assert args["values"] == row["enum_values"].split("|")
        assert all(isinstance(v, str) for v in args["values"])
        assert "min_value" not in args and "max_value" not in args
        return
    assert "values" not in args
    for bound, arg in (("range_lo", "min_value"), ("range_hi", "max_value")):
        if row[bound] == "":
            assert arg not in args
        else:
            value = args[arg]
            # a number, not a string (a test argument compared in SQL), equal to the seed's
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (arg, value)
            assert float(value) == float(row[bound])
    expected_keys = {"name", "type"} | {
        arg
        for bound, arg in (("range_lo", "min_value"), ("range_hi", "max_value"))
        if row[bound] != ""
    }
    assert set(args) == expected_keys
