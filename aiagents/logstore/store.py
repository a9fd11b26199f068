"""`LogStore`: requests and feedback in SQLite (default, under the data folder, WAL) or PostgreSQL (by URL).

Both speak the same schema (`migrations.py`) and the same SQL; only the connection and the placeholder
style differ. Each thread gets its own connection. SQLite runs in WAL mode with a busy timeout, so several
worker processes can write at once (writes are batched into one transaction by `BackgroundWriter`).
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiagents.errors import RunError, UserError
from aiagents.logstore.migrations import MIGRATIONS
from aiagents.logstore.records import FeedbackRecord, RequestRecord, now
from aiagents.logstore.storable import storable_json, storable_text
from aiagents.settings import get_settings

__all__ = [
    "IN_PHOENIX", "LogStore", "open_store", "default_database_url", "redact_url", "LogStoreError", "DatabaseURLError",
]  # fmt: skip

DATABASE_URL_ENV = "AIAGENTS_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000

_REQUEST_COLUMNS = [
    "request_id", "created_at", "endpoint", "name", "input", "output", "prompt_name", "prompt_version",
    "model", "variant", "experiment", "latency_ms", "input_tokens", "output_tokens", "cost_usd", "status",
    "error_code", "error_message", "user_id", "session_id", "trace_id", "span_id", "key_fingerprint", "metadata",
    "trace_sampled",
]  # fmt: skip
_FEEDBACK_COLUMNS = [
    "feedback_id", "request_id", "created_at", "kind", "thumbs", "comment", "corrected_output", "accepted",
    "user_id", "key_fingerprint", "metadata",
]  # fmt: skip
_JSON_COLUMNS = {"input", "output", "corrected_output", "metadata"}
_BOOL_COLUMNS = {"accepted", "trace_sampled"}
IN_PHOENIX = "(r.trace_sampled IS NULL OR r.trace_sampled <> 0)"
"""SQL: request `r`'s trace went to Phoenix (or is not known not to have): only those get span annotations."""


def _row_encoder(columns: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A record's values in `columns` order as the database takes them: JSON columns as text, booleans as 0/1.

    Built once per table: one C-level attribute fetch per row, then only the JSON and boolean columns touched
    (the log writer's thread encodes every served request; this halved its time per row).
    """
    fetch = operator.attrgetter(*columns)
    json_at = [i for i, c in enumerate(columns) if c in _JSON_COLUMNS]
    bool_at = [i for i, c in enumerate(columns) if c in _BOOL_COLUMNS]

    text_at = [i for i, c in enumerate(columns) if c not in _JSON_COLUMNS and c not in _BOOL_COLUMNS]

    def encode(record: Any) -> tuple[Any, ...]:
        values = list(fetch(record))
        for i in json_at:
            if values[i] is not None:
                values[i] = storable_json(values[i])
        for i in bool_at:
            if values[i] is not None:
                values[i] = int(values[i])
        for i in text_at:  # NUL and lone surrogates escaped, the same on both stores (see storable.py)
            value = values[i]
            if value.__class__ is str and not (value.isascii() and "\x00" not in value):
                values[i] = storable_text(value)
        return tuple(values)

    return encode


_encode_request = _row_encoder(_REQUEST_COLUMNS)
_encode_feedback = _row_encoder(_FEEDBACK_COLUMNS)


class LogStoreError(RunError):
    """The log store could not be read or written."""


class DatabaseURLError(UserError):
    """`AIAGENTS_DATABASE_URL` is not a URL the log store can open."""


def redact_url(url: str) -> str:
    """The URL with its password replaced by '***' (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def default_database_url() -> str:
    """`AIAGENTS_DATABASE_URL`, else an SQLite file under the data folder (`logs/requests.db`)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{(get_settings().data_dir / 'logs' / 'requests.db').resolve()}"


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for column in _JSON_COLUMNS & row.keys():
        if row[column] is not None:
            row[column] = json.loads(row[column])
    for column in _BOOL_COLUMNS & row.keys():
        if row[column] is not None:
            row[column] = bool(row[column])
    return row


class LogStore:
    """The request and feedback log. `open_store()` gives the configured one, migrated."""

    def __init__(self, url: str) -> None:
        self.url = url
        scheme = urlsplit(url).scheme
        if scheme == "sqlite":
            self.dialect = "sqlite"
            self.float = "REAL"
            path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.removeprefix("sqlite://")
            if not path:
                raise DatabaseURLError(f"{url!r}: write sqlite:///ABSOLUTE/PATH/requests.db")
            self.path: Path | None = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif scheme in ("postgresql", "postgres"):
            self.dialect = "postgres"
            self.float = "DOUBLE PRECISION"
            self.path = None
            try:
                import psycopg  # noqa: F401
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise DatabaseURLError(
                    "PostgreSQL needs psycopg 3: pip install 'aiagents[postgres]' (psycopg[binary])"
                ) from exc
        else:
            raise DatabaseURLError(
                f"{DATABASE_URL_ENV}={redact_url(url)!r}: use sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB"
            )
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LogStore({redact_url(self.url)!r})"

    # connections -------------------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            conn = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.row_factory = sqlite3.Row
            conn.isolation_level = None  # we issue BEGIN ourselves
            return conn
        import psycopg
        from psycopg.rows import dict_row

        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise LogStoreError(f"cannot connect to the log store {redact_url(self.url)}: {exc}") from None

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._all.append(conn)
        return conn

    def reset_connection(self) -> None:
        """Drop this thread's connection (after a connection error: the next call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):  # closing is best effort
                conn.close()
        self._local = threading.local()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def sql(self, text: str) -> str:
        """`text` with `?` placeholders in this dialect's style (for a cursor from `transaction()`)."""
        return self._sql(text)

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Any]:
        """A cursor inside one transaction (SQLite `BEGIN IMMEDIATE` takes the write lock up front)."""
        conn = self._conn()
        if self.dialect == "sqlite":
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield conn.cursor()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        else:
            with conn.transaction():
                yield conn.cursor()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._conn().cursor()
        cursor.execute(self._sql(sql), tuple(params))
        return [dict(row) for row in cursor.fetchall()]

    # schema ------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied (safe when several processes start at once)."""
        applied_now: list[str] = []
        with self.transaction(immediate=True) as cursor:
            if self.dialect == "postgres":
                cursor.execute("SELECT pg_advisory_xact_lock(7431001)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at {self.float})")
            cursor.execute("SELECT name FROM _migrations")
            done = {row["name"] if isinstance(row, dict) else row[0] for row in cursor.fetchall()}
            store = self

            class _Db:
                dialect = store.dialect
                float = store.float

                @staticmethod
                def execute(sql: str) -> None:
                    cursor.execute(sql)

            for fn in MIGRATIONS:
                if fn.__name__ in done:
                    continue
                fn(_Db())
                cursor.execute(
                    self._sql("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)"), (fn.__name__, now())
                )
                applied_now.append(fn.__name__)
        return applied_now

    def applied_migrations(self) -> list[str]:
        return [row["name"] for row in self._query("SELECT name FROM _migrations ORDER BY name")]

    # writes ------------------------------------------------------------------------------------------
    def write(self, requests: Sequence[RequestRecord] = (), feedback: Sequence[FeedbackRecord] = ()) -> None:
        """Insert rows in one transaction; a row whose id is already stored is skipped (idempotent retry)."""
        if not requests and not feedback:
            return
        with self.transaction(immediate=True) as cursor:
            if requests:
                sql = self._insert_sql("requests", _REQUEST_COLUMNS, "request_id")
                cursor.executemany(sql, [_encode_request(r) for r in requests])
            if feedback:
                sql = self._insert_sql("feedback", _FEEDBACK_COLUMNS, "feedback_id")
                cursor.executemany(sql, [_encode_feedback(f) for f in feedback])

    def write_records(self, records: Sequence[RequestRecord | FeedbackRecord]) -> None:
        """`write` for a mixed list of request and feedback rows (what the journal and the writer hold)."""
        self.write(
            requests=[r for r in records if isinstance(r, RequestRecord)],
            feedback=[r for r in records if isinstance(r, FeedbackRecord)],
        )

    def _insert_sql(self, table: str, columns: list[str], key: str) -> str:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT ({key}) DO NOTHING"
        return self._sql(sql)

    def add_request(self, record: RequestRecord) -> None:
        self.write(requests=[record])

    def add_feedback(self, record: FeedbackRecord) -> None:
        self.write(feedback=[record])

    # reads -------------------------------------------------------------------------------------------
    def get_request(self, request_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM requests WHERE request_id = ?", (request_id,))
        return _decode(rows[0]) if rows else None

    def list_requests(
        self,
        *,
        since: float | None = None,
        limit: int = 100,
        key_fingerprint: str | None = None,
        endpoint: str | None = None,
        errors_only: bool = False,
        name: str | None = None,
        variant: str | None = None,
        feedback: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first. `name`: the task, index or agent; `feedback`: 'down' (thumbs down), 'up', 'corrected'
        (a corrected output) or 'any'."""
        where, params = self._where(since=since, key_fingerprint=key_fingerprint)
        for column, value in (("endpoint", endpoint), ("name", name), ("variant", variant)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if errors_only:
            where.append("error_code IS NOT NULL")
        if feedback:
            condition = {
                "down": "f.thumbs = 'down'", "up": "f.thumbs = 'up'", "corrected": "f.corrected_output IS NOT NULL",
                "any": "1 = 1",
            }.get(feedback)  # fmt: skip
            if condition is None:
                raise UserError(f"feedback filter {feedback!r}: use down, up, corrected or any")
            where.append(f"EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = requests.request_id AND {condition})")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(f"SELECT * FROM requests {clause} ORDER BY created_at DESC LIMIT ?", (*params, limit))
        return [_decode(r) for r in rows]

    def list_feedback(
        self, *, request_id: str | None = None, since: float | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        where, params = self._where(since=since)
        if request_id:
            where.append("request_id = ?")
            params.append(request_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(f"SELECT * FROM feedback {clause} ORDER BY created_at DESC LIMIT ?", (*params, limit))
        return [_decode(r) for r in rows]

    @staticmethod
    def _where(*, since: float | None = None, key_fingerprint: str | None = None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        if key_fingerprint is not None:
            where.append("key_fingerprint = ?")
            params.append(key_fingerprint)
        return where, params

    def stats(self, *, since: float | None = None) -> dict[str, Any]:
        """Counts and sums over the log: requests, feedback, errors, thumbs, corrections, latency, tokens, cost."""
        where, params = self._where(since=since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        (req,) = self._query(
            "SELECT COUNT(*) AS requests, "
            "SUM(CASE WHEN error_code IS NOT NULL THEN 1 ELSE 0 END) AS errors, "
            "COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens, "
            f"SUM(cost_usd) AS cost_usd, AVG(latency_ms) AS latency_ms_mean FROM requests {clause}",
            params,
        )
        (fb,) = self._query(
            "SELECT COUNT(*) AS feedback, "
            "SUM(CASE WHEN thumbs = 'up' THEN 1 ELSE 0 END) AS thumbs_up, "
            "SUM(CASE WHEN thumbs = 'down' THEN 1 ELSE 0 END) AS thumbs_down, "
            "SUM(CASE WHEN corrected_output IS NOT NULL THEN 1 ELSE 0 END) AS corrections, "
            "SUM(CASE WHEN accepted = 1 THEN 1 ELSE 0 END) AS accepted, "
            "SUM(CASE WHEN annotated_at IS NULL AND NOT EXISTS (SELECT 1 FROM requests r WHERE "
            f"r.request_id = feedback.request_id AND NOT {IN_PHOENIX}) THEN 1 ELSE 0 END) AS annotations_pending "
            f"FROM feedback {clause}",
            params,
        )
        by_endpoint = self._query(
            f"SELECT endpoint, COUNT(*) AS n FROM requests {clause} GROUP BY endpoint ORDER BY endpoint", params
        )
        n = int(req["requests"] or 0)
        result: dict[str, Any] = {
            "requests": n,
            "feedback": int(fb["feedback"] or 0),
            "errors": int(req["errors"] or 0),
            "thumbs_up": int(fb["thumbs_up"] or 0),
            "thumbs_down": int(fb["thumbs_down"] or 0),
            "corrections": int(fb["corrections"] or 0),
            "accepted": int(fb["accepted"] or 0),
            "annotations_pending": int(fb["annotations_pending"] or 0),
            "input_tokens": int(req["input_tokens"] or 0),
            "output_tokens": int(req["output_tokens"] or 0),
            "cost_usd": None if req["cost_usd"] is None else float(req["cost_usd"]),
            "latency_ms_mean": None if req["latency_ms_mean"] is None else round(float(req["latency_ms_mean"]), 3),
            "latency_ms_p50": self._percentile(clause, params, n, 0.50),
            "latency_ms_p95": self._percentile(clause, params, n, 0.95),
            "by_endpoint": {row["endpoint"]: int(row["n"]) for row in by_endpoint},
        }
        return result

    def _percentile(self, clause: str, params: list[Any], n: int, q: float) -> float | None:
        """Nearest-rank percentile of latency, computed in the database (no full scan into Python)."""
        if n == 0:
            return None
        offset = max(0, min(n - 1, int(q * n + 0.999999) - 1))
        rows = self._query(
            f"SELECT latency_ms FROM requests {clause} ORDER BY latency_ms LIMIT 1 OFFSET ?", (*params, offset)
        )
        return round(float(rows[0]["latency_ms"]), 3) if rows else None

    # Phoenix annotations of feedback -----------------------------------------------------------------
    def pending_annotations(self, *, limit: int = 200, max_attempts: int = 50) -> list[dict[str, Any]]:
        """Feedback not yet annotated in Phoenix whose request row (with its span id) is stored, and whose trace went
        to Phoenix (feedback on a request sampling left out stays in the store only)."""
        rows = self._query(
            "SELECT f.*, r.span_id AS span_id, r.trace_id AS trace_id FROM feedback f "
            "JOIN requests r ON r.request_id = f.request_id "
            f"WHERE f.annotated_at IS NULL AND f.annotation_attempts < ? AND r.span_id IS NOT NULL AND {IN_PHOENIX} "
            "ORDER BY f.created_at LIMIT ?",
            (max_attempts, limit),
        )
        return [_decode(r) for r in rows]

    def mark_annotated(self, feedback_ids: Sequence[str], *, ok: bool) -> None:
        """Record a delivery (ok) or a failed attempt for these feedback rows."""
        if not feedback_ids:
            return
        marks = ", ".join("?" for _ in feedback_ids)
        with self.transaction(immediate=True) as cursor:
            if ok:
                sql = f"UPDATE feedback SET annotated_at = ? WHERE feedback_id IN ({marks})"
                cursor.execute(self._sql(sql), (now(), *feedback_ids))
            else:
                sql = (
                    f"UPDATE feedback SET annotation_attempts = annotation_attempts + 1 WHERE feedback_id IN ({marks})"
                )
                cursor.execute(self._sql(sql), tuple(feedback_ids))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query (`?` placeholders, either dialect), JSON columns decoded."""
        return [_decode(r) for r in self._query(sql, params)]

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement (`?` placeholders) over `rows`, in one write transaction."""
        if rows:
            with self.transaction(immediate=True) as cursor:
                cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    # dashboard sessions --------------------------------------------------------------------------------
    def revoke_session(self, session_id: str, expires_at: float) -> None:
        """End a dashboard session for every process sharing this store (expired ones are pruned)."""
        with self.transaction(immediate=True) as cursor:
            cursor.execute(self._sql("DELETE FROM revoked_sessions WHERE expires_at < ?"), (now(),))
            cursor.execute(
                self._sql(
                    "INSERT INTO revoked_sessions (session_id, revoked_at, expires_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (session_id) DO NOTHING"
                ),
                (session_id, now(), expires_at),
            )

    def session_revoked(self, session_id: str) -> bool:
        rows = self._query("SELECT 1 AS one FROM revoked_sessions WHERE session_id = ?", (session_id,))
        return bool(rows)

    def count(self, table: str) -> int:
        if table not in ("requests", "feedback", "scores"):
            raise ValueError(table)
        return int(self._query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def open_store(url: str | None = None, *, migrate: bool = True) -> LogStore:
    """The log store at `url` (default: `AIAGENTS_DATABASE_URL`, else SQLite under the data folder)."""
    store = LogStore(url or default_database_url())
    if migrate:
        store.migrate()
    return store


def record_dict(record: RequestRecord | FeedbackRecord) -> dict[str, Any]:
    return asdict(record)
