"""A slow exporter (Phoenix answering slowly) does not make the batch processor drop spans of a busy process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, threading, time
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from aiagents import tracing

class Slow(SpanExporter):
    exported = 0
    def export(self, spans):
        time.sleep(0.3)  # a slow collector
        Slow.exported += len(spans)
        return SpanExportResult.SUCCESS

tracing.setup(exporter=Slow())
tracer = tracing.hot_tracer("burst")
for i in range(6000):  # far more than the SDK's default queue of 2,048, faster than the exporter drains it
    with tracer.start_as_current_span(f"s{i}") as span:
        span.set_attribute("i", i)
tracing.current_tracing().flush(timeout_millis=60_000)
print(json.dumps({"exported": Slow.exported}))
"""


def test_a_burst_of_spans_outlasting_a_slow_exporter_is_not_dropped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AIAGENTS_DATA_DIR": str(tmp_path)}
    env.pop("OTEL_BSP_MAX_QUEUE_SIZE", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"exported": 6000}
    assert "dropping" not in done.stderr.lower()
