"""The request log and feedback store: every request the service answers, and what users said about it.

from aiagents.logstore import open_store
store = open_store()            # SQLite under the data folder, or AIAGENTS_DATABASE_URL (PostgreSQL)
store.stats()                   # {"requests": N, "feedback": N, "errors": N, ...}
"""

from aiagents.logstore.annotations import CORRECTION_ANNOTATION, THUMBS_ANNOTATION, FeedbackAnnotator, annotations_for
from aiagents.logstore.dead_letter import DeadLetter, dead_letter_path, read_dead_letter
from aiagents.logstore.journal import FsyncPolicy, Journal
from aiagents.logstore.migrations import MIGRATIONS
from aiagents.logstore.records import FeedbackRecord, RequestRecord, json_or_text, new_id
from aiagents.logstore.recover import journal_dir, recover
from aiagents.logstore.shared import shared_store
from aiagents.logstore.storable import storable_json, storable_text
from aiagents.logstore.store import (
    DatabaseURLError,
    LogStore,
    LogStoreError,
    default_database_url,
    open_store,
    redact_url,
)
from aiagents.logstore.writer import BackgroundWriter, is_transient

__all__ = [
    # rows
    "RequestRecord",
    "FeedbackRecord",
    "new_id",
    "json_or_text",
    # store
    "LogStore",
    "open_store",
    "shared_store",
    "default_database_url",
    "redact_url",
    "MIGRATIONS",
    "BackgroundWriter",
    "is_transient",
    "storable_json",
    "storable_text",
    # crash safety: the journal of answered rows, the file of rows the store refused
    "Journal",
    "FsyncPolicy",
    "DeadLetter",
    "dead_letter_path",
    "read_dead_letter",
    "journal_dir",
    "recover",
    # Phoenix annotations
    "FeedbackAnnotator",
    "annotations_for",
    "THUMBS_ANNOTATION",
    "CORRECTION_ANNOTATION",
    # errors
    "LogStoreError",
    "DatabaseURLError",
]
