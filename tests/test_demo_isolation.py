"""`aiagents demo` leaves nothing live in the user's data: its experiment, traffic, index and datasets live in
its own folder, the user's service serves `production` to everyone afterwards, and the reading commands show
the demo's data only until the user has traffic of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from aiagents.cli.serve_cmd import start_service_process

BIN = Path(sys.executable).parent


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "aiagents"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_demo_runs_in_its_own_folder_and_never_reaches_the_users_service(
    tmp_path: Path, phoenix_server: str
) -> None:
    data = tmp_path / ".aiagents"
    env = {**os.environ, "AIAGENTS_DATA_DIR": str(data), "PHOENIX_COLLECTOR_ENDPOINT": phoenix_server}
    env.pop("AIAGENTS_DATABASE_URL", None)
    demo = _cli(["demo"], tmp_path, env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    folder = (data / "demo").resolve()
    assert str(folder) in demo.stdout.replace("\n", "")

    # Nothing of the demo in the user's folder: no request log, no experiment, no dataset, no index.
    assert sorted(p.name for p in data.iterdir()) == ["demo"]
    assert json.loads((folder / "experiments" / "demo.json").read_text())["status"] == "ended"
    assert (folder / "logs" / "requests.db").exists()

    # While the user has no traffic: the report and the annotation queue show the demo's, and say so.
    report = _cli(["ab", "report", "demo", "--json"], tmp_path, env)
    assert report.returncode == 0, report.stderr
    rep = json.loads(report.stdout)
    assert rep["status"] == "ended" and rep["decision"] in ("ship", "roll back", "keep running")
    assert sum(v["requests"] for v in rep["variants"].values()) >= 100
    assert "showing the demo's data" in report.stderr.replace("\n", " ")

    # The user's own service: no experiment routes anyone; every answer comes from the default variant.
    service_env = {k: v for k, v in env.items() if k not in ("AIAGENTS_API_KEYS", "AIAGENTS_ADMIN_KEYS")}
    proc, url = start_service_process(env=service_env)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            variants = {
                http.post(
                    "/v1/tasks/listing-attributes", json={"input": {"listing": f"bike {i} EUR"}, "user_id": f"u{i}"}
                ).json()["variant"]
                for i in range(6)
            }
    finally:
        proc.terminate()
        proc.wait(60)
    assert variants == {"default"}

    # Now the user has traffic: their log counts their 6 requests, never the demo's.
    stats = _cli(["logs", "stats", "--json"], tmp_path, env)
    assert json.loads(stats.stdout)["requests"] == 6
    assert "demo" not in stats.stderr
