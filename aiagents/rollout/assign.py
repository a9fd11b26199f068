"""Sticky assignment: a user's variant is a pure function of (experiment, user id), the same in every worker."""

from __future__ import annotations

import hashlib
import uuid

from aiagents.rollout.config import Experiment, Variant

__all__ = ["bucket", "assign", "BUCKETS"]

BUCKETS = 10_000
"""Resolution of the shares: 0.01 percent."""


def bucket(experiment: str, user_id: str) -> int:
    """A uniform bucket in [0, BUCKETS) from SHA-256 of (experiment, user id).

    Salting with the experiment name keeps assignments of different experiments independent.
    """
    digest = hashlib.sha256(f"{experiment}\0{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment: Experiment, user_id: str | None, session_id: str | None = None) -> Variant:
    """The variant that serves `user_id`: the control once the experiment is stopped or its variant was stopped.

    Without a user id the session is the unit (a conversation keeps its variant from turn to turn); without
    either, each request is assigned at random (not sticky: there is nobody to stick to).
    """
    if experiment.status != "running":
        return experiment.control
    unit = user_id if user_id else (f"session:{session_id}" if session_id else uuid.uuid4().hex)
    b = bucket(experiment.name, unit)
    edge = 0.0
    chosen = experiment.variants[-1]
    for variant in experiment.variants:
        edge += variant.share * BUCKETS / 100
        if b < round(edge):
            chosen = variant
            break
    if chosen.name == experiment.stopped_variant:
        return experiment.control
    return chosen
