"""`Journal`: every log row appended to a local file before the service answers, so an answered request
survives the death of the worker that answered it.

Each process appends to its own segment file under `<data dir>/logs/journal/`, holding an exclusive `flock`
on it while it lives (the kernel drops the lock when the process dies, however it dies). A segment is
deleted once every row in it is in the store. Any process can take over a segment whose lock it can get:
its owner is gone, so its rows are replayed into the store (inserts are idempotent by id) and the file is
deleted. Segments are created under a temporary name, locked, then renamed, so no scanner ever sees an
unlocked live segment.

An append is one `write(2)` of one line: once it returns, the row survives the process (it is in the
kernel's page cache). `fsync` decides what a machine crash may lose: `"always"` (every append; nothing
acknowledged is lost), `"interval"` (the writer syncs about once a second; at most the last second), `"never"`
(whatever the OS had not written back).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiagents.logstore.records import FeedbackRecord, RequestRecord

__all__ = ["FsyncPolicy", "Journal", "JournalSegment", "decode_line", "encode_record", "record_of"]

log = logging.getLogger(__name__)
FsyncPolicy = Literal["always", "interval", "never"]
SUFFIX = ".jsonl"
_KINDS: dict[str, type[RequestRecord] | type[FeedbackRecord]] = {"request": RequestRecord, "feedback": FeedbackRecord}


def encode_record(record: RequestRecord | FeedbackRecord, **extra: Any) -> bytes:
    """One line `{**extra, "kind", "row"}` (the journal's; the dead-letter file's adds `at` and `error`).
    ASCII-escaped JSON, so any string (lone surrogates included) is written as sent."""
    kind = "request" if isinstance(record, RequestRecord) else "feedback"
    entry = {**extra, "kind": kind, "row": record.__dict__}
    return (json.dumps(entry, ensure_ascii=True, default=str) + "\n").encode()


def record_of(entry: Mapping[str, Any]) -> RequestRecord | FeedbackRecord:
    """The record an entry `{"kind", "row"}` holds (KeyError / TypeError when it is damaged)."""
    return _KINDS[entry["kind"]](**entry["row"])


def decode_line(line: bytes) -> RequestRecord | FeedbackRecord:
    """The record a journal line holds (ValueError / KeyError / TypeError on a damaged line)."""
    return record_of(json.loads(line))


@dataclass(kw_only=True)
class JournalSegment:
    """One open segment file of this process."""

    path: Path
    fd: int
    appended: int = 0
    outstanding: int = 0
    """Rows appended and not yet in the store (or the dead-letter file)."""
    sealed: bool = False
    """No more appends (a newer segment took over); deleted when `outstanding` reaches 0."""
    synced: bool = field(default=True)


class Journal:
    """This process's side of the journal folder (see the module docstring)."""

    def __init__(self, folder: str | Path, *, fsync: FsyncPolicy = "interval", segment_rows: int = 20_000) -> None:
        if fsync not in ("always", "interval", "never"):
            raise ValueError(f"journal fsync policy {fsync!r}: use always, interval or never")
        self.folder = folder = Path(folder)
        self.fsync = fsync
        self.segment_rows = segment_rows
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._segments: dict[Path, JournalSegment] = {}
        self._current = self._open_segment()

    # this process's appends --------------------------------------------------------------------------
    def _open_segment(self) -> JournalSegment:
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        tmp = self.folder / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = self.folder / f"{name}{SUFFIX}"
        os.rename(tmp, path)
        segment = JournalSegment(path=path, fd=fd)
        self._segments[path] = segment
        return segment

    def append(self, record: RequestRecord | FeedbackRecord) -> Path:
        """Append one row; returns its segment (hand it to `done` once the row is stored)."""
        line = encode_record(record)
        with self._lock:
            segment = self._current
            if segment.appended >= self.segment_rows:
                segment.sealed = True
                segment = self._current = self._open_segment()
                self._forget_if_done(self._segments_sealed())
            os.write(segment.fd, line)
            if self.fsync == "always":
                os.fsync(segment.fd)
            else:
                segment.synced = False
            segment.appended += 1
            segment.outstanding += 1
            return segment.path

    def done(self, path: Path, rows: int = 1) -> None:
        """`rows` of segment `path` are in the store: a sealed segment with nothing outstanding is deleted."""
        with self._lock:
            segment = self._segments.get(path)
            if segment is None:
                return
            segment.outstanding -= rows
            self._forget_if_done([segment])

    def sync(self) -> None:
        """fsync the segments written since the last sync (the writer calls it about once a second)."""
        with self._lock:
            pending = [s for s in self._segments.values() if not s.synced]
            for segment in pending:
                segment.synced = True
        for segment in pending:
            with contextlib.suppress(OSError):
                os.fsync(segment.fd)

    @property
    def outstanding(self) -> int:
        with self._lock:
            return sum(s.outstanding for s in self._segments.values())

    def close(self) -> int:
        """Seal every segment; delete those whose rows are all stored; returns the rows left in the journal
        (they are replayed by the next process that starts, or by a live one within a second)."""
        with self._lock:
            for segment in self._segments.values():
                segment.sealed = True
            left = sum(s.outstanding for s in self._segments.values())
            self._forget_if_done(list(self._segments.values()))
            for segment in list(self._segments.values()):  # rows left: keep the file, release the lock
                with contextlib.suppress(OSError):
                    os.fsync(segment.fd)
                os.close(segment.fd)
            self._segments.clear()
        return left

    def _segments_sealed(self) -> list[JournalSegment]:
        return [s for s in self._segments.values() if s.sealed]

    def _forget_if_done(self, segments: list[JournalSegment]) -> None:
        for segment in segments:
            if segment.sealed and segment.outstanding <= 0 and segment.path in self._segments:
                with contextlib.suppress(FileNotFoundError):
                    segment.path.unlink()
                os.close(segment.fd)
                del self._segments[segment.path]

    # other processes' segments -----------------------------------------------------------------------
    def orphans(self) -> Iterator[tuple[Path, list[RequestRecord | FeedbackRecord]]]:
        """Segments whose owner is gone, each locked while the caller stores its rows; deleted after the caller
        resumes the iterator (so a segment is deleted only once its rows were handed over without error)."""
        own = set(self._segments)
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            if path in own:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another process took it over meanwhile
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its owner is alive
                if not path.exists():
                    continue  # taken over and deleted between our open and our lock
                records = list(_read_records(path))
                yield path, records
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)


def _read_records(path: Path) -> Iterator[RequestRecord | FeedbackRecord]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield decode_line(line)
            except (ValueError, KeyError, TypeError) as exc:
                # Only a write cut short by a machine crash leaves a damaged line: that row was never acknowledged.
                log.warning("journal %s line %d is damaged (%s); skipped", path.name, number, exc)
