"""The ingestion state file: pending marks survive until a document is recorded as indexed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aiagents.ingestion import Manifest, ManifestEntry
from aiagents.ingestion.manifest import MIGRATIONS


def test_pending_then_indexed_then_removed(tmp_path: Path) -> None:
    path = tmp_path / "idx" / "ingest_state.sqlite"
    m = Manifest(path)
    m.mark_indexed([("a", "h1", 2), ("b", "h2", 1)])
    m.mark_pending(["a", "c"])
    m.close()

    m = Manifest(path)  # reopened: state is on disk, migrations are not re-run
    assert m.entries() == {
        "a": ManifestEntry(hash="h1", chunks=2, pending=True),  # old version still known
        "b": ManifestEntry(hash="h2", chunks=1, pending=False),
        "c": ManifestEntry(hash=None, chunks=0, pending=True),  # never finished
    }
    m.mark_indexed([("a", "h3", 4)])
    m.remove(["b"])
    m.set_meta(chunker="window(size=3,overlap=0)", dim="384")
    assert m.entries()["a"] == ManifestEntry(hash="h3", chunks=4, pending=False) and "b" not in m.entries()
    assert (m.get_meta("chunker"), m.get_meta("dim"), m.get_meta("missing")) == (
        "window(size=3,overlap=0)",
        "384",
        None,
    )
    m.clear()
    assert m.entries() == {} and m.get_meta("dim") is None
    m.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
