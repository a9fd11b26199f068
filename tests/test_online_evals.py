"""Online evals: evaluators on logged requests, hash sampling, the background worker (off the request path),
re-scoring stored traffic from the log store and from a real Phoenix, with scores written back as annotations."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic_evals.evaluators import Evaluator, EvaluatorContext

from aiagents.logstore import RequestRecord, open_store
from aiagents.online import (
    GroundedNumbers,
    OnlineEvalWorker,
    OnlineSuiteError,
    RetrievalRelevance,
    SchemaValid,
    context_for,
    evaluate_all,
    list_scores,
    load_suite,
    rescore,
    sampled,
)
from tests.support.phoenix import wait_for_span

LISTING = "Road bike, 54 cm frame, like new. Asking 350 EUR."
GOOD = {"title": "Road bike", "category": "bikes", "price": 350.0, "condition": "like new"}


def _row(**kw: Any) -> dict[str, Any]:
    base = {
        "request_id": "r1", "endpoint": "task", "name": "listing-attributes", "prompt_name": "listing-attributes",
        "prompt_version": None, "input": {"listing": LISTING}, "output": dict(GOOD), "latency_ms": 12.0,
    }  # fmt: skip
    return {**base, **kw}


def _run(evaluators: list[Evaluator[Any, Any, Any]], row: dict[str, Any]) -> dict[str, tuple]:
    import asyncio

    return {n: (s, lbl) for n, s, lbl, _ in asyncio.run(evaluate_all(evaluators, context_for(row)))}


def test_builtin_evaluators_score_hand_checked_cases() -> None:
    assert _run([SchemaValid()], _row())["schema_valid"] == (1.0, "pass")
    assert _run([SchemaValid()], _row(output={"title": "x"}))["schema_valid"] == (0.0, "fail")
    schema = {"required": ["answer"], "properties": {"answer": {"type": "string"}}}
    assert _run([SchemaValid(schema=schema)], _row(output={"answer": 3}))["schema_valid"][0] == 0.0
    # 350 and 54 appear in the listing; 999 does not: 2 of 3 numbers grounded
    out = {**GOOD, "price": 999, "size_cm": 54}
    assert _run([GroundedNumbers()], _row(output=out))["grounded_numbers"][0] == pytest.approx(1 / 2)
    assert _run([GroundedNumbers()], _row())["grounded_numbers"][0] == 1.0
    rag = _row(
        input={"question": "How long does a refund take?"},
        output={"answer": "14 days", "citations": [{"text": "A refund is paid within 14 days"}, {"text": "Shipping"}]},
    )
    assert _run([RetrievalRelevance()], rag)["retrieval_relevance"][0] == 0.5


def test_an_evaluator_that_raises_gives_an_error_label_not_a_lost_batch() -> None:
    class Boom(Evaluator[Any, Any, Any]):
        def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> bool:
            raise ValueError("nope")

    scores = _run([Boom(), SchemaValid()], _row())
    assert scores["boom"] == (None, "error") and scores["schema_valid"] == (1.0, "pass")


def test_suites_by_name_and_file(tmp_path) -> None:
    assert [type(e).__name__ for e in load_suite("default")] == ["SchemaValid", "GroundedNumbers", "RetrievalRelevance"]
    f = tmp_path / "suite.yaml"
    f.write_text(
        "evaluators:\n  - grounded_numbers\n"
        "  - {evaluator: 'aiagents.evals.evaluators:ContainsText', args: {expected: bike}}\n"
    )
    assert [type(e).__name__ for e in load_suite(str(f))] == ["GroundedNumbers", "ContainsText"]
    with pytest.raises(OnlineSuiteError, match="no online-eval suite"):
        load_suite("nope")


def test_sampling_is_a_stable_hash_close_to_the_rate() -> None:
    ids = [f"{i:032x}" for i in range(20_000)]
    share = sum(sampled(i, 0.2) for i in ids) / len(ids)
    assert abs(share - 0.2) < 0.01
    assert [sampled(i, 0.2) for i in ids[:100]] == [sampled(i, 0.2) for i in ids[:100]]
    assert sampled("x", 1.0) and not sampled("x", 0.0)


class Slow(Evaluator[Any, Any, Any]):
    """Takes 50 ms a request, scores 0.5."""

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> float:
        time.sleep(0.05)
        return 0.5


def test_worker_scores_in_the_background_and_submit_does_not_wait(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")

    worker = OnlineEvalWorker(store, [Slow(), SchemaValid()], sample_rate=1.0).start()
    records = [
        RequestRecord(request_id=f"r{i}", endpoint="task", name="listing-attributes", prompt_name="listing-attributes",
                      input={"listing": LISTING}, output=GOOD)
        for i in range(10)
    ]  # fmt: skip
    records.append(RequestRecord(request_id="failed", endpoint="task", error_code="run_failed"))
    started = time.perf_counter()
    for r in records:
        worker.submit(r)
    submit_s = time.perf_counter() - started
    assert submit_s < 0.05  # 10 x 50 ms of scoring happen after submit returned
    assert worker.flush(timeout=30)
    worker.stop()
    rows = list_scores(store, source="online")
    assert len(rows) == 20 and {r["request_id"] for r in rows} == {f"r{i}" for i in range(10)}
    assert {(r["name"], r["score"]) for r in rows} == {("slow", 0.5), ("schema_valid", 1.0)}
    assert worker.skipped == 1  # a failed request is not scored
    store.close()


def test_a_backlog_left_at_shutdown_is_scored_after_the_next_start_once(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")

    _log(store, 40)
    worker = OnlineEvalWorker(store, [Slow()], batch_size=5).start(resume_hours=0)
    for row in store.list_requests(limit=100):
        worker.submit(row)
    started = time.monotonic()
    worker.stop()  # does not wait for 40 x 50 ms of scoring
    assert time.monotonic() - started < 1.5
    done_before = len(list_scores(store, source="online"))
    assert done_before < 40
    again = [OnlineEvalWorker(store, [Slow()]).start(), OnlineEvalWorker(store, [Slow()]).start()]  # two workers
    assert all(w.flush(timeout=30) for w in again)
    for w in again:
        w.stop()
    scores = list_scores(store, source="online")
    assert sorted(r["request_id"] for r in scores) == sorted(f"q{i}" for i in range(40))  # each once
    store.close()


def _log(store, n: int) -> None:
    store.write(
        requests=[
            RequestRecord(request_id=f"q{i}", endpoint="task", name="listing-attributes",
                          prompt_name="listing-attributes", input={"listing": LISTING},
                          output={**GOOD, "price": 350.0 if i % 2 == 0 else 35.0}, span_id=None)
            for i in range(n)
        ]
    )  # fmt: skip


def test_rescore_from_the_log_store_when_phoenix_is_down(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    _log(store, 4)
    result = rescore(store, [GroundedNumbers()], project="p", phoenix_url="http://127.0.0.1:9", suite_name="s")
    assert result.source == "log store" and "unavailable" in (result.note or "")
    assert result.traces == 4 and result.means == {"s.grounded_numbers": 0.5}  # 35 is not in the listing
    assert len(list_scores(store, source="eval_traces")) == 4
    store.close()


def test_rescore_reads_traces_from_phoenix_and_writes_annotations_back(tmp_path, phoenix_server: str) -> None:
    from phoenix.client import Client

    from aiagents import tracing
    from aiagents.tracing import attributes as oi
    from aiagents.tracing import get_tracer, trace_id_hex

    project = f"rescore-{int(time.time() * 1000)}"
    project = tracing.setup(endpoint=phoenix_server, project=project, batch=False).project  # the first setup names it
    tracer = get_tracer("test")
    since = time.time() - 1
    ids = []
    for i, price in enumerate((350.0, 12.0)):
        with tracer.start_as_current_span("task listing-attributes") as span:
            span.set_attribute(oi.METADATA, f'{{"request_id": "ph{i}", "endpoint": "task"}}')
            span.set_attribute(oi.INPUT_VALUE, f'{{"listing": "{LISTING}"}}')
            span.set_attribute(oi.OUTPUT_VALUE, f'{{"price": {price}}}')
            ids.append((trace_id_hex(span), f"{span.get_span_context().span_id:016x}"))
    tracing.current_tracing().flush()
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    client = Client(base_url=phoenix_server)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame = client.spans.get_spans_dataframe(project_identifier=project)
        if frame is not None and len(frame) >= 2:
            break
        time.sleep(0.5)
    result = rescore(
        store, [GroundedNumbers()], project=project, since=since, phoenix_url=phoenix_server, suite_name="s"
    )
    assert result.source == "phoenix" and result.traces == 2 and result.annotations == 2
    assert result.means == {"s.grounded_numbers": 0.5}
    got = client.spans.get_span_annotations(span_ids=[s for _, s in ids], project_identifier=project)
    assert sorted((a["name"], a["result"]["score"]) for a in got) == [
        ("s.grounded_numbers", 0.0),
        ("s.grounded_numbers", 1.0),
    ]
    store.close()


def test_worker_scores_reach_phoenix_as_span_annotations(tmp_path, phoenix_server: str) -> None:
    from phoenix.client import Client

    from aiagents import tracing
    from aiagents.tracing import get_tracer, trace_id_hex

    project = f"online-{int(time.time() * 1000)}"
    project = tracing.setup(endpoint=phoenix_server, project=project, batch=False).project  # the first setup names it
    with get_tracer("test").start_as_current_span("task listing-attributes") as span:
        trace_id, span_id = trace_id_hex(span), f"{span.get_span_context().span_id:016x}"
    tracing.current_tracing().flush()
    client = Client(base_url=phoenix_server)
    assert wait_for_span(client, project, span_id)
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    record = RequestRecord(
        request_id="live1", endpoint="task", name="listing-attributes", prompt_name="listing-attributes",
        input={"listing": LISTING}, output=GOOD, trace_id=trace_id, span_id=span_id,
    )  # fmt: skip
    store.add_request(record)
    worker = OnlineEvalWorker(store, [SchemaValid()], phoenix_url=phoenix_server, annotate_interval=0.2).start()
    worker.submit(record)
    assert worker.flush(timeout=30)
    worker.stop()  # a last annotation pass
    assert worker.annotated == 1
    (row,) = list_scores(store, source="online")
    assert row["annotated_at"] is not None
    got = client.spans.get_span_annotations(span_ids=[span_id], project_identifier=project)
    assert [(a["name"], a["result"]["score"], a["annotator_kind"]) for a in got] == [("schema_valid", 1.0, "CODE")]
    store.close()
