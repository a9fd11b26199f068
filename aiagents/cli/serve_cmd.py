"""`aiagents serve`: the HTTP service (FastAPI on uvicorn), and the service's demo step."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import typer

from aiagents.cli.output import console, fail, out
from aiagents.service.config import LOCAL_HOSTS, ServiceSettings

__all__ = ["register", "step_service", "start_service_process"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service_process(
    *, port: int | None = None, env: dict[str, str] | None = None, workers: int = 1, timeout: float = 60.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `aiagents serve` in a subprocess on 127.0.0.1; returns it and its base URL once /healthz answers."""
    import httpx

    port = port or _free_port()
    cmd = [
        sys.executable,
        "-c",
        "from aiagents.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"aiagents serve exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"aiagents serve did not answer on {url} within {timeout:.0f} s")


def step_service(ctx: Any) -> None:
    """Service: start `aiagents serve`, send task requests and feedback over HTTP, print the log stats."""
    import httpx
    from rich.rule import Rule
    from rich.table import Table

    from aiagents.cli.demo_cmd import DEMO_LISTINGS
    from aiagents.logstore import open_store

    console.print(Rule("Service: requests, feedback, request log"))
    env = {"AIAGENTS_MODEL": ctx.model, "PHOENIX_COLLECTOR_ENDPOINT": ctx.phoenix}
    if not os.environ.get("AIAGENTS_API_KEYS"):
        env["AIAGENTS_API_KEYS"] = "demo-client-key"
    key = (os.environ.get("AIAGENTS_API_KEYS") or env["AIAGENTS_API_KEYS"]).split(",")[0].strip()
    proc, url = start_service_process(env=env)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        table = Table("request id", "trace id", "variant", "title", "feedback", title=f"aiagents serve on {url}")
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for i, listing in enumerate(DEMO_LISTINGS):
                r = client.post(
                    "/v1/tasks/listing-attributes", json={"input": {"listing": listing}, "user_id": f"demo-{i}"}
                )
                r.raise_for_status()
                answer = r.json()
                if answer.get("trace_id"):
                    ctx.trace_ids.append(answer["trace_id"])
                if i % 2 == 0:
                    fb: dict[str, Any] = {"request_id": answer["request_id"], "thumbs": "up" if i == 0 else "down"}
                else:
                    fb = {"request_id": answer["request_id"], "corrected_output": {**answer["output"], "price": 0}}
                client.post("/v1/feedback", json=fb).raise_for_status()
                shown = "thumbs " + fb["thumbs"] if "thumbs" in fb else "corrected"
                table.add_row(
                    answer["request_id"][:12] + "…",
                    (answer.get("trace_id") or "")[:12],
                    answer["variant"],
                    answer["output"].get("title", ""),
                    shown,
                )
        out.print(table)
    finally:
        proc.terminate()
        proc.wait(30)
    stats = open_store().stats()
    ctx.notes["service_stats"] = stats
    out.print(
        f"log store: {stats['requests']} requests, {stats['feedback']} feedback, {stats['errors']} errors "
        f"(`aiagents logs stats`)"
    )


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
        access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="uvicorn's access log."),
        log_level: str = typer.Option("info", "--log-level"),
    ) -> None:
        """Serve prompt tasks, RAG and agents over HTTP, logging every request and the users' feedback."""
        import uvicorn

        settings = ServiceSettings()
        if not settings.has_keys:
            if host not in LOCAL_HOSTS:
                fail(
                    f"refusing to listen on {host} without API keys: set AIAGENTS_API_KEYS (and AIAGENTS_ADMIN_KEYS) "
                    "or listen on 127.0.0.1"
                )
            console.print(
                "[yellow]No API keys configured (AIAGENTS_API_KEYS): serving on "
                f"{host} only, without authentication.[/]"
            )
        else:
            console.print(
                f"API keys: {len(settings.client_keys)} client, {len(settings.admin_key_list)} admin "
                "(Authorization: Bearer KEY)."
            )
        console.print(f"Serving on http://{host}:{port} with {workers} worker(s); OpenAPI at /docs.")
        uvicorn.run(
            "aiagents.service.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level=log_level,
            timeout_graceful_shutdown=30,
            # Longer than clients' keep-alive expiry (httpx: 5 s, the same as uvicorn's default): with equal
            # values the server can close an idle connection just as a client reuses it (a lost request).
            timeout_keep_alive=75,
        )

    from aiagents.cli.demo_cmd import DEMO_STEPS

    if step_service not in DEMO_STEPS:
        DEMO_STEPS.append(step_service)
