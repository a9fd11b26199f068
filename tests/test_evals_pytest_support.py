"""pytest integration: one test per case, evaluator reasons in the failure message, the real_model marker."""

from __future__ import annotations

import pytest
from aiagents.evals import Case, ContainsText, Dataset, ExactMatch, NumericTolerance
from aiagents.evals.pytest_support import CaseFailed, assert_case, parametrize_cases

DS = Dataset(
    name="answers",
    cases=[
        Case(name="refunds", inputs="How long do refunds take?", expected_output="14 days"),
        Case(name="shipping", inputs="How long does shipping take?", expected_output="3 to 5 working days"),
        Case(name="live", inputs="Say hi", expected_output="hi", tags=["real_model"]),
    ],
)
ANSWERS = {"How long do refunds take?": "Refunds take 14 days.", "How long does shipping take?": "3 to 5 working days"}


@parametrize_cases(DS)
def test_shipped_answers(case: Case) -> None:
    if "real_model" in case.tags:
        pytest.fail("a real_model case must be skipped without a provider key")
    assert_case(case, ANSWERS[case.inputs], [ContainsText()])


def test_parametrize_gives_one_param_per_case_with_marks() -> None:
    def probe(case: Case) -> None: ...

    mark = parametrize_cases(DS)(probe).pytestmark[0]
    assert [p.id for p in mark.args[1]] == ["refunds", "shipping", "live"]
    assert [m.name for m in mark.args[1][2].marks] == ["real_model"]  # the plugin skips it offline


def test_failure_message_lists_reasons() -> None:
    case = DS.cases[0]
    with pytest.raises(CaseFailed) as err:
        assert_case(case, "Refunds take 30 days.", [ContainsText(), ExactMatch()])
    msg = str(err.value)
    assert msg.startswith("case 'refunds' failed:")
    assert "contains: missing 1 of 1: ['14 days']" in msg
    assert "exact: expected '14 days', got 'Refunds take 30 days.'" in msg


def test_min_scores() -> None:
    case = Case(name="n", inputs=1, expected_output=10)
    assert assert_case(case, "10", [NumericTolerance()])["numeric"].value is True
    with pytest.raises(CaseFailed, match="numeric: 11 vs 10"):
        assert_case(case, "11", [NumericTolerance()])
