"""The service at sampling ratio 0 against a real Phoenix: an ordinary request is logged (not sampled) but its trace
stays out of Phoenix, and feedback on it stays in the log store; a failed request and one an experiment's candidate
served reach Phoenix whole, and feedback on them becomes annotations there."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiagents.logstore import open_store
from aiagents.rollout import ExperimentStore, Guardrails, Variant
from tests.support.phoenix import wait_for_span
from tests.test_service_feedback_phoenix import _annotations
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, auth, start_service

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

A = auth(CLIENT_KEYS[0])
ADMIN = auth(ADMIN_KEY)
TASK = "/v1/tasks/listing-attributes"
LISTING = {"listing": "Road bike, 54 cm aluminium frame, like new. Asking 350 EUR, pick-up in Lyon."}


def _row(client: httpx.Client, request_id: str) -> dict[str, Any]:
    return client.get(f"/v1/requests/{request_id}", headers=ADMIN).json()["request"]  # type: ignore[no-any-return]


def _until(condition: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


def test_ratio_zero_keeps_errors_and_candidates_only(tmp_path: Path, phoenix_server: str) -> None:
    from phoenix.client import Client

    project = f"sampling-{uuid.uuid4().hex[:8]}"
    env = {
        "PHOENIX_COLLECTOR_ENDPOINT": phoenix_server, "AIAGENTS_PHOENIX_PROJECT": project,
        "AIAGENTS_TRACE_SAMPLE_RATIO": "0", "AIAGENTS_MODEL": "offline", "AIAGENTS_ONLINE_EVAL_RATE": "0",
    }  # fmt: skip
    svc = start_service(tmp_path / "data", env=env)
    phoenix = Client(base_url=phoenix_server)
    try:
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            ordinary = client.post(TASK, headers=A, json={"input": LISTING, "user_id": "u1"})
            assert ordinary.status_code == 200, ordinary.text
            plain_id = ordinary.json()["request_id"]
            failed = client.post(TASK, headers=A, json={"input": {}, "user_id": "u1"})  # no listing: 422
            assert failed.status_code == 422, failed.text
            failed_id = failed.json()["error"]["request_id"]

            ExperimentStore(svc.data_dir / "experiments").create(
                "all-candidate", "tasks/listing-attributes",
                [Variant(name="control", share=0), Variant(name="candidate", share=100)], guardrails=Guardrails(),
            )  # fmt: skip

            def candidate_answer() -> dict[str, Any] | None:
                answer = client.post(TASK, headers=A, json={"input": LISTING, "user_id": "u2"}).json()
                return answer if answer.get("variant") == "candidate" else None

            candidate_id = _until(candidate_answer, "the service routes to the candidate")["request_id"]
            for request_id in (plain_id, candidate_id):
                assert client.post("/v1/feedback", headers=A, json={"request_id": request_id, "thumbs": "down"})
            plain, failed_row, candidate = (_row(client, i) for i in (plain_id, failed_id, candidate_id))
            assert (plain["trace_sampled"], failed_row["trace_sampled"], candidate["trace_sampled"]) == (
                False, True, True,
            )  # fmt: skip

            # the kept traces reach Phoenix; the spans were exported in order, so the ordinary one would be there
            for row in (failed_row, candidate):
                assert wait_for_span(phoenix, project, row["span_id"], timeout=60)
            assert not phoenix.spans.get_spans(project_identifier=project, span_ids=[plain["span_id"]])
            (on_candidate,) = _annotations(phoenix_server, project, candidate["span_id"], want=1)
            assert on_candidate["result"]["label"] == "thumbs_down"

            store = open_store(f"sqlite:///{svc.data_dir / 'logs' / 'requests.db'}")
            (kept,) = store.list_feedback(request_id=plain_id)  # in the store, never tried against Phoenix
            assert kept["thumbs"] == "down" and kept["annotated_at"] is None and kept["annotation_attempts"] == 0
            assert client.get("/v1/stats", headers=ADMIN).json()["annotations_pending"] == 0
    finally:
        svc.stop()
    assert "Traceback" not in svc.log()
