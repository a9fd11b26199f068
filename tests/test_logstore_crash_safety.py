"""Nothing answered is lost: rows a store refuses never block the log, and a dead process's journal is stored.

On SQLite and PostgreSQL (the `store` fixture): a NUL character (PostgreSQL refuses it) and a lone surrogate
(SQLite's driver refuses it) are stored escaped, the same way on both; a row refused for another reason goes
to the dead-letter file and every row after it is stored; a process killed with SIGKILL leaves a journal that
a live writer stores within a second or two; a store that keeps failing at shutdown leaves its rows in the
journal for the next process, and the shutdown keeps its deadline.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aiagents.logstore import (
    BackgroundWriter,
    DeadLetter,
    FeedbackRecord,
    Journal,
    LogStore,
    RequestRecord,
    is_transient,
    open_store,
    read_dead_letter,
    recover,
    storable_json,
    storable_text,
)

SURROGATE = "bad \udc80"


def _req(i: int, **kw: object) -> RequestRecord:
    return RequestRecord(request_id=f"r{i:04d}", created_at=1000.0 + i, endpoint="task", latency_ms=1.0, **kw)  # type: ignore[arg-type]


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_refusable_text_is_escaped_and_json_keeps_the_exact_value() -> None:
    assert storable_text("u\x00x") == "u\\u0000x"
    assert storable_text(SURROGATE) == "bad \\udc80"
    assert storable_text("café") == "café"  # storable text is left alone
    text = storable_json({"n": SURROGATE, "z": "\x00", "e": "é"})
    text.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in text and json.loads(text) == {"n": SURROGATE, "z": "\x00", "e": "é"}
    assert storable_json({"e": "é"}) == '{"e": "é"}'


def test_poison_rows_never_stop_the_log(store: LogStore, tmp_path: Path) -> None:
    writer = BackgroundWriter(
        store, max_delay=0.01, journal=Journal(tmp_path / "journal"), dead_letter=DeadLetter(tmp_path / "dead.jsonl")
    )
    writer.submit(_req(0, user_id="u\x00x", input={"listing": "lamp \x00"}))
    writer.submit(FeedbackRecord(feedback_id="f0", request_id="r0000", thumbs="up", metadata={"n": SURROGATE}))
    writer.submit(FeedbackRecord(feedback_id="f1", request_id="r0000", comment=SURROGATE))
    for i in range(1, 26):
        writer.submit(_req(i))
    assert writer.flush(10), f"{writer.pending} rows still pending"
    assert writer.close(5)
    assert store.count("requests") == 26 and store.count("feedback") == 2
    row = store.get_request("r0000")
    assert row["user_id"] == "u\\u0000x" and row["input"] == {"listing": "lamp \x00"}  # type: ignore[index]
    feedback = {f["feedback_id"]: f for f in store.list_feedback(request_id="r0000")}
    assert feedback["f0"]["metadata"] == {"n": SURROGATE}  # JSON columns keep the exact value
    assert feedback["f1"]["comment"] == "bad \\udc80"
    assert writer.dead == 0 and not list((tmp_path / "journal").glob("*.jsonl"))  # all stored: journal deleted


def test_a_row_refused_for_good_goes_to_the_dead_letter_file(store: LogStore, tmp_path: Path) -> None:
    dead = DeadLetter(tmp_path / "dead.jsonl")
    writer = BackgroundWriter(store, max_delay=0.01, dead_letter=dead, journal=Journal(tmp_path / "journal"))
    bad = _req(1, status="not a number" * 3)  # an INTEGER column: PostgreSQL refuses it
    bad.latency_ms = [1, 2]  # type: ignore[assignment] # a list: SQLite refuses it too
    started = time.monotonic()
    for record in (_req(0), bad, _req(2), _req(3)):
        writer.submit(record)
    assert writer.flush(10) and writer.close(5)
    assert time.monotonic() - started < 5
    assert store.count("requests") == 3 and store.get_request("r0001") is None
    (entry,) = read_dead_letter(dead.path)
    record, data = entry
    assert record.request_id == "r0001" and data["error"] and dead.count() == 1
    assert not list((tmp_path / "journal").glob("*.jsonl"))  # buried rows count as done


def test_a_killed_process_journal_is_stored_by_a_live_writer(store: LogStore, tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    script = (
        "import os, signal, sys\n"
        "from aiagents.logstore import Journal, RequestRecord, FeedbackRecord\n"
        f"j = Journal({str(folder)!r}, fsync='never')\n"
        "for i in range(40):\n"
        "    j.append(RequestRecord(request_id=f'k{i:03d}', endpoint='task', user_id='u\\x00'))\n"
        "    j.append(FeedbackRecord(feedback_id=f'fk{i:03d}', request_id=f'k{i:03d}', thumbs='up'))\n"
        "print('journaled', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == -9 and "journaled" in done.stdout, done.stderr
    assert len(list(folder.glob("*.jsonl"))) == 1  # the dead process's segment, rows unstored
    writer = BackgroundWriter(store, max_delay=0.01, journal=Journal(folder), takeover_interval=0.2)
    try:
        assert wait_until(lambda: store.count("requests") == 40 and store.count("feedback") == 40)
        assert wait_until(lambda: len(list(folder.glob("*.jsonl"))) == 1)  # only the live writer's own segment
        assert writer.taken_over == 80
    finally:
        writer.close(5)


def test_a_store_failing_at_shutdown_keeps_the_deadline_and_the_rows(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import aiagents.logstore.store as store_module

    path = tmp_path / "locked.db"
    store = open_store(f"sqlite:///{path}")
    store.close()
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    folder = tmp_path / "journal"
    writer = BackgroundWriter(store, max_delay=0.01, journal=Journal(folder))
    for i in range(5):
        writer.submit(_req(i))
    assert wait_until(lambda: writer.failures >= 1)
    started = time.monotonic()
    assert writer.close(timeout=1.0) is False  # the store is still locked: gives up at the deadline
    assert time.monotonic() - started < 4
    assert sum(1 for p in folder.glob("*.jsonl") for _ in p.open()) == 5  # every row kept in the journal
    blocker.execute("ROLLBACK")
    blocker.close()
    report = recover(open_store(f"sqlite:///{path}"), tmp_path / "data-unused")  # no journal there
    assert report == {"journal_rows": 0, "dead_letter_stored": 0, "dead_letter_left": 0}
    writer = BackgroundWriter(store, max_delay=0.01, journal=Journal(folder))  # the next process
    try:
        assert wait_until(lambda: store.count("requests") == 5)
    finally:
        assert writer.close(5)


def test_recover_stores_dead_letter_rows_once_the_cause_is_fixed(tmp_path: Path) -> None:
    from aiagents.logstore import dead_letter_path

    store = open_store(f"sqlite:///{tmp_path / 'logs.db'}")
    dead = DeadLetter(dead_letter_path(tmp_path))
    dead.add(_req(7, user_id="u\x00"), ValueError("refused before the fix"))
    assert recover(store, tmp_path) == {"journal_rows": 0, "dead_letter_stored": 1, "dead_letter_left": 0}
    assert store.get_request("r0007")["user_id"] == "u\\u0000"  # type: ignore[index]
    assert not dead.path.exists()


def test_transient_and_permanent_failures_are_told_apart() -> None:
    assert is_transient(sqlite3.OperationalError("database is locked"))
    assert not is_transient(sqlite3.OperationalError("no such table: requests"))
    assert not is_transient(UnicodeEncodeError("utf-8", "\udc80", 0, 1, "surrogates not allowed"))
    psycopg = pytest.importorskip("psycopg")
    assert is_transient(psycopg.OperationalError("server closed the connection"))
    assert not is_transient(psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
