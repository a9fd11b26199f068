"""Experiments are checked before they start and shipped when they win: `ab start` refuses a variant that cannot
run, naming it; `ab ship` promotes the variant's version (and model) to production and ends the experiment,
refusing without a `ship` decision unless forced; a stopped or shipped experiment overrides nothing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.prompts import PromptRegistry
from aiagents.rollout import ExperimentRouter, ExperimentStore

runner = CliRunner()
ENDPOINT = "tasks/listing-attributes"


def _start(name: str, *variants: str) -> object:
    args = ["ab", "start", name, "--endpoint", ENDPOINT]
    for v in variants:
        args += ["--variant", v]
    return runner.invoke(app, [*args, "--json"])


@pytest.mark.parametrize(
    ("variant", "named"),
    [
        ("cand:prompt_version=deadbeef,share=50", "deadbeef"),
        ("cand:prompt=no-such-prompt,share=50", "no-such-prompt"),
        ("cand:model=nonsense-provider:x,share=50", "nonsense-provider:x"),
        ("cand:model=openai:gpt-4.1-mini,share=50", "OPENAI_API_KEY"),  # no key configured in the tests
        ("cand:toolset=search_docs,share=50", "toolset applies to agent endpoints"),
        ("cand:prompt_version=staging,share=50", "staging"),  # a label that is not set
    ],
)
def test_a_variant_that_cannot_run_is_refused_by_name(variant: str, named: str) -> None:
    r = _start("broken", "control:", variant)
    assert r.exit_code == 1, r.output
    error = json.loads(r.stdout)["error"]["message"]  # with --json: one JSON object on stdout
    assert named in error and "variant 'cand'" in error
    assert ExperimentStore().list() == []  # nothing saved, nothing served


def test_ship_refuses_without_a_ship_decision_then_promotes_with_force_and_stops() -> None:
    registry = PromptRegistry()
    v2 = registry.current("listing-attributes-v2").version
    v1 = registry.current("listing-attributes").version
    assert _start("exp", "control:", f"cand:prompt_version={v1[:6]},model=offline,share=50").exit_code == 0
    refused = runner.invoke(app, ["ab", "ship", "exp", "--json"])
    assert refused.exit_code == 1 and "--force" in refused.output  # no traffic yet: the report says keep running
    shipped = runner.invoke(app, ["ab", "ship", "exp", "--variant", "cand", "--force", "--json"])
    assert shipped.exit_code == 0, shipped.output
    result = json.loads(shipped.stdout)
    assert result["forced"] and result["promoted"]["version"] == v1 and result["promoted"]["model"] == "offline"
    assert registry.labels("listing-attributes")["production"] == v1
    assert registry.label_model("listing-attributes", "production") == "offline"
    experiment = ExperimentStore().load("exp")
    assert experiment.status == "ended" and "shipped" in (experiment.stop_reason or "")
    assert ExperimentRouter().route(ENDPOINT, "any-user") is None  # a shipped experiment overrides nothing
    other = _start("other", "control:", "cand:prompt=listing-attributes-v2,share=50")
    assert other.exit_code == 0
    refused = runner.invoke(app, ["ab", "ship", "other", "--force"])
    assert refused.exit_code == 1 and "another prompt" in refused.output and v2  # not silently mixed in


def test_a_stopped_experiment_overrides_nothing() -> None:
    assert _start("pinned", "control:prompt_version=" + PromptRegistry().current("listing-attributes").version,
                  "cand:model=offline").exit_code == 0  # fmt: skip
    router = ExperimentRouter()
    assert router.route(ENDPOINT, "u1") is not None
    assert runner.invoke(app, ["ab", "stop", "pinned"]).exit_code == 0
    assert ExperimentRouter().route(ENDPOINT, "u1") is None  # not the (pinned) control: what production serves
