"""`aiagents ab start|list|report|stop` and `eval traces --log-store` on one data folder."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.logstore import FeedbackRecord, RequestRecord, open_store
from aiagents.rollout import ExperimentStore

runner = CliRunner()


def _json(out: str) -> dict:
    return json.loads(out[out.find("{") :])


def test_ab_start_list_report_stop(tmp_path) -> None:
    r = runner.invoke(
        app,
        [
            "ab", "start", "exp1", "--endpoint", "tasks/listing-attributes",
            "--variant", "control:prompt=listing-attributes", "--variant", "candidate:model=offline,share=20",
            "--min-sample", "7", "--json",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    started = _json(r.stdout)
    assert [(v["name"], v["share"]) for v in started["variants"]] == [("control", 80.0), ("candidate", 20.0)]
    assert started["guardrails"]["min_sample"] == 7
    again = runner.invoke(app, ["ab", "start", "exp1", "--endpoint", "tasks/x", "--variant", "a:", "--variant", "b:"])
    assert again.exit_code == 1 and "is running" in again.output
    listed = _json(runner.invoke(app, ["ab", "list", "--json"]).stdout)
    assert [e["name"] for e in listed["experiments"]] == ["exp1"]

    created = ExperimentStore().load("exp1").created_at
    store = open_store()
    rows = [
        RequestRecord(request_id=f"{v}{i}", endpoint="task", experiment="exp1", variant=v, latency_ms=10.0 + i,
                      created_at=created + 1 + i)
        for v in ("control", "candidate") for i in range(10)
    ]  # fmt: skip
    fb = [FeedbackRecord(request_id=f"control{i}", thumbs="up") for i in range(10)]
    fb += [FeedbackRecord(request_id=f"candidate{i}", thumbs="up" if i < 5 else "down") for i in range(10)]
    store.write(requests=rows, feedback=fb)
    store.close()
    rep = _json(runner.invoke(app, ["ab", "report", "exp1", "--json"]).stdout)
    assert rep["experiment"] == "exp1" and rep["variants"]["control"]["requests"] == 10
    assert rep["variants"]["candidate"]["thumbs_up_rate"]["value"] == 0.5
    # 10/10 vs 5/10: pooled 0.75, z = -0.5 / sqrt(0.75 * 0.25 * 0.2) = -2.582, p = 0.0098
    assert rep["test"]["z"] == -2.582 and rep["decision"] == "roll back"
    text = runner.invoke(app, ["ab", "report", "exp1"])
    assert text.exit_code == 0 and "roll back" in text.stdout

    stopped = _json(runner.invoke(app, ["ab", "stop", "exp1", "--reason", "done", "--json"]).stdout)
    assert stopped["status"] == "ended" and stopped["stop_reason"] == "done"  # by hand: it overrides nothing
    assert runner.invoke(app, ["ab", "report", "nope"]).exit_code == 1


def test_eval_traces_from_the_log_store(tmp_path) -> None:
    store = open_store()
    store.write(
        requests=[
            RequestRecord(request_id=f"q{i}", endpoint="task", name="listing-attributes",
                          input={"listing": "bike 350 EUR"}, output={"price": 350.0 if i else 35.0})
            for i in range(4)
        ]
    )  # fmt: skip
    store.close()
    suite = tmp_path / "numbers.yaml"
    suite.write_text("evaluators: [grounded_numbers]\n")
    r = runner.invoke(app, ["eval", "traces", "--log-store", "--suite", str(suite), "--json"])
    assert r.exit_code == 0, r.output
    out = _json(r.stdout)
    assert out["source"] == "log store" and out["traces"] == 4 and out["means"] == {"numbers.grounded_numbers": 0.75}
