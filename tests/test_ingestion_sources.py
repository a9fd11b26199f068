"""Sources: folders of files, record files, BEIR corpora; broken items reported, the rest kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiagents.ingestion import (
    BeirSource,
    Document,
    FolderSource,
    Problem,
    RecordsSource,
    SourceError,
    detect_kind,
    html_to_text,
    open_source,
    read_all,
    split_front_matter,
)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def docs_folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    write(
        root / "refunds.md",
        "---\ntitle: Refunds\ntags: [billing, money]\nupdated: 2024-05-01\n---\n# Refunds\n\nBody.\n",
    )
    write(root / "guides" / "setup.mdx", 'import X from "./x"\nexport const meta = {}\n\n# Setup\n\nRun it.\n')
    write(root / "notes.txt", "Plain text note.")
    html = (
        "<html><head><title>Ship  it</title><style>p{}</style></head><body><h2>Shipping</h2>"
        "<p>Fast &amp; cheap.</p><script>x()</script><ul><li>a</li><li>b</li></ul></body></html>"
    )
    write(root / "page.html", html)
    write(root / "latin1.md", "caf\xe9 au lait".encode("latin-1"))
    write(root / "bad-front.md", "---\nok: 1\ntitle: a: b\n---\nBody\n")
    write(root / "list-front.md", "---\n- a\n- b\n---\nBody\n")
    write(root / ".hidden" / "secret.md", "# hidden")
    write(root / "image.png", b"\x89PNG")
    return root


def test_folder_source_reads_every_format_and_reports_broken_files(docs_folder: Path) -> None:
    docs, problems = read_all(FolderSource(path=docs_folder))
    by_id = {d.id: d for d in docs}
    assert sorted(by_id) == ["guides/setup.mdx", "notes.txt", "page.html", "refunds.md"]

    refunds = by_id["refunds.md"]
    assert refunds.text == "# Refunds\n\nBody."
    assert refunds.metadata == {
        "title": "Refunds",
        "tags": ["billing", "money"],
        "updated": "2024-05-01",  # YAML dates become ISO strings (JSON-safe)
        "source": "refunds.md",
        "format": "markdown",
    }
    assert by_id["guides/setup.mdx"].text == "# Setup\n\nRun it."
    assert by_id["notes.txt"].metadata["format"] == "text"
    page = by_id["page.html"]
    assert page.text == "## Shipping\n\nFast & cheap.\n\na\nb"
    assert page.metadata["title"] == "Ship it"

    reasons = {Path(p.path).name: p for p in problems}
    assert sorted(reasons) == ["bad-front.md", "latin1.md", "list-front.md"]
    assert "not valid utf-8" in reasons["latin1.md"].reason and reasons["latin1.md"].line == 1
    assert "not valid YAML" in reasons["bad-front.md"].reason
    assert reasons["bad-front.md"].line == 3  # the broken line, 1-based in the file
    assert "mapping" in reasons["list-front.md"].reason
    assert all(p.document_id == Path(p.path).name for p in problems)  # known ids: kept in the index


def test_folder_source_document_hash_depends_on_text_and_metadata(tmp_path: Path) -> None:
    a = write(tmp_path / "a.md", "---\ntitle: A\n---\nSame body\n")
    first = next(iter(FolderSource(path=a).read()))
    write(a, "---\ntitle: B\n---\nSame body\n")
    second = next(iter(FolderSource(path=a).read()))
    again = next(iter(FolderSource(path=a).read()))
    assert isinstance(first, Document) and isinstance(second, Document) and isinstance(again, Document)
    assert first.id == second.id == "a.md"  # a single file: id is its name
    assert first.text == second.text and first.hash != second.hash and second.hash == again.hash


def test_front_matter_edge_cases() -> None:
    assert split_front_matter("no front matter\n---\n") == ({}, "no front matter\n---\n")
    assert split_front_matter("---\n---\nbody") == ({}, "body")
    assert split_front_matter("---\nunclosed: 1\nbody") == ({}, "---\nunclosed: 1\nbody")
    assert split_front_matter("---\na: 1\n...\nbody") == ({"a": 1}, "body")


def test_html_to_text_keeps_headings_and_blocks() -> None:
    text, title = html_to_text("<h1>T</h1><div>one<br>two</div><noscript>no</noscript>")
    assert (text, title) == ("# T\n\none\ntwo", None)


def test_jsonl_records_bad_lines_reported_rest_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path / "faq.jsonl",
        "\n".join(
            [
                json.dumps({"id": 1, "title": "Refunds", "text": "Money back.", "lang": "en", "nested": {"a": 1}}),
                "{not json",
                json.dumps({"title": "no id", "text": "x"}),
                json.dumps({"id": "2", "body": "wrong field"}),
                json.dumps({"id": 1, "text": "duplicate"}),
                "[1, 2]",
                "",
                json.dumps({"id": "3", "text": "Only text."}),
            ]
        )
        + "\n",
    )
    docs, problems = read_all(RecordsSource(path=path))
    assert [(d.id, d.text) for d in docs] == [("1", "Refunds\n\nMoney back."), ("3", "Only text.")]
    assert docs[0].metadata == {"lang": "en", "nested": {"a": 1}, "title": "Refunds", "source": "faq.jsonl"}
    assert problems[0].line == 2 and problems[0].reason.startswith("bad JSON: ")
    assert [(p.line, p.reason) for p in problems[1:]] == [
        (3, "record has no id or _id or doc_id or document_id field; pass the id field"),
        (4, "record has none of the text field(s) ['title', 'text']"),
        (5, "duplicate id '1' (first at line 1); record skipped"),
        (6, "expected an object, got list"),
    ]
    assert problems[2].document_id == "2"
    assert not any(p.truncated for p in problems)


def test_csv_records_with_chosen_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path / "kb.csv",
        'sku,question,answer,team\nA1,How to return?,"Use the form, then wait.",support\nA2,,Empty question,sales\n'
        "A3,extra,x,y,z\n",
    )
    source = RecordsSource(path=path, text_fields=("question", "answer"), id_field="sku", metadata_fields=["team"])
    docs, problems = read_all(source)
    assert [(d.id, d.text, d.metadata) for d in docs] == [
        ("A1", "How to return?\n\nUse the form, then wait.", {"team": "support", "source": "kb.csv"}),
        ("A2", "Empty question", {"team": "sales", "source": "kb.csv"}),
    ]
    assert [(p.line, p.reason) for p in problems] == [(4, "more values than header columns")]
    assert source.estimate_count() == 4


def test_json_records_list_or_wrapped(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", json.dumps({"records": [{"_id": "x", "text": "t"}, 5]}))
    docs, problems = read_all(RecordsSource(path=path))
    assert [d.id for d in docs] == ["x"] and [(p.line, p.reason) for p in problems] == [
        (2, "record 2 is not an object")
    ]
    broken = write(tmp_path / "b.json", '[{"id": 1,\n "text": }]')
    docs, problems = read_all(RecordsSource(path=broken))
    assert docs == [] and problems[0].line == 2 and problems[0].truncated


def test_beir_source_and_its_broken_line(tmp_path: Path) -> None:
    corpus = write(
        tmp_path / "beir" / "corpus.jsonl",
        '{"_id": "d1", "title": "Title", "text": "Body one."}\n{"_id": "d2", "title": "", "text": "Body two."}\n',
    )
    docs, problems = read_all(BeirSource(path=corpus.parent))
    assert [(d.id, d.text, d.metadata) for d in docs] == [
        ("d1", "Title Body one.", {"title": "Title"}),
        ("d2", "Body two.", {}),
    ]
    assert problems == []
    write(corpus, corpus.read_text() + "{oops\n")
    docs, problems = read_all(BeirSource(path=corpus))
    assert len(docs) == 2 and len(problems) == 1 and problems[0].truncated and ":3:" in problems[0].reason


def test_detect_kind_and_override(tmp_path: Path, docs_folder: Path) -> None:
    beir = write(tmp_path / "b" / "corpus.jsonl", '{"_id": "1", "text": "t"}\n')
    recs = write(tmp_path / "r.jsonl", '{"id": "1", "text": "t"}\n')
    beirish = write(tmp_path / "other.jsonl", '{"_id": "1", "text": "t"}\n')
    assert detect_kind(docs_folder) == "folder"
    assert detect_kind(beir.parent) == detect_kind(beir) == detect_kind(beirish) == "beir"
    assert detect_kind(recs) == "records" and detect_kind(write(tmp_path / "x.csv", "id,text\n")) == "records"
    assert detect_kind(docs_folder / "refunds.md") == "folder"
    assert isinstance(open_source(beirish, kind="records", id_field="_id"), RecordsSource)
    with pytest.raises(SourceError, match="cannot tell"):
        detect_kind(write(tmp_path / "x.bin", b"\0"))
    with pytest.raises(SourceError, match="no such file"):
        open_source(tmp_path / "missing")
    with pytest.raises(SourceError, match="bad options"):
        open_source(recs, nonsense=1)


def test_problem_str_names_path_and_line() -> None:
    assert str(Problem(path="a.jsonl", line=3, reason="bad JSON")) == "a.jsonl:3: bad JSON"


def test_demo_corpus_reads_cleanly_with_front_matter() -> None:
    from aiagents.ingestion import MarkdownChunker, demo_docs_path

    root = demo_docs_path()
    assert root == Path(__file__).resolve().parents[1] / "aiagents" / "demo_data" / "docs"
    docs, problems = read_all(open_source(root))
    assert problems == [] and 8 <= len(docs) <= 20
    markdown = [d for d in docs if d.metadata["format"] == "markdown"]
    assert len(markdown) == 13 and all({"title", "category", "tags", "updated"} <= set(d.metadata) for d in markdown)
    # and the documents teams have: a PDF (one document per page) and a Word file
    assert sorted(d.id for d in docs if d.metadata["format"] != "markdown") == [
        "product-manual.pdf#p1", "product-manual.pdf#p2", "product-manual.pdf#p3", "store-hours.docx",
    ]  # fmt: skip
    refunds = next(d for d in docs if d.id == "refunds.md")
    paths = [c.heading_path for c in MarkdownChunker().chunk(refunds)]
    assert paths == [
        ["Refund policy"],
        ["Refund policy", "How long a refund takes"],
        ["Refund policy", "What cannot be refunded"],
        ["Refund policy", "Partial refunds"],
    ]


def test_jsonl_line_with_bad_encoding_is_skipped_alone(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.jsonl", b'{"id": "1", "text": "ok"}\n{"id": "2", "text": "caf\xe9"}\n{"id": "3", "text": "ok"}\n'
    )
    docs, problems = read_all(RecordsSource(path=path))
    assert [d.id for d in docs] == ["1", "3"]
    # the byte offset is within the line: len('{"id": "2", "text": "') + len("caf") = 21 + 3
    assert [(p.line, p.reason) for p in problems] == [(2, "not valid utf-8 (byte 24 of the line)")]
