"""The docs toolset: `search_docs` and `fetch_document` over any retriever.

```python
from aiagents.retrieval import Retriever, get_embedder, open_index
from aiagents.tools.docs import docs_toolset

toolset = docs_toolset(Retriever(open_index("help"), get_embedder()))
```

The retriever is duck-typed: any object with `search(query, k, mode, filters) -> list[Hit]` (hits with
`id`, `text`, `score`, `document_id`, `metadata`). `fetch_document` reads chunks by id through
`retriever.index.get(ids)` when the retriever has an index, or through the `fetch` callable given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from aiagents.tools.base import DEFAULT_TOOL_TIMEOUT_S, ToolError, make_toolset
from pydantic import Field
from pydantic_ai import FunctionToolset

from aiagents.citations import citation_label
from aiagents.errors import UserError

__all__ = ["SearchBackend", "DocsTools", "docs_toolset", "MAX_K", "MAX_CHUNKS_PER_DOCUMENT"]

MAX_K = 20
"""Most hits one search may return (more floods the model's context)."""
MAX_CHUNKS_PER_DOCUMENT = 200
"""Most chunks `fetch_document` joins into one document."""

FilterValue = str | int | float | bool | list[str | int | float | bool]


class SearchBackend(Protocol):
    """What the docs tools need from a retriever."""

    def search(
        self, query: str, k: int = ..., mode: Any = ..., filters: Mapping[str, Any] | None = ...
    ) -> list[Any]: ...


def _hit(hit: Any, max_chars: int) -> dict[str, Any]:
    text = str(getattr(hit, "text", ""))
    document_id = str(getattr(hit, "document_id", "") or "")
    return {
        "id": str(hit.id),
        "document_id": document_id,
        "source": citation_label(
            document_id or str(hit.id), getattr(hit, "metadata", {}) or {}, getattr(hit, "heading_path", ()) or ()
        ),
        "text": text if len(text) <= max_chars else text[:max_chars] + " …",
        "score": round(float(getattr(hit, "score", 0.0)), 6),
        "metadata": dict(getattr(hit, "metadata", {}) or {}),
    }


@dataclass(kw_only=True)
class DocsTools:
    """The two docs tools bound to one retriever."""

    retriever: SearchBackend
    """Object with `search(query, k, mode, filters)`."""
    mode: str = "hybrid"
    """Search mode passed to the retriever ('bm25', 'dense' or 'hybrid')."""
    max_chars: int = 1500
    """Hit texts longer than this are cut (the model still gets the id to fetch the whole document)."""
    fetch: Callable[[Sequence[str]], Sequence[Any]] | None = None
    """Reads chunks by id; defaults to `retriever.index.get`."""

    def search_docs(
        self,
        query: str,
        k: Annotated[int, Field(ge=1, le=MAX_K)] = 5,
        filters: dict[str, FilterValue] | None = None,
    ) -> list[dict[str, Any]]:
        """Search the documentation and return the best matching passages, best first.

        Args:
            query: What to look for, in natural language or keywords.
            k: How many passages to return (1 to 20).
            filters: Optional metadata filters on a passage's fields, e.g. {"document_id": "refunds.md"} (the
                document ids search results show), {"source": "manual.pdf", "page": 3} or {"format": "pdf"}; a
                list value matches any.
        """
        if not query.strip():
            raise ToolError("The query is empty: pass the words to search for.")
        try:
            hits = self.retriever.search(query, k=k, mode=self.mode, filters=filters or None)
        except (UserError, ValueError, KeyError, TypeError) as exc:  # a filter the index cannot take: tell the model
            fields = "document_id, or a metadata field the results show"
            raise ToolError(f"Search failed: {exc}. Filter on {fields}, or search without filters.") from exc
        return [_hit(h, self.max_chars) for h in hits]

    def fetch_document(self, id: str) -> dict[str, Any]:
        """Fetch a whole document, or one passage, by the id a search returned.

        Args:
            id: A passage id (like "refunds.md#0") or a document id (like "refunds.md", or a PDF page's
                "manual.pdf#p3"), as search results show.
        """
        reader = self._reader()
        chunks = list(reader([id]))
        if not chunks:  # a document id (a PDF page's holds '#' too: "manual.pdf#p3")
            chunks = [c for c in reader([f"{id}#{i}" for i in range(MAX_CHUNKS_PER_DOCUMENT)])]
            chunks.sort(key=lambda c: getattr(c, "position", 0))
        if not chunks:
            hint = " (a PDF is fetched page by page: 'manual.pdf#p3')" if id.lower().endswith(".pdf") else ""
            raise ToolError(f"No document or passage with id {id!r}{hint}: use an id from search_docs results.")
        first = chunks[0]
        return {
            "id": id,
            "document_id": str(getattr(first, "document_id", id)),
            "text": "\n\n".join(str(c.text) for c in chunks),
            "passages": [str(c.id) for c in chunks],
            "metadata": dict(getattr(first, "metadata", {}) or {}),
        }

    def _reader(self) -> Callable[[Sequence[str]], Sequence[Any]]:
        if self.fetch is not None:
            return self.fetch
        index = getattr(self.retriever, "index", None)
        if index is None or not hasattr(index, "get"):
            raise ToolError("This search backend cannot fetch documents by id; use search_docs instead.")
        return index.get  # type: ignore[no-any-return]


def docs_toolset(
    retriever: SearchBackend,
    *,
    mode: str = "hybrid",
    timeout: float = DEFAULT_TOOL_TIMEOUT_S,
    max_retries: int = 2,
    fetch: Callable[[Sequence[str]], Sequence[Any]] | None = None,
    include_fetch: bool = True,
) -> FunctionToolset[Any]:
    """A toolset with `search_docs` (and `fetch_document` unless `include_fetch=False`)."""
    tools = DocsTools(retriever=retriever, mode=mode, fetch=fetch)
    functions = [tools.search_docs, *([tools.fetch_document] if include_fetch else [])]
    return make_toolset(functions, id="docs", timeout=timeout, max_retries=max_retries)
