"""Scripted models issuing given tool calls (the general `aiagents.tools.environment.scripted`)."""

from __future__ import annotations

from aiagents.tools.environment.scripted import gold_model, scripted_tool_model

__all__ = ["gold_model", "scripted_tool_model"]
