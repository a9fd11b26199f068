"""The log store's schema as numbered migrations: a list of small functions, applied once each, in order.

The pattern of Simon Willison's `llm/migrations.py`: each function takes the database and changes it a
little; the names of applied ones are kept in `_migrations`. Never edit a migration that has shipped:
append a new one. The SQL is the common subset of SQLite and PostgreSQL, with the few types that differ
taken from `db` (`db.float`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["MIGRATIONS", "Migratable", "migration"]


class Migratable(Protocol):
    """What a migration needs: `execute(sql)` and the dialect's type names."""

    dialect: str
    float: str

    def execute(self, sql: str) -> None: ...


MIGRATIONS: list[Callable[[Migratable], None]] = []


def migration(fn: Callable[[Migratable], None]) -> Callable[[Migratable], None]:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_requests(db: Migratable) -> None:
    db.execute(
        f"""CREATE TABLE requests (
            request_id TEXT PRIMARY KEY,
            created_at {db.float} NOT NULL,
            endpoint TEXT NOT NULL,
            name TEXT,
            input TEXT,
            output TEXT,
            prompt_name TEXT,
            prompt_version TEXT,
            model TEXT,
            variant TEXT NOT NULL DEFAULT 'default',
            experiment TEXT,
            latency_ms {db.float} NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd {db.float},
            status INTEGER NOT NULL DEFAULT 200,
            error_code TEXT,
            error_message TEXT,
            user_id TEXT,
            session_id TEXT,
            trace_id TEXT,
            span_id TEXT,
            key_fingerprint TEXT,
            metadata TEXT
        )"""
    )
    db.execute("CREATE INDEX requests_created_at ON requests (created_at)")
    db.execute("CREATE INDEX requests_session ON requests (session_id)")
    db.execute("CREATE INDEX requests_variant ON requests (experiment, variant)")


@migration
def m002_feedback(db: Migratable) -> None:
    # No foreign key: the request row and its feedback are written by independent batched writers (possibly
    # in different worker processes), so feedback may reach the database first. The service checks the
    # link when it accepts feedback (a signed request id); reads join on request_id.
    db.execute(
        f"""CREATE TABLE feedback (
            feedback_id TEXT PRIMARY KEY,
            request_id TEXT NOT NULL,
            created_at {db.float} NOT NULL,
            kind TEXT NOT NULL,
            thumbs TEXT,
            comment TEXT,
            corrected_output TEXT,
            accepted INTEGER,
            user_id TEXT,
            key_fingerprint TEXT,
            metadata TEXT,
            annotated_at {db.float},
            annotation_attempts INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("CREATE INDEX feedback_request ON feedback (request_id)")
    db.execute("CREATE INDEX feedback_pending ON feedback (annotated_at)")


@migration
def m003_scores(db: Migratable) -> None:
    """Room for the improvement loop: online-eval scores and human annotations per request."""
    db.execute(
        f"""CREATE TABLE scores (
            score_id TEXT PRIMARY KEY,
            request_id TEXT NOT NULL,
            created_at {db.float} NOT NULL,
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            score {db.float},
            label TEXT,
            explanation TEXT,
            annotator TEXT,
            metadata TEXT,
            annotated_at {db.float}
        )"""
    )
    db.execute("CREATE INDEX scores_request ON scores (request_id)")


@migration
def m004_experiment_events(db: Migratable) -> None:
    """A/B rollout: starts, stops and guardrail stops of experiments, with their reason."""
    db.execute(
        f"""CREATE TABLE experiment_events (
            event_id TEXT PRIMARY KEY,
            experiment TEXT NOT NULL,
            created_at {db.float} NOT NULL,
            kind TEXT NOT NULL,
            variant TEXT,
            reason TEXT,
            metadata TEXT
        )"""
    )
    db.execute("CREATE INDEX experiment_events_name ON experiment_events (experiment, created_at)")
    db.execute("CREATE INDEX scores_name ON scores (name, created_at)")


@migration
def m005_annotation_queue(db: Migratable) -> None:
    """The annotation queue: requests drawn for people to label, with their verdict and corrected output."""
    db.execute(
        f"""CREATE TABLE annotation_queue (
            item_id TEXT PRIMARY KEY,
            request_id TEXT NOT NULL UNIQUE,
            queued_at {db.float} NOT NULL,
            reason TEXT NOT NULL,
            priority INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            verdict TEXT,
            label TEXT,
            correct_output TEXT,
            annotator TEXT,
            annotated_at {db.float},
            exported_to TEXT
        )"""
    )
    db.execute("CREATE INDEX annotation_queue_status ON annotation_queue (status, priority, queued_at)")


@migration
def m006_dashboard_sessions(db: Migratable) -> None:
    """Dashboard sessions ended by logout (every worker and machine sharing the store refuses their cookie)."""
    db.execute(
        f"""CREATE TABLE revoked_sessions (
            session_id TEXT PRIMARY KEY,
            revoked_at {db.float} NOT NULL,
            expires_at {db.float} NOT NULL
        )"""
    )


@migration
def m007_shared_state(db: Migratable) -> None:
    """What every worker on every machine must agree on when they share this database: prompt labels (with the
    texts of the versions they point at) and their history, experiments, agent sessions."""
    db.execute(
        f"""CREATE TABLE prompt_labels (
            name TEXT NOT NULL,
            label TEXT NOT NULL,
            version TEXT NOT NULL,
            model TEXT,
            updated_at {db.float} NOT NULL,
            PRIMARY KEY (name, label)
        )"""
    )
    db.execute(
        f"""CREATE TABLE prompt_label_history (
            entry_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            at {db.float} NOT NULL,
            body TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX prompt_label_history_name ON prompt_label_history (name, at)")
    db.execute("CREATE TABLE prompt_texts (name TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL, "
               "PRIMARY KEY (name, version))")  # fmt: skip
    db.execute(f"CREATE TABLE experiments (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at {db.float} NOT NULL)")
    db.execute(
        """CREATE TABLE agent_messages (
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            run_id TEXT,
            user_id TEXT,
            created_at TEXT NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (session_id, seq)
        )"""
    )


@migration
def m008_trace_sampled(db: Migratable) -> None:
    """Whether a request's trace went to Phoenix (trace sampling): 1, 0, or NULL when not known (older rows)."""
    db.execute("ALTER TABLE requests ADD COLUMN trace_sampled INTEGER")
