"""Scores in the log store (`scores` table) and their delivery to Phoenix as span annotations.

The `scores` table is the outbox, like feedback: a row is sent while its `annotated_at` is empty; the
score id is the annotation's `identifier`, so a row sent twice updates one annotation.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from aiagents.logstore import LogStore, new_id
from aiagents.logstore.store import IN_PHOENIX
from aiagents.online.evaluators import ScoreValue
from aiagents.tracing.span_annotations import SpanAnnotationSender

__all__ = [
    "write_scores",
    "write_many_scores",
    "list_scores",
    "pending_score_annotations",
    "send_score_annotations",
    "score_annotation",
]

_COLUMNS = "score_id, request_id, created_at, name, source, score, label, explanation, annotator, metadata"


def write_scores(
    store: LogStore,
    request_id: str,
    scores: Sequence[ScoreValue],
    *,
    source: str,
    annotator: str,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Insert one row per score; returns how many."""
    now = time.time()
    meta = json.dumps(metadata or {}, default=str)
    rows = [(new_id(), request_id, now, n, source, s, lbl, expl, annotator, meta) for n, s, lbl, expl in scores]
    store.execute_many(f"INSERT INTO scores ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def write_many_scores(
    store: LogStore,
    rows: Sequence[tuple[str, Sequence[ScoreValue], dict[str, Any]]],
    *,
    source: str,
    annotator: str,
) -> int:
    """The scores of several requests ((request id, scores, metadata) each) in one transaction."""
    now = time.time()
    values = [
        (_score_id(rid, n, source), rid, now, n, source, s, lbl, expl, annotator, json.dumps(meta or {}, default=str))
        for rid, scores, meta in rows
        for n, s, lbl, expl in scores
    ]
    sql = f"INSERT INTO scores ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (score_id) DO NOTHING"
    store.execute_many(sql, values)
    return len(values)


def _score_id(request_id: str, name: str, source: str) -> str:
    """Online scores get one id per (request, score name): a request scored twice (a backlog resumed by two
    workers after a restart) keeps one score. Other sources (re-scoring with new evaluators) add new rows."""
    if source != "online":
        return new_id()
    return hashlib.sha256(f"{request_id}\0{name}\0{source}".encode()).hexdigest()[:32]


def list_scores(store: LogStore, *, request_id: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if request_id:
        where.append("request_id = ?")
        params.append(request_id)
    if source:
        where.append("source = ?")
        params.append(source)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return store.query(f"SELECT * FROM scores {clause} ORDER BY created_at, name", params)


def pending_score_annotations(store: LogStore, *, limit: int = 500) -> list[dict[str, Any]]:
    """Scores not yet in Phoenix whose request row (with its span id) is stored and whose trace went to Phoenix."""
    return store.query(
        "SELECT s.*, r.span_id AS span_id FROM scores s JOIN requests r ON r.request_id = s.request_id "
        f"WHERE s.annotated_at IS NULL AND r.span_id IS NOT NULL AND {IN_PHOENIX} ORDER BY s.created_at LIMIT ?",
        (limit,),
    )


def score_annotation(row: dict[str, Any]) -> dict[str, Any]:
    """The Phoenix span annotation (`SpanAnnotationData`) of one score row."""
    result: dict[str, Any] = {}
    if row.get("score") is not None:
        result["score"] = float(row["score"])
    if row.get("label"):
        result["label"] = row["label"]
    if row.get("explanation"):
        result["explanation"] = row["explanation"]
    kind = "LLM" if "judge" in str(row.get("name", "")) else ("HUMAN" if row.get("source") == "human" else "CODE")
    return {
        "span_id": row["span_id"],
        "name": row["name"],
        "annotator_kind": kind,
        "identifier": row["score_id"],
        "result": result,
        "metadata": {"request_id": row["request_id"], "source": row["source"], "annotator": row.get("annotator")},
    }


def send_score_annotations(store: LogStore, sender: SpanAnnotationSender, *, limit: int = 500) -> int:
    """Send what is pending (one batch) to Phoenix; returns rows delivered.

    Raises what the sender raises when Phoenix is down; the rows stay pending for the next pass.
    """
    rows = pending_score_annotations(store, limit=limit)
    if not rows:
        return 0
    sender.log_span_annotations([score_annotation(r) for r in rows])
    marks = ", ".join("?" for _ in rows)
    store.execute_many(
        f"UPDATE scores SET annotated_at = ? WHERE score_id IN ({marks})",
        [(time.time(), *[r["score_id"] for r in rows])],
    )
    return len(rows)
