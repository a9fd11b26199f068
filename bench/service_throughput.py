"""Throughput and latency of POST /v1/tasks/{name} (offline model), 32 concurrent clients on loopback.

Arms, each a fresh `aiagents serve` (1 worker, no access log) on its own data folder:
  full          request log + tracing, Phoenix up
  off           request log and tracing switched off (AIAGENTS_REQUEST_LOG=false AIAGENTS_TRACING=false)
  phoenix_down  request log + tracing, Phoenix unreachable (spans spooled to disk)
  ratio         with `--sample-ratio R`: `full` with AIAGENTS_TRACE_SAMPLE_RATIO=R (its Phoenix CPU reported apart)

With `--baseline REF` the `full` and `off` arms also run on the code of git revision REF (exported with
`git archive`), side by side in the same run: before/after ratios under the same machine load. With
`--candidate REF` the current arms run on REF too instead of the working tree (which may hold other
people's unfinished work). All servers start first; the load then goes to every arm in turn, in `--rounds` slices
(each slice a different, seeded random order of the arms), so a change of machine load hits every arm alike.

    python bench/service_throughput.py [--requests 2000] [--clients 32] [--rounds 4]
                                       [--baseline REF] [--candidate REF] [--phoenix-url URL]
                                       [--phoenix-nice N] [--sample-ratio R]

Phoenix (local unless --phoenix-url) runs at `--phoenix-nice` (default 19): it ingests spans with the CPU the
service leaves idle, as a shared Phoenix on another machine would; before the next slice the bench waits until
it has caught up, so no arm runs while Phoenix digests another arm's spans. Each traced arm writes to its own
Phoenix project, and the spans that arrived are counted at the end (none may be missing).

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams (like wrk, it costs far less
CPU per request than an HTTP library, and it shares the machine's CPUs with the server). Online evals are
switched off (AIAGENTS_ONLINE_EVAL_RATE=0): this measures the request log and tracing. Without
--phoenix-url a local Phoenix is started for the `full` arms; it shares the CPUs, so its CPU time over the
run is reported per `full` request. Each arm also reports its server's CPU time per request (all threads:
request path, log writer, span exporter). Numbers are for this machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aiagents.tracing.phoenix_server import free_port, start_phoenix

KEY = "bench-client-key"
TASK = "listing-attributes"
BODY = {"input": {"listing": "Road bike, 54 cm aluminium frame, like new condition. Asking 350 EUR, pick-up in Lyon."}}
RESULTS = Path(__file__).parent / "results" / "service_throughput.json"
ROOT = Path(__file__).resolve().parents[1]


def export_tree(ref: str) -> Path:
    """The files of git revision `ref` in a temporary folder (served with PYTHONPATH pointing at it)."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-tree-{ref[:12]}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    # The layers install as aiagents.<layer> (package-dir): link them there, as a wheel would place them, so the
    # revision's own layers are served and not the working tree's (the editable install maps those names here).
    for layer in ("evals", "ingestion", "retrieval", "tools"):
        if (folder / layer).is_dir() and not (folder / "aiagents" / layer).exists():
            (folder / "aiagents" / layer).symlink_to(folder / layer, target_is_directory=True)
    return folder


@dataclass
class Arm:
    name: str
    env: dict[str, str]
    tree: Path | None = None
    """Code to serve (None: the working tree)."""
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    data: str = ""
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    cpu_start: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of the server process (all its threads) from the first measured request to the end."""
    phoenix_cpu: float = 0.0
    """Phoenix's CPU time over this arm's slices and its draining of them, less its idle rate."""

    def start(self) -> None:
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix=f"bench-service-{self.name}-")
        env = {**os.environ, **self.env, "AIAGENTS_DATA_DIR": self.data}
        if self.tree is not None:
            env["PYTHONPATH"] = str(self.tree)
            probe = "import aiagents.tools; print(aiagents.tools.__file__)"
            where = subprocess.run(
                [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, cwd=self.data
            ).stdout
            assert where.startswith(str(self.tree)), f"{self.name}: serving {where.strip()}, not {self.tree}"
        cmd = [sys.executable, "-c", "from aiagents.cli import main; main()", "serve", "--port", str(self.port),
               "--no-access-log"]  # fmt: skip
        # cwd: `python -c` puts the working directory first on sys.path, which would shadow PYTHONPATH's tree
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.data)

    def wait_ready(self) -> None:
        url = f"http://127.0.0.1:{self.port}"
        for _ in range(900):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name}: service did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None and self.cpu_start:
            self.cpu_seconds = process_cpu(self.proc.pid) - self.cpu_start
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(120)

    def result(self) -> dict[str, float]:
        n = len(self.latencies)
        q = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return {"requests": n, "errors": self.errors, "seconds": round(self.seconds, 3),
                "rps": round(n / self.seconds, 1), "p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2),
                "server_cpu_ms_per_request": round(1000 * self.cpu_seconds / n, 3)}  # fmt: skip


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process `pid` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, *, busy_below: float = 0.05, window: float = 0.5, timeout: float = 180.0) -> float:
    """Wait until process `pid` uses less than `busy_below` of a CPU over `window` seconds; returns seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = process_cpu(pid)
        time.sleep(window)
        if process_cpu(pid) - before < busy_below * window:
            break
    return time.monotonic() - started


def phoenix_span_count(url: str, project: str) -> int:
    """How many spans Phoenix holds in `project` (0 when the project does not exist)."""
    total, cursor = 0, None
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            params: dict[str, str | int] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            response = client.get(f"/v1/projects/{project}/spans", params=params)
            if response.status_code == 404:
                return 0
            response.raise_for_status()
            body = response.json()
            total += len(body["data"])
            cursor = body.get("next_cursor")
            if not cursor:
                return total


REQUEST = (
    f"POST /v1/tasks/{TASK} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
    f"Content-Type: application/json\r\nContent-Length: {{n}}\r\n\r\n"
)


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes) -> int:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    body = await reader.readexactly(length)
    if status == 200 and b'"request_id"' not in body:
        return 599
    return status


async def load(arm: Arm, n: int, clients: int, *, warmup: int = 0) -> None:
    body = json.dumps(BODY).encode()
    payload = REQUEST.format(n=len(body)).encode() + body
    remaining = n
    connections = [await asyncio.open_connection("127.0.0.1", arm.port) for _ in range(clients)]
    try:
        for _ in range(warmup):  # task built, connections open
            await _one(*connections[0], payload)

        async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                status = await _one(reader, writer, payload)
                arm.latencies.append((time.perf_counter() - t0) * 1000)
                arm.errors += status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker(r, w) for r, w in connections))
        arm.seconds += time.perf_counter() - started
    finally:
        for _, w in connections:
            w.close()


def logged_rows(arm: Arm) -> int | None:
    if arm.env.get("AIAGENTS_REQUEST_LOG") == "false":
        return None
    from aiagents.logstore import open_store

    store = open_store(f"sqlite:///{arm.data}/logs/requests.db")
    try:
        return store.count("requests")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000, help="Per arm.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4, help="Slices of the load, interleaved across arms.")
    parser.add_argument("--baseline", default=None, help="A git revision to measure side by side (before).")
    parser.add_argument("--candidate", default=None, help="A git revision for the current arms (else the tree).")
    parser.add_argument("--phoenix-url", default=None)
    parser.add_argument("--phoenix-nice", type=int, default=19, help="CPU niceness of the local Phoenix.")
    parser.add_argument("--sample-ratio", type=float, default=None, help="Add a `ratio` arm traced at this ratio.")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    phoenix = None
    phoenix_cpu: float | None = None
    url = args.phoenix_url
    if url is None:
        phoenix = start_phoenix(Path(tempfile.mkdtemp(prefix="bench-phoenix-")), nice=args.phoenix_nice)
        url = phoenix.url
    base = {"AIAGENTS_API_KEYS": KEY, "AIAGENTS_MODEL": "offline", "HF_HUB_OFFLINE": "1",
            "AIAGENTS_ONLINE_EVAL_RATE": "0"}  # fmt: skip
    full = {"PHOENIX_COLLECTOR_ENDPOINT": url}
    off = {"AIAGENTS_REQUEST_LOG": "false", "AIAGENTS_TRACING": "false"}
    down = {"PHOENIX_COLLECTOR_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    candidate = export_tree(args.candidate) if args.candidate else None
    arms = [Arm("full", {**base, **full}, candidate), Arm("off", {**base, **off}, candidate),
            Arm("phoenix_down", {**base, **down}, candidate)]  # fmt: skip
    if args.sample_ratio is not None:
        arms.append(Arm("ratio", {**base, **full, "AIAGENTS_TRACE_SAMPLE_RATIO": str(args.sample_ratio)}, candidate))
    if args.baseline:
        before = export_tree(args.baseline)
        arms += [Arm("before_full", {**base, **full}, before), Arm("before_off", {**base, **off}, before)]
    run_id = f"{int(time.time())}"
    for arm in arms:  # each traced arm in its own Phoenix project: its spans are counted at the end
        arm.env["AIAGENTS_PHOENIX_PROJECT"] = f"bench-{arm.name}-{run_id}"
    drained = 0.0
    spans: dict[str, int] = {}
    try:
        for arm in arms:
            arm.start()
        for arm in arms:
            arm.wait_ready()
            asyncio.run(load(arm, 0, 2, warmup=50))
        per_round = args.requests // args.rounds
        for arm in arms:
            arm.cpu_start = process_cpu(arm.proc.pid)  # type: ignore[union-attr]
        phoenix_idle_rate = 0.0  # CPU seconds a second Phoenix spends with no spans coming in (its own chores)
        if phoenix is not None:
            wait_idle(phoenix.process.pid)  # the warm-up's spans are in
            before, started_idle = process_cpu(phoenix.process.pid), time.monotonic()
            time.sleep(5)
            phoenix_idle_rate = (process_cpu(phoenix.process.pid) - before) / (time.monotonic() - started_idle)
        phoenix_cpu_start = process_cpu(phoenix.process.pid) if phoenix is not None else None
        phoenix_started = time.monotonic()
        for r in range(args.rounds):
            # A new order each round: the arm that runs right after a `full` one shares the CPUs with Phoenix
            # ingesting that arm's spans, so no arm may always follow the same one.
            order = random.Random(r).sample(arms, len(arms))
            for arm in order:
                slice_cpu, slice_start = (process_cpu(phoenix.process.pid), time.monotonic()) if phoenix else (0, 0)
                asyncio.run(load(arm, per_round, args.clients))
                if phoenix is not None and (arm.name.endswith("full") or arm.name == "ratio"):
                    drained += wait_idle(phoenix.process.pid)  # Phoenix digests this slice before the next one
                if phoenix is not None:
                    slice_seconds = time.monotonic() - slice_start
                    arm.phoenix_cpu += process_cpu(phoenix.process.pid) - slice_cpu - phoenix_idle_rate * slice_seconds
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        time.sleep(8)  # the span processors' last batches (every 5 s) and Phoenix's ingestion of them
        if phoenix is not None:
            wait_idle(phoenix.process.pid)
        if phoenix is not None:  # ingestion only: minus what it spends idle over the same time
            phoenix_cpu = process_cpu(phoenix.process.pid) - phoenix_cpu_start  # type: ignore[operator]
            phoenix_cpu -= phoenix_idle_rate * (time.monotonic() - phoenix_started)
        spans = {arm.name: phoenix_span_count(url, arm.env["AIAGENTS_PHOENIX_PROJECT"]) for arm in arms
                 if arm.name.endswith("full") or arm.name == "ratio"}  # fmt: skip
    finally:
        for arm in arms:
            arm.stop()
        if phoenix is not None:
            phoenix.stop()
    results = {arm.name: {**arm.result(), "logged": logged_rows(arm)} for arm in arms}
    if phoenix is not None:  # per arm: what its own slices cost Phoenix (the warm-up's spans excluded)
        for arm in arms:
            results[arm.name]["phoenix_cpu_ms_per_request"] = round(1000 * arm.phoenix_cpu / len(arm.latencies), 3)
    for name, count in spans.items():  # every answered request (and warm-up) logged its spans: 2 a request
        results[name]["spans_in_phoenix"] = count
    rps = {name: r["rps"] for name, r in results.items()}
    summary: dict[str, float] = {
        "logging_tracing_cost_pct": round(100 * (1 - rps["full"] / rps["off"]), 1),
        "phoenix_down_vs_up_pct": round(100 * (rps["phoenix_down"] / rps["full"] - 1), 1),
    }
    if phoenix_cpu is not None:  # Phoenix runs on the same CPUs: its ingestion of the `full` arms' spans
        full_requests = sum(len(a.latencies) for a in arms if a.name.endswith("full"))
        summary["phoenix_cpu_ms_per_full_request"] = round(1000 * phoenix_cpu / full_requests, 3)
        summary["phoenix_idle_cpu_pct"] = round(100 * phoenix_idle_rate, 1)
    if args.baseline:
        summary |= {
            "before_logging_tracing_cost_pct": round(100 * (1 - rps["before_full"] / rps["before_off"]), 1),
            "full_after_over_before": round(rps["full"] / rps["before_full"], 2),
            "off_after_over_before": round(rps["off"] / rps["before_off"], 2),
        }
    if phoenix is not None:
        summary["phoenix_nice"] = args.phoenix_nice
        summary["waited_for_phoenix_s"] = round(drained, 1)
    for name, count in spans.items():
        if name == "ratio":  # sampled: fewer spans by design
            summary["ratio_spans_per_logged_request"] = round(count / results[name]["logged"], 3)
            continue
        expected = 2 * results[name]["logged"]
        summary[f"{name}_spans_missing"] = expected - count
        if count < expected:
            print(f"WARNING: {name}: {count} spans in Phoenix, {expected} expected", file=sys.stderr)
    print(f"\n{'arm':13s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'cpu ms':>7s} {'errors':>7s} {'logged':>7s} "
          f"{'spans':>7s}")  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:13s} {r['rps']:8.1f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['server_cpu_ms_per_request']:7.3f} "
            f"{r['errors']:7.0f} {r['logged'] if r['logged'] is not None else '-'!s:>7s} "
            f"{r.get('spans_in_phoenix', '-')!s:>7s}"
        )
    print(json.dumps(summary))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": f"POST /v1/tasks/{TASK}, offline model, 1 worker, loopback, keep-alive asyncio client",
        "clients": args.clients, "rounds": args.rounds,
        "trees": {"current": args.candidate or "working tree", "before": args.baseline},
        "arms": results, "summary": summary,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_at_start": load_at_start, "load_avg_at_end": os.getloadavg()},
        "command": "python bench/service_throughput.py " + " ".join(sys.argv[1:]),
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
