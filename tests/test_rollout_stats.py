"""A/B rollout: sticky assignment, the statistics, the report and decision on a fixed data set (hand-computed)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from aiagents.logstore import FeedbackRecord, RequestRecord, open_store
from aiagents.rollout import (
    Experiment,
    ExperimentConfigError,
    ExperimentStore,
    Guardrails,
    Variant,
    assign,
    bootstrap,
    decide,
    parse_variant,
    percentile,
    report,
    sample_size_two_proportions,
    two_proportion_z,
    wilson,
)


def _exp(name: str, shares: list[float]) -> Experiment:
    variants = [Variant(name=f"v{i}", share=s) for i, s in enumerate(shares)]
    return Experiment(name=name, endpoint="tasks/listing-attributes", variants=variants)


@pytest.mark.parametrize("shares", [[90, 10], [50, 50], [50, 30, 20]])
def test_assignment_over_10000_users_is_within_1_5_points_of_each_share(shares: list[float]) -> None:
    e = _exp("spread", shares)
    counts = Counter(assign(e, f"user-{i}").name for i in range(10_000))
    for i, share in enumerate(shares):
        assert abs(100 * counts[f"v{i}"] / 10_000 - share) <= 1.5, (counts, shares)


def test_assignment_is_sticky_and_independent_across_experiments() -> None:
    a, b = _exp("exp-a", [50, 50]), _exp("exp-b", [50, 50])
    first = [assign(a, f"u{i}").name for i in range(2000)]
    assert first == [assign(_exp("exp-a", [50, 50]), f"u{i}").name for i in range(2000)]
    other = [assign(b, f"u{i}").name for i in range(2000)]
    same = sum(x == y for x, y in zip(first, other, strict=True)) / 2000
    assert 0.45 < same < 0.55  # salted by experiment name: not the same split


def test_without_a_user_id_the_session_is_sticky_and_without_either_it_is_random() -> None:
    e = _exp("sessions", [50, 50])
    for i in range(50):  # every turn of a conversation in one variant
        assert len({assign(e, None, f"s{i}").name for _ in range(20)}) == 1
    spread = Counter(assign(e, None, f"s{i}").name for i in range(4000))
    assert abs(spread["v0"] / 4000 - 0.5) < 0.03
    assert assign(e, "u7", "s1").name == assign(e, "u7", "s2").name == assign(e, "u7").name  # the user wins
    assert {assign(e, None).name for _ in range(200)} == {"v0", "v1"}


def test_a_stopped_variant_and_a_stopped_experiment_send_everyone_to_the_control() -> None:
    e = _exp("stop", [50, 50])
    e.stopped_variant = "v1"
    assert {assign(e, f"u{i}").name for i in range(200)} == {"v0"}
    e = _exp("stop2", [10, 90])
    e.status = "stopped"
    assert {assign(e, f"u{i}").name for i in range(200)} == {"v0"}


def test_wilson_interval_matches_hand_computed_values() -> None:
    # 8/10, z = 1.959964: centre (0.8 + z²/20) / (1 + z²/10) = 0.716740, half-width 0.226578 (published: 0.4902, 0.9433)
    i = wilson(8, 10)
    assert i.value == 0.8
    assert i.low == pytest.approx(0.490162, abs=1e-5)
    assert i.high == pytest.approx(0.943318, abs=1e-5)
    zero = wilson(0, 20)  # never below 0, and not degenerate like the Wald interval
    assert zero.low == pytest.approx(0.0, abs=1e-12) and zero.high == pytest.approx(0.161125, abs=1e-5)
    assert wilson(0, 0).value is None


def test_two_proportion_z_test_matches_hand_computed_values() -> None:
    # 45/50 vs 30/50: pooled 0.75, se sqrt(0.75 * 0.25 * 0.04) = 0.0866025, z = -0.3 / se = -3.4641
    t = two_proportion_z(45, 50, 30, 50)
    assert t is not None
    assert t.z == pytest.approx(-3.464102, abs=1e-5)
    assert t.p_value == pytest.approx(0.000532, abs=2e-6)
    assert two_proportion_z(5, 5, 7, 7) is None  # no variance


def test_sample_size_matches_the_textbook_formula() -> None:
    # 0.5 vs 0.6, alpha 0.05, power 0.8: (1.959964 sqrt(2 .55 .45) + 0.841621 sqrt(.25 + .24))² / 0.01 = 387.3
    assert sample_size_two_proportions(0.5, 0.6) == 388
    assert sample_size_two_proportions(0.5, 0.55) == 1565


def test_percentile_and_bootstrap_intervals() -> None:
    values = [float(v) for v in range(1, 51)]
    assert percentile(values, 0.5) == 25 and percentile(values, 0.95) == 48
    constant = bootstrap([0.002] * 40, lambda a: float(a.mean()))
    assert constant.value == constant.low == constant.high == pytest.approx(0.002)
    # the mean of 50 ones and 50 zeros: normal approximation 0.5 ± 1.96 * 0.05 = [0.402, 0.598]
    half = bootstrap([1.0] * 50 + [0.0] * 50, lambda a: float(a.mean()), seed=3)
    assert 0.38 <= half.low <= 0.43 and 0.57 <= half.high <= 0.62
    assert (
        bootstrap([1.0, 2.0, 3.0], lambda a: float(a.mean()), seed=1).to_json()
        == bootstrap([1.0, 2.0, 3.0], lambda a: float(a.mean()), seed=1).to_json()
    )


def test_parse_variant_and_config_validation(tmp_path) -> None:
    v = parse_variant("candidate:prompt=listing-attributes-v2,model=offline,share=10")
    assert (v.name, v.prompt, v.model, v.share) == ("candidate", "listing-attributes-v2", "offline", 10.0)
    with pytest.raises(ExperimentConfigError, match="unknown setting"):
        parse_variant("candidate:colour=red")
    store = ExperimentStore(tmp_path)
    e = store.create("x", "tasks/t", [parse_variant("control:"), parse_variant("candidate:share=10")])
    assert [v.share for v in e.variants] == [90, 10]
    assert store.load("x").variants[1].share == 10
    with pytest.raises(ExperimentConfigError, match="add up to 100"):
        store.create("y", "tasks/t", [parse_variant("a:share=60"), parse_variant("b:share=60")])
    (tmp_path / "bad.json").write_text('{"name": "bad", "endpoint": "tasks/t", "variants": [{"name": "a"}]}')
    with pytest.raises(ExperimentConfigError, match="bad.json"):
        store.load("bad")


def _fixed_store(tmp_path, control_up: int, control_n: int, cand_up: int, cand_n: int):
    """`control_n` rated requests of the control (latency 1..n ms, cost 0.001) and `cand_n` of the candidate."""
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    experiments = ExperimentStore(tmp_path / "experiments")
    e = experiments.create(
        "fixed", "tasks/t", [Variant(name="control", share=50), Variant(name="candidate", share=50)],
        guardrails=Guardrails(),
    )  # fmt: skip
    rows, feedback = [], []
    for variant, up, n in (("control", control_up, control_n), ("candidate", cand_up, cand_n)):
        for i in range(n):
            rid = f"{variant}-{i:04d}"
            rows.append(
                RequestRecord(
                    request_id=rid, endpoint="task", name="t", experiment="fixed", variant=variant,
                    latency_ms=float(i + 1), cost_usd=0.001, created_at=e.created_at + 1 + i,
                    error_code="run_failed" if variant == "candidate" and i == 0 else None,
                )
            )  # fmt: skip
            feedback.append(FeedbackRecord(request_id=rid, thumbs="up" if i < up else "down"))
            if variant == "candidate" and i >= n - 5:
                feedback.append(FeedbackRecord(request_id=rid, corrected_output={"fixed": True}))
    store.write(requests=rows, feedback=feedback)
    return store, e


def test_report_on_a_fixed_data_set_agrees_with_hand_computed_values(tmp_path) -> None:
    store, e = _fixed_store(tmp_path, 45, 50, 30, 50)
    rep = report(store, e)
    c, k = rep["variants"]["control"], rep["variants"]["candidate"]
    assert (c["requests"], k["requests"]) == (50, 50)
    assert c["thumbs_up_rate"]["value"] == 0.9 and k["thumbs_up_rate"]["value"] == 0.6
    assert c["thumbs_up_rate"]["low"] == pytest.approx(wilson(45, 50).low, abs=1e-4)
    assert k["correction_rate"]["value"] == 0.1 and k["error_rate"]["value"] == 0.02
    assert c["latency_ms_p50"]["value"] == 25 and c["latency_ms_p95"]["value"] == 48
    assert c["cost_per_request"]["value"] == pytest.approx(0.001)
    assert rep["test"]["z"] == pytest.approx(-3.4641, abs=1e-4)
    assert rep["test"]["p_value"] == pytest.approx(0.000532, abs=2e-6)
    assert rep["decision"] == "roll back"


def test_decision_ship_and_keep_running_with_the_sample_still_needed(tmp_path) -> None:
    store, e = _fixed_store(tmp_path, 30, 50, 45, 50)
    assert report(store, e)["decision"] == "ship"
    m = {"thumbs_up": 10, "thumbs_down": 10, "requests": 20, "errors": 0, "corrections": 0}
    n = {"thumbs_up": 11, "thumbs_down": 9, "requests": 20, "errors": 0, "corrections": 0}
    d = decide("thumbs_up_rate", m, n)
    assert d["decision"] == "keep running"
    # observed 0.50 vs 0.55: a 0.05 difference needs 1565 rated requests per variant; 20 are in
    assert d["sample_needed"] == {"per_variant": 1565, "more": 1545, "unit": "rated requests", "effect": 0.05}
    assert math.isclose(d["test"]["diff"], 0.05)
    stopped = decide("thumbs_up_rate", m, n, stopped_reason="error rate 1.000 > 0.1 over 5 requests")
    assert stopped["decision"] == "roll back" and "guardrail" in stopped["reason"]
