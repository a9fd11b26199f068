"""Document embeddings cached on disk by content hash, so re-embedding an unchanged text is free."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from aiagents.retrieval.embedders import Embedder, embedder_key

from aiagents.settings import get_settings

__all__ = ["EmbeddingCache", "CachedEmbedder", "text_hash"]


def text_hash(text: str) -> str:
    """sha256 hex digest of the UTF-8 text: the cache key (and `Chunk.content_hash` if none is set)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """A SQLite table `(model, hash) -> float32 vector` (one file, safe across processes)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else get_settings().cache_dir / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT, hash TEXT, vector BLOB, PRIMARY KEY (model, hash))"
        )
        self._lock = threading.Lock()

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(hashes), 500):
                part = list(hashes[start : start + 500])
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({marks})",
                    [model, *part],
                ).fetchall()
                found.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                return int(self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
            return int(self._db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [model]).fetchone()[0])

    def close(self) -> None:
        self._db.close()


class CachedEmbedder:
    """An `Embedder` that looks document texts up in an `EmbeddingCache` and embeds only the misses.

    Queries are not cached (they are one-off and cheap).
    """

    def __init__(self, embedder: Embedder, cache: EmbeddingCache | None = None) -> None:
        self.inner = embedder
        self.cache = cache or EmbeddingCache()
        self.name = embedder.name
        self.variant = getattr(embedder, "variant", "")
        self.dim = embedder.dim
        self._key = embedder_key(embedder)  # int8 and fp32 vectors of one text are cached apart
        self.hits = 0
        """Texts served from the cache so far."""
        self.misses = 0
        """Texts embedded so far."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        found = self.cache.get_many(self._key, list(dict.fromkeys(hashes)))
        missing = list(dict.fromkeys(h for h in hashes if h not in found))
        if missing:
            first = {h: i for i, h in reversed(list(enumerate(hashes)))}
            vectors = self.inner.embed_documents([texts[first[h]] for h in missing])
            new = dict(zip(missing, vectors, strict=True))
            self.cache.put_many(self._key, new)
            found.update(new)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            out[i] = found[h]
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
