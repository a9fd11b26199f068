"""`aiagents demo`: the end-to-end tour on embedded defaults, offline, traced into a local Phoenix.

The demo is a list of steps, one per layer; each step takes the shared `DemoContext`.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.rule import Rule
from rich.table import Table

from aiagents.cli.demo_space import demo_space
from aiagents.cli.output import console, note_model, out
from aiagents.settings import get_settings
from aiagents.tasks import Task
from aiagents.tracing import phoenix_url
from aiagents.tracing import setup as setup_tracing
from aiagents.tracing import shutdown as shutdown_tracing
from aiagents.tracing.phoenix_server import PhoenixServer, phoenix_is_up, start_phoenix

__all__ = ["DemoContext", "DEMO_STEPS", "register"]

DEMO_LISTINGS = [
    "Road bike, 54 cm aluminium frame, like new condition. Asking 350 EUR, pick-up in Lyon.",
    "Harry Potter books box set (7 books), new, never opened: 45 EUR",
    "Kids toys bundle: wooden train set and puzzles, good condition, 20 euros for everything.",
]


@dataclass(kw_only=True)
class DemoContext:
    """What the demo steps share."""

    model: str
    phoenix: str
    project: str
    trace_ids: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def step_typed_prompt(ctx: DemoContext) -> None:
    """Foundation: a typed prompt call (versioned prompt -> model -> validated pydantic output), traced."""
    console.print(Rule("1. Typed prompt call: listing-attributes"))
    task = Task("listing-attributes")
    table = Table("listing", "title", "category", "price €", "condition", title=f"prompt version {task.prompt.version}")
    for listing in DEMO_LISTINGS:
        result = asyncio.run(task.run({"listing": listing}, model=ctx.model, user_id="demo-user"))
        o = result.output
        table.add_row(listing[:40] + "…", o.title, o.category, f"{o.price:.2f}", o.condition)  # type: ignore[attr-defined]
        if result.trace_id:
            ctx.trace_ids.append(result.trace_id)
    out.print(table)


def step_read_back_traces(ctx: DemoContext) -> None:
    """Read the demo's spans back from Phoenix through its client."""
    console.print(Rule("Traces in Phoenix"))
    from aiagents.tracing import current_tracing

    tracing = current_tracing()
    if tracing is not None:
        tracing.flush()
    try:
        from phoenix.client import Client

        client = Client(base_url=ctx.phoenix)
        deadline = time.monotonic() + 30
        frame = None
        while time.monotonic() < deadline:
            frame = client.spans.get_spans_dataframe(project_identifier=ctx.project, limit=10_000)
            if frame is not None and len(frame) and set(ctx.trace_ids) <= set(frame["context.trace_id"]):
                break
            time.sleep(1)
        if frame is None or not len(frame):
            out.print("[yellow]No spans reached Phoenix yet (they are spooled; run `aiagents traces push`).[/]")
            return
        mine = frame[frame["context.trace_id"].isin(ctx.trace_ids)]
        kinds = mine["span_kind"].value_counts().to_dict()
        out.print(f"{len(mine)} spans of {len(set(ctx.trace_ids))} demo traces in project {ctx.project!r}: {kinds}")
    except Exception as exc:  # the demo reports, it does not die on a viewer problem
        out.print(f"[yellow]Could not read spans back from Phoenix: {exc}[/]")


DEMO_STEPS: list[Callable[[DemoContext], None]] = [step_typed_prompt]
"""Layers append their steps here (RAG, agents, evals, service); `step_read_back_traces` runs last."""


def _ensure_phoenix(keep: bool) -> tuple[str, PhoenixServer | None]:
    url = phoenix_url()
    if phoenix_is_up(url):
        return url, None
    settings = get_settings()
    console.print(f"Starting a local Phoenix (working directory {settings.phoenix_dir}) ...")
    server = start_phoenix(settings.phoenix_dir.resolve())
    return server.url, server


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        model: str | None = typer.Option(None, "--model", "-m", help="Model for every step (default: configured)."),
        keep_phoenix: bool = typer.Option(False, "--keep-phoenix", help="Leave the Phoenix the demo started running."),
    ) -> None:
        """The end-to-end tour: every layer on the embedded defaults, traced into Phoenix."""
        started = time.perf_counter()
        model_name = note_model(model)
        url, server = _ensure_phoenix(keep_phoenix)
        try:
            with demo_space() as folder:
                _reset_demo_folder(folder)
                settings = get_settings()
                setup_tracing(endpoint=url)
                ctx = DemoContext(model=model_name, phoenix=url, project=settings.phoenix_project)
                try:
                    for step in DEMO_STEPS:
                        step(ctx)
                    step_read_back_traces(ctx)
                finally:
                    shutdown_tracing()
        finally:
            if server is not None and not keep_phoenix:
                server.stop()
        out.print(Rule())
        out.print(f"Phoenix: {url}  (project {ctx.project!r})")
        if server is not None and not keep_phoenix:
            out.print("The demo's Phoenix has stopped; its traces are kept: `aiagents phoenix` serves them again.")
        out.print(
            f"The demo's data (request log, experiment 'demo', index, datasets) is in {folder}, apart from yours: "
            f"your service, dashboard and reports never see it. Until you have traffic of your own, `aiagents "
            f"logs`, `ab report` and `annotate` show it; `AIAGENTS_DATA_DIR={folder}` works on it."
        )
        out.print(f"Demo finished in {time.perf_counter() - started:.1f} s with model {model_name!r}.")


def _reset_demo_folder(folder: Path) -> None:
    """Each demo starts from an empty folder of its own (its figures are those of this run)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)
