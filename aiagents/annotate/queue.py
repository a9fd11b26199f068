"""The annotation queue (`annotation_queue` table): requests drawn for people to label.

`sample` draws errors and negative feedback first, then low online-eval scores, then random requests;
`next_item` gives the next one with what a person needs to judge it (input, output, retrieved documents,
feedback, scores); `record` keeps the verdict, a label and the correct output; `import_phoenix` reads
verdicts people gave in Phoenix (span annotations named `verdict`) back into the queue; `annotated_cases`
is what `aiagents annotate export` turns into eval cases (with user corrections from feedback as candidates).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, Literal

from aiagents.errors import UserError
from aiagents.logstore import LogStore, json_or_text, new_id
from aiagents.online.scores import write_scores

__all__ = [
    "QueueItem",
    "sample",
    "next_item",
    "record",
    "skip",
    "queue_items",
    "import_phoenix",
    "annotated_cases",
    "mark_exported",
    "AnnotationError",
    "VERDICT_ANNOTATION",
    "LOW_SCORE",
]

VERDICT_ANNOTATION = "verdict"
"""The Phoenix span-annotation name read back as a verdict (label 'good'/'bad', or score 1/0)."""
LOW_SCORE = 0.75
"""Requests whose mean online-eval score is below this are drawn after errors and negative feedback."""
REASONS = {0: "error", 1: "negative feedback", 2: "low online-eval score", 3: "random"}


class AnnotationError(UserError):
    """Misuse of the annotation queue (unknown item, bad verdict)."""


@dataclass(kw_only=True)
class QueueItem:
    """One request drawn into the queue."""

    item_id: str
    request_id: str
    reason: str
    """Why it was drawn: error, negative feedback, low online-eval score, random."""
    priority: int
    """0 (errors) to 3 (random): annotated in that order."""

    def to_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "request_id": self.request_id,
            "reason": self.reason,
            "priority": self.priority,
        }


def sample(store: LogStore, n: int, *, seed: int | None = None, since: float | None = None) -> list[QueueItem]:
    """Draw up to `n` logged requests not yet queued, in priority order; returns what was added."""
    if n <= 0:
        raise AnnotationError("--n must be at least 1")
    where = "r.request_id NOT IN (SELECT request_id FROM annotation_queue)"
    params: list[Any] = []
    if since is not None:
        where += " AND r.created_at >= ?"
        params.append(since)
    rows = store.query(
        "SELECT r.request_id, r.created_at, r.error_code, "
        "(SELECT COUNT(*) FROM feedback f WHERE f.request_id = r.request_id "
        "  AND (f.thumbs = 'down' OR f.corrected_output IS NOT NULL)) AS negative, "
        "(SELECT AVG(s.score) FROM scores s WHERE s.request_id = r.request_id AND s.source = 'online') AS score "
        f"FROM requests r WHERE {where} ORDER BY r.created_at DESC LIMIT 100000",
        params,
    )
    tiers: dict[int, list[dict[str, Any]]] = {0: [], 1: [], 2: [], 3: []}
    for r in rows:
        if r["error_code"]:
            tiers[0].append(r)
        elif r["negative"]:
            tiers[1].append(r)
        elif r["score"] is not None and float(r["score"]) < LOW_SCORE:
            tiers[2].append(r)
        else:
            tiers[3].append(r)
    tiers[2].sort(key=lambda r: float(r["score"]))
    random.Random(seed).shuffle(tiers[3])
    chosen: list[QueueItem] = []
    for priority in range(4):
        for r in tiers[priority]:
            if len(chosen) >= n:
                break
            chosen.append(
                QueueItem(item_id=new_id(), request_id=r["request_id"], reason=REASONS[priority], priority=priority)
            )
    now = time.time()
    store.execute_many(
        "INSERT INTO annotation_queue (item_id, request_id, queued_at, reason, priority, status) "
        "VALUES (?, ?, ?, ?, ?, 'pending') ON CONFLICT (request_id) DO NOTHING",
        [(c.item_id, c.request_id, now + i * 1e-6, c.reason, c.priority) for i, c in enumerate(chosen)],
    )
    return chosen


def queue_items(store: LogStore, *, status: str | None = None) -> list[dict[str, Any]]:
    clause, params = ("WHERE q.status = ?", [status]) if status else ("", [])
    rows = store.query(
        "SELECT q.*, r.trace_id, r.span_id, r.endpoint, r.name FROM annotation_queue q "
        f"LEFT JOIN requests r ON r.request_id = q.request_id {clause} ORDER BY q.priority, q.queued_at",
        params,
    )
    for row in rows:
        row["correct_output"] = json_or_text(row.get("correct_output"))
    return rows


def next_item(store: LogStore, item_id: str | None = None) -> dict[str, Any] | None:
    """The next item to annotate with its request, feedback and scores: pending ones first, then the skipped
    ones (they come back after the rest); `item_id` (or a request id, or a prefix of either) picks one.
    None when nothing is left."""
    if item_id:
        rows = store.query(
            "SELECT item_id, request_id, reason, priority, status FROM annotation_queue "
            "WHERE item_id LIKE ? OR request_id LIKE ? ORDER BY queued_at LIMIT 2",
            (f"{item_id}%", f"{item_id}%"),
        )
        if len(rows) != 1:
            found = "no" if not rows else "more than one"
            raise AnnotationError(f"{found} annotation-queue item matches {item_id!r} (`aiagents annotate list`)")
    else:
        rows = store.query(
            "SELECT item_id, request_id, reason, priority, status FROM annotation_queue "
            "WHERE status IN ('pending', 'skipped') "
            "ORDER BY CASE status WHEN 'pending' THEN 0 ELSE 1 END, priority, queued_at LIMIT 1"
        )
    if not rows:
        return None
    item = rows[0]
    req = store.get_request(item["request_id"])
    item["request"] = req
    item["feedback"] = store.list_feedback(request_id=item["request_id"])
    item["scores"] = store.query(
        "SELECT name, score, label, explanation, source FROM scores WHERE request_id = ? ORDER BY name",
        (item["request_id"],),
    )
    output = (req or {}).get("output")
    item["documents"] = _documents(output)
    return item


def _documents(output: Any) -> list[Any]:
    """Retrieved or cited documents of a RAG or agent output (what the answer was based on)."""
    if isinstance(output, dict):
        for key in ("citations", "sources", "hits", "documents"):
            if isinstance(output.get(key), list):
                return list(output[key])
    return []


def skip(store: LogStore, item_id: str) -> None:
    """Put an item behind the others: `next_item` shows every pending item before it comes back."""
    store.execute_many(
        "UPDATE annotation_queue SET status = 'skipped', queued_at = ? WHERE item_id = ? AND status != 'annotated'",
        [(time.time(), item_id)],
    )


def record(
    store: LogStore,
    item_id: str,
    *,
    verdict: Literal["good", "bad"],
    label: str | None = None,
    correct_output: Any = None,
    annotator: str,
) -> None:
    """Keep a person's verdict on an item (and a human score row, sent to Phoenix by the outbox)."""
    if verdict not in ("good", "bad"):
        raise AnnotationError(f"verdict must be 'good' or 'bad', got {verdict!r}")
    rows = store.query("SELECT request_id FROM annotation_queue WHERE item_id = ?", (item_id,))
    if not rows:
        raise AnnotationError(f"no annotation-queue item {item_id!r} (`aiagents annotate list`)")

    store.execute_many(
        "UPDATE annotation_queue SET status = 'annotated', verdict = ?, label = ?, correct_output = ?, "
        "annotator = ?, annotated_at = ? WHERE item_id = ?",
        [
            (
                verdict,
                label,
                None if correct_output is None else json.dumps(correct_output),
                annotator,
                time.time(),
                item_id,
            )
        ],
    )
    write_scores(
        store, rows[0]["request_id"], [(VERDICT_ANNOTATION, 1.0 if verdict == "good" else 0.0, label or verdict, None)],
        source="human", annotator=annotator,
    )  # fmt: skip


def import_phoenix(store: LogStore, client: Any, project: str) -> int:
    """Read `verdict` span annotations people made in Phoenix on queued requests; returns how many were taken."""
    pending = queue_items(store, status="pending")
    by_span = {r["span_id"]: r for r in pending if r.get("span_id")}
    if not by_span:
        return 0
    found = client.spans.get_span_annotations(
        span_ids=list(by_span), project_identifier=project, include_annotation_names=[VERDICT_ANNOTATION]
    )
    taken = 0
    for a in found:
        item = by_span.get(a["span_id"])
        if item is None or item["status"] != "pending":
            continue
        result = a.get("result") or {}
        label = (result.get("label") or "").lower()
        score = result.get("score")
        good = label in ("good", "correct", "pass") or (not label and score is not None and float(score) >= 0.5)
        meta = a.get("metadata") or {}
        store.execute_many(
            "UPDATE annotation_queue SET status = 'annotated', verdict = ?, label = ?, correct_output = ?, "
            "annotator = ?, annotated_at = ? WHERE item_id = ?",
            [(
                "good" if good else "bad", result.get("explanation") or label or None,
                None if meta.get("correct_output") is None else json.dumps(meta["correct_output"]),
                f"phoenix:{a.get('user_id') or a.get('annotator_kind', 'HUMAN').lower()}", time.time(), item["item_id"],
            )],
        )  # fmt: skip
        item["status"] = "annotated"
        taken += 1
    return taken


def media_refs(inputs: Any) -> dict[str, dict[str, Any]]:
    """The inputs that reference an upload the service kept: `{"sha256": 64 hex, "media_type", "bytes"}`."""
    if not isinstance(inputs, dict):
        return {}
    return {
        name: value
        for name, value in inputs.items()
        if isinstance(value, dict) and isinstance(value.get("sha256"), str) and len(value["sha256"]) == 64
        and isinstance(value.get("media_type"), str) and isinstance(value.get("bytes"), int)
    }  # fmt: skip


def annotated_cases(store: LogStore, *, name: str | None = None) -> list[dict[str, Any]]:
    """Cases to export: annotated queue items (the output if good, the correct output if bad and given) and
    user corrections from feedback (as candidates). Each with its provenance fields."""
    cases: list[dict[str, Any]] = []
    for q in queue_items(store, status="annotated"):
        req = store.get_request(q["request_id"])
        if req is None or (name and req.get("name") != name):
            continue
        if q["verdict"] == "good" and req.get("output") is not None:
            expected = req["output"]
        elif q["verdict"] == "bad" and q.get("correct_output") is not None:
            expected = q["correct_output"]
        else:
            continue  # a bad verdict without the correct output gives no reference
        cases.append({
            "item_id": q["item_id"], "request_id": req["request_id"], "trace_id": req.get("trace_id"),
            "inputs": req.get("input"), "expected_output": expected, "annotator": q["annotator"],
            "annotated_at": q["annotated_at"], "label": q.get("label"), "verdict": q["verdict"], "candidate": False,
            "task": req.get("name"),
        })  # fmt: skip
    corrections = store.query(
        "SELECT f.request_id, f.corrected_output, f.user_id, f.created_at, r.input, r.trace_id, r.name "
        "FROM feedback f JOIN requests r ON r.request_id = f.request_id WHERE f.corrected_output IS NOT NULL "
        "ORDER BY f.created_at"
    )
    for c in corrections:
        if name and c.get("name") != name:
            continue
        cases.append({
            "item_id": None, "request_id": c["request_id"], "trace_id": c.get("trace_id"), "inputs": c["input"],
            "expected_output": c["corrected_output"], "annotator": f"user:{c.get('user_id') or 'unknown'}",
            "annotated_at": c["created_at"], "label": "user correction", "verdict": "bad", "candidate": True,
            "task": c.get("name"),
        })  # fmt: skip
    return cases


def mark_exported(store: LogStore, item_ids: list[str], dataset: str) -> None:
    store.execute_many(
        "UPDATE annotation_queue SET exported_to = ? WHERE item_id = ?", [(dataset, i) for i in item_ids if i]
    )
