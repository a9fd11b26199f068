"""An environment's database: JSON tables of any names, loaded once, copied per run by copy-on-write.

`load_tables(folder)` reads ``folder/*.json`` (each an object mapping record ids to records) once per
folder into an `EnvironmentData`; `EnvironmentData.fresh()` gives a `Database` whose tables share the loaded
records and deep-copy a record only when a tool edits it (`Table.edit`). A whole-database deep copy of the
retail shop costs about 40 ms and a canonical JSON hash of it about 24 ms; copy-on-write plus per-record
hashes cached on the base make a fresh copy and a state hash cost well under a millisecond
(``bench/retail_replay.py``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiagents.tools.environment.errors import EnvironmentDataError

__all__ = ["Database", "EnvironmentData", "Table", "load_tables", "record_digest"]


def record_digest(record: Any) -> bytes:
    """SHA-256 of a record's canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).digest()


@dataclass(kw_only=True, frozen=True)
class EnvironmentData:
    """A database as loaded: shared, never mutated; `fresh()` gives a working copy for one run."""

    source: Path
    """Where the tables were read from."""
    tables: Mapping[str, Mapping[str, dict[str, Any]]]
    """Table name -> record key -> record, exactly as in the JSON files (in hashing order)."""
    digests: Mapping[str, Mapping[str, bytes]] = field(repr=False)
    """Table name -> record key -> `record_digest` of the loaded record (computed once)."""

    @classmethod
    def from_tables(
        cls,
        tables: Mapping[str, Mapping[str, dict[str, Any]]],
        *,
        source: str | Path = "<memory>",
        required: Sequence[str] = (),
    ) -> EnvironmentData:
        """A database from in-memory tables (a small test domain); `required` names tables that must be there."""
        missing = [name for name in required if name not in tables]
        if missing:
            raise EnvironmentDataError(f"{source}: missing table(s) {missing}; expected {list(required)}")
        names = [*required, *sorted(set(tables) - set(required))]
        own = {name: dict(tables[name]) for name in names}
        digests = {name: {key: record_digest(rec) for key, rec in recs.items()} for name, recs in own.items()}
        return cls(source=Path(source), tables=own, digests=digests)

    def fresh(self) -> Database:
        """A new working database for one run (copy-on-write over these records)."""
        return Database(self)

    def state_hash(self) -> str:
        """The state hash of the unmodified database."""
        return self.fresh().state_hash()


def _read_table(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as f:
            records = json.load(f)
    except FileNotFoundError:
        raise EnvironmentDataError(f"{path}: not found; the data folder needs one JSON file per table") from None
    except json.JSONDecodeError as e:
        raise EnvironmentDataError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
        raise EnvironmentDataError(f"{path}: expected a JSON object mapping record ids to records (objects)")
    return records


@lru_cache(maxsize=8)
def _load(folder: Path, required: tuple[str, ...]) -> EnvironmentData:
    if not folder.is_dir():
        expected = ", ".join(f"{folder.name}/{name}.json" for name in required) or f"{folder.name}/*.json"
        raise EnvironmentDataError(f"{folder}: no such folder; the data folder must hold the tables ({expected})")
    names = list(required) or sorted(p.stem for p in folder.glob("*.json"))
    if not names:
        raise EnvironmentDataError(f"{folder}: no table files (*.json, one object of records per table)")
    tables = {name: _read_table(folder / f"{name}.json") for name in names}
    return EnvironmentData.from_tables(tables, source=folder, required=required)


def load_tables(folder: str | Path, tables: Sequence[str] = ()) -> EnvironmentData:
    """The tables in ``folder`` (``NAME.json`` each; only ``tables`` when given), read once per process."""
    return _load(Path(folder).resolve(), tuple(tables))


class Table(Mapping[str, dict[str, Any]]):
    """One table of a working database: reads see the shared record, `edit` copies it first.

    Never mutate a record obtained by indexing or `get`; call `edit(key)` (or `insert`) and mutate what it returns.
    """

    def __init__(self, name: str, base: Mapping[str, dict[str, Any]], digests: Mapping[str, bytes]) -> None:
        self.name = name
        self._base = base
        self._digests = digests
        self._own: dict[str, dict[str, Any]] = {}
        self._added: list[str] = []

    def __getitem__(self, key: str) -> dict[str, Any]:
        own = self._own.get(key)
        return own if own is not None else self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._own or key in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from self._added

    def __len__(self) -> int:
        return len(self._base) + len(self._added)

    def edit(self, key: str) -> dict[str, Any]:
        """The record under ``key``, copied into this database on first edit; mutate it freely."""
        own = self._own.get(key)
        if own is None:
            own = self._own[key] = copy.deepcopy(self._base[key])
        return own

    def insert(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        """Add a new record (a tool that creates something); raises `KeyError` if ``key`` exists."""
        if key in self:
            raise KeyError(f"{self.name}/{key} exists")
        self._own[key] = record
        self._added.append(key)
        return record

    def digest(self, key: str) -> bytes:
        """`record_digest` of the current record (cached for records never edited)."""
        own = self._own.get(key)
        return record_digest(own) if own is not None else self._digests[key]

    def edited(self) -> list[str]:
        """Keys of the records copied for editing or added (they may still equal the original)."""
        return list(self._own)


class Database:
    """A working copy of an environment's tables for one run: ``db["orders"]`` or ``db.orders``."""

    def __init__(self, data: EnvironmentData) -> None:
        self.data = data
        self.tables = {name: Table(name, data.tables[name], data.digests[name]) for name in data.tables}

    def __getitem__(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; the tables are {sorted(self.tables)}") from None

    def __getattr__(self, name: str) -> Table:
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(name)

    def state_hash(self) -> str:
        """A canonical hash of the whole state: equal hashes <=> equal data (tau-bench's reward test)."""
        h = hashlib.sha256()
        for name, table in self.tables.items():
            for key in sorted(table):
                h.update(f"{name}\0{key}\0".encode())
                h.update(table.digest(key))
        return h.hexdigest()

    def differences(self, other: Database) -> list[str]:
        """``"table/key"`` of every record that differs between the two databases."""
        out = []
        for name, mine in self.tables.items():
            theirs = other.tables[name]
            for key in sorted(set(mine.edited()) | set(theirs.edited())):
                if key not in mine or key not in theirs or mine.digest(key) != theirs.digest(key):
                    out.append(f"{name}/{key}")
        return out

    def diff(self, other: Database, *, limit: int = 20) -> list[str]:
        """Readable differences from ``other`` (the expected state): ``orders/#W1.status: 'pending' (expected
        'cancelled')``, one line per differing field, at most ``limit`` lines."""
        lines: list[str] = []
        for where in self.differences(other):
            name, key = where.split("/", 1)
            mine = self.tables[name].get(key, _MISSING)
            theirs = other.tables[name].get(key, _MISSING)
            for path, got, want in _field_differences(mine, theirs, where):
                lines.append(f"{path}: {_short(got)} (expected {_short(want)})")
                if len(lines) >= limit:
                    return [*lines, "..."]
        return lines

    def to_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The full current data as plain dicts (a deep copy; for inspection and export)."""
        return {name: {key: copy.deepcopy(rec) for key, rec in table.items()} for name, table in self.tables.items()}


_MISSING = "<missing>"


def _field_differences(got: Any, want: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want), key=str):
            yield from _field_differences(got.get(key, _MISSING), want.get(key, _MISSING), f"{path}.{key}")
    elif isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            yield from _field_differences(a, b, f"{path}[{i}]")
    elif got != want:
        yield path, got, want


def _short(value: Any, width: int = 80) -> str:
    text = value if value == _MISSING else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
