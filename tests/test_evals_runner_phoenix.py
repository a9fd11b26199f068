"""Against a real Phoenix: evaluator results readable back as span annotations; queue while Phoenix is
down; datasets and experiments pushed."""

from __future__ import annotations

import time
from pathlib import Path

from aiagents.evals import Case, Dataset, ExactMatch
from aiagents.evals.phoenix import annotation_queue_path, flush_annotation_queue, push_dataset, push_experiment
from aiagents.evals.runner import run_eval

from tests.support.phoenix import tracing_project


def _ds() -> Dataset:
    return Dataset(
        name="phx-echo",
        cases=[Case(name=f"e{i}", inputs={"x": i}, expected_output=i if i != 2 else -1) for i in range(3)],
    )


async def _echo(inputs: dict) -> int:
    return inputs["x"]


def _annotations(url: str, span_ids: list[str], names: set[str]):  # noqa: ANN202
    from phoenix.client import Client

    client = Client(base_url=url)
    deadline = time.monotonic() + 20
    frame = None
    while time.monotonic() < deadline:
        frame = client.spans.get_span_annotations_dataframe(span_ids=span_ids, project_identifier=tracing_project())
        if frame is not None and len(frame) >= len(span_ids) * len(names):
            return frame
        time.sleep(0.5)
    return frame


async def test_annotations_reach_phoenix_and_read_back(phoenix_server: str, tmp_path: Path) -> None:
    from aiagents.tracing import setup

    setup(endpoint=phoenix_server, batch=False)
    run = await run_eval(_ds(), _echo, [ExactMatch()], out_dir=tmp_path, phoenix_url=phoenix_server, progress=False)
    assert run.annotations == {"sent": 3, "queued": 0}
    span_ids = [r.span_id for r in run.results]
    frame = _annotations(phoenix_server, span_ids, {"exact"})
    assert frame is not None and len(frame) == 3
    frame = frame.reset_index()
    by_span = {row["span_id"]: row for _, row in frame.iterrows()}
    assert by_span[span_ids[0]]["result.label"] == "pass" and by_span[span_ids[0]]["result.score"] == 1.0
    assert by_span[span_ids[2]]["result.label"] == "fail" and by_span[span_ids[2]]["result.score"] == 0.0
    assert by_span[span_ids[2]]["annotator_kind"] == "CODE"


async def test_annotations_queue_when_phoenix_is_down_then_flush(phoenix_server: str, tmp_path: Path) -> None:
    from aiagents.tracing import setup

    setup(endpoint=phoenix_server, batch=False)
    down = "http://127.0.0.1:9"  # nothing listens there
    run = await run_eval(_ds(), _echo, [ExactMatch()], out_dir=tmp_path, phoenix_url=down, progress=False)
    assert run.annotations == {"sent": 0, "queued": 3}
    assert len(annotation_queue_path().read_text().splitlines()) == 3
    assert flush_annotation_queue(phoenix_server) == {"sent": 3, "queued": 0}
    assert not annotation_queue_path().exists()
    frame = _annotations(phoenix_server, [r.span_id for r in run.results], {"exact"})
    assert frame is not None and len(frame) == 3


async def test_push_dataset_and_experiment(phoenix_server: str, tmp_path: Path) -> None:
    ds = _ds()
    pushed = push_dataset(ds, phoenix_server)
    assert pushed.name == f"phx-echo@{ds.version}" and len(pushed.examples) == 3
    again = push_dataset(ds, phoenix_server)  # same version: reused, not duplicated
    assert again.id == pushed.id
    run = await run_eval(ds, _echo, [ExactMatch()], out_dir=tmp_path, progress=False)
    res = push_experiment(ds, run.results, phoenix_server, name="echo-exp")
    assert res["runs"] == 3 and res["evaluations"] == 3

    from phoenix.client import Client

    exp = Client(base_url=phoenix_server).experiments.get_experiment(experiment_id=res["experiment_id"])
    runs = exp["task_runs"]
    assert len(runs) == 3
    evals = exp["evaluation_runs"]
    assert sorted(e.result["score"] for e in evals) == [0.0, 1.0, 1.0]
