"""Feedback given through the service shows in a real Phoenix as annotations on the request's span.

When Phoenix is down the annotation waits in the log store (like the spans in the spool) and arrives once
Phoenix is back.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiagents.logstore import open_store
from aiagents.tracing import push_spool
from aiagents.tracing.phoenix_server import start_phoenix
from tests.support.phoenix import wait_for_span
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, auth, free_port, start_service

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

A = auth(CLIENT_KEYS[0])
ADMIN = auth(ADMIN_KEY)
TASK = "/v1/tasks/listing-attributes"
LISTING = "Road bike, 54 cm aluminium frame, like new. Asking 350 EUR, pick-up in Lyon."


FEEDBACK_NAMES = {"user_feedback", "user_correction"}


def _annotations(phoenix_url: str, project: str, span_id: str, *, want: int, timeout: float = 60) -> list[Any]:
    """The span's feedback annotations (online evals may annotate it too: those are left out)."""
    from phoenix.client import Client

    client = Client(base_url=phoenix_url)
    deadline = time.monotonic() + timeout
    found: list[Any] = []
    while time.monotonic() < deadline:
        try:
            found = list(client.spans.get_span_annotations(span_ids=[span_id], project_identifier=project))
        except httpx.HTTPStatusError:  # the project does not exist until its first span arrives
            found = []
        found = [a for a in found if a["name"] in FEEDBACK_NAMES]
        if len(found) >= want:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{len(found)} feedback annotations on span {span_id} after {timeout} s, wanted {want}")


def _request_and_feedback(client: httpx.Client) -> tuple[str, str]:
    """One task request, then thumbs down with a comment and the corrected output; (request id, span id)."""
    answer = client.post(TASK, headers=A, json={"input": {"listing": LISTING}, "user_id": "u1"})
    assert answer.status_code == 200, answer.text
    request_id = answer.json()["request_id"]
    corrected = {**answer.json()["output"], "price": 340.0}
    for body in ({"thumbs": "down", "comment": "price is wrong"}, {"corrected_output": corrected}):
        assert client.post("/v1/feedback", headers=A, json={"request_id": request_id, **body}).status_code == 202
    row = client.get(f"/v1/requests/{request_id}", headers=ADMIN).json()["request"]
    return request_id, row["span_id"]


def _check(annotations: list[Any], request_id: str) -> None:
    by_name = {a["name"]: a for a in annotations}
    assert set(by_name) == {"user_feedback", "user_correction"}
    thumbs, correction = by_name["user_feedback"], by_name["user_correction"]
    assert thumbs["annotator_kind"] == "HUMAN"
    assert thumbs["result"]["label"] == "thumbs_down" and thumbs["result"]["score"] == 0.0
    assert thumbs["result"]["explanation"] == "price is wrong"
    assert thumbs["metadata"]["request_id"] == request_id
    assert correction["result"]["label"] == "corrected"
    assert correction["metadata"]["corrected_output"]["price"] == 340.0


def test_feedback_becomes_annotations_on_the_request_span(tmp_path: Path, phoenix_server: str) -> None:
    project = f"feedback-{uuid.uuid4().hex[:8]}"
    env = {"PHOENIX_COLLECTOR_ENDPOINT": phoenix_server, "AIAGENTS_PHOENIX_PROJECT": project}
    svc = start_service(tmp_path / "data", env=env)
    try:
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            request_id, span_id = _request_and_feedback(client)
            _check(_annotations(phoenix_server, project, span_id, want=2), request_id)
            stats = client.get("/v1/stats", headers=ADMIN).json()
            assert stats["feedback"] == 2
    finally:
        svc.stop()
    assert "Traceback" not in svc.log()


def test_feedback_waits_while_phoenix_is_down_and_arrives_later(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    project = f"later-{uuid.uuid4().hex[:8]}"
    svc = start_service(tmp_path / "data", env={"PHOENIX_COLLECTOR_ENDPOINT": url, "AIAGENTS_PHOENIX_PROJECT": project})
    phoenix = None
    try:
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            request_id, span_id = _request_and_feedback(client)
            store = open_store(f"sqlite:///{svc.data_dir / 'logs' / 'requests.db'}")
            tried = "SELECT MIN(annotation_attempts) AS n FROM feedback WHERE request_id = ?"
            deadline = time.monotonic() + 60  # the annotator has tried (Phoenix is down) ...
            while (store.query(tried, [request_id])[0]["n"] or 0) < 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert store.query(tried, [request_id])[0]["n"] >= 1
            assert client.get("/v1/stats", headers=ADMIN).json()["annotations_pending"] == 2  # ... and kept them
            phoenix = start_phoenix(tmp_path / "phoenix", port=port)
            deadline = time.monotonic() + 30  # the service's spans: spooled batches, the last one within 5 s
            while push_spool(svc.data_dir / "spool", url).spans == 0 and time.monotonic() < deadline:
                time.sleep(1)
            from phoenix.client import Client

            # Phoenix inserts what it receives in the background: a span must be there before it is annotated
            assert wait_for_span(Client(base_url=url), project, span_id, timeout=60)
            # new feedback wakes the annotator at once (else it retries on its back-off, up to a minute)
            assert client.post("/v1/feedback", headers=A, json={"request_id": request_id, "accepted": False}).is_success
            annotations = _annotations(url, project, span_id, want=2)
            _check([a for a in annotations if a["result"].get("label") != "rejected"], request_id)
            deadline = time.monotonic() + 30
            while client.get("/v1/stats", headers=ADMIN).json()["annotations_pending"] and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get("/v1/stats", headers=ADMIN).json()["annotations_pending"] == 0
    finally:
        svc.stop()
        if phoenix is not None:
            phoenix.stop()
