"""Annotation: draw logged requests into a queue, label them (terminal or Phoenix), export them as eval cases.

from aiagents.annotate import sample, next_item, record, annotated_cases
"""

from aiagents.annotate.queue import (
    LOW_SCORE,
    VERDICT_ANNOTATION,
    AnnotationError,
    QueueItem,
    annotated_cases,
    import_phoenix,
    mark_exported,
    media_refs,
    next_item,
    queue_items,
    record,
    sample,
    skip,
)

__all__ = [
    # queue
    "QueueItem",
    "sample",
    "next_item",
    "record",
    "skip",
    "queue_items",
    "mark_exported",
    # Phoenix
    "import_phoenix",
    "VERDICT_ANNOTATION",
    # export
    "annotated_cases",
    "media_refs",
    "LOW_SCORE",
    # errors
    "AnnotationError",
]
