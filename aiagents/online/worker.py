"""`OnlineEvalWorker`: scores a sample of live requests in a background thread, never in the request path.

The service calls `submit(record)` after it answered (a non-blocking put on a bounded queue; when the queue
is full the request is not scored and `dropped` counts it). At shutdown the queue is not waited for: the next
start finds the sampled requests without an online score in the request log and scores them.
The thread runs the suite's evaluators, writes
the scores to the log store and, when a Phoenix URL is given, sends them as span annotations (retried
with back-off while Phoenix is down or has not received the span yet).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import threading
import time
from dataclasses import asdict, is_dataclass
from typing import Any

from pydantic_evals.evaluators import Evaluator

from aiagents.logstore import LogStore
from aiagents.online.evaluators import context_for, evaluate_all
from aiagents.online.scores import send_score_annotations, write_many_scores
from aiagents.tracing.span_annotations import SpanAnnotationSender

__all__ = ["OnlineEvalWorker", "sampled"]

log = logging.getLogger("aiagents.online")
_STOP = object()


def sampled(request_id: str, rate: float) -> bool:
    """Whether `request_id` is in the sample (a hash, so every worker and a re-run agree)."""
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    h = int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:8], "big")
    return h / 2**64 < rate


class OnlineEvalWorker:
    """Background scoring of sampled requests; `start()`, `submit()`, `flush()`, `stop()`."""

    def __init__(
        self,
        store: LogStore,
        evaluators: list[Evaluator[Any, Any, Any]],
        *,
        sample_rate: float = 1.0,
        phoenix_url: str | None = None,
        phoenix_api_key: str | None = None,
        max_queue: int = 10_000,
        annotate_interval: float = 2.0,
        batch_size: int = 100,
    ) -> None:
        self.store = store
        self.evaluators = evaluators
        self.sample_rate = sample_rate
        self.phoenix_url = phoenix_url
        self.phoenix_api_key = phoenix_api_key
        self._sender: SpanAnnotationSender | None = None
        self.annotate_interval = annotate_interval
        self.batch_size = batch_size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = 0
        self.scored = 0
        self.dropped = 0
        self.skipped = 0
        self.annotated = 0
        self.failures = 0
        self._stopping = False

    def start(self, *, resume_hours: float = 24.0) -> OnlineEvalWorker:
        """Start the thread; first queue the backlog a previous run left (see `resume_backlog`)."""
        self._thread = threading.Thread(target=self._run, name="online-evals", daemon=True)
        self._thread.start()
        if resume_hours > 0:
            try:
                self.resume_backlog(hours=resume_hours)
            except Exception as exc:  # noqa: BLE001 - the store may be busy: the backlog waits for the next start
                log.warning("online-eval backlog not resumed: %s", exc)
        return self

    def resume_backlog(self, *, hours: float = 24.0, limit: int = 5_000) -> int:
        """Queue the sampled requests of the last `hours` that have no online score yet: what a stopped service
        had queued and not scored is in the request log, so the backlog survives a restart without a file of
        its own. Scores are written once per request and name, so two workers resuming together agree."""
        rows = self.store.query(
            "SELECT r.* FROM requests r WHERE r.created_at >= ? AND r.error_code IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM scores s WHERE s.request_id = r.request_id AND s.source = 'online') "
            "ORDER BY r.created_at LIMIT ?",
            [time.time() - hours * 3600, limit],
        )
        queued = sum(1 for row in rows if self.submit(row))
        if queued:
            log.info("online evals: %d requests from before the last stop queued for scoring", queued)
        return queued

    def submit(self, record: Any) -> bool:
        """Queue a `RequestRecord` (or row dict) for scoring if sampled; never blocks. Returns whether queued."""
        get = (lambda k: getattr(record, k, None)) if is_dataclass(record) else record.get
        if get("error_code") or not sampled(str(get("request_id")), self.sample_rate):
            self.skipped += 1
            return False
        row = asdict(record) if is_dataclass(record) else dict(record)  # type: ignore[arg-type]
        with self._idle:
            self._busy += 1
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            with self._idle:
                self._busy -= 1
            self.dropped += 1
            return False
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is scored and written."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in hand: what is still queued is not waited for (the next start resumes it
        from the request log, `resume_backlog`), so shutdown does not wait on scoring."""
        if self._thread is None:
            return
        self._stopping = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._send_annotations()
        self._thread = None

    def _client(self) -> SpanAnnotationSender:
        if self._sender is None:
            assert self.phoenix_url is not None
            self._sender = SpanAnnotationSender(self.phoenix_url, api_key=self.phoenix_api_key)
        return self._sender

    def _send_annotations(self) -> None:
        if not self.phoenix_url:
            return
        try:
            self.annotated += send_score_annotations(self.store, self._client())
        except Exception as exc:  # noqa: BLE001 - Phoenix down or span not there yet: retried later
            log.info("online-eval annotations not sent yet: %s", exc)

    def _score(self, loop: asyncio.AbstractEventLoop, batch: list[dict[str, Any]]) -> None:
        rows: list[tuple[str, list[Any], dict[str, Any]]] = []
        for item in batch:
            try:
                scores = loop.run_until_complete(evaluate_all(self.evaluators, context_for(item)))
                rows.append(
                    (item["request_id"], scores, {"variant": item.get("variant"), "experiment": item.get("experiment")})
                )
            except Exception as exc:  # noqa: BLE001 - a scoring failure must not stop the worker
                self.failures += 1
                log.warning("online eval of %s failed: %s", item.get("request_id"), exc)
        try:
            write_many_scores(self.store, rows, source="online", annotator="online-eval")
            self.scored += len(rows)
        except Exception as exc:  # noqa: BLE001 - the store is busy or down: these scores are lost, said in the log
            self.failures += len(rows)
            log.warning("online-eval scores of %d requests not written: %s", len(rows), exc)
        finally:
            with self._idle:
                self._busy -= len(batch)
                self._idle.notify_all()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        last_send = time.monotonic()
        backoff = self.annotate_interval
        try:
            while True:
                try:
                    item = self._queue.get(timeout=backoff)
                except queue.Empty:
                    item = None
                if item is _STOP or self._stopping:
                    return
                if item is not None:
                    batch = [item]
                    while len(batch) < self.batch_size:  # drain what is queued: one write per batch
                        try:
                            more = self._queue.get_nowait()
                        except queue.Empty:
                            break
                        if more is _STOP:
                            self._queue.put(_STOP)
                            break
                        batch.append(more)
                    self._score(loop, batch)
                if self.phoenix_url and time.monotonic() - last_send >= self.annotate_interval:
                    last_send = time.monotonic()
                    self._send_annotations()
        finally:
            loop.close()
