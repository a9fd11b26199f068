"""Multi-turn sessions: the message history of each session id, in SQLite or in memory.

`SessionStore()` keeps `<data dir>/agent_sessions.sqlite` (the file is the truth: no per-process cache,
so `aiagents agent ask --session S` continues a conversation across CLI calls and several service
workers share sessions; appends take SQLite's write lock). `SessionStore(persist=False)` keeps memory only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter

from aiagents.settings import get_settings

__all__ = ["SessionStore", "SessionInfo", "SESSIONS_FILE"]

SESSIONS_FILE = "agent_sessions.sqlite"

# Migrations as a list of small numbered steps (the index + 1 is the schema version).
_MIGRATIONS = [
    """CREATE TABLE messages (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        run_id TEXT,
        user_id TEXT,
        created_at TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    )""",
]


@dataclass(kw_only=True)
class SessionInfo:
    """One stored session."""

    session_id: str
    messages: int
    """Messages stored (requests and responses)."""
    updated_at: str
    """ISO 8601 time of the last message."""


def _dump(message: ModelMessage) -> str:
    return ModelMessagesTypeAdapter.dump_json([message]).decode()[1:-1]


class SessionStore:
    """Message history per session id."""

    def __init__(self, path: Path | None = None, *, persist: bool = True, shared: Any = "auto") -> None:
        self.path = (path or get_settings().data_dir / SESSIONS_FILE) if persist else None
        self._memory: dict[str, list[ModelMessage]] = {}
        self._lock = threading.Lock()
        if shared == "auto":  # a shared database (AIAGENTS_DATABASE_URL): every machine continues the conversation
            from aiagents.logstore.shared import shared_store

            shared = shared_store() if persist and path is None else None
        self.shared = shared

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # explicit transactions below
        db.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (several service workers)
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for i, sql in enumerate(_MIGRATIONS[version:], start=version + 1):
            db.execute(sql)
            db.execute(f"PRAGMA user_version = {i}")
        db.execute("COMMIT")
        return db

    def load(self, session_id: str) -> list[ModelMessage]:
        """The session's messages in order (empty for a new session)."""
        if self.path is None:
            with self._lock:
                return list(self._memory.get(session_id, []))
        if self.shared is not None:
            sql = "SELECT message FROM agent_messages WHERE session_id = ? ORDER BY seq"
            stored = [r["message"] for r in self.shared.query(sql, [session_id])]
        elif not self.path.exists():
            return []
        else:
            db = self._connect()
            try:
                sql = "SELECT message FROM messages WHERE session_id = ? ORDER BY seq"
                stored = [r[0] for r in db.execute(sql, (session_id,)).fetchall()]
            finally:
                db.close()
        if not stored:
            return []
        return list(ModelMessagesTypeAdapter.validate_json("[" + ",".join(stored) + "]"))

    def append(
        self,
        session_id: str,
        messages: Sequence[ModelMessage],
        *,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Add a run's new messages to the end of the session (safe across threads and processes)."""
        if not messages:
            return
        if self.path is None:
            with self._lock:
                self._memory.setdefault(session_id, []).extend(messages)
            return
        now = datetime.now(UTC).isoformat()
        if self.shared is not None:
            self._append_shared(session_id, messages, run_id=run_id, user_id=user_id, now=now)
            return
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock before reading the next position
            start = db.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            rows = [(session_id, start + i, run_id, user_id, now, _dump(m)) for i, m in enumerate(messages)]
            db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _append_shared(
        self, session_id: str, messages: Sequence[ModelMessage], *, run_id: str | None, user_id: str | None, now: str
    ) -> None:
        """Append in one transaction; two machines appending to one session at once: the loser retries."""
        for attempt in range(5):
            try:
                with self.shared.transaction(immediate=True) as cursor:
                    cursor.execute(
                        self.shared.sql(
                            "SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM agent_messages WHERE session_id = ?"
                        ),
                        (session_id,),
                    )
                    row = cursor.fetchone()
                    start = row["n"]  # sqlite3.Row and psycopg's dict rows alike
                    rows = [(session_id, start + i, run_id, user_id, now, _dump(m)) for i, m in enumerate(messages)]
                    cursor.executemany(self.shared.sql("INSERT INTO agent_messages VALUES (?, ?, ?, ?, ?, ?)"), rows)
                return
            except Exception:  # a concurrent append took the same positions (primary key): read again
                if attempt == 4:
                    raise

    def clear(self, session_id: str) -> None:
        """Forget a session."""
        if self.path is None:
            with self._lock:
                self._memory.pop(session_id, None)
            return
        if self.shared is not None:
            self.shared.execute_many("DELETE FROM agent_messages WHERE session_id = ?", [(session_id,)])
            return
        if self.path.exists():
            db = self._connect()
            try:
                db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            finally:
                db.close()

    def sessions(self) -> list[SessionInfo]:
        """Stored sessions, most recently updated first."""
        if self.path is None:
            return [SessionInfo(session_id=s, messages=len(m), updated_at="") for s, m in self._memory.items()]
        if self.shared is not None:
            rows = self.shared.query(
                "SELECT session_id, COUNT(*) AS n, MAX(created_at) AS at FROM agent_messages GROUP BY session_id "
                "ORDER BY MAX(created_at) DESC"
            )
            return [SessionInfo(session_id=r["session_id"], messages=r["n"], updated_at=r["at"]) for r in rows]
        if not self.path.exists():
            return []
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT session_id, COUNT(*), MAX(created_at) FROM messages GROUP BY session_id ORDER BY 3 DESC"
            ).fetchall()
        finally:
            db.close()
        return [SessionInfo(session_id=r[0], messages=r[1], updated_at=r[2]) for r in rows]
