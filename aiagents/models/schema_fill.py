"""Fill a JSON schema from free text by heuristics: the offline model's structured output.

This is a deliberately simple, deterministic baseline (the "is the LLM better than a heuristic?"
reference), not an attempt at extraction quality.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["fill_schema"]

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[ ,.]\d{3})+|\d+)(?:[.,](\d{1,2}))?(?![\w])")
_CURRENCY = re.compile(r"[€$£]|\b(?:eur|euros?|usd|dollars?|gbp|pounds?)\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NAME_HINTS: dict[str, tuple[str, ...]] = {
    "price": ("price", "asking", "for", "€", "$", "eur", "euro", "euros", "usd"),
    "confidence": (),
}


def fill_schema(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """Return an object for `schema` (a JSON schema of type object) guessed from `text`."""
    defs = schema.get("$defs", {})
    return _fill_object(schema, text, defs)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = {
            **defs.get(schema["$ref"].rsplit("/", 1)[-1], {}),
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    if "anyOf" in schema:  # Optional[X] or a union of literals
        options = [_resolve(s, defs) for s in schema["anyOf"]]
        consts = [v for o in options for v in o.get("enum", [])]
        if consts:
            return {"enum": consts}
        non_null = [o for o in options if o.get("type") != "null"]
        if non_null:
            return {**non_null[0], "nullable": len(non_null) < len(options)}
    if "const" in schema:
        return {"enum": [schema["const"]]}
    return schema


def _fill_object(schema: dict[str, Any], text: str, defs: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        sub = _resolve(sub, defs)
        value = _fill_value(name, sub, text, defs)
        if value is None and name not in required and "default" in sub:
            continue
        result[name] = value
    return result


def _fill_value(name: str, schema: dict[str, Any], text: str, defs: dict[str, Any]) -> Any:
    if "enum" in schema:
        return _pick_enum(name, schema["enum"], text, schema.get("default"))
    kind = schema.get("type")
    if kind == "object":
        return _fill_object(schema, text, defs)
    if kind == "array":
        return []
    if kind == "boolean":
        return _labelled(name, text) is not None or bool(schema.get("default", False))
    if kind in ("number", "integer"):
        number = _pick_number(name, text)
        if number is None and schema.get("nullable"):
            return None  # an optional number the text does not give
        if number is None:
            number = schema.get("default", schema.get("minimum", 0))
        if name.lower() == "confidence":
            number = 0.3  # a heuristic is never sure
        number = min(max(number, schema.get("minimum", number)), schema.get("maximum", number))
        return int(round(number)) if kind == "integer" else float(number)
    return _pick_string(name, schema, text)


def _labelled(name: str, text: str) -> str | None:
    """The value after 'Name:' on a line of the text, if the text labels it."""
    label = re.escape(name.replace("_", " "))
    match = re.search(rf"(?im)^\s*{label}\s*[:=]\s*(.+?)\s*$", text)
    return match.group(1) if match else None


def _pick_enum(name: str, values: list[Any], text: str, default: Any) -> Any:
    labelled = _labelled(name, text)
    haystack = (labelled or text).lower()
    best: tuple[int, int, Any] | None = None
    for value in values:
        words = str(value).lower().replace("_", " ").replace("-", " ")
        for variant in {words, words.rstrip("s"), str(value).lower()}:
            match = re.search(rf"\b{re.escape(variant)}s?\b", haystack)
            if match and (best is None or (match.start(), -len(variant)) < (best[0], best[1])):
                best = (match.start(), -len(variant), value)
    if best is not None:
        return best[2]
    if default is not None:
        return default
    return "other" if "other" in values else values[0]


def _numbers(text: str) -> list[tuple[int, float]]:
    found = []
    for match in _NUMBER.finditer(text):
        whole = re.sub(r"[ ,.]", "", match.group(1))
        value = float(whole + ("." + match.group(2) if match.group(2) else ""))
        found.append((match.start(), value))
    return found


def _pick_number(name: str, text: str) -> float | None:
    labelled = _labelled(name, text)
    if labelled and (numbers := _numbers(labelled)):
        return numbers[0][1]
    numbers = _numbers(text)
    if not numbers:
        return None
    hints = _NAME_HINTS.get(name.lower(), (name.lower().replace("_", " "),))
    anchors = [m.start() for h in hints for m in re.finditer(re.escape(h), text.lower())]
    if name.lower() == "price":
        anchors += [m.start() for m in _CURRENCY.finditer(text)]
    if not anchors:
        return numbers[0][1]
    return min(numbers, key=lambda n: min(abs(n[0] - a) for a in anchors))[1]


_ID_TOKEN = re.compile(r"#?[A-Za-z]*\d[\w-]*")


def _pick_string(name: str, schema: dict[str, Any], text: str) -> str:
    labelled = _labelled(name, text)
    id_like = name.lower() == "id" or name.lower().endswith(("_id", "id")) and len(name) > 2
    token = _ID_TOKEN.search(text) if id_like and not labelled else None
    if labelled:
        value = labelled
    elif token is not None:  # an id parameter: the first token with a digit (order W123, #W123, ticket 88)
        value = token.group(0)
    elif name.lower() in ("description", "text", "body", "content", "reasoning", "answer"):
        value = text.strip()
    else:
        first_line = text.strip().splitlines()[0] if text.strip() else ""
        value = _SENTENCE_END.split(first_line)[0].rstrip(".!? ")
    limit = schema.get("maxLength")
    if limit:
        value = value[:limit].rstrip()
    if schema.get("minLength", 0) > len(value):
        value = value.ljust(schema["minLength"], ".")
    return value
