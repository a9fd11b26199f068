"""Values every store takes, the same way on SQLite and PostgreSQL.

Two kinds of text arrive through valid JSON and are refused by one store or the other: the NUL character
(PostgreSQL text cannot hold it) and lone surrogates such as "\\udc80" (not encodable as UTF-8, so SQLite's
driver refuses them). Text columns keep them escaped as visible `\\u0000` / `\\udc80`; JSON columns are
written ASCII-escaped, which is still valid JSON and decodes back to exactly the value that was sent.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["storable_text", "storable_json", "is_storable"]


def is_storable(text: str) -> bool:
    """True when `text` holds no NUL and encodes as UTF-8."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(text: str) -> str:
    """`text` with NUL and lone surrogates written as backslash escapes (unchanged when already storable)."""
    if is_storable(text):
        return text
    text = text.replace("\x00", "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def storable_json(value: Any) -> str:
    """`value` as JSON text any store takes (non-ASCII kept readable unless it holds a lone surrogate)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if text.isascii() or is_storable(text):  # json.dumps escapes NUL itself
        return text
    return json.dumps(value, ensure_ascii=True, default=str)
