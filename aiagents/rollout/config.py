"""Experiments: variants with traffic shares for one endpoint, guardrails, kept as JSON under the data folder.

An experiment file is `<data_dir>/experiments/NAME.json` (written by `aiagents ab start`, or by hand). The
service re-reads the folder when a file changes, so a stop (by the CLI or by a guardrail in any worker)
reaches every worker within a second.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aiagents.errors import UserError
from aiagents.settings import get_settings

__all__ = [
    "Variant",
    "Guardrails",
    "Experiment",
    "ExperimentStore",
    "ExperimentConfigError",
    "UnknownExperimentError",
    "parse_variant",
    "experiments_dir",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
VARIANT_FIELDS = ("prompt", "prompt_version", "model", "toolset", "mode", "share")


class ExperimentConfigError(UserError):
    """An experiment file or `--variant` spec is invalid (names the file or spec and the field)."""


class UnknownExperimentError(UserError):
    """No experiment with that name."""


@dataclass(kw_only=True)
class Variant:
    """One arm of an experiment: what serves its requests."""

    name: str
    """'control', 'candidate', ... (the first variant is the control)."""
    share: float
    """Percent of users (0-100) assigned to it."""
    prompt: str | None = None
    """Prompt name to run instead of the endpoint's (e.g. 'listing-attributes-v2'); None: the endpoint's."""
    prompt_version: str | None = None
    """A version (prefix) of the prompt; None: the current file."""
    model: str | None = None
    """Model name ('offline', 'openai:gpt-4o-mini', ...); None: the service's."""
    toolset: str | None = None
    """Toolset name for agents; None: the agent's default."""
    mode: str | None = None
    """Retrieval mode for /v1/ask ('hybrid', 'bm25', 'dense'); None: the request's."""


@dataclass(kw_only=True)
class Guardrails:
    """When the candidate is stopped automatically (all traffic back to the control)."""

    min_sample: int = 20
    """Requests of the candidate before any guardrail may fire."""
    max_error_rate: float | None = 0.10
    """Stop when the candidate's error rate exceeds this."""
    max_negative_rate: float | None = 0.50
    """Stop when the candidate's thumbs-down share of its requests exceeds this."""
    max_p95_ms: float | None = None
    """Stop when the candidate's p95 latency (ms) exceeds this."""


@dataclass(kw_only=True)
class Experiment:
    """An A/B experiment on one endpoint ('tasks/listing-attributes', 'ask/docs', 'agent/docs')."""

    name: str
    endpoint: str
    variants: list[Variant]
    guardrails: Guardrails = field(default_factory=Guardrails)
    primary_metric: Literal["thumbs_up_rate", "error_rate", "correction_rate"] = "thumbs_up_rate"
    """The metric the significance test and the decision use."""
    status: Literal["running", "stopped", "ended"] = "running"
    """'running'; 'stopped' by a guardrail (its users stay on the control until someone decides); 'ended' by hand
    or by shipping (it overrides nothing any more: every user gets what production serves)."""
    stopped_variant: str | None = None
    """The variant a guardrail stopped (its traffic goes to the control); None when none is stopped."""
    stop_reason: str | None = None
    created_at: float = field(default_factory=time.time)
    stopped_at: float | None = None

    @property
    def control(self) -> Variant:
        return self.variants[0]

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise ExperimentConfigError(f"experiment {self.name!r} has no variant {name!r}")

    def matches(self, endpoint: str) -> bool:
        """Whether requests to `endpoint` ('tasks/NAME') belong to this experiment (running or stopped)."""
        return self.endpoint == endpoint or self.endpoint == endpoint.split("/")[0]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- file schema (pydantic: files are untrusted input) ----------------------------------------------------
class _VariantModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME.pattern)
    share: float = Field(ge=0, le=100)
    prompt: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    toolset: str | None = None
    mode: Literal["hybrid", "bm25", "dense"] | None = None


class _GuardModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_sample: int = Field(20, ge=1)
    max_error_rate: float | None = Field(0.10, ge=0, le=1)
    max_negative_rate: float | None = Field(0.50, ge=0, le=1)
    max_p95_ms: float | None = Field(None, gt=0)


class _ExperimentModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME.pattern)
    endpoint: str = Field(min_length=1)
    variants: list[_VariantModel] = Field(min_length=2)
    guardrails: _GuardModel = Field(default_factory=_GuardModel)  # type: ignore[arg-type]
    primary_metric: Literal["thumbs_up_rate", "error_rate", "correction_rate"] = "thumbs_up_rate"
    status: Literal["running", "stopped", "ended"] = "running"
    """'running'; 'stopped' by a guardrail (its users stay on the control until someone decides); 'ended' by hand
    or by shipping (it overrides nothing any more: every user gets what production serves)."""
    stopped_variant: str | None = None
    stop_reason: str | None = None
    created_at: float | None = None
    stopped_at: float | None = None

    @model_validator(mode="after")
    def _check(self) -> _ExperimentModel:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique, got {names}")
        total = sum(v.share for v in self.variants)
        if abs(total - 100) > 1e-6:
            raise ValueError(f"variant shares must add up to 100, got {total:g} ({names})")
        return self

    def to_experiment(self) -> Experiment:
        data = self.model_dump()
        data["variants"] = [Variant(**v) for v in data["variants"]]
        data["guardrails"] = Guardrails(**data["guardrails"])
        if data["created_at"] is None:
            data["created_at"] = time.time()
        return Experiment(**data)


def _validate(data: Any, where: str) -> Experiment:
    try:
        return _ExperimentModel.model_validate(data).to_experiment()
    except ValidationError as exc:
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'experiment'}: {e['msg']}" for e in exc.errors()[:5]]
        raise ExperimentConfigError(f"{where}: invalid experiment: {'; '.join(parts)}") from None


def parse_variant(spec: str) -> Variant:
    """`control:prompt_version=af0f,model=offline,share=90` -> `Variant` (share defaults to 0: filled later)."""
    name, sep, rest = spec.partition(":")
    if not sep or not _NAME.match(name.strip()):
        raise ExperimentConfigError(f"--variant {spec!r}: write NAME:key=value,... (keys: {', '.join(VARIANT_FIELDS)})")
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or key not in VARIANT_FIELDS:
            raise ExperimentConfigError(
                f"--variant {spec!r}: unknown setting {part!r}; known: {', '.join(VARIANT_FIELDS)}"
            )
        values[key] = value.strip()
    share = values.pop("share", None)
    try:
        share_value = float(share) if share is not None else -1.0
    except ValueError:
        raise ExperimentConfigError(f"--variant {spec!r}: share must be a number (percent)") from None
    return Variant(name=name.strip(), share=share_value, **values)


def experiments_dir() -> Path:
    return get_settings().data_dir / "experiments"


class ExperimentStore:
    """The experiments of one deployment: files under the data folder, or, when a database is shared
    (`AIAGENTS_DATABASE_URL`), its `experiments` table, so every machine routes the same way."""

    def __init__(self, folder: Path | None = None, *, shared: Any = "auto") -> None:
        self.folder = folder or experiments_dir()
        if shared == "auto":  # an explicit folder (tests, tools) is files; the default follows the configuration
            from aiagents.logstore.shared import shared_store

            shared = shared_store() if folder is None else None
        self.shared = shared

    def stamp(self) -> tuple[tuple[str, float], ...]:
        """(experiment name, last change) of every experiment: the router re-reads them on a new stamp."""
        if self.shared is not None:
            rows = self.shared.query("SELECT name, updated_at FROM experiments ORDER BY name")
            return tuple((r["name"], float(r["updated_at"])) for r in rows)
        files = sorted(self.folder.glob("*.json")) if self.folder.exists() else []
        return tuple((p.stem, p.stat().st_mtime) for p in files)

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ExperimentConfigError(f"experiment name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.folder / f"{name}.json"

    def create(
        self,
        name: str,
        endpoint: str,
        variants: list[Variant],
        *,
        guardrails: Guardrails | None = None,
        primary_metric: str = "thumbs_up_rate",
        replace: bool = False,
        check: Callable[[str, list[Variant]], None] | None = None,
    ) -> Experiment:
        """Validate and save a new experiment; shares left out (-1) split what the others leave equally.

        `check(endpoint, variants)` may refuse variants that cannot run (the CLI resolves prompts, models, tools)."""
        if self.exists(name) and not replace:
            existing = self.load(name)
            if existing.status == "running":
                raise ExperimentConfigError(f"experiment {name!r} is running; stop it first or pass --replace")
        if check is not None:
            check(endpoint, variants)
        given = sum(v.share for v in variants if v.share >= 0)
        missing = [v for v in variants if v.share < 0]
        for v in missing:
            v.share = round((100 - given) / len(missing), 6)
        data = {
            "name": name,
            "endpoint": endpoint,
            "variants": [asdict(v) for v in variants],
            "guardrails": asdict(guardrails or Guardrails()),
            "primary_metric": primary_metric,
        }
        experiment = _validate(data, f"experiment {name!r}")
        self.save(experiment)
        return experiment

    def save(self, experiment: Experiment) -> None:
        """Write atomically (a reader never sees half a file or row)."""
        if self.shared is not None:
            self.path(experiment.name)  # checks the name
            self.shared.execute_many(
                "INSERT INTO experiments (name, body, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET body = excluded.body, updated_at = excluded.updated_at",
                [(experiment.name, json.dumps(experiment.to_json()), time.time())],
            )
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(experiment.name)
        tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(experiment.to_json(), indent=2) + "\n")
        os.replace(tmp, path)

    def exists(self, name: str) -> bool:
        if self.shared is not None:
            return bool(self.shared.query("SELECT 1 AS one FROM experiments WHERE name = ?", [name]))
        return self.path(name).exists()

    def load(self, name: str) -> Experiment:
        path = self.path(name)
        if self.shared is not None:
            rows = self.shared.query("SELECT body FROM experiments WHERE name = ?", [name])
            if not rows:
                known = ", ".join(e.name for e in self.list()) or "none"
                raise UnknownExperimentError(f"no experiment {name!r} in the shared database (known: {known})")
            return _validate(json.loads(rows[0]["body"]), f"experiment {name!r} (shared database)")
        if not path.exists():
            known = ", ".join(e.name for e in self.list()) or "none"
            raise UnknownExperimentError(f"no experiment {name!r} in {self.folder} (known: {known})")
        return self.read(path)

    @staticmethod
    def read(path: Path) -> Experiment:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ExperimentConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        return _validate(data, str(path))

    def list(self) -> list[Experiment]:
        if self.shared is not None:
            rows = self.shared.query("SELECT name, body FROM experiments ORDER BY name")
            return [_validate(json.loads(r["body"]), f"experiment {r['name']!r} (shared database)") for r in rows]
        if not self.folder.exists():
            return []
        return [self.read(p) for p in sorted(self.folder.glob("*.json"))]

    def stop(self, name: str, *, reason: str, variant: str | None = None) -> Experiment:
        """A guardrail's stop: `variant`'s users go to the control (with two variants, the whole experiment is
        'stopped' and everyone gets the control until someone ends or ships it)."""
        experiment = self.load(name)
        experiment.stop_reason = reason
        experiment.stopped_at = time.time()
        if variant is None or len(experiment.variants) <= 2:
            experiment.status = "stopped"
        experiment.stopped_variant = variant or experiment.stopped_variant
        self.save(experiment)
        return experiment

    def end(self, name: str, *, reason: str) -> Experiment:
        """End an experiment (by hand, or shipped): it overrides nothing any more."""
        experiment = self.load(name)
        experiment.status = "ended"
        experiment.stop_reason = reason
        experiment.stopped_at = time.time()
        self.save(experiment)
        return experiment
