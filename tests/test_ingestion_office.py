"""The documents teams have: PDF, Word, PowerPoint and Excel into RAG, on a corpus made here (PDFs written
byte by byte and, where Chromium is installed, printed from HTML; the others with their own libraries).
Pages, slides and sheets keep their provenance, RAG cites `file.pdf p. N`, a changed PDF re-embeds only its
changed pages, and a scanned page, an encrypted file or a damaged one is reported while the rest is indexed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiagents.ingestion import FolderSource, ingest, read_all
from aiagents.retrieval import Retriever, get_embedder, open_index
from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.rag import RagPipeline


def text_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF: one page per text (an empty text gives a page with no text layer)."""
    objects: list[bytes] = []
    kids = []
    font_id = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        page_id, content_id = 3 + 2 * i, 4 + 2 * i
        kids.append(f"{page_id} 0 R")
        lines = [ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for ln in text.splitlines()]
        ops = "".join(f"BT /F1 11 Tf 50 {760 - 16 * n} Td ({ln}) Tj ET\n" for n, ln in enumerate(lines))
        stream = ops.encode("latin-1")
        objects.append(
            f"{page_id} 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >> endobj\n".encode()
        )
        objects.append(
            f"{content_id} 0 obj << /Length {len(stream)} >> stream\n".encode() + stream + b"endstream endobj\n"
        )
    head = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
        f"2 0 obj << /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >> endobj\n".encode(),
    ]
    font = f"{font_id} 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n".encode()
    body = b"%PDF-1.4\n"
    offsets = []
    for obj in [*head, *objects, font]:
        offsets.append(len(body))
        body += obj
    xref = len(body)
    body += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    body += f"trailer << /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


POLICY_PAGES = [
    "Returns policy\nItems can be returned within 30 days of delivery.",
    "Warranty\nThe warranty covers manufacturing defects for 2 years.",
    "",  # a scanned page: no text layer
    "Refunds\nA refund is paid to the original card within 14 days.",
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    import docx
    import openpyxl
    from pptx import Presentation
    from pypdf import PdfReader, PdfWriter

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "policy.pdf").write_bytes(text_pdf(POLICY_PAGES))
    writer = PdfWriter(clone_from=PdfReader(folder / "policy.pdf"))
    writer.encrypt("secret")
    with (folder / "locked.pdf").open("wb") as f:
        writer.write(f)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a PDF")

    document = docx.Document()
    document.add_heading("Shipping guide", level=1)
    document.add_paragraph("Standard shipping takes 3 to 5 working days inside the EU.")
    document.add_heading("Express", level=2)
    document.add_paragraph("Express delivery arrives the next working day for 12 EUR.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Zone", (0, 1): "Price", (1, 0): "EU", (1, 1): "12 EUR"}.items():
        table.cell(r, c).text = value
    document.save(folder / "shipping.docx")

    deck = Presentation()
    for title, body in (("Q3 results", "Revenue grew 12 percent."), ("Next steps", "Open two new stores in Lyon.")):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.save(folder / "board.pptx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Prices"
    for row in (("Product", "Price"), ("Road bike", 350), ("Helmet", 45)):
        sheet.append(row)
    book.save(folder / "prices.xlsx")
    (folder / "faq.md").write_text("# FAQ\n\nAccounts can be deleted from the privacy page.\n")
    return folder


def test_every_format_reads_with_its_provenance_and_problems_are_named(corpus: Path) -> None:
    docs, problems = read_all(FolderSource(path=corpus))
    by_id = {d.id: d for d in docs}
    assert sorted(by_id) == [
        "board.pptx#s1", "board.pptx#s2", "faq.md", "policy.pdf#p1", "policy.pdf#p2", "policy.pdf#p4",
        "prices.xlsx#Prices", "shipping.docx",
    ]  # fmt: skip
    assert by_id["policy.pdf#p2"].metadata == {"source": "policy.pdf", "format": "pdf", "page": 2}
    assert "warranty covers manufacturing defects" in by_id["policy.pdf#p2"].text
    assert by_id["board.pptx#s2"].metadata == {
        "source": "board.pptx",
        "format": "pptx",
        "slide": 2,
        "title": "Next steps",
    }
    assert "| Road bike | 350 |" in by_id["prices.xlsx#Prices"].text
    shipping = by_id["shipping.docx"].text
    assert "# Shipping guide" in shipping and "## Express" in shipping and "| EU | 12 EUR |" in shipping
    reasons = {Path(p.path).name + (f" {p.document_id}" if p.document_id else ""): p.reason for p in problems}
    assert "no text layer" in reasons["policy.pdf policy.pdf#p3"]
    assert "encrypted" in reasons["locked.pdf locked.pdf"]
    assert "not a readable PDF" in reasons["broken.pdf broken.pdf"]
    # the progress bar's total: a readable PDF counts its pages, any other file (a locked PDF too) one
    assert FolderSource(path=corpus).estimate_count() == 4 + 1 + 1 + 1 + 1 + 1 + 1


def test_ingest_reports_formats_and_rag_cites_the_page(corpus: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(corpus), "--index", "office", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["formats"] == {"docx": 1, "markdown": 1, "pdf": 3, "pptx": 2, "xlsx": 1}
    skipped = {(Path(p["path"]).name, p["document_id"]): p["reason"] for p in report["skipped"]}
    assert set(skipped) == {("policy.pdf", "policy.pdf#p3"), ("locked.pdf", "locked.pdf"), ("broken.pdf", "broken.pdf")}

    retriever = Retriever(open_index("office"), get_embedder())
    answer = RagPipeline(retriever).ask_sync("How long does the warranty cover manufacturing defects?")
    assert answer.citations and answer.sources[0] == "policy.pdf p. 2", answer.to_json()
    pages = retriever.search("refund original card", k=3, filters={"format": "pdf", "page": 4})
    assert [h.document_id for h in pages] == ["policy.pdf#p4"]
    # every passage keeps its character span in its page (or file) and is cited by section in a Word file
    from aiagents.citations import citation_label

    docs = {d.id: d for d in read_all(FolderSource(path=corpus))[0]}
    for hit in [*pages, *retriever.search("express delivery next working day", k=1, filters={"format": "docx"})]:
        start, end = hit.span
        assert docs[hit.document_id].text[start:end] == hit.text
    assert citation_label(hit.document_id, hit.metadata, hit.heading_path) == "shipping.docx § Express"
    # the docs tool fetches a PDF page by its document id, and points at pages when asked for the whole file
    from aiagents.tools.base import ToolError
    from aiagents.tools.docs import DocsTools

    tools = DocsTools(retriever=retriever)
    page = tools.fetch_document("policy.pdf#p4")
    assert page["metadata"]["page"] == 4 and "original card within 14 days" in page["text"]
    with pytest.raises(ToolError, match="page by page"):
        tools.fetch_document("policy.pdf")


def test_a_changed_pdf_re_embeds_only_its_changed_pages(corpus: Path) -> None:
    first = ingest(corpus, "office")
    assert first.new == 8
    edited = [*POLICY_PAGES[:3], "Refunds\nA refund is paid to the original card within 10 days."]
    (corpus / "policy.pdf").write_bytes(text_pdf(edited))
    again = ingest(corpus, "office")
    assert (again.changed, again.new, again.unchanged, again.embedded) == (1, 0, 7, 1)
    (corpus / "policy.pdf").write_bytes(text_pdf(edited[:2]))  # the last pages are gone
    shorter = ingest(corpus, "office")
    assert shorter.deleted == 1 and shorter.embedded == 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian: apt-get install chromium)")
def test_a_printed_pdf_with_a_table_and_two_columns(tmp_path: Path) -> None:
    rows = "".join(f"<tr><td>Model {i}</td><td>{i * 10} EUR</td></tr>" for i in range(1, 5))
    html = (
        "<html><body><h1>Price list</h1><table border=1><tr><th>Model</th><th>Price</th></tr>" + rows + "</table>"
        "<div style='page-break-before:always;column-count:2'>"
        + "".join(f"<p>Column paragraph {i} about the returns desk.</p>" for i in range(30))
        + "</div></body></html>"
    )
    (tmp_path / "prices.html").write_text(html)
    folder = tmp_path / "pdfs"
    folder.mkdir()
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={folder / 'prices.pdf'}",
         (tmp_path / "prices.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    docs, problems = read_all(FolderSource(path=folder))
    assert problems == [] and [d.id for d in docs] == ["prices.pdf#p1", "prices.pdf#p2"]
    assert "Model 3" in docs[0].text and "30 EUR" in docs[0].text
    second = docs[1].text
    assert "Column paragraph 0" in second and "Column paragraph 29" in second


def test_the_demo_corpus_has_a_pdf_and_a_docx_and_the_demo_cites_a_page() -> None:
    from aiagents.cli.demo_cmd import DemoContext
    from aiagents.cli.rag_cmd import step_rag

    ctx = DemoContext(model="offline", phoenix="http://127.0.0.1:9", project="test")
    step_rag(ctx)
    refund, blender = ctx.notes["rag_sources"]
    assert "refunds.md" in refund
    assert blender[0] == "product-manual.pdf p. 3"


PAGE = (
    "<html><head><title>Returns | Shop</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/shop'>Shop</a> Menu Login Cart</nav><header>Free shipping over 50 EUR</header>"
    "<main><article><h1>Returns policy</h1><p>You can return any item within 30 days of delivery. The refund is "
    "paid within 14 days after we receive the item.</p><h2>Exceptions</h2><p>Gift cards and opened software "
    "cannot be returned.</p></article></main><footer>Privacy · Terms · Cookies</footer></body></html>"
)


@pytest.fixture
def website() -> Iterator[str]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            routes = {
                "/returns": ("text/html; charset=utf-8", PAGE.encode()),
                "/manual.pdf": ("application/pdf", b"%PDF"),
            }
            kind, body = routes.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in routes else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_web_pages_by_url_keep_the_main_content_only(website: str, tmp_path: Path) -> None:
    from aiagents.ingestion import WebSource

    docs, problems = read_all(WebSource(urls=[f"{website}/returns", f"{website}/gone", f"{website}/manual.pdf"]))
    (page,) = docs
    assert page.id == f"{website}/returns" and page.metadata["title"] == "Returns | Shop"
    assert "# Returns policy" in page.text and "within 14 days" in page.text
    assert not any(word in page.text for word in ("Login", "Cart", "Free shipping", "Cookies"))  # the frame is gone
    reasons = {p.path.rsplit("/", 1)[1]: p.reason for p in problems}
    assert reasons == {"gone": "the server answered 404", "manual.pdf": reasons["manual.pdf"]}
    assert "not a web page (application/pdf)" in reasons["manual.pdf"]
    # a saved copy of the same page reads the same way
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "returns.html").write_text(PAGE)
    (saved,), _ = read_all(FolderSource(path=tmp_path / "saved"))
    assert saved.text == page.text
    result = CliRunner().invoke(app, ["ingest", f"{website}/returns", "--index", "web", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["formats"] == {"html": 1}
