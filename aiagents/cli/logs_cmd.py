"""`aiagents logs list|stats|prune-media`: read the request log and feedback store; prune uploaded media."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import typer
from rich.table import Table

from aiagents.cli.output import console, out, print_json, run_guarded
from aiagents.settings import get_settings

__all__ = ["register", "parse_since"]

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str | None, *, now: float | None = None) -> float | None:
    """'30m', '2h', '7d' (ago), an ISO date or time (UTC when no zone), or epoch seconds -> epoch seconds."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    match = _RELATIVE.match(value)
    if match:
        return (now if now is not None else time.time()) - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        message = f"--since {value!r}: write 30m, 2h, 7d, an ISO date like 2025-06-01, or epoch seconds"
        raise typer.BadParameter(message) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def _outside_the_store() -> dict[str, int]:
    """Rows not in the store: refused for good (dead-letter file), or journaled by a service not yet stopped or
    stopped before storing them (replayed by the next one, or by `aiagents logs recover`)."""
    from aiagents.logstore import DeadLetter, dead_letter_path, journal_dir

    data_dir = get_settings().data_dir
    folder = journal_dir(data_dir)
    journal = 0
    for path in folder.glob("*.jsonl") if folder.is_dir() else ():
        with path.open("rb") as handle:
            journal += sum(1 for line in handle if line.strip())
    return {"dead_letter": DeadLetter(dead_letter_path(data_dir)).count(), "journal_rows": journal}


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The request log: list requests, stats of requests and feedback.", no_args_is_help=True)
    app.add_typer(group, name="logs")

    @group.command("list")
    def list_(
        since: str | None = typer.Option(None, "--since", help="30m, 2h, 7d, an ISO date/time or epoch seconds."),
        limit: int = typer.Option(50, "--limit", "-n", min=1),
        endpoint: str | None = typer.Option(None, "--endpoint", help="task, ask or agent."),
        errors: bool = typer.Option(False, "--errors", help="Only failed requests."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Logged requests, newest first."""
        from aiagents.logstore import open_store

        store = run_guarded(open_store)
        rows = store.list_requests(since=parse_since(since), limit=limit, endpoint=endpoint, errors_only=errors)
        if as_json:
            print_json({"requests": rows, "count": len(rows)})
            return
        table = Table("time (UTC)", "request id", "endpoint", "name", "model", "variant", "ms", "status", "user")
        for r in rows:
            table.add_row(
                _iso(r["created_at"]), r["request_id"][:12] + "…", r["endpoint"], r["name"] or "", r["model"] or "",
                r["variant"], f"{r['latency_ms']:.0f}", f"{r['status']} {r['error_code'] or ''}".strip(),
                r["user_id"] or "",
            )  # fmt: skip
        out.print(table)

    @group.command("stats")
    def stats(
        since: str | None = typer.Option(None, "--since", help="30m, 2h, 7d, an ISO date/time or epoch seconds."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Requests, feedback, errors, thumbs, corrections, latency, tokens and cost in the log."""
        from aiagents.logstore import open_store, redact_url

        store = run_guarded(open_store)
        data = {**store.stats(since=parse_since(since)), **_outside_the_store()}
        if as_json:
            print_json({**data, "store": redact_url(store.url)})
            return
        table = Table("metric", "value", title=f"request log {redact_url(store.url)}")
        for key, value in data.items():
            table.add_row(key, str(value))
        out.print(table)
        if data["requests"] == 0:
            console.print("No requests logged yet: start `aiagents serve` and send some.")
        if data["dead_letter"]:
            console.print(f"[yellow]{data['dead_letter']} rows the store refused are in the dead-letter file; "
                          "`aiagents logs recover` stores them once the cause is fixed.[/]")  # fmt: skip

    @group.command("recover")
    def recover_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Store what a stopped service left outside the log: its journal, and the dead-letter rows."""
        from aiagents.logstore import open_store, recover

        store = run_guarded(open_store)
        report = run_guarded(recover, store, get_settings().data_dir)
        if as_json:
            print_json(report)
            return
        out.print(
            f"{report['journal_rows']} rows stored from journals of stopped processes; dead-letter rows: "
            f"{report['dead_letter_stored']} stored, {report['dead_letter_left']} refused again"
        )

    @group.command("prune-media")
    def prune_media(
        older_than_days: float | None = typer.Option(
            None, "--older-than-days", min=0, help="Default: AIAGENTS_MEDIA_RETENTION_DAYS (unset: keep all)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Delete uploaded files (data_dir/media) not uploaded again for the retention period."""
        from aiagents.media_store import MediaStore

        store = MediaStore()
        report = run_guarded(store.prune, older_than_days=older_than_days)
        if as_json:
            print_json({**report.to_json(), "media_dir": str(store.root)})
            return
        if report.cutoff is None:
            console.print("No retention set (AIAGENTS_MEDIA_RETENTION_DAYS or --older-than-days): nothing deleted.")
        out.print(f"{report.removed} files deleted ({report.bytes_freed:,} bytes), {report.kept} kept in {store.root}")
