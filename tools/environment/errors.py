"""Errors of an environment: misuse of its data files or of the runner (never a tool's error).

Tool errors are not raised to the caller: a tool returns a string starting with ``"Error:"`` or raises
`ToolError`, and the model sees the message and may recover.
"""

from __future__ import annotations

from aiagents.errors import UserError

__all__ = ["EnvironmentDataError", "EnvironmentRunnerError"]


class EnvironmentDataError(UserError):
    """A data folder, table file or task file is missing or malformed (the message names the file and line)."""


class EnvironmentRunnerError(UserError):
    """The runner was called wrongly (for example neither a model nor an agent factory)."""
