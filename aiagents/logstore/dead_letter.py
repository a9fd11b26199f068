"""`DeadLetter`: rows the store refused for good, kept in a file with the error instead of blocking the log.

`<data dir>/logs/dead-letter.jsonl`, one JSON object a line: `{"at", "kind", "error", "row"}` (ASCII-escaped,
so the row is kept exactly as it was). `aiagents logs stats` reports how many; once the cause is fixed,
`aiagents logs recover` stores them (and the journal of any stopped process).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from aiagents.logstore.journal import encode_record, record_of
from aiagents.logstore.records import FeedbackRecord, RequestRecord

__all__ = ["DeadLetter", "dead_letter_path", "read_dead_letter"]


def dead_letter_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "dead-letter.jsonl"


class DeadLetter:
    """Appends refused rows to `path` (created 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.added = 0

    def add(self, record: RequestRecord | FeedbackRecord, error: BaseException) -> None:
        line = encode_record(record, at=time.time(), error=f"{type(error).__name__}: {error}")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            self.added += 1

    def count(self) -> int:
        """Rows in the file (from every process that wrote to it)."""
        try:
            with self.path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            return 0


def read_dead_letter(path: Path) -> list[tuple[RequestRecord | FeedbackRecord, dict[str, object]]]:
    """The rows in a dead-letter file with their entries (`at`, `error`)."""
    rows = []
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        rows.append((record_of(entry), entry))
    return rows
