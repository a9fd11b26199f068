"""One `Settings` object for the whole framework, read from `AIAGENTS_*` variables and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["OUTPUT_MODES", "OutputMode", "Settings", "get_settings", "reset_settings", "sample_ratio"]

OutputMode = Literal["tool", "native", "prompted"]
"""How a model gives structured output: an output tool, the provider's JSON-schema format, or the schema in the
prompt (the front matter's `output_mode`, `AIAGENTS_OUTPUT_MODE`, a call's `output_mode=`)."""
OUTPUT_MODES: tuple[str, ...] = get_args(OutputMode)


def sample_ratio(value: object, variable: str) -> float:
    """`value` read as a trace sampling ratio from 0 to 1; a ValueError naming `variable` otherwise."""
    try:
        ratio = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        ratio = float("nan")
    if not 0.0 <= ratio <= 1.0:  # NaN fails too
        raise ValueError(f"{variable}={value!r}: give a sampling ratio from 0 to 1, e.g. 0.1")
    return ratio


class Settings(BaseSettings):
    """Framework configuration. Every field can be set as `AIAGENTS_<FIELD>` or in `.env`.

    The standard provider variables (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`) and
    `PHOENIX_COLLECTOR_ENDPOINT` are honoured when the `AIAGENTS_` form is not set.
    """

    model_config = SettingsConfigDict(
        env_prefix="AIAGENTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path(".aiagents"), description="All local state lives here.")
    model_cache_dir: Path = Field(
        default=Path.home() / ".cache" / "aiagents",
        description="Derived model files shared by every data folder (e.g. the ONNX export of the embedder).",
    )
    model: str | None = Field(default=None, description="Default model, e.g. 'openai:gpt-4.1-mini' or 'offline'.")
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    max_retries: int = Field(default=3, description="Provider SDK retries on 429/5xx and connection errors.")
    model_timeout: float = Field(default=120.0, gt=0, description="Seconds a model call may take before it fails.")
    output_mode: OutputMode | None = Field(
        default=None,
        description="How structured output is asked for when a prompt's front matter and the call do not say "
        "(default: per model: native for OpenAI-compatible servers, else tool).",
    )
    phoenix_collector_endpoint: str | None = Field(
        default=None, description="Phoenix base URL, e.g. http://127.0.0.1:6006"
    )
    phoenix_project: str = "aiagents"
    phoenix_api_key: SecretStr | None = None
    tracing: bool = Field(default=True, description="Export spans (to Phoenix or the local spool).")
    prompts_dir: Path | None = Field(
        default=None, description="Extra folder of prompt files, searched before the shipped prompts."
    )
    trace_media: str = Field(default="inline", description="How images appear on spans: 'inline' data or 'hash' only.")
    trace_sample_ratio: float | None = Field(
        default=None,
        description="Share of traces sent to Phoenix, 0 to 1 (unset: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, "
        "else 1.0). Traces with an error or an experiment candidate are sent whatever the ratio.",
    )
    serving_label: str = Field(
        default="production",
        description="The prompt label the service and `Task(name)` serve (the working file when a prompt has none).",
    )

    @field_validator("openai_api_key", "anthropic_api_key", "phoenix_api_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("trace_sample_ratio", mode="before")
    @classmethod
    def _ratio(cls, value: object) -> object:
        return None if value in ("", None) else sample_ratio(value, "AIAGENTS_TRACE_SAMPLE_RATIO")

    def model_post_init(self, _context: object) -> None:
        fallbacks = {
            "openai_api_key": "OPENAI_API_KEY",
            "openai_base_url": "OPENAI_BASE_URL",
            "anthropic_api_key": "ANTHROPIC_API_KEY",
            "phoenix_collector_endpoint": "PHOENIX_COLLECTOR_ENDPOINT",
            "phoenix_api_key": "PHOENIX_API_KEY",
        }
        for field, env in fallbacks.items():
            if getattr(self, field) is None and os.environ.get(env):
                value = os.environ[env]
                setattr(self, field, SecretStr(value) if field.endswith("_key") else value)

    # Derived locations under the data folder.
    @property
    def phoenix_dir(self) -> Path:
        return self.data_dir / "phoenix"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def indexes_dir(self) -> Path:
        return self.data_dir / "indexes"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; `reset_settings()` re-reads the environment)."""
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
