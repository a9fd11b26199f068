"""The improvement loop's queries on both log-store backends (SQLite and PostgreSQL): report, guardrails from
the store, events, scores and their Phoenix outbox, the annotation queue, the dashboard data."""

from __future__ import annotations

from aiagents.annotate import annotated_cases, next_item, record, sample
from aiagents.logstore import FeedbackRecord, RequestRecord
from aiagents.online import list_scores, pending_score_annotations, write_many_scores, write_scores
from aiagents.rollout import ExperimentRouter, ExperimentStore, Guardrails, Variant, list_events, report
from aiagents.service.dashboard import dashboard_data


def test_loop_queries_on_both_backends(store, tmp_path) -> None:  # noqa: F811
    experiments = ExperimentStore(tmp_path / "experiments")
    e = experiments.create(
        "b", "tasks/t", [Variant(name="control", share=50), Variant(name="candidate", share=50)],
        guardrails=Guardrails(min_sample=4, max_error_rate=0.5),
    )  # fmt: skip
    rows = [
        RequestRecord(
            request_id=f"{v}{i}", endpoint="task", name="t", experiment="b", variant=v, input={"n": i},
            output={"v": i}, latency_ms=float(i + 1), created_at=e.created_at + 1 + i, span_id=f"{i:016x}",
            trace_id=f"{i:032x}", error_code="run_failed" if v == "candidate" and i < 3 else None,
        )
        for v in ("control", "candidate")
        for i in range(4)
    ]  # fmt: skip
    fb = [FeedbackRecord(request_id=f"control{i}", thumbs="up") for i in range(4)]
    fb += [
        FeedbackRecord(request_id="candidate3", thumbs="down"),
        FeedbackRecord(request_id="control0", corrected_output={"v": 9}),
    ]
    store.write(requests=rows, feedback=fb)
    write_scores(store, "control1", [("schema_valid", 1.0, "pass", None)], source="online", annotator="x")
    write_many_scores(store, [("control2", [("schema_valid", 0.0, "fail", "bad")], {})], source="online", annotator="x")

    rep = report(store, e)
    assert rep["variants"]["control"]["requests"] == 4 and rep["variants"]["candidate"]["errors"] == 3
    assert rep["variants"]["control"]["online_scores"] == {"schema_valid": {"mean": 0.5, "n": 2}}
    assert rep["variants"]["control"]["correction_rate"]["value"] == 0.25

    router = ExperimentRouter(experiments, store)
    assert router.check_store() == [("b", "candidate")]  # 3 errors of 4 > 0.5
    assert [ev["kind"] for ev in list_events(store, "b")] == ["guardrail_stop"]

    assert len(list_scores(store, source="online")) == 2
    assert {r["span_id"] for r in pending_score_annotations(store)} == {f"{1:016x}", f"{2:016x}"}

    drawn = sample(store, 3, seed=0)
    assert [d.reason for d in drawn] == ["error", "error", "error"]
    item = next_item(store)
    record(store, item["item_id"], verdict="bad", label="x", correct_output={"v": 0}, annotator="a")
    cases = annotated_cases(store)
    assert [(c["request_id"], c["candidate"]) for c in cases] == [(item["request_id"], False), ("control0", True)]

    data = dashboard_data(store, since=0)
    assert data["summary"]["requests"] == 8 and len(data["failures"]) == 3
    assert data["breakdowns"]["variant"]["candidate"]["error_rate"] == 0.75
