"""API fuzzing: schemathesis generates bodies, queries and path values from the service's own OpenAPI schema,
valid and invalid, with and without an API key, and sends them to the real service over HTTP. No answer may
be a 5xx or a dropped connection, and every error is the service's JSON error body."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, Service, auth, start_service

schemathesis = pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis (pip install schemathesis)")
from hypothesis import HealthCheck, given, settings  # noqa: E402 - after the importorskip
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES = 20
HEADERS = {"client": auth(CLIENT_KEYS[0]), "admin": auth(ADMIN_KEY), "none": {}}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = start_service(tmp_path_factory.mktemp("fuzz") / "data", env={"AIAGENTS_MODEL": "offline"})
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def operations(service: Service) -> list[object]:
    schema = schemathesis.openapi.from_dict(httpx.get(f"{service.url}/openapi.json").json())
    return [op.ok() for op in schema.get_all_operations()]


def _check(response: object, label: str) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status < 500, f"{label}: {status} {response.text[:300]}"  # type: ignore[attr-defined]
    if status >= 400:
        body = json.loads(response.text)  # type: ignore[attr-defined]
        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], f"{label}: {body}"


def _fuzz(op: object, mode: GenerationMode, url: str, headers: dict[str, str], label: str) -> None:
    """Hypothesis examples of one operation, each sent to the running service."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
    def run(case: object) -> None:
        _check(case.call(base_url=url, headers=headers, timeout=30), label)  # type: ignore[attr-defined]

    try:
        run()
    except Unsatisfiable:  # nothing in the operation can be made invalid (GET /healthz): nothing to send
        assert mode is GenerationMode.NEGATIVE, label


@pytest.mark.parametrize("who", sorted(HEADERS))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_5xx_no_dropped_connection_every_error_json(
    service: Service, operations: list[object], who: str, mode: GenerationMode
) -> None:
    assert {op.label for op in operations} >= {  # type: ignore[attr-defined]
        "POST /v1/tasks/{name}", "POST /v1/ask", "POST /v1/agent", "POST /v1/feedback", "GET /v1/stats",
    }  # fmt: skip
    for op in operations:
        _fuzz(op, mode, service.url, HEADERS[who], f"{op.label} ({mode.value}, {who})")  # type: ignore[attr-defined]
    assert service.proc.poll() is None, "the service died under fuzzing"
    assert "Traceback" not in service.log()
