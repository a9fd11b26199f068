"""The service's settings, from `AIAGENTS_*` variables (and `.env`), like the framework's `Settings`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiagents.settings import get_settings

__all__ = ["ServiceSettings", "LOCAL_HOSTS", "service_secret"]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Where the service may listen without API keys."""


def _split(value: SecretStr | str | None) -> list[str]:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else (value or "")
    return [part.strip() for part in raw.split(",") if part.strip()]


class ServiceSettings(BaseSettings):
    """Service configuration; every field can be set as `AIAGENTS_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="AIAGENTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    api_keys: SecretStr | None = Field(default=None, description="Client API keys, comma-separated.")
    admin_keys: SecretStr | None = Field(
        default=None, description="Admin API keys (read side: request log, stats), comma-separated."
    )
    service_secret: SecretStr | None = Field(
        default=None,
        description="Signs request ids. Default: a random secret kept in the data folder (set it when several "
        "machines share one database).",
    )
    max_body_bytes: int = Field(default=1_000_000, description="Largest request body accepted (HTTP 413 above).")
    max_json_depth: int = Field(
        default=64, ge=2, le=200, description="Deepest nesting of a JSON body or form field (HTTP 400 above)."
    )
    redact_fields: str = Field(
        default="", description="Input field names replaced by '[REDACTED]' before storage, comma-separated."
    )
    request_log: bool = Field(default=True, description="Write every request to the log store.")
    dashboard_session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="Lifetime of a dashboard login (logout ends it sooner)."
    )
    annotate_feedback: bool = Field(default=True, description="Send feedback to Phoenix as span annotations.")
    journal_fsync: Literal["always", "interval", "never"] = Field(
        default="interval",
        description="When the request journal is synced to disk: 'always' (every row; a machine crash loses "
        "nothing answered), 'interval' (about once a second), 'never' (left to the OS). A killed worker loses "
        "nothing under any of them.",
    )
    writer_batch_size: int = 500
    writer_max_delay: float = 0.05

    @property
    def client_keys(self) -> list[str]:
        return _split(self.api_keys)

    @property
    def admin_key_list(self) -> list[str]:
        return _split(self.admin_keys)

    @property
    def has_keys(self) -> bool:
        return bool(self.client_keys or self.admin_key_list)

    @property
    def redacted_fields(self) -> frozenset[str]:
        return frozenset(_split(self.redact_fields))

    def secret_values(self) -> list[str]:
        """The service's own secrets (client and admin keys, signing secret), registered with the one scrubber
        (`aiagents.secrets`), which knows the provider and Phoenix keys itself."""
        values = [*self.client_keys, *self.admin_key_list]
        if self.service_secret is not None:
            values.append(self.service_secret.get_secret_value())
        return values


def service_secret(settings: ServiceSettings) -> bytes:
    """The request-id signing secret: configured, else created once under the data folder (mode 0600).

    Several worker processes may race to create it: each writes a private temporary file and links it into
    place; `os.link` fails for all but the first, and the others read the winner's secret.
    """
    if settings.service_secret is not None:
        return settings.service_secret.get_secret_value().encode()
    folder = get_settings().data_dir / "service"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret"
    if not path.exists():
        tmp = folder / f".secret-{os.getpid()}-{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path.read_text().strip().encode()
