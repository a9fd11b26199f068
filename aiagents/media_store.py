"""Uploaded images and files, kept once by content hash under the data folder, with a retention period.

    store = MediaStore()                      # data_dir/media/<sha256[:2]>/<sha256>
    ref = store.put(data)                     # {"media_type", "bytes", "sha256"}: what logs keep
    store.read(ref["sha256"])                 # the bytes again (MediaPrunedError once pruned)
    store.prune(older_than_days=30)           # or AIAGENTS_MEDIA_RETENTION_DAYS; `aiagents logs prune-media`

Files are written to a private temporary name and linked into place, so concurrent uploads of the same
content (several workers) store it once and nobody reads half a file. A re-upload refreshes the file's
time, so retention counts from the last time the content was seen.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_ai.messages import BinaryContent
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiagents.media import DEFAULT_MAX_BYTES, FILE_TYPES, IMAGE_TYPES, MediaError, MediaKind, sniff_media_type
from aiagents.settings import get_settings

__all__ = [
    "MediaStore",
    "MediaSettings",
    "PruneReport",
    "StoredMedia",
    "check_upload",
    "media_settings",
    "MediaTooLargeError",
    "MediaTypeError",
    "MediaPrunedError",
]

_DAY = 86_400.0


class MediaSettings(BaseSettings):
    """Limits and retention of uploaded media; every field can be set as `AIAGENTS_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="AIAGENTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    media_max_bytes: int = Field(default=DEFAULT_MAX_BYTES, description="Largest single uploaded file.")
    max_upload_bytes: int = Field(
        default=4 * DEFAULT_MAX_BYTES, description="Largest multipart/form-data body (all files and fields)."
    )
    media_retention_days: float | None = Field(
        default=None,
        description="Uploaded files not seen for this many days are deleted by `aiagents logs prune-media` "
        "(and when the service starts). None keeps them.",
    )


def media_settings() -> MediaSettings:
    """The media settings, read from the environment now (cheap; call it once per process or command)."""
    return MediaSettings()


class MediaTooLargeError(MediaError):
    """An uploaded file over the per-file limit."""

    def __init__(self, message: str, *, name: str, size: int, limit: int) -> None:
        super().__init__(message)
        self.name, self.size, self.limit = name, size, limit


class MediaTypeError(MediaError):
    """An uploaded file whose content (sniffed from the bytes) is not an allowed type for its variable."""

    def __init__(self, message: str, *, name: str, found: str | None) -> None:
        super().__init__(message)
        self.name, self.found = name, found


class MediaPrunedError(MediaError):
    """The file was deleted by the retention policy (or never stored here)."""


@dataclass(kw_only=True)
class StoredMedia:
    """One upload, checked: the content part for the model and the reference for the log."""

    part: BinaryContent
    """What the task sends to the model."""
    ref: dict[str, Any]
    """What logs keep: `{"media_type", "bytes", "sha256"}` (plus `"filename"` when the client sent one)."""


@dataclass(kw_only=True)
class PruneReport:
    """What `MediaStore.prune` did."""

    removed: int = 0
    """Files deleted."""
    bytes_freed: int = 0
    kept: int = 0
    """Files younger than the cut-off."""
    cutoff: float | None = None
    """Files last seen before this time (epoch seconds) were deleted; None: retention is off."""

    def to_json(self) -> dict[str, Any]:
        return {"removed": self.removed, "bytes_freed": self.bytes_freed, "kept": self.kept, "cutoff": self.cutoff}


def check_upload(
    data: bytes, *, kind: MediaKind, name: str, filename: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str, str]:
    """(media type sniffed from the bytes, a label naming the file) or `MediaTooLargeError`/`MediaTypeError`."""
    label = f"{name} ({filename})" if filename else name
    if len(data) > max_bytes:
        raise MediaTooLargeError(
            f"{label}: {len(data):,} bytes is over the per-file limit of {max_bytes:,} bytes "
            "(AIAGENTS_MEDIA_MAX_BYTES).",
            name=name,
            size=len(data),
            limit=max_bytes,
        )
    media_type = sniff_media_type(data)
    allowed = IMAGE_TYPES if kind == "image" else FILE_TYPES
    if media_type not in allowed:
        raise MediaTypeError(
            f"{label}: the content is {media_type or 'unknown binary content'}, not one of {', '.join(allowed)} "
            f"(checked from the bytes, not the file name or the declared type).",
            name=name,
            found=media_type,
        )
    return media_type, label


class MediaStore:
    """A content-addressed folder of uploaded files (`root`, default `data_dir/media`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else get_settings().data_dir / "media"

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise MediaError(f"{sha256!r} is not a sha256 hex digest (64 lower-case hex digits).")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, *, media_type: str | None = None) -> dict[str, Any]:
        """Store `data` once (by its sha256); returns its reference `{"media_type", "bytes", "sha256"}`."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            os.utime(target)  # seen again: retention counts from now
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".{digest}.{os.getpid()}.{secrets.token_hex(4)}"
            tmp.write_bytes(data)
            try:
                os.link(tmp, target)  # atomic, and fails if another writer got there first: stored once
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        return {"media_type": media_type or sniff_media_type(data), "bytes": len(data), "sha256": digest}

    def store_upload(
        self,
        data: bytes,
        *,
        kind: MediaKind,
        name: str,
        filename: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        keep: bool = True,
    ) -> StoredMedia:
        """Check an upload (size, type sniffed from the bytes), store it (unless `keep` is False), build its part."""
        media_type, _ = check_upload(data, kind=kind, name=name, filename=filename, max_bytes=max_bytes)
        if keep:
            ref = self.put(data, media_type=media_type)
        else:
            ref = {"media_type": media_type, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if filename:
            ref["filename"] = Path(filename).name[:200]
        # The stem only: pydantic-ai would re-derive the media type from an extension in the identifier.
        identifier = Path(filename).stem[:100] if filename else None
        part = (
            BinaryContent(data=data, media_type=media_type, identifier=identifier)
            if identifier
            else BinaryContent(data=data, media_type=media_type)
        )
        return StoredMedia(part=part, ref=ref)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def read(self, sha256: str) -> bytes:
        """The stored bytes of `sha256`; `MediaPrunedError` when they are gone."""
        path = self.path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise MediaPrunedError(
                f"{path}: no stored file for sha256 {sha256} (deleted by AIAGENTS_MEDIA_RETENTION_DAYS, or "
                "uploaded to another data folder)."
            ) from None

    def files(self) -> list[Path]:
        if not self.root.exists():
            return []
        return [p for p in self.root.glob("??/*") if p.is_file() and not p.name.startswith(".")]

    def prune(self, *, older_than_days: float | None = None, now: float | None = None) -> PruneReport:
        """Delete files last uploaded more than `older_than_days` ago (default: AIAGENTS_MEDIA_RETENTION_DAYS).

        With no retention configured nothing is deleted. Leftover temporary files older than a day go too.
        """
        days = older_than_days if older_than_days is not None else media_settings().media_retention_days
        report = PruneReport()
        if days is None:
            report.kept = len(self.files())
            return report
        if days < 0:
            raise MediaError(f"retention of {days} days: give 0 or more days (AIAGENTS_MEDIA_RETENTION_DAYS).")
        moment = time.time() if now is None else now
        report.cutoff = moment - days * _DAY
        for path in self.files():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if stat.st_mtime < report.cutoff:
                path.unlink(missing_ok=True)
                report.removed += 1
                report.bytes_freed += stat.st_size
            else:
                report.kept += 1
        if self.root.exists():
            for tmp in self.root.glob("??/.*"):
                if tmp.stat().st_mtime < moment - _DAY:
                    tmp.unlink(missing_ok=True)
        return report
