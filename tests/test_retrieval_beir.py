"""BEIR readers: lazy records, BEIR's text convention, broken lines named by file and line."""

from pathlib import Path

import pytest
from aiagents.retrieval.beir import document_text, iter_corpus, load_qrels, load_queries
from aiagents.retrieval.errors import BeirFormatError

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def test_corpus_records_unpack(tmp_path: Path) -> None:
    p = tmp_path / "corpus.jsonl"
    p.write_text(
        '{"_id": "d1", "title": "T", "text": "body", "metadata": {"year": 2020}}\n\n'
        '{"_id": 2, "text": "no title", "source": "x"}\n'
    )
    records = iter_corpus(p)
    assert not isinstance(records, list)  # lazy
    (a, b) = list(records)
    _id, title, text, metadata = a
    assert (_id, title, text, metadata) == ("d1", "T", "body", {"year": 2020})
    assert (b.id, b.title, b.metadata) == ("2", "", {"source": "x"})
    assert document_text(a.title, a.text) == "T body"
    assert document_text(b.title, b.text) == "no title"


def test_broken_line_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "corpus.jsonl"
    p.write_text('{"_id": "d1", "text": "ok"}\n{"_id": "d2", "text": \n')
    it = iter_corpus(p)
    assert next(it).id == "d1"
    with pytest.raises(BeirFormatError, match=rf"{p}:2: not valid JSON"):
        next(it)
    p.write_text('{"title": "no id"}\n')
    with pytest.raises(BeirFormatError, match=":1: record has no '_id'"):
        list(iter_corpus(p))


def test_queries_and_qrels(tmp_path: Path) -> None:
    q = tmp_path / "queries.jsonl"
    q.write_text('{"_id": "1", "text": "what?"}\n{"_id": "2", "text": "why?"}\n')
    assert load_queries(q) == {"1": "what?", "2": "why?"}
    r = tmp_path / "qrels.tsv"
    r.write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t2\n2\td3\t0\n")
    assert load_qrels(r) == {"1": {"d1": 1, "d2": 2}, "2": {"d3": 0}}
    r.write_text("query-id\tcorpus-id\tscore\n1\td1\n")
    with pytest.raises(BeirFormatError, match=":2: expected"):
        load_qrels(r)


@pytest.mark.skipif(not SCIFACT.exists(), reason="../shared/data/scifact is absent")
def test_scifact_counts() -> None:
    assert sum(1 for _ in iter_corpus(SCIFACT / "corpus.jsonl")) == 5183
    qrels = load_qrels(SCIFACT / "qrels" / "test.tsv")
    assert len(qrels) == 300
    assert sum(len(v) for v in qrels.values()) == 339
    assert set(qrels) <= set(load_queries(SCIFACT / "queries.jsonl"))
