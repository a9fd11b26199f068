"""An uploaded photo that a user corrected becomes an eval case that sends the same image again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
from aiagents.evals.datasets import Dataset, MediaFile
from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.tasks import Task
from tests.test_media import drawn_photo
from tests.test_service_support import CLIENT_KEYS, auth, start_service

runner = CliRunner()
A = auth(CLIENT_KEYS[0])


def _export(to: str) -> dict:
    result = runner.invoke(app, ["annotate", "export", "--to", to, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_corrected_upload_is_exported_with_its_image(data_dir: Path, tmp_path: Path) -> None:
    data = drawn_photo(tmp_path / "bike.png", "Road bike, 54 cm aluminium frame").read_bytes()
    svc = start_service(data_dir)  # the same data folder as the CLI below
    try:
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            answer = client.post(
                "/v1/tasks/listing-from-photo", headers=A, files={"photo": ("bike.png", data, "image/png")}
            )
            assert answer.status_code == 200, answer.text
            request_id = answer.json()["request_id"]
            corrected = {**answer.json()["output"], "category": "bikes", "price": 350.0}
            feedback = {"request_id": request_id, "corrected_output": corrected}
            assert client.post("/v1/feedback", headers=A, json=feedback).status_code == 202
    finally:
        svc.stop()

    out = _export("photos")
    assert (out["added"], out["media_pruned"]) == (1, [])
    (case,) = Dataset.load(out["dataset"]).cases
    photo = case.inputs["photo"]
    assert isinstance(photo, MediaFile) and photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.path.parent == Path(out["dataset"]).parent / "media" and case.media == ["photo"]
    assert case.expected_output["price"] == 350.0 and case.provenance.request_id == request_id
    assert Task("listing-from-photo", model="offline").run_sync(case.inputs).output.title  # the image goes again
    assert _export("photos")["added"] == 0  # the same image and inputs: not added twice

    for stored in (data_dir / "media").rglob("*"):  # retention pruned the upload
        if stored.is_file():
            stored.unlink()
    out = _export("later")
    assert (out["added"], out["media_pruned"]) == (0, [request_id])
