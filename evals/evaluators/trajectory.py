"""Trajectory evaluators: whole-run tool-call match, step-by-step judgement, efficiency budgets.

All read a `Trajectory` (see `aiagents.evals.evaluators.context`), so production traces and test runs are judged
by the same code. Match and argument modes are defined in `aiagents.evals.matching`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiagents.evals.evaluators.context import expected_calls, expected_documents, ids_in, trajectory_of
from aiagents.evals.matching import ArgMode, CallComparator, ExpectedCall, MatchMode, compare_call, match_calls
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext

from aiagents.trajectory import ToolCall, Trajectory

__all__ = [
    "Efficiency",
    "StepJudgement",
    "StepReport",
    "StepwiseMatch",
    "ToolCallsMatch",
    "judge_steps",
]

_NO_TRAJECTORY = "no trajectory: the task output must be a Trajectory (or have .trajectory)"


@dataclass(repr=False)
class ToolCallsMatch(Evaluator[Any, Any, Any]):
    """The run's tool calls against the expected ones under `mode` and `arg_mode`.

    Returns `<name>` (pass/fail with the first problem as the reason) and `<name>_score` (see
    `TrajectoryMatchResult.score`); `<name>` defaults to `tool_calls_<mode>`.
    """

    mode: MatchMode = "strict"
    arg_mode: ArgMode = "exact"
    expected: list[ExpectedCall] | None = None
    """Reference calls; default: the case's `expected_trajectory`."""
    comparators: dict[str, CallComparator] = field(default_factory=dict)
    """Per-tool custom comparators (tool name -> `(call, expected) -> bool | list[str]`)."""
    include_failed: bool = True
    """Count calls whose result was an error (they were made, so by default they count)."""
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or f"tool_calls_{self.mode}"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, EvaluationReason]:
        name = self.get_default_evaluation_name()
        t = trajectory_of(ctx)
        want = expected_calls(ctx, self.expected)
        if t is None or want is None:
            why = _NO_TRAJECTORY if t is None else "no expected trajectory for this case"
            return {name: EvaluationReason(False, why), f"{name}_score": EvaluationReason(0.0, why)}
        calls = _calls(t, self.include_failed)
        res = match_calls(calls, want, self.mode, arg_mode=self.arg_mode, comparators=self.comparators)
        return {
            name: EvaluationReason(res.passed, res.reason),
            f"{name}_score": EvaluationReason(res.score, res.reason),
        }


def _calls(t: Trajectory, include_failed: bool) -> list[ToolCall]:
    calls = t.tool_calls()
    if include_failed:
        return calls
    return [c for c in calls if not ((r := t.result_of(c)) is not None and r.error)]


@dataclass(kw_only=True)
class StepJudgement:
    """How one step (the i-th tool call against the i-th expected call) went."""

    index: int
    """1-based step number."""
    tool: str | None
    """Tool called (None when the run stopped before this expected step)."""
    expected_tool: str | None
    """Tool expected here (None when the run made more calls than expected)."""
    checks: dict[str, bool] = field(default_factory=dict)
    """Applicable checks: right_tool, right_args, executed (no error result), relevant_retrieval."""
    score: float = 0.0
    """Share of the applicable checks that passed."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.score == 1.0


@dataclass(kw_only=True)
class StepReport:
    """Per-step judgements rolled up."""

    steps: list[StepJudgement]
    score: float
    """Mean step score (1.0 for an empty expected and actual run)."""
    first_failure: StepJudgement | None

    @property
    def passed(self) -> bool:
        return self.first_failure is None

    def reason(self) -> str:
        ok = sum(s.ok for s in self.steps)
        if self.first_failure is None:
            return f"all {len(self.steps)} steps right"
        f = self.first_failure
        return f"{ok}/{len(self.steps)} steps right; first wrong: step {f.index} ({f.tool!r}): " + "; ".join(f.problems)


def judge_steps(
    trajectory: Trajectory,
    expected: list[ExpectedCall],
    *,
    arg_mode: ArgMode = "exact",
    comparators: Mapping[str, CallComparator] | None = None,
    relevant: Mapping[str, int] | None = None,
    retrieval_tools: tuple[str, ...] = (),
    id_field: str = "document_id",
) -> StepReport:
    """Judge the i-th tool call against the i-th expected call, each on its own.

    Checks per step: right_tool (name equals the expected one), right_args (arguments pass `arg_mode`
    or the tool's comparator; only when the tool is right), executed (its result is not an error), and
    relevant_retrieval (for a retrieval tool - one in `retrieval_tools`, or any tool whose result holds
    ids when that is empty - with `relevant` given: at least one retrieved id is relevant). An expected
    step the run never reached scores 0; an extra call scores 0 on right_tool.
    """
    calls = trajectory.tool_calls()
    steps: list[StepJudgement] = []
    for i in range(max(len(calls), len(expected))):
        call = calls[i] if i < len(calls) else None
        exp = expected[i] if i < len(expected) else None
        j = StepJudgement(index=i + 1, tool=call.tool_name if call else None, expected_tool=exp.tool if exp else None)
        if call is None:
            j.checks["right_tool"] = False
            j.problems.append(f"missing: expected {exp.tool!r} but the run stopped")  # type: ignore[union-attr]
        else:
            j.checks["right_tool"] = exp is not None and call.tool_name == exp.tool
            if exp is None:
                j.problems.append("extra call beyond the expected trajectory")
            elif not j.checks["right_tool"]:
                j.problems.append(f"tool {call.tool_name!r} instead of {exp.tool!r}")
            else:
                diffs = compare_call(call, exp, arg_mode, comparators=comparators)
                j.checks["right_args"] = not diffs
                j.problems.extend(diffs)
            result = trajectory.result_of(call)
            if result is not None:
                j.checks["executed"] = not result.error
                if result.error:
                    j.problems.append(f"tool error: {str(result.content)[:80]}")
                ids = ids_in(result.content, id_field) if not result.error else []
                is_retrieval = call.tool_name in retrieval_tools if retrieval_tools else bool(ids)
                if relevant and is_retrieval:
                    hit = [d for d in ids if relevant.get(d, 0) > 0]
                    j.checks["relevant_retrieval"] = bool(hit)
                    if not hit:
                        j.problems.append(f"retrieved nothing relevant ({ids[:5]})")
        j.score = sum(j.checks.values()) / len(j.checks) if j.checks else 1.0
        steps.append(j)
    score = sum(s.score for s in steps) / len(steps) if steps else 1.0
    return StepReport(steps=steps, score=score, first_failure=next((s for s in steps if not s.ok), None))


@dataclass(repr=False)
class StepwiseMatch(Evaluator[Any, Any, Any]):
    """Each tool call judged on its own (see `judge_steps`), rolled up.

    Returns `<name>` (all steps right, reason naming the first wrong step), `<name>_score` (mean step
    score) and `<name>_first_bad_step` (1-based, 0 when none).
    """

    expected: list[ExpectedCall] | None = None
    arg_mode: ArgMode = "exact"
    comparators: dict[str, CallComparator] = field(default_factory=dict)
    relevant: Mapping[str, int] | None = None
    """Relevant document ids; default: the case's `expected_documents`."""
    retrieval_tools: tuple[str, ...] = ()
    id_field: str = "document_id"
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "steps"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, EvaluationReason | int]:
        name = self.get_default_evaluation_name()
        t = trajectory_of(ctx)
        want = expected_calls(ctx, self.expected)
        if t is None or want is None:
            why = _NO_TRAJECTORY if t is None else "no expected trajectory for this case"
            return {name: EvaluationReason(False, why), f"{name}_score": EvaluationReason(0.0, why)}
        report = judge_steps(
            t,
            want,
            arg_mode=self.arg_mode,
            comparators=self.comparators,
            relevant=expected_documents(ctx, self.relevant),
            retrieval_tools=self.retrieval_tools,
            id_field=self.id_field,
        )
        why = report.reason()
        return {
            name: EvaluationReason(report.passed, why),
            f"{name}_score": EvaluationReason(report.score, why),
            f"{name}_first_bad_step": report.first_failure.index if report.first_failure else 0,
        }


@dataclass(repr=False)
class Efficiency(Evaluator[Any, Any, Any]):
    """Steps, tool calls, tokens, cost and latency of a run against budgets (None = no budget).

    steps = model turns (agent-loop iterations); tokens = input + output; cost = the trajectory's own
    `cost_usd` when the provider gave one, else tokens priced with `*_price_per_mtok` (USD per million);
    latency = the trajectory's `duration_s`, else the case's measured duration. Returns the measured
    numbers and `<name>` = within every budget (the reason lists the overruns).
    """

    max_steps: int | None = None
    max_tool_calls: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_latency_s: float | None = None
    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "within_budget"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, EvaluationReason | float | int]:
        name = self.get_default_evaluation_name()
        t = trajectory_of(ctx)
        if t is None:
            return {name: EvaluationReason(False, _NO_TRAJECTORY)}
        cost = t.usage.cost_usd
        if cost is None and self.input_price_per_mtok is not None and self.output_price_per_mtok is not None:
            cost = (
                t.usage.input_tokens * self.input_price_per_mtok + t.usage.output_tokens * self.output_price_per_mtok
            ) / 1e6
        measured: dict[str, float | int | None] = {
            "steps": len(t.model_turns()),
            "tool_calls": len(t.tool_calls()),
            "tokens": t.usage.total_tokens,
            "cost_usd": cost,
            "latency_s": t.duration_s if t.duration_s is not None else ctx.duration,
        }
        budgets = {
            "steps": self.max_steps,
            "tool_calls": self.max_tool_calls,
            "tokens": self.max_tokens,
            "cost_usd": self.max_cost_usd,
            "latency_s": self.max_latency_s,
        }
        over: list[str] = []
        for key, limit in budgets.items():
            if limit is None:
                continue
            value = measured[key]
            if value is None:
                over.append(f"{key} unknown (budget {limit})")
            elif value > limit:
                over.append(f"{key} {value:g} > {limit:g}")
        out: dict[str, EvaluationReason | float | int] = {k: v for k, v in measured.items() if v is not None}
        checked = [k for k, v in budgets.items() if v is not None]
        out[name] = EvaluationReason(not over, "; ".join(over) if over else f"within budget on {checked}")
        return out
