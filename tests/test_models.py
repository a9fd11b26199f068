"""Model resolution and the offline baseline's heuristics."""

from __future__ import annotations

import pytest
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel

from aiagents.errors import ModelNotConfiguredError, UnknownModelError
from aiagents.models import OFFLINE, OfflineModel, answer_extractively, default_model_name, fill_schema, resolve_model
from aiagents.models.extractive import Source, parse_sources
from aiagents.settings import reset_settings


def test_default_is_offline_without_keys() -> None:
    assert default_model_name() == OFFLINE
    resolved = resolve_model()
    assert resolved.name == "offline" and isinstance(resolved.model, OfflineModel)
    assert resolved.model.model_name == "offline-baseline"


def test_default_follows_the_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    reset_settings()
    assert default_model_name() == "openai:gpt-4.1-mini"
    monkeypatch.setenv("AIAGENTS_MODEL", "anthropic:claude-sonnet-4-5")
    reset_settings()
    assert default_model_name() == "anthropic:claude-sonnet-4-5"


def test_provider_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    reset_settings()
    chat = resolve_model("openai:gpt-4.1-mini")
    assert isinstance(chat.model, OpenAIChatModel) and chat.model.model_name == "gpt-4.1-mini"
    assert isinstance(resolve_model("openai-responses:gpt-4.1").model, OpenAIResponsesModel)
    anthropic = resolve_model("anthropic:claude-haiku-4-5")
    assert isinstance(anthropic.model, AnthropicModel) and anthropic.provider == "anthropic"


def test_openai_compatible_needs_no_key() -> None:
    resolved = resolve_model("openai-compatible:llama3.2@http://127.0.0.1:11434/v1")
    assert isinstance(resolved.model, OpenAIChatModel)
    assert resolved.model.model_name == "llama3.2"
    assert resolved.model.base_url.rstrip("/") == "http://127.0.0.1:11434/v1"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gpt-4", r"Unknown model name 'gpt-4'\. Use one of: 'offline'"),
        ("mistral:large", r"Unknown model provider 'mistral'"),
        ("openai-compatible:llama", r"write 'openai-compatible:<model>@<base_url>'"),
    ],
)
def test_unknown_model_names(name: str, message: str) -> None:
    with pytest.raises(UnknownModelError, match=message):
        resolve_model(name)


def test_missing_key_says_what_to_set() -> None:
    with pytest.raises(ModelNotConfiguredError, match="set OPENAI_API_KEY"):
        resolve_model("openai:gpt-4.1-mini")
    with pytest.raises(ModelNotConfiguredError, match="set ANTHROPIC_API_KEY"):
        resolve_model("anthropic:claude-haiku-4-5")


SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 30},
        "price": {"type": "number", "minimum": 0},
        "category": {"enum": ["bikes", "books", "other"]},
        "condition": {"anyOf": [{"const": "new"}, {"const": "like new"}, {"const": "good"}]},
        "quantity": {"type": "integer"},
    },
    "required": ["title", "price", "category", "condition", "quantity"],
}


def test_fill_schema_heuristics() -> None:
    text = "Two city bikes for sale, like new. 2 available. Asking 180 EUR each."
    filled = fill_schema(SCHEMA, text)
    assert filled == {
        "title": "Two city bikes for sale, like",
        "price": 180.0,
        "category": "bikes",
        "condition": "like new",
        "quantity": 2,
    }


def test_fill_schema_prefers_labelled_values_and_falls_back_to_other() -> None:
    text = "Lamp\nCategory: nothing listed\nPrice: 12,50\nCondition: good"
    filled = fill_schema(SCHEMA, text)
    assert filled["category"] == "other"
    assert filled["price"] == 12.5
    assert filled["condition"] == "good"


def test_extractive_answer_cites_the_best_source() -> None:
    sources = [
        Source(id="shipping#0", text="Standard shipping takes 3 to 5 working days. Express is next day."),
        Source(id="refunds#0", text="A refund is paid within 14 days of the item arriving."),
    ]
    answer = answer_extractively("When is my refund paid?", sources)
    assert answer.found and answer.references[0] == "refunds#0"
    assert answer.text.startswith("A refund is paid within 14 days")
    none = answer_extractively("Who painted the Mona Lisa?", sources)
    assert not none.found and none.references == [] and none.confidence == 0.0


def test_parse_sources() -> None:
    assert [s.id for s in parse_sources("intro\n[a#0] one\n  [b#1] two\n")] == ["a#0", "b#1"]


def test_a_scripted_model_file_drives_an_agent_and_a_task(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`--model scripted:FILE`: the calls a rehearsal needs, round by round, then the final answer (through the
    output tool when the run has one); a broken script names the file and the field."""
    import json as _json

    from aiagents.retrieval.types import Hit
    from aiagents.tools.docs import docs_toolset
    from typer.testing import CliRunner

    from aiagents.agents import DocsAnswer, PromptAgent, SessionStore
    from aiagents.cli import app
    from aiagents.errors import UserError

    class Docs:
        def search(self, query, k=5, mode="hybrid", filters=None):  # type: ignore[no-untyped-def]
            return [Hit(id="refunds.md#0", text="A refund takes 14 days.", score=1.0, document_id="refunds.md")]

    script = tmp_path / "calls.yaml"
    script.write_text(
        "rounds:\n  - [{tool: search_docs, args: {query: refund time}}]\n"
        "final: {answer: 'Refunds take 14 days.', found_answer: true, references: [refunds.md#0], confidence: 0.9}\n"
    )
    agent = PromptAgent("docs-agent", toolsets=[docs_toolset(Docs())], output_type=DocsAnswer,
                        sessions=SessionStore(persist=False), output_mode="tool")  # fmt: skip
    result = agent.run_sync("How long?", model=f"scripted:{script}")
    assert result.output.answer == "Refunds take 14 days."
    assert [c.tool_name for c in result.trajectory.tool_calls()] == ["search_docs"]
    listing = tmp_path / "listing.yaml"
    listing.write_text("final: {title: Road bike, category: bikes, price: 350, condition: like new}\n")
    done = CliRunner().invoke(
        app, ["task", "run", "listing-attributes", "a bike", "--model", f"scripted:{listing}", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert _json.loads(done.stdout)["output"]["price"] == 350
    (tmp_path / "bad.yaml").write_text("rounds:\n  - [{args: {q: 1}}]\n")
    with pytest.raises(UserError, match=r"bad.yaml: rounds\[0\]\[0\] needs a 'tool' name"):
        resolve_model(f"scripted:{tmp_path / 'bad.yaml'}")
