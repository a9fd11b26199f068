"""Errors of the retrieval layer, in the framework's two families."""

from __future__ import annotations

from aiagents.errors import RunError, UserError

__all__ = [
    "RetrievalError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "UnknownEmbedderError",
    "UnknownBackendError",
    "UnknownFusionError",
    "InvalidFilterError",
    "BeirFormatError",
    "EmbedderRunError",
]


class RetrievalError(UserError):
    """Base of the retrieval layer's misuse errors."""


class IndexMismatchError(RetrievalError):
    """An index was reopened with an embedder (name or dimension) other than the one that built it."""


class IndexNotFoundError(RetrievalError):
    """No index of that name exists."""


class UnknownEmbedderError(RetrievalError):
    """`get_embedder` got a name it does not know."""


class UnknownBackendError(RetrievalError):
    """`open_index` got a backend other than 'edge' or 'qdrant'."""


class UnknownFusionError(RetrievalError, ValueError):
    """`Retriever` got a fusion method other than 'dbsf', 'rrf' or 'weighted'."""


class InvalidFilterError(RetrievalError):
    """A metadata filter has a value type that cannot be matched."""


class BeirFormatError(RetrievalError):
    """A BEIR file has a broken line; the message names the file and line number."""


class EmbedderRunError(RunError):
    """Embedding failed while running (e.g. the ONNX export could not be produced)."""
