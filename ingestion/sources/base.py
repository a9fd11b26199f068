"""The `Source` protocol: something that yields documents, and problems for items it could not read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from aiagents.ingestion.documents import Document, Problem

__all__ = ["Source", "read_all"]


@runtime_checkable
class Source(Protocol):
    """A lazy reader of documents. Broken items are yielded as `Problem`s, never raised."""

    name: str
    """What the source reads, for reports (usually the path)."""

    def read(self) -> Iterator[Document | Problem]:
        """Yield every document, and a `Problem` for each item that cannot be read."""
        ...

    def estimate_count(self) -> int | None:
        """A cheap upper estimate of how many items `read()` yields (for a progress bar), or None."""
        ...


def read_all(source: Source) -> tuple[list[Document], list[Problem]]:
    """Read a whole source into memory: (documents, problems)."""
    docs: list[Document] = []
    problems: list[Problem] = []
    for item in source.read():
        (docs if isinstance(item, Document) else problems).append(item)
    return docs, problems
