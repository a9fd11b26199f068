"""The mock shop database: loaded once per process, copied per run by copy-on-write.

`load_retail_data(dir)` reads ``dir/db/{users,orders,products}.json`` once (cached per path) into a
`RetailData`; `RetailData.fresh()` returns a `RetailDatabase` whose tables share the loaded records and
deep-copy a record only when a tool edits it (`Table.edit`). Measured here: a whole-database
`copy.deepcopy` costs about 40 ms and a canonical JSON hash of it about 24 ms, so 520 tasks x 2 runs
would take over half a minute; copy-on-write plus per-record hashes cached on the base make a fresh copy
and a state hash cost well under a millisecond (see ``bench/retail_replay.py``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiagents.tools.retail.errors import RetailDataError

__all__ = ["TABLES", "RetailData", "RetailDatabase", "Table", "load_retail_data", "record_digest"]

TABLES: tuple[str, ...] = ("users", "orders", "products")
"""The three tables of the shop, in the order they are hashed."""


def record_digest(record: Any) -> bytes:
    """SHA-256 of a record's canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).digest()


@dataclass(kw_only=True, frozen=True)
class RetailData:
    """The shop database as loaded from disk: shared, never mutated; `fresh()` gives a working copy."""

    source: Path
    """The folder the database was read from (holds ``db/``)."""
    tables: Mapping[str, Mapping[str, dict[str, Any]]]
    """Table name -> record key -> record, exactly as in the JSON files."""
    digests: Mapping[str, Mapping[str, bytes]] = field(repr=False)
    """Table name -> record key -> `record_digest` of the loaded record (computed once)."""

    @classmethod
    def from_tables(
        cls, tables: Mapping[str, Mapping[str, dict[str, Any]]], *, source: str | Path = "<memory>"
    ) -> RetailData:
        """A database from in-memory tables (``users``, ``orders``, ``products``), e.g. a small test shop."""
        missing = [name for name in TABLES if name not in tables]
        if missing:
            raise RetailDataError(f"{source}: missing table(s) {missing}; expected {list(TABLES)}")
        own = {name: dict(tables[name]) for name in TABLES}
        digests = {name: {key: record_digest(rec) for key, rec in recs.items()} for name, recs in own.items()}
        return cls(source=Path(source), tables=own, digests=digests)

    def fresh(self) -> RetailDatabase:
        """A new working database for one run (copy-on-write over these records)."""
        return RetailDatabase(self)

    def state_hash(self) -> str:
        """The state hash of the unmodified database."""
        return self.fresh().state_hash()


@lru_cache(maxsize=4)
def _load(source: Path) -> RetailData:
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for name in TABLES:
        path = source / "db" / f"{name}.json"
        try:
            with path.open(encoding="utf-8") as f:
                records = json.load(f)
        except FileNotFoundError:
            raise RetailDataError(
                f"{path}: not found; pass the tau-bench retail folder (the one holding db/{name}.json)"
            ) from None
        except json.JSONDecodeError as e:
            raise RetailDataError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
            raise RetailDataError(f"{path}: expected a JSON object mapping ids to records")
        tables[name] = records
    return RetailData.from_tables(tables, source=source)


def load_retail_data(data_dir: str | Path) -> RetailData:
    """Load the shop database under ``data_dir/db`` (cached: each folder is read once per process)."""
    return _load(Path(data_dir).resolve())


class Table(Mapping[str, dict[str, Any]]):
    """One table of a working database: reads see the shared record, `edit` copies it first.

    Never mutate a record obtained by indexing or `get`; call `edit(key)` and mutate what it returns.
    """

    def __init__(self, name: str, base: Mapping[str, dict[str, Any]], digests: Mapping[str, bytes]) -> None:
        self.name = name
        self._base = base
        self._digests = digests
        self._own: dict[str, dict[str, Any]] = {}

    def __getitem__(self, key: str) -> dict[str, Any]:
        own = self._own.get(key)
        return own if own is not None else self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._base

    def __iter__(self) -> Iterator[str]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)

    def edit(self, key: str) -> dict[str, Any]:
        """The record under ``key``, copied into this database on first edit; mutate it freely."""
        own = self._own.get(key)
        if own is None:
            own = self._own[key] = copy.deepcopy(self._base[key])
        return own

    def digest(self, key: str) -> bytes:
        """`record_digest` of the current record (cached for records never edited)."""
        own = self._own.get(key)
        return record_digest(own) if own is not None else self._digests[key]

    def edited(self) -> list[str]:
        """Keys of the records copied for editing (they may still equal the original)."""
        return list(self._own)


class RetailDatabase:
    """A working copy of the shop for one run: ``users``, ``orders`` and ``products`` tables."""

    def __init__(self, data: RetailData) -> None:
        self.data = data
        self.tables = {name: Table(name, data.tables[name], data.digests[name]) for name in TABLES}
        self.users = self.tables["users"]
        self.orders = self.tables["orders"]
        self.products = self.tables["products"]

    def state_hash(self) -> str:
        """A canonical hash of the whole state: equal hashes <=> equal data (tau-bench's reward test)."""
        h = hashlib.sha256()
        for name in TABLES:
            table = self.tables[name]
            for key in sorted(table):
                h.update(f"{name}\0{key}\0".encode())
                h.update(table.digest(key))
        return h.hexdigest()

    def differences(self, other: RetailDatabase) -> list[str]:
        """``"table/key"`` of every record that differs between the two databases (for failure reports)."""
        out = []
        for name in TABLES:
            mine, theirs = self.tables[name], other.tables[name]
            for key in sorted(set(mine.edited()) | set(theirs.edited())):
                if mine.digest(key) != theirs.digest(key):
                    out.append(f"{name}/{key}")
        return out

    def to_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The full current data as plain dicts (a deep copy; for inspection and export)."""
        return {name: {key: copy.deepcopy(rec) for key, rec in self.tables[name].items()} for name in TABLES}
