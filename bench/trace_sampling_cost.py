"""What an unsampled trace still costs the service: RECORD_ONLY (the default: errors and candidates can still be
kept) against DROP (nothing recorded), with a sampled trace for scale. In process, no HTTP: the service's request
span (a `LightSpan` with the service's attributes) around `Task.run` of the offline model, as `_serve` does.

Modes, each the real `tracing.setup()` pipeline (OpenInference processor, `TraceKeeper`, batch processor):
  drop          ratio 0 with the SDK's sampler as is: DROP, the task records nothing
  record_only   ratio 0 as shipped (`KeepRecording`): spans recorded, held until the root ends, then forgotten
  sampled       ratio 1: spans recorded and exported; the exporter encodes the OTLP body and sends nothing

CPU time of the process (all threads: request path and exporter thread) per request, in `--rounds` interleaved
slices of `--requests` per mode. Numbers are for this machine only.

    python bench/trace_sampling_cost.py [--requests 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from aiagents import tracing
from aiagents.tasks import Task
from aiagents.tracing import attributes as oi
from aiagents.tracing.otlp_wire import encode_spans_bytes
from aiagents.tracing.sampling import head_sampler
from aiagents.tracing.setup import _sampler

LISTING = {"listing": "Road bike, 54 cm aluminium frame, like new condition. Asking 350 EUR, pick-up in Lyon."}
MODES = {
    "drop": ParentBased(TraceIdRatioBased(0.0)),
    "record_only": head_sampler(0.0),
    "sampled": head_sampler(1.0),
}


class EncodeOnly(SpanExporter):
    """The exporter's work short of the network: the OTLP body is built and thrown away."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        encode_spans_bytes(spans)
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


async def serve(task: Task, n: int) -> None:  # type: ignore[type-arg]
    tracer = tracing.hot_tracer("aiagents.service")
    for i in range(n):
        with tracer.start_as_current_span("task listing-attributes") as span:
            if span.is_recording():
                span.set_attributes({
                    oi.SPAN_KIND: oi.CHAIN, oi.INPUT_VALUE: json.dumps(LISTING), oi.INPUT_MIME_TYPE: "application/json",
                    oi.METADATA: json.dumps({"request_id": str(i), "variant": "default"}), oi.USER_ID: f"u{i % 50}",
                })  # fmt: skip
            result = await task.run(LISTING, span=span if span.is_recording() else None)
            if span.is_recording():
                span.set_attributes({oi.OUTPUT_VALUE: json.dumps(result.output_json()), oi.OUTPUT_MIME_TYPE: "json"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000, help="Per mode and round.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "trace_sampling_cost.json"))
    args = parser.parse_args()
    exporter = EncodeOnly()
    current = tracing.setup(exporter=exporter)
    task = Task("listing-attributes", model="offline")
    loop = asyncio.new_event_loop()
    loop.run_until_complete(serve(task, 200))  # warm: the task and prompt built, code paths hot
    per_request: dict[str, list[float]] = {mode: [] for mode in MODES}
    for r in range(args.rounds):
        for mode in list(MODES)[r % 3 :] + list(MODES)[: r % 3]:
            _sampler.target = MODES[mode]
            current.flush()
            cpu = time.process_time()
            loop.run_until_complete(serve(task, args.requests))
            current.flush()
            per_request[mode].append(1e6 * (time.process_time() - cpu) / args.requests)
    result = {mode: round(statistics.median(v), 1) for mode, v in per_request.items()}
    keeper = current.keeper
    text = json.dumps({
        "command": "python bench/trace_sampling_cost.py",
        "cpu_us_per_request_median": result,
        "record_only_minus_drop_us": round(result["record_only"] - result["drop"], 1),
        "sampled_minus_drop_us": round(result["sampled"] - result["drop"], 1),
        "rounds": per_request, "exported_spans": exporter.spans,
        "keeper": {"discarded": keeper.discarded_traces, "kept": keeper.kept_traces, "held": keeper.held_traces},
    }, indent=1)  # fmt: skip
    print(text)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
