"""The request log and feedback store: every request the service answers, and what users said about it.

from aiagents.logstore import open_store
store = open_store()            # SQLite under the data folder, or AIAGENTS_DATABASE_URL (PostgreSQL)
store.stats()                   # {"requests": N, "feedback": N, "errors": N, ...}
"""

from aiagents.logstore.annotations import CORRECTION_ANNOTATION, THUMBS_ANNOTATION, FeedbackAnnotator, annotations_for
from aiagents.logstore.migrations import MIGRATIONS
from aiagents.logstore.records import FeedbackRecord, RequestRecord, json_or_text, new_id
from aiagents.logstore.store import (
    DatabaseURLError,
    LogStore,
    LogStoreError,
    default_database_url,
    open_store,
    redact_url,
)
from aiagents.logstore.writer import BackgroundWriter

__all__ = [
    # rows
    "RequestRecord",
    "FeedbackRecord",
    "new_id",
    "json_or_text",
    # store
    "LogStore",
    "open_store",
    "default_database_url",
    "redact_url",
    "MIGRATIONS",
    "BackgroundWriter",
    # Phoenix annotations
    "FeedbackAnnotator",
    "annotations_for",
    "THUMBS_ANNOTATION",
    "CORRECTION_ANNOTATION",
    # errors
    "LogStoreError",
    "DatabaseURLError",
]
