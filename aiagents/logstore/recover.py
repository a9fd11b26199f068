"""`recover`: store what a stopped service left outside the log: journal segments and dead-letter rows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiagents.logstore.dead_letter import DeadLetter, dead_letter_path, read_dead_letter
from aiagents.logstore.journal import Journal
from aiagents.logstore.store import LogStore

__all__ = ["recover", "journal_dir"]


def journal_dir(data_dir: Path) -> Path:
    return data_dir / "logs" / "journal"


def recover(store: LogStore, data_dir: Path) -> dict[str, Any]:
    """Take over the journal segments of stopped processes, then retry the dead-letter rows; rows refused again
    stay in the dead-letter file. Idempotent: rows already stored are skipped by id."""
    folder = journal_dir(data_dir)
    journal_rows = 0
    if folder.is_dir():
        journal = Journal(folder, fsync="never")
        try:
            for _path, rows in journal.orphans():
                store.write_records(rows)
                journal_rows += len(rows)
        finally:
            journal.close()
    path = dead_letter_path(data_dir)
    stored, kept = 0, []
    for record, _entry in read_dead_letter(path):
        try:
            store.write_records([record])
            stored += 1
        except Exception as exc:  # noqa: BLE001 - refused again: it stays in the file with the new error
            kept.append((record, exc))
    if stored or kept:
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        again = DeadLetter(tmp)
        for record, exc in kept:
            again.add(record, exc)
        if kept:
            os.replace(tmp, path)
        else:
            path.unlink(missing_ok=True)
    return {"journal_rows": journal_rows, "dead_letter_stored": stored, "dead_letter_left": len(kept)}
