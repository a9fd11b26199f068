"""SciFact's test split for the retrieval benches: its judged queries, and the fixed half/half split of them on which
the defaults are chosen (half A) and reported (half B). One place, so every bench splits the same way."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from aiagents.retrieval.beir import BeirDocument, iter_corpus, load_judged_qrels, load_queries

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


@dataclass(frozen=True)
class SciFactTest:
    corpus_path: Path
    qrels: dict[str, dict[str, int]]
    """The test queries with at least one relevant document."""
    queries: dict[str, str]
    """Those queries' texts, in the order of `qrels`."""

    def documents(self) -> list[BeirDocument]:
        return list(iter_corpus(self.corpus_path))


def load_test(folder: str | Path) -> SciFactTest:
    """SciFact's judged test queries from `folder`; exits with a message naming the folder when it has no corpus."""
    folder = Path(folder)
    corpus = folder / "corpus.jsonl"
    if not corpus.exists():
        sys.exit(f"no SciFact corpus at {folder}: pass --data (see ../shared/data/README.md)")
    qrels = load_judged_qrels(folder / "qrels" / "test.tsv")
    all_queries = load_queries(folder / "queries.jsonl")
    return SciFactTest(corpus, qrels, {q: all_queries[q] for q in qrels})


def split(qids: list[str]) -> tuple[list[str], list[str]]:
    """A fixed half/half split of the query ids (by a hash, so neither half is an id range)."""
    a = [q for q in qids if hashlib.sha256(q.encode()).digest()[0] % 2 == 0]
    return a, [q for q in qids if q not in set(a)]
