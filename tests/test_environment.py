"""A second environment built from scratch on the public API only (no import from `tools/retail`): a small
library with its own tables and task file name; gold replay, multi-turn runs with a scripted and a model
user, pass^k, the CLI on `module:attribute`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiagents.tools.environment import (
    Environment,
    EnvironmentData,
    ModelUser,
    ScriptedUser,
    load_environment,
    pass_hat_k,
    replay_gold,
    run_task,
    run_tasks,
    scripted_tool_model,
)
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from typer.testing import CliRunner

from aiagents.cli import app

LIBRARY_MODULE = '''
from aiagents.tools import ToolError, make_toolset
from aiagents.tools.environment import Database, Environment


def library_toolset(db: Database):
    def find_member(email: str) -> str:
        """Find a member's id by email.

        Args:
            email: The member's email address.
        """
        for member_id, member in db.members.items():
            if member["email"] == email:
                return member_id
        raise ToolError(f"no member with email {email}")

    def get_book(book_id: str) -> dict:
        """A book's title, fee per day and who holds it.

        Args:
            book_id: The book's id, such as 'b1'.
        """
        if book_id not in db.books:
            raise ToolError(f"no book {book_id}")
        return db.books[book_id]

    def borrow_book(member_id: str, book_id: str) -> str:
        """Lend a book to a member.

        Args:
            member_id: The member's id.
            book_id: The book's id.
        """
        if book_id not in db.books or member_id not in db.members:
            raise ToolError("unknown member or book")
        if db.books[book_id]["holder"] is not None:
            return f"Error: {book_id} is already lent"
        db.books.edit(book_id)["holder"] = member_id
        db.members.edit(member_id)["loans"].append(book_id)
        return f"{book_id} lent to {member_id}"

    return make_toolset([find_member, get_book, borrow_book], id="library", sequential=True)


LIBRARY = Environment(
    name="library",
    toolset=library_toolset,
    policy="You are a librarian. Identify the member by email before lending a book.",
    tables=("members", "books"),
    task_files="scenarios*.jsonl",
    description="a small lending library",
)
'''

MEMBERS = {"m1": {"email": "ann@example.com", "loans": []}, "m2": {"email": "bob@example.com", "loans": ["b2"]}}
BOOKS = {
    "b1": {"title": "Dune", "fee_per_day": 0.5, "holder": None},
    "b2": {"title": "Emma", "fee_per_day": 0.25, "holder": "m2"},
    "b3": {"title": "Ulysses", "fee_per_day": 0.75, "holder": None},
}
TASKS = [
    {"task_id": "lend-dune", "instruction": "You are ann@example.com and want to borrow Dune (b1).",
     "actions": [{"name": "find_member", "kwargs": {"email": "ann@example.com"}},
                 {"name": "borrow_book", "kwargs": {"member_id": "m1", "book_id": "b1"}}],
     "outputs": ["m1"], "shelf": "A"},
    {"task_id": "two-fees", "instruction": "You are bob. What do b1 and b3 cost per day together?",
     "actions": [{"name": "get_book", "kwargs": {"book_id": "b1"}}, {"name": "get_book", "kwargs": {"book_id": "b3"}}],
     "outputs": ["1.25"]},
    {"instruction": "You are bob@example.com and want Ulysses (b3).",
     "actions": [{"name": "borrow_book", "kwargs": {"member_id": "m2", "book_id": "b3"}}], "outputs": []},
]  # fmt: skip


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Environment, Path]:
    """The library as a user writes it: `library_env.py` in their folder, tables under db/, a task file."""
    (tmp_path / "library_env.py").write_text(LIBRARY_MODULE)
    (tmp_path / "data" / "db").mkdir(parents=True)
    (tmp_path / "data" / "db" / "members.json").write_text(json.dumps(MEMBERS))
    (tmp_path / "data" / "db" / "books.json").write_text(json.dumps(BOOKS))
    (tmp_path / "data" / "scenarios_main.jsonl").write_text("\n".join(json.dumps(t) for t in TASKS) + "\n")
    monkeypatch.chdir(tmp_path)
    return load_environment("library_env:LIBRARY"), tmp_path / "data"


def test_the_environment_layer_does_not_load_retail() -> None:
    code = "import sys, aiagents.tools.environment; print('aiagents.tools.retail' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_tables_of_any_names_copy_on_write_hash_and_a_readable_diff() -> None:
    data = EnvironmentData.from_tables({"members": MEMBERS, "books": BOOKS})
    a, b = data.fresh(), data.fresh()
    assert a.state_hash() == b.state_hash() == data.state_hash()
    a.books.edit("b1")["holder"] = "m1"
    a["members"].insert("m3", {"email": "cy@example.com", "loans": []})
    assert BOOKS["b1"]["holder"] is None and data.tables["books"]["b1"]["holder"] is None  # the base is untouched
    assert a.state_hash() != b.state_hash()
    assert a.differences(b) == ["members/m3", "books/b1"] or sorted(a.differences(b)) == ["books/b1", "members/m3"]
    diff = a.diff(b)
    assert 'books/b1.holder: "m1" (expected null)' in diff
    assert any(line.startswith("members/m3: {") and line.endswith("(expected <missing>)") for line in diff)
    with pytest.raises(KeyError, match="no table 'loans'"):
        a["loans"]


async def test_gold_replay_reports_outputs_only_a_model_can_say(library: tuple[Environment, Path]) -> None:
    env, data = library
    report = await replay_gold(env, data)
    assert (report.tasks, report.reward_1, report.failures) == (3, 3, [])
    # "1.25" is b1's fee plus b3's: no tool result holds it, so a replay without a model cannot say it.
    assert report.outputs_need_model == {"two-fees": ["1.25"]}
    assert report.files == {"scenarios_main.jsonl": {"tasks": 3, "reward_1": 3, "outputs_need_model": 1}}
    tasks = env.tasks(data)
    assert tasks[2].task_id == "scenarios_main-3" and tasks[0].metadata == {"shelf": "A"}
    agent_mode = await replay_gold(env, data, mode="agent")
    assert (agent_mode.reward_1, agent_mode.failures) == (3, [])


async def test_a_wrong_gold_action_fails_with_the_differing_fields(library: tuple[Environment, Path]) -> None:
    env, data = library
    bad = data / "scenarios_bad.jsonl"
    bad.write_text(json.dumps({**TASKS[0], "task_id": "bad", "actions": [TASKS[0]["actions"][0]]}) + "\n")
    loaded = env.load(data)
    task = env.tasks(data, "bad")[0]
    # The agent lends the wrong book: the score names the fields that differ from the gold state.
    model = scripted_tool_model([[("borrow_book", {"member_id": "m1", "book_id": "b3"})]], final_text="m1")
    run = await run_task(env, task, data=loaded, model=model)
    assert run.reward == 0.0 and not run.score.state_match
    assert 'books/b3.holder: "m1" (expected null)' in run.score.state_diff


def _librarian(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """An offline librarian: asks for the email, then finds the member and lends the book they named."""
    users = [
        p.content for m in messages if isinstance(m, ModelRequest) for p in m.parts if isinstance(p, UserPromptPart)
    ]
    last = messages[-1]
    if isinstance(last, ModelRequest) and any(getattr(p, "part_kind", "") == "tool-return" for p in last.parts):
        returned = [p for p in last.parts if getattr(p, "part_kind", "") == "tool-return"][0]
        if returned.tool_name == "find_member":
            return ModelResponse(parts=[ToolCallPart("borrow_book", {"member_id": returned.content, "book_id": "b1"})])
        return ModelResponse(parts=[TextPart(f"Done: {returned.content}.")])
    said = str(users[-1])
    if "@" not in said:
        return ModelResponse(parts=[TextPart("Sure. What is your email?")])
    email = said.split()[-1].rstrip(".")
    return ModelResponse(parts=[ToolCallPart("find_member", {"email": email})])


async def test_a_multi_turn_run_with_the_scripted_user(library: tuple[Environment, Path], spans) -> None:  # type: ignore[no-untyped-def]
    env, data = library
    task = env.tasks(data)[0]
    user = ScriptedUser(["My email is ann@example.com."], opening="Hello, I would like to borrow Dune.")
    run = await run_task(env, task, data=env.load(data), model=FunctionModel(_librarian), user=user)
    assert run.user_messages == ["Hello, I would like to borrow Dune.", "My email is ann@example.com."]
    assert [c.name for c in run.tool_calls] == ["find_member", "borrow_book"]
    assert run.reward == 1.0 and run.score.state_match and run.error is None
    assert run.policy_version.startswith("library-policy@") and run.policy_version.endswith("+multi-turn")
    (span,) = [s for s in spans.get_finished_spans() if s.name == "library.task"]
    metadata = json.loads(span.attributes["metadata"])
    assert metadata["user_turns"] == 2 and metadata["environment"] == "library" and metadata["reward"] == 1.0
    # A user who says nothing after opening: the librarian only asks for the email, nothing is lent.
    quiet = ScriptedUser([], opening="Hello, I would like to borrow Dune.")
    single = await run_task(env, task, data=env.load(data), model=FunctionModel(_librarian), user=quiet)
    assert single.reward == 0.0 and single.user_messages == ["Hello, I would like to borrow Dune."]


async def test_the_model_user_sees_the_conversation_from_its_side(library: tuple[Environment, Path]) -> None:
    env, data = library
    seen: list[list[ModelMessage]] = []

    def customer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(messages)
        turn = sum(isinstance(m, ModelResponse) for m in messages)
        assert "ann@example.com" in (info.instructions or "")  # its brief is the task's instruction
        return ModelResponse(
            parts=[TextPart(["I want to borrow Dune.", "ann@example.com", "Thanks! ###STOP###"][turn])]
        )

    task = env.tasks(data)[0]
    run = await run_task(
        env, task, data=env.load(data), model=FunctionModel(_librarian), user=ModelUser(FunctionModel(customer))
    )
    assert run.reward == 1.0 and run.user_messages == ["I want to borrow Dune.", "ann@example.com"]
    last = seen[-1]
    prompts = [p.content for m in last if isinstance(m, ModelRequest) for p in m.parts if isinstance(p, UserPromptPart)]
    answers = [p.content for m in last if isinstance(m, ModelResponse) for p in m.parts if isinstance(p, TextPart)]
    assert prompts[0] == "Hi! How can I help you today?" and prompts[1] == "Sure. What is your email?"
    assert prompts[-1].startswith("Done: b1 lent to m1") and answers == ["I want to borrow Dune.", "ann@example.com"]


async def test_k_trials_and_pass_hat_k(library: tuple[Environment, Path]) -> None:
    env, data = library
    tasks = env.tasks(data)[:1]
    calls = iter(range(100))

    def flaky(task: Any) -> FunctionModel:  # trials 0 and 2 follow the gold actions, trial 1 does nothing
        good = next(calls) % 2 == 0
        rounds = [[(a.name, a.kwargs)] for a in task.actions] if good else []
        return scripted_tool_model(rounds, final_text="m1")

    runs = await run_tasks(env, tasks, data=env.load(data), model_for=flaky, k=3)
    assert [(r.task_id, r.trial, r.reward) for r in runs] == [
        ("lend-dune", 0, 1.0),
        ("lend-dune", 1, 0.0),
        ("lend-dune", 2, 1.0),
    ]
    outcomes = {"lend-dune": [r.reward == 1.0 for r in runs]}
    assert pass_hat_k(outcomes, 1) == pytest.approx(2 / 3)
    assert pass_hat_k(outcomes, 2) == pytest.approx(1 / 3)
    assert pass_hat_k(outcomes, 3) == 0.0
    assert pass_hat_k({"a": [True, True, False], "b": [True, True, True]}, 2) == pytest.approx((1 / 3 + 1) / 2)


def test_cli_on_your_own_environment(library: tuple[Environment, Path]) -> None:
    _env, data = library
    replay = CliRunner().invoke(app, ["env", "replay", "library_env:LIBRARY", "--data", str(data), "--json"])
    assert replay.exit_code == 0, replay.output
    report = json.loads(replay.stdout)
    assert (report["environment"], report["tasks"], report["reward_1"]) == ("library", 3, 3)
    run = CliRunner().invoke(
        app, ["env", "run", "library_env:LIBRARY", "--data", str(data), "--model", "offline", "--k", "2", "--json"]
    )
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert (summary["tasks"], summary["runs"], summary["k"], summary["turns"]) == (3, 6, 2, "single")
    assert set(summary["pass_hat_k"]) == {"1", "2"} and summary["pass_hat_k"]["2"] <= summary["pass_hat_k"]["1"]
    talk = CliRunner().invoke(
        app,
        ["env", "run", "library_env:LIBRARY", "--data", str(data), "--model", "offline", "--user-model", "offline"]
        + ["--limit", "1", "--json"],
    )
    assert talk.exit_code == 0, talk.output
    conversation = json.loads(talk.stdout)
    # The offline user states its brief, then says ###STOP###: one user turn, and the run is multi-turn.
    assert conversation["turns"] == "multi" and conversation["policy_version"].endswith("+multi-turn")
    assert conversation["results"][0]["user_messages"] == [TASKS[0]["instruction"]]
    listed = CliRunner().invoke(app, ["env", "list", "--json"])
    assert "retail" in [e["name"] for e in json.loads(listed.stdout)["environments"]]
    unknown = CliRunner().invoke(app, ["env", "replay", "nope", "--data", str(data)])
    assert unknown.exit_code == 2 and "unknown environment 'nope'" in unknown.stderr


def test_task_file_errors_name_the_file_and_line(library: tuple[Environment, Path]) -> None:
    env, data = library
    (data / "scenarios_main.jsonl").write_text(json.dumps(TASKS[0]) + "\n" + json.dumps({"actions": []}) + "\n")
    with pytest.raises(Exception, match=r"scenarios_main.jsonl:2: field 'instruction'"):
        env.tasks(data)
