"""`aiagents eval retrieval` and `aiagents search` on a tiny BEIR set with a deterministic embedder."""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aiagents import retrieval
from aiagents.cli import app


class ToyEmbedder:
    """3-d bag of topics: refunds, shipping, accounts."""

    name = "toy"
    dim = 3

    def _one(self, text: str) -> np.ndarray:
        t = text.lower()
        v = np.array([("refund" in t), ("ship" in t), ("account" in t)], dtype=np.float32) + 0.01
        return v / np.linalg.norm(v)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, 3), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._one(text)


@pytest.fixture
def beir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(retrieval, "get_embedder", lambda name="minilm": ToyEmbedder())
    monkeypatch.setenv("AIAGENTS_TRACING", "false")
    (tmp_path / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"_id": "d1", "title": "Refunds", "text": "A refund is paid within 14 days."},
                {"_id": "d2", "title": "Shipping", "text": "Shipping takes 3 to 5 working days."},
                {"_id": "d3", "title": "Accounts", "text": "Delete your account in settings.", "metadata": {"a": 1}},
            ]
        )
        + "\n"
    )
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "when is my refund paid"}\n{"_id": "q2", "text": "shipping time"}\n'
        '{"_id": "q3", "text": "unjudged"}\n'
    )
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t0\n")
    return tmp_path


def _eval(beir: Path, mode: str) -> dict:
    args = ["eval", "retrieval", "--corpus", str(beir / "corpus.jsonl"), "--queries", str(beir / "queries.jsonl")]
    result = CliRunner().invoke(app, [*args, "--qrels", str(beir / "qrels.tsv"), "--mode", mode, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_retrieval_json_and_index_reuse(beir: Path) -> None:
    first = _eval(beir, "bm25")
    required = {"mode", "ndcg@10", "recall@100", "mrr@10", "hit@10", "queries", "index_seconds"}
    assert required | {"query_p50_ms", "query_p95_ms"} <= set(first)
    assert first["mode"] == "bm25"
    assert first["queries"] == 2  # q3 has no relevant document
    assert first["ndcg@10"] == 1.0 and first["mrr@10"] == 1.0 and first["recall@100"] == 1.0
    assert first["index_reused"] is False
    for mode in ("dense", "hybrid"):
        again = _eval(beir, mode)
        assert again["index_reused"] is True
        assert again["index"] == first["index"]
        assert again["ndcg@10"] == 1.0


def test_search_json_with_filter(beir: Path) -> None:
    _eval(beir, "bm25")
    name = _eval(beir, "bm25")["index"]
    result = CliRunner().invoke(
        app, ["search", "refund shipping account", "--index", name, "-k", "3", "--filter", "a=1", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [h["id"] for h in out["hits"]] == ["d3"]
    assert out["hits"][0]["rank"] == 1 and out["mode"] == "hybrid"


def test_search_unknown_index_fails_clearly(beir: Path) -> None:
    result = CliRunner().invoke(app, ["search", "x", "--index", "missing"])
    assert result.exit_code == 1
    assert "no index named 'missing'" in result.output
