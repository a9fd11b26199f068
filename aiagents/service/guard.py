"""`Guard`: a pure ASGI middleware in front of the API: API key, content type, body size.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware` (which adds a task and a stream per request). It
runs before FastAPI parses anything, so a request without a valid key is answered 401 whatever its body.
"""

from __future__ import annotations

from typing import Any

from aiagents.service.auth import KeyRing
from aiagents.service.errors import error_bytes

__all__ = ["Guard", "PUBLIC_PATHS"]

PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

Scope = dict[str, Any]


async def _send_error(send: Any, status: int, code: str, message: str, extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
    body = error_bytes(code, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app: Any, *, keys: KeyRing, max_body_bytes: int) -> None:
        self.app = app
        self.keys = keys
        self.max_body_bytes = max_body_bytes

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
            if ctype != b"application/json":
                shown = ctype.decode("latin-1") or "none"
                await _send_error(
                    send, 415, "unsupported_media_type", f"send the body as application/json, not {shown}"
                )
                return
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await _send_error(send, 413, "payload_too_large", self._too_large(int(length)))
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
                if size > self.max_body_bytes:
                    await _send_error(send, 413, "payload_too_large", self._too_large(size))
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
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

    def _too_large(self, size: int) -> str:
        return (
            f"request body of {size} bytes or more exceeds the limit of {self.max_body_bytes} (AIAGENTS_MAX_BODY_BYTES)"
        )
