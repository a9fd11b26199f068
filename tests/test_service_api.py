"""The service over real HTTP: answers, the request log, feedback, every bad-input case, and the key grep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aiagents.logstore import open_store
from aiagents.service import key_fingerprint
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, Service, auth, start_service

A, B = auth(CLIENT_KEYS[0]), auth(CLIENT_KEYS[1])
ADMIN = auth(ADMIN_KEY)
LISTING = "Road bike, 54 cm aluminium frame, like new condition. Asking 350 EUR, pick-up in Lyon."
TASK = "/v1/tasks/listing-attributes"
SECRET_INPUT = "my-card-4111-1111"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = start_service(
        tmp_path_factory.mktemp("svc") / "data",
        env={
            "AIAGENTS_REDACT_FIELDS": "card",
            "AIAGENTS_MAX_BODY_BYTES": "20000",
            "AIAGENTS_PHOENIX_API_KEY": "phx-secret-9f8e7d",
        },
    )
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=60) as c:
        yield c


def _task(client: httpx.Client, headers: dict[str, str], **extra: object) -> httpx.Response:
    return client.post(TASK, headers=headers, json={"input": {"listing": LISTING}, **extra})


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_task_answer_is_logged_with_everything(client: httpx.Client) -> None:
    r = _task(client, A, user_id="u1", session_id="s1", metadata={"channel": "web"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["output"]["category"] == "bikes" and answer["output"]["price"] == 350
    assert answer["variant"] == "default" and answer["model"] == "offline" and answer["prompt"] == "listing-attributes"
    assert len(answer["request_id"]) == 48 and len(answer["trace_id"]) == 32
    row = client.get(f"/v1/requests/{answer['request_id']}", headers=ADMIN).json()["request"]
    assert row["endpoint"] == "task" and row["name"] == "listing-attributes"
    assert row["input"] == {"listing": LISTING} and row["output"] == answer["output"]
    assert (row["prompt_name"], row["prompt_version"], row["model"]) == (
        "listing-attributes",
        answer["prompt_version"],
        "offline",
    )
    assert (row["user_id"], row["session_id"], row["metadata"]) == ("u1", "s1", {"channel": "web"})
    assert row["trace_id"] == answer["trace_id"] and len(row["span_id"]) == 16
    assert (
        row["key_fingerprint"] == key_fingerprint(CLIENT_KEYS[0]) and row["status"] == 200 and row["error_code"] is None
    )
    assert row["input_tokens"] == answer["usage"]["input_tokens"] > 0 and row["latency_ms"] > 0


def test_feedback_explicit_and_implicit_link_to_the_request(client: httpx.Client) -> None:
    rid = _task(client, A).json()["request_id"]
    up = client.post("/v1/feedback", headers=A, json={"request_id": rid, "thumbs": "up", "comment": "good"})
    fixed = client.post("/v1/feedback", headers=A, json={"request_id": rid, "corrected_output": {"price": 300}})
    ok = client.post("/v1/feedback", headers=A, json={"request_id": rid, "accepted": True})
    assert [x.status_code for x in (up, fixed, ok)] == [202, 202, 202]
    got = client.get(f"/v1/requests/{rid}", headers=ADMIN).json()["feedback"]
    by_id = {f["feedback_id"]: f for f in got}
    assert set(by_id) == {up.json()["feedback_id"], fixed.json()["feedback_id"], ok.json()["feedback_id"]}
    assert all(f["request_id"] == rid for f in got)
    assert by_id[up.json()["feedback_id"]]["kind"] == "explicit" and by_id[up.json()["feedback_id"]]["thumbs"] == "up"
    assert by_id[fixed.json()["feedback_id"]]["kind"] == "implicit"
    assert by_id[fixed.json()["feedback_id"]]["corrected_output"] == {"price": 300}
    assert by_id[ok.json()["feedback_id"]]["accepted"] is True


def test_bad_input_gets_clear_json_errors_and_loses_nothing(client: httpx.Client) -> None:
    stored = client.get("/v1/stats", headers=ADMIN).json()
    rid = _task(client, A).json()["request_id"]
    assert "Bearer" in _error(client.post(TASK, json={"input": {}}), 401, "unauthorized")["message"]
    _error(client.post(TASK, headers=auth("wrong-key"), json={"input": {}}), 401, "unauthorized")
    _error(
        client.post(TASK, headers={**A, "content-type": "application/json"}, content=b'{"input": {'),
        400,
        "malformed_json",
    )
    _error(client.post(TASK, headers={**A, "content-type": "text/plain"}, content=b"{}"), 415, "unsupported_media_type")
    big = json.dumps({"input": {"listing": "x" * 30_000}})
    _error(client.post(TASK, headers={**A, "content-type": "application/json"}, content=big), 413, "payload_too_large")
    chunked = (part.encode() for part in [big[:10_000], big[10_000:]])  # no Content-Length: counted as it streams
    _error(
        client.post(TASK, headers={**A, "content-type": "application/json"}, content=chunked), 413, "payload_too_large"
    )
    unknown = _error(client.post("/v1/tasks/no-such-task", headers=A, json={"input": {}}), 404, "unknown_task")
    assert "listing-attributes" in unknown["message"] and "/" not in unknown["message"]  # names, no server path
    _error(client.post(TASK, headers=A, json={"input": {"nonsense": 1}}), 422, "invalid_input")
    misspelt = _error(client.post(TASK, headers=A, json={"inputs": {}}), 422, "validation_error")["message"]
    assert misspelt == "inputs: Extra inputs are not permitted (did you mean `input`?)"
    unknown = _error(
        client.post("/v1/ask", headers=A, json={"question": "q", "index": "i", "zzz": 1}), 422, "validation_error"
    )
    assert unknown["message"].endswith(
        "(the body's fields: question, index, k, mode, filters, user_id, session_id, metadata)"
    )
    _error(client.post("/v1/feedback", headers=A, json={"request_id": rid}), 422, "validation_error")
    _error(
        client.post("/v1/feedback", headers=A, json={"request_id": "0" * 48, "thumbs": "up"}), 404, "unknown_request"
    )
    _error(client.post("/v1/feedback", headers=B, json={"request_id": rid, "thumbs": "down"}), 404, "unknown_request")
    _error(client.post("/v1/ask", headers=A, json={"question": "q", "index": "missing-index"}), 404, "unknown_index")
    _error(client.get("/v1/stats", headers=A), 403, "forbidden")
    _error(client.get("/v1/nothing-here", headers=A), 404, "not_found")
    after = client.get("/v1/stats", headers=ADMIN).json()
    assert after["requests"] == stored["requests"] + 2  # the good one and the one failing inside the prompt
    assert after["errors"] == stored["errors"] + 1 and after["feedback"] == stored["feedback"]
    assert client.get(f"/v1/requests/{rid}", headers=ADMIN).json()["request"]["request_id"] == rid


def test_openapi_schema_matches_the_endpoints(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/tasks/{name}", "/v1/ask", "/v1/agent", "/v1/feedback", "/healthz", "/v1/requests", "/v1/stats"):
        assert path in paths
    post = paths["/v1/feedback"]["post"]
    assert "202" in post["responses"] and post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "FeedbackRequest"
    )
    for status in ("401", "404", "413", "415", "422"):
        assert paths["/v1/tasks/{name}"]["post"]["responses"][status]["content"]["application/json"]["schema"][
            "$ref"
        ].endswith("ErrorBody")
    answer = schema["components"]["schemas"]["ServiceAnswer"]["properties"]
    assert {"output", "request_id", "trace_id", "variant"} <= set(answer)
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_redaction_and_secret_scrubbing_in_the_store(client: httpx.Client) -> None:
    body = {"listing": LISTING, "card": SECRET_INPUT}
    r = client.post("/v1/tasks/no-such-task", headers=A, json={"input": body})
    assert r.status_code == 404
    r = client.post(TASK, headers=A, json={"input": {"listing": f"{LISTING} key {CLIENT_KEYS[1]}"}})
    row = client.get(f"/v1/requests/{r.json()['request_id']}", headers=ADMIN).json()["request"]
    assert CLIENT_KEYS[1] not in json.dumps(row) and "[REDACTED]" in row["input"]["listing"]


PROVIDER_KEY = "sk-test-SECRET-7f3a9c1e"
PASTED_TOKEN = "ghp_" + "Z9" * 18  # key-shaped, configured nowhere


def test_no_key_reaches_the_store_the_spans_or_the_log(tmp_path: Path) -> None:
    env = {"AIAGENTS_REDACT_FIELDS": "card", "OPENAI_API_KEY": PROVIDER_KEY, "AIAGENTS_MODEL": "offline"}
    svc = start_service(tmp_path / "data", env=env)
    try:
        with httpx.Client(base_url=svc.url, timeout=60) as c:
            for headers in (A, B, ADMIN):
                rid = _task(c, headers, user_id="grep").json()["request_id"]
                assert (
                    c.post("/v1/feedback", headers=headers, json={"request_id": rid, "thumbs": "up"}).status_code == 202
                )
            c.post(TASK, headers=A, json={"input": {"listing": LISTING, "card": SECRET_INPUT}})
            pasted = f"{LISTING} {PROVIDER_KEY} {PASTED_TOKEN}"  # keys in the input reach no span, row or file
            answer = c.post(TASK, headers=A, json={"input": {"listing": pasted}, "metadata": {"k": PROVIDER_KEY}})
            assert answer.status_code == 200, answer.text
            c.post(TASK, headers=auth(CLIENT_KEYS[0] + "x"), json={"input": {}})  # a wrong key is not logged either
    finally:
        assert svc.stop() in (0, -15)  # uvicorn re-raises the SIGTERM it handled, after a graceful shutdown
        assert "Application shutdown complete" in svc.log()
    files = [p for p in svc.data_dir.rglob("*") if p.is_file() and p.name != "secret"]
    made_by_the_service = [p for p in files if not p.name.startswith("serve-")]  # not the test's own log file
    readable_by_others = [str(p.relative_to(svc.data_dir)) for p in made_by_the_service if p.stat().st_mode & 0o077]
    assert made_by_the_service and not readable_by_others
    assert svc.data_dir.stat().st_mode & 0o077 == 0
    spooled = [p for p in files if p.suffix == ".otlp"]
    assert spooled, "the spans should be spooled (Phoenix unreachable)"
    blob = b"".join(p.read_bytes() for p in files)
    assert b"listing-attributes" in b"".join(p.read_bytes() for p in spooled)
    assert len(open_store(f"sqlite:///{svc.data_dir / 'logs' / 'requests.db'}").list_requests()) == 5
    assert blob.count(b"[REDACTED]") >= 4  # scrubbed, not dropped: the request span, the LLM span and the row
    for key in (*CLIENT_KEYS, ADMIN_KEY, PROVIDER_KEY, PASTED_TOKEN):
        assert key.encode() not in blob, f"{key} found in the data folder"
    assert SECRET_INPUT.encode() not in (svc.data_dir / "logs" / "requests.db").read_bytes()
