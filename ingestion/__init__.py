"""Ingestion: sources -> documents -> chunks -> embeddings -> index, incremental and resumable.

```python
from aiagents.ingestion import ingest

report = ingest("docs/", "help-center")  # a folder, a .jsonl/.csv/.json file or a BEIR corpus
print(report.new, report.changed, report.unchanged, report.deleted, report.skipped)
```
"""

from __future__ import annotations

from aiagents.ingestion.chunkers import (
    CHUNKERS,
    Chunker,
    MarkdownChunker,
    SentenceChunker,
    WindowChunker,
    get_chunker,
    markdown_sections,
    sentence_spans,
)
from aiagents.ingestion.demo import demo_docs_path
from aiagents.ingestion.documents import Document, Problem, content_hash, text_hash
from aiagents.ingestion.errors import ChunkerError, IngestionError, IngestRunError, SourceError
from aiagents.ingestion.manifest import Manifest, ManifestEntry
from aiagents.ingestion.pipeline import ingest, manifest_path
from aiagents.ingestion.report import IngestReport
from aiagents.ingestion.sources import (
    BeirSource,
    FolderSource,
    RecordsSource,
    Source,
    SourceKind,
    WebSource,
    detect_kind,
    html_to_text,
    open_source,
    read_all,
    split_front_matter,
)

__all__ = [
    # pipeline
    "ingest",
    "IngestReport",
    "Manifest",
    "ManifestEntry",
    "manifest_path",
    "demo_docs_path",
    # documents
    "Document",
    "Problem",
    "content_hash",
    "text_hash",
    # sources
    "Source",
    "SourceKind",
    "FolderSource",
    "WebSource",
    "RecordsSource",
    "BeirSource",
    "open_source",
    "detect_kind",
    "read_all",
    "split_front_matter",
    "html_to_text",
    # chunkers
    "Chunker",
    "MarkdownChunker",
    "SentenceChunker",
    "WindowChunker",
    "CHUNKERS",
    "get_chunker",
    "markdown_sections",
    "sentence_spans",
    # errors
    "IngestionError",
    "SourceError",
    "ChunkerError",
    "IngestRunError",
]
