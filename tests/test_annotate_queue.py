"""Annotation: sample priorities, scriptable `annotate next`, Phoenix verdicts read back, export into a dataset
with provenance and without duplicates, user corrections as candidates, and `aiagents eval run` loading it."""

from __future__ import annotations

import json
import time

from aiagents.evals.datasets import Dataset
from typer.testing import CliRunner

from aiagents.annotate import annotated_cases, import_phoenix, next_item, queue_items, sample
from aiagents.cli import app
from aiagents.logstore import FeedbackRecord, RequestRecord, open_store
from aiagents.online import write_scores
from tests.support.phoenix import wait_for_span

runner = CliRunner()
LISTINGS = [f"Wooden chair number {i}, good condition, {10 + i} EUR" for i in range(12)]


def _out(i: int) -> dict:
    return {"title": f"Wooden chair {i}", "category": "furniture", "price": float(10 + i), "condition": "good"}


def _seed(store) -> None:
    """12 requests: r0 failed, r1 thumbs down, r2 corrected, r3 low online score, r4..r11 plain."""
    rows = [
        RequestRecord(
            request_id=f"r{i}", endpoint="task", name="listing-attributes", input={"listing": LISTINGS[i]},
            output=None if i == 0 else _out(i), error_code="run_failed" if i == 0 else None,
            trace_id=f"{i:032x}", span_id=f"{i:016x}", created_at=1000.0 + i,
        )
        for i in range(12)
    ]  # fmt: skip
    fb = [
        FeedbackRecord(request_id="r1", thumbs="down", user_id="u1"),
        FeedbackRecord(request_id="r2", corrected_output={**_out(2), "price": 99.0}, user_id="u2"),
    ]
    store.write(requests=rows, feedback=fb)
    write_scores(store, "r3", [("grounded_numbers", 0.2, None, None)], source="online", annotator="online-eval")
    for i in range(4, 12):
        write_scores(store, f"r{i}", [("grounded_numbers", 1.0, None, None)], source="online", annotator="x")


def test_sample_draws_errors_then_negative_feedback_then_low_scores_then_random(tmp_path) -> None:
    store = open_store()
    _seed(store)
    first = sample(store, 5, seed=0)
    assert [(q.request_id, q.reason) for q in first[:4]] == [
        ("r0", "error"), ("r2", "negative feedback"), ("r1", "negative feedback"), ("r3", "low online-eval score"),
    ]  # fmt: skip
    assert first[4].reason == "random"
    again = sample(store, 50, seed=0)  # never queues a request twice
    assert len(again) == 7 and not {q.request_id for q in again} & {q.request_id for q in first}
    assert len(queue_items(store)) == 12
    store.close()


def test_next_and_record_then_export_round_trip_into_a_dataset_the_runner_loads(tmp_path) -> None:
    store = open_store()
    _seed(store)
    store.close()
    r = runner.invoke(app, ["annotate", "sample", "--n", "3", "--seed", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["sampled"] == 3
    # r0 (error, no output): bad with the correct output; r2: bad, with a correction; r1: good
    correct0 = {"title": "Wooden chair 0", "category": "furniture", "price": 10.0, "condition": "good"}
    steps = [
        ["--verdict", "bad", "--label", "failed", "--correct", json.dumps(correct0)],
        ["--verdict", "bad", "--label", "wrong price", "--correct", json.dumps({**_out(2), "price": 12.0})],
        ["--verdict", "good", "--label", "ok"],
    ]
    for step in steps:
        r = runner.invoke(app, ["annotate", "next", "--annotator", "ann", "--json", *step])
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["annotate", "next", "--json", "--verdict", "good"])
    assert json.loads(r.stdout)["item"] is None
    store = open_store()
    got = {c["request_id"]: c for c in annotated_cases(store) if not c["candidate"]}
    assert got["r0"]["expected_output"] == correct0 and got["r2"]["expected_output"]["price"] == 12.0
    assert got["r1"]["expected_output"] == _out(1)  # good: the output is the reference
    verdicts = store.query("SELECT request_id, score, annotator FROM scores WHERE source = 'human' ORDER BY request_id")
    assert [(v["request_id"], v["score"], v["annotator"]) for v in verdicts] == [
        ("r0", 0.0, "ann"), ("r1", 1.0, "ann"), ("r2", 0.0, "ann"),
    ]  # fmt: skip
    store.close()
    target = tmp_path / "listing-attributes.yaml"
    r = runner.invoke(app, ["annotate", "export", "--to", str(target), "--json"])
    assert r.exit_code == 0, r.output
    # 3 annotated + 1 user correction (r2's inputs are already in: a duplicate, skipped)
    assert json.loads(r.stdout) == {"dataset": str(target), "added": 3, "cases": 3, "considered": 4, "media_pruned": []}
    r = runner.invoke(app, ["annotate", "export", "--to", str(target), "--json"])
    assert json.loads(r.stdout)["added"] == 0  # no duplicates on a second export
    ds = Dataset.load(target)
    by_request = {c.provenance.request_id: c for c in ds}
    assert set(by_request) == {"r0", "r1", "r2"}
    p = by_request["r2"].provenance
    assert (p.source, p.annotator, p.trace_id) == ("annotation", "ann", f"{2:032x}") and p.added_at
    r = runner.invoke(app, ["eval", "run", str(target), "--model", "offline", "--json", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout[r.stdout.find("{") :])
    assert summary["cases"] == 3


def test_user_corrections_become_candidate_cases(tmp_path) -> None:
    store = open_store()
    _seed(store)
    cands = [c for c in annotated_cases(store) if c["candidate"]]
    assert [(c["request_id"], c["annotator"], c["expected_output"]["price"]) for c in cands] == [
        ("r2", "user:u2", 99.0)
    ]
    store.close()
    r = runner.invoke(app, ["annotate", "export", "--to", "corrections", "--json"])
    out = json.loads(r.stdout)
    assert out["added"] == 1 and out["dataset"].endswith("datasets/corrections.yaml")
    case = Dataset.load(out["dataset"]).cases[0]
    assert "candidate" in case.tags and case.provenance.note.startswith("user correction")


def test_verdicts_given_in_phoenix_are_read_back(tmp_path, phoenix_server: str) -> None:
    from phoenix.client import Client

    from aiagents import tracing
    from aiagents.tracing import get_tracer, trace_id_hex

    project = f"annotate-{int(time.time() * 1000)}"
    project = tracing.setup(endpoint=phoenix_server, project=project, batch=False).project  # the first setup names it
    with get_tracer("test").start_as_current_span("task listing-attributes") as span:
        trace_id, span_id = trace_id_hex(span), f"{span.get_span_context().span_id:016x}"
    tracing.current_tracing().flush()
    store = open_store()
    store.write(
        requests=[RequestRecord(request_id="px", endpoint="task", name="listing-attributes",
                                input={"listing": "x"}, output={"title": "x"}, trace_id=trace_id, span_id=span_id)]
    )  # fmt: skip
    sample(store, 1)
    client = Client(base_url=phoenix_server)
    deadline = time.monotonic() + 30
    assert wait_for_span(client, project, span_id)
    while time.monotonic() < deadline:
        try:
            client.spans.add_span_annotation(
                span_id=span_id, annotation_name="verdict", annotator_kind="HUMAN", label="bad",
                explanation="title is wrong", metadata={"correct_output": {"title": "y"}}, sync=True,
            )  # fmt: skip
            break
        except Exception:  # noqa: BLE001 - the span has not arrived yet
            time.sleep(0.5)
    assert import_phoenix(store, client, project) == 1
    (item,) = queue_items(store, status="annotated")
    assert (item["verdict"], item["label"], item["correct_output"]) == ("bad", "title is wrong", {"title": "y"})
    assert next_item(store) is None
    store.close()


def test_skip_moves_on_and_skipped_items_come_back_after_the_rest() -> None:
    store = open_store()
    _seed(store)
    sample(store, 3, seed=0)
    first = next_item(store)
    r = runner.invoke(app, ["annotate", "next", "--verdict", "skip", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["request_id"] == first["request_id"]
    order = []
    for _ in range(2):
        item = next_item(store)
        order.append(item["request_id"])
        assert runner.invoke(app, ["annotate", "next", "--verdict", "good"]).exit_code == 0
    assert first["request_id"] not in order  # the others first ...
    assert next_item(store)["request_id"] == first["request_id"]  # ... then the skipped one comes back
    picked = runner.invoke(app, ["annotate", "next", "r1", "--verdict", "bad", "--json"])  # `next ID` picks one
    assert picked.exit_code == 0 and json.loads(picked.stdout)["request_id"] == "r1"
    store.close()


def test_a_correction_is_validated_against_the_output_model_with_the_fields_named() -> None:
    from aiagents.prompts import PromptRegistry

    store = open_store()
    version = PromptRegistry().current("listing-attributes").version
    store.write(requests=[RequestRecord(request_id="c1", endpoint="task", name="listing-attributes",
                                        prompt_name="listing-attributes", prompt_version=version,
                                        input={"listing": LISTINGS[0]}, output=_out(0))])  # fmt: skip
    sample(store, 1, seed=0)
    bad = {**_out(0), "price": "not-a-price", "category": "spaceships"}
    r = runner.invoke(app, ["annotate", "next", "c1", "--verdict", "bad", "--correct", json.dumps(bad), "--json"])
    assert r.exit_code == 1
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "invalid_correction" and "price" in error["message"] and "category" in error["message"]
    good = {**_out(0), "price": 12.0}
    r = runner.invoke(app, ["annotate", "next", "c1", "--verdict", "bad", "--correct", json.dumps(good)])
    assert r.exit_code == 0, r.output
    assert queue_items(store, status="annotated")[0]["correct_output"] == good
    store.close()


def test_logs_show_and_list_filters() -> None:
    store = open_store()
    _seed(store)
    store.close()
    shown = runner.invoke(app, ["logs", "show", "r2", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["request"]["request_id"] == "r2" and data["feedback"][0]["corrected_output"]["price"] == 99.0
    assert data["trace_url"].endswith(f"/redirects/traces/{2:032x}")
    missing = runner.invoke(app, ["logs", "show", "nope", "--json"])
    assert missing.exit_code == 1 and json.loads(missing.stdout)["error"]["code"] == "unknown_request"

    def ids(*args: str) -> list[str]:
        r = runner.invoke(app, ["logs", "list", "--json", "-n", "100", *args])
        assert r.exit_code == 0, r.output
        return sorted(row["request_id"] for row in json.loads(r.stdout)["requests"])

    assert ids("--feedback", "down") == ["r1"]
    assert ids("--feedback", "corrected") == ["r2"]
    assert ids("--errors") == ["r0"]
    assert len(ids("--task", "listing-attributes")) == 12 and ids("--task", "other") == []
    assert ids("--variant", "default", "--feedback", "any") == ["r1", "r2"]
    table = runner.invoke(app, ["logs", "list", "--task", "listing-attributes", "-n", "3"])
    assert '{"title": "Wo' in table.stdout and '{"listing"' in table.stdout  # input and output, cut to the width
