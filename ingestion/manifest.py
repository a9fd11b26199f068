"""`Manifest`: which documents an index holds, at which content hash (SQLite beside the index).

It is what makes ingestion incremental and resumable: a document's row gets its hash only after its
chunks are in the index and flushed; a batch in flight is marked `pending` first, so a crashed run's
half-written documents are cleaned up and redone on the next run.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Manifest", "ManifestEntry"]


def _m1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE documents (id TEXT PRIMARY KEY, hash TEXT, chunks INTEGER NOT NULL DEFAULT 0,"
        " pending INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL)"
    )


# Schema migrations, applied in order; the database's user_version counts those applied.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1]


@dataclass(kw_only=True, frozen=True)
class ManifestEntry:
    """What the manifest knows about one document."""

    hash: str | None
    """Content hash of the version fully in the index, or None if no version finished."""
    chunks: int
    """Chunks of that version."""
    pending: bool
    """A batch holding this document started and did not finish (a crashed run)."""


class Manifest:
    """The state of one index's ingestion, in an SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for n, migrate in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._db:
                migrate(self._db)
                self._db.execute(f"PRAGMA user_version = {n}")

    def entries(self) -> dict[str, ManifestEntry]:
        rows = self._db.execute("SELECT id, hash, chunks, pending FROM documents")
        return {i: ManifestEntry(hash=h, chunks=c, pending=bool(p)) for i, h, c, p in rows}

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, **values: str) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())

    def mark_pending(self, ids: Iterable[str]) -> None:
        """Record that these documents are about to be (re)written in the index."""
        now = time.time()
        with self._db:
            self._db.executemany(
                "INSERT INTO documents (id, hash, chunks, pending, updated) VALUES (?, NULL, 0, 1, ?)"
                " ON CONFLICT(id) DO UPDATE SET pending = 1, updated = excluded.updated",
                [(i, now) for i in ids],
            )

    def mark_indexed(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """Record (id, content hash, chunk count) of documents now fully in the (flushed) index."""
        now = time.time()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO documents (id, hash, chunks, pending, updated) VALUES (?, ?, ?, 0, ?)",
                [(i, h, n, now) for i, h, n in rows],
            )

    def remove(self, ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in ids])

    def clear(self) -> None:
        with self._db:
            self._db.execute("DELETE FROM documents")
            self._db.execute("DELETE FROM meta")

    def close(self) -> None:
        self._db.close()
