"""Uploads through the real service: multipart/form-data to `POST /v1/tasks/{name}`, files stored once by hash.

Also the media store on its own: deduplication under concurrent writers, retention and `logs prune-media`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from aiagents.media_store import MediaPrunedError, MediaStore, MediaTooLargeError, MediaTypeError
from tests.test_media import drawn_photo
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, Service, auth, start_service

A, ADMIN = auth(CLIENT_KEYS[0]), auth(ADMIN_KEY)
TASK = "/v1/tasks/listing-from-photo"
PER_FILE_LIMIT = 6_000
UPLOAD_LIMIT = 20_000


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = start_service(
        tmp_path_factory.mktemp("svc-multipart") / "data",
        env={
            "AIAGENTS_MEDIA_MAX_BYTES": str(PER_FILE_LIMIT),
            "AIAGENTS_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
            "AIAGENTS_MAX_BODY_BYTES": "8000",
        },
    )
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    return {
        "chair": drawn_photo(folder / "chair.png", "Wooden chair, furniture, solid oak, good condition, 40 EUR"),
        "lamp": drawn_photo(folder / "lamp.png", "Desk lamp, electronics, works fine, 15 EUR"),
    }


def _media_files(service: Service) -> list[Path]:
    return sorted(p for p in (service.data_dir / "media").glob("??/*") if not p.name.startswith("."))


def _logged(client: httpx.Client, request_id: str) -> dict[str, object]:
    r = client.get(f"/v1/requests/{request_id}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["request"]  # type: ignore[no-any-return]


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return str(body["error"]["message"])


def test_upload_lands_in_the_store_by_hash_and_the_log_keeps_a_reference(
    client: httpx.Client, service: Service, photos: dict[str, Path]
) -> None:
    data = photos["chair"].read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    r = client.post(
        TASK,
        headers=A,
        files={"photo": ("chair.png", data, "application/octet-stream")},  # declared type ignored: sniffed
        data={"notes": "collect in Lyon", "user_id": "u-photo", "session_id": "s-photo"},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    # the offline baseline reads the PNG's embedded description: furniture at 40 EUR
    assert answer["output"]["category"] == "furniture" and answer["output"]["price"] == 40
    assert answer["prompt"] == "listing-from-photo"
    stored = service.data_dir / "media" / sha[:2] / sha
    assert stored.read_bytes() == data
    row = _logged(client, answer["request_id"])
    assert row["input"] == {
        "photo": {"media_type": "image/png", "bytes": len(data), "sha256": sha, "filename": "chair.png"},
        "notes": "collect in Lyon",
    }
    assert row["user_id"] == "u-photo" and row["session_id"] == "s-photo"
    # never inline: neither the raw bytes nor their base64 are in the database
    db = (service.data_dir / "logs" / "requests.db").read_bytes()
    wal = service.data_dir / "logs" / "requests.db-wal"
    blob = db + (wal.read_bytes() if wal.exists() else b"")
    assert data[40:120] not in blob and base64.b64encode(data)[40:120] not in blob


def test_same_image_twice_is_stored_once(client: httpx.Client, service: Service, photos: dict[str, Path]) -> None:
    data = photos["lamp"].read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    ids = []
    for filename in ("lamp.png", "same-lamp-again.png"):
        r = client.post(TASK, headers=A, files={"photo": (filename, data, "image/png")})
        assert r.status_code == 200, r.text
        ids.append(r.json()["request_id"])
    copies = [p for p in _media_files(service) if p.read_bytes() == data]
    assert copies == [service.data_dir / "media" / sha[:2] / sha]
    refs = [_logged(client, i)["input"]["photo"]["sha256"] for i in ids]  # type: ignore[index]
    assert refs == [sha, sha]


def test_text_variables_in_one_input_json_field(client: httpx.Client, photos: dict[str, Path]) -> None:
    data = photos["lamp"].read_bytes()
    r = client.post(
        TASK, headers=A, files={"photo": ("lamp.png", data)}, data={"input": json.dumps({"notes": "with bulb"})}
    )
    assert r.status_code == 200, r.text
    row = _logged(client, r.json()["request_id"])
    assert row["input"]["notes"] == "with bulb"  # type: ignore[index]
    both = client.post(
        TASK, headers=A, files={"photo": ("lamp.png", data)}, data={"input": '{"notes": "a"}', "notes": "b"}
    )
    assert "notes: given both in 'input' and as a form part" in _error(both, 422, "validation_error")
    bad = client.post(TASK, headers=A, files={"photo": ("lamp.png", data)}, data={"input": "{not json"})
    assert "form field 'input' is not valid JSON" in _error(bad, 400, "malformed_json")


def test_oversize_file_and_body_get_clear_errors(client: httpx.Client, service: Service, tmp_path: Path) -> None:
    before = _media_files(service)
    big = drawn_photo(tmp_path / "big.png", "x" * 9000)  # the description makes it > the per-file limit
    size = big.stat().st_size
    assert PER_FILE_LIMIT < size < UPLOAD_LIMIT
    r = client.post(TASK, headers=A, files={"photo": ("big.png", big.read_bytes(), "image/png")})
    message = _error(r, 413, "payload_too_large")
    assert message.startswith(f"photo (big.png): {size:,} bytes is over the per-file limit of {PER_FILE_LIMIT:,}")
    assert "AIAGENTS_MEDIA_MAX_BYTES" in message
    huge = drawn_photo(tmp_path / "huge.png", "y" * 30_000)
    r = client.post(TASK, headers=A, files={"photo": ("huge.png", huge.read_bytes(), "image/png")})
    message = _error(r, 413, "payload_too_large")
    assert f"exceeds the upload limit of {UPLOAD_LIMIT}" in message and "AIAGENTS_MAX_UPLOAD_BYTES" in message
    assert _media_files(service) == before  # nothing rejected was stored


def test_wrong_type_is_sniffed_from_the_bytes(client: httpx.Client, service: Service) -> None:
    before = _media_files(service)
    r = client.post(TASK, headers=A, files={"photo": ("photo.png", b"%PDF-1.4 not an image", "image/png")})
    message = _error(r, 415, "unsupported_media_type")
    assert message.startswith("photo (photo.png): the content is application/pdf, not one of image/png")
    r = client.post(TASK, headers=A, files={"photo": ("x.png", b"\x00\x01\x02\x03", "image/png")})
    assert "the content is unknown binary content" in _error(r, 415, "unsupported_media_type")
    # a file for a text variable, a file for no variable, a server path instead of a file
    png = drawn_photo(service.data_dir.parent / "ok.png", "lamp")
    r = client.post(TASK, headers=A, files={"photo": ("ok.png", png.read_bytes()), "notes": ("n.txt", b"hello")})
    assert "file part 'notes': 'notes' is a text variable: send it as a form field" in _error(r, 422, "invalid_input")
    r = client.post(TASK, headers=A, files={"picture": ("ok.png", png.read_bytes())})
    assert "'picture' is not one of its variables" in _error(r, 422, "invalid_input")
    r = client.post(TASK, headers=A, json={"input": {"photo": str(png)}})
    assert "paths on the server are not read" in _error(r, 422, "invalid_input")
    assert _media_files(service) == before


def test_multipart_only_where_files_are_taken(client: httpx.Client, photos: dict[str, Path]) -> None:
    r = client.post("/v1/ask", headers=A, files={"photo": ("lamp.png", photos["lamp"].read_bytes())})
    assert "send the body as application/json (or multipart/form-data to /v1/tasks/NAME)" in _error(
        r, 415, "unsupported_media_type"
    )
    r = client.post(TASK, headers={**A, "content-type": "multipart/form-data; boundary=zz"}, content=b"garbage")
    assert _error(r, 400, "malformed_multipart")
    r = client.post(TASK, files={"photo": ("lamp.png", photos["lamp"].read_bytes())})
    _error(r, 401, "unauthorized")


def test_data_url_in_json_is_stored_like_an_upload(client: httpx.Client, service: Service, tmp_path: Path) -> None:
    data = drawn_photo(tmp_path / "toy.png", "Toy train set, toys, 12 EUR").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    r = client.post(TASK, headers=A, json={"input": {"photo": url}})
    assert r.status_code == 200, r.text
    assert r.json()["output"]["category"] == "toys" and r.json()["output"]["price"] == 12
    assert (service.data_dir / "media" / sha[:2] / sha).read_bytes() == data
    assert _logged(client, r.json()["request_id"])["input"] == {
        "photo": {"media_type": "image/png", "bytes": len(data), "sha256": sha}
    }


def test_openapi_documents_the_multipart_body(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/v1/tasks/{name}"]["post"]["requestBody"]
    assert body["required"] is True
    content = body["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert set(content["application/json"]["schema"]["properties"]) == {"input", "user_id", "session_id", "metadata"}
    multipart = content["multipart/form-data"]["schema"]
    assert {"input", "user_id", "session_id", "metadata"} <= set(multipart["properties"])
    formats = [alt.get("format") for alt in multipart["additionalProperties"]["anyOf"]]
    assert "binary" in formats
    assert "413" in schema["paths"]["/v1/tasks/{name}"]["post"]["responses"]


# --- the media store on its own ---------------------------------------------------------------------------


def test_concurrent_writers_store_one_copy(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
    with ThreadPoolExecutor(8) as pool:
        refs = list(pool.map(lambda _: store.put(data), range(32)))
    sha = hashlib.sha256(data).hexdigest()
    assert {r["sha256"] for r in refs} == {sha} and refs[0] == {"media_type": "image/png", "bytes": 5008, "sha256": sha}
    assert [p.name for p in (tmp_path / "media").rglob("*") if p.is_file()] == [sha]  # no temporary leftovers
    assert store.read(sha) == data


def test_store_upload_errors_name_file_size_and_limit(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    with pytest.raises(MediaTooLargeError, match=r"photo \(a\.png\): 2,000 bytes is over the per-file limit of 1,000"):
        store.store_upload(
            b"\x89PNG\r\n\x1a\n" + bytes(1992), kind="image", name="photo", filename="a.png", max_bytes=1000
        )
    with pytest.raises(MediaTypeError, match=r"doc: the content is text/plain, not one of image/png"):
        store.store_upload(b"hello", kind="image", name="doc")
    stored = store.store_upload(b"%PDF-1.4 x", kind="file", name="doc", filename="../../etc/report.pdf")
    assert stored.ref["media_type"] == "application/pdf" and stored.ref["filename"] == "report.pdf"
    assert stored.part.media_type == "application/pdf" and stored.part.identifier == "report"
    assert store.files() == [store.path(stored.ref["sha256"])]


def test_prune_deletes_files_not_seen_within_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path / "media")
    old = store.put(b"old content")["sha256"]
    fresh = store.put(b"fresh content")["sha256"]
    seen_again = store.put(b"seen again")["sha256"]
    day = 86_400
    ten_days_ago = time.time() - 10 * day
    for sha in (old, seen_again):
        os.utime(store.path(sha), (ten_days_ago, ten_days_ago))
    store.put(b"seen again")  # re-uploaded: retention counts from now
    monkeypatch.delenv("AIAGENTS_MEDIA_RETENTION_DAYS", raising=False)
    assert store.prune().to_json() == {"removed": 0, "bytes_freed": 0, "kept": 3, "cutoff": None}
    monkeypatch.setenv("AIAGENTS_MEDIA_RETENTION_DAYS", "7")
    report = store.prune()
    assert (report.removed, report.bytes_freed, report.kept) == (1, len(b"old content"), 2)
    assert not store.exists(old) and store.exists(fresh) and store.exists(seen_again)
    with pytest.raises(MediaPrunedError, match=f"no stored file for sha256 {old}"):
        store.read(old)


def test_prune_media_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiagents.cli import app

    store = MediaStore()
    a = store.put(b"a" * 100)["sha256"]
    store.put(b"b" * 50)
    past = time.time() - 3 * 86_400
    os.utime(store.path(a), (past, past))
    runner = CliRunner()
    kept = runner.invoke(app, ["logs", "prune-media", "--json"])
    assert kept.exit_code == 0, kept.output
    assert json.loads(kept.stdout)["removed"] == 0
    result = runner.invoke(app, ["logs", "prune-media", "--older-than-days", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["removed"], data["bytes_freed"], data["kept"]) == (1, 100, 1)
    assert data["media_dir"] == str(store.root)


def test_upload_request_is_one_chain_span_with_its_llm_span_and_no_image_bytes_in_the_chain(
    client: httpx.Client, service: Service, photos: dict[str, Path]
) -> None:
    """Runs last: it stops the module's service so the batched spans reach the spool (Phoenix is down)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    data = photos["chair"].read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    r = client.post(TASK, headers=A, files={"photo": ("chair.png", data, "image/png")}, data={"user_id": "u-span"})
    assert r.status_code == 200, r.text
    trace_id = r.json()["trace_id"]
    service.stop()  # SIGTERM: graceful, the span processor flushes into the spool
    spans = [
        span
        for path in sorted((service.data_dir / "spool").glob("*.otlp"))
        for rs in ExportTraceServiceRequest.FromString(path.read_bytes()).resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
        if span.trace_id.hex() == trace_id
    ]
    attrs = [{kv.key: kv.value.string_value or kv.value.int_value for kv in s.attributes} for s in spans]
    kinds = sorted(a["openinference.span.kind"] for a in attrs)
    assert kinds == ["CHAIN", "LLM"]  # the request span is the task's chain: no second CHAIN, no HTTP spans
    (root,) = [s for s in spans if not s.parent_span_id]
    (llm,) = [s for s in spans if s.parent_span_id]
    assert llm.parent_span_id == root.span_id and root.name == "task listing-from-photo"
    chain = attrs[spans.index(root)]
    assert chain["prompt.id"] == "listing-from-photo" and chain["user.id"] == "u-span"
    assert json.loads(chain["input.value"])["photo"]["sha256"] == sha  # a reference, not the bytes
    assert base64.b64encode(data)[40:120].decode() not in chain["input.value"]
    assert json.loads(chain["metadata"])["request_id"] == r.json()["request_id"]
    assert json.loads(chain["output.value"])["category"] == "furniture"
