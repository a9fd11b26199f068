"""Prompt versions and labels mirrored into a real Phoenix's prompt registry (a label is a tag there): once per
version, the tag following the label, nothing raised when Phoenix is down."""

from __future__ import annotations

import uuid

import httpx
import pytest

from aiagents.prompts import PromptRegistry, parse_prompt
from aiagents.tracing import mirror_prompt
from aiagents.tracing.phoenix_server import free_port

pytestmark = pytest.mark.integration

TEXT = """---
name: {name}
description: A mirrored prompt.
variables:
  listing: {{description: The listing.}}
system: You extract listing attributes.{extra}
---
Extract: {{{{ listing }}}}
"""


def _versions(url: str, name: str) -> list[dict]:
    return httpx.get(f"{url}/v1/prompts/{name}/versions", timeout=10).json()["data"]


def _tags(url: str, version_id: str) -> list[str]:
    return [t["name"] for t in httpx.get(f"{url}/v1/prompt_versions/{version_id}/tags", timeout=10).json()["data"]]


def test_versions_and_labels_reach_phoenix_once(phoenix_server: str) -> None:
    name = f"mirrored-{uuid.uuid4().hex[:8]}"
    v1 = parse_prompt(TEXT.format(name=name, extra=""))
    v2 = parse_prompt(TEXT.format(name=name, extra=" Be brief."))
    first = mirror_prompt(v1, ["production"], phoenix_server, model="openai:gpt-4.1-mini")
    assert first is not None and first["created"]
    again = mirror_prompt(v1, ["production"], phoenix_server)
    assert again is not None and not again["created"] and again["prompt_version_id"] == first["prompt_version_id"]
    second = mirror_prompt(v2, ["staging"], phoenix_server)
    assert second is not None and second["created"]
    versions = _versions(phoenix_server, name)
    assert sorted(v["description"] for v in versions) == sorted(f"aiagents version {p.version}" for p in (v1, v2))
    assert _tags(phoenix_server, first["prompt_version_id"]) == ["production"]
    assert _tags(phoenix_server, second["prompt_version_id"]) == ["staging"]
    mine = next(v for v in versions if v["id"] == first["prompt_version_id"])
    assert mine["template"]["messages"][0] == {"role": "system", "content": "You extract listing attributes."}


def test_a_phoenix_that_is_down_is_reported_not_raised() -> None:
    prompt = PromptRegistry().current("listing-attributes")
    assert mirror_prompt(prompt, ["production"], f"http://127.0.0.1:{free_port()}", timeout=1) is None
