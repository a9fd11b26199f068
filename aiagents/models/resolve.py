"""Turn a model name into a pydantic-ai model: providers, OpenAI-compatible servers, the offline baseline."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai.models import Model

from aiagents.errors import AiAgentsError, ModelNotConfiguredError, UnknownModelError, UserError
from aiagents.settings import OUTPUT_MODES, Settings, get_settings

__all__ = [
    "OFFLINE",
    "ResolvedModel",
    "default_model_name",
    "resolve_model",
    "model_display_name",
]

OFFLINE = "offline"
DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"

_FORMS = (
    "'offline', 'openai:<model>' (Chat Completions), 'openai-responses:<model>', "
    "'anthropic:<model>', 'openai-compatible:<model>@<base_url>', 'replay:<trajectory.json>', 'scripted:<calls.yaml>'"
)


@dataclass(kw_only=True)
class ResolvedModel:
    """A model ready to call, with the name it was asked for."""

    name: str
    """The name as given, e.g. 'openai:gpt-4.1-mini' (what logs and spans record)."""
    provider: str
    """'offline', 'openai', 'anthropic' or 'openai-compatible'."""
    model: Model


def default_model_name(settings: Settings | None = None) -> str:
    """`AIAGENTS_MODEL` if set; else a provider whose key is configured; else the offline model."""
    settings = settings or get_settings()
    if settings.model:
        return settings.model
    if settings.openai_api_key is not None:
        return f"openai:{DEFAULT_OPENAI_MODEL}"
    if settings.anthropic_api_key is not None:
        return f"anthropic:{DEFAULT_ANTHROPIC_MODEL}"
    return OFFLINE


def model_display_name(model: Model | str) -> str:
    """A short name for logs and spans, whatever form the model was given in."""
    if isinstance(model, str):
        return model
    system = getattr(model, "system", None)
    return f"{system}:{model.model_name}" if system and system != "function" else model.model_name


def resolve_model(name: str | Model | None = None, *, settings: Settings | None = None) -> ResolvedModel:
    """Resolve `name` (or the configured default) to a pydantic-ai model.

    Raises `UnknownModelError` for a name of no known form and `ModelNotConfiguredError` when a
    provider's key is missing.
    """
    settings = settings or get_settings()
    if isinstance(name, Model):
        return ResolvedModel(name=model_display_name(name), provider="custom", model=name)
    name = (name or default_model_name(settings)).strip()
    if name == OFFLINE:
        from aiagents.models.offline import OfflineModel

        return ResolvedModel(name=OFFLINE, provider=OFFLINE, model=OfflineModel())
    prefix, sep, rest = name.partition(":")
    if not sep or not rest:
        raise UnknownModelError(f"Unknown model name {name!r}. Use one of: {_FORMS}.")
    if prefix == "replay":  # a recorded trajectory played back: agent evals and rehearsals with a signal offline
        from aiagents.models.replay import ReplayModel

        try:
            return ResolvedModel(name=name, provider="replay", model=ReplayModel.load(rest, check_prompt=False))
        except (OSError, ValueError, AiAgentsError) as exc:
            raise UnknownModelError(
                f"Model {name!r}: cannot replay {rest!r} ({exc}); record one with --record"
            ) from None
    if prefix == "scripted":  # fixed tool calls round by round, then a final answer: offline tests and rehearsals
        from aiagents.models.scripted import load_scripted_model

        return ResolvedModel(name=name, provider="scripted", model=load_scripted_model(rest))
    if prefix in ("openai", "openai-chat", "openai-responses"):
        return ResolvedModel(name=name, provider="openai", model=_openai(rest, prefix, settings))
    if prefix == "anthropic":
        return ResolvedModel(name=name, provider="anthropic", model=_anthropic(rest, settings))
    if prefix == "openai-compatible":
        model_name, at, base_url = rest.rpartition("@")
        if not at or not model_name or not base_url.startswith(("http://", "https://")):
            raise UnknownModelError(
                f"Model name {name!r}: write 'openai-compatible:<model>@<base_url>', "
                "e.g. 'openai-compatible:llama3.2@http://127.0.0.1:11434/v1'."
            )
        return ResolvedModel(
            name=name, provider="openai-compatible", model=_openai_compatible(model_name, base_url, settings)
        )
    raise UnknownModelError(f"Unknown model provider {prefix!r} in {name!r}. Use one of: {_FORMS}.")


def _openai(model_name: str, prefix: str, settings: Settings) -> Model:
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if key is None and not settings.openai_base_url:
        raise ModelNotConfiguredError(
            f"Model 'openai:{model_name}' needs an API key: set OPENAI_API_KEY (or AIAGENTS_OPENAI_API_KEY), "
            "or use --model offline."
        )
    client = AsyncOpenAI(
        api_key=key or "not-needed", base_url=settings.openai_base_url, max_retries=settings.max_retries,
        timeout=settings.model_timeout,
    )  # fmt: skip
    provider = OpenAIProvider(openai_client=client)
    if prefix == "openai-responses":
        return OpenAIResponsesModel(model_name, provider=provider)
    return OpenAIChatModel(model_name, provider=provider)


def _openai_compatible(model_name: str, base_url: str, settings: Settings) -> Model:
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    # Local servers (Ollama, vLLM, LM Studio) usually ignore the key; a hosted one takes OPENAI_API_KEY.
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    client = AsyncOpenAI(
        api_key=key, base_url=base_url, max_retries=settings.max_retries, timeout=settings.model_timeout
    )
    return OpenAIChatModel(model_name, provider=OpenAIProvider(openai_client=client))


def _anthropic(model_name: str, settings: Settings) -> Model:
    try:
        from anthropic import AsyncAnthropic
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider
    except ImportError as exc:  # pragma: no cover - the extra is a dependency
        raise ModelNotConfiguredError("Anthropic models need `pip install 'pydantic-ai-slim[anthropic]'`.") from exc
    if settings.anthropic_api_key is None:
        raise ModelNotConfiguredError(
            f"Model 'anthropic:{model_name}' needs an API key: set ANTHROPIC_API_KEY "
            "(or AIAGENTS_ANTHROPIC_API_KEY), or use --model offline."
        )
    client = AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(), max_retries=settings.max_retries,
        timeout=settings.model_timeout,
    )  # fmt: skip
    return AnthropicModel(model_name, provider=AnthropicProvider(anthropic_client=client))


def check_output_mode(mode: str | None, *, name: str = "output_mode") -> str | None:
    """`mode` when it is one of `OUTPUT_MODES` (or None); a `UserError` naming `name` otherwise."""
    if mode is not None and mode not in OUTPUT_MODES:
        raise UserError(f"{name} {mode!r}: use tool, native or prompted")
    return mode


def default_output_mode(resolved: ResolvedModel) -> str:
    """How a structured answer is asked of this model when the prompt and the call do not say: the configured
    `AIAGENTS_OUTPUT_MODE`, else per provider.

    OpenAI-compatible servers (llama.cpp's server, vLLM, Ollama, LM Studio) mostly run small open models that
    seldom call an output tool but all enforce a JSON schema given as `response_format`: native. Otherwise the
    model profile's default (pydantic-ai's: tool, which OpenAI, Anthropic and the offline baseline handle)."""
    configured = get_settings().output_mode  # AIAGENTS_OUTPUT_MODE, or `eval run --output-mode`
    if configured:
        return configured
    if resolved.provider == "openai-compatible":
        return "native"
    profile_mode = getattr(getattr(resolved.model, "profile", None), "default_structured_output_mode", "tool")
    return profile_mode if profile_mode in OUTPUT_MODES else "tool"
