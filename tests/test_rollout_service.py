"""A/B rollout over the real service and store: variants applied and recorded, a failing candidate stopped by
its guardrail within the configured sample with no failed request after the switch, online-eval scores."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from aiagents.logstore import open_store
from aiagents.rollout import ExperimentStore, Guardrails, Variant, list_events, report
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, Service, auth, free_port, start_service

LISTING = {"listing": "Road bike, 54 cm aluminium frame, like new. Asking 350 EUR, pick-up in Lyon."}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("rollout") / "data"
    svc = start_service(data, env={"AIAGENTS_ONLINE_EVAL_RATE": "1", "AIAGENTS_MODEL": "offline"})
    yield svc
    svc.stop()


def _experiments(svc: Service) -> ExperimentStore:
    return ExperimentStore(svc.data_dir / "experiments")


def _start(svc: Service, name: str, variants: list[Variant], guard: Guardrails) -> None:
    store = _experiments(svc)
    for e in store.list():
        store.path(e.name).unlink()
    store.create(name, "tasks/listing-attributes", variants, guardrails=guard)
    time.sleep(0.8)  # the service re-reads the folder at most every 0.5 s


def test_variants_are_applied_sticky_and_recorded(service: Service) -> None:
    _start(
        service, "prompts",
        [Variant(name="control", share=50), Variant(name="candidate", share=50, prompt="listing-attributes-v2")],
        Guardrails(min_sample=1000),
    )  # fmt: skip
    seen: dict[str, str] = {}
    with httpx.Client(base_url=service.url, headers=auth(CLIENT_KEYS[0]), timeout=60) as client:
        for rnd in range(2):
            for i in range(16):
                r = client.post("/v1/tasks/listing-attributes", json={"input": LISTING, "user_id": f"p-{i}"})
                assert r.status_code == 200, r.text
                a = r.json()
                want = "listing-attributes-v2" if a["variant"] == "candidate" else "listing-attributes"
                assert a["prompt"] == want
                if rnd == 0:
                    seen[f"p-{i}"] = a["variant"]
                else:
                    assert seen[f"p-{i}"] == a["variant"]  # sticky
        assert set(seen.values()) == {"control", "candidate"}
        rows = client.get("/v1/requests", params={"limit": 32}, headers=auth(ADMIN_KEY)).json()["requests"]
    assert {(r["experiment"], r["user_id"], r["variant"]) for r in rows} == {("prompts", u, v) for u, v in seen.items()}


def test_failing_candidate_is_stopped_within_its_sample_and_no_request_fails_after(service: Service) -> None:
    dead = f"openai-compatible:m@http://127.0.0.1:{free_port()}/v1"  # nothing listens: every call fails
    _start(
        service, "guard",
        [Variant(name="control", share=50), Variant(name="candidate", share=50, model=dead)],
        Guardrails(min_sample=5, max_error_rate=0.2, max_negative_rate=None),
    )  # fmt: skip
    outcomes: list[tuple[int, str | None]] = []
    with httpx.Client(base_url=service.url, headers=auth(CLIENT_KEYS[0]), timeout=60) as client:
        for i in range(40):
            r = client.post("/v1/tasks/listing-attributes", json={"input": LISTING, "user_id": f"g-{i}"})
            outcomes.append((r.status_code, r.json().get("variant")))
    failures = [i for i, (status, _) in enumerate(outcomes) if status != 200]
    assert len(failures) == 5  # stopped exactly at the configured minimum sample
    after = outcomes[failures[-1] + 1 :]
    assert after and all(o == (200, "control") for o in after)
    e = _experiments(service).load("guard")
    assert e.status == "stopped" and e.stopped_variant == "candidate"
    assert e.stop_reason == "error rate 1.000 > 0.2 over 5 requests"
    deadline = time.monotonic() + 10
    while "stopped by a guardrail" not in service.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "variant 'candidate' stopped by a guardrail: error rate 1.000 > 0.2" in service.log()
    store = open_store(f"sqlite:///{service.data_dir / 'logs' / 'requests.db'}")
    try:
        events = list_events(store, "guard")
        assert [(ev["kind"], ev["variant"]) for ev in events] == [("guardrail_stop", "candidate")]
        httpx.get(f"{service.url}/v1/stats", headers=auth(ADMIN_KEY), timeout=30)  # flushes the writer
        rep = report(store, e)
        assert rep["variants"]["candidate"]["errors"] == 5
        assert rep["decision"] == "roll back" and "guardrail" in rep["reason"]
    finally:
        store.close()


def test_online_evals_score_served_requests_and_the_span_carries_the_variant(service: Service) -> None:
    httpx.get(f"{service.url}/v1/stats", headers=auth(ADMIN_KEY), timeout=30)
    store = open_store(f"sqlite:///{service.data_dir / 'logs' / 'requests.db'}")
    try:
        ok = store.query("SELECT request_id FROM requests WHERE status = 200")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            scored = store.query("SELECT DISTINCT request_id FROM scores WHERE source = 'online'")
            if len(scored) >= len(ok):
                break
            time.sleep(0.3)
        assert {r["request_id"] for r in scored} == {r["request_id"] for r in ok}
        schema = store.query("SELECT score FROM scores WHERE name = 'schema_valid'")
        assert len(schema) == len(ok) and all(r["score"] == 1.0 for r in schema)
        failed = store.query("SELECT request_id FROM requests WHERE status != 200")
        assert failed and not store.query(
            "SELECT 1 FROM scores WHERE request_id IN (SELECT request_id FROM requests WHERE status != 200)"
        )
    finally:
        store.close()
    spool = b"".join(p.read_bytes() for p in Path(service.data_dir).rglob("*") if p.is_file() and "spool" in str(p))
    assert b'"variant": "candidate"' in spool and b'"experiment": "guard"' in spool
