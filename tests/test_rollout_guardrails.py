"""Guardrails: thresholds over a minimum sample; the router stops a variant from its own counts at once, and from
the log store (every worker's requests and feedback); the stop is written to the file, the store and the log."""

from __future__ import annotations

import logging

from aiagents.logstore import FeedbackRecord, RequestRecord, open_store
from aiagents.rollout import (
    ExperimentRouter,
    ExperimentStore,
    Guardrails,
    Variant,
    VariantCounters,
    guardrail_breach,
    list_events,
)


def test_guardrail_thresholds_need_the_minimum_sample() -> None:
    g = Guardrails(min_sample=10, max_error_rate=0.1, max_negative_rate=0.3, max_p95_ms=500)
    assert guardrail_breach(VariantCounters(requests=9, errors=9, latencies=[1.0] * 9), g) is None
    assert guardrail_breach(VariantCounters(requests=10, errors=1, latencies=[1.0] * 10), g) is None  # 0.1 is not > 0.1
    assert guardrail_breach(VariantCounters(requests=10, errors=2, latencies=[1.0] * 10), g) == (
        "error rate 0.200 > 0.1 over 10 requests"
    )
    assert guardrail_breach(VariantCounters(requests=10, negative=4, latencies=[1.0] * 10), g) == (
        "negative-feedback rate 0.400 > 0.3 over 10 requests"
    )
    # nearest-rank p95 of 20 values is the 19th: one slow request of 20 is fine, two are not
    assert guardrail_breach(VariantCounters(requests=20, latencies=[10.0] * 19 + [900.0]), g) is None
    assert guardrail_breach(VariantCounters(requests=20, latencies=[10.0] * 18 + [900.0] * 2), g) == (
        "p95 latency 900 ms > 500 ms over 20 requests"
    )


def _setup(tmp_path, guard: Guardrails):
    experiments = ExperimentStore(tmp_path / "experiments")
    e = experiments.create(
        "g", "tasks/t", [Variant(name="control", share=50), Variant(name="candidate", share=50)], guardrails=guard
    )
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    return experiments, e, store, ExperimentRouter(experiments, store)


def test_router_stops_the_candidate_from_its_own_counts(tmp_path, caplog) -> None:
    experiments, e, store, router = _setup(tmp_path, Guardrails(min_sample=4, max_error_rate=0.25))
    users = [f"u{i}" for i in range(40)]
    cand = [u for u in users if router.route("tasks/t", u).variant.name == "candidate"]
    assert len(cand) >= 4 and router.route("tasks/other", "u1") is None
    with caplog.at_level(logging.WARNING, logger="aiagents.rollout"):
        for i in range(4):
            router.observe("g", "candidate", f"r{i}", latency_ms=5.0, error=i >= 2)  # 2 errors of 4 = 0.5
    assert "variant 'candidate' stopped by a guardrail: error rate 0.500 > 0.25 over 4 requests" in caplog.text
    assert {router.route("tasks/t", u).variant.name for u in users} == {"control"}
    assert experiments.load("g").stopped_variant == "candidate"
    assert [(ev["kind"], ev["reason"]) for ev in list_events(store, "g")] == [
        ("guardrail_stop", "error rate 0.500 > 0.25 over 4 requests")
    ]


def test_router_stops_the_candidate_from_the_log_store(tmp_path) -> None:
    experiments, e, store, router = _setup(tmp_path, Guardrails(min_sample=5, max_negative_rate=0.5))
    rows = [
        RequestRecord(request_id=f"{v}{i}", endpoint="task", experiment="g", variant=v, created_at=e.created_at + 1)
        for v in ("control", "candidate")
        for i in range(6)
    ]
    # thumbs down on 3 of 6 candidate requests (0.5, not above): no stop; a 4th: 0.667 > 0.5
    fb = [FeedbackRecord(request_id=f"candidate{i}", thumbs="down") for i in range(3)]
    store.write(requests=rows, feedback=fb)
    assert router.check_store() == []
    store.write(feedback=[FeedbackRecord(request_id="candidate3", thumbs="down")])
    assert router.check_store() == [("g", "candidate")]
    assert experiments.load("g").status == "stopped"
    (event,) = list_events(store, "g")
    assert event["reason"] == "negative-feedback rate 0.667 > 0.5 over 6 requests"
    assert event["metadata"] == {"counted_by": "log store"}
    assert router.check_store() == []  # stopped once
