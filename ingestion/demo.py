"""The demo corpus that ships with the project: a fictional shop's help center (Markdown + front matter)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["demo_docs_path"]


def demo_docs_path() -> Path:
    """Folder of the demo help-center articles (`aiagents/demo_data/docs`), for `ingest(...)`."""
    return Path(str(files("aiagents") / "demo_data" / "docs"))
