"""Suite-wide fixtures: offline, a private data folder per test, captured spans, a real Phoenix on demand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "PHOENIX_COLLECTOR_ENDPOINT", "AIAGENTS_MODEL"):
    os.environ.pop(_key, None)

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from pydantic_ai import models  # noqa: E402

from tests.support.logstores import store, store_url  # noqa: E402, F401 - the log store on SQLite and PostgreSQL

# No test may reach a real provider by accident (the local wire-format server tests re-allow it).
models.ALLOW_MODEL_REQUESTS = False


@pytest.fixture(autouse=True)
def data_dir(aiagents_data_dir: Path) -> Path:
    """Every test gets its own `AIAGENTS_DATA_DIR` (all local state lives there): the framework's pytest plugin's
    `aiagents_data_dir`, the fixture users get."""
    return aiagents_data_dir


class CapturedSpans(InMemorySpanExporter):
    """In-memory exporter that flushes the provider before handing out the finished spans."""

    def get_finished_spans(self):  # type: ignore[no-untyped-def]
        from aiagents import tracing

        current = tracing.current_tracing()
        if current is not None:
            current.flush()
        return super().get_finished_spans()


@pytest.fixture
def spans() -> Iterator[CapturedSpans]:
    """Spans finished during the test, captured in memory."""
    from aiagents import tracing

    exporter = CapturedSpans()
    tracing.setup(exporter=exporter, batch=False)
    yield exporter
    exporter.clear()


@pytest.fixture(scope="session")
def phoenix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Phoenix server on 127.0.0.1 and a free port, once per test session; yields its URL."""
    from aiagents.tracing.phoenix_server import start_phoenix

    server = start_phoenix(tmp_path_factory.mktemp("phoenix"))
    yield server.url
    server.stop()


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A scripted OpenAI-wire server on 127.0.0.1; real requests to it are allowed for this test."""
    from tests.support.openai_wire import OpenAIWireServer

    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    server = OpenAIWireServer().start()
    yield server
    server.stop()
