"""Qdrant-backed hybrid index: one contract, an embedded and a client/server backend."""

from aiagents.retrieval.index.backend import Condition, EngineFusion, parse_filters
from aiagents.retrieval.index.hybrid import BACKENDS, HybridIndex, open_index, point_id

__all__ = ["HybridIndex", "open_index", "point_id", "BACKENDS", "Condition", "EngineFusion", "parse_filters"]
