"""Shipped eval suites, one per layer, runnable by name with `aiagents eval run NAME`:

- `listing-attributes`: the typed prompt task (12 listings with expected attributes, field-by-field match);
- `listing-from-photo`: the same with an image input (10 generated photos under `images/`, made by
  `make_listing_photos.py`): category exact, price within 20%, title contains the product name;
- `docs-rag`: retrieval over the demo help center (12 questions with expected documents; hit/MRR/recall/nDCG);
- `docs-agent`: a docs agent that must call `search_docs` (8 questions with expected trajectories).

The RAG and agent suites read the index `demo-docs`, built by `aiagents ingest`
on the folder `aiagents.ingestion.demo_docs_path()` with `--index demo-docs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.evals.datasets import Dataset
from aiagents.evals.evaluators import FieldsMatch, RetrievalMetrics, ToolCallsMatch
from aiagents.evals.runner.targets import Target
from pydantic_evals.evaluators import Evaluator

from aiagents.errors import UserError

__all__ = ["SUITES", "Suite", "get_suite", "suite_names", "SUITES_DIR", "DOCS_INDEX"]

SUITES_DIR = Path(__file__).parent
DOCS_INDEX = "demo-docs"


@dataclass(kw_only=True)
class Suite:
    """A dataset with the target it evaluates and its evaluators."""

    name: str
    layer: str
    """prompt, rag or agent."""
    description: str
    dataset_file: Path
    make_target: Callable[[str | None, str | None], Target]
    """(model, prompt version or label) -> target."""
    make_evaluators: Callable[[], list[Evaluator[Any, Any, Any]]] = field(default=list)

    def dataset(self) -> Dataset:
        return Dataset.load(self.dataset_file)


def _listing_target(model: str | None, prompt: str | None) -> Target:
    """`prompt` is a version, a label, or another prompt name of the same output (e.g. listing-attributes-v2)."""
    from aiagents.evals.runner.targets import task_target

    from aiagents.prompts import PromptRegistry
    from aiagents.tasks import Task

    registry = PromptRegistry()
    if prompt and prompt in registry.names():
        task = Task(prompt, working_file=True)
    else:  # a version or a label; none: the working file (the version being edited)
        task = Task(registry.resolve("listing-attributes", prompt))
    return task_target(task, model=model)


def _listing_evaluators() -> list[Evaluator[Any, Any, Any]]:
    return [
        FieldsMatch(
            fields={"title": "contains", "category": "exact", "price": "numeric:0.5", "condition": "exact"},
            only_listed=True,
        )
    ]


def _photo_target(model: str | None, prompt: str | None) -> Target:
    """`prompt` is a version or a label of `listing-from-photo`."""
    from aiagents.evals.runner.targets import task_target

    from aiagents.prompts import PromptRegistry
    from aiagents.tasks import Task

    task = Task(PromptRegistry().resolve("listing-from-photo", prompt))  # none: the working file
    return task_target(task, model=model)


def _photo_evaluators() -> list[Evaluator[Any, Any, Any]]:
    return [FieldsMatch(fields={"title": "contains", "category": "exact", "price": "numeric:20%"}, only_listed=True)]


def _rag_target(model: str | None, prompt: str | None) -> Target:
    from aiagents.evals.suites.docs import rag_target

    return rag_target(model=model)


def _agent_target(model: str | None, prompt: str | None) -> Target:
    """`prompt`: a version or a label of `docs-agent` (none: its working file)."""
    from aiagents.evals.suites.docs import agent_target

    return agent_target(model=model, prompt_version=prompt)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite(
            name="listing-attributes",
            layer="prompt",
            description="Typed prompt task: listing text -> title, category, price, condition.",
            dataset_file=SUITES_DIR / "listing-attributes.yaml",
            make_target=_listing_target,
            make_evaluators=_listing_evaluators,
        ),
        Suite(
            name="listing-from-photo",
            layer="prompt",
            description="Image input: a photo of an item -> listing title, category, price (generated photos).",
            dataset_file=SUITES_DIR / "listing-from-photo.yaml",
            make_target=_photo_target,
            make_evaluators=_photo_evaluators,
        ),
        Suite(
            name="docs-rag",
            layer="rag",
            description="Hybrid retrieval over the demo help center: expected documents in the top 5.",
            dataset_file=SUITES_DIR / "docs-rag.yaml",
            make_target=_rag_target,
            make_evaluators=lambda: [RetrievalMetrics(k=5)],
        ),
        Suite(
            name="docs-agent",
            layer="agent",
            description="Docs agent: must call search_docs, then answer from what it found.",
            dataset_file=SUITES_DIR / "docs-agent.yaml",
            make_target=_agent_target,
            make_evaluators=lambda: [
                ToolCallsMatch(mode="superset", arg_mode="ignore", evaluation_name="calls_search_docs"),
                RetrievalMetrics(k=5, retrieval_tools=("search_docs",)),
            ],
        ),
    )
}


def suite_names() -> list[str]:
    return list(SUITES)


def get_suite(name: str) -> Suite:
    try:
        return SUITES[name]
    except KeyError:
        raise UserError(
            f"No eval suite {name!r}; shipped suites: {', '.join(SUITES)} (or pass a dataset file)."
        ) from None
