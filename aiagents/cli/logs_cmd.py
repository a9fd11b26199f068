"""`aiagents logs list|show|stats|recover|prune-media`: the request log and feedback store; uploaded media."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import typer
from rich.table import Table

from aiagents.cli.demo_space import read_demo_data_unless_yours
from aiagents.cli.output import console, fail, one_line, out, print_json, run_guarded
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
        task: str | None = typer.Option(None, "--task", help="Only this task (or index, or agent) name."),
        variant: str | None = typer.Option(None, "--variant", help="Only this A/B variant."),
        feedback: str | None = typer.Option(None, "--feedback", help="down, up, corrected or any."),
        errors: bool = typer.Option(False, "--errors", help="Only failed requests."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Logged requests, newest first, with their input and output cut to the terminal."""
        read_demo_data_unless_yours()
        from aiagents.logstore import open_store

        store = run_guarded(open_store)
        rows = run_guarded(
            store.list_requests, since=parse_since(since), limit=limit, endpoint=endpoint, errors_only=errors,
            name=task, variant=variant, feedback=feedback,
        )  # fmt: skip
        if as_json:
            print_json({"requests": rows, "count": len(rows)})
            return
        wide = out.width >= 110  # a narrow terminal drops the time and variant columns, not the input and output
        fixed_columns = ["time (UTC)", "request id", "name", "version", "variant"] if wide else ["request id", "name"]
        table = Table()
        for column in fixed_columns:
            table.add_column(column, no_wrap=True)
        table.add_column("input")
        table.add_column("output")
        table.add_column("status", no_wrap=True)
        name_width = max([len(r["name"] or "") for r in rows] or [4])
        fixed = 11 + name_width + 7 + 3 * (len(fixed_columns) + 3) + 1 + ((11 + 8 + 7) if wide else 0)
        cell = max(12, (out.width - fixed) // 2)  # one line a request: input and output cut to what is left
        for r in rows:
            shown = r["output"] if not r["error_code"] else r["error_message"]
            cells = [r["request_id"][:10] + "…", r["name"] or ""]
            if wide:
                when = _iso(r["created_at"])[5:16].replace("T", " ")
                cells = [when, *cells, r["prompt_version"] or "", r["variant"]]
            status = f"{r['status']} {r['error_code'] or ''}".strip()
            table.add_row(*cells, one_line(r["input"], cell), one_line(shown, cell), status)
        out.print(table)
        if not rows:
            console.print("No requests match (`aiagents logs list` without filters shows all).")

    @group.command("show")
    def show(
        request_id: str = typer.Argument(..., help="A request id (a unique prefix is enough)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """One request: input, output, prompt version, model, variant, feedback, online scores, trace link."""
        read_demo_data_unless_yours()
        from aiagents.logstore import open_store
        from aiagents.tracing import phoenix_url

        store = run_guarded(open_store)
        matches = store.query("SELECT request_id FROM requests WHERE request_id LIKE ? LIMIT 2", [f"{request_id}%"])
        if len(matches) != 1:
            fail(
                f"{'no' if not matches else 'more than one'} logged request matches {request_id!r} "
                "(`aiagents logs list` shows the ids)",
                error_code="unknown_request",
            )
        row = store.get_request(matches[0]["request_id"])
        assert row is not None
        data = {
            "request": row,
            "feedback": store.list_feedback(request_id=row["request_id"]),
            "scores": store.query(
                "SELECT name, score, label, explanation, source FROM scores WHERE request_id = ? ORDER BY name",
                [row["request_id"]],
            ),
            "trace_url": f"{phoenix_url()}/redirects/traces/{row['trace_id']}" if row.get("trace_id") else None,
        }
        if as_json:
            print_json(data)
            return
        facts = Table(show_header=False, title=f"request {row['request_id']}")
        for key in ("created_at", "endpoint", "name", "prompt_name", "prompt_version", "model", "variant",
                    "experiment", "status", "error_code", "error_message", "latency_ms", "input_tokens",
                    "output_tokens", "cost_usd", "user_id", "session_id", "trace_id", "trace_sampled"):  # fmt: skip
            value = row.get(key)
            if value not in (None, ""):
                facts.add_row(key, _iso(value) if key == "created_at" else str(value))
        out.print(facts)
        out.print("[bold]input[/]", json.dumps(row.get("input"), ensure_ascii=False, indent=2))
        out.print("[bold]output[/]", json.dumps(row.get("output"), ensure_ascii=False, indent=2))
        for f in data["feedback"]:
            said = f.get("thumbs") or ("corrected" if f.get("corrected_output") is not None else f.get("kind"))
            out.print(f"[bold]feedback[/] {said} {f.get('comment') or ''}")
            if f.get("corrected_output") is not None:
                out.print("  corrected to", json.dumps(f["corrected_output"], ensure_ascii=False))
        for s in data["scores"]:
            out.print(f"[bold]score[/] {s['name']} = {s['score']} {s.get('label') or ''} ({s['source']})")
        if data["trace_url"]:
            out.print(f"trace: {data['trace_url']}")

    @group.command("stats")
    def stats(
        since: str | None = typer.Option(None, "--since", help="30m, 2h, 7d, an ISO date/time or epoch seconds."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Requests, feedback, errors, thumbs, corrections, latency, tokens and cost in the log."""
        read_demo_data_unless_yours()
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
