"""Real Phoenix: a task's trace read back through the Phoenix client; spans spooled while Phoenix is down."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from aiagents import tracing
from aiagents.cli import app
from aiagents.settings import get_settings
from aiagents.tasks import Task
from aiagents.tracing.phoenix_server import free_port
from tests.support.phoenix import tracing_project

pytestmark = pytest.mark.integration

LISTING = "Harry Potter books box set, new, 45 EUR"


def read_trace(url: str, trace_id: str, expected: int, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    from phoenix.client import Client

    client = Client(base_url=url)
    deadline = time.monotonic() + timeout
    while True:
        frame = client.spans.get_spans_dataframe(project_identifier=tracing_project(), limit=10_000)
        if frame is not None and len(frame):
            mine = frame[frame["context.trace_id"] == trace_id]
            if len(mine) >= expected or time.monotonic() > deadline:
                return mine
        elif time.monotonic() > deadline:
            raise AssertionError(f"no spans in Phoenix at {url}")
        time.sleep(0.5)


def assert_task_trace(frame, version: str) -> None:  # type: ignore[no-untyped-def]
    assert sorted(frame["span_kind"]) == ["CHAIN", "LLM"]
    chain = frame[frame["span_kind"] == "CHAIN"].iloc[0]
    llm = frame[frame["span_kind"] == "LLM"].iloc[0]
    assert llm["parent_id"] == chain["context.span_id"]
    assert chain["parent_id"] is None or chain["parent_id"] != chain["parent_id"]  # root: None or NaN
    assert llm["attributes.llm.prompt_template.version"] == version
    assert llm["attributes.llm.token_count.prompt"] > 0
    assert llm["attributes.llm.token_count.completion"] > 0
    assert llm["attributes.llm.model_name"] == "offline-baseline"
    assert json.loads(chain["attributes.output.value"])["category"] == "books"


async def test_task_trace_reaches_phoenix(phoenix_server: str) -> None:
    tracing.setup(endpoint=phoenix_server, batch=False)
    task = Task("listing-attributes")
    result = await task.run({"listing": LISTING})
    tracing.current_tracing().flush()  # type: ignore[union-attr]
    frame = read_trace(phoenix_server, result.trace_id, 2)  # type: ignore[arg-type]
    assert_task_trace(frame, task.prompt.version)


async def test_spans_are_spooled_while_phoenix_is_down_and_pushed_later(phoenix_server: str) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    tracing.setup(endpoint=down, batch=False)
    task = Task("listing-attributes")
    result = await task.run({"listing": LISTING})  # the application keeps working
    assert result.output.category == "books"
    spool = get_settings().spool_dir
    assert tracing.spool_status(spool) == (2, 2)  # one batch per span with the simple processor
    runner = CliRunner()
    status = runner.invoke(app, ["traces", "status", "--json"])
    assert json.loads(status.stdout)["spans"] == 2
    failed = runner.invoke(app, ["traces", "push", "--endpoint", down])
    assert failed.exit_code == 1 and tracing.spool_status(spool) == (2, 2)  # nothing lost on failure
    pushed = runner.invoke(app, ["traces", "push", "--endpoint", phoenix_server, "--json"])
    assert pushed.exit_code == 0, pushed.output
    assert json.loads(pushed.stdout)["spans"] == 2
    assert tracing.spool_status(spool) == (0, 0)
    assert_task_trace(read_trace(phoenix_server, result.trace_id, 2), task.prompt.version)  # type: ignore[arg-type]
