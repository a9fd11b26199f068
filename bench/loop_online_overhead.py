"""Do online evals slow the request path? Latency and throughput of POST /v1/tasks/{name} with them off and on.

Three arms, each a fresh `aiagents serve` (1 worker, offline model, tracing spooled to disk) on its own data
folder, with an A/B experiment running on the endpoint (so assignment and guardrail counting are measured too):
  off      AIAGENTS_ONLINE_EVAL_RATE=0
  default  every request scored by the shipped `default` suite (schema check, grounded numbers, relevance)
  slow     every request scored by a suite with an evaluator that sleeps 20 ms (a stand-in for a judge call)

    python bench/loop_online_overhead.py [--requests 2000] [--clients 16] [--rate 60]

Each arm is measured twice: saturated (`--clients` closed-loop clients sending as fast as answers come) and
paced (open loop, `--rate` requests per second, below saturation: the latency a user sees at normal load).

The scores are written by a background thread: the `slow` arm shows that a 20 ms evaluator adds nothing
like 20 ms to a request. The load generator shares the 2-core machine with the server: numbers are for
this machine only. Results: bench/results/loop_online_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from aiagents.rollout import ExperimentStore, Variant  # noqa: E402
from aiagents.tracing.phoenix_server import free_port  # noqa: E402

KEY = "bench-client-key"
RESULTS = Path(__file__).parent / "results" / "loop_online_overhead.json"
SLOW_EVALUATOR = """
import time
from dataclasses import dataclass
from pydantic_evals.evaluators import Evaluator


@dataclass
class Sleep(Evaluator):
    seconds: float = 0.02

    def evaluate(self, ctx):
        time.sleep(self.seconds)
        return 1.0
"""


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-c", "from aiagents.cli import main; main()", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("service did not start")


async def load(url: str, n: int, clients: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def client(http: httpx.AsyncClient) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body = {"input": {"listing": f"Road bike {i}, 54 cm frame, like new, 350 EUR"}, "user_id": f"user-{i}"}
            t = time.perf_counter()
            r = await http.post("/v1/tasks/listing-attributes", json=body)
            latencies.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=60
    ) as http:
        await load_warmup(http)
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return latencies, time.perf_counter() - started


async def load_warmup(http: httpx.AsyncClient) -> None:
    for i in range(10):
        (
            await http.post("/v1/tasks/listing-attributes", json={"input": {"listing": f"warm {i} 5 EUR"}})
        ).raise_for_status()


async def paced(url: str, n: int, rate: float) -> list[float]:
    """Open-loop load: request i starts at i / rate seconds, whatever the answers do."""
    latencies: list[float] = []

    async def one(http: httpx.AsyncClient, i: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        body = {"input": {"listing": f"Oak table {i}, seats 6, 120 EUR"}, "user_id": f"paced-{i}"}
        t = time.perf_counter()
        r = await http.post("/v1/tasks/listing-attributes", json=body)
        latencies.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()

    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=60
    ) as http:
        await load_warmup(http)
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(http, i, start + i / rate) for i in range(n)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))], 2)


def arm(name: str, env: dict[str, str], n: int, clients: int, rate: float) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix=f"loop-bench-{name}-"))
    ExperimentStore(data / "experiments").create(
        "bench", "tasks/listing-attributes", [Variant(name="control", share=50), Variant(name="candidate", share=50)]
    )
    full = {
        "AIAGENTS_DATA_DIR": str(data), "AIAGENTS_API_KEYS": KEY, "AIAGENTS_MODEL": "offline", "HF_HUB_OFFLINE": "1",
        "PHOENIX_COLLECTOR_ENDPOINT": f"http://127.0.0.1:{free_port()}", **env,
    }  # fmt: skip
    proc, url = start(full)
    try:
        latencies, seconds = asyncio.run(load(url, n, clients))
        paced_n = max(100, int(rate * 10))
        paced_latencies = asyncio.run(paced(url, paced_n, rate))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)  # graceful: the writer and the online-eval worker finish what is queued
    db = sqlite3.connect(data / "logs" / "requests.db")
    scored = db.execute("SELECT COUNT(DISTINCT request_id) FROM scores WHERE source = 'online'").fetchone()[0]
    db.close()
    return {
        "requests": n, "clients": clients, "seconds": round(seconds, 2), "requests_per_s": round(n / seconds, 1),
        "latency_ms_p50": pct(latencies, 0.5), "latency_ms_p95": pct(latencies, 0.95),
        "latency_ms_mean": round(statistics.fmean(latencies), 2), "requests_scored": scored,
        "paced": {
            "rate_per_s": rate, "requests": paced_n, "latency_ms_p50": pct(paced_latencies, 0.5),
            "latency_ms_p95": pct(paced_latencies, 0.95),
            "latency_ms_mean": round(statistics.fmean(paced_latencies), 2),
        },
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=float, default=60.0, help="Paced arm: requests per second.")
    args = parser.parse_args()
    plugin = Path(tempfile.mkdtemp(prefix="loop-bench-plugin-"))
    (plugin / "bench_slow_eval.py").write_text(SLOW_EVALUATOR)
    (plugin / "slow.yaml").write_text("evaluators:\n  - schema_valid\n  - {evaluator: 'bench_slow_eval:Sleep'}\n")
    pythonpath = os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)
    arms = {
        "off": {"AIAGENTS_ONLINE_EVAL_RATE": "0"},
        "default": {"AIAGENTS_ONLINE_EVAL_RATE": "1", "AIAGENTS_ONLINE_EVAL_SUITE": "default"},
        "slow": {
            "AIAGENTS_ONLINE_EVAL_RATE": "1", "AIAGENTS_ONLINE_EVAL_SUITE": str(plugin / "slow.yaml"),
            "PYTHONPATH": pythonpath,
        },
    }  # fmt: skip
    results = {}
    for name, env in arms.items():
        results[name] = arm(name, env, args.requests, args.clients, args.rate)
        print(name, json.dumps(results[name]), file=sys.stderr)
    report = {
        "benchmark": "loop_online_overhead",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "arms": results,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
