"""The FastAPI app: `create_app()` (uvicorn factory) with the task, RAG, agent, feedback and read endpoints.

Every answer carries `request_id`, `trace_id` and `variant`; every request that reached an endpoint is
logged (through the background writer, never waiting on the database or on Phoenix); every error is
`{"error": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import difflib
import gc
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from opentelemetry.trace import Status, StatusCode
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiagents.errors import RunError, UserError
from aiagents.logstore import FeedbackRecord, RequestRecord
from aiagents.media_store import MediaStore, MediaTooLargeError, MediaTypeError, check_upload, media_settings
from aiagents.rollout.hooks import variant_overrides
from aiagents.service.auth import Principal
from aiagents.service.config import ServiceSettings
from aiagents.service.errors import ServiceError, error_body
from aiagents.service.guard import Guard, too_deep_message
from aiagents.service.json_depth import exceeds_depth
from aiagents.service.models import (
    TASK_MULTIPART_SCHEMA,
    AgentRequest,
    AskRequest,
    ErrorBody,
    FeedbackAccepted,
    FeedbackRequest,
    Health,
    ServiceAnswer,
    TaskRequest,
    Usage,
)
from aiagents.service.runners import Served
from aiagents.service.state import ServiceState
from aiagents.tracing import KEEP_TRACE, hot_tracer, trace_id_hex, trace_sampled
from aiagents.tracing import attributes as oi

__all__ = ["create_app", "DEFAULT_VARIANT"]

log = logging.getLogger("aiagents.service")
DEFAULT_VARIANT = "default"
_bearer = HTTPBearer(auto_error=False, description="An API key from AIAGENTS_API_KEYS / AIAGENTS_ADMIN_KEYS.")
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Malformed JSON",
        401: "Missing or wrong API key",
        404: "Unknown task, index or request",
        413: "Body too large",
        415: "Not application/json",
        422: "Invalid input",
        502: "The model run failed",
    }.items()
}


def _state(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


def _principal(request: Request) -> Principal:
    return request.state.principal  # type: ignore[no-any-return]


def _admin(request: Request) -> Principal:
    principal = _principal(request)
    if not principal.admin:
        raise ServiceError(403, "forbidden", "this endpoint needs an admin key (AIAGENTS_ADMIN_KEYS)")
    return principal


async def _serve(
    request: Request,
    *,
    endpoint: str,
    name: str,
    inputs: Any,
    user_id: str | None,
    session_id: str | None,
    metadata: dict[str, Any],
    run: Callable[[], Awaitable[Served]],
    assignment: Any = None,
) -> ServiceAnswer:
    """Run one request inside its root span, log it, answer it (or raise its `ServiceError`).

    `assignment` (`aiagents.rollout.Assignment`): the experiment variant serving it, recorded in the log and span;
    a candidate's trace is marked `KEEP_TRACE` (kept whatever the sampling ratio).
    """
    state = _state(request)
    variant = assignment.variant.name if assignment is not None else DEFAULT_VARIANT
    experiment = assignment.experiment if assignment is not None else None
    principal = _principal(request)
    request_id = state.ids.new(principal.fingerprint)
    created = time.time()
    started = time.perf_counter()
    served: Served | None = None
    error: ServiceError | None = None
    tracer = hot_tracer("aiagents.service")
    clean_input = state.clean(inputs)  # what the span and the log keep: redacted, secrets scrubbed
    output: Any = None
    with tracer.start_as_current_span(f"{endpoint} {name}") as span:
        if span.is_recording():  # one call: a span takes each attribute under its lock
            metadata_ = {"request_id": request_id, "endpoint": endpoint, "name": name, "variant": variant,
                         "experiment": experiment}  # fmt: skip
            span.set_attributes({
                oi.SPAN_KIND: oi.CHAIN,
                oi.INPUT_VALUE: state.dumps(clean_input),
                oi.INPUT_MIME_TYPE: "application/json",
                oi.METADATA: state.dumps(metadata_),
                **({oi.USER_ID: user_id} if user_id else {}),
                **({oi.SESSION_ID: session_id} if session_id else {}),
                **({KEEP_TRACE: True} if assignment is not None and assignment.candidate else {}),
            })  # fmt: skip
        trace_id = trace_id_hex(span)
        context = span.get_span_context()
        span_id = f"{context.span_id:016x}" if context.is_valid else None
        try:
            served = await run()
        except ServiceError as exc:
            error = exc
        except UserError as exc:
            error = ServiceError(422, "invalid_input", str(exc))
        except RunError as exc:
            error = ServiceError(502, "run_failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - answered as JSON 500, logged with the request
            log.exception("request %s (%s %s) failed", request_id, endpoint, name)
            error = ServiceError(500, "internal_error", f"{type(exc).__name__}: {state.scrub(str(exc))}")
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error.message))
        else:
            output = state.scrub(served.output)  # type: ignore[union-attr]
            if span.is_recording():
                span.set_attributes({oi.OUTPUT_VALUE: state.dumps(output), oi.OUTPUT_MIME_TYPE: "application/json"})
                span.set_status(Status(StatusCode.OK))
    latency_ms = (time.perf_counter() - started) * 1000
    usage = served.usage if served is not None else None
    sampled = trace_sampled(span)  # the root span ended: an unsampled trace was kept or forgotten by now
    state.log_request(
        RequestRecord(
            request_id=request_id,
            created_at=created,
            endpoint=endpoint,
            name=name,
            input=clean_input,
            output=output,
            prompt_name=served.prompt_name if served else None,
            prompt_version=served.prompt_version if served else None,
            model=served.model if served else None,
            variant=variant,
            experiment=experiment,
            latency_ms=latency_ms,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            cost_usd=usage.cost_usd if usage else None,
            status=error.status if error else 200,
            error_code=error.code if error else None,
            error_message=error.message if error else None,
            user_id=user_id,
            session_id=session_id,
            trace_id=trace_id,
            span_id=span_id,
            trace_sampled=sampled,
            key_fingerprint=principal.fingerprint,
            metadata=metadata,
        )
    )
    if error is not None:
        error.request_id = request_id
        raise error
    assert served is not None
    return ServiceAnswer(
        output=served.output,
        request_id=request_id,
        trace_id=trace_id,
        variant=variant,
        prompt=served.prompt_name,
        prompt_version=served.prompt_version,
        model=served.model,
        latency_ms=round(latency_ms, 3),
        usage=Usage(
            input_tokens=served.usage.input_tokens,
            output_tokens=served.usage.output_tokens,
            cost_usd=served.usage.cost_usd,
        ),
    )


_TASK_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TaskRequest.model_json_schema()},
            "multipart/form-data": {"schema": TASK_MULTIPART_SCHEMA},
        },
    }
}
_FORM_FIELDS = ("input", "metadata", "user_id", "session_id")
Uploads = dict[str, tuple[bytes, str | None]]


async def _task_body(request: Request) -> tuple[TaskRequest, Uploads]:
    """The task body from JSON, or from multipart/form-data (form fields + file parts named after variables)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        try:
            return TaskRequest.model_validate_json(await request.body()), {}
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None
    try:
        form = await request.form(max_files=32, max_fields=256)
    except StarletteHTTPException as exc:
        message = f"the multipart/form-data body is invalid: {exc.detail}"
        raise ServiceError(400, "malformed_multipart", message) from None
    fields: dict[str, Any] = {}
    texts: dict[str, Any] = {}
    files: Uploads = {}
    try:
        for key, value in form.multi_items():
            if key in fields or key in texts or key in files:
                raise ServiceError(422, "validation_error", f"{key}: sent more than once in the form")
            if isinstance(value, UploadFile):
                files[key] = (await value.read(), value.filename)
            elif key in ("input", "metadata"):
                limit = _state(request).settings.max_json_depth
                if (depth := exceeds_depth(value, limit)) is not None:
                    raise ServiceError(400, "too_deep", too_deep_message(f"form field {key!r}", depth, limit))
                try:
                    fields[key] = json.loads(value)
                except ValueError as exc:
                    raise ServiceError(400, "malformed_json", f"form field {key!r} is not valid JSON: {exc}") from None
            elif key in _FORM_FIELDS:
                fields[key] = value
            else:
                texts[key] = value
    finally:
        await form.close()
    given = fields.get("input", {})
    if not isinstance(given, dict):
        raise ServiceError(422, "validation_error", "input: the form field 'input' must hold a JSON object")
    twice = sorted((set(given) & set(texts)) | (set(given) & set(files)) | (set(texts) & set(files)))
    if twice:
        raise ServiceError(422, "validation_error", f"{', '.join(twice)}: given both in 'input' and as a form part")
    try:
        return TaskRequest.model_validate({**fields, "input": {**given, **texts}}), files
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def _data_url(value: Any) -> bytes | None:
    """The bytes of a base64 `data:` URL, else None."""
    if not isinstance(value, str) or not value.startswith("data:"):
        return None
    header, sep, payload = value.partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


async def _media_inputs(
    request: Request, task: Any, inputs: dict[str, Any], files: Uploads
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(inputs for the run, inputs for the log): uploads checked and stored by hash; the log keeps references.

    A media variable takes a file part, an http(s) URL (passed to the provider) or a base64 `data:` URL;
    never a path on the server.
    """
    variables = task.prompt.variables
    media = [n for n in task.prompt.media_variables if n in inputs]
    if not files and not media:
        return inputs, inputs
    uploads: Uploads = dict(files)
    for name in media:
        value = inputs[name]
        if value is None or (isinstance(value, str) and value.startswith(("http://", "https://"))):
            continue
        data = _data_url(value)
        if data is None:
            raise ServiceError(
                422, "invalid_input", f"{name}: send the {variables[name].kind} as a multipart/form-data file part "
                f"named {name!r}, or as an http(s) or base64 data: URL (paths on the server are not read)",
            )  # fmt: skip
        uploads[name] = (data, None)
    store: MediaStore = request.app.state.media
    limit = request.app.state.media_limits.media_max_bytes
    keep = _state(request).writer is not None  # files are kept for the request log only
    for name, (data, filename) in uploads.items():  # every part checked before any is stored
        kind = variables[name].kind if name in variables else None
        if kind not in ("image", "file"):
            what = f"is a {kind} variable: send it as a form field" if kind else "is not one of its variables"
            raise ServiceError(
                422, "invalid_input", f"file part {name!r}: {name!r} {what} (task {task.name!r} takes: "
                f"{', '.join(f'{n} ({v.kind})' for n, v in variables.items())})",
            )  # fmt: skip
        try:
            check_upload(data, kind=kind, name=name, filename=filename, max_bytes=limit)
        except MediaTooLargeError as exc:
            raise ServiceError(413, "payload_too_large", str(exc)) from None
        except MediaTypeError as exc:
            raise ServiceError(415, "unsupported_media_type", str(exc)) from None
    run, logged = dict(inputs), dict(inputs)
    for name, (data, filename) in uploads.items():
        kind = variables[name].kind
        stored = await asyncio.to_thread(
            store.store_upload, data, kind=kind, name=name, filename=filename, max_bytes=limit, keep=keep
        )
        run[name], logged[name] = stored.part, stored.ref
    return run, logged


def _router() -> APIRouter:
    api = APIRouter(prefix="/v1", dependencies=[Depends(_bearer)], responses=_ERRORS)

    @api.post("/tasks/{name}", response_model=ServiceAnswer, tags=["run"], openapi_extra=_TASK_BODY_DOC)
    async def run_task(name: str, request: Request) -> ServiceAnswer:
        """Run the prompt task `name` (a prompt with an output model) on `input` (JSON), or on form fields
        and uploaded files (multipart/form-data; each file part named after its image/file variable)."""
        state = _state(request)
        task = state.tasks.task(name)  # unknown task: 404 before anything is logged or traced
        body, files = await _task_body(request)
        run_inputs, logged_inputs = await _media_inputs(request, task, body.input, files)

        assignment = state.route(f"tasks/{name}", body.user_id, body.session_id)

        async def run() -> Served:
            return await state.tasks.run(
                name, run_inputs, user_id=body.user_id, session_id=body.session_id, metadata=body.metadata or None,
                **variant_overrides(assignment),
            )  # fmt: skip

        return await _serve(
            request, endpoint="task", name=name, inputs=logged_inputs, user_id=body.user_id,
            session_id=body.session_id, metadata=body.metadata, run=run, assignment=assignment,
        )  # fmt: skip

    @api.post("/ask", response_model=ServiceAnswer, tags=["run"])
    async def ask(body: AskRequest, request: Request) -> ServiceAnswer:
        """Answer a question from an index (hybrid retrieval, then a cited answer)."""
        state = _state(request)
        await state.ask.pipeline(body.index)  # unknown index: answered before logging

        assignment = state.route(f"ask/{body.index}", body.user_id, body.session_id)
        mode = (assignment.variant.mode if assignment is not None else None) or body.mode

        async def run() -> Served:
            return await state.ask.run(
                body.index, body.question, k=body.k, mode=mode, filters=body.filters,
                user_id=body.user_id, session_id=body.session_id,
            )  # fmt: skip

        inputs = {
            "question": body.question,
            "index": body.index,
            "k": body.k,
            "mode": mode,
            "filters": body.filters,
        }
        return await _serve(
            request, endpoint="ask", name=body.index, inputs=inputs, user_id=body.user_id,
            session_id=body.session_id, metadata=body.metadata, run=run, assignment=assignment,
        )  # fmt: skip

    @api.post("/agent", response_model=ServiceAnswer, tags=["run"], responses={501: {"model": ErrorBody}})
    async def agent(body: AgentRequest, request: Request) -> ServiceAnswer:
        """One turn of an agent conversation over an index (multi-turn through `session_id`)."""
        state = _state(request)
        if body.index is None:
            raise ServiceError(422, "validation_error", "index: the docs agent needs an index to search")
        await state.agents.agent(body.agent, body.index)  # unknown agent or index: answered before logging
        assignment = state.route(f"agent/{body.agent}", body.user_id, body.session_id)
        model = {"model": assignment.variant.model} if assignment is not None and assignment.variant.model else {}
        toolset = assignment.variant.toolset if assignment is not None else None

        async def run() -> Served:
            return await state.agents.run(
                body.agent, body.index, body.message, toolset=toolset, session_id=body.session_id,
                user_id=body.user_id, metadata=body.metadata or None, **model,
            )  # fmt: skip

        inputs = {"message": body.message, "agent": body.agent, "index": body.index}
        return await _serve(
            request, endpoint="agent", name=body.agent, inputs=inputs, user_id=body.user_id,
            session_id=body.session_id, metadata=body.metadata, run=run, assignment=assignment,
        )  # fmt: skip

    @api.post("/feedback", response_model=FeedbackAccepted, status_code=202, tags=["feedback"])
    async def feedback(body: FeedbackRequest, request: Request) -> FeedbackAccepted:
        """Feedback on one of your requests: thumbs, a comment, the corrected output, or accepted as is."""
        state = _state(request)
        principal = _principal(request)
        if not state.ids.verify(body.request_id, principal.fingerprint):
            raise ServiceError(404, "unknown_request", f"no request {body.request_id!r} made with this API key")
        implicit = body.corrected_output is not None or body.accepted is not None
        record = FeedbackRecord(
            request_id=body.request_id,
            kind="implicit" if implicit else "explicit",
            thumbs=body.thumbs,
            comment=body.comment,
            corrected_output=body.corrected_output,
            accepted=body.accepted,
            user_id=body.user_id,
            key_fingerprint=principal.fingerprint,
            metadata=body.metadata,
        )
        state.log_feedback(record)
        return FeedbackAccepted(feedback_id=record.feedback_id, request_id=body.request_id)

    @api.get("/requests", tags=["admin"])
    def list_requests(
        request: Request,
        since: float | None = Query(None, description="Only requests at or after this time (epoch seconds)."),
        limit: int = Query(100, ge=1, le=10_000),
        endpoint: str | None = Query(None),
        errors: bool = Query(False, description="Only failed requests."),
        _: Principal = Depends(_admin),
    ) -> dict[str, Any]:
        """The request log, newest first (admin key)."""
        state = _state(request)
        if state.writer is not None:
            state.writer.flush(timeout=5)
        rows = state.store.list_requests(since=since, limit=limit, endpoint=endpoint, errors_only=errors)  # type: ignore[union-attr]
        return {"requests": rows}

    @api.get("/requests/{request_id}", tags=["admin"])
    def get_request(request_id: str, request: Request, _: Principal = Depends(_admin)) -> dict[str, Any]:
        """One logged request and its feedback (admin key)."""
        state = _state(request)
        if state.writer is not None:
            state.writer.flush(timeout=5)
        row = state.store.get_request(request_id)  # type: ignore[union-attr]
        if row is None:
            raise ServiceError(404, "unknown_request", f"no request {request_id!r} in the log")
        return {"request": row, "feedback": state.store.list_feedback(request_id=request_id)}  # type: ignore[union-attr]

    @api.get("/stats", tags=["admin"])
    def stats(request: Request, since: float | None = Query(None), _: Principal = Depends(_admin)) -> dict[str, Any]:
        """Counts over the log: requests, feedback, errors, thumbs, corrections, latency, tokens, cost (admin key)."""
        state = _state(request)
        if state.writer is not None:
            state.writer.flush(timeout=5)
        return state.store.stats(since=since)  # type: ignore[union-attr]

    return api


# The JSON body model of each endpoint, to name the field a user most likely meant ("inputs" -> "input").
_BODY_MODELS: dict[str, type[BaseModel]] = {
    "/v1/tasks/": TaskRequest,
    "/v1/ask": AskRequest,
    "/v1/agent": AgentRequest,
    "/v1/feedback": FeedbackRequest,
}


def _did_you_mean(path: str, error: dict[str, Any]) -> str:
    """' (did you mean `input`?)' for an unknown body field close to a known one, else the known fields."""
    model = next((m for prefix, m in _BODY_MODELS.items() if path.startswith(prefix)), None)
    loc = [p for p in error.get("loc", ()) if p != "body"]
    if model is None or error.get("type") != "extra_forbidden" or len(loc) != 1:
        return ""
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[0]), known, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else f" (the body's fields: {', '.join(known)})"


def _validation_message(exc: RequestValidationError, path: str = "") -> tuple[int, str, str]:
    errors = exc.errors()
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        where = bad_json.get("ctx", {}).get("error", "")
        return 400, "malformed_json", f"the body is not valid JSON{': ' + str(where) if where else ''}"
    parts = []
    for e in errors[:10]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {e.get('msg')}{_did_you_mean(path, e)}")
    return 422, "validation_error", "; ".join(parts)


def create_app(settings: ServiceSettings | None = None, *, database_url: str | None = None) -> FastAPI:
    """The service app (`uvicorn --factory aiagents.service.app:create_app`)."""
    settings = settings or ServiceSettings()
    state = ServiceState(settings, database_url=database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        if media_limits.media_retention_days is not None and settings.request_log:
            pruned = await asyncio.to_thread(app.state.media.prune, older_than_days=media_limits.media_retention_days)
            log.info("uploaded media: %d files past retention deleted, %d kept", pruned.removed, pruned.kept)
        log.info(
            "aiagents service (pid %d): %s, request log %s",
            os.getpid(),
            "API keys required" if not state.keys.open else "no API keys configured (local use only)",
            "on" if state.writer is not None else "off",
        )
        # What start-up left alive (modules, schemas, prompts, clients) leaves the garbage collector's reach, so
        # its full collections walk only what requests create: on the benchmark's load a full collection took
        # 0.4 s (a pause every few seconds, on every request in flight) and takes about 15 ms frozen.
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        state.stop()

    app = FastAPI(
        title="aiagents service",
        description="Prompt tasks, RAG answers and agents over HTTP, with a request log and user feedback.",
        version="1",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry spans (HTTP server, dependencies, endpoint, serialisation) would wrap our
        # CHAIN span: Phoenix would show an input-less HTTP span as the trace root, and each request would export
        # 7 spans instead of 3 (measured: about a third of the cost of tracing). The CHAIN span is the root.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.service = state
    media_limits = media_settings()
    app.state.media, app.state.media_limits = MediaStore(), media_limits
    app.include_router(_router())

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        return Health(auth=not state.keys.open, request_log=settings.request_log, pid=os.getpid())

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.request_id), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc, request.url.path)
        return JSONResponse(error_body(code, message), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", type(exc).__name__), status_code=500)

    app.add_middleware(
        Guard,
        keys=state.keys,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=media_limits.max_upload_bytes,
        max_json_depth=settings.max_json_depth,
    )
    from aiagents.service.dashboard import DashboardGate

    app.add_middleware(DashboardGate, state=state)  # outermost: /dashboard has its own admin check and login form
    return app
