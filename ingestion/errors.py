"""Errors of the ingestion package (subclasses of the framework's two families)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiagents.errors import RunError, UserError

if TYPE_CHECKING:
    from aiagents.ingestion.report import IngestReport

__all__ = ["IngestionError", "SourceError", "ChunkerError", "IngestRunError"]


class IngestionError(UserError):
    """Ingestion was asked for something it cannot do; the message says what to change."""


class SourceError(IngestionError):
    """A source path or its options are wrong (missing path, unknown kind, unknown field)."""


class ChunkerError(IngestionError):
    """A chunker name or its parameters are wrong."""


class IngestRunError(RunError):
    """Ingestion failed part-way; re-running the same command resumes from the last finished batch."""

    def __init__(self, message: str, *, report: IngestReport | None = None) -> None:
        super().__init__(message)
        self.report = report
        """What the run had done before it failed."""
