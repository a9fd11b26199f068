"""`BackgroundWriter`: log rows leave the request path through a queue; one thread writes them in batches.

`submit` never touches the database: it appends the row to the process's journal (when there is one: one
`write(2)`, so an answered request survives the worker's death) and queues it. The thread takes what is
queued (up to `batch_size` rows, or what arrived within `max_delay` seconds) and writes it in one transaction.

Failures are told apart. A transient one (database locked past the busy timeout, PostgreSQL restarting, the
connection lost) is retried with back-off on a fresh connection. A permanent one (a row the store refuses)
makes the batch go row by row: every good row is stored, and a row refused again goes to the dead-letter file
with its error, so one bad row never blocks the rows after it. Once a second, while idle, the thread takes
over the journal of any process that died and stores its rows. `close()` writes what is queued within its
deadline; what a still-failing store leaves unwritten stays in the journal for the next process.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from aiagents.logstore.dead_letter import DeadLetter
from aiagents.logstore.journal import Journal
from aiagents.logstore.records import FeedbackRecord, RequestRecord
from aiagents.logstore.store import LogStore, LogStoreError

__all__ = ["BackgroundWriter", "is_transient"]

log = logging.getLogger(__name__)
_STOP = object()
Row = RequestRecord | FeedbackRecord
_TRANSIENT_SQLITE = ("locked", "busy", "unable to open", "disk i/o")


def is_transient(exc: BaseException) -> bool:
    """True for failures that retrying can cure (lock contention, a lost or refused connection)."""
    if isinstance(exc, LogStoreError):  # could not connect
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return any(word in str(exc).lower() for word in _TRANSIENT_SQLITE)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the install
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


class BackgroundWriter:
    """Batches `RequestRecord`s and `FeedbackRecord`s into `store` from one daemon thread."""

    def __init__(
        self,
        store: LogStore,
        *,
        batch_size: int = 500,
        max_delay: float = 0.05,
        journal: Journal | None = None,
        dead_letter: DeadLetter | None = None,
        takeover_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.journal = journal
        self.dead_letter = dead_letter
        self.takeover_interval = takeover_interval
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="logstore-writer", daemon=True)
        self._idle = threading.Condition()
        self._pending = 0
        self._deadline: float | None = None
        self.written = 0
        self.batches = 0
        self.failures = 0
        self.dead = 0
        self.taken_over = 0
        self._closed = False
        self._thread.start()

    def submit(self, record: Row) -> None:
        """Journal one row (when there is a journal) and queue it; returns without waiting for the store."""
        if self._closed:
            raise RuntimeError("the log writer is closed")
        segment = None
        if self.journal is not None:
            try:
                segment = self.journal.append(record)
            except (OSError, ValueError, RecursionError) as exc:  # the store may still take it: do not fail the request
                log.error("journal append failed (%s); row %s kept in memory only", exc, _row_id(record))
        with self._idle:
            self._pending += 1
        self._queue.put((record, segment))

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

    def close(self, timeout: float = 20.0) -> bool:
        """Write what is queued, stop the thread, close the journal; True when nothing is left unwritten.

        Gives up after `timeout` seconds (a store that keeps failing): those rows stay in the journal.
        """
        if self._closed:
            return self._pending == 0
        self._closed = True
        self._deadline = time.monotonic() + timeout
        self._queue.put(_STOP)
        self._thread.join(timeout + 5)
        left = self.journal.close() if self.journal is not None else self._pending
        if left:
            where = f"left in the journal {self.journal.folder}" if self.journal is not None else "lost"
            log.error("log writer stopped with %d rows unwritten (%s)", left, where)
        if self.dead:
            log.error("%d rows the store refused are in %s", self.dead, self.dead_letter.path)  # type: ignore[union-attr]
        return self._pending == 0

    # the thread ---------------------------------------------------------------------------------------
    def _run(self) -> None:
        self._take_over()  # rows a crashed process left behind
        last_sync = time.monotonic()
        stopping = False
        while not stopping:
            try:
                item = self._queue.get(timeout=self.takeover_interval)
            except queue.Empty:
                self._take_over()
                continue
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
            self._write(batch)  # type: ignore[arg-type]
            if self.journal is not None and time.monotonic() - last_sync >= 1.0:
                if self.journal.fsync == "interval":
                    self.journal.sync()
                last_sync = time.monotonic()
        rest = []  # whatever raced in after the stop marker
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                rest.append(item)
        if rest:
            self._write(rest)  # type: ignore[arg-type]
        self._take_over()  # the server is stopping: nothing a dead worker answered stays out of the store

    def _write(self, batch: list[tuple[Row, Path | None]]) -> None:
        if not self._store_all([row for row, _ in batch]):
            return  # gave up at the shutdown deadline: the rows stay in the journal
        if self.journal is not None:
            for _, segment in batch:
                if segment is not None:
                    self.journal.done(segment)
        self.written += len(batch)
        self.batches += 1
        with self._idle:
            self._pending -= len(batch)
            self._idle.notify_all()

    def _store_all(self, rows: Sequence[Row]) -> bool:
        """Store `rows` in one transaction or, when the store refuses the batch, row by row, the rows refused
        again put in the dead-letter file. False when the shutdown deadline came first (nothing is lost: the
        rows not stored are still in the journal)."""
        outcome = self._store(rows)
        if outcome is True or outcome is False:
            return outcome
        if len(rows) > 1:
            log.warning("log store refused a batch of %d rows (%s); writing it row by row", len(rows), outcome)
        for row in rows:
            single = self._store([row]) if len(rows) > 1 else outcome
            if single is False:
                return False
            if single is not True:
                self._bury(row, single)
        return True

    def _store(self, rows: Sequence[Row]) -> bool | BaseException:
        """Write `rows` in one transaction, retrying transient failures: True when written, the error when the
        store refuses them for good, False when the shutdown deadline passed first."""
        delay = 0.05
        while True:
            try:
                self.store.write_records(rows)
                return True
            except Exception as exc:  # noqa: BLE001 - sorted below: retried, or refused for good
                self.failures += 1
                if not is_transient(exc):
                    return exc
                if self._deadline is not None and time.monotonic() + delay > self._deadline:
                    return False
                log.warning("log store write of %d rows failed (%s); retrying in %.2f s", len(rows), exc, delay)
                self.store.reset_connection()
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _bury(self, row: Row, error: BaseException) -> None:
        self.dead += 1
        if self.dead_letter is None:
            log.error("log store refused row %s for good (%s); dropped (no dead-letter file)", _row_id(row), error)
            return
        try:
            self.dead_letter.add(row, error)
            log.error("log store refused row %s (%s); kept in %s", _row_id(row), error, self.dead_letter.path)
        except (OSError, ValueError, RecursionError) as exc:
            log.error("row %s refused by the store and by the dead-letter file (%s); dropped", _row_id(row), exc)

    def _take_over(self) -> None:
        """Store the rows of journal segments whose process died, then delete those segments."""
        if self.journal is None:
            return
        try:
            for path, rows in self.journal.orphans():
                for start in range(0, len(rows), self.batch_size):
                    if not self._store_all(rows[start : start + self.batch_size]):
                        raise TimeoutError("shutdown deadline")  # keep the segment for the next process
                self.taken_over += len(rows)
                log.warning("took over %d rows from the journal of a stopped process (%s)", len(rows), path.name)
        except TimeoutError:
            pass
        except OSError as exc:
            log.error("journal takeover failed: %s", exc)


def _row_id(row: Row) -> str:
    return row.request_id if isinstance(row, RequestRecord) else row.feedback_id
