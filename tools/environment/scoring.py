"""tau-bench's reward: the database state equals the gold replay's, and every required output was said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aiagents.tools.environment.database import Database

__all__ = ["GoldReplay", "Score", "output_found", "score_run"]


@dataclass(kw_only=True)
class GoldReplay:
    """The result of replaying a task's gold actions on a fresh database."""

    db: Database
    """The database after the replay."""
    results: list[str]
    """Each action's tool result, in order."""

    @property
    def state_hash(self) -> str:
        """The state hash after the replay."""
        return self.db.state_hash()

    @property
    def errors(self) -> list[str]:
        """The results that are errors (a gold action the tools refused)."""
        return [r for r in self.results if r.startswith("Error:")]


@dataclass(kw_only=True)
class Score:
    """How one run scored."""

    reward: float
    """1.0 when the state matches and every output was found, else 0.0."""
    state_match: bool
    """The database state equals the gold replay's."""
    missing_outputs: list[str] = field(default_factory=list)
    """Required outputs no reply contained."""
    state_differences: list[str] = field(default_factory=list)
    """``table/key`` of the records that differ from the gold state (empty when it matches)."""
    state_diff: list[str] = field(default_factory=list)
    """The differing fields, readable: ``orders/#W1.status: "pending" (expected "cancelled")``."""


def output_found(output: str, replies: Sequence[str]) -> bool:
    """tau-bench's output check: ``output`` (lower-cased) is in some reply lower-cased with commas removed."""
    needle = output.lower()
    return any(needle in reply.lower().replace(",", "") for reply in replies)


def score_run(task: object, db: Database, replies: Sequence[str], gold: GoldReplay) -> Score:
    """Score a run that left ``db`` and said ``replies`` against the task's gold replay (``task.outputs``)."""
    state_match = db.state_hash() == gold.state_hash
    outputs: Sequence[str] = getattr(task, "outputs", ())
    missing = [output for output in outputs if not output_found(output, replies)]
    return Score(
        reward=1.0 if state_match and not missing else 0.0,
        state_match=state_match,
        missing_outputs=missing,
        state_differences=[] if state_match else db.differences(gold.db),
        state_diff=[] if state_match else db.diff(gold.db),
    )
