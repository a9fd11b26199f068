"""Service errors: each becomes `{"error": {"code": ..., "message": ...}}` with its HTTP status."""

from __future__ import annotations

import json
from typing import Any

from aiagents.errors import UserError

__all__ = ["ServiceError", "error_body", "error_bytes"]


class ServiceError(UserError):
    """An answer the client must change something for (or that the service cannot give)."""

    def __init__(self, status: int, code: str, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


def error_body(code: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": message}
    if request_id:
        detail["request_id"] = request_id
    return {"error": detail}


def error_bytes(code: str, message: str) -> bytes:
    return json.dumps(error_body(code, message)).encode()
