"""Images and files as prompt inputs: load from a path, bytes or URL; check the type from the bytes; limits.

The media type is sniffed from the content's magic bytes (never trusted from a file name or a client),
and size and type limits give an error naming the file, its size and the limit.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Literal

from pydantic_ai.messages import BinaryContent, DocumentUrl, ImageUrl

from aiagents.errors import UserError

__all__ = [
    "MediaError",
    "MediaKind",
    "IMAGE_TYPES",
    "FILE_TYPES",
    "DEFAULT_MAX_BYTES",
    "sniff_media_type",
    "to_content_part",
    "media_summary",
    "embedded_description",
]

MediaKind = Literal["image", "file"]
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
FILE_TYPES = (*IMAGE_TYPES, "application/pdf", "text/plain")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
]


class MediaError(UserError):
    """An image or file input that cannot be used (unknown type, too large, unreadable)."""


def sniff_media_type(data: bytes) -> str | None:
    """The media type from the first bytes: PNG, JPEG, GIF, WebP, PDF; UTF-8 text; else None."""
    for magic, offset, media_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        sample = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain" if sample and "\x00" not in sample else None


def to_content_part(
    value: str | Path | bytes | BinaryContent | ImageUrl | DocumentUrl,
    *,
    kind: MediaKind = "image",
    name: str = "input",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> BinaryContent | ImageUrl | DocumentUrl:
    """A pydantic-ai content part for an image/file input given as a path, bytes or an http(s) URL.

    Local content is read, sniffed and checked against `max_bytes` and the allowed types of `kind`;
    a URL is passed on as `ImageUrl`/`DocumentUrl` for the provider to fetch.
    """
    if isinstance(value, ImageUrl | DocumentUrl):
        return value
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return ImageUrl(url=value) if kind == "image" else DocumentUrl(url=value)
    where = name
    if isinstance(value, BinaryContent):
        data = value.data
    elif isinstance(value, bytes):
        data = value
    else:
        path = Path(value)
        where = str(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise MediaError(f"{where}: cannot read the {kind} ({exc.strerror or exc}).") from exc
        if size > max_bytes:
            raise MediaError(f"{where}: {size:,} bytes is over the {kind} limit of {max_bytes:,} bytes.")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise MediaError(f"{where}: {len(data):,} bytes is over the {kind} limit of {max_bytes:,} bytes.")
    media_type = sniff_media_type(data)
    allowed = IMAGE_TYPES if kind == "image" else FILE_TYPES
    if media_type not in allowed:
        found = media_type or "unknown binary content"
        raise MediaError(f"{where}: the content is {found}, not one of {', '.join(allowed)} (checked from the bytes).")
    # The file's stem only: pydantic-ai would re-derive the media type from an extension in the identifier.
    identifier = Path(value).stem if isinstance(value, str | Path) else None
    if identifier:
        return BinaryContent(data=data, media_type=media_type, identifier=identifier)
    return BinaryContent(data=data, media_type=media_type)


def media_summary(part: BinaryContent | ImageUrl | DocumentUrl) -> dict[str, object]:
    """What logs and span inputs keep of a media input: type, size and content hash, never the bytes."""
    if isinstance(part, BinaryContent):
        return {
            "media_type": part.media_type,
            "bytes": len(part.data),
            "sha256": hashlib.sha256(part.data).hexdigest(),
        }
    return {"url": part.url}


def embedded_description(data: bytes) -> str:
    """Text an image carries about itself: PNG text chunks (Title, Description, ...) or an EXIF description.

    Used by the offline baseline, which cannot see pixels.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with sentence-transformers
        return ""
    try:
        with Image.open(io.BytesIO(data)) as image:
            texts = [str(v) for k, v in image.info.items() if isinstance(v, str) and k.lower() != "icc_profile"]
            exif = image.getexif()
            description = exif.get(0x010E)  # ImageDescription
            if description:
                texts.append(str(description))
            return "\n".join(t for t in texts if t.strip())
    except Exception:  # not an image Pillow can read: nothing to say
        return ""
