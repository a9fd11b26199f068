"""`ServiceState`: what one service process holds: keys, store, background writer, annotator, runners."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from aiagents.logstore import (
    BackgroundWriter,
    DeadLetter,
    FeedbackAnnotator,
    FeedbackRecord,
    Journal,
    LogStore,
    RequestRecord,
    dead_letter_path,
    journal_dir,
    open_store,
)
from aiagents.secrets import REDACTED, register_secrets, scrubber
from aiagents.service.auth import KeyRing, RequestIds
from aiagents.service.config import ServiceSettings, service_secret
from aiagents.service.runners import AgentRunner, AskRunner, TaskRunner
from aiagents.settings import get_settings

__all__ = ["ServiceState", "REDACTED"]

log = logging.getLogger("aiagents.service")


class ServiceState:
    """Created by `create_app`; threads start in `start()` (the app's lifespan) and stop in `stop()`."""

    def __init__(self, settings: ServiceSettings, *, database_url: str | None = None) -> None:
        self.settings = settings
        self.keys = KeyRing(settings.client_keys, settings.admin_key_list)
        self.ids = RequestIds(service_secret(settings))
        register_secrets(settings.secret_values())  # the exported spans are scrubbed of them too
        self._scrubber = scrubber()
        self._redact = settings.redacted_fields
        self.database_url = database_url
        self.store: LogStore | None = None
        self.writer: BackgroundWriter | None = None
        self.annotator: FeedbackAnnotator | None = None
        model = get_settings().model
        self.tasks = TaskRunner(model)
        self.ask = AskRunner(model)
        self.agents = AgentRunner(model)
        self.started_at = time.time()
        self.loop: Any = None  # aiagents.rollout.hooks.LoopHooks: experiments and online evals (improvement loop)

    # lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        core = get_settings()
        _private_data_dir(core.data_dir)
        if core.tracing:
            from aiagents import tracing

            tracing.setup()
        self.store = open_store(self.database_url)
        if self.settings.request_log:
            self.writer = BackgroundWriter(
                self.store,
                batch_size=self.settings.writer_batch_size,
                max_delay=self.settings.writer_max_delay,
                journal=Journal(journal_dir(core.data_dir), fsync=self.settings.journal_fsync),
                dead_letter=DeadLetter(dead_letter_path(core.data_dir)),
            )
            if core.tracing and self.settings.annotate_feedback:
                from aiagents.tracing import phoenix_url

                key = core.phoenix_api_key.get_secret_value() if core.phoenix_api_key else None
                self.annotator = FeedbackAnnotator(self.store, phoenix_url(core), api_key=key).start()
        from aiagents.rollout.hooks import start_loop
        from aiagents.tracing import phoenix_url as _phoenix_url

        self.loop = start_loop(
            self.store, log_requests=self.writer is not None, phoenix_url=_phoenix_url(core) if core.tracing else None,
            phoenix_api_key=core.phoenix_api_key.get_secret_value() if core.phoenix_api_key else None,
        )  # fmt: skip

    def stop(self) -> None:
        """Graceful shutdown: write every queued row, flush spans, send what annotations Phoenix takes."""
        if self.writer is not None and not self.writer.close():
            log.error("log writer stopped with %d rows unwritten", self.writer.pending)
        from aiagents.tracing import current_tracing

        tracing = current_tracing()
        if tracing is not None:
            tracing.flush()
        if self.annotator is not None:
            self.annotator.stop()
        if self.loop is not None:
            self.loop.stop()
        if self.store is not None:
            self.store.close()

    # logging -----------------------------------------------------------------------------------------
    def route(self, endpoint: str, user_id: str | None, session_id: str | None = None) -> Any:
        """The experiment variant serving this request (`aiagents.rollout.Assignment`), None outside experiments."""
        return self.loop.router.route(endpoint, user_id, session_id) if self.loop is not None else None

    def log_request(self, record: RequestRecord) -> None:
        """Queue `record` for the store. Its input comes redacted (`clean`) and its output scrubbed (`scrub`): the
        request's span carries the same values, so `_serve` cleans them once for both."""
        if self.loop is not None and record.experiment:
            self.loop.router.observe(
                record.experiment, record.variant, record.request_id, latency_ms=record.latency_ms,
                error=record.error_code is not None,
            )  # fmt: skip
        if self.writer is not None:
            record.metadata = self.scrub(record.metadata)
            if record.error_message:
                record.error_message = self.scrub(record.error_message)
            self.writer.submit(record)
            if self.loop is not None and self.loop.online is not None:
                self.loop.online.submit(record)  # a queue put: scored in the background

    def log_feedback(self, record: FeedbackRecord) -> None:
        if self.writer is not None:
            record.comment = self.scrub(record.comment)
            record.corrected_output = self.scrub(record.corrected_output)
            record.metadata = self.scrub(record.metadata)
            self.writer.submit(record)
            if self.annotator is not None:
                self.annotator.wake()
        if self.loop is not None:
            self.loop.router.observe_feedback(record.request_id, record.thumbs)

    def clean(self, value: Any) -> Any:
        """Redact the configured input fields, then scrub secrets."""
        return self.scrub(self.redact(value))

    def redact(self, value: Any) -> Any:
        """Replace the values of configured field names (at any depth) by '[REDACTED]'."""
        if not self._redact:
            return value
        if isinstance(value, dict):
            return {k: REDACTED if k in self._redact else self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value

    def scrub(self, value: Any) -> Any:
        """Remove every configured secret (API keys, provider keys) and key-shaped value from strings, at any
        depth (`aiagents.secrets`: the same scrubber the exported spans go through)."""
        return self._scrubber.value(value)

    def dumps(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)


def _private_data_dir(data_dir: Path) -> None:
    """Everything the service writes (request log, journal, dead-letter file, spool, uploads) holds user data:
    readable by the owner only. The umask covers files made from now on; the folder's mode, those made before."""
    os.umask(0o077)
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours (a shared folder): leave its mode alone
        data_dir.chmod(0o700)
    for path in (data_dir / "logs").glob("requests.db*"):
        with contextlib.suppress(OSError):
            path.chmod(0o600)
