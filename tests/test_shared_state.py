"""One deployment, one truth: with a shared database (`AIAGENTS_DATABASE_URL`), prompt labels (with the texts of
their versions), experiments and agent sessions live there, so two machines (here: two data folders and two
prompt folders) serve the same version, route the same variants and continue the same conversation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from aiagents.agents import SessionStore
from aiagents.prompts import PromptRegistry, shipped_prompts_dir
from aiagents.rollout import ExperimentRouter, ExperimentStore, Variant
from aiagents.settings import reset_settings
from tests.test_service_support import CLIENT_KEYS, auth, start_service


class Machine:
    """A data folder and a prompts folder of its own; the database is the shared one."""

    def __init__(self, root: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.data, self.prompts, self.url, self.monkeypatch = root / "data", root / "prompts", url, monkeypatch
        self.prompts.mkdir(parents=True)
        (self.prompts / "listing-attributes.md").write_text(
            (shipped_prompts_dir() / "listing-attributes.md").read_text()
        )

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        self.monkeypatch.setenv("AIAGENTS_DATA_DIR", str(self.data))
        self.monkeypatch.setenv("AIAGENTS_PROMPTS_DIR", str(self.prompts))
        self.monkeypatch.setenv("AIAGENTS_DATABASE_URL", self.url)
        reset_settings()
        yield
        reset_settings()


def test_labels_experiments_and_sessions_are_shared(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = Machine(tmp_path / "a", store_url, monkeypatch), Machine(tmp_path / "b", store_url, monkeypatch)
    with a.active():
        path = a.prompts / "listing-attributes.md"
        path.write_text(path.read_text() + "\nOnly on machine A.\n")  # a version machine B has never seen
        v_a = PromptRegistry().current("listing-attributes").version
        PromptRegistry().promote("listing-attributes", v_a, model="offline")
        ExperimentStore().create(
            "shared-exp",
            "tasks/listing-attributes",
            [Variant(name="control", share=50), Variant(name="cand", share=50)],
        )
        SessionStore().append(
            "conv-1",
            [ModelRequest(parts=[UserPromptPart("hello")]), ModelResponse(parts=[TextPart("hi, how can I help?")])],
        )
    assert not (a.data / "prompts" / "labels.json").exists()  # the shared database holds them, not a file
    with b.active():
        registry = PromptRegistry()
        served, model, source = registry.served("listing-attributes")
        assert (served.version, model, source) == (v_a, "offline", "production")
        assert "Only on machine A." in served.source  # its text came from the shared database
        assert registry.history("listing-attributes")[-1]["version"] == v_a
        assert registry.current("listing-attributes").version != v_a  # B's own file is another version
        assert ExperimentRouter().route("tasks/listing-attributes", "u1") is not None
        history = SessionStore().load("conv-1")
        assert [type(m).__name__ for m in history] == ["ModelRequest", "ModelResponse"]
        SessionStore().append("conv-1", [ModelRequest(parts=[UserPromptPart("and now?")])])
        ExperimentStore().end("shared-exp", reason="done on B")
    with a.active():
        assert len(SessionStore().load("conv-1")) == 3  # B's turn, seen on A
        assert ExperimentRouter().route("tasks/listing-attributes", "u1") is None  # ended on B


def test_a_promotion_on_one_machine_reaches_a_service_on_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'requests.db'}"
    a, b = Machine(tmp_path / "a", url, monkeypatch), Machine(tmp_path / "b", url, monkeypatch)
    with b.active():
        v_b = PromptRegistry().current("listing-attributes").version
    env = {"AIAGENTS_DATABASE_URL": url, "AIAGENTS_PROMPTS_DIR": str(b.prompts), "AIAGENTS_MODEL": "offline"}
    svc = start_service(b.data, env=env)
    try:
        with a.active():
            path = a.prompts / "listing-attributes.md"
            path.write_text(path.read_text() + "\nPromoted from machine A.\n")
            v_a = PromptRegistry().current("listing-attributes").version
            assert v_a != v_b
            PromptRegistry().promote("listing-attributes", v_a)

        def served() -> str:
            r = httpx.post(
                f"{svc.url}/v1/tasks/listing-attributes", headers=auth(CLIENT_KEYS[0]),
                json={"input": {"listing": "Lamp, 5 EUR"}}, timeout=30,
            )  # fmt: skip
            assert r.status_code == 200, r.text
            return r.json()["prompt_version"]

        import time

        deadline = time.monotonic() + 10
        while served() != v_a and time.monotonic() < deadline:
            time.sleep(0.2)
        assert served() == v_a  # machine B's service serves what machine A promoted
    finally:
        svc.stop()
