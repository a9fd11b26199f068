"""Compare and gate: hand-computed deltas, CI and p-values on a fixed small data set, the CLI exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiagents.evals.compare import (
    compare_runs,
    load_run,
    paired_bootstrap_ci,
    parse_tolerances,
    sign_flip_p_value,
)
from aiagents.evals.runner import CaseResult, MetricResult, ResultsWriter, summarise
from typer.testing import CliRunner

from aiagents.errors import UserError


def _write_run(folder: Path, scores: dict[str, float | None], *, model: str) -> Path:
    """A run folder whose case `k` scored `scores[k]` on metric `acc` (None = the case errored)."""
    writer = ResultsWriter(folder / "results.jsonl")
    results = []
    for name, score in scores.items():
        r = CaseResult(
            name=name,
            error="RuntimeError: boom" if score is None else None,
            metrics={} if score is None else {"acc": MetricResult(score=score, passed=score == 1.0)},
        )
        writer.write(r)
        results.append(r)
    writer.close()
    summary = summarise(results, total=len(results), meta={"model": model})
    (folder / "summary.json").write_text(json.dumps(summary.to_json()))
    return folder


BASE = {"a": 1.0, "b": 1.0, "c": 0.0, "d": 1.0, "e": 0.5}
CAND = {"a": 1.0, "b": 0.0, "c": 1.0, "d": 0.0, "e": 0.0}
# diffs: a 0, b -1, c +1, d -1, e -0.5 -> mean delta -1.5 / 5 = -0.3


def test_deltas_and_changed_cases_match_hand_computation(tmp_path: Path) -> None:
    base = _write_run(tmp_path / "base", BASE, model="m1")
    cand = _write_run(tmp_path / "cand", CAND, model="m2")
    cmp = compare_runs(base, cand, tolerances={"acc": 0.1})
    acc = next(m for m in cmp.metrics if m.metric == "acc")
    assert acc.n == 5
    assert acc.baseline == pytest.approx(3.5 / 5) and acc.candidate == pytest.approx(2 / 5)
    assert acc.delta == pytest.approx(-0.3)
    assert (acc.regressed_cases, acc.improved_cases) == (3, 1)
    assert [(c.case, c.delta) for c in cmp.regressed if c.metric == "acc"] == [("b", -1.0), ("d", -1.0), ("e", -0.5)]
    assert [(c.case, c.delta) for c in cmp.improved] == [("c", 1.0)]
    assert acc.ci_low <= acc.delta <= acc.ci_high
    assert acc.regression and not cmp.passed
    # exact sign-flip test over the 4 non-zero diffs (-1, 1, -1, -0.5), |sum| = 1.5:
    # of the 16 sign patterns, |sum| >= 1.5 for sums +-3.5, +-2.5, +-1.5 -> 10 of 16 (the +-0.5 sums fail)
    assert acc.p_value == pytest.approx(10 / 16)
    assert cmp.baseline == "m1" and cmp.candidate == "m2"


def test_tolerance_lets_a_small_drop_pass(tmp_path: Path) -> None:
    base = _write_run(tmp_path / "base", BASE, model="m1")
    cand = _write_run(tmp_path / "cand", CAND, model="m2")
    assert compare_runs(base, cand, default_tolerance=0.3).passed
    assert not compare_runs(base, cand, default_tolerance=0.29).passed


def test_new_errors_show_as_completed_regression(tmp_path: Path) -> None:
    base = _write_run(tmp_path / "base", {"a": 1.0, "b": 1.0}, model="m1")
    cand = _write_run(tmp_path / "cand", {"a": 1.0, "b": None}, model="m2")
    cmp = compare_runs(base, cand)
    done = next(m for m in cmp.metrics if m.metric == "completed")
    assert done.delta == -0.5 and done.regression
    acc = next(m for m in cmp.metrics if m.metric == "acc")
    assert acc.n == 1 and acc.delta == 0.0  # only the case both runs completed is paired


def test_bootstrap_ci_hand_cases() -> None:
    assert paired_bootstrap_ci([-1.0, -1.0, -1.0]) == (-1.0, -1.0)
    # two diffs (0, -1): resampled means are 0 (p 1/4), -0.5 (1/2), -1 (1/4) -> 95% interval [-1, 0]
    assert paired_bootstrap_ci([0.0, -1.0], n_boot=4000) == (-1.0, 0.0)
    assert paired_bootstrap_ci([0.2, -0.1, 0.4], seed=3) == paired_bootstrap_ci([0.2, -0.1, 0.4], seed=3)


def test_sign_flip_p_value_hand_cases() -> None:
    # four diffs of -1 and one 0: only the all-same-sign patterns reach |sum| 4 -> 2 of 16
    assert sign_flip_p_value([-1, -1, -1, -1, 0]) == pytest.approx(2 / 16)
    assert sign_flip_p_value([0, 0]) == 1.0
    big = sign_flip_p_value([1.0] * 30, n_perm=2000)
    assert big == pytest.approx(1 / 2001, abs=1e-3)


def test_parse_tolerances() -> None:
    assert parse_tolerances(["acc=0.02", "*=0.01"]) == ({"acc": 0.02}, 0.01)
    assert parse_tolerances(["0.05"]) == ({}, 0.05)
    with pytest.raises(UserError, match="METRIC=NUMBER"):
        parse_tolerances(["acc=lots"])


def test_load_run_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no results.jsonl"):
        load_run(tmp_path)
    assert load_run(_write_run(tmp_path / "r", {"a": 1.0}, model="m") / "summary.json").results["a"].ok


def test_cli_compare_gate_exit_code_and_json(tmp_path: Path) -> None:
    from aiagents.cli import app

    base = _write_run(tmp_path / "base", BASE, model="m1")
    cand = _write_run(tmp_path / "cand", CAND, model="m2")
    runner = CliRunner()
    res = runner.invoke(app, ["eval", "compare", str(base), str(cand), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["regressions"] == ["acc"] and data["passed"] is False
    gate = runner.invoke(app, ["eval", "compare", str(base), str(cand), "--fail-on-regression", "--json"])
    assert gate.exit_code == 1
    ok = runner.invoke(
        app, ["eval", "compare", str(base), str(cand), "--fail-on-regression", "--tolerance", "acc=0.3", "--json"]
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)["passed"] is True
    same = runner.invoke(app, ["eval", "compare", str(base), str(base), "--fail-on-regression"])
    assert same.exit_code == 0
