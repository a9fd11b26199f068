"""Chunkers, hand-checked on tiny inputs: positions, ids, overlap, heading paths, splitting."""

from __future__ import annotations

import pytest
from aiagents.ingestion import (
    ChunkerError,
    Document,
    MarkdownChunker,
    SentenceChunker,
    WindowChunker,
    get_chunker,
    markdown_sections,
    sentence_spans,
    text_hash,
)


def doc(text: str, **metadata: object) -> Document:
    return Document(id="d.md", text=text, metadata=dict(metadata))


def test_window_chunker_positions_overlap_and_last_window() -> None:
    chunks = WindowChunker(size=4, overlap=1).chunk(doc("a b c d e f g h i j", lang="en"))
    # step 3: windows start at words 0, 3, 6; the third ends at the last word, so no fourth
    assert [c.text for c in chunks] == ["a b c d", "d e f g", "g h i j"]
    assert [c.id for c in chunks] == ["d.md#0", "d.md#1", "d.md#2"]
    assert [c.position for c in chunks] == [0, 1, 2]
    assert all(c.document_id == "d.md" and c.metadata == {"lang": "en"} and c.heading_path == [] for c in chunks)
    assert chunks[1].content_hash == text_hash("d e f g")


def test_window_chunker_keeps_original_whitespace_and_short_docs() -> None:
    assert [c.text for c in WindowChunker(size=3, overlap=0).chunk(doc("a  b\nc d"))] == ["a  b\nc", "d"]
    assert [c.text for c in WindowChunker(size=10, overlap=2).chunk(doc("one two"))] == ["one two"]
    assert WindowChunker().chunk(doc("   \n ")) == []
    # 7 words, size 3, overlap 2 -> step 1: 0-2, 1-3, 2-4, 3-5, 4-6
    assert len(WindowChunker(size=3, overlap=2).chunk(doc("1 2 3 4 5 6 7"))) == 5


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (5, 5), (5, -1)])
def test_bad_sizes_are_user_errors(size: int, overlap: int) -> None:
    with pytest.raises(ChunkerError):
        WindowChunker(size=size, overlap=overlap)


def test_sentence_spans_handle_abbreviations_and_paragraphs() -> None:
    text = "Dr. Smith left at 5 p.m. Then e.g. Mr. Jones came. Really? Yes!\n\nnew para without stop\n# Heading\nNext."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Dr. Smith left at 5 p.m.",
        "Then e.g. Mr. Jones came.",
        "Really?",
        "Yes!",
        "new para without stop",
        "# Heading",
        "Next.",
    ]


def test_sentence_chunker_packs_whole_sentences_with_overlap() -> None:
    text = "One two three. Four five. Six seven eight. Nine."
    # words per sentence: 3, 2, 3, 1; size 6: [3+2], then carry "Four five." (2 <= 3) + 3 + 1 = 6
    chunks = SentenceChunker(size=6, overlap=3).chunk(doc(text))
    assert [c.text for c in chunks] == ["One two three. Four five.", "Four five. Six seven eight. Nine."]
    no_overlap = SentenceChunker(size=6, overlap=0).chunk(doc(text))
    assert [c.text for c in no_overlap] == ["One two three. Four five.", "Six seven eight. Nine."]


def test_sentence_chunker_cuts_an_overlong_sentence_into_windows() -> None:
    chunks = SentenceChunker(size=3, overlap=1).chunk(doc("a b c d e fg. Short one."))
    assert [c.text for c in chunks] == ["a b c", "c d e", "e fg.", "Short one."]
    assert [c.position for c in chunks] == [0, 1, 2, 3]


MD = """Intro line.

# Refunds

## Policy
You get your money back. It takes 5 days.

```
# not a heading
```

## Empty

### Deep
Deep body.

Setext title
============
Under setext.
"""


def test_markdown_sections_heading_paths() -> None:
    sections = [(MD[s:e].strip().splitlines()[0], path) for s, e, path in markdown_sections(MD)]
    assert sections == [
        ("Intro line.", []),
        ("# Refunds", ["Refunds"]),
        ("## Policy", ["Refunds", "Policy"]),
        ("## Empty", ["Refunds", "Empty"]),
        ("### Deep", ["Refunds", "Empty", "Deep"]),
        ("Setext title", ["Setext title"]),
    ]


def test_markdown_chunker_drops_heading_only_sections_and_keeps_code() -> None:
    chunks = MarkdownChunker(size=50, overlap=0).chunk(doc(MD))
    assert [(c.id, c.heading_path) for c in chunks] == [
        ("d.md#0", []),
        ("d.md#1", ["Refunds", "Policy"]),
        ("d.md#2", ["Refunds", "Empty", "Deep"]),
        ("d.md#3", ["Setext title"]),
    ]
    assert chunks[1].text == "## Policy\nYou get your money back. It takes 5 days.\n\n```\n# not a heading\n```"
    assert chunks[2].text == "### Deep\nDeep body."


def test_markdown_chunker_splits_long_sections_by_sentences() -> None:
    text = "# A\n\nOne two three. Four five six. Seven eight.\n\n# B\n\nTiny."
    chunks = MarkdownChunker(size=5, overlap=0).chunk(doc(text))
    # section A has 10 words ("# A" counts 2): sentence packs of <= 5 words; "# A" + 3 words fit
    assert [c.heading_path for c in chunks] == [["A"], ["A"], ["B"]]
    assert chunks[0].text == "# A\n\nOne two three." and chunks[1].text == "Four five six. Seven eight."
    assert chunks[2].text == "# B\n\nTiny." and [c.position for c in chunks] == [0, 1, 2]


def test_chunk_ids_are_stable_across_runs() -> None:
    a = [(c.id, c.content_hash) for c in MarkdownChunker().chunk(doc(MD))]
    b = [(c.id, c.content_hash) for c in MarkdownChunker().chunk(doc(MD))]
    assert a == b


def test_get_chunker_by_name() -> None:
    assert get_chunker("window", size=10, overlap=2).signature == "window(size=10,overlap=2)"
    assert get_chunker().signature == "markdown(size=200,overlap=30)"
    assert get_chunker("sentences").signature == "sentences(size=200,overlap=0)"
    with pytest.raises(ChunkerError, match="unknown chunker 'nope'; choose one of markdown, sentences, window"):
        get_chunker("nope")
    with pytest.raises(ChunkerError, match="bad parameters"):
        get_chunker("window", width=3)
