"""Throughput and latency of POST /v1/tasks/{name} (offline model), 32 concurrent clients on loopback.

Three arms in one run, each a fresh `aiagents serve` (1 worker, no access log) on its own data folder:
  full          request log + tracing, Phoenix up
  off           request log and tracing switched off (AIAGENTS_REQUEST_LOG=false AIAGENTS_TRACING=false)
  phoenix_down  request log + tracing, Phoenix unreachable (spans spooled to disk)

    python bench/service_throughput.py [--requests 2000] [--clients 32] [--phoenix-url URL]

Without --phoenix-url a local Phoenix is started for the `full` arm. The load generator (httpx, asyncio)
runs on the same machine, so it competes with the server for the CPU: numbers are for this machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

KEY = "bench-client-key"
BODY = {"input": {"listing": "Road bike, 54 cm aluminium frame, like new condition. Asking 350 EUR, pick-up in Lyon."}}
RESULTS = Path(__file__).parent / "results" / "service_throughput.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-c",
        "from aiagents.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("service did not start")


async def load(url: str, n: int, clients: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=clients)) as c:
        for _ in range(50):  # warm-up: task built, connections open
            (await c.post("/v1/tasks/listing-attributes", headers=headers, json=BODY)).raise_for_status()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                t0 = time.perf_counter()
                r = await c.post("/v1/tasks/listing-attributes", headers=headers, json=BODY)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += r.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"requests": n, "errors": errors, "seconds": round(elapsed, 3), "rps": round(n / elapsed, 1),
            "p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--phoenix-url", default=None)
    args = parser.parse_args()
    phoenix = None
    url = args.phoenix_url
    if url is None:
        from aiagents.tracing.phoenix_server import start_phoenix

        phoenix = start_phoenix(Path(tempfile.mkdtemp(prefix="bench-phoenix-")))
        url = phoenix.url
    base = {"AIAGENTS_API_KEYS": KEY, "AIAGENTS_MODEL": "offline", "HF_HUB_OFFLINE": "1"}
    arms = {
        "full": {"PHOENIX_COLLECTOR_ENDPOINT": url},
        "off": {"AIAGENTS_REQUEST_LOG": "false", "AIAGENTS_TRACING": "false"},
        "phoenix_down": {"PHOENIX_COLLECTOR_ENDPOINT": f"http://127.0.0.1:{free_port()}"},
    }
    results: dict[str, dict[str, float]] = {}
    try:
        for name, extra in arms.items():
            data = tempfile.mkdtemp(prefix=f"bench-service-{name}-")
            proc, service = start({**base, **extra, "AIAGENTS_DATA_DIR": data})
            try:
                results[name] = asyncio.run(load(service, args.requests, args.clients))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(120)
            if name != "off":
                from aiagents.logstore import open_store

                logged = open_store(f"sqlite:///{data}/logs/requests.db").count("requests")
                results[name]["logged"] = logged
            print(f"{name:13s} {results[name]}", file=sys.stderr)
    finally:
        if phoenix is not None:
            phoenix.stop()
    full, off, down = results["full"]["rps"], results["off"]["rps"], results["phoenix_down"]["rps"]
    summary = {
        "logging_tracing_cost_pct": round(100 * (1 - full / off), 1),
        "phoenix_down_vs_up_pct": round(100 * (down / full - 1), 1),
    }
    print(f"\n{'arm':13s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'errors':>7s} {'logged':>7s}")
    for name, r in results.items():
        print(
            f"{name:13s} {r['rps']:8.1f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['errors']:7.0f} "
            f"{r.get('logged', '-')!s:>7s}"
        )
    print(f"logging+tracing cost: {summary['logging_tracing_cost_pct']}% of throughput; "
          f"Phoenix down vs up: {summary['phoenix_down_vs_up_pct']:+}%")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "POST /v1/tasks/listing-attributes, offline model, 1 worker, loopback",
        "clients": args.clients, "arms": results, "summary": summary,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_end": os.getloadavg()},
        "command": "python bench/service_throughput.py " + " ".join(sys.argv[1:]),
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
