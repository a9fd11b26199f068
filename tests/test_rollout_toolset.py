"""An experiment variant's `toolset` decides which tools the service's agent may call."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiagents.service.errors import ServiceError
from aiagents.service.runners import AgentRunner

DOCS = {"refunds.md": "# Refunds\n\nA refund is paid within 14 days of the returned item arriving.\n"}


@pytest.fixture
def index(tmp_path: Path) -> str:
    from aiagents.ingestion import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingest(folder, "tiny-toolset")
    return "tiny-toolset"


async def tool_names(runner: AgentRunner, index: str, toolset: str | None) -> list[str]:
    agent = await runner.agent("docs", index, toolset)
    result = await agent.run("When is a refund paid?")
    return [call.tool_name for call in result.trajectory.tool_calls()]


async def test_variant_toolset_filters_the_agents_tools(index: str) -> None:
    runner = AgentRunner(model="offline")
    assert await tool_names(runner, index, None) == ["search_docs"]
    assert await tool_names(runner, index, "search_docs") == ["search_docs"]
    assert await tool_names(runner, index, "fetch_document") == []  # the baseline cannot search: no call
    assert await runner.agent("docs", index, None) is not await runner.agent("docs", index, "fetch_document")


async def test_unknown_tool_in_a_variant_is_a_clear_error(index: str) -> None:
    with pytest.raises(
        ServiceError, match=r"the docs agent has no tools \['web_search'\]; it has \['search_docs', 'fetch_document'\]"
    ):
        await AgentRunner(model="offline").agent("docs", index, "search_docs,web_search")
