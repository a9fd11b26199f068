"""SessionStore: SQLite is the truth, shared by stores in several threads or processes."""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from aiagents.agents import SessionStore


def turn(i: int) -> list:  # type: ignore[type-arg]
    return [ModelRequest(parts=[UserPromptPart(f"q{i}")]), ModelResponse(parts=[TextPart(f"a{i}")])]


def texts(messages: list) -> list[str]:  # type: ignore[type-arg]
    return [p.content for m in messages for p in m.parts]


def test_two_stores_on_one_file_see_each_others_turns(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    a, b = SessionStore(path), SessionStore(path)
    assert a.load("s") == []  # before the first write (no file yet)
    a.append("s", turn(1))
    assert texts(b.load("s")) == ["q1", "a1"]  # b had nothing cached: it reads the file
    b.append("s", turn(2))
    assert texts(a.load("s")) == ["q1", "a1", "q2", "a2"]


def test_concurrent_appends_keep_every_message(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    SessionStore(path).append("s", turn(0))
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            SessionStore(path).append("s", turn(i), run_id=f"r{i}", user_id="u")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = texts(SessionStore(path).load("s"))
    assert len(got) == 18
    # each run's two messages stay together, in order
    for k in range(0, 18, 2):
        assert got[k].startswith("q") and got[k + 1] == "a" + got[k][1:]
    assert SessionStore(path).sessions()[0].messages == 18


def test_memory_store_and_clear(tmp_path: Path) -> None:
    memory = SessionStore(persist=False)
    memory.append("m", turn(1))
    assert texts(memory.load("m")) == ["q1", "a1"]
    assert [(s.session_id, s.messages) for s in memory.sessions()] == [("m", 2)]
    memory.clear("m")
    assert memory.load("m") == []
    disk = SessionStore(tmp_path / "x.sqlite")
    disk.append("d", turn(1))
    disk.clear("d")
    assert disk.load("d") == [] and disk.sessions() == []
