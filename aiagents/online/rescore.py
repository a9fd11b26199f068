"""Re-score stored traffic after the fact, with no model call of the feature: `aiagents eval traces`.

Each trace of the project (since a time) is rebuilt from Phoenix: its root span gives the request id, input
and output; an agent run gives a `Trajectory` (`Trajectory.from_spans`). When Phoenix is down the log store
gives the same rows (input, output, a two-step trajectory). The suite scores each one; scores go to the log
store (source `eval_traces`) and back to Phoenix as span annotations.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic_evals.evaluators import Evaluator

from aiagents.logstore import LogStore, json_or_text
from aiagents.online.evaluators import context_for, evaluate_all
from aiagents.online.scores import score_annotation, write_scores
from aiagents.trajectory import FinalOutput, Trajectory, UserPrompt

__all__ = ["RescoreResult", "rescore", "rows_from_phoenix", "rows_from_store"]

log = logging.getLogger("aiagents.online")


@dataclass(kw_only=True)
class RescoreResult:
    """What `rescore` did."""

    source: str
    """'phoenix' or 'log store' (Phoenix was down)."""
    traces: int = 0
    scores: int = 0
    annotations: int = 0
    """Scores written back to Phoenix as span annotations."""
    means: dict[str, float] = field(default_factory=dict)
    """Mean of each score name."""
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "traces": self.traces, "scores": self.scores,
            "annotations": self.annotations, "means": self.means, "note": self.note,
        }  # fmt: skip


def rows_from_phoenix(client: Any, project: str, since: float | None) -> list[dict[str, Any]]:
    """One row per served request in the project: the root spans the service wrote (metadata.request_id)."""
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(since, tz=UTC) if since else None
    frame = client.spans.get_spans_dataframe(project_identifier=project, start_time=start, limit=100_000, timeout=30)
    if frame is None or not len(frame):
        return []
    rows: list[dict[str, Any]] = []
    roots = frame[frame["parent_id"].isna()] if "parent_id" in frame else frame
    for _, span in roots.iterrows():
        meta = json_or_text(span.get("attributes.metadata"))
        if not isinstance(meta, dict) or "request_id" not in meta:
            continue
        trace_id = span.get("context.trace_id")
        trajectory = None
        if meta.get("endpoint") == "agent":
            try:
                trajectory = Trajectory.from_spans(frame, trace_id=trace_id)
            except Exception as exc:  # noqa: BLE001 - scored without a trajectory
                log.info("no trajectory for trace %s: %s", trace_id, exc)
        rows.append(
            {
                "request_id": meta["request_id"], "endpoint": meta.get("endpoint"), "name": meta.get("name"),
                "variant": meta.get("variant"), "experiment": meta.get("experiment"),
                "input": json_or_text(span.get("attributes.input.value")),
                "output": json_or_text(span.get("attributes.output.value")),
                "span_id": span.get("context.span_id"), "trace_id": trace_id,
                "prompt_name": meta.get("prompt_name"), "prompt_version": meta.get("prompt_version"),
                "error_code": None if span.get("status_code") != "ERROR" else "error",
                "trajectory": trajectory,
            }
        )  # fmt: skip
    return rows


def rows_from_store(store: LogStore, since: float | None) -> list[dict[str, Any]]:
    params: list[Any] = []
    clause = ""
    if since is not None:
        clause = "WHERE created_at >= ?"
        params.append(since)
    return store.query(f"SELECT * FROM requests {clause} ORDER BY created_at", params)


def _trajectory_of(row: dict[str, Any]) -> Trajectory:
    if row.get("trajectory") is not None:
        return row["trajectory"]  # type: ignore[no-any-return]
    text = row["input"] if isinstance(row.get("input"), str) else json.dumps(row.get("input"), default=str)
    return Trajectory(
        steps=[UserPrompt(text=text), FinalOutput(output=row.get("output"))],
        trace_id=row.get("trace_id"),
        metadata={"request_id": row.get("request_id"), "rebuilt_from": "request"},
    )


def rescore(
    store: LogStore,
    evaluators: list[Evaluator[Any, Any, Any]],
    *,
    project: str,
    since: float | None = None,
    phoenix_url: str | None = None,
    suite_name: str = "suite",
    annotate: bool = True,
) -> RescoreResult:
    """Score every request of `project` since `since` with `evaluators`; see the module docstring."""
    client = None
    rows: list[dict[str, Any]] | None = None
    note = None
    if phoenix_url:
        try:
            from phoenix.client import Client

            client = Client(base_url=phoenix_url)
            rows = rows_from_phoenix(client, project, since)
        except Exception as exc:  # noqa: BLE001 - Phoenix down: the log store has the same requests
            note = f"Phoenix at {phoenix_url} unavailable ({type(exc).__name__}); read the log store"
            client = None
    result = RescoreResult(source="phoenix" if rows is not None else "log store", note=note)
    if rows is None:
        rows = rows_from_store(store, since)
    totals: dict[str, list[float]] = {}
    annotations: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        for row in rows:
            if row.get("error_code"):
                continue
            trajectory = _trajectory_of(row)
            scores = loop.run_until_complete(evaluate_all(evaluators, context_for(row, trajectory)))
            scores = [(f"{suite_name}.{n}", s, lbl, e) for n, s, lbl, e in scores]
            write_scores(store, row["request_id"], scores, source="eval_traces", annotator=f"eval traces {suite_name}")
            result.traces += 1
            result.scores += len(scores)
            for n, s, lbl, e in scores:
                if s is not None:
                    totals.setdefault(n, []).append(s)
                if row.get("span_id") and row.get("trace_sampled") is not False:  # not sampled: not in Phoenix
                    annotations.append(score_annotation({
                        "span_id": row["span_id"], "name": n, "score": s, "label": lbl, "explanation": e,
                        "score_id": f"{row['request_id']}:{n}", "request_id": row["request_id"],
                        "source": "eval_traces", "annotator": f"eval traces {suite_name}",
                    }))  # fmt: skip
    finally:
        loop.close()
    if annotate and client is not None and annotations:
        try:
            for i in range(0, len(annotations), 500):
                client.spans.log_span_annotations(span_annotations=annotations[i : i + 500], sync=True)
            result.annotations = len(annotations)
        except Exception as exc:  # noqa: BLE001 - scores are in the store; said in the result
            result.note = f"scores not written to Phoenix: {exc}"
    result.means = {k: round(sum(v) / len(v), 4) for k, v in sorted(totals.items())}
    return result
