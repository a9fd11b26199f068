"""Eval datasets: cases with expectations and provenance, loaded from JSONL or YAML.

A file is untrusted input, so each case is validated with pydantic and errors name the file and line.
The dataset's version is a content hash of its cases (stable under re-formatting of the file).
`to_pydantic_evals()` gives a `pydantic_evals.Dataset` whose case metadata carries the expectations
the evaluators in `evals.evaluators` read (`expected_documents`, `expected_trajectory`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiagents.errors import UserError
from evals.matching import ExpectedCall

__all__ = [
    "Case",
    "Dataset",
    "DatasetFileError",
    "Provenance",
    "ProvenanceSource",
]

ProvenanceSource = Literal["hand_written", "production_log", "annotation"]


class DatasetFileError(UserError):
    """A dataset file is missing or invalid (names the file, the line and the field)."""


@dataclass(kw_only=True)
class Provenance:
    """Where a case came from."""

    source: ProvenanceSource = "hand_written"
    """hand_written, production_log (a logged request) or annotation (a human label)."""
    request_id: str | None = None
    """Id of the logged request (production_log)."""
    trace_id: str | None = None
    """Trace id of the logged run."""
    annotator: str | None = None
    """Who annotated (annotation)."""
    note: str | None = None
    """Free text."""
    added_at: str | None = None
    """ISO timestamp when the case was added."""


@dataclass(kw_only=True)
class Case:
    """One eval case."""

    name: str
    """Unique within the dataset."""
    inputs: Any
    """What the task receives (a string or a JSON object)."""
    expected_output: Any = None
    """The reference output, if any."""
    expected_documents: dict[str, int] = field(default_factory=dict)
    """Relevant document (or chunk) ids -> graded relevance (1 = relevant)."""
    expected_trajectory: list[ExpectedCall] = field(default_factory=list)
    """Reference tool calls with argument constraints, in order."""
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)


# --- file schema (pydantic: files are untrusted input) ------------------------------------------------------


class _CallModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    allowed: dict[str, list[Any]] = Field(default_factory=dict)


class _ProvenanceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: ProvenanceSource = "hand_written"
    request_id: str | None = None
    trace_id: str | None = None
    annotator: str | None = None
    note: str | None = None
    added_at: str | None = None


class _CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    inputs: Any
    expected_output: Any = None
    expected_documents: dict[str, int] | list[str] = Field(default_factory=dict)
    expected_trajectory: list[_CallModel] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    provenance: _ProvenanceModel = Field(default_factory=_ProvenanceModel)

    def to_case(self, default_name: str) -> Case:
        docs = self.expected_documents
        return Case(
            name=self.name or default_name,
            inputs=self.inputs,
            expected_output=self.expected_output,
            expected_documents=dict.fromkeys(docs, 1) if isinstance(docs, list) else dict(docs),
            expected_trajectory=[
                ExpectedCall(tool=c.tool, args=c.args, allowed=c.allowed) for c in self.expected_trajectory
            ],
            metadata=self.metadata,
            tags=self.tags,
            provenance=Provenance(**self.provenance.model_dump()),
        )


def _case_dict(case: Case) -> dict[str, Any]:
    """The case as written to a file (defaults left out)."""
    d: dict[str, Any] = {"name": case.name, "inputs": case.inputs}
    if case.expected_output is not None:
        d["expected_output"] = case.expected_output
    if case.expected_documents:
        d["expected_documents"] = case.expected_documents
    if case.expected_trajectory:
        d["expected_trajectory"] = [
            {k: v for k, v in (("tool", c.tool), ("args", c.args), ("allowed", c.allowed)) if v}
            for c in case.expected_trajectory
        ]
    if case.metadata:
        d["metadata"] = case.metadata
    if case.tags:
        d["tags"] = case.tags
    prov = {k: v for k, v in vars(case.provenance).items() if v is not None}
    if prov != {"source": "hand_written"}:
        d["provenance"] = prov
    return d


def _errors(e: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<case>'}: {err['msg']}" for err in e.errors())


def _input_key(inputs: Any) -> str:
    return json.dumps(inputs, sort_keys=True, default=str)


@dataclass(kw_only=True)
class Dataset:
    """A named list of cases."""

    name: str
    cases: list[Case] = field(default_factory=list)

    # --- loading and saving --------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, *, name: str | None = None) -> Dataset:
        """Load `.jsonl` (one case per line) or `.yaml`/`.yml` (a list of cases, or `{name, cases}`)."""
        p = Path(path)
        if not p.exists():
            raise DatasetFileError(f"{p}: dataset file not found")
        suffix = p.suffix.lower()
        if suffix == ".jsonl":
            raw = _read_jsonl(p)
        elif suffix in (".yaml", ".yml"):
            raw, name = _read_yaml(p, name)
        else:
            raise DatasetFileError(f"{p}: unknown dataset format {suffix!r}; use .jsonl, .yaml or .yml")
        cases: list[Case] = []
        seen: dict[str, int] = {}
        for line, item in raw:
            try:
                model = _CaseModel.model_validate(item)
            except ValidationError as e:
                raise DatasetFileError(f"{p}:{line}: invalid case: {_errors(e)}") from e
            case = model.to_case(default_name=f"case-{len(cases) + 1}")
            if case.name in seen:
                raise DatasetFileError(
                    f"{p}:{line}: duplicate case name {case.name!r} (first at line {seen[case.name]})"
                )
            seen[case.name] = line
            cases.append(case)
        return cls(name=name or p.stem, cases=cases)

    def save(self, path: str | Path) -> None:
        """Write as `.jsonl` or `.yaml` (by suffix)."""
        p = Path(path)
        rows = [_case_dict(c) for c in self.cases]
        if p.suffix.lower() == ".jsonl":
            p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        else:
            p.write_text(yaml.safe_dump({"name": self.name, "cases": rows}, sort_keys=False, allow_unicode=True))

    # --- identity ------------------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Content hash of the cases (first 12 hex digits of sha256 over their canonical JSON)."""
        blob = json.dumps([_case_dict(c) for c in self.cases], sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self):  # noqa: ANN204 - Iterator[Case]
        return iter(self.cases)

    # --- subsets -------------------------------------------------------------------------------------------
    def split(self, fraction: float, *, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Shuffle with `seed` and cut: (first `round(fraction * n)` cases, the rest). Same seed, same split."""
        if not 0.0 <= fraction <= 1.0:
            raise UserError(f"split fraction must be within [0, 1], got {fraction}")
        order = list(range(len(self.cases)))
        random.Random(seed).shuffle(order)
        cut = round(fraction * len(order))
        first, rest = sorted(order[:cut]), sorted(order[cut:])
        return (
            Dataset(name=f"{self.name}[split:{fraction}:{seed}:a]", cases=[self.cases[i] for i in first]),
            Dataset(name=f"{self.name}[split:{fraction}:{seed}:b]", cases=[self.cases[i] for i in rest]),
        )

    def sample(self, n: int, *, seed: int = 0) -> Dataset:
        """`n` cases drawn without replacement with `seed` (all of them if `n >= len`), in file order."""
        idx = sorted(random.Random(seed).sample(range(len(self.cases)), min(n, len(self.cases))))
        return Dataset(name=f"{self.name}[sample:{n}:{seed}]", cases=[self.cases[i] for i in idx])

    def with_tags(self, *tags: str) -> Dataset:
        """Cases carrying every one of `tags`."""
        return Dataset(name=self.name, cases=[c for c in self.cases if set(tags) <= set(c.tags)])

    # --- growing -------------------------------------------------------------------------------------------
    def add(self, case: Case) -> bool:
        """Add a case unless one with the same inputs exists; returns whether it was added."""
        keys = {_input_key(c.inputs) for c in self.cases}
        if _input_key(case.inputs) in keys:
            return False
        names = {c.name for c in self.cases}
        if case.name in names:
            case.name = f"{case.name}-{len(self.cases) + 1}"
        self.cases.append(case)
        return True

    def add_from_log(
        self,
        *,
        inputs: Any,
        output: Any,
        request_id: str,
        trace_id: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
    ) -> bool:
        """Add a production request (its output becomes the reference until someone corrects it)."""
        return self.add(
            Case(
                name=f"log-{request_id}",
                inputs=inputs,
                expected_output=output,
                tags=list(tags),
                provenance=Provenance(source="production_log", request_id=request_id, trace_id=trace_id, note=note),
            )
        )

    def add_from_annotation(
        self,
        *,
        inputs: Any,
        expected_output: Any,
        annotator: str,
        request_id: str | None = None,
        trace_id: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
    ) -> bool:
        """Add a case whose reference a human wrote or corrected."""
        return self.add(
            Case(
                name=f"annotation-{request_id or len(self.cases) + 1}",
                inputs=inputs,
                expected_output=expected_output,
                tags=list(tags),
                provenance=Provenance(
                    source="annotation", annotator=annotator, request_id=request_id, trace_id=trace_id, note=note
                ),
            )
        )

    # --- pydantic-evals ----------------------------------------------------------------------------------
    def to_pydantic_evals(self, evaluators: Sequence[Any] = ()) -> Any:
        """A `pydantic_evals.Dataset`; expectations other than the output go into each case's metadata."""
        from pydantic_evals import Case as PECase
        from pydantic_evals import Dataset as PEDataset

        cases = [
            PECase(
                name=c.name,
                inputs=c.inputs,
                expected_output=c.expected_output,
                metadata={
                    **c.metadata,
                    "tags": c.tags,
                    "expected_documents": c.expected_documents,
                    "expected_trajectory": c.expected_trajectory,
                    "provenance": vars(c.provenance),
                },
            )
            for c in self.cases
        ]
        return PEDataset(name=self.name, cases=cases, evaluators=list(evaluators))


def _read_jsonl(p: Path) -> list[tuple[int, Any]]:
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            raise DatasetFileError(f"{p}:{n}: invalid JSON: {e.msg} (column {e.colno})") from e
    return out


class _LineLoader(yaml.SafeLoader):
    """Records the line of each mapping so errors can point at a case."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _strip_lines(v) for k, v in x.items() if k != "__line__"}
    if isinstance(x, list):
        return [_strip_lines(v) for v in x]
    return x


def _read_yaml(p: Path, name: str | None) -> tuple[list[tuple[int, Any]], str | None]:
    try:
        doc = yaml.load(p.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise DatasetFileError(f"{p}{where}: invalid YAML: {getattr(e, 'problem', e)}") from e
    if isinstance(doc, dict):
        name = name or doc.get("name")
        items = doc.get("cases")
        if not isinstance(items, list):
            raise DatasetFileError(f"{p}:{doc.get('__line__', 1)}: expected a 'cases' list")
    elif isinstance(doc, list):
        items = doc
    else:
        raise DatasetFileError(f"{p}:1: expected a list of cases or a mapping with 'cases'")
    out = []
    for item in items:
        line = item.get("__line__", 1) if isinstance(item, dict) else 1
        out.append((line, _strip_lines(item)))
    return out, name
