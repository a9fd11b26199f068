"""Retrieval: embedders, BM25, Qdrant hybrid indexes, fusion, reranking hooks and retrieval metrics.

from aiagents.retrieval import get_embedder, open_index, Retriever
embedder = get_embedder()
index = open_index("docs", dim=embedder.dim, embedder=embedder.name)
index.upsert(chunks, embedder.embed_documents([c.text for c in chunks]))
hits = Retriever(index, embedder).search("how long do refunds take?", k=5)
"""

from aiagents.retrieval.beir import BeirDocument, document_text, iter_corpus, load_qrels, load_queries
from aiagents.retrieval.bm25 import BM25Params, ReferenceBM25, SparseBM25
from aiagents.retrieval.embedders import Embedder, OnnxEmbedder, SentenceTransformerEmbedder, get_embedder
from aiagents.retrieval.embedding_cache import CachedEmbedder, EmbeddingCache, text_hash
from aiagents.retrieval.errors import (
    BeirFormatError,
    EmbedderRunError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidFilterError,
    RetrievalError,
    UnknownBackendError,
    UnknownEmbedderError,
    UnknownFusionError,
)
from aiagents.retrieval.fusion import dbsf, normalize, rrf, weighted_fusion
from aiagents.retrieval.index import HybridIndex, open_index, point_id
from aiagents.retrieval.metrics import evaluate_run, hit_rate_at_k, mrr_at_k, ndcg_at_k, recall_at_k
from aiagents.retrieval.retriever import FusionConfig, Mode, Reranker, Retriever
from aiagents.retrieval.tokenizer import Tokenizer
from aiagents.retrieval.types import Chunk, Hit

__all__ = [
    # data
    "Chunk",
    "Hit",
    # embedders
    "Embedder",
    "SentenceTransformerEmbedder",
    "OnnxEmbedder",
    "get_embedder",
    "CachedEmbedder",
    "EmbeddingCache",
    "text_hash",
    # BM25
    "Tokenizer",
    "BM25Params",
    "SparseBM25",
    "ReferenceBM25",
    # index
    "HybridIndex",
    "open_index",
    "point_id",
    # search
    "Retriever",
    "Reranker",
    "FusionConfig",
    "Mode",
    "rrf",
    "dbsf",
    "normalize",
    "weighted_fusion",
    # evaluation
    "hit_rate_at_k",
    "mrr_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "evaluate_run",
    # BEIR files
    "BeirDocument",
    "iter_corpus",
    "load_queries",
    "load_qrels",
    "document_text",
    # errors
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
