"""Benchmark: document extraction speed per format, against LlamaIndex's default PDF approach (pypdf), on the
same files, and extraction beside embedding (does reading starve the embedder?).

    python bench/ingestion_documents.py [--pages 200] [--repeat 3]

Builds its corpus here: a PDF of N pages printed from HTML by headless Chromium when installed (else written
byte by byte), a Word file, a deck and a workbook of matching size. Prints a table and writes
bench/results/ingestion_documents.json; the numbers are what this machine measured.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiagents.ingestion import FolderSource, ingest, read_all  # noqa: E402
from aiagents.ingestion.sources.office import read_parts  # noqa: E402

PARAGRAPH = "Section {n}: the warranty covers part {n} for {m} months after delivery; refunds take {d} days."


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def make_corpus(folder: Path, pages: int) -> dict[str, int]:
    import docx
    import openpyxl
    from pptx import Presentation

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    sections = [
        f"<section style='page-break-after:always'><h2>Chapter {p}</h2>"
        + "".join(f"<p>{PARAGRAPH.format(n=p * 10 + k, m=k + 1, d=p % 20 + 5)}</p>" for k in range(8))
        + "</section>"
        for p in range(pages)
    ]
    html = folder / "manual.html"
    html.write_text("<html><body>" + "".join(sections) + "</body></html>")
    if chromium:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
             f"--user-data-dir={folder / 'profile'}", f"--print-to-pdf={folder / 'manual.pdf'}", html.as_uri()],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    else:
        sys.path.insert(0, str(ROOT / "tests"))
        from test_ingestion_office import text_pdf

        texts = ["\n".join(PARAGRAPH.format(n=p * 10 + k, m=k + 1, d=5) for k in range(8)) for p in range(pages)]
        (folder / "manual.pdf").write_bytes(text_pdf(texts))
    html.unlink()
    shutil.rmtree(folder / "profile", ignore_errors=True)
    document = docx.Document()
    for p in range(pages):
        document.add_heading(f"Chapter {p}", level=1)
        for k in range(8):
            document.add_paragraph(PARAGRAPH.format(n=p * 10 + k, m=k + 1, d=5))
    document.save(folder / "guide.docx")
    deck = Presentation()
    for p in range(pages):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Slide {p}"
        slide.placeholders[1].text = PARAGRAPH.format(n=p, m=1, d=5)
    deck.save(folder / "deck.pptx")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for p in range(max(1, pages // 20)):
        sheet = book.create_sheet(f"Sheet{p}")
        for r in range(200):
            sheet.append([f"item {r}", r * 1.5, "in stock" if r % 2 else "sold out"])
    book.save(folder / "prices.xlsx")
    return {"pdf pages": pages, "docx chapters": pages, "pptx slides": pages, "xlsx sheets": max(1, pages // 20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pypdf

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        sizes = make_corpus(folder, args.pages)
        rows: dict[str, dict[str, Any]] = {}
        for name, unit in (("manual.pdf", "pages"), ("guide.docx", "files"), ("deck.pptx", "slides"),
                           ("prices.xlsx", "sheets")):  # fmt: skip
            path = folder / name
            parts = len(read_parts(path))
            seconds = _median(lambda p=path: read_parts(p), args.repeat)
            rows[name] = {
                "parts": parts,
                "unit": unit,
                "seconds": round(seconds, 4),
                "per_second": round(parts / seconds, 1),
            }
        pdf = folder / "manual.pdf"
        pypdf_s = _median(lambda: [page.extract_text() for page in pypdf.PdfReader(pdf).pages], args.repeat)
        rows["manual.pdf (pypdf, LlamaIndex's default reader)"] = {
            "parts": args.pages, "unit": "pages", "seconds": round(pypdf_s, 4),
            "per_second": round(args.pages / pypdf_s, 1),
        }  # fmt: skip
        # Extraction beside embedding: the whole folder into an index, against embedding the same texts alone.
        import os

        os.environ["AIAGENTS_DATA_DIR"] = str(Path(tmp) / "data")
        docs, _ = read_all(FolderSource(path=folder))
        from aiagents.retrieval import get_embedder

        embedder = get_embedder()
        texts = [d.text for d in docs]
        embed_only = _median(lambda: embedder.embed_documents(texts), 1)
        started = time.perf_counter()
        report = ingest(folder, "bench-docs", progress=False, use_cache=False)
        whole = time.perf_counter() - started
    result = {
        "corpus": sizes,
        "extraction": rows,
        "pdfium_over_pypdf": round(
            rows["manual.pdf"]["per_second"] / rows["manual.pdf (pypdf, LlamaIndex's default reader)"]["per_second"], 1
        ),
        "ingest_seconds": round(whole, 2),
        "embed_only_seconds": round(embed_only, 2),
        "documents": report.read,
        "chunks": report.chunks,
        "command": "python bench/ingestion_documents.py " + " ".join(sys.argv[1:]),
    }
    print(f"{'file':50} {'parts':>6} {'per second':>11}")
    for name, row in rows.items():
        print(f"{name:50} {row['parts']:>6} {row['per_second']:>9} {row['unit']}/s")
    print(f"pypdfium2 / pypdf: {result['pdfium_over_pypdf']}x; ingest (read + chunk + embed + index) {whole:.1f} s, "
          f"embedding alone {embed_only:.1f} s for {report.read} documents, {report.chunks} chunks")  # fmt: skip
    out = ROOT / "bench" / "results" / "ingestion_documents.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
