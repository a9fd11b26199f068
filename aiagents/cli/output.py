"""Shared output helpers for the CLI: rich on stderr for people, one JSON object on stdout for `--json`."""

from __future__ import annotations

import importlib
import json
import re
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from aiagents.errors import AiAgentsError
from aiagents.models import OFFLINE, default_model_name

__all__ = ["console", "out", "print_json", "fail", "note_model", "run_guarded", "error_code_of", "json_errors"]

console = Console(stderr=True)
"""Progress, tables and notes go to stderr so stdout stays clean for `--json`."""
out = Console()
_noted = False


def print_json(data: Any) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


json_errors = False
"""Set by `main()` when the command line has `--json`: errors then go to stdout as one JSON object."""


def fail(message: str, code: int = 1, *, error_code: str = "error") -> NoReturn:
    """Say what went wrong and exit with `code`: on stderr for people, or with `--json` as one object on stdout
    in the HTTP API's shape (`{"error": {"code": ..., "message": ...}}`)."""
    if _json_wanted():
        print_json({"error": {"code": error_code, "message": message}})
    else:
        console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _json_wanted() -> bool:
    """`--json` on the command line, or on the command running now (its `as_json` parameter)."""
    if json_errors:
        return True
    ctx = _current_context()
    return bool(ctx is not None and (ctx.params.get("as_json") or ctx.params.get("json_out")))


def _current_context() -> Any:
    """The running command's context. Typer 0.29 carries its own copy of click (`typer._click`), whose context
    stack is not click's: ask it first, then click (older and newer typer releases)."""
    for module in ("typer._click.globals", "click"):
        try:
            ctx = importlib.import_module(module).get_current_context(silent=True)
        except (ImportError, AttributeError):
            continue
        if ctx is not None:
            return ctx
    return None


def error_code_of(exc: BaseException) -> str:
    """A stable code from the exception's class: `PromptNotFoundError` -> `prompt_not_found`."""
    name = type(exc).__name__.removesuffix("Error") or "error"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def note_model(requested: str | None) -> str:
    """The model a command will use; says once per run when it falls back to the offline baseline."""
    global _noted
    name = requested or default_model_name()
    if name == OFFLINE and requested is None and not _noted:
        console.print(
            "[yellow]No model API key configured: using the offline baseline model "
            "(set OPENAI_API_KEY / ANTHROPIC_API_KEY or pass --model).[/]"
        )
        _noted = True
    return name


def run_guarded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `fn`, turning the framework's errors into a clear message and exit code 1."""
    try:
        return fn(*args, **kwargs)
    except AiAgentsError as exc:
        fail(str(exc), error_code=error_code_of(exc))
    except Exception as exc:
        from pydantic_ai.exceptions import AgentRunError

        if isinstance(exc, AgentRunError):  # a provider failure not explained on the way: still no traceback
            fail(f"the model call failed: {type(exc).__name__}: {exc}", error_code="model_error")
        raise


def mirror_to_phoenix(name: str, versions: list[str] | None = None, *, url: str | None = None) -> list[dict[str, Any]]:
    """Copy prompt `name`'s labelled versions (and `versions`) into Phoenix's prompt registry, labels as tags, when
    Phoenix answers within a second; returns what was mirrored (nothing when Phoenix is down: the loop goes on)."""
    from aiagents.prompts import PromptRegistry
    from aiagents.settings import get_settings
    from aiagents.tracing import mirror_prompt, phoenix_url
    from aiagents.tracing.phoenix_server import phoenix_is_up

    settings = get_settings()
    url = url or phoenix_url(settings)
    if not settings.tracing or not phoenix_is_up(url):
        return []
    registry = PromptRegistry()
    by_version: dict[str, list[str]] = {v: [] for v in versions or []}
    for label, version in registry.labels(name).items():
        by_version.setdefault(version, []).append(label)
    key = settings.phoenix_api_key.get_secret_value() if settings.phoenix_api_key else None
    mirrored = []
    for version, labels in by_version.items():
        prompt = registry.get(name, version=version)
        model = registry.label_model(name, labels[0]) if labels else None
        done = mirror_prompt(prompt, sorted(labels), url, model=model or settings.model, api_key=key)
        if done is not None:
            mirrored.append({"version": version, **done})
    return mirrored


def one_line(value: Any, width: int = 80) -> str:
    """A value on one line (JSON for non-strings, whitespace folded), cut to `width` characters: a table cell."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
