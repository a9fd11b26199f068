"""`aiagents phoenix` (start a local Phoenix) and `aiagents traces push|status` (the spool)."""

from __future__ import annotations

import signal
import time

import typer

from aiagents.cli.output import console, fail, out, print_json
from aiagents.settings import get_settings
from aiagents.tracing import phoenix_url, push_spool, spool_status
from aiagents.tracing.phoenix_server import phoenix_is_up, start_phoenix


def register(app: typer.Typer) -> None:
    @app.command("phoenix")
    def phoenix(
        port: int = typer.Option(6006, "--port", help="Port on 127.0.0.1."),
        detach: bool = typer.Option(False, "--detach", help="Start it in the background and return."),
    ) -> None:
        """Start a local Phoenix on 127.0.0.1 with its working directory under the data folder."""
        settings = get_settings()
        url = f"http://127.0.0.1:{port}"
        if phoenix_is_up(url):
            out.print(f"Phoenix is already running at {url}")
            return

        def _stop(signum: int, _frame: object) -> None:  # SIGTERM (a service manager, `kill`) stops Phoenix too
            raise KeyboardInterrupt

        if not detach:
            signal.signal(signal.SIGTERM, _stop)
        console.print(f"Starting Phoenix (working directory {settings.phoenix_dir}) ...")
        try:
            server = start_phoenix(settings.phoenix_dir.resolve(), port=port)
        except KeyboardInterrupt:  # stopped while starting: start_phoenix stopped its child
            return
        out.print(f"Phoenix: {server.url}")
        out.print(f"Send traces there with PHOENIX_COLLECTOR_ENDPOINT={server.url}")
        if detach:
            return
        try:
            while server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()

    traces = typer.Typer(help="Spans spooled while Phoenix was unreachable.", no_args_is_help=True)
    app.add_typer(traces, name="traces")

    @traces.command("status")
    def status(as_json: bool = typer.Option(False, "--json")) -> None:
        """How many span batches wait in the spool."""
        settings = get_settings()
        batches, spans = spool_status(settings.spool_dir)
        data = {
            "spool": str(settings.spool_dir),
            "batches": batches,
            "spans": spans,
            "phoenix": phoenix_url(settings),
        }
        if as_json:
            print_json(data)
        else:
            out.print(f"{spans} spans in {batches} batches wait in {settings.spool_dir} (Phoenix: {data['phoenix']})")

    @traces.command("push")
    def push(
        endpoint: str | None = typer.Option(None, "--endpoint", help="Phoenix URL (default: the configured one)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Send the spooled spans to Phoenix; each batch is deleted once Phoenix accepted it."""
        settings = get_settings()
        url = endpoint or phoenix_url(settings)
        report = push_spool(settings.spool_dir, url)
        data = {"endpoint": url, **report.__dict__}
        if as_json:
            print_json(data)
        else:
            out.print(
                f"pushed {report.spans} spans in {report.batches} batches to {url}; "
                f"{report.remaining_batches} batches remain"
            )
        if report.failed_batches:
            fail(f"Phoenix at {url} did not accept the spool; it is kept for the next push.")
