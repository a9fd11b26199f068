"""The mock shop database: the general environment database (`aiagents.tools.environment.database`) with
the shop's three tables, ``users``, ``orders`` and ``products``, read from ``<data>/db/NAME.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiagents.tools.environment.database import Database, EnvironmentData, Table, load_tables, record_digest
from aiagents.tools.environment.errors import EnvironmentDataError
from aiagents.tools.retail.errors import RetailDataError

__all__ = ["TABLES", "RetailData", "RetailDatabase", "Table", "load_retail_data", "record_digest"]

TABLES: tuple[str, ...] = ("users", "orders", "products")
"""The three tables of the shop, in the order they are hashed."""

RetailDatabase = Database
"""A working copy of the shop for one run (``db.users``, ``db.orders``, ``db.products``)."""


class RetailData(EnvironmentData):
    """The shop database as loaded: shared, never mutated; `fresh()` gives a working copy."""

    @classmethod
    def from_tables(
        cls,
        tables: Mapping[str, Mapping[str, dict[str, Any]]],
        *,
        source: str | Path = "<memory>",
        required: Sequence[str] = TABLES,
    ) -> EnvironmentData:
        """A database from in-memory tables (``users``, ``orders``, ``products``), e.g. a small test shop."""
        try:
            return super().from_tables(tables, source=source, required=required)
        except EnvironmentDataError as e:
            raise RetailDataError(str(e)) from None


def load_retail_data(data_dir: str | Path) -> EnvironmentData:
    """Load the shop database under ``data_dir/db`` (cached: each folder is read once per process)."""
    try:
        return load_tables(Path(data_dir) / "db", TABLES)
    except EnvironmentDataError as e:
        raise RetailDataError(f"{e}; pass the tau-bench retail folder (the one holding db/users.json)") from None
