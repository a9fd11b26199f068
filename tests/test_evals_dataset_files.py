"""A dataset file says what runs it and how it is scored: `task:` (or `agent:` with its tools), `evaluators:` with
their options (built-in names or the user's `module:Class`), and `eval run` honours them, with `--tags`,
`--exclude-tags`, a label as `--prompt-version`; kept runs are listed and compared by id or `DATASET@VERSION`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiagents.evals import Dataset, DatasetFileError, FieldsMatch, build_evaluators
from aiagents.evals.evaluators import ExactMatch, ToolCallsMatch
from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.errors import UserError
from aiagents.prompts import PromptRegistry

runner = CliRunner()

FILE = """\
name: used-cars
task: listing-attributes
evaluators:
  - FieldsMatch: {fields: {price: "numeric:10%", category: exact}, only_listed: true}
  - {evaluator: "mychecks:HasTitle", args: {min_length: 3}}
cases:
  - name: bike
    inputs: {listing: "Road bike, like new. 350 EUR"}
    expected_output: {category: bikes, price: 340}
    tags: [bikes]
  - name: sofa
    inputs: {listing: "Old sofa, free to whoever picks it up. Fair condition."}
    expected_output: {category: furniture, price: 0}
    tags: [furniture, free]
"""
CHECKS = """\
from dataclasses import dataclass
from pydantic_evals.evaluators import Evaluator


@dataclass
class HasTitle(Evaluator):
    min_length: int = 1

    def evaluate(self, ctx) -> bool:
        return len(getattr(ctx.output, "title", "") or "") >= self.min_length
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cases.yaml").write_text(FILE)
    (tmp_path / "mychecks.py").write_text(CHECKS)  # the user's evaluator, beside the dataset
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_header_declares_target_and_evaluators(project: Path) -> None:
    ds = Dataset.load(project / "cases.yaml")
    assert ds.target == {"task": "listing-attributes"} and len(ds.evaluators) == 2
    evaluators = build_evaluators(ds.evaluators, source="cases.yaml", near=project / "cases.yaml")
    assert isinstance(evaluators[0], FieldsMatch) and evaluators[0].fields["price"] == "numeric:10%"
    assert type(evaluators[1]).__name__ == "HasTitle" and evaluators[1].min_length == 3
    ds.save(project / "again.yaml")  # saving keeps what runs and scores it
    assert Dataset.load(project / "again.yaml").evaluators == ds.evaluators
    assert [type(e) for e in build_evaluators(["ExactMatch", {"ToolCallsMatch": {"mode": "superset"}}])] == [
        ExactMatch,
        ToolCallsMatch,
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("tasks: x\n", "unknown key(s) ['tasks']"),
        ("task: a\nagent: b\n", "not both"),
        ("evaluators: ExactMatch\n", "'evaluators' must be a list"),
    ],
)
def test_header_mistakes_name_the_file_and_line(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(header + "cases:\n  - {inputs: x}\n")
    with pytest.raises(DatasetFileError, match=r"bad\.yaml:1: .*") as info:
        Dataset.load(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Nope", "unknown evaluator 'Nope'"),
        ({"FieldsMatch": {"colour": 1}}, "FieldsMatch(colour)"),
        ({"evaluator": "missing_module:X"}, "cannot import 'missing_module:X'"),
    ],
)
def test_evaluator_mistakes_are_named(spec: object, message: str) -> None:
    with pytest.raises(UserError, match=r"cases\.yaml: evaluators\[0\]") as info:
        build_evaluators([spec], source="cases.yaml")
    assert message in str(info.value)


def _run(*args: str) -> dict:
    r = runner.invoke(app, ["eval", "run", "cases.yaml", "--model", "offline", "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_eval_run_uses_the_header_tags_and_a_label(project: Path) -> None:
    registry = PromptRegistry()
    version = registry.current("listing-attributes").version
    registry.promote("listing-attributes", version)
    report = _run("--prompt-version", "production")
    assert report["meta"]["prompt_versions"] == {"listing-attributes": version}
    assert set(report["meta"]["evaluators"]) >= {"fields", "HasTitle"}
    assert report["metrics"]["fields.price"]["count"] == 2 and "HasTitle" in report["metrics"]
    only_free = _run("--tags", "free", "--fresh")
    assert only_free["cases"] == 1
    assert _run("--exclude-tags", "free", "--fresh")["cases"] == 1
    listed = json.loads(runner.invoke(app, ["eval", "runs", "list", "--json", "--suite", "used-cars"]).stdout)
    assert listed["runs"] and listed["runs"][0]["prompt_versions"] == {"listing-attributes": version}
    assert version in listed["runs"][0]["id"]  # the prompt version is kept whole in the run's name
    first = listed["runs"][0]["id"]
    compared = runner.invoke(app, ["eval", "compare", first[:20], f"used-cars@{version[:4]}", "--json"])
    assert compared.exit_code == 0, compared.output
    missing = runner.invoke(app, ["eval", "compare", "no-such-run", first, "--json"])
    assert missing.exit_code == 1 and "eval runs list" in json.loads(missing.stdout)["error"]["message"]
