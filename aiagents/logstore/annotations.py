"""Feedback into Phoenix: each feedback row becomes an annotation on its request's span.

The store is the outbox: a feedback row is sent while its `annotated_at` is empty. A background thread
sends what is pending in batches; when Phoenix is down (or does not know the span yet because the spans
are still spooled) the rows stay pending and are retried with back-off, so annotations arrive later, like
spooled spans. Each annotation carries the feedback id as its `identifier`, so a row sent twice (two
workers, a retry after a lost reply) updates one annotation instead of adding a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import httpx

from aiagents.logstore.store import LogStore

__all__ = ["FeedbackAnnotator", "annotations_for"]

log = logging.getLogger(__name__)

THUMBS_ANNOTATION = "user_feedback"
"""Explicit feedback: label 'thumbs_up'/'thumbs_down', score 1/0, the comment as explanation."""
CORRECTION_ANNOTATION = "user_correction"
"""Implicit feedback: label 'corrected' (with the corrected output in metadata) or 'accepted'."""


def annotations_for(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The Phoenix span annotations (`SpanAnnotationData`) of one pending feedback row."""
    base = {"span_id": row["span_id"], "annotator_kind": "HUMAN", "identifier": row["feedback_id"]}
    meta = {"request_id": row["request_id"], "feedback_id": row["feedback_id"], "user_id": row.get("user_id")}
    result: list[dict[str, Any]] = []
    if row.get("thumbs"):
        up = row["thumbs"] == "up"
        res: dict[str, Any] = {"label": "thumbs_up" if up else "thumbs_down", "score": 1.0 if up else 0.0}
        if row.get("comment"):
            res["explanation"] = row["comment"]
        result.append({**base, "name": THUMBS_ANNOTATION, "result": res, "metadata": meta})
    if row.get("corrected_output") is not None or row.get("accepted") is not None:
        corrected = row.get("corrected_output") is not None
        res = {"label": "corrected" if corrected else ("accepted" if row.get("accepted") else "rejected")}
        res["score"] = 0.0 if corrected or not row.get("accepted") else 1.0
        extra = {"corrected_output": row["corrected_output"]} if corrected else {}
        result.append({**base, "name": CORRECTION_ANNOTATION, "result": res, "metadata": {**meta, **extra}})
    if not result and row.get("comment"):
        result.append({**base, "name": THUMBS_ANNOTATION, "result": {"explanation": row["comment"]}, "metadata": meta})
    return result


class FeedbackAnnotator:
    """Sends pending feedback to Phoenix (`base_url`) as span annotations; `start()` runs it in a thread."""

    def __init__(
        self,
        store: LogStore,
        base_url: str,
        *,
        api_key: str | None = None,
        interval: float = 1.0,
        max_backoff: float = 60.0,
        batch_size: int = 200,
        timeout: float = 5.0,
    ) -> None:
        from aiagents.tracing.span_annotations import SpanAnnotationSender

        self.store = store
        self.base_url = base_url.rstrip("/")
        self.interval = interval
        self.max_backoff = max_backoff
        self.batch_size = batch_size
        self._sender = SpanAnnotationSender(self.base_url, api_key=api_key, timeout=timeout)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.failed_attempts = 0

    def send_pending(self) -> int:
        """One pass: send every pending annotation; returns how many feedback rows were delivered."""
        delivered = 0
        while True:
            rows = self.store.pending_annotations(limit=self.batch_size)
            if not rows:
                return delivered
            data = [a for row in rows for a in annotations_for(row)]
            ids = [row["feedback_id"] for row in rows]
            try:
                if data:
                    self._sender.log_span_annotations(data)
            except (httpx.HTTPError, ValueError) as exc:
                self.failed_attempts += 1
                self.store.mark_annotated(ids, ok=False)
                raise _SendFailed(str(exc)) from None
            self.store.mark_annotated(ids, ok=True)
            delivered += len(rows)
            self.sent += len(rows)
            if len(rows) < self.batch_size:
                return delivered

    def wake(self) -> None:
        """Send soon (called when new feedback arrives)."""
        self._wake.set()

    def start(self) -> FeedbackAnnotator:
        self._thread = threading.Thread(target=self._run, name="feedback-annotator", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, final_pass: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15)
        if final_pass:
            with contextlib.suppress(Exception):  # Phoenix down at shutdown: rows stay pending for next time
                self.send_pending()
        self._sender.close()

    def _run(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.send_pending()
                backoff = self.interval
            except _SendFailed as exc:
                backoff = min(max(backoff * 2, self.interval), self.max_backoff)
                log.info("Phoenix did not take feedback annotations (%s); retrying in %.0f s", exc, backoff)
            except Exception as exc:  # noqa: BLE001 - the store may be busy; try again later
                log.warning("feedback annotation pass failed: %s", exc)


class _SendFailed(Exception):
    pass
