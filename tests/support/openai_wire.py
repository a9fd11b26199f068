"""A real HTTP server on 127.0.0.1 speaking the OpenAI Chat Completions wire format, scripted per test.

Each POST to /v1/chat/completions takes the next scripted reply (status, JSON body) and records the request
body, so tests can assert exactly what a provider would have received.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "OpenAIWireServer", "tool_call_reply", "text_reply", "error_reply", "raw_tool_call_reply", "length_reply",
]  # fmt: skip


def _completion(message: dict[str, Any], finish_reason: str, usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "wire-test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


def tool_call_reply(
    *calls: tuple[str, dict[str, Any]], usage: tuple[int, int] = (50, 10)
) -> tuple[int, dict[str, Any]]:
    """A 200 reply whose assistant message requests the given tool calls."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": f"call_{i}_{name}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(calls)
        ],
    }
    return 200, _completion(message, "tool_calls", usage)


def text_reply(text: str, usage: tuple[int, int] = (40, 8)) -> tuple[int, dict[str, Any]]:
    return 200, _completion({"role": "assistant", "content": text}, "stop", usage)


def raw_tool_call_reply(
    name: str, arguments: str, *, content: str | None = None, usage: tuple[int, int] = (50, 10)
) -> tuple[int, dict[str, Any]]:
    """A tool call whose arguments are `arguments` as sent (malformed JSON too), after `content` prose if given."""
    call = {"id": f"call_raw_{name}", "type": "function", "function": {"name": name, "arguments": arguments}}
    return 200, _completion({"role": "assistant", "content": content, "tool_calls": [call]}, "tool_calls", usage)


def length_reply(text: str, usage: tuple[int, int] = (40, 512)) -> tuple[int, dict[str, Any]]:
    """A text answer cut off at the token limit (`finish_reason=length`)."""
    return 200, _completion({"role": "assistant", "content": text}, "length", usage)


def error_reply(status: int, message: str = "scripted error") -> tuple[int, dict[str, Any]]:
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    return status, {"error": {"message": message, "type": kind, "code": kind}}


@dataclass
class OpenAIWireServer:
    """Start with `start()`, script replies with `script(...)`, read `requests` afterwards."""

    replies: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: tuple[Any, ...]) -> None:
        self.replies.extend(replies)

    def start(self) -> OpenAIWireServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(body)
                owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self.path.endswith("/chat/completions"):
                    status, reply = 404, {"error": {"message": f"no route {self.path}"}}
                elif owner.replies:
                    status, reply, *delay = owner.replies.pop(0)
                    if delay:  # a slow server: answer after `delay` seconds (the client may have given up)
                        time.sleep(delay[0])
                else:
                    status, reply = error_reply(500, "the test scripted no more replies")
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("retry-after-ms", "10")
                    self.send_header("retry-after", "0")
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
