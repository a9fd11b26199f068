"""`Guard`: a pure ASGI middleware in front of the API: API key, content type, body size, JSON depth.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware` (which adds a task and a stream per request). It
runs before FastAPI parses anything, so a request without a valid key is answered 401 whatever its body.
"""

from __future__ import annotations

from typing import Any

from aiagents.service.auth import KeyRing
from aiagents.service.errors import error_bytes
from aiagents.service.json_depth import exceeds_depth

__all__ = ["Guard", "PUBLIC_PATHS", "too_deep_message"]

PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
UPLOAD_PREFIX = "/v1/tasks/"
"""Where multipart/form-data bodies (file uploads) are accepted."""

Scope = dict[str, Any]


async def _send_error(send: Any, status: int, code: str, message: str, extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    body = error_bytes(code, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def too_deep_message(what: str, depth: int, limit: int) -> str:
    return f"{what} nests {depth} levels deep; the limit is {limit} (AIAGENTS_MAX_JSON_DEPTH): send flatter JSON"


class Guard:
    def __init__(
        self,
        app: Any,
        *,
        keys: KeyRing,
        max_body_bytes: int,
        max_upload_bytes: int | None = None,
        max_json_depth: int = 64,
    ) -> None:
        self.app = app
        self.keys = keys
        self.max_json_depth = max_json_depth
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes if max_upload_bytes is not None else max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        authorization = headers.get(b"authorization")
        principal = self.keys.authenticate(authorization.decode("latin-1") if authorization else None)
        if principal is None:
            message = (
                "missing API key: send 'Authorization: Bearer KEY'"
                if not authorization
                else "invalid API key: send 'Authorization: Bearer KEY' with a key from AIAGENTS_API_KEYS"
            )
            await _send_error(send, 401, "unauthorized", message, [(b"www-authenticate", b"Bearer")])
            return
        scope.setdefault("state", {})["principal"] = principal
        if scope["method"] in ("POST", "PUT", "PATCH"):
            ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            # multipart/form-data: file uploads to prompt tasks only, under their own (larger) limit.
            upload = ctype == b"multipart/form-data" and scope["path"].startswith(UPLOAD_PREFIX)
            if ctype != b"application/json" and not upload:
                shown = ctype.decode("latin-1") or "none"
                also = f" (or multipart/form-data to {UPLOAD_PREFIX}NAME)" if ctype == b"multipart/form-data" else ""
                await _send_error(
                    send, 415, "unsupported_media_type", f"send the body as application/json{also}, not {shown}"
                )
                return
            limit = self.max_upload_bytes if upload else self.max_body_bytes
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                await _send_error(send, 413, "payload_too_large", self._too_large(int(length), upload))
                return
            # Read the body here (bounded), so a chunked body cannot grow past the limit either.
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _send_error(send, 413, "payload_too_large", self._too_large(size, upload))
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if not upload and (depth := exceeds_depth(body, self.max_json_depth)) is not None:
                await _send_error(send, 400, "too_deep", too_deep_message("the body", depth, self.max_json_depth))
                return
            sent = False

            async def replay() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _too_large(self, size: int, upload: bool = False) -> str:
        if upload:
            return (
                f"multipart body of {size} bytes or more exceeds the upload limit of {self.max_upload_bytes} "
                "(AIAGENTS_MAX_UPLOAD_BYTES)"
            )
        return (
            f"request body of {size} bytes or more exceeds the limit of {self.max_body_bytes} (AIAGENTS_MAX_BODY_BYTES)"
        )
