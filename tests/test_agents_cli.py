"""`aiagents agent ask`: answer + trajectory as JSON, sessions across calls, record and replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiagents.retrieval.types import Hit
from typer.testing import CliRunner

from aiagents.cli import app


class Docs:
    def __init__(self, text: str) -> None:
        self.text = text

    def search(self, query, k=5, mode="hybrid", filters=None):  # type: ignore[no-untyped-def]
        return [Hit(id="refunds.md#0", text=self.text, score=1.0, document_id="refunds.md")]


@pytest.fixture
def fake_index(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the index and embedder with an in-memory search (the real path is tested in test_tools_docs)."""
    from aiagents import retrieval

    texts = ["A refund is paid within 14 days."]

    class Index:
        def close(self) -> None:
            pass

    monkeypatch.setattr(retrieval, "open_index", lambda name, backend=None: Index())
    monkeypatch.setattr(retrieval, "get_embedder", lambda name="minilm": None)
    monkeypatch.setattr(retrieval, "Retriever", lambda index, embedder: Docs(texts[0]))
    return texts


def _ask(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["agent", "ask", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ask_prints_answer_and_trajectory_json(fake_index: list[str]) -> None:
    data = _ask("How long does a refund take?", "--index", "docs", "--session", "s1", "--user", "u1")
    assert "14 days" in data["answer"] and "[refunds.md#0]" in data["answer"]
    assert data["tools_called"] == ["search_docs"]
    assert data["session_id"] == "s1" and data["user_id"] == "u1" and data["model"] == "offline"
    kinds = [s["kind"] for s in data["trajectory"]["steps"]]
    assert kinds == ["user_prompt", "model_turn", "tool_call", "tool_result", "model_turn", "final_output"]
    assert data["tool_rollout"]["enabled"] == ["search_docs", "fetch_document"]
    assert data["trace_id"] and len(data["trace_id"]) == 32
    # the second call continues the session: the model saw both questions (more input tokens)
    again = _ask("And how long does shipping take?", "--index", "docs", "--session", "s1")
    assert again["usage"]["input_tokens"] > data["usage"]["input_tokens"]
    sessions = json.loads(CliRunner().invoke(app, ["agent", "sessions", "--json"]).stdout)["sessions"]
    assert [(s["session_id"], s["messages"]) for s in sessions] == [("s1", 8)]


def test_record_then_replay_and_divergence(fake_index: list[str], tmp_path: Path) -> None:
    path = tmp_path / "rec.json"
    recorded = _ask("How long does a refund take?", "--index", "docs", "--record", str(path))
    replayed = _ask("How long does a refund take?", "--index", "docs", "--replay", str(path))
    assert replayed["answer"] == recorded["answer"]
    assert replayed["model"] == "replay:offline-baseline"
    fake_index[0] = "Refunds now take 30 days."
    result = CliRunner().invoke(
        app, ["agent", "ask", "How long does a refund take?", "--index", "docs", "--replay", str(path)]
    )
    assert result.exit_code == 1
    message = " ".join(result.output.split())  # rich wraps lines
    assert "diverged at step 4" in message and "search_docs tool returned something else" in message


def test_bad_mode_is_a_clear_error(fake_index: list[str]) -> None:
    result = CliRunner().invoke(app, ["agent", "ask", "q", "--index", "docs", "--mode", "fuzzy"])
    assert result.exit_code == 1 and "--mode must be bm25, dense or hybrid" in " ".join(result.output.split())
