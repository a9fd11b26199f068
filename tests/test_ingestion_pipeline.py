"""The incremental pipeline against the real embedded index and the real embedder, on tiny inputs."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from aiagents.ingestion import (
    FolderSource,
    IngestReport,
    IngestRunError,
    MarkdownChunker,
    WindowChunker,
    ingest,
    manifest_path,
)

from aiagents.settings import reset_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def real_embedder():  # noqa: ANN201 - the retrieval embedder, loaded once per module (process-cached)
    from aiagents.retrieval.embedders import get_embedder

    return get_embedder("minilm-st")


class CountingEmbedder:
    """Wraps the real embedder: records what it is asked to embed, can fail on a given call."""

    def __init__(self, inner, fail_on_call: int | None = None) -> None:  # noqa: ANN001
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.texts: list[str] = []
        self.calls = 0
        self.fail_on_call = fail_on_call

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("simulated crash while embedding")
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AIAGENTS_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("AIAGENTS_QDRANT_URL", raising=False)
    reset_settings()
    yield tmp_path / "state"
    reset_settings()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "refunds.md").write_text(
        "---\ntopic: billing\n---\n# Refunds\n\n## Policy\nRefunds are paid within 5 days.\n\n"
        "## Exceptions\nGift cards cannot be refunded.\n"
    )
    (root / "shipping.md").write_text("# Shipping\n\nWe ship worldwide in 3 to 7 days.\n")
    (root / "account.md").write_text("# Account\n\nReset your password from the login page.\n")
    return root


def index_state(name: str) -> tuple[int, dict[str, set[str]]]:
    from aiagents.retrieval.index import open_index

    with open_index(name) as idx:
        return idx.count(), idx.document_hashes()


def counts(r: IngestReport) -> tuple[int, int, int, int, int]:
    return r.new, r.changed, r.unchanged, r.deleted, r.chunks


def test_first_run_then_unchanged_rerun_embeds_nothing(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    emb = CountingEmbedder(real_embedder)
    first = ingest(corpus, "kb", embedder=emb)
    assert first.read == 3 and counts(first) == (3, 0, 0, 0, 4)  # refunds: Policy + Exceptions
    assert first.embedded == 4 and first.cached == 0 and first.skipped == [] and first.failed == []
    total, hashes = index_state("kb")
    assert total == 4 and sorted(hashes) == ["account.md", "refunds.md", "shipping.md"]

    from aiagents.retrieval.index import open_index

    with open_index("kb") as idx:
        policy = idx.get(["refunds.md#0"])[0]
    assert policy.text == "## Policy\nRefunds are paid within 5 days."
    assert policy.heading_path == ["Refunds", "Policy"] and policy.metadata["topic"] == "billing"

    calls = emb.calls
    again = ingest(corpus, "kb", embedder=emb)
    assert counts(again) == (0, 0, 3, 0, 0) and again.embedded == 0 and emb.calls == calls
    assert index_state("kb")[0] == 4


def test_add_change_delete(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    ingest(corpus, "kb", embedder=real_embedder)
    emb = CountingEmbedder(real_embedder)
    (corpus / "refunds.md").write_text(
        "---\ntopic: billing\n---\n# Refunds\n\n## Policy\nRefunds are paid within 5 days.\n\n"
        "## Exceptions\nGift cards and sale items cannot be refunded.\n"
    )
    (corpus / "shipping.md").unlink()
    (corpus / "returns.md").write_text("# Returns\n\nPrint the label and drop the parcel off.\n")
    report = ingest(corpus, "kb", embedder=emb)
    assert counts(report) == (1, 1, 1, 1, 3)  # returns new; refunds changed; account same; shipping gone
    # only new text is embedded: the unchanged Policy section comes from the cache
    assert sorted(emb.texts) == [
        "# Returns\n\nPrint the label and drop the parcel off.",
        "## Exceptions\nGift cards and sale items cannot be refunded.",
    ]
    assert report.cached == 1
    total, hashes = index_state("kb")
    assert total == 4 and sorted(hashes) == ["account.md", "refunds.md", "returns.md"]

    from aiagents.retrieval.index import open_index

    with open_index("kb") as idx:
        assert idx.get(["refunds.md#1"])[0].text.endswith("sale items cannot be refunded.")
        assert idx.get(["shipping.md#0"]) == []


def test_changed_document_with_fewer_chunks_leaves_no_stale_chunks(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    ingest(corpus, "kb", embedder=real_embedder)
    (corpus / "refunds.md").write_text("# Refunds\n\nAsk support.\n")
    report = ingest(corpus, "kb", embedder=real_embedder)
    assert counts(report) == (0, 1, 2, 0, 1)
    total, hashes = index_state("kb")
    assert total == 3 and len(hashes["refunds.md"]) == 1


def test_resume_after_a_crash(tmp_path: Path, real_embedder) -> None:  # noqa: ANN001
    root = tmp_path / "many"
    root.mkdir()
    for i in range(6):
        (root / f"doc{i}.md").write_text(f"# Doc {i}\n\nThis is document number {i} about topic {i * 7}.\n")
    crashing = CountingEmbedder(real_embedder, fail_on_call=3)
    # one chunk per document, batches of 2 chunks: calls 1 and 2 finish, call 3 raises
    with pytest.raises(IngestRunError, match="after 4 new/changed documents.*simulated crash.*resume") as err:
        ingest(root, "kb", embedder=crashing, batch_chunks=2)
    assert isinstance(err.value.__cause__, RuntimeError) and err.value.report.new == 4
    assert len(crashing.texts) == 4
    total, hashes = index_state("kb")
    assert total == 4 and sorted(hashes) == ["doc0.md", "doc1.md", "doc2.md", "doc3.md"]

    resumed = CountingEmbedder(real_embedder)
    report = ingest(root, "kb", embedder=resumed, batch_chunks=2)
    assert counts(report) == (2, 0, 4, 0, 2)
    assert sorted(resumed.texts) == [
        "# Doc 4\n\nThis is document number 4 about topic 28.",
        "# Doc 5\n\nThis is document number 5 about topic 35.",
    ]
    total, hashes = index_state("kb")
    assert total == 6 and len(hashes) == 6


def test_crash_after_index_write_before_state_commit_is_cleaned_up(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    """A batch marked pending (written, then the process died) is deleted and rewritten next run."""
    ingest(corpus, "kb", embedder=real_embedder, chunker=WindowChunker(size=3, overlap=0))
    from aiagents.ingestion import Manifest

    m = Manifest(manifest_path("kb"))
    m.mark_pending(["refunds.md"])  # as if a rewrite of refunds.md had started and died
    m.close()
    report = ingest(corpus, "kb", embedder=real_embedder, chunker=WindowChunker(size=3, overlap=0))
    assert counts(report)[:3] == (0, 1, 2)
    total, hashes = index_state("kb")
    assert total == report.chunks + sum(len(hashes[d]) for d in ("shipping.md", "account.md"))


def test_broken_file_keeps_its_indexed_version_and_empty_file_is_removed(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    ingest(corpus, "kb", embedder=real_embedder)
    (corpus / "shipping.md").write_bytes("# Shipping\n\ncaf\xe9".encode("latin-1"))
    (corpus / "account.md").write_text("---\ntitle: x\n---\n")
    report = ingest(corpus, "kb", embedder=real_embedder)
    assert counts(report) == (0, 0, 1, 1, 0)
    assert sorted(Path(p.path).name for p in report.skipped) == ["account.md", "shipping.md"]
    reasons = {Path(p.path).name: p.reason for p in report.skipped}
    assert "not valid utf-8" in reasons["shipping.md"] and "empty text" in reasons["account.md"]
    assert sorted(index_state("kb")[1]) == ["refunds.md", "shipping.md"]


def test_chunker_change_reindexes_everything(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    ingest(corpus, "kb", embedder=real_embedder)
    report = ingest(corpus, "kb", embedder=real_embedder, chunker=MarkdownChunker(size=3, overlap=0))
    assert report.rebuilt and "chunker changed" in report.rebuilt
    assert report.changed == 3 and report.unchanged == 0
    total, _ = index_state("kb")
    assert total == report.chunks > 4


def test_failing_chunker_reports_the_document_and_continues(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    class Picky(MarkdownChunker):
        def chunk(self, document):  # noqa: ANN001, ANN201
            if document.id == "shipping.md":
                raise ValueError("cannot chunk this")
            return super().chunk(document)

    report = ingest(FolderSource(path=corpus), "kb", embedder=real_embedder, chunker=Picky())
    assert report.new == 2 and [(f.document_id, f.reason.split(": ", 1)[1]) for f in report.failed] == [
        ("shipping.md", "ValueError: cannot chunk this")
    ]
    d = report.to_dict()
    assert d["failed"][0]["document_id"] == "shipping.md" and d["new"] == 2


def test_lost_state_adopts_the_index(corpus: Path, real_embedder) -> None:  # noqa: ANN001
    ingest(corpus, "kb", embedder=real_embedder)
    manifest_path("kb").unlink()
    (corpus / "account.md").unlink()
    report = ingest(corpus, "kb", embedder=real_embedder)
    assert report.rebuilt == "the index has no ingestion state: re-indexing all"
    assert (report.new, report.deleted) == (2, 0)  # deleted counts documents of known versions only
    assert sorted(index_state("kb")[1]) == ["refunds.md", "shipping.md"]


def test_cli_ingest_json(corpus: Path, real_embedder) -> None:  # noqa: ANN001 - the fixture loads the model once
    import json

    from typer.testing import CliRunner

    from aiagents.cli import app

    runner = CliRunner()
    args = ["ingest", str(corpus), "--index", "cli", "--embedder", "minilm-st", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["new"], data["chunks"], data["index"]) == (3, 4, "cli")
    (corpus / "notes.txt").write_text("")
    second = json.loads(runner.invoke(app, args).stdout)
    assert (second["unchanged"], second["new"], [p["reason"] for p in second["skipped"]]) == (
        3,
        0,
        ["empty text; nothing to index"],
    )
    bad = runner.invoke(app, ["ingest", str(corpus), "--index", "cli", "--chunker", "nope"])
    assert bad.exit_code == 1 and "unknown chunker" in bad.output
