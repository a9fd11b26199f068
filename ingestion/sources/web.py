"""`WebSource`: web pages by URL, fetched when the user asks (`aiagents ingest https://...`), main content only.

A page's id is its URL; its text is the main content (`page_text`: no menus, banners or footers),
its `<title>` the title. A page that cannot be fetched, or is not HTML, is reported with the reason and the
other pages are read. Nothing is crawled: the URLs given are the pages read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from aiagents.ingestion.documents import Document, Problem
from aiagents.ingestion.errors import SourceError
from aiagents.ingestion.sources.html import page_text

__all__ = ["WebSource", "is_url"]

USER_AGENT = "aiagents-ingest (+https://github.com/aiagents)"


def is_url(value: object) -> bool:
    """Whether `value` is an http(s) URL (a source to fetch, not a path)."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


@dataclass(kw_only=True)
class WebSource:
    """The pages at `urls`, one document each."""

    urls: Sequence[str]
    timeout: float = 30.0
    """Seconds to wait for each page."""
    name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        bad = [u for u in self.urls if not is_url(u)]
        if bad or not self.urls:
            raise SourceError(f"not http(s) URLs: {bad or 'none given'}")
        self.name = self.urls[0] if len(self.urls) == 1 else f"{len(self.urls)} web pages"

    def estimate_count(self) -> int | None:
        return len(self.urls)

    def read(self) -> Iterator[Document | Problem]:
        import httpx

        with httpx.Client(timeout=self.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}) as http:
            for url in self.urls:
                try:
                    response = http.get(url)
                except httpx.HTTPError as exc:
                    yield Problem(path=url, reason=f"cannot fetch: {type(exc).__name__}: {exc}", document_id=url)
                    continue
                if response.status_code >= 400:
                    yield Problem(path=url, reason=f"the server answered {response.status_code}", document_id=url)
                    continue
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind not in ("text/html", "application/xhtml+xml", ""):
                    yield Problem(
                        path=url,
                        reason=f"not a web page ({kind}); download it and ingest the file",
                        document_id=url,
                    )
                    continue
                text, title = page_text(response.text)
                metadata = {"source": url, "format": "html", **({"title": title} if title else {})}
                yield Document(id=url, text=text, metadata=metadata)
