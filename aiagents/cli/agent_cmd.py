"""`aiagents agent ...`: ask the docs agent a question over an index; list and forget sessions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.rule import Rule
from rich.table import Table

from aiagents.cli.output import console, note_model, one_line, out, print_json, run_guarded

if TYPE_CHECKING:
    from aiagents.agents import AgentResult
    from aiagents.cli.demo_cmd import DemoContext
    from aiagents.trajectory import Trajectory

__all__ = ["register", "trajectory_table", "ask_docs_agent", "step_docs_agent", "trajectory_from_phoenix"]

DOCS_AGENT_PROMPT = "docs-agent"
DEMO_INDEX = "demo-docs"
DEMO_QUESTION = "How long does a refund take?"


def trajectory_table(trajectory: Trajectory, *, title: str = "trajectory") -> Table:
    """A rich table with one row per step."""
    from aiagents.trajectory import FinalOutput, ModelTurn, ToolCall, ToolResult, UserPrompt

    table = Table("#", "step", "detail", title=title)
    for i, step in enumerate(trajectory.steps, start=1):
        if isinstance(step, UserPrompt):
            table.add_row(str(i), "user", one_line(step.text, 90))
        elif isinstance(step, ModelTurn):
            asked = ", ".join(c.tool_name for c in step.tool_calls)
            detail = one_line(step.text, 90) if step.text else f"calls {asked}"
            table.add_row(str(i), "model", f"{detail}  [dim]({step.usage.total_tokens} tokens)[/]")
        elif isinstance(step, ToolCall):
            table.add_row(str(i), "tool call", f"[bold]{step.tool_name}[/]({one_line(step.args, 70)})")
        elif isinstance(step, ToolResult):
            label = "[red]tool error[/]" if step.error else "tool result"
            content = step.content
            if isinstance(content, list) and content and isinstance(content[0], dict) and "id" in content[0]:
                content = f"{len(content)} hits: " + ", ".join(str(h["id"]) for h in content)
            table.add_row(str(i), label, f"{step.tool_name}: {one_line(content, 90)}")
        elif isinstance(step, FinalOutput):
            table.add_row(str(i), "output", one_line(step.output, 120))
    return table


def ask_docs_agent(
    question: str,
    index: str,
    *,
    model: Any = None,
    session_id: str | None = None,
    user_id: str | None = None,
    structured: bool = False,
    mode: str = "hybrid",
    embedder: str = "minilm",
    backend: str | None = None,
    rollout: Path | None = None,
    limits: Any = None,
) -> AgentResult[Any]:
    """Open `index`, build the docs agent over it and answer `question` (the CLI and demo path)."""
    from aiagents.retrieval import Retriever, get_embedder, open_index
    from aiagents.tools.docs_agent import docs_agent
    from aiagents.tools.rollout import load_rollout

    idx = open_index(index, backend=backend)
    try:
        retriever = Retriever(idx, get_embedder(embedder))
        agent = docs_agent(
            retriever, mode=mode, rollout=load_rollout(rollout), structured=structured,
            **({"limits": limits} if limits is not None else {}),
        )  # fmt: skip
        return asyncio.run(agent.run(question, model=model, session_id=session_id, user_id=user_id))
    finally:
        idx.close()


def result_json(result: AgentResult[Any]) -> dict[str, Any]:
    """The `--json` object of `agent ask`."""
    from pydantic_core import to_jsonable_python

    return {
        "answer": result.answer_text,
        "output": to_jsonable_python(result.output, fallback=str),
        "trajectory": json.loads(result.trajectory.to_json()),
        "trace_id": result.trace_id,
        "session_id": result.session_id,
        "user_id": result.user_id,
        "model": result.model,
        "prompt": result.prompt_name,
        "prompt_version": result.prompt_version,
        "tools_called": [c.tool_name for c in result.trajectory.tool_calls()],
        "tool_rollout": result.metadata.get("tool_rollout"),
        "usage": {
            "requests": result.usage.requests,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        },
        "latency_ms": round(result.latency_ms, 1),
    }


def step_docs_agent(ctx: DemoContext) -> None:
    """Agents: the docs agent searches the demo corpus and answers with citations; its trajectory."""
    console.print(Rule("Agent: docs agent over the demo corpus"))
    index = ctx.notes.get("index")
    if not index:
        from aiagents.ingestion import ingest

        docs = Path(__file__).resolve().parent.parent / "demo_data" / "docs"
        report = ingest(docs, DEMO_INDEX)
        index = DEMO_INDEX
        ctx.notes["index"] = index
        console.print(f"ingested {report.read} demo documents into index {index!r} ({report.chunks} chunks)")
    result = ask_docs_agent(DEMO_QUESTION, index, model=ctx.model, session_id="demo-session", user_id="demo-user")
    out.print(f"[bold]Q:[/] {DEMO_QUESTION}\n[bold]A:[/] {result.answer_text}")
    out.print(trajectory_table(result.trajectory, title=f"trajectory (prompt docs-agent v{result.prompt_version})"))
    if result.trace_id:
        ctx.trace_ids.append(result.trace_id)


def register(app: typer.Typer) -> None:
    from aiagents.cli import demo_cmd

    if step_docs_agent not in demo_cmd.DEMO_STEPS:
        demo_cmd.DEMO_STEPS.append(step_docs_agent)

    group = typer.Typer(help="Tool-using agents: ask the docs agent, manage sessions.", no_args_is_help=True)
    app.add_typer(group, name="agent")

    @group.command("ask")
    def ask(
        question: Annotated[str, typer.Argument(help="The question to answer from the documentation.")],
        index: Annotated[str, typer.Option("--index", "-i", help="Index to search (see `aiagents ingest`).")],
        session: Annotated[str | None, typer.Option("--session", "-s", help="Continue this conversation.")] = None,
        user: Annotated[str | None, typer.Option("--user", "-u", help="User id (traces, tool rollout).")] = None,
        model: Annotated[str | None, typer.Option("--model", "-m", help="Model name (default: configured).")] = None,
        structured: Annotated[
            bool, typer.Option("--structured", help="Answer as DocsAnswer(answer, found_answer, references, ...).")
        ] = False,
        mode: Annotated[str, typer.Option(help="Search mode of the tool: bm25, dense or hybrid.")] = "hybrid",
        embedder: Annotated[str, typer.Option(help="Embedder the index was built with.")] = "minilm",
        backend: Annotated[str | None, typer.Option(help="Index backend: edge (default) or qdrant.")] = None,
        rollout: Annotated[Path | None, typer.Option(help="Tool rollout file (YAML/JSON).")] = None,
        max_requests: Annotated[int, typer.Option(help="Most model requests in the run.")] = 10,
        max_tool_calls: Annotated[int, typer.Option(help="Most tool calls in the run.")] = 20,
        max_tokens: Annotated[int | None, typer.Option(help="Most tokens (input + output) in the run.")] = None,
        record: Annotated[Path | None, typer.Option(help="Save the trajectory as JSON (for ReplayModel).")] = None,
        replay: Annotated[
            Path | None, typer.Option(help="Play back a recorded trajectory instead of calling a model.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Answer QUESTION with the docs agent over index NAME; print the answer and the trajectory."""
        from aiagents.agents import Limits
        from aiagents.tracing import setup as setup_tracing

        if mode not in ("bm25", "dense", "hybrid"):
            run_guarded(_bad, f"--mode must be bm25, dense or hybrid, not {mode!r}")
        chosen: Any = note_model(model) if replay is None else run_guarded(_replay_model, replay)
        setup_tracing()
        limits = Limits(max_requests=max_requests, max_tool_calls=max_tool_calls, max_tokens=max_tokens)
        result = run_guarded(
            ask_docs_agent,
            question,
            index,
            model=chosen,
            session_id=session,
            user_id=user,
            structured=structured,
            mode=mode,
            embedder=embedder,
            backend=backend,
            rollout=rollout,
            limits=limits,
        )
        if record is not None:
            result.trajectory.save(record)
            console.print(f"trajectory saved to {record}")
        if as_json:
            print_json(result_json(result))
            return
        out.print(result.answer_text)
        console.print(trajectory_table(result.trajectory))
        console.print(
            f"[dim]model {result.model} · prompt {result.prompt_name} v{result.prompt_version} · "
            f"{result.usage.requests} requests, {result.usage.total_tokens} tokens · {result.latency_ms:.0f} ms"
            f"{' · session ' + result.session_id if result.session_id else ''}"
            f"{' · trace ' + result.trace_id if result.trace_id else ''}[/]"
        )

    @group.command("trace")
    def trace_cmd(
        trace_id: Annotated[str, typer.Argument(help="Trace id (32 hex digits) of an agent run in Phoenix.")],
        phoenix: Annotated[str | None, typer.Option(help="Phoenix URL (default: the configured one).")] = None,
        project: Annotated[str | None, typer.Option(help="Phoenix project (default: the configured one).")] = None,
        save: Annotated[Path | None, typer.Option(help="Save the trajectory as JSON (e.g. to replay it).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Read an agent run back from Phoenix as a trajectory (the same object a test run gives)."""
        trajectory = run_guarded(trajectory_from_phoenix, trace_id, url=phoenix, project=project)
        if save is not None:
            trajectory.save(save)
            console.print(f"trajectory saved to {save}")
        if as_json:
            print_json({"trace_id": trace_id, "trajectory": json.loads(trajectory.to_json())})
            return
        console.print(trajectory_table(trajectory, title=f"trace {trace_id}"))

    @group.command("sessions")
    def sessions(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
        """List stored sessions."""
        from aiagents.agents import SessionStore

        rows = SessionStore().sessions()
        if as_json:
            print_json({"sessions": [r.__dict__ for r in rows]})
            return
        table = Table("session", "messages", "updated", title="agent sessions")
        for r in rows:
            table.add_row(r.session_id, str(r.messages), r.updated_at)
        console.print(table)

    @group.command("forget")
    def forget(
        session: Annotated[str, typer.Argument(help="Session id to delete.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Delete a session's history."""
        from aiagents.agents import SessionStore

        SessionStore().clear(session)
        if as_json:
            print_json({"session": session, "forgotten": True})
            return
        console.print(f"session {session!r} forgotten")


def trajectory_from_phoenix(trace_id: str, *, url: str | None = None, project: str | None = None) -> Trajectory:
    """The trajectory of the agent run in trace `trace_id`, read through the Phoenix client."""
    import httpx
    from phoenix.client import Client

    from aiagents.errors import UserError
    from aiagents.settings import get_settings
    from aiagents.tracing import phoenix_url
    from aiagents.trajectory import Trajectory

    url = url or phoenix_url()
    project = project or get_settings().phoenix_project
    try:
        spans = Client(base_url=url).spans.get_spans(project_identifier=project, trace_ids=[trace_id], limit=10_000)
    except (httpx.HTTPError, OSError) as exc:
        raise UserError(f"Could not read trace {trace_id} from Phoenix at {url} (project {project!r}): {exc}") from exc
    if not spans:
        raise UserError(f"No spans of trace {trace_id} in Phoenix at {url} (project {project!r}).")
    return Trajectory.from_spans(spans, trace_id=trace_id)


def _replay_model(path: Path) -> Any:
    from aiagents.models import ReplayModel

    return ReplayModel.load(path)


def _bad(message: str) -> None:
    from aiagents.errors import UserError

    raise UserError(message)
