"""The aiagents pytest plugin (registered through the `pytest11` entry point, so it is on wherever aiagents is
installed): the same prompt tests run on the offline baseline in CI and against a real provider when asked.

    pytest                                          # the offline baseline (no key, no network)
    pytest --aiagents-model openai:gpt-4.1-mini     # a real provider (needs OPENAI_API_KEY)

Fixtures:

- `aiagents_model`: the model name the run uses: `--aiagents-model`, else `AIAGENTS_MODEL`, else `offline`.
  A provider key alone does not switch a test run to a paid model: it has to be asked for.
- `run_prompt(name, inputs)`: runs the prompt `name` (from `./prompts` or the shipped library) on that model
  and returns its `TaskResult` (`.output` is the typed output).
- `aiagents_data_dir`: a private `AIAGENTS_DATA_DIR` for the test (no state left in the project's folder).

Tests marked `real_model` (and dataset cases tagged `real_model`, see `parametrize_cases`) are skipped while the
model is the offline baseline. This module imports nothing heavy: pytest loads it in every run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["OPTION", "REAL_MODEL_MARKER", "selected_model"]

OPTION = "--aiagents-model"
REAL_MODEL_MARKER = "real_model"
_OFFLINE = "offline"  # aiagents.models.resolve.OFFLINE, not imported here to keep pytest's start-up light


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiagents", "aiagents prompt tests")
    group.addoption(
        OPTION,
        action="store",
        default=None,
        metavar="MODEL",
        help="model for aiagents prompt tests: offline (default), openai:gpt-4.1-mini, anthropic:claude-haiku-4-5, "
        "openai-compatible:NAME@http://host:port/v1 (default: AIAGENTS_MODEL, else offline)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{REAL_MODEL_MARKER}: needs a real model ({OPTION} or AIAGENTS_MODEL); skipped on the offline one"
    )


def selected_model(config: pytest.Config) -> str:
    """The model this pytest run uses (see the module docstring)."""
    return config.getoption(OPTION, default=None) or os.environ.get("AIAGENTS_MODEL") or _OFFLINE


def pytest_report_header(config: pytest.Config) -> str:
    return f"aiagents model: {selected_model(config)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if selected_model(config) != _OFFLINE:
        return
    skip = pytest.mark.skip(reason=f"needs a real model: run with {OPTION} openai:gpt-4.1-mini (and OPENAI_API_KEY)")
    for item in items:
        if item.get_closest_marker(REAL_MODEL_MARKER) is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def aiagents_model(pytestconfig: pytest.Config) -> str:
    """The model name this run uses: `--aiagents-model`, else `AIAGENTS_MODEL`, else `offline`."""
    return selected_model(pytestconfig)


@pytest.fixture
def aiagents_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private `AIAGENTS_DATA_DIR` for this test (prompt snapshots, logs, indexes, spool)."""
    from aiagents.settings import reset_settings

    folder = tmp_path / "aiagents-data"
    monkeypatch.setenv("AIAGENTS_DATA_DIR", str(folder))
    reset_settings()
    yield folder
    reset_settings()


@pytest.fixture
def run_prompt(aiagents_model: str) -> Callable[..., Any]:
    """`run_prompt(name, inputs, **kwargs)`: run a prompt on the selected model; returns the `TaskResult`."""
    from aiagents.tasks import Task

    tasks: dict[str, Task[Any]] = {}

    def run(name: str, inputs: Any = None, **kwargs: Any) -> Any:
        if name not in tasks:
            tasks[name] = Task(name, working_file=True)  # the file being edited, not what production serves
        kwargs.setdefault("model", aiagents_model)
        return tasks[name].run_sync(inputs, **kwargs)

    return run
