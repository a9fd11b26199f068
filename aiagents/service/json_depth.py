"""How deep a JSON text nests, measured on the bytes before anything parses it.

Python parses JSON nested ~1,000 levels (its C decoder stops near the recursion limit) and then every recursive
walk over the value (scrubbing secrets, redaction, hashing, rendering) can overflow: the service refuses
bodies nested deeper than a limit before any of that runs. Measured without a Python loop per byte: a body
with fewer brackets than the limit cannot nest deeper (one `bytes.count`); otherwise strings are cut out with
a regular expression and the depth is the running sum of the remaining brackets.
"""

from __future__ import annotations

import re
from itertools import accumulate

__all__ = ["json_depth", "exceeds_depth"]

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(text: bytes | str) -> int:
    """The deepest nesting of arrays and objects in `text` (0 for a scalar; brackets inside strings ignored)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") == 0:
        return 0
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b'""', data))
    return max(0, max(accumulate(_STEP.get(b, 0) for b in brackets), default=0))


def exceeds_depth(text: bytes | str, limit: int) -> int | None:
    """The depth of `text` when it is deeper than `limit`, else None (cheap for the usual shallow body)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return None
    depth = json_depth(data)
    return depth if depth > limit else None
