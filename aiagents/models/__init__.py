"""Model layer: resolve a model name to a pydantic-ai model; the offline baseline; usage and cost."""

from aiagents.models.extractive import ExtractiveAnswer, Source, answer_extractively
from aiagents.models.offline import OFFLINE_MODEL_NAME, SIMULATED_USER_ROLE, OfflineModel, offline_policy
from aiagents.models.replay import REPLAY_MODEL_PREFIX, ReplayDivergenceError, ReplayModel
from aiagents.models.resolve import (
    OFFLINE,
    OUTPUT_MODES,
    ResolvedModel,
    check_output_mode,
    default_model_name,
    default_output_mode,
    model_display_name,
    resolve_model,
)
from aiagents.models.schema_fill import fill_schema
from aiagents.models.scripted import load_scripted_model, scripted_model
from aiagents.models.usage import CallUsage, usage_of

__all__ = [
    "check_output_mode",
    "load_scripted_model",
    "scripted_model",
    "OUTPUT_MODES",
    "default_output_mode",
    # resolution
    "OFFLINE",
    "ResolvedModel",
    "default_model_name",
    "model_display_name",
    "resolve_model",
    # offline baseline
    "OFFLINE_MODEL_NAME",
    "SIMULATED_USER_ROLE",
    "OfflineModel",
    "offline_policy",
    # replay
    "ReplayModel",
    "ReplayDivergenceError",
    "REPLAY_MODEL_PREFIX",
    "fill_schema",
    "Source",
    "ExtractiveAnswer",
    "answer_extractively",
    # usage
    "CallUsage",
    "usage_of",
]
