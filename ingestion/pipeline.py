"""`ingest`: source -> documents -> chunks -> embeddings (cached) -> index, incremental and resumable."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from aiagents.ingestion.chunkers import Chunker, get_chunker
from aiagents.ingestion.documents import Document, Problem
from aiagents.ingestion.errors import IngestRunError
from aiagents.ingestion.manifest import Manifest, ManifestEntry
from aiagents.ingestion.report import IngestReport
from aiagents.ingestion.sources import Source, open_source
from aiagents.retrieval.embedding_cache import EmbeddingCache
from aiagents.retrieval.types import Chunk
from openinference.semconv.trace import (
    OpenInferenceSpanKindValues,
    SpanAttributes,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aiagents.errors import UserError
from aiagents.settings import get_settings
from aiagents.tracing import get_tracer

__all__ = ["ingest", "manifest_path", "Embedder", "Index"]

_KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
_EMBEDDING_MODEL = SpanAttributes.EMBEDDING_MODEL_NAME
_CHAIN = OpenInferenceSpanKindValues.CHAIN.value
_EMBEDDING = OpenInferenceSpanKindValues.EMBEDDING.value
_INPUT = SpanAttributes.INPUT_VALUE
_OUTPUT = SpanAttributes.OUTPUT_VALUE


class Embedder(Protocol):
    """What ingestion needs of `retrieval`'s embedders."""

    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


class Index(Protocol):
    """What ingestion needs of `retrieval`'s `HybridIndex`."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> Any: ...
    def delete_documents(self, document_ids: Sequence[str]) -> int: ...
    def count(self) -> int: ...
    def document_hashes(self) -> dict[str, set[str]]: ...
    def reweight_bm25(self) -> int: ...
    def optimize(self) -> Any: ...
    def flush(self) -> Any: ...
    def close(self) -> Any: ...


def manifest_path(index_name: str) -> Path:
    """Where the ingestion state of an index lives (under the settings' indexes folder)."""
    return get_settings().indexes_dir / index_name / "ingest_state.sqlite"


def ingest(
    source: Source | str | Path,
    index: str,
    *,
    chunker: Chunker | str = "markdown",
    embedder: Embedder | str = "minilm",
    batch_chunks: int = 256,
    delete_missing: bool = True,
    cache_path: Path | None = None,
    use_cache: bool = True,
    backend: str | None = None,
    progress: bool = False,
    open_index: Any = None,
) -> IngestReport:
    """Bring index `index` in line with `source`; return what was done.

    Unchanged documents (same content hash as indexed) are skipped; changed ones have their old chunks
    deleted and new ones written; documents gone from the source are deleted (unless
    `delete_missing=False` or the source could not be read to the end). Vectors are cached by chunk
    text hash in `cache_path` (default `settings.cache_dir / "embeddings.sqlite"`), so only new text is
    embedded. State is committed after each batch of about `batch_chunks` chunks: if the run dies,
    running it again resumes. Broken items are reported in `report.skipped`, never raised.

    `source` is a `Source` or a path (kind detected); `chunker` a `Chunker` or a name for
    `get_chunker`; `embedder` an embedder or a name for `aiagents.retrieval.get_embedder` (loaded only when
    something must be embedded). `open_index` overrides `aiagents.retrieval.open_index` (tests, other stores).
    """
    t0 = time.perf_counter()
    src = open_source(source) if isinstance(source, str | Path) else source
    chunk_fn = get_chunker(chunker) if isinstance(chunker, str) else chunker
    manifest = Manifest(manifest_path(index))
    tracer = get_tracer("aiagents.ingestion")
    try:
        emb = _LazyEmbedder(embedder, manifest)
        report = IngestReport(source=src.name, index=index, chunker=chunk_fn.signature, embedder=emb.name)
        if open_index is None:
            from aiagents.retrieval.index import open_index
        idx: Index = open_index(index, dim=emb.dim, embedder=emb.name, backend=backend)
        cache = EmbeddingCache(cache_path) if use_cache else None
        run = _Run(src=src, chunker=chunk_fn, emb=emb, idx=idx, cache=cache, manifest=manifest, report=report)
        with (
            tracer.start_as_current_span("ingest", attributes={_KIND: _CHAIN, _INPUT: src.name}) as span,
            _progress(progress, src) as run.bar,
        ):
            try:
                run.go(batch_chunks=batch_chunks, delete_missing=delete_missing)
            except (UserError, IngestRunError):
                raise
            except Exception as exc:
                done = report.new + report.changed
                raise IngestRunError(
                    f"ingesting {src.name} into {index!r} failed after {done} new/changed documents were "
                    f"indexed ({type(exc).__name__}: {exc}); run the same ingestion again to resume",
                    report=report,
                ) from exc
            finally:
                if cache is not None:
                    cache.close()
                idx.close()
            report.seconds = time.perf_counter() - t0
            span.set_attribute(_OUTPUT, _summary(report))
    finally:
        manifest.close()
    return report


class _LazyEmbedder:
    """An embedder resolved on first use; name and dimension come from the manifest when the same
    embedder name was used before, so a run with nothing to embed never loads the model."""

    def __init__(self, spec: Embedder | str, manifest: Manifest) -> None:
        self._spec = spec
        self._model: Embedder | None = None if isinstance(spec, str) else spec
        if self._model is not None:
            self.name, self.dim = self._model.name, int(self._model.dim)
        elif manifest.get_meta("embedder_spec") == spec and manifest.get_meta("dim"):
            self.name, self.dim = manifest.get_meta("embedder") or spec, int(manifest.get_meta("dim") or 0)
        else:
            model = self.get()
            self.name, self.dim = model.name, int(model.dim)
        self.spec = spec if isinstance(spec, str) else self.name

    def get(self) -> Embedder:
        if self._model is None:
            from aiagents.retrieval.embedders import get_embedder

            self._model = get_embedder(str(self._spec))
        return self._model


@dataclass(kw_only=True)
class _Progress:
    bar: Progress | None = None
    task: Any = None

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, info=text)


@contextmanager
def _progress(enabled: bool, src: Source) -> Iterator[_Progress]:
    if not enabled:
        yield _Progress()
        return
    total = src.estimate_count()
    with Progress(
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        yield _Progress(bar=bar, task=bar.add_task("ingest", total=total, info=""))


@dataclass(kw_only=True)
class _Run:
    src: Source
    chunker: Chunker
    emb: _LazyEmbedder
    idx: Index
    cache: EmbeddingCache | None
    manifest: Manifest
    report: IngestReport
    bar: _Progress = field(default_factory=_Progress)
    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    pending: list[tuple[Document, list[Chunk], ManifestEntry | None]] = field(default_factory=list)
    pending_chunks: int = 0
    deleted_chunks: int = 0

    def go(self, *, batch_chunks: int, delete_missing: bool) -> None:
        report = self.report
        self.entries = self._entries()
        seen: set[str] = set()
        keep: set[str] = set()  # ids with a problem this run: their indexed version stays
        for item in self.src.read():
            self.bar.advance()
            if isinstance(item, Problem):
                report.skipped.append(item)
                report.deletions_skipped |= item.truncated
                if item.document_id:
                    keep.add(item.document_id)
                continue
            doc = item
            if doc.id in seen:
                report.skipped.append(Problem(path=self.src.name, reason=f"duplicate document id {doc.id!r}"))
                continue
            seen.add(doc.id)
            report.read += 1
            kind = str(doc.metadata.get("format") or "record")
            report.formats[kind] = report.formats.get(kind, 0) + 1
            entry = self.entries.get(doc.id)
            if entry is not None and entry.hash == doc.hash and not entry.pending:
                report.unchanged += 1
                continue
            where = str(doc.metadata.get("source", doc.id))
            if not doc.text.strip():
                seen.discard(doc.id)  # an indexed document that became empty is deleted below
                report.skipped.append(Problem(path=where, reason="empty text; nothing to index", document_id=doc.id))
                continue
            try:
                chunks = self.chunker.chunk(doc)
            except Exception as exc:  # one bad document must not stop the run
                reason = f"chunker {self.chunker.signature} failed: {type(exc).__name__}: {exc}"
                report.failed.append(Problem(path=where, document_id=doc.id, reason=reason))
                keep.add(doc.id)
                continue
            self.pending.append((doc, chunks, entry))
            self.pending_chunks += len(chunks)
            if self.pending_chunks >= batch_chunks:
                self._write()
        self._write()
        if delete_missing and not report.deletions_skipped:
            gone = sorted(set(self.entries) - seen - keep)
            if gone:
                self.deleted_chunks += self.idx.delete_documents(gone)
                self.idx.flush()
                self.manifest.remove(gone)
                report.deleted = sum(1 for g in gone if self.entries[g].hash is not None)
        self._maintain()
        self.manifest.set_meta(
            chunker=self.chunker.signature,
            embedder=self.emb.name,
            embedder_spec=self.emb.spec,
            dim=str(self.emb.dim),
        )

    def _maintain(self) -> None:
        """After large changes, recompute BM25 weights with the final mean length and build HNSW.

        The index weights each written batch with the mean chunk length at the time; both steps cost
        a pass over the index, so they run only when at least a tenth of it was written or deleted.
        """
        r = self.report
        touched = r.chunks + self.deleted_chunks
        total = self.idx.count()
        if touched and touched * 10 >= max(total, 1):
            self.bar.note("reweighting BM25, building indexes")
            self.idx.reweight_bm25()
            self.idx.optimize()
            self.idx.flush()

    def _entries(self) -> dict[str, ManifestEntry]:
        """The manifest's entries, or all of them marked stale when the index must be rebuilt."""
        entries = self.manifest.entries()
        if not entries:
            if self.idx.count() == 0:
                return entries
            # an index written by something else (or whose state file was lost): adopt its documents
            # as unknown versions, so each is rewritten cleanly or deleted if gone from the source
            self.report.rebuilt = "the index has no ingestion state: re-indexing all"
            return {i: ManifestEntry(hash=None, chunks=0, pending=True) for i in self.idx.document_hashes()}
        reason = None
        if self.idx.count() == 0 and any(e.chunks for e in entries.values()):
            self.manifest.clear()
            self.report.rebuilt = "the index is empty but the manifest lists documents: re-indexing all"
            return {}
        old_chunker, old_embedder = self.manifest.get_meta("chunker"), self.manifest.get_meta("embedder")
        if old_chunker and old_chunker != self.chunker.signature:
            reason = f"chunker changed from {old_chunker} to {self.chunker.signature}"
        elif old_embedder and old_embedder != self.emb.name:
            reason = f"embedder changed from {old_embedder} to {self.emb.name}"
        if reason is None:
            return entries
        self.report.rebuilt = reason
        # stale: every document is re-chunked and its old chunks deleted ("changed")
        return {i: ManifestEntry(hash="", chunks=e.chunks, pending=True) for i, e in entries.items()}

    def _write(self) -> None:
        """Embed, write and flush the pending documents, then record them in the manifest."""
        if not self.pending:
            return
        batch, self.pending, self.pending_chunks = self.pending, [], 0
        chunks = [c for _, cs, _ in batch for c in cs]
        vectors = self._vectors(chunks)
        self.manifest.mark_pending(doc.id for doc, _, _ in batch)
        stale = [doc.id for doc, _, entry in batch if entry is not None]
        if stale:
            self.idx.delete_documents(stale)
        if chunks:
            self.idx.upsert(chunks, vectors)
        self.idx.flush()
        self.manifest.mark_indexed((doc.id, doc.hash, len(cs)) for doc, cs, _ in batch)
        for _, _, entry in batch:
            if entry is not None and entry.hash is not None:
                self.report.changed += 1
            else:
                self.report.new += 1
        self.report.chunks += len(chunks)
        self.bar.note(f"{self.report.chunks} chunks, {self.report.embedded} embedded")

    def _vectors(self, chunks: list[Chunk]) -> np.ndarray:
        if not chunks:
            return np.zeros((0, self.emb.dim), dtype=np.float32)
        hashes = [c.content_hash for c in chunks]
        found = self.cache.get_many(self.emb.name, list(dict.fromkeys(hashes))) if self.cache else {}
        text_of = {c.content_hash: c.text for c in chunks}
        missing = [h for h in dict.fromkeys(hashes) if h not in found]
        self.report.cached += sum(1 for h in hashes if h in found)
        if missing:
            model = self.emb.get()
            with get_tracer("aiagents.ingestion").start_as_current_span(
                "embed_documents", attributes={_KIND: _EMBEDDING, _EMBEDDING_MODEL: self.emb.name}
            ) as span:
                new = np.asarray(model.embed_documents([text_of[h] for h in missing]), dtype=np.float32)
                span.set_attribute(_INPUT, f"{len(missing)} texts")
            fresh = dict(zip(missing, new, strict=True))
            if self.cache is not None:
                self.cache.put_many(self.emb.name, fresh)
            found.update(fresh)
            self.report.embedded += len(missing)
        return np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)


def _summary(report: IngestReport) -> str:
    return (
        f"read {report.read}, new {report.new}, changed {report.changed}, unchanged {report.unchanged}, "
        f"deleted {report.deleted}, skipped {len(report.skipped)}, failed {len(report.failed)}, "
        f"chunks {report.chunks}"
    )
