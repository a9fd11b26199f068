"""`aiagents task run|list`: typed prompt calls from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from aiagents.cli.output import console, fail, note_model, out, print_json, run_guarded
from aiagents.cli.prompts_cmd import served_cell, served_json
from aiagents.prompts import PromptRegistry
from aiagents.tasks import Task
from aiagents.tracing import setup as setup_tracing


def parse_inputs(pairs: list[str], input_file: Path | None) -> dict[str, Any]:
    """`key=value` pairs (a value starting with @ is read from a file) plus an optional JSON file."""
    values: dict[str, Any] = {}
    if input_file is not None:
        try:
            values.update(json.loads(input_file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            fail(f"{input_file}: cannot read a JSON object of inputs ({exc}).")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"--input {pair!r}: write key=value (or key=@file).")
        values[key] = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    return values


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Typed prompt calls: run a prompt task, list tasks.", no_args_is_help=True)
    app.add_typer(group, name="task")

    @group.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Tasks are prompts with an output model: list them, with the version each serves."""
        registry = PromptRegistry()
        rows = []
        for name in registry.names():
            prompt = registry.current(name)
            rows.append({"task": name, "version": prompt.version, "served": served_json(registry, name),
                         "output": prompt.output, "variables": list(prompt.variables)})  # fmt: skip
        if as_json:
            print_json({"tasks": rows})
            return
        table = Table("task", "file version", "served", "output", "variables")
        for r in rows:
            table.add_row(
                r["task"], r["version"], served_cell(r["served"]), r["output"] or "str", ", ".join(r["variables"])
            )
        out.print(table)

    @group.command("run")
    def run(
        name: str = typer.Argument(..., help="Prompt name, e.g. listing-attributes."),
        text: str | None = typer.Argument(None, help="The value of the prompt's only text variable."),
        inputs: list[str] = typer.Option([], "--input", "-i", help="key=value (repeatable; key=@file reads a file)."),
        input_file: Path | None = typer.Option(None, "--input-file", help="JSON object of inputs."),
        image: str | None = typer.Option(None, "--image", help="Path or URL for the prompt's image variable."),
        file: str | None = typer.Option(None, "--file", help="Path or URL for the prompt's file variable."),
        model: str | None = typer.Option(None, "--model", "-m", help="Model, e.g. openai:gpt-4.1-mini, offline."),
        version: str | None = typer.Option(None, "--version", help="Prompt version to use."),
        label: str | None = typer.Option(None, "--label", help="Prompt label to use (production, ...)."),
        output_mode: str | None = typer.Option(
            None, "--output-mode", help="tool (default), native (JSON schema response format) or prompted."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Run a prompt task once and print its validated output."""
        values = parse_inputs(inputs, input_file)
        task = run_guarded(
            Task, name, version=version, label=label, working_file=not (version or label), output_mode=output_mode
        )
        for value, kind in ((image, "image"), (file, "file")):
            if value is None:
                continue
            slots = [n for n, v in task.prompt.variables.items() if v.kind == kind and n not in values]
            if not slots:
                fail(f"Prompt {name!r} declares no {kind} variable; use --input for its variables.")
            values[slots[0]] = value
        if text is not None:
            free = [v for v in task.prompt.text_variables if v not in values]
            if len(free) != 1:
                fail(f"Prompt {name!r} has variables {task.prompt.text_variables}: pass them with --input key=value.")
            values[free[0]] = text
        model_name = note_model(model)
        if not (version or label):  # say when what runs here (the file being edited) is not what is served
            served, _m, source = run_guarded(PromptRegistry().served, name)
            if source != "file" and served.version != task.prompt.version:
                console.print(
                    f"[dim]running the working file {task.prompt.version}; the service serves {served.version} "
                    f"({source}); --label {source} runs that one[/]"
                )
        setup_tracing()
        result = run_guarded(lambda: asyncio.run(task.run(values, model=model_name)))
        payload = {
            "task": result.prompt_name,
            "prompt_version": result.prompt_version,
            "model": result.model,
            "output": result.output_json(),
            "attempts": result.attempts,
            "usage": {
                "input_tokens": result.usage.input_tokens,
                "output_tokens": result.usage.output_tokens,
                "cost_usd": result.usage.cost_usd,
            },
            "latency_ms": round(result.latency_ms, 2),
            "trace_id": result.trace_id,
        }
        if as_json:
            print_json(payload)
            return
        table = Table(title=f"{name} @ {result.prompt_version} ({result.model})", show_header=False)
        output = payload["output"]
        for key, value in output.items() if isinstance(output, dict) else [("output", output)]:
            table.add_row(str(key), str(value))
        out.print(table)
        out.print(f"trace {result.trace_id}  tokens {result.usage.total_tokens}  {result.latency_ms:.1f} ms")
