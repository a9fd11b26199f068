"""`BackgroundWriter`: log rows leave the request path through a queue; one thread writes them in batches.

`submit` never touches the database. The thread takes what is queued (up to `batch_size` rows, or what
arrived within `max_delay` seconds) and writes it in one transaction. A batch that fails (database locked
past the busy timeout, PostgreSQL restarting) is retried with back-off and never dropped; `close()` writes
everything still queued before it returns (graceful shutdown loses nothing that was answered).
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from aiagents.logstore.records import FeedbackRecord, RequestRecord
from aiagents.logstore.store import LogStore

__all__ = ["BackgroundWriter"]

log = logging.getLogger(__name__)
_STOP = object()


class BackgroundWriter:
    """Batches `RequestRecord`s and `FeedbackRecord`s into `store` from one daemon thread."""

    def __init__(self, store: LogStore, *, batch_size: int = 500, max_delay: float = 0.05) -> None:
        self.store = store
        self.batch_size = batch_size
        self.max_delay = max_delay
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="logstore-writer", daemon=True)
        self._idle = threading.Condition()
        self._pending = 0
        self.written = 0
        self.batches = 0
        self.failures = 0
        self._closed = False
        self._thread.start()

    def submit(self, record: RequestRecord | FeedbackRecord) -> None:
        """Queue one row (non-blocking)."""
        if self._closed:
            raise RuntimeError("the log writer is closed")
        with self._idle:
            self._pending += 1
        self._queue.put(record)

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row submitted so far is written; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 60.0) -> bool:
        """Write what is queued, stop the thread; True when nothing is left unwritten."""
        if self._closed:
            return self._pending == 0
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        return self._pending == 0

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            # Sleep, then take what arrived meanwhile: waiting on the queue instead would wake this thread for
            # every row and make it fight the request thread for the GIL (measured: about 0.3 ms a request).
            time.sleep(self.max_delay)
            while len(batch) < self.batch_size:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            self._write(batch)
        # drain whatever raced in after the stop marker
        rest = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                rest.append(item)
        if rest:
            self._write(rest)

    def _write(self, batch: list[object]) -> None:
        requests = [r for r in batch if isinstance(r, RequestRecord)]
        feedback = [r for r in batch if isinstance(r, FeedbackRecord)]
        delay = 0.05
        while True:
            try:
                self.store.write(requests=requests, feedback=feedback)
                break
            except Exception as exc:  # noqa: BLE001 - retried: a row that was answered must not be lost
                self.failures += 1
                log.warning("log store write of %d rows failed (%s); retrying in %.2f s", len(batch), exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.written += len(batch)
        self.batches += 1
        with self._idle:
            self._pending -= len(batch)
            self._idle.notify_all()
