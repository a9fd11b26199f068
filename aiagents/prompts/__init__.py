"""Versioned prompts: files with front matter, content-hash versions, labels, history and diffs."""

from aiagents.prompts.prompt import Prompt, PromptVariable, VariableKind, content_version, parse_prompt
from aiagents.prompts.registry import LABELS, PromptRegistry, PromptVersion, get_prompt, shipped_prompts_dir

__all__ = [
    # one prompt
    "Prompt",
    "PromptVariable",
    "VariableKind",
    "parse_prompt",
    "content_version",
    # registry
    "LABELS",
    "PromptRegistry",
    "PromptVersion",
    "get_prompt",
    "shipped_prompts_dir",
]
