"""A user's own project, as a new user makes it: `aiagents init`, then pytest, the CLI and the Python API run from
a folder that has its own `evals/`, `tools/`, `retrieval/` and `ingestion/` packages (which must never be the
framework's: each raises when imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiagents.tasks import OUTPUT_TOOL_NAME
from tests.support.openai_wire import OpenAIWireServer, tool_call_reply

BIN = Path(sys.executable).parent
USER_PACKAGES = ("evals", "tools", "retrieval", "ingestion")


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIAGENTS_", "PYTEST_"))}
    env.pop("PYTHONPATH", None)
    env.update(AIAGENTS_DATA_DIR=str(project / ".aiagents"), AIAGENTS_TRACING="false", HF_HUB_OFFLINE="1")
    return env


def run(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=project, env=_env(project), capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`aiagents init my-feature`, plus the user's own packages named like the framework's layers."""
    run(tmp_path, str(BIN / "aiagents"), "init", "my-feature")
    folder = tmp_path / "my-feature"
    for name in USER_PACKAGES:
        (folder / name).mkdir(exist_ok=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('the user\\'s own {name}/ was imported')\n")
    return folder


def test_init_writes_a_runnable_skeleton(project: Path) -> None:
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert {
        "README.md",
        ".env.example",
        ".gitignore",
        "pyproject.toml",
        "prompts/ticket-triage.md",
        "prompts/ticket_triage.py",
        "evals/ticket-triage.yaml",
        "tests/test_ticket_triage.py",
    } <= files
    assert len([line for line in (project / "README.md").read_text().splitlines() if line.strip()]) == 6  # title + 5
    again = run(project.parent, str(BIN / "aiagents"), "init", "my-feature", check=False)
    assert again.returncode == 1 and "--force" in again.stderr  # nothing is overwritten silently


def test_pytest_passes_offline_out_of_the_box(project: Path) -> None:
    done = run(project, str(BIN / "python"), "-m", "pytest", "-q", "-rs")
    assert "4 passed, 2 skipped" in done.stdout, done.stdout
    assert "needs a real model: run with --aiagents-model" in done.stdout


def test_a_failing_case_names_the_case_the_field_expected_and_actual(project: Path) -> None:
    cases = project / "evals" / "ticket-triage.yaml"
    cases.write_text(cases.read_text().replace("order_number: 5512}", "order_number: 5513}"))
    done = run(project, str(BIN / "python"), "-m", "pytest", "-q", check=False)
    assert done.returncode == 1
    assert "case 'tracking' failed" in done.stdout
    assert "order_number: got 5512, expected 5513" in done.stdout


def test_pytest_against_a_provider_runs_the_real_model_cases(project: Path) -> None:
    server = OpenAIWireServer().start()
    try:
        answers = [  # in the order pytest runs them: the dataset's five cases, then the typed-output test
            {"queue": "billing", "urgent": True, "order_number": 48213},
            {"queue": "shipping", "urgent": False, "order_number": 5512},
            {"queue": "account", "urgent": True, "order_number": None},
            {"queue": "shipping", "urgent": False, "order_number": 77120},
            {"queue": "account", "urgent": True, "order_number": None},
            {"queue": "shipping", "urgent": False, "order_number": 12},
        ]
        server.script(*(tool_call_reply((OUTPUT_TOOL_NAME, a)) for a in answers))
        model = f"openai-compatible:triage-model@{server.url}"
        done = run(project, str(BIN / "python"), "-m", "pytest", "-q", "--aiagents-model", model)
    finally:
        server.stop()
    assert "6 passed" in done.stdout, done.stdout
    assert len(server.requests) == 6 and server.requests[0]["model"] == "triage-model"
    assert "charged twice for order 48213" in server.requests[0]["messages"][-1]["content"]


def test_the_cli_finds_the_output_model_beside_the_prompt_without_pythonpath(project: Path) -> None:
    message = "Billing: charged twice, order 48213"
    done = run(project, str(BIN / "aiagents"), "task", "run", "ticket-triage", message, "--json")
    result = json.loads(done.stdout)
    assert result["output"] == {"queue": "billing", "urgent": False, "order_number": 48213}
    assert result["model"] == "offline"
    report = json.loads(run(project, str(BIN / "aiagents"), "eval", "run", "evals/ticket-triage.yaml", "--json").stdout)
    assert (report["cases"], report["errors"]) == (5, 0)
    assert report["metrics"]["fields.order_number"]["mean"] == 1.0


def test_the_python_api_imports_the_framework_layers_not_the_users_folders(project: Path) -> None:
    code = (
        "import sys\n"
        "from aiagents.evals import Dataset, FieldsMatch\n"
        "from aiagents.retrieval import Retriever\n"
        "from aiagents.tools.base import make_toolset\n"
        "from aiagents.ingestion import ingest\n"
        "from aiagents.tasks import Task\n"
        "cases = Dataset.load('evals/ticket-triage.yaml')\n"
        "out = Task('ticket-triage').run_sync(cases.cases[0].inputs, model='offline').output\n"
        "print(type(out).__module__, out.order_number, len(cases.cases))\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {USER_PACKAGES!r}))\n"
    )
    done = run(project, str(BIN / "python"), "-c", code)  # "-c" puts the project folder first on sys.path
    assert done.stdout.splitlines() == ["ticket_triage 48213 5", "[]"]
