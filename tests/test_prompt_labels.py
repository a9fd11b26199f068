"""Labels decide what is served: the serving label (production) over the working file for `Task(name)` and the
service; the file for evals, tests and `task run`; promote and rollback with their history; a label change seen
by two running workers within seconds; a broken prompt file set aside; errors as JSON with `--json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aiagents.errors import PromptFileError, UserError
from aiagents.prompts import PromptRegistry, shipped_prompts_dir
from aiagents.settings import reset_settings
from aiagents.tasks import Task
from tests.test_service_support import CLIENT_KEYS, auth, start_service

LISTING = {"listing": "Road bike, like new, 350 EUR"}


@pytest.fixture
def prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's prompts folder holding a copy of listing-attributes (so its file can be edited)."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "listing-attributes.md").write_text((shipped_prompts_dir() / "listing-attributes.md").read_text())
    monkeypatch.setenv("AIAGENTS_PROMPTS_DIR", str(folder))
    reset_settings()
    return folder


def _edit(prompts: Path, line: str) -> str:
    path = prompts / "listing-attributes.md"
    path.write_text(path.read_text() + f"\n{line}\n")
    return PromptRegistry().current("listing-attributes").version


def test_the_serving_label_is_what_task_serves_and_the_file_is_what_tests_run(prompts: Path) -> None:
    registry = PromptRegistry()
    v1 = registry.current("listing-attributes").version
    assert registry.served("listing-attributes")[2] == "file"  # no label yet: the file serves
    registry.promote("listing-attributes", v1)
    v2 = _edit(prompts, "Keep the title short.")
    assert v1 != v2
    assert Task("listing-attributes").prompt.version == v1  # production code serves the label
    assert Task("listing-attributes").served_from == "production"
    assert Task("listing-attributes", working_file=True).prompt.version == v2  # tests and evals run the edit
    result = Task("listing-attributes").run_sync(LISTING, model="offline")
    assert result.prompt_version == v1  # every result records the version that answered


def test_promote_rollback_and_their_history(prompts: Path) -> None:
    registry = PromptRegistry()
    v1 = registry.current("listing-attributes").version
    registry.promote("listing-attributes", v1)
    v2 = _edit(prompts, "Second version.")
    entry = registry.promote("listing-attributes", v2[:5], model="offline")  # a prefix is enough
    assert (entry["version"], entry["previous"], entry["model"], entry["action"]) == (v2, v1, "offline", "promote")
    assert entry["by"] and entry["at"]
    assert registry.label_model("listing-attributes", "production") == "offline"
    assert Task("listing-attributes").model == "offline"  # the model stored with the label serves with it
    back = registry.rollback("listing-attributes")
    assert (back["version"], back["previous"], back["action"]) == (v1, v2, "rollback")
    assert registry.labels("listing-attributes")["production"] == v1
    assert registry.label_model("listing-attributes", "production") is None
    assert [h["action"] for h in registry.history("listing-attributes")] == ["promote", "promote", "rollback"]
    with pytest.raises(UserError, match="no earlier version"):
        registry.rollback("listing-attributes")  # v1 was the first: nothing before it


def test_a_broken_prompt_file_is_set_aside_and_named(prompts: Path) -> None:
    (prompts / "broken.md").write_text("---\nname: broken\nvariables: [unclosed\n---\nHi\n")
    registry = PromptRegistry()
    assert "listing-attributes" in registry.names() and "broken" not in registry.names()
    ((path, error),) = registry.broken.items()
    assert path.name == "broken.md" and "broken.md" in error
    with pytest.raises(PromptFileError, match="broken.md"):
        registry.current("broken")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from aiagents.cli import main; main()", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_the_cli_promotes_rolls_back_and_answers_errors_in_json(prompts: Path, data_dir: Path) -> None:
    env = {**os.environ, "AIAGENTS_PROMPTS_DIR": str(prompts), "AIAGENTS_DATA_DIR": str(data_dir)}
    v1 = PromptRegistry().current("listing-attributes").version
    assert _cli("prompts", "promote", "listing-attributes", v1, "--json", env=env).returncode == 0
    v2 = _edit(prompts, "Edited.")
    listed = json.loads(_cli("prompts", "list", "--json", env=env).stdout)
    row = next(p for p in listed["prompts"] if p["name"] == "listing-attributes")
    assert row["version"] == v2 and row["served"] == {"version": v1, "from": "production"}
    promoted = json.loads(_cli("prompts", "promote", "listing-attributes", v2, "--json", env=env).stdout)
    assert (promoted["version"], promoted["previous"]) == (v2, v1)
    versions = json.loads(_cli("prompts", "versions", "listing-attributes", "--json", env=env).stdout)
    assert {"version", "origin", "labels"} <= set(versions["versions"][0])
    assert next(v for v in versions["versions"] if v["origin"] == "file")["labels"] == ["production"]
    assert versions["served"] == {"version": v2, "from": "production"} and len(versions["history"]) == 2
    back = json.loads(_cli("prompts", "rollback", "listing-attributes", "--json", env=env).stdout)
    assert back["version"] == v1
    ran = json.loads(_cli("task", "run", "listing-attributes", "Lamp, 5 EUR", "--json", env=env).stdout)
    assert ran["prompt_version"] == v2  # `task run` runs the working file
    failed = _cli("prompts", "promote", "listing-attributes", "deadbeef", "--json", env=env)
    assert failed.returncode == 1
    error = json.loads(failed.stdout)["error"]
    assert error["code"] == "prompt_not_found" and "deadbeef" in error["message"]


def test_a_label_change_reaches_two_running_workers_without_restart(prompts: Path, data_dir: Path) -> None:
    registry = PromptRegistry()  # the test's data folder: the service below reads the labels written here
    v1 = registry.current("listing-attributes").version
    registry.promote("listing-attributes", v1)
    v2 = _edit(prompts, "A newer version, not yet served.")
    env = {"AIAGENTS_PROMPTS_DIR": str(prompts), "AIAGENTS_MODEL": "offline"}
    svc = start_service(data_dir, workers=2, env=env)

    def served_versions(n: int = 8) -> set[str]:
        versions = set()
        for _ in range(n):  # a new connection each time: both workers answer
            r = httpx.post(
                f"{svc.url}/v1/tasks/listing-attributes", headers=auth(CLIENT_KEYS[0]), json={"input": LISTING},
                timeout=30,
            )  # fmt: skip
            assert r.status_code == 200, r.text
            versions.add(r.json()["prompt_version"])
        return versions

    try:
        assert served_versions() == {v1}
        registry.promote("listing-attributes", v2)
        started = time.monotonic()
        # wait until both workers serve it: 8 requests on fresh connections (4 could all reach one worker)
        while (seen := served_versions()) != {v2} and time.monotonic() - started < 10:
            time.sleep(0.2)
        assert seen == {v2}
        assert time.monotonic() - started < 5, "a promotion took 5 s or more to reach the workers"
    finally:
        svc.stop()
