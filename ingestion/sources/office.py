"""PDF, Word, PowerPoint and Excel files as text parts, each with where it came from.

A PDF gives one part per page (``page``), a deck one per slide (``slide``), a workbook one per sheet
(``sheet``, rows as a Markdown table); a Word file is one part whose headings become Markdown headings and
whose tables become Markdown tables, so the Markdown chunker keeps the section of every chunk.

Libraries, chosen by measurement and licence (MIT framework): pypdfium2 for PDF text (Apache-2.0/BSD; 12x
pypdf's pages per second on the same printed manual, `python bench/ingestion_documents.py`), python-docx,
python-pptx and openpyxl (MIT). PyMuPDF is AGPL and not used. Nothing here downloads a model. Tables inside a
PDF come out as text lines (a Markdown table needs a layout analysis, pdfplumber's, at a tenth of the speed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OFFICE_EXTENSIONS", "Part", "UnreadableFile", "count_parts", "read_parts"]

OFFICE_EXTENSIONS: tuple[str, ...] = (".pdf", ".docx", ".pptx", ".xlsx")
FORMATS = {".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx"}


class UnreadableFile(Exception):
    """The file cannot be read at all (encrypted, damaged, not what its name says): the reason in words."""


@dataclass(kw_only=True)
class Part:
    """One page, slide, sheet or whole document, as text."""

    key: str
    """Suffix of the document id: ``p12``, ``s3``, ``Prices``, or ``""`` for a whole file."""
    text: str
    location: dict[str, Any] = field(default_factory=dict)
    """``{"page": 12}``, ``{"slide": 3, "title": ...}``, ``{"sheet": "Prices"}``."""
    problem: str | None = None
    """Why this part was not indexed (a page without a text layer), else None."""


def _clean(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()


def _markdown_table(rows: Iterable[Iterable[Any]]) -> str:
    cells = [["" if v is None else str(v).replace("|", "\\|").replace("\n", " ").strip() for v in row] for row in rows]
    cells = [row for row in cells if any(row)]
    if not cells:
        return ""
    width = max(len(row) for row in cells)
    cells = [row + [""] * (width - len(row)) for row in cells]
    head, *body = cells
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _pdf(path: Path) -> list[Part]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise UnreadableFile("the PDF is encrypted with a password; decrypt it (or export it) first") from None
        raise UnreadableFile(f"not a readable PDF ({message})") from None
    parts = []
    try:
        for number, page in enumerate(document, start=1):
            text = _clean(page.get_textpage().get_text_range())
            problem = None
            if not text:
                problem = f"page {number} has no text layer (a scanned image?): not indexed; OCR it first"
            parts.append(Part(key=f"p{number}", text=text, location={"page": number}, problem=problem))
    finally:
        document.close()
    return parts


def _docx(path: Path) -> list[Part]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableFile(f"not a readable Word (.docx) file ({exc})") from None
    blocks: list[str] = []
    # Style names resolved once: python-docx's `paragraph.style` looks the style up anew for every paragraph
    # (2.8 ms each, 2.5 s for a 100-chapter guide).
    style_names = {style.style_id: style.name or "" for style in document.styles}
    tables = {t._element: t for t in document.tables}  # noqa: SLF001 - python-docx exposes no block order
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            text = "".join(node.text or "" for node in child.iter(qn("w:t"))).strip()
            if not text:
                continue
            style = style_names.get(child.style or "", "")
            level = style[7:].strip() if style.startswith("Heading") else ""
            if level.isdigit():
                blocks.append("#" * min(int(level), 6) + " " + text)
            elif style == "Title":
                blocks.append("# " + text)
            else:
                blocks.append(text)
        elif child in tables:
            table = _markdown_table([cell.text for cell in row.cells] for row in tables[child].rows)
            if table:
                blocks.append(table)
    title = (document.core_properties.title or "").strip()
    return [Part(key="", text="\n\n".join(blocks), location={"title": title} if title else {})]


def _pptx(path: Path) -> list[Part]:
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableFile(f"not a readable PowerPoint (.pptx) file ({exc})") from None
    parts = []
    for number, slide in enumerate(deck.slides, start=1):
        title = slide.shapes.title.text.strip() if slide.shapes.title is not None else ""
        texts = []
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip():
                texts.append(shape.text_frame.text.strip())
            if getattr(shape, "has_table", False) and shape.has_table:
                texts.append(_markdown_table([c.text for c in row.cells] for row in shape.table.rows))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                texts.append(f"Notes: {notes}")
        location: dict[str, Any] = {"slide": number, **({"title": title} if title else {})}
        text = _clean("\n\n".join(texts))
        problem = None if text else f"slide {number} has no text: not indexed"
        parts.append(Part(key=f"s{number}", text=text, location=location, problem=problem))
    return parts


def _xlsx(path: Path) -> list[Part]:
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFile(f"not a readable Excel (.xlsx) file ({exc})") from None
    parts = []
    try:
        for sheet in book.worksheets:
            table = _markdown_table(sheet.iter_rows(values_only=True))
            problem = None if table else f"sheet {sheet.title!r} is empty: not indexed"
            parts.append(Part(key=sheet.title, text=table, location={"sheet": sheet.title}, problem=problem))
    finally:
        book.close()
    return parts


_READERS = {".pdf": _pdf, ".docx": _docx, ".pptx": _pptx, ".xlsx": _xlsx}


def read_parts(path: Path) -> list[Part]:
    """The parts of one PDF, Word, PowerPoint or Excel file; `UnreadableFile` when none can be read."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableFile(f"{path.suffix} is not one of {', '.join(OFFICE_EXTENSIONS)}")
    try:
        return reader(path)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file of any kind is reported, never the whole run lost
        raise UnreadableFile(f"cannot read it ({type(exc).__name__}: {exc})") from None


def count_parts(path: Path) -> int:
    """How many parts `read_parts` will give (a PDF's page count; 1 otherwise): the progress bar's unit."""
    if path.suffix.lower() != ".pdf":
        return 1
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return 1
    try:
        return len(document)
    finally:
        document.close()
