"""What the request log costs PostgreSQL: CPU of the database server per 1,000 logged requests.

    python bench/logstore_postgres.py [--url postgresql://postgres:postgres@127.0.0.1:5432/postgres] [--rows 20000]

Rows shaped like the service's (a listing task: JSON input and output, ids, tokens, trace ids) go through the
service's `BackgroundWriter` into a fresh schema-migrated database, at the pace the writer batches them. The
PostgreSQL server's CPU is the user + system time of its processes (read from /proc, so the server must run on
this machine), before and after; the writer's own CPU is the process's. Prints one JSON object and writes
bench/results/logstore_postgres.json. For the capacity plan in the README: cores of PostgreSQL per 1,000
requests/s is the server's CPU milliseconds per request.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from pathlib import Path

from aiagents.logstore import RequestRecord, open_store
from aiagents.logstore.writer import BackgroundWriter

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU seconds of every process named postgres on this machine."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def record(i: int) -> RequestRecord:
    return RequestRecord(
        request_id=uuid.uuid4().hex,
        endpoint="task",
        name="listing-attributes",
        input={"listing": f"Road bike {i}, 54 cm aluminium frame, like new condition. Asking 350 EUR, Lyon."},
        output={"category": "bike", "price_eur": 350, "city": "Lyon", "condition": "like new"},
        prompt_name="listing-attributes",
        prompt_version="v3",
        model="offline",
        latency_ms=12.5,
        input_tokens=120,
        output_tokens=40,
        user_id=f"user-{i % 500}",
        trace_id=uuid.uuid4().hex,
        span_id=uuid.uuid4().hex[:16],
        trace_sampled=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--url",
        default=os.environ.get("AIAGENTS_TEST_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"),
    )
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "logstore_postgres.json"))
    args = ap.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = open_store(args.url, migrate=False)
    admin.execute_many(f"CREATE SCHEMA {schema}", [()])
    url = f"{args.url}{'&' if '?' in args.url else '?'}options=-csearch_path%3D{schema}"
    store = open_store(url)
    try:
        rows = [record(i) for i in range(args.rows)]
        writer = BackgroundWriter(store)
        pg0, cpu0, t0 = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
        for r in rows:
            writer.submit(r)
        writer.flush(timeout=600)
        elapsed = time.perf_counter() - t0
        pg = postgres_cpu_seconds() - pg0
        client = time.process_time() - cpu0
        stored = store.count("requests")
        writer.close()
    finally:
        store.close()
        admin.execute_many(f"DROP SCHEMA {schema} CASCADE", [()])
        admin.close()
    result = {
        "command": "python bench/logstore_postgres.py",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "rows": args.rows,
        "stored": stored,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(args.rows / elapsed),
        "postgres_cpu_ms_per_request": round(pg / args.rows * 1000, 4),
        "writer_cpu_ms_per_request": round(client / args.rows * 1000, 4),
        "postgres_cores_per_1000_requests_per_s": round(pg / args.rows * 1000, 3),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
