"""The log store contract, on SQLite and (when a server is reachable) PostgreSQL: same schema, same answers."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from aiagents.cli.logs_cmd import parse_since
from aiagents.logstore import (
    MIGRATIONS,
    BackgroundWriter,
    DatabaseURLError,
    FeedbackRecord,
    LogStore,
    RequestRecord,
    annotations_for,
    new_id,
    open_store,
    redact_url,
)


def _req(i: int, **kw: object) -> RequestRecord:
    return RequestRecord(request_id=f"r{i:04d}", created_at=1000.0 + i, endpoint="task", latency_ms=float(i), **kw)  # type: ignore[arg-type]


def test_migrations_apply_once_in_order(store: LogStore) -> None:
    assert store.applied_migrations() == [fn.__name__ for fn in MIGRATIONS]
    assert store.migrate() == []  # a second run changes nothing


def test_round_trip_and_duplicates_ignored(store: LogStore) -> None:
    record = _req(1, input={"a": [1, "é"]}, output={"x": 1}, user_id="u", cost_usd=0.25, metadata={"m": True})
    store.write(requests=[record])
    store.write(requests=[_req(1, input={"other": 1})])  # same id again: skipped, not an error
    row = store.get_request("r0001")
    assert row is not None and row["input"] == {"a": [1, "é"]} and row["output"] == {"x": 1}
    assert (row["user_id"], row["cost_usd"], row["metadata"], row["variant"]) == ("u", 0.25, {"m": True}, "default")
    fb = FeedbackRecord(request_id="r0001", thumbs="up", corrected_output={"x": 2}, accepted=False)
    store.write(feedback=[fb, fb])
    (got,) = store.list_feedback(request_id="r0001")
    assert got["corrected_output"] == {"x": 2} and got["accepted"] is False and got["thumbs"] == "up"
    assert store.count("requests") == 1 and store.count("feedback") == 1


def test_stats_by_hand(store: LogStore) -> None:
    # latencies 1..20 ms; two errors; 3 feedback rows (2 up, 1 down with a correction)
    rows = [
        _req(i, error_code="run_failed" if i in (3, 7) else None, input_tokens=10, output_tokens=2)
        for i in range(1, 21)
    ]
    store.write(requests=rows)
    store.write(
        feedback=[
            FeedbackRecord(request_id="r0001", thumbs="up", created_at=1001.5),
            FeedbackRecord(request_id="r0002", thumbs="up", created_at=1002.5),
            FeedbackRecord(request_id="r0003", thumbs="down", corrected_output="fixed", created_at=1003.5),
        ]
    )
    s = store.stats()
    assert (s["requests"], s["errors"], s["feedback"]) == (20, 2, 3)
    assert (s["thumbs_up"], s["thumbs_down"], s["corrections"]) == (2, 1, 1)
    assert (s["input_tokens"], s["output_tokens"]) == (200, 40)
    assert s["latency_ms_mean"] == 10.5 and s["latency_ms_p50"] == 10.0 and s["latency_ms_p95"] == 19.0  # nearest rank
    since = store.stats(since=1011.0)  # requests 11..20, no feedback
    assert (since["requests"], since["errors"], since["feedback"], since["latency_ms_p50"]) == (10, 0, 0, 15.0)
    assert [r["request_id"] for r in store.list_requests(limit=3)] == ["r0020", "r0019", "r0018"]
    assert [r["request_id"] for r in store.list_requests(errors_only=True)] == ["r0007", "r0003"]


def test_pending_annotations_wait_for_the_request_row(store: LogStore) -> None:
    fb = FeedbackRecord(request_id="r0001", thumbs="down", comment="wrong price")
    store.write(feedback=[fb])
    assert store.pending_annotations() == []  # the request row (with its span id) is not there yet
    store.write(requests=[_req(1, span_id="ab" * 8, trace_id="cd" * 16)])
    (row,) = store.pending_annotations()
    (annotation,) = annotations_for(row)
    assert annotation["span_id"] == "ab" * 8 and annotation["identifier"] == fb.feedback_id
    assert annotation["result"] == {"label": "thumbs_down", "score": 0.0, "explanation": "wrong price"}
    store.mark_annotated([fb.feedback_id], ok=False)
    assert store.pending_annotations()[0]["annotation_attempts"] == 1
    store.mark_annotated([fb.feedback_id], ok=True)
    assert store.pending_annotations() == [] and store.stats()["annotations_pending"] == 0


def test_background_writer_batches_and_loses_nothing(store: LogStore) -> None:
    writer = BackgroundWriter(store, batch_size=100, max_delay=0.02)
    threads = [
        threading.Thread(target=lambda k=k: [writer.submit(_req(k * 1000 + i)) for i in range(250)]) for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.close()
    assert store.count("requests") == 1000 and writer.written == 1000
    assert 10 <= writer.batches < 1000  # batched, not one transaction per row


def test_writer_retries_while_sqlite_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = open_store(f"sqlite:///{path}")
    import aiagents.logstore.store as store_module

    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    original = store_module.SQLITE_BUSY_TIMEOUT_MS
    store_module.SQLITE_BUSY_TIMEOUT_MS = 50
    try:
        store.close()  # reconnect with the short busy timeout
        writer = BackgroundWriter(store, max_delay=0.01)
        writer.submit(_req(1))
        time.sleep(0.5)
        assert writer.failures >= 1 and writer.pending == 1  # kept, not dropped
        blocker.execute("ROLLBACK")
        assert writer.flush(10) and writer.close()
    finally:
        store_module.SQLITE_BUSY_TIMEOUT_MS = original
        blocker.close()
    assert store.get_request("r0001") is not None


def test_sqlite_default_under_the_data_folder_and_bad_urls(data_dir: Path) -> None:
    store = open_store()
    assert store.path == (data_dir / "logs" / "requests.db").resolve()
    assert store._query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    with pytest.raises(DatabaseURLError, match="sqlite:///PATH or postgresql://"):
        LogStore("mysql://root:hunter2@db/x")
    assert redact_url("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"


def test_parse_since() -> None:
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    assert parse_since("30m", now=10_000.0) == 10_000.0 - 1800
    assert parse_since("1970-01-01T01:00:00") == 3600.0
    assert parse_since("12.5") == 12.5 and parse_since(None) is None
    with pytest.raises(Exception, match="30m, 2h, 7d"):
        parse_since("yesterday")


def test_ids_are_unique() -> None:
    assert len({new_id() for _ in range(1000)}) == 1000
