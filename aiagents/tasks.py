"""Typed prompt calls, the simple case: input -> rendered prompt -> model -> validated pydantic output.

Stands on pydantic-ai's direct API (`model_request`: about 0.4 ms of overhead against 4-6 ms for an
`Agent.run`), with our own loop for validation retries, so that each call is exactly one CHAIN span
holding one LLM span per model request, carrying the prompt's name, version and variables.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from openinference.instrumentation import get_llm_input_message_attributes, get_llm_output_message_attributes
from opentelemetry.trace import Span, Status, StatusCode, use_span
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_ai.direct import model_request
from pydantic_ai.messages import (
    BinaryContent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryFeedbackPart,
    RetryInfo,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.output import OutputObjectDefinition
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from aiagents.errors import OutputValidationError, TruncatedOutputError
from aiagents.media import DEFAULT_MAX_BYTES, media_summary, to_content_part
from aiagents.models import CallUsage, ResolvedModel, check_output_mode, default_output_mode, resolve_model, usage_of
from aiagents.models.errors import model_call_error
from aiagents.prompts import Prompt, PromptRegistry
from aiagents.settings import get_settings
from aiagents.tracing import attributes as oi
from aiagents.tracing import hot_tracer, trace_id_hex

__all__ = ["Task", "TaskResult", "OUTPUT_TOOL_NAME"]

OutputT = TypeVar("OutputT")
OUTPUT_TOOL_NAME = "final_result"


@dataclass(kw_only=True)
class TaskResult(Generic[OutputT]):
    """The validated output of one task call and what it cost."""

    output: OutputT
    prompt_name: str
    prompt_version: str
    model: str
    """The model name as resolved, e.g. 'openai:gpt-4.1-mini' or 'offline'."""
    usage: CallUsage
    attempts: int
    """Model requests made (1 + validation retries)."""
    latency_ms: float
    trace_id: str | None = None
    messages: list[ModelMessage] = field(default_factory=list, repr=False)

    def output_json(self) -> Any:
        """The output as plain JSON-able data."""
        return _adapter(type(self.output)).dump_python(self.output, mode="json")


@functools.lru_cache(maxsize=256)
def _adapter(kind: type) -> TypeAdapter[Any]:
    """A `TypeAdapter` per output type (building one costs far more than using it)."""
    return TypeAdapter(kind)


class Task(Generic[OutputT]):
    """A versioned prompt bound to an output type: `await Task("listing-attributes", Listing).run({...})`.

    `prompt` is a `Prompt` or a prompt name, resolved by the registry: `version` or `label` pick one;
    `working_file=True` takes the file as it is now (what tests and evals of an edit run); otherwise what
    production serves: the version the serving label (`AIAGENTS_SERVING_LABEL`, default `production`) points
    at, with the model stored with it, or the file when the prompt has no such label;
    `output_type` defaults to the prompt's `output:` model, else `str`. On output that does not validate,
    the model is asked again with the validation errors, up to `retries` times, then
    `OutputValidationError` is raised. Image and file variables hold at most `media_max_bytes` each
    (default `AIAGENTS_MEDIA_MAX_BYTES`, the same limit the service puts on uploads).
    """

    def __init__(
        self,
        prompt: Prompt | str,
        output_type: type[OutputT] | None = None,
        *,
        model: str | Model | None = None,
        retries: int = 2,
        model_settings: ModelSettings | None = None,
        version: str | None = None,
        label: str | None = None,
        registry: PromptRegistry | None = None,
        media_max_bytes: int | None = None,
        working_file: bool = False,
        output_mode: str | None = None,
    ) -> None:
        self.served_from: str | None = None
        """How a prompt given by name was chosen: the serving label's name, 'file', 'version' or a label."""
        label_model: str | None = None
        if isinstance(prompt, str):
            prompt, label_model, self.served_from = (registry or PromptRegistry()).choose(
                prompt, version=version, label=label, working_file=working_file
            )
        self.prompt = prompt
        self.output_type: Any = output_type or prompt.output_type() or str
        self.model = model or label_model
        self.output_mode: str | None = check_output_mode(output_mode or prompt.output_mode)
        """tool, native or prompted; None: the model's default (`default_output_mode`)."""
        self.retries = retries
        self.model_settings = model_settings
        self._adapter: TypeAdapter[Any] = TypeAdapter(self.output_type)
        self._structured = self.output_type is not str
        self._params: dict[str, ModelRequestParameters] = {}
        self._resolved: ResolvedModel | None = None
        self._by_name: dict[str, ResolvedModel] = {}
        if media_max_bytes is None and prompt.media_variables:  # the limit the service puts on uploads
            from aiagents.media_store import MediaSettings

            media_max_bytes = MediaSettings().media_max_bytes
        self.media_max_bytes = media_max_bytes or DEFAULT_MAX_BYTES

    @property
    def name(self) -> str:
        return self.prompt.name

    def mode_for(self, resolved: ResolvedModel) -> str:
        """The structured-output mode of a call to `resolved`: the task's (call, prompt front matter), else the
        model's default."""
        return self.output_mode or default_output_mode(resolved)

    def _parameters(self, mode: str) -> ModelRequestParameters:
        params = self._params.get(mode)
        if params is None:
            params = self._params[mode] = self._request_parameters(mode)
        return params

    def _request_parameters(self, mode: str) -> ModelRequestParameters:
        if not self._structured:
            return ModelRequestParameters(output_mode="text", allow_text_output=True)
        schema = self._adapter.json_schema()
        if schema.get("type") != "object":
            schema = {"type": "object", "properties": {"response": schema}, "required": ["response"]}
            self._wrapped = True
        else:
            self._wrapped = False
        description = (schema.get("description") or f"The result of {self.prompt.name}.").strip()
        if mode in ("native", "prompted"):  # JSON in the answer text, the schema enforced or instructed
            output_object = OutputObjectDefinition(json_schema=schema, name=OUTPUT_TOOL_NAME, description=description)
            return ModelRequestParameters(output_mode=mode, output_object=output_object, allow_text_output=True)  # type: ignore[arg-type]
        tool = ToolDefinition(
            name=OUTPUT_TOOL_NAME, parameters_json_schema=schema, description=description, kind="output"
        )
        return ModelRequestParameters(output_mode="tool", output_tools=[tool], allow_text_output=False)

    def resolve(self, model: str | Model | None = None) -> ResolvedModel:
        """The model this call will use: the argument, else the task's, else the prompt's, else the default."""
        choice = model or self.model or self.prompt.model
        if choice is None and self._resolved is not None:
            return self._resolved
        if isinstance(choice, str) and choice in self._by_name:  # one model (and HTTP client) per name
            return self._by_name[choice]
        resolved = resolve_model(choice)
        if choice is None:
            self._resolved = resolved
        elif isinstance(choice, str):
            self._by_name[choice] = resolved
        return resolved

    def run_sync(self, inputs: dict[str, Any] | BaseModel | None = None, **kwargs: Any) -> TaskResult[OutputT]:
        """Blocking form of `run`."""
        return asyncio.run(self.run(inputs, **kwargs))

    async def run(
        self,
        inputs: dict[str, Any] | BaseModel | None = None,
        *,
        model: str | Model | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        span: Span | None = None,
    ) -> TaskResult[OutputT]:
        """Render the prompt with `inputs`, call the model, validate, retry on validation errors.

        `span`: an open span of the caller's (e.g. the service's request span) to record this call on instead
        of a CHAIN span of its own (one span less per call); the caller's input, metadata and user/session
        attributes on it are kept, the LLM spans become its children, and the caller records the output and
        status on it (a failure is still recorded here).
        """
        variables = inputs.model_dump(mode="json") if isinstance(inputs, BaseModel) else dict(inputs or {})
        system, user = self.prompt.render(variables)
        media = {
            name: to_content_part(
                variables[name], kind=self.prompt.variables[name].kind, name=name, max_bytes=self.media_max_bytes
            )  # type: ignore[arg-type]
            for name in self.prompt.media_variables
            if variables.get(name) is not None
        }
        # What spans and logs keep of the inputs: media as type, size and hash, never the bytes.
        variables = {k: (media_summary(media[k]) if k in media else v) for k, v in variables.items()}
        resolved = self.resolve(model)
        mode = self.mode_for(resolved)
        settings: ModelSettings = {**self.prompt.parameters, **(self.model_settings or {})}  # type: ignore[typeddict-item]
        tracer = hot_tracer("aiagents.tasks")
        started = time.perf_counter()
        meta = {"prompt": self.prompt.name, "prompt_version": self.prompt.version, "model": resolved.name}
        variables_json = json.dumps(variables, ensure_ascii=False, default=str)
        own = span is None
        scope = tracer.start_as_current_span(f"task {self.prompt.name}") if own else use_span(span, end_on_exit=False)
        with scope as chain:
            if own:  # one call setting them all: a span takes each attribute under its lock
                chain.set_attributes({
                    oi.SPAN_KIND: oi.CHAIN,
                    oi.INPUT_VALUE: variables_json,
                    oi.INPUT_MIME_TYPE: "application/json",
                    oi.METADATA: json.dumps({**meta, **(metadata or {})}, default=str),
                    oi.PROMPT_ID: self.prompt.name,
                    **({oi.USER_ID: user_id} if user_id else {}),
                    **({oi.SESSION_ID: session_id} if session_id else {}),
                })  # fmt: skip
            else:
                chain.set_attribute(oi.PROMPT_ID, self.prompt.name)
            content: str | list[Any] = [user, *media.values()] if media else user
            first = ModelRequest(
                parts=[*([SystemPromptPart(system)] if system else []), UserPromptPart(content)],
            )
            messages: list[ModelMessage] = [first]
            usage = CallUsage()
            last_text: str | None = None
            errors = ""
            for attempt in range(1, self.retries + 2):
                response = await self._request(resolved, messages, settings, variables_json, user_id, session_id, mode)
                usage = usage + usage_of(response)
                messages.append(response)
                if response.finish_reason == "length":  # cut off at the token limit: never used as an answer
                    error = TruncatedOutputError(
                        f"Task {self.prompt.name!r} (model {resolved.name}): the model stopped at its output token "
                        f"limit after {usage_of(response).output_tokens} tokens (finish_reason=length), so its answer "
                        "is cut off; raise `max_tokens` in the prompt's parameters or ask for a shorter answer."
                    )
                    chain.record_exception(error)
                    chain.set_status(Status(StatusCode.ERROR, str(error)))
                    raise error
                output, retry, last_text, errors = self._validate(response, mode)
                if retry is None:
                    if own and chain.is_recording():
                        chain.set_attributes({
                            oi.OUTPUT_VALUE: json.dumps(self._adapter.dump_python(output, mode="json"),
                                                        ensure_ascii=False),
                            oi.OUTPUT_MIME_TYPE: "application/json",
                        })  # fmt: skip
                        chain.set_status(Status(StatusCode.OK))
                    return TaskResult(
                        output=output,
                        prompt_name=self.prompt.name,
                        prompt_version=self.prompt.version,
                        model=resolved.name,
                        usage=usage,
                        attempts=attempt,
                        latency_ms=(time.perf_counter() - started) * 1000,
                        trace_id=trace_id_hex(chain),
                        messages=messages,
                    )
                messages.append(ModelRequest(parts=[retry]))
            error = OutputValidationError(
                f"Task {self.prompt.name!r} (prompt version {self.prompt.version}, model {resolved.name}): the "
                f"output did not fit {getattr(self.output_type, '__name__', self.output_type)} after "
                f"{self.retries + 1} attempts. Last errors: {errors}",
                attempts=self.retries + 1,
                last_output=last_text,
                errors=errors,
            )
            chain.record_exception(error)
            chain.set_status(Status(StatusCode.ERROR, str(error)))
            raise error

    async def _request(
        self,
        resolved: ResolvedModel,
        messages: list[ModelMessage],
        settings: ModelSettings,
        variables_json: str,
        user_id: str | None,
        session_id: str | None,
        mode: str,
    ) -> ModelResponse:
        tracer = hot_tracer("aiagents.tasks")
        with tracer.start_as_current_span(f"llm {resolved.model.model_name}") as span:
            if span.is_recording():
                span.set_attributes({
                    oi.SPAN_KIND: oi.LLM,
                    oi.LLM_MODEL_NAME: resolved.model.model_name,
                    oi.LLM_PROVIDER: resolved.provider,
                    oi.LLM_INVOCATION_PARAMETERS: json.dumps(settings, default=str),
                    oi.PROMPT_TEMPLATE: self.prompt.template,
                    oi.PROMPT_TEMPLATE_VERSION: self.prompt.version,
                    oi.PROMPT_TEMPLATE_VARIABLES: variables_json,
                    oi.PROMPT_ID: self.prompt.name,
                    **({oi.USER_ID: user_id} if user_id else {}),
                    **({oi.SESSION_ID: session_id} if session_id else {}),
                    **get_llm_input_message_attributes(_openinference_messages(messages)),
                    oi.INPUT_VALUE: _last_user_text(messages),
                })  # fmt: skip
            try:
                response = await model_request(
                    resolved.model,
                    messages,
                    model_settings=settings or None,
                    model_request_parameters=self._parameters(mode),
                )
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                explained = model_call_error(exc, resolved.name)
                if explained is not None:  # what the model or its server did, and what to do: no traceback
                    raise explained from exc
                raise
            if span.is_recording():
                usage = usage_of(response)
                span.set_attributes({
                    oi.LLM_TOKEN_COUNT_PROMPT: usage.input_tokens,
                    oi.LLM_TOKEN_COUNT_COMPLETION: usage.output_tokens,
                    oi.LLM_TOKEN_COUNT_TOTAL: usage.total_tokens,
                    **({oi.LLM_COST_TOTAL: usage.cost_usd} if usage.cost_usd is not None else {}),
                    **get_llm_output_message_attributes(_openinference_messages([response])),
                    oi.OUTPUT_VALUE: _response_text(response),
                })  # fmt: skip
                span.set_status(Status(StatusCode.OK))
            return response

    def _validate(self, response: ModelResponse, mode: str) -> tuple[Any, RetryPart | None, str | None, str]:
        """(output, None, text, "") when valid; (None, retry part, text, errors) otherwise."""
        if not self._structured:
            text = _response_text(response)
            if text:
                return text, None, text, ""
            return None, _feedback("Answer with text.", "no_output"), None, "no text in the response"
        call = next(
            (p for p in response.parts if isinstance(p, ToolCallPart) and p.tool_name == OUTPUT_TOOL_NAME),
            None,
        )
        if call is None:
            text = _response_text(response)
            raw: Any = _json_in_text(text)
            if raw is None:
                message = (
                    f"Respond by calling the `{OUTPUT_TOOL_NAME}` tool with the result."
                    if mode == "tool"
                    else "Respond with one JSON object that matches the schema, and nothing else."
                )
                return None, _feedback(message, "no_output"), text, message
        else:
            text = call.args if isinstance(call.args, str) else json.dumps(call.args)
            try:
                raw = call.args_as_dict()
            except ValueError as exc:
                return None, _tool_retry(call, f"Invalid JSON arguments: {exc}"), text, str(exc)
        if self._wrapped and isinstance(raw, dict):
            raw = raw.get("response", raw)
        try:
            return self._adapter.validate_python(raw), None, text, ""
        except ValidationError as exc:
            details = exc.errors(include_url=False, include_context=False)
            summary = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'output'}: {e['msg']}" for e in details)
            if call is not None:
                return None, _tool_retry(call, details), text, summary
            message = f"The output was invalid: {summary}. Call `{OUTPUT_TOOL_NAME}` with a valid result."
            return None, _feedback(message, "validation_error"), text, summary


RetryPart = ToolReturnPart | RetryFeedbackPart


def _tool_retry(call: ToolCallPart, content: Any) -> ToolReturnPart:
    """Answer the output-tool call with the validation errors, marked as a retry."""
    return ToolReturnPart(
        tool_name=call.tool_name,
        content=content,
        tool_call_id=call.tool_call_id,
        outcome="retried",
        retry=RetryInfo(cause="validation_error"),
    )


def _feedback(message: str, cause: Any) -> RetryFeedbackPart:
    return RetryFeedbackPart(content=message, retry=RetryInfo(cause=cause))


def _json_in_text(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.loads(text[start : text.rfind("}") + 1])
    except ValueError:
        return None


def _response_text(response: ModelResponse) -> str:
    texts = [p.content for p in response.parts if isinstance(p, TextPart)]
    if texts:
        return "\n".join(texts)
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    return json.dumps([{"tool": c.tool_name, "args": c.args_as_dict()} for c in calls]) if calls else ""


def _last_user_text(messages: list[ModelMessage]) -> str:
    for message in messages:
        for part in getattr(message, "parts", []):
            if isinstance(part, UserPromptPart):
                if isinstance(part.content, str):
                    return part.content
                return "\n".join(c for c in part.content if isinstance(c, str))
    return ""


INLINE_MEDIA_MAX_BYTES = 128 * 1024
"""Larger images are recorded on spans by hash and size only, so they never bloat the spool or Phoenix."""


def _content(item: Any) -> dict[str, Any]:
    """One user-content item as an OpenInference message content (text or image)."""
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if isinstance(item, BinaryContent):
        inline = get_settings().trace_media == "inline" and len(item.data) <= INLINE_MEDIA_MAX_BYTES
        if inline and item.is_image:
            return {"type": "image", "image": {"url": item.data_uri}}
        summary = media_summary(item)
        return {
            "type": "image" if item.is_image else "text",
            **(
                {"image": {"url": f"sha256:{summary['sha256']} ({summary['bytes']} bytes, {item.media_type})"}}
                if item.is_image
                else {"text": f"[file {item.media_type}, {summary['bytes']} bytes, sha256:{summary['sha256']}]"}
            ),
        }
    url = getattr(item, "url", None)
    return {"type": "image", "image": {"url": url}} if url else {"type": "text", "text": str(item)}


def _openinference_messages(messages: list[ModelMessage]) -> list[dict[str, Any]]:
    """pydantic-ai messages as OpenInference `Message` dicts (role, content, tool calls)."""
    result: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    result.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    if isinstance(part.content, str):
                        result.append({"role": "user", "content": part.content})
                    else:
                        result.append({"role": "user", "contents": [_content(c) for c in part.content]})
                elif isinstance(part, ToolReturnPart):
                    result.append({"role": "tool", "content": part.model_response_str()})
                elif isinstance(part, RetryFeedbackPart):
                    result.append({"role": "user", "content": str(part.content)})
        else:
            entry: dict[str, Any] = {"role": "assistant"}
            calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
            text = "\n".join(p.content for p in message.parts if isinstance(p, TextPart))
            if text or not calls:  # a reply that is only tool calls has no content to show
                entry["content"] = text
            if calls:
                entry["tool_calls"] = [
                    {"id": c.tool_call_id, "function": {"name": c.tool_name, "arguments": c.args_as_json_str()}}
                    for c in calls
                ]
            result.append(entry)
    return result
