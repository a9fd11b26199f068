"""The request log's `trace_sampled` column on SQLite and PostgreSQL: stored and read back as a boolean, added to
an older database by migration (its rows read None), carried by the journal (old lines still read), shown by
`logs show` / `logs list --json`; feedback and scores of a request whose trace never reached Phoenix stay in the
store and are not offered for annotation."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.logstore import MIGRATIONS, FeedbackRecord, LogStore, RequestRecord, open_store
from aiagents.logstore import store as store_module
from aiagents.logstore.journal import decode_line, encode_record
from aiagents.online.scores import pending_score_annotations, write_scores


def _req(request_id: str, sampled: bool | None) -> RequestRecord:
    return RequestRecord(request_id=request_id, endpoint="task", span_id=f"{request_id:0>16}", trace_sampled=sampled)


def test_the_column_round_trips_as_a_boolean(store: LogStore) -> None:
    store.write(requests=[_req("yes", True), _req("no", False), _req("unknown", None)])
    got = {r["request_id"]: r["trace_sampled"] for r in store.list_requests()}
    assert got == {"yes": True, "no": False, "unknown": None}
    assert store.get_request("no")["trace_sampled"] is False  # type: ignore[index]


def test_feedback_and_scores_on_an_unsampled_request_stay_in_the_store_only(store: LogStore) -> None:
    store.write(requests=[_req("yes", True), _req("no", False), _req("unknown", None)])
    store.write(feedback=[FeedbackRecord(request_id=r, thumbs="down") for r in ("yes", "no", "unknown")])
    for request_id in ("yes", "no", "unknown"):
        write_scores(store, request_id, [("fields", 1.0, None, None)], source="online", annotator="test")
    assert {f["request_id"] for f in store.list_feedback()} == {"yes", "no", "unknown"}  # all kept
    assert {r["request_id"] for r in store.pending_annotations()} == {"yes", "unknown"}  # rows older than the
    assert {r["request_id"] for r in pending_score_annotations(store)} == {"yes", "unknown"}  # column: as before
    assert store.stats()["annotations_pending"] == 2  # nothing waits for a trace Phoenix never got
    store.mark_annotated([r["feedback_id"] for r in store.pending_annotations()], ok=True)
    assert store.pending_annotations() == [] and store.stats()["annotations_pending"] == 0


def test_an_older_database_gains_the_column(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = [fn for fn in MIGRATIONS if fn.__name__ < "m008"]
    monkeypatch.setattr(store_module, "MIGRATIONS", before)
    old = open_store(store_url)  # the schema as the previous release left it, with a row
    old.execute_many("INSERT INTO requests (request_id, created_at, endpoint) VALUES (?, ?, ?)", [("old", 1.0, "task")])
    old.close()
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    new = open_store(store_url)
    try:
        assert new.applied_migrations()[-1] == "m008_trace_sampled"
        assert new.get_request("old")["trace_sampled"] is None  # type: ignore[index]
        new.write(requests=[_req("new", False)])
        assert new.get_request("new")["trace_sampled"] is False  # type: ignore[index]
    finally:
        new.close()


def test_the_journal_carries_the_flag_and_reads_older_lines() -> None:
    line = encode_record(_req("j1", False))
    assert decode_line(line).trace_sampled is False  # type: ignore[union-attr]
    entry = json.loads(line)
    del entry["row"]["trace_sampled"]  # a line a previous release wrote
    old = decode_line(json.dumps(entry).encode())
    assert isinstance(old, RequestRecord) and old.trace_sampled is None


def test_logs_list_and_show_give_the_flag() -> None:
    store = open_store()
    store.write(requests=[_req("abc123", False)])
    store.close()
    listed = CliRunner().invoke(app, ["logs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["requests"][0]["trace_sampled"] is False
    shown = CliRunner().invoke(app, ["logs", "show", "abc123", "--json"])
    assert json.loads(shown.stdout)["request"]["trace_sampled"] is False
    table = CliRunner().invoke(app, ["logs", "show", "abc123"], env={"COLUMNS": "200"})
    assert "trace_sampled" in table.stdout and "False" in table.stdout
