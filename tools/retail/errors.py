"""Errors of the retail-shop environment (misuse of data files or of the runner, not tool errors).

Tool errors are not raised: a tool returns a string starting with ``"Error:"`` so the model can recover.
"""

from __future__ import annotations

from aiagents.tools.environment.errors import EnvironmentDataError, EnvironmentRunnerError

__all__ = ["RetailDataError", "RetailRunnerError"]


class RetailDataError(EnvironmentDataError):
    """A retail data folder, database file or task file is missing or malformed (names the file/line)."""


class RetailRunnerError(EnvironmentRunnerError):
    """The task runner was called wrongly (for example neither a model nor an agent factory)."""
