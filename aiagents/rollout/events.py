"""Experiment events in the log store: started, stopped (by a person) and guardrail stops, with reasons."""

from __future__ import annotations

import json
import time
from typing import Any

from aiagents.logstore import LogStore, new_id

__all__ = ["record_event", "list_events"]


def record_event(
    store: LogStore,
    experiment: str,
    kind: str,
    *,
    variant: str | None = None,
    reason: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    store.execute_many(
        "INSERT INTO experiment_events (event_id, experiment, created_at, kind, variant, reason, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(new_id(), experiment, time.time(), kind, variant, reason, json.dumps(metadata or {}))],
    )


def list_events(store: LogStore, experiment: str | None = None) -> list[dict[str, Any]]:
    """Newest first."""
    if experiment is None:
        return store.query("SELECT * FROM experiment_events ORDER BY created_at DESC")
    return store.query("SELECT * FROM experiment_events WHERE experiment = ? ORDER BY created_at DESC", (experiment,))
