"""`shared_store()`: the database several machines share, when there is one (`AIAGENTS_DATABASE_URL`).

With it, what every worker must agree on lives there and not in the data folder's files: prompt labels (and the
texts of the versions they point at), experiments and agent sessions. Without it (the single-machine default)
they stay files and SQLite under the data folder.
"""

from __future__ import annotations

import os
import threading

from aiagents.logstore.store import DATABASE_URL_ENV, LogStore, open_store

__all__ = ["shared_store"]

_lock = threading.Lock()
_stores: dict[str, LogStore] = {}


def shared_store() -> LogStore | None:
    """The configured shared database (opened and migrated once per process and URL), else None."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if not url:
        return None
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = open_store(url)
        return store
