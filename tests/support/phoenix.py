"""Helpers for tests that read back from a real Phoenix."""

from __future__ import annotations

import time
from typing import Any

from aiagents.tracing import current_tracing


def tracing_project() -> str:
    """The Phoenix project this test process traces into (the first `tracing.setup` of the session names it)."""
    return current_tracing().project  # type: ignore[union-attr]


def wait_for_span(client: Any, project: str, span_id: str, timeout: float = 30.0) -> bool:
    """Wait until Phoenix holds span `span_id` in `project` (a span must be there before it is annotated)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.spans.get_spans(project_identifier=project, span_ids=[span_id]):
                return True
        except Exception:  # noqa: BLE001 - the project does not exist until its first span arrives
            pass
        time.sleep(0.5)
    return False
