"""An OTLP/HTTP span exporter that never loses a span: what Phoenix cannot take now is spooled to disk.

Why not `OTLPSpanExporter` alone: it retries with exponential back-off for up to its timeout and then
drops the batch. We need the encoded batch anyway to spool it, so we encode it (`otlp_wire`, the same
bytes as OpenTelemetry's own OTLP encoder, three times faster), post once with a short timeout, and on
failure append the exact bytes to the spool, which `push_spool` (or the next successful export) sends later.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from aiagents.tracing.otlp_wire import encode_spans_bytes

__all__ = ["SpoolingExporter", "PushReport", "push_spool", "spool_status", "traces_url"]

log = logging.getLogger(__name__)
_SUFFIX = ".otlp"


def traces_url(endpoint: str) -> str:
    """Phoenix's OTLP/HTTP traces URL for a base URL or a full collector URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def _post(client: httpx.Client, url: str, payload: bytes, headers: dict[str, str]) -> bool:
    try:
        response = client.post(url, content=payload, headers={"Content-Type": "application/x-protobuf", **headers})
    except httpx.HTTPError:
        return False
    return response.status_code < 300


class SpoolingExporter(SpanExporter):
    """Export spans to `endpoint`; spool batches it cannot deliver under `spool_dir`.

    After a failed post it stops trying for `backoff_seconds` (spans go straight to the spool), so a
    Phoenix that is down costs nothing on the hot path. After a successful post it drains the spool.
    """

    def __init__(
        self,
        endpoint: str | None,
        spool_dir: Path,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 3.0,
        backoff_seconds: float = 30.0,
    ) -> None:
        self.url = traces_url(endpoint) if endpoint else None
        self.spool_dir = spool_dir
        self.headers = headers or {}
        self.backoff_seconds = backoff_seconds
        self._client = httpx.Client(timeout=timeout)
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.exported = 0
        self.spooled = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        payload = encode_spans_bytes(spans)
        if self.url and time.monotonic() >= self._down_until:
            if _post(self._client, self.url, payload, self.headers):
                self.exported += len(spans)
                if any(self.spool_dir.glob(f"*{_SUFFIX}")):
                    push_spool(self.spool_dir, self.url, headers=self.headers, client=self._client)
                return SpanExportResult.SUCCESS
            self._down_until = time.monotonic() + self.backoff_seconds
            log.warning("Phoenix at %s is unreachable; spooling spans to %s", self.url, self.spool_dir)
        self._write(payload)
        self.spooled += len(spans)
        return SpanExportResult.SUCCESS

    def _write(self, payload: bytes) -> None:
        with self._lock:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
            tmp = self.spool_dir / f"{name}.tmp"
            tmp.write_bytes(payload)
            os.replace(tmp, self.spool_dir / f"{name}{_SUFFIX}")

    def shutdown(self) -> None:
        self._client.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass(kw_only=True)
class PushReport:
    """What `push_spool` did."""

    batches: int = 0
    spans: int = 0
    failed_batches: int = 0
    remaining_batches: int = 0


def _span_count(payload: bytes) -> int:
    request = ExportTraceServiceRequest.FromString(payload)
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def spool_status(spool_dir: Path) -> tuple[int, int]:
    """(batches, spans) waiting in the spool."""
    files = sorted(spool_dir.glob(f"*{_SUFFIX}")) if spool_dir.is_dir() else []
    return len(files), sum(_span_count(f.read_bytes()) for f in files)


def push_spool(
    spool_dir: Path,
    endpoint: str,
    *,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> PushReport:
    """Send every spooled batch to `endpoint`, oldest first; a batch is deleted only once accepted.

    Each file is claimed by renaming it first, so two pushers never send the same batch twice.
    """
    report = PushReport()
    if not spool_dir.is_dir():
        return report
    own_client = client is None
    client = client or httpx.Client(timeout=10.0)
    url = traces_url(endpoint)
    try:
        for path in sorted(spool_dir.glob(f"*{_SUFFIX}")):
            claimed = path.with_suffix(f".sending-{uuid.uuid4().hex[:6]}")
            try:
                os.replace(path, claimed)
            except FileNotFoundError:
                continue  # another pusher took it
            payload = claimed.read_bytes()
            if _post(client, url, payload, headers or {}):
                claimed.unlink()
                report.batches += 1
                report.spans += _span_count(payload)
            else:
                os.replace(claimed, path)
                report.failed_batches += 1
                break  # Phoenix is down again: keep the order, stop here
    finally:
        if own_client:
            client.close()
    report.remaining_batches = len(list(spool_dir.glob(f"*{_SUFFIX}")))
    return report
