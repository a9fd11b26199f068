"""Eval results into Phoenix: evaluator results as span annotations (queued in a file while Phoenix is
unreachable), datasets into Phoenix datasets, finished runs into Phoenix experiments."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiagents.evals.datasets import Dataset
from aiagents.evals.runner.results import CaseResult

from aiagents.errors import RunError
from aiagents.settings import get_settings

__all__ = [
    "PhoenixPushError",
    "annotation_records",
    "annotation_queue_path",
    "flush_annotation_queue",
    "push_dataset",
    "push_experiment",
    "send_annotations",
]

QUEUE_FILE = "eval_annotations.jsonl"


class PhoenixPushError(RunError):
    """Phoenix refused or could not be reached for a push."""


def _client(url: str) -> Any:
    from phoenix.client import Client

    return Client(base_url=url)


def annotation_queue_path() -> Path:
    """Where annotations wait while Phoenix is unreachable (next to the span spool)."""
    return get_settings().spool_dir / QUEUE_FILE


def annotation_records(results: Iterable[CaseResult]) -> list[dict[str, Any]]:
    """One `SpanAnnotationData` per (case, metric), on the case's CHAIN span."""
    records: list[dict[str, Any]] = []
    for r in results:
        if not r.span_id:
            continue
        for name, m in r.metrics.items():
            result: dict[str, Any] = {}
            if m.score is not None and math.isfinite(m.score):
                result["score"] = m.score
            label = m.label if m.label is not None else (None if m.passed is None else ("pass" if m.passed else "fail"))
            if label is not None:
                result["label"] = label
            if m.reason:
                result["explanation"] = m.reason[:2000]
            if result:
                records.append(
                    {
                        "name": name,
                        "annotator_kind": m.kind,
                        "span_id": r.span_id,
                        "result": result,
                        "metadata": {"case": r.name, "trace_id": r.trace_id},
                    }
                )
    return records


_SEND_ATTEMPTS = 6


def _send(records: list[dict[str, Any]], url: str) -> None:
    from aiagents.tracing import current_tracing

    tracing = current_tracing()
    if tracing is not None:  # the spans must be in Phoenix before annotations can point at them
        tracing.flush()
    client = _client(url)
    # Phoenix inserts received spans from a background queue, so an annotation sent right after its
    # span can be refused for a moment: retry briefly before the caller queues it for later.
    for attempt in range(_SEND_ATTEMPTS):
        try:
            client.spans.log_span_annotations(span_annotations=records, sync=True)
            return
        except Exception:
            if attempt == _SEND_ATTEMPTS - 1:
                raise
            time.sleep(0.5)


def send_annotations(results: Iterable[CaseResult], url: str, *, queue: Path | None = None) -> dict[str, int]:
    """Send evaluator results as span annotations; when Phoenix fails, append them to the queue file.

    Returns {"sent": n, "queued": m}. Queued records go out with `flush_annotation_queue`.
    """
    records = annotation_records(results)
    if not records:
        return {"sent": 0, "queued": 0}
    try:
        _send(records, url)
    except Exception:  # noqa: BLE001 - any transport or server failure: keep them for later
        path = queue or annotation_queue_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return {"sent": 0, "queued": len(records)}
    return {"sent": len(records), "queued": 0}


def flush_annotation_queue(url: str, *, queue: Path | None = None, batch: int = 500) -> dict[str, int]:
    """Send queued annotations; what Phoenix still refuses stays queued. Returns {"sent", "queued"}."""
    path = queue or annotation_queue_path()
    if not path.exists():
        return {"sent": 0, "queued": 0}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sent, left = 0, []
    for i in range(0, len(records), batch):
        chunk = records[i : i + batch]
        try:
            _send(chunk, url)
            sent += len(chunk)
        except Exception:  # noqa: BLE001 - keep the rest for the next flush
            left.extend(chunk)
    if left:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in left), encoding="utf-8")
    else:
        path.unlink()
    return {"sent": sent, "queued": len(left)}


def _as_mapping(value: Any, key: str) -> dict[str, Any]:
    """A JSON-able mapping for Phoenix: non-JSON values (e.g. `MediaFile` paths) become their string form."""
    mapping = dict(value) if isinstance(value, dict) else {key: value}
    return json.loads(json.dumps(mapping, default=str))


def push_dataset(dataset: Dataset, url: str) -> Any:
    """Create (or reuse) the Phoenix dataset `<name>@<version>`; returns the phoenix-client `Dataset`.

    Each example: input = the case inputs (a mapping; bare values under "input"), output =
    {"expected_output": ...}, metadata = case name, tags, expected documents and trajectory.
    """
    client = _client(url)
    name = f"{dataset.name}@{dataset.version}"
    try:
        return client.datasets.get_dataset(dataset=name)
    except Exception:  # noqa: BLE001 - not there yet (or not readable): create it
        pass
    try:
        return client.datasets.create_dataset(
            name=name,
            dataset_description=f"aiagents eval dataset {dataset.name}, version {dataset.version}",
            inputs=[_as_mapping(c.inputs, "input") for c in dataset.cases],
            outputs=[{"expected_output": c.expected_output} for c in dataset.cases],
            metadata=[
                {
                    "case": c.name,
                    "tags": c.tags,
                    "expected_documents": c.expected_documents,
                    "expected_trajectory": [vars(x) for x in c.expected_trajectory],
                }
                for c in dataset.cases
            ],
        )
    except Exception as exc:
        raise PhoenixPushError(f"Could not create dataset {name!r} in Phoenix at {url}: {exc}") from exc


def push_experiment(
    dataset: Dataset, results: Iterable[CaseResult], url: str, *, name: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Record a finished run as a Phoenix experiment on the pushed dataset: one run per case (output or
    error, trace id) and one evaluation per metric. Returns {"dataset_id", "experiment_id", "runs", "evaluations"}."""
    client = _client(url)
    ds = push_dataset(dataset, url)
    by_case = {ex["metadata"].get("case"): ex["id"] for ex in ds.examples}
    try:
        exp = client.experiments.create(
            dataset_id=ds.id,
            dataset_version_id=ds.version_id,
            experiment_name=name,
            experiment_metadata=metadata or {},
        )
        exp_id = exp["id"]
        runs = evaluations = 0
        for r in results:
            example_id = by_case.get(r.name)
            if example_id is None:
                continue
            when = datetime.fromisoformat(r.finished_at) if r.finished_at else datetime.now()
            run = client.experiments.log_run(
                experiment_id=exp_id,
                dataset_example_id=example_id,
                output=r.output,
                start_time=when,
                end_time=when,
                trace_id=r.trace_id,
                error=r.error,
            )
            runs += 1
            for metric, m in r.metrics.items():
                client.experiments.log_evaluation(
                    experiment_run_id=run["id"],
                    name=metric,
                    annotator_kind=m.kind,
                    score=m.score,
                    label=m.label if m.label is not None else (None if m.passed is None else str(m.passed).lower()),
                    explanation=m.reason,
                )
                evaluations += 1
    except Exception as exc:
        raise PhoenixPushError(f"Could not record experiment {name!r} in Phoenix at {url}: {exc}") from exc
    return {"dataset_id": ds.id, "experiment_id": exp_id, "runs": runs, "evaluations": evaluations}
