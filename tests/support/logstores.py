"""The log store on both backends: SQLite always, PostgreSQL when `AIAGENTS_TEST_POSTGRES_URL` reaches one
(a fresh schema per test). `store` (an open store) and `store_url` (an empty database's URL) are fixtures of
every test module (tests/conftest.py imports them): a test that takes one runs on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aiagents.logstore import LogStore, open_store, redact_url

__all__ = ["PG_URL", "postgres_reason", "postgres_schema_url", "store", "store_url"]

PG_URL = os.environ.get("AIAGENTS_TEST_POSTGRES_URL", "postgresql://aiagents:aiagents@127.0.0.1:5432/aiagents_test")


def postgres_reason() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'aiagents[postgres]')"
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        return f"no PostgreSQL at {redact_url(PG_URL)} (set AIAGENTS_TEST_POSTGRES_URL): {str(exc).splitlines()[0]}"
    return None


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A database URL whose tables live in a fresh schema (dropped afterwards); skips without PostgreSQL."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"  # a fresh schema per test: the same database, no interference
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty log-store database on either backend: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'logs.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[LogStore]:
    s = open_store(store_url)
    yield s
    s.close()
