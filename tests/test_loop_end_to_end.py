"""The whole improvement loop for a new feature, as a team lives it, in a user's own folder, through the installed
CLI and the real service: init, the prompt test, a baseline eval, promotion, an edit compared by the regression
gate, an A/B experiment with users' thumbs and corrections, the report, shipping, the logs, annotation into the
dataset, the next eval run with the new cases, and a model upgrade caught by the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from aiagents.tasks import OUTPUT_TOOL_NAME
from tests.support.openai_wire import OpenAIWireServer, tool_call_reply
from tests.test_service_support import CLIENT_KEYS, auth, start_service

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
MESSAGES = [
    "Billing: I was charged twice for order 48213",
    "Shipping: where is order 5512? Tracking has not moved",
    "Account: the password reset email never arrives",
    "Billing: refund for order 7781 please",
]


def test_the_loop_for_a_new_feature(tmp_path: Path, data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(AIAGENTS_DATA_DIR=str(data_dir), AIAGENTS_TRACING="false", AIAGENTS_MODEL="offline")

    def cli(*args: str, ok: bool = True) -> dict:
        done = subprocess.run(
            [str(BIN / "aiagents"), *args, "--json"], cwd=project, env=env, capture_output=True, text=True, timeout=300
        )
        if ok:
            assert done.returncode == 0, f"aiagents {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return {"exit": done.returncode, **json.loads(done.stdout[done.stdout.find("{") :] or "{}")}

    subprocess.run([str(BIN / "aiagents"), "init", "triage"], cwd=tmp_path, env=env, check=True, capture_output=True)
    project = tmp_path / "triage"
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"], cwd=project, env=env, capture_output=True, text=True
    )
    assert tested.returncode == 0 and "4 passed, 2 skipped" in tested.stdout, tested.stdout

    # baseline, promoted; an edit, compared by the gate
    base = cli("eval", "run", "evals/ticket-triage.yaml")
    v1 = base["meta"]["prompt_versions"]["ticket-triage"]
    assert cli("prompts", "promote", "ticket-triage", v1)["version"] == v1
    prompt = project / "prompts" / "ticket-triage.md"
    prompt.write_text(prompt.read_text().replace("A message is urgent when", "A message is urgent only when"))
    edited = cli("eval", "run", "evals/ticket-triage.yaml")
    v2 = edited["meta"]["prompt_versions"]["ticket-triage"]
    assert v2 != v1
    gate = cli("eval", "compare", f"ticket-triage@{v1}", f"ticket-triage@{v2}", "--fail-on-regression")
    assert gate["exit"] == 0 and not gate["regressions"]  # the edit does not regress

    # the service serves production (v1) while the file holds v2; an experiment tries v2 on half the users
    svc = start_service(data_dir, env={"AIAGENTS_PROMPTS_DIR": str(project / "prompts"), "AIAGENTS_MODEL": "offline"})
    try:
        with httpx.Client(base_url=svc.url, headers=auth(CLIENT_KEYS[0]), timeout=60) as http:

            def ask(user: str, i: int) -> dict:
                r = http.post("/v1/tasks/ticket-triage", json={"input": {"message": MESSAGES[i % 4]}, "user_id": user})
                assert r.status_code == 200, r.text
                return r.json()

            assert ask("before", 0)["prompt_version"] == v1
            cli("ab", "start", "try-v2", "--endpoint", "tasks/ticket-triage", "--variant", "control:",
                "--variant", f"cand:prompt_version={v2},share=50", "--min-sample", "5")  # fmt: skip
            seen = set()
            for i in range(40):
                answer = ask(f"user-{i}", i)
                seen.add(answer["prompt_version"])
                up = answer["variant"] == "cand" or i % 3 == 0
                http.post("/v1/feedback", json={"request_id": answer["request_id"], "thumbs": "up" if up else "down"})
                if not up and i % 2 == 0:
                    fixed = {**answer["output"], "urgent": True}
                    http.post("/v1/feedback", json={"request_id": answer["request_id"], "corrected_output": fixed})
            assert seen == {v1, v2}
            report = cli("ab", "report", "try-v2")
            assert report["variants"]["cand"]["requests"] > 0 and report["decision"]
            shipped = cli("ab", "ship", "try-v2", "--variant", "cand", "--force")
            assert shipped["promoted"]["version"] == v2 and shipped["promoted"]["previous"] == v1
            assert {ask(f"after-{i}", i)["prompt_version"] for i in range(6)} == {v2}  # within a second
    finally:
        svc.stop()

    # the logs, annotation into the dataset, the next run with the new cases
    corrected = cli("logs", "list", "--feedback", "corrected", "-n", "100")
    assert corrected["count"] >= 1 and all(r["name"] == "ticket-triage" for r in corrected["requests"])
    assert cli("annotate", "sample", "--n", "4", "--seed", "1")["sampled"] >= 1
    for _ in range(2):
        cli("annotate", "next", "--verdict", "good")
    exported = cli("annotate", "export", "--to", "evals/ticket-triage.yaml")
    assert exported["added"] >= 2
    grown = cli("eval", "run", "evals/ticket-triage.yaml", "--fresh")
    assert grown["cases"] == 5 + exported["added"] and grown["errors"] == 0

    # a model upgrade rehearsed on the same cases: a worse model is caught by the gate
    server = OpenAIWireServer().start()
    try:
        wrong = {"queue": "other", "urgent": False, "order_number": None}
        server.script(*(tool_call_reply((OUTPUT_TOOL_NAME, wrong)) for _ in range(grown["cases"] * 3)))
        upgrade = cli("eval", "run", "evals/ticket-triage.yaml", "--model", f"openai-compatible:new@{server.url}")
    finally:
        server.stop()
    assert upgrade["errors"] == 0
    gate = cli("eval", "compare", grown["out_dir"], upgrade["out_dir"], "--fail-on-regression", ok=False)
    assert gate["exit"] == 1 and gate["regressions"]
