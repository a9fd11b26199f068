"""aiagents: engineer LLM features with tests, evals, versioned prompts and traces."""

from aiagents.errors import (
    AiAgentsError,
    ModelCallError,
    OutputValidationError,
    PromptError,
    RunError,
    TruncatedOutputError,
    UserError,
)
from aiagents.settings import Settings, get_settings

__all__ = [
    # settings
    "Settings",
    "get_settings",
    # errors
    "AiAgentsError",
    "UserError",
    "PromptError",
    "RunError",
    "OutputValidationError",
    "ModelCallError",
    "TruncatedOutputError",
]
