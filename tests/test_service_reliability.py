"""The service under faults, over real HTTP with two worker processes: rows a store refuses, JSON nested past the
limit on every endpoint, and a worker killed with SIGKILL in the middle of a load. Every request answered 2xx
ends up in the store by id, every feedback answered 2xx by count, and SIGTERM stops the service in time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from aiagents.logstore import LogStore, open_store
from tests.support.logstores import postgres_schema_url
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, Service, auth, start_service

A = auth(CLIENT_KEYS[0])
TASK = "/v1/tasks/listing-attributes"
JSON = {**A, "content-type": "application/json"}


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data = tmp_path_factory.mktemp("svc") / "data"
    with contextlib.ExitStack() as stack:
        url = f"sqlite:///{data / 'logs' / 'requests.db'}"
        if request.param == "postgres":
            url = stack.enter_context(postgres_schema_url())
        svc = start_service(data, workers=2, env={"AIAGENTS_DATABASE_URL": url})
        yield svc
        svc.stop()


def _store(service: Service) -> LogStore:
    return open_store(service.env["AIAGENTS_DATABASE_URL"])


def _pids(service: Service) -> set[int]:
    pids: set[int] = set()
    for _ in range(100):
        with httpx.Client(base_url=service.url, timeout=10) as fresh:  # a new connection each time
            pids.add(fresh.get("/healthz").json()["pid"])
        if len(pids) >= 2:
            break
    return pids


def test_json_nested_past_the_limit_is_a_400_on_every_endpoint(service: Service) -> None:
    with httpx.Client(base_url=service.url, timeout=60, headers=A) as c:
        rid = c.post(TASK, json={"input": {"listing": "Lamp, 5 EUR"}}).json()["request_id"]
        shapes = {
            TASK: '{"input": {"listing": "Lamp"}, "metadata": {"a": %s}}',
            "/v1/feedback": '{"request_id": "' + rid + '", "thumbs": "up", "metadata": {"a": %s}}',
            "/v1/feedback ": '{"request_id": "' + rid + '", "corrected_output": {"a": %s}}',
            "/v1/ask": '{"question": "refund?", "index": "none", "metadata": {"a": %s}}',
            "/v1/agent": '{"message": "refund?", "metadata": {"a": %s}}',
        }
        for path, shape in shapes.items():
            for depth in (63, 500, 1400, 20_000):
                r = c.post(path.strip(), content=shape.replace("%s", nested(depth)), headers=JSON)
                assert r.status_code == 400, (path, depth, r.status_code, r.text[:200])
                error = r.json()["error"]
                assert error["code"] == "too_deep" and "the limit is 64 (AIAGENTS_MAX_JSON_DEPTH)" in error["message"]
        at_the_limit = '{"input": {"listing": "Lamp, 5 EUR"}, "metadata": {"a": ' + nested(61) + "}}"  # 64 in all
        assert c.post(TASK, content=at_the_limit, headers=JSON).status_code == 200
        parts = {"input": (None, json.dumps({"listing": "Lamp"})), "metadata": (None, '{"a": ' + nested(100) + "}")}
        r = c.post(TASK, files=parts)  # multipart: the JSON form fields are held to the same limit
        assert r.status_code == 400 and "form field 'metadata' nests 101 levels" in r.json()["error"]["message"]


def test_rows_the_store_refuses_do_not_stop_the_log(service: Service) -> None:
    with httpx.Client(base_url=service.url, timeout=60, headers=A) as c:
        before = c.get("/v1/stats", headers=auth(ADMIN_KEY)).json()
        poisoned = c.post(TASK, json={"input": {"listing": "Road bike 350 EUR"}, "user_id": "u\u0000x"})
        assert poisoned.status_code == 200
        rid = poisoned.json()["request_id"]
        body = '{"request_id": "' + rid + '", "thumbs": "up", "metadata": {"n": "bad \\udc80"}}'
        assert c.post("/v1/feedback", content=body, headers={"content-type": "application/json"}).status_code == 202
        ids = [c.post(TASK, json={"input": {"listing": f"Chair {i}, 20 EUR"}}).json()["request_id"] for i in range(25)]
        started = time.monotonic()
        after = c.get("/v1/stats", headers=auth(ADMIN_KEY)).json()  # flushes this worker's writer
        assert time.monotonic() - started < 3
    store = _store(service)
    deadline = time.monotonic() + 20  # the other worker writes its rows within its batch delay
    while time.monotonic() < deadline and not all(store.get_request(i) for i in [rid, *ids]):
        time.sleep(0.1)
    assert all(store.get_request(i) for i in [rid, *ids])
    assert store.get_request(rid)["user_id"] == "u\\u0000x"  # type: ignore[index]
    assert any(f["metadata"] == {"n": "bad \udc80"} for f in store.list_feedback(request_id=rid))
    assert after["requests"] >= before["requests"] + 1


def test_answered_requests_survive_a_worker_killed_mid_load(service: Service) -> None:
    pids = _pids(service)
    assert len(pids) == 2, f"could not reach two workers (saw {pids})"
    victim = max(pids)
    acked: list[str] = []
    feedback = 0
    killed = False

    async def load() -> None:
        nonlocal feedback, killed
        sem = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=service.url, timeout=30, headers=A) as c:

            async def one(i: int) -> None:
                nonlocal feedback, killed
                async with sem:
                    try:
                        r = await c.post(TASK, json={"input": {"listing": f"Desk {i}, 40 EUR"}, "user_id": f"k{i}"})
                        if r.status_code >= 300:
                            return
                        acked.append(r.json()["request_id"])
                        if not killed and len(acked) >= 100:
                            killed = True
                            os.kill(victim, signal.SIGKILL)
                        f = await c.post("/v1/feedback", json={"request_id": acked[-1], "thumbs": "up"})
                        feedback += f.status_code < 300
                    except httpx.HTTPError:
                        pass  # in flight on the killed worker: never answered, so never promised

            await asyncio.gather(*(one(i) for i in range(400)))

    asyncio.run(load())
    assert killed and len(acked) >= 300, f"{len(acked)} answered, killed: {killed}"
    started = time.monotonic()
    assert service.stop(timeout=60) == 0
    assert time.monotonic() - started < 30, "SIGTERM took 30 s or more"
    store = _store(service)
    missing = [r for r in acked if store.get_request(r) is None]
    assert not missing, f"{len(missing)} of {len(acked)} answered requests are not in the store"
    stored_feedback = sum(len(store.list_feedback(request_id=r)) for r in acked)
    assert stored_feedback >= feedback
    assert not list((service.data_dir / "logs" / "journal").glob("*.jsonl"))  # all replayed, nothing left
