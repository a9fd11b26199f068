"""`SpanAnnotationSender`: span annotations to Phoenix over its REST API, from inside the service.

Why not `phoenix.client.Client` here (the CLI and evals use it): with the `arize-phoenix` server installed
beside `arize-phoenix-client`, `import phoenix.client` first runs the server package's `phoenix/__init__.py`,
which imports the whole Phoenix server: measured here, 6.5 s, about 5,500 modules and +280 MB of memory
in every service worker, and a heap of 500,000 more objects for each garbage collection to walk. The
service only ever needs one call, `POST /v1/span_annotations`, which is what the client sends
(`client.spans.log_span_annotations(span_annotations=..., sync=True)`): the same body, the same response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

__all__ = ["SpanAnnotationSender"]


class SpanAnnotationSender:
    """Posts `SpanAnnotationData` dicts (span_id, name, annotator_kind, result, metadata, identifier)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 5.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)

    def log_span_annotations(self, annotations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Insert (or, for a known `identifier`, update) the annotations; returns Phoenix's ids for them.

        Raises `httpx.HTTPError` when Phoenix is down or refuses them (e.g. a span it does not have yet).
        """
        if not annotations:
            return []
        response = self._http.post("/v1/span_annotations", params={"sync": "true"}, json={"data": list(annotations)})
        response.raise_for_status()
        return list(response.json().get("data", []))

    def close(self) -> None:
        self._http.close()
