"""The ticket-triage prompt's cases as tests: `pytest` runs them on the offline baseline (no key, no network);
`pytest --aiagents-model openai:gpt-4.1-mini` runs them, and the cases tagged real_model, on a real model."""

from pathlib import Path

from aiagents.evals import Dataset, FieldsMatch
from aiagents.evals.pytest_support import assert_case, parametrize_cases

CASES = Dataset.load(Path(__file__).parents[1] / "evals" / "ticket-triage.yaml")


@parametrize_cases(CASES)
def test_ticket_triage(case, run_prompt):
    result = run_prompt("ticket-triage", case.inputs)
    assert_case(case, result.output, [FieldsMatch()])


def test_the_output_is_typed(run_prompt):
    result = run_prompt("ticket-triage", {"message": "Where is order 12?"})
    assert result.output.queue in ("billing", "shipping", "account", "other")
    assert result.prompt_version  # every result names the prompt version that produced it
