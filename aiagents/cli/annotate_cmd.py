"""`aiagents annotate sample|next|list|pull|export`: the annotation queue, in the terminal or from Phoenix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from aiagents.cli.demo_space import read_demo_data_unless_yours
from aiagents.cli.output import console, fail, out, print_json, run_guarded

__all__ = ["register"]

annotate_app = typer.Typer(help="Label logged requests and turn the labels into eval cases.", no_args_is_help=True)


def _store() -> Any:
    from aiagents.logstore import open_store

    return open_store()


def _dataset_path(to: str) -> Path:
    """A path (has a suffix or a folder) or a name under `<data_dir>/datasets/NAME.yaml`."""
    if to.endswith((".yaml", ".yml", ".jsonl")) or "/" in to:
        return Path(to)
    from aiagents.settings import get_settings

    return get_settings().data_dir / "datasets" / f"{to}.yaml"


def _show(item: dict[str, Any]) -> None:
    req = item["request"] or {}
    facts = [
        f"{req.get('endpoint')}/{req.get('name')}" if req.get("endpoint") else None,
        f"variant {req['variant']}" if req.get("variant") else None,
        f"model {req['model']}" if req.get("model") else None,
        f"prompt {req['prompt_name']} {req.get('prompt_version') or ''}".strip() if req.get("prompt_name") else None,
        f"trace {req['trace_id']}" if req.get("trace_id") else None,
    ]
    status = " (skipped before)" if item.get("status") == "skipped" else ""
    console.print(
        Panel(
            f"request {item['request_id']}  ({item['reason']}){status}\n" + "  ".join(f for f in facts if f),
            title=f"annotate item {item['item_id'][:12]}",
        )
    )
    console.print("[bold]input[/]", json.dumps(req.get("input"), ensure_ascii=False, indent=2))
    if req.get("error_code"):
        console.print(f"[red]error[/] {req.get('error_code')}: {req.get('error_message')}")
    console.print("[bold]output[/]", json.dumps(req.get("output"), ensure_ascii=False, indent=2))
    if item["documents"]:
        table = Table("#", "document", "text", title="retrieved documents")
        for i, d in enumerate(item["documents"], 1):
            d = d if isinstance(d, dict) else {"text": str(d)}
            text = str(d.get("text") or d.get("snippet") or d.get("quote") or "")[:120]
            table.add_row(str(i), str(d.get("document_id") or d.get("id") or ""), text)
        console.print(table)
    trajectory = _trajectory(req)
    if trajectory is not None:
        console.print("[bold]trajectory[/] (from Phoenix)")
        for step in trajectory.steps:
            kind = step.kind
            detail = getattr(step, "tool_name", None) or getattr(step, "text", None) or ""
            if kind == "tool_call":
                detail = f"{step.tool_name}({json.dumps(step.args, ensure_ascii=False)[:100]})"
            elif kind == "final_output":
                detail = json.dumps(step.output, ensure_ascii=False, default=str)[:100]
            console.print(f"  {kind:12} {str(detail)[:120]}")
    else:
        what = "one model call" if req.get("endpoint") == "task" else "spans not available (Phoenix down?)"
        console.print(f"[bold]trajectory[/] user prompt → model → output ({what})")
    for f in item["feedback"]:
        said = f.get("thumbs") or ("corrected" if f.get("corrected_output") is not None else f.get("kind"))
        console.print(f"[bold]feedback[/] {said} {f.get('comment') or ''}")
        if f.get("corrected_output") is not None:  # the user's own correction: often the answer to copy
            console.print(
                "  [bold]user's correction[/]", json.dumps(f["corrected_output"], ensure_ascii=False, indent=2)
            )
    for s in item["scores"]:
        console.print(f"[bold]score[/] {s['name']} = {s['score']} {s.get('label') or ''} ({s['source']})")


def _check_correction(req: dict[str, Any], value: Any) -> None:
    """A correction must be an output the prompt could have given: validated against its output model (the
    version that answered), every wrong field named."""
    from pydantic import ValidationError

    from aiagents.prompts import PromptRegistry

    name, version = req.get("prompt_name"), req.get("prompt_version")
    if not name:
        return
    try:
        model = PromptRegistry().get(name, version=version).output_type()
    except Exception:  # noqa: BLE001 - the prompt or version is gone: nothing to check against
        return
    if model is None:
        return
    try:
        model.model_validate(value)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'output'}: {e['msg']}" for e in exc.errors())
        fail(f"--correct does not fit {name}'s output ({model.__name__}): {fields}", error_code="invalid_correction")


def _trajectory(req: dict[str, Any]) -> Any:
    """The agent run's `Trajectory` rebuilt from its spans in Phoenix (None for one-call tasks or when down)."""
    if req.get("endpoint") not in ("agent", "ask") or not req.get("trace_id"):
        return None
    try:
        from phoenix.client import Client

        from aiagents.settings import get_settings
        from aiagents.tracing import phoenix_url
        from aiagents.trajectory import Trajectory

        spans = Client(base_url=phoenix_url()).spans.get_spans(
            project_identifier=get_settings().phoenix_project, trace_ids=[req["trace_id"]], limit=1000, timeout=3
        )
        return Trajectory.from_spans(spans, trace_id=req["trace_id"]) if spans else None
    except Exception:  # noqa: BLE001 - the queue works without Phoenix; the terminal says so
        return None


def register(app: typer.Typer) -> None:
    @annotate_app.callback()
    def _data_folder() -> None:
        read_demo_data_unless_yours()

    @annotate_app.command("sample")
    def sample_cmd(
        n: int = typer.Option(50, "--n", help="How many requests to draw."),
        seed: int | None = typer.Option(None, help="Seed of the random tier (default: random)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Draw requests into the queue: errors and negative feedback, then low online-eval scores, then random."""
        from aiagents.annotate import sample

        store = _store()
        items = run_guarded(sample, store, n, seed=seed)
        store.close()
        if as_json:
            print_json({"items": [i.to_json() for i in items], "sampled": len(items)})
            return
        table = Table("item", "request", "reason", title=f"{len(items)} requests drawn into the annotation queue")
        for i in items:
            table.add_row(i.item_id[:12], i.request_id, i.reason)
        out.print(table)

    @annotate_app.command("next")
    def next_cmd(
        item_id: str | None = typer.Argument(None, help="An item or request id (prefix) to annotate instead."),
        verdict: str | None = typer.Option(None, "--verdict", help="good, bad or skip (asked when left out)."),
        label: str | None = typer.Option(None, "--label", help="A short label (what is wrong)."),
        correct: str | None = typer.Option(None, "--correct", help="The correct output, as JSON (for bad)."),
        annotator: str = typer.Option(os.environ.get("USER", "annotator"), "--annotator"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show the next queued request (input, output, documents, trajectory) and record a verdict."""
        from aiagents.annotate import next_item, record, skip

        store = _store()
        try:
            item = run_guarded(next_item, store, item_id)
            if item is None:
                if as_json:
                    print_json({"item": None, "message": "the annotation queue is empty"})
                else:
                    out.print("The annotation queue is empty: `aiagents annotate sample --n 50`.")
                return
            _show(item)
            if verdict is None:
                verdict = typer.prompt("verdict (good/bad/skip)", default="good")
                if verdict != "skip":
                    label = label or typer.prompt("label", default="") or None
                    if verdict == "bad" and correct is None:
                        correct = typer.prompt("correct output as JSON (empty: none)", default="") or None
            if verdict == "skip":
                skip(store, item["item_id"])
                if as_json:
                    print_json({"item_id": item["item_id"], "request_id": item["request_id"], "verdict": "skip"})
                else:
                    out.print(f"skipped request {item['request_id']}: it comes back after the others")
                return
            correct_value = None
            if correct:
                try:
                    correct_value = json.loads(correct)
                except json.JSONDecodeError as exc:
                    fail(f"--correct is not valid JSON: {exc}", error_code="invalid_correction")
                _check_correction(item["request"] or {}, correct_value)
            run_guarded(
                record, store, item["item_id"], verdict=verdict, label=label, correct_output=correct_value,
                annotator=annotator,
            )  # fmt: skip
        finally:
            store.close()
        if as_json:
            print_json(
                {"item_id": item["item_id"], "request_id": item["request_id"], "verdict": verdict, "label": label}
            )
        else:
            out.print(f"recorded {verdict!r} for request {item['request_id']}")

    @annotate_app.command("list")
    def list_cmd(
        status: str | None = typer.Option(None, help="pending or annotated."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """The annotation queue."""
        from aiagents.annotate import queue_items

        store = _store()
        rows = queue_items(store, status=status)
        store.close()
        if as_json:
            print_json({"items": rows})
            return
        table = Table("item", "request", "reason", "status", "verdict", "label", "annotator")
        for r in rows:
            table.add_row(
                r["item_id"][:12], r["request_id"][:16], r["reason"], r["status"], r["verdict"] or "",
                r["label"] or "", r["annotator"] or "",
            )  # fmt: skip
        out.print(table)

    @annotate_app.command("pull")
    def pull_cmd(
        project: str | None = typer.Option(None, "--project", help="Phoenix project (default: configured)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Read verdicts people gave in Phoenix (span annotations named 'verdict') into the queue."""
        from phoenix.client import Client

        from aiagents.annotate import import_phoenix
        from aiagents.settings import get_settings
        from aiagents.tracing import phoenix_url

        store = _store()
        try:
            taken = import_phoenix(store, Client(base_url=phoenix_url()), project or get_settings().phoenix_project)
        except Exception as exc:  # noqa: BLE001 - say what failed
            fail(f"could not read annotations from Phoenix at {phoenix_url()}: {exc}")
        finally:
            store.close()
        if as_json:
            print_json({"imported": taken})
        else:
            out.print(f"{taken} verdicts read from Phoenix")

    @annotate_app.command("export")
    def export_cmd(
        to: str = typer.Option(
            ..., "--to", help="A dataset file (.yaml/.jsonl) or a name (<data>/datasets/NAME.yaml)."
        ),
        task: str | None = typer.Option(None, "--task", help="Only requests of this task/index/agent name."),
        no_corrections: bool = typer.Option(False, "--no-corrections", help="Leave out user corrections."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Add annotated requests (and user corrections, as candidates) to an eval dataset, without duplicates."""
        from aiagents.annotate import annotated_cases, mark_exported
        from aiagents.cli.ab_cmd import export_cases

        path = _dataset_path(to)
        store = _store()
        try:
            cases = annotated_cases(store, name=task)
            if no_corrections:
                cases = [c for c in cases if not c["candidate"]]
            added, total, pruned = run_guarded(export_cases, cases, path)
            exported = [c["item_id"] for c in cases if c["item_id"] and c["request_id"] not in pruned]
            mark_exported(store, exported, str(path))
        finally:
            store.close()
        result = {"dataset": str(path), "added": added, "cases": total, "considered": len(cases),
                  "media_pruned": pruned}  # fmt: skip
        if as_json:
            print_json(result)
        else:
            out.print(f"{added} cases added to {path} ({total} in all); `aiagents eval run {path}` runs them")
            if pruned:
                out.print(f"{len(pruned)} left out: their uploaded media were pruned ({', '.join(pruned[:5])})")

    app.add_typer(annotate_app, name="annotate")
