"""HTML to plain text with the standard library's parser.

Hand-written on purpose: no HTML library is among the dependencies, and what ingestion needs (visible
text with paragraph breaks, the title, headings as Markdown so the heading chunker sees them) is small.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_main_content", "html_to_text", "page_text"]

_SKIP = {"script", "style", "noscript", "template", "svg", "head"}
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "li", "ul", "ol",
    "table", "tr", "blockquote", "pre", "br", "hr", "dl", "dt", "dd", "figure", "figcaption", "form",
}  # fmt: skip
_BOILERPLATE = re.compile(r"<(?:nav|header|footer|aside)\b|role=[\"']?(?:navigation|banner|contentinfo)", re.I)
"""Elements of a page's frame (menus, banners, footers): where they are, the main content is extracted."""
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP:
            self._skip_depth += 1
        elif tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag not in ("li", "br", "tr", "dt", "dd") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _HEADINGS or (tag in _BLOCK and tag not in ("li", "br", "tr", "dt", "dd")):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> tuple[str, str | None]:
    """Return (text, title): visible text with blank lines between blocks, headings as `#` lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    title = " ".join("".join(parser.title_parts).split()) or None
    return text, title


def html_main_content(html: str) -> str | None:
    """The page's main content as Markdown (headings, paragraphs, tables), without navigation, headers, footers
    and cookie banners; None when the page has no recognisable main content.

    trafilatura does this (Apache-2.0; the extraction LlamaIndex and others use for web pages): boilerplate
    removal is a model of page layouts, not the small parser above."""
    if not _BOILERPLATE.search(html):
        return None  # nothing to remove: the whole text (the parser above keeps headings on small pages)
    import trafilatura

    text = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_links=False, include_comments=False,
        include_images=False, favor_recall=True,
    )  # fmt: skip
    return text.strip() if text and text.strip() else None


def page_text(html: str) -> tuple[str, str | None]:
    """A page as (text, `<title>`): its main content when it has a frame to leave out, else its whole text."""
    text, title = html_to_text(html)
    return html_main_content(html) or text, title
