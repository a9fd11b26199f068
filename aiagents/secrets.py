"""One scrubber for secrets, applied wherever data leaves the process: exported spans (and so the spool and
Phoenix), the request log, the journal and the dead-letter file.

It removes the configured secrets (provider keys, Phoenix and Qdrant keys, and whatever the service
registers: its client and admin keys and its signing secret) and values shaped like common API keys
(OpenAI `sk-...`, Anthropic `sk-ant-...`, AWS `AKIA...`, GitHub `ghp_...`, Slack `xox.-...`, Google `AIza...`),
so a key a user pastes into an input is not exported either.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

__all__ = ["REDACTED", "KEY_PATTERNS", "Scrubber", "configured_secrets", "register_secrets", "scrubber"]

REDACTED = "[REDACTED]"
KEY_PATTERNS = (
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",
    r"\bxox[abpr]-[A-Za-z0-9\-]{10,}",
    r"\bAIza[0-9A-Za-z_\-]{35}\b",
)
"""Common API key shapes, redacted even when not configured here."""
MIN_SECRET_LENGTH = 4
"""Shorter configured values are not treated as secrets (replacing 'abc' everywhere would garble text)."""


class Scrubber:
    """Replaces secrets in strings, and in the strings of nested JSON-like data, by '[REDACTED]'."""

    def __init__(self, secrets: Iterable[str] = (), *, patterns: bool = True) -> None:
        literal = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        parts = [re.escape(s) for s in literal] + (list(KEY_PATTERNS) if patterns else [])
        self.secrets = literal
        self._pattern = re.compile("|".join(parts)) if parts else None

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(REDACTED, value)

    def contains_secret(self, value: str) -> bool:
        return self._pattern is not None and self._pattern.search(value) is not None

    def value(self, value: Any) -> Any:
        """Strings scrubbed at any depth of dicts, lists and tuples (keys too); other values as they are.

        Walks with an explicit stack, not recursion: client data nested 1,000 levels parses fine in Python and
        would overflow a recursive walk."""
        if self._pattern is None or value is None:
            return value
        sub = self._pattern.sub
        if isinstance(value, str):
            return sub(REDACTED, value)
        if not isinstance(value, dict | list | tuple):
            return value
        root: list[Any] = [None]
        stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
        while stack:
            item, parent, key = stack.pop()
            if isinstance(item, str):
                parent[key] = sub(REDACTED, item)
            elif isinstance(item, dict):
                parent[key] = out = {}
                for k, v in item.items():
                    k = sub(REDACTED, k) if isinstance(k, str) else k
                    out[k] = None
                    stack.append((v, out, k))
            elif isinstance(item, list | tuple):
                parent[key] = out = [None] * len(item)
                stack.extend((v, out, i) for i, v in enumerate(item))
            else:
                parent[key] = item
        return root[0]


_registered: set[str] = set()
_lock = threading.Lock()
_cached: tuple[tuple[str, ...], Scrubber] | None = None


def register_secrets(values: Iterable[str]) -> None:
    """Add secrets this process knows (the service registers its API keys and signing secret)."""
    global _cached
    with _lock:
        _registered.update(v for v in values if v)
        _cached = None


def configured_secrets() -> list[str]:
    """The secret settings of the framework (provider, Phoenix keys; `AIAGENTS_QDRANT_API_KEY`) and the
    registered ones."""
    import os

    from aiagents.settings import get_settings

    settings = get_settings()
    values = [
        v.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(v := getattr(settings, name), SecretStr) and v.get_secret_value()
    ]
    if qdrant := os.environ.get("AIAGENTS_QDRANT_API_KEY"):
        values.append(qdrant)
    with _lock:
        values.extend(_registered)
    return values


def scrubber() -> Scrubber:
    """The process's scrubber for the current configuration (rebuilt when the secrets change)."""
    global _cached
    secrets = tuple(sorted(set(configured_secrets())))
    cached = _cached
    if cached is not None and cached[0] == secrets:
        return cached[1]
    built = Scrubber(secrets)
    _cached = (secrets, built)
    return built
