"""A cache of model-call results for eval runs, keyed by target, prompt versions, model and input.

One SQLite file under `settings.cache_dir` (stdlib `sqlite3`: no server, safe across processes with WAL).
A rerun of a suite with the same prompt versions, model and inputs is a cache hit and makes no model call;
any change to one of them is a new key, so a new prompt version or model is always really called.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.settings import get_settings

__all__ = ["CallCache", "CacheStats", "cache_key"]


def cache_key(*, target: str, model: str | None, prompt_versions: Mapping[str, str], inputs: Any) -> str:
    """sha256 over the canonical JSON of what determines a model call's result."""
    blob = json.dumps(
        {"target": target, "model": model, "prompts": dict(sorted(prompt_versions.items())), "inputs": inputs},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(kw_only=True)
class CacheStats:
    """Hits and misses of one cache object."""

    hits: int = 0
    misses: int = 0
    writes: int = 0


@dataclass(kw_only=True)
class CallCache:
    """Key -> JSON value store (`get` returns None on a miss)."""

    path: Path = field(default_factory=lambda: get_settings().cache_dir / "eval_calls.sqlite")
    """The SQLite file (created on first use)."""
    stats: CacheStats = field(default_factory=CacheStats)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
        )

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False, default=str)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, value, created) VALUES (?, ?, ?)", (key, text, time.time())
            )
        self.stats.writes += 1

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM calls")

    def close(self) -> None:
        self._db.close()
