"""Eval datasets: cases with expectations and provenance, loaded from JSONL or YAML.

A file is untrusted input, so each case is validated with pydantic and errors name the file and line.
The dataset's version is a content hash of its cases (stable under re-formatting of the file).
Image and file inputs are paths relative to the dataset file, resolved to `MediaFile`s for the input names
listed under `media:` (at the top of a YAML file, on a case, or passed to `load(media=...)`, e.g. a prompt's
image variables); a `MediaFile` prints as `images/bike.png#sha256:...`, so the dataset version and the
call cache change when the image does.
`to_pydantic_evals()` gives a `pydantic_evals.Dataset` whose case metadata carries the expectations
the evaluators in `aiagents.evals.evaluators` read (`expected_documents`, `expected_trajectory`).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from aiagents.evals.matching import ExpectedCall
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiagents.errors import UserError

__all__ = [
    "Case",
    "Dataset",
    "DatasetFileError",
    "MediaFile",
    "Provenance",
    "ProvenanceSource",
]

ProvenanceSource = Literal["hand_written", "production_log", "annotation"]


class DatasetFileError(UserError):
    """A dataset file is missing or invalid (names the file, the line and the field)."""


class MediaFile(os.PathLike[str]):
    """An image or file input of a case: a path resolved against the dataset's folder.

    A path-like (tasks read it like any path); `str()` is the reference as written plus the content hash,
    which is what results files, the dataset version and the call cache see.
    """

    def __init__(self, ref: str, base_dir: Path) -> None:
        self.ref = ref
        """The path as written in the dataset file (relative to it)."""
        self.path = (base_dir / ref).resolve()
        self._sha256: str | None = None

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return self._sha256

    def __str__(self) -> str:
        return f"{self.ref}#sha256:{self.sha256[:16]}"

    def __repr__(self) -> str:
        return f"MediaFile({self.ref!r}, path={str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MediaFile) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)


def _identity(value: Any) -> str:
    return f"sha256:{value.sha256}" if isinstance(value, MediaFile) else str(value)


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "data:"))


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
    media: list[str] = field(default_factory=list)
    """Input names whose values are image/file paths relative to the dataset file (besides the dataset's)."""


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
    media: list[str] = Field(default_factory=list)

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
            media=self.media,
        )


def _plain_media(inputs: Any, base_dir: Path | None) -> Any:
    """`MediaFile` values as paths relative to `base_dir` (None: as written)."""
    if not isinstance(inputs, dict) or not any(isinstance(v, MediaFile) for v in inputs.values()):
        return inputs
    return {
        k: (v if not isinstance(v, MediaFile) else v.ref if base_dir is None else os.path.relpath(v.path, base_dir))
        for k, v in inputs.items()
    }


def _case_dict(case: Case, *, media_dir: Path | None = None, keep_media: bool = False) -> dict[str, Any]:
    """The case as written to a file (defaults left out); media as paths relative to `media_dir`."""
    inputs = case.inputs if keep_media else _plain_media(case.inputs, media_dir)
    d: dict[str, Any] = {"name": case.name, "inputs": inputs}
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
    if case.media:
        d["media"] = case.media
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
    base_dir: Path | None = None
    """The folder media paths are relative to (the dataset file's folder when loaded from a file)."""
    media: list[str] = field(default_factory=list)
    """Input names whose values are image/file paths, in every case."""
    target: dict[str, Any] | None = None
    """What runs the cases, from the file's header: `{"task": NAME}` or `{"agent": NAME, "tools": [...], "index":
    NAME}`; None: the prompt named like the dataset."""
    evaluators: list[Any] = field(default_factory=list)
    """Evaluator specs from the file's header (`aiagents.evals.evaluator_specs.build_evaluators` builds them)."""

    # --- loading and saving --------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, *, name: str | None = None, media: Sequence[str] = ()) -> Dataset:
        """Load `.jsonl` (one case per line) or `.yaml`/`.yml` (a list of cases, or `{name, cases, media}`).

        Inputs named in `media` (or in the file's / a case's `media:` list) are image/file paths relative to
        the file's folder, resolved to `MediaFile`s (a missing file is an error naming the line and field).
        """
        p = Path(path)
        if not p.exists():
            raise DatasetFileError(f"{p}: dataset file not found")
        suffix = p.suffix.lower()
        media_names = list(media)
        header: dict[str, Any] = {}
        if suffix == ".jsonl":
            raw = _read_jsonl(p)
        elif suffix in (".yaml", ".yml"):
            raw, name, file_media, header = _read_yaml(p, name)
            media_names += [m for m in file_media if m not in media_names]
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
            _resolve_media(case, [*media_names, *case.media], p.parent, f"{p}:{line}")
            cases.append(case)
        target = {k: header[k] for k in ("task", "agent", "tools", "index") if k in header} or None
        return cls(
            name=name or p.stem, cases=cases, base_dir=p.parent, media=media_names, target=target,
            evaluators=list(header.get("evaluators") or []),
        )  # fmt: skip

    def resolve_media(self, names: Sequence[str]) -> Dataset:
        """Resolve the inputs `names` (e.g. a prompt's image variables) of every case against `base_dir`."""
        base = self.base_dir or Path.cwd()
        for case in self.cases:
            _resolve_media(case, names, base, f"{self.name} case {case.name!r}")
        self.media += [n for n in names if n not in self.media]
        return self

    def save(self, path: str | Path) -> None:
        """Write as `.jsonl` or `.yaml` (by suffix)."""
        p = Path(path)
        rows = [_case_dict(c, media_dir=p.resolve().parent) for c in self.cases]
        if p.suffix.lower() == ".jsonl":
            if self.media:  # JSONL has no header: the dataset's media names go onto each case
                rows = [{**r, "media": list(dict.fromkeys([*self.media, *r.get("media", [])]))} for r in rows]
            p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        else:
            doc: dict[str, Any] = {
                "name": self.name,
                **(self.target or {}),
                **({"evaluators": self.evaluators} if self.evaluators else {}),
                **({"media": self.media} if self.media else {}),
                "cases": rows,
            }
            p.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))

    # --- identity ------------------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Content hash of the cases (first 12 hex digits of sha256 over their canonical JSON)."""
        # media by content (not location, not where the file declares which inputs are media)
        cases = [{k: v for k, v in _case_dict(c, keep_media=True).items() if k != "media"} for c in self.cases]
        blob = json.dumps(cases, sort_keys=True, default=_identity).encode()
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


def _resolve_media(case: Case, names: Sequence[str], base_dir: Path, where: str) -> None:
    """Turn the case's media inputs (paths relative to `base_dir`) into `MediaFile`s; URLs stay as they are."""
    if not names or not isinstance(case.inputs, dict):
        return
    resolved = dict(case.inputs)
    for key in dict.fromkeys(names):
        value = resolved.get(key)
        if not isinstance(value, str) or _is_url(value):
            continue
        media = MediaFile(value, base_dir)
        if not media.path.is_file():
            raise DatasetFileError(
                f"{where}: case {case.name!r}: inputs.{key}: file {value!r} not found (looked for {media.path}; "
                "media paths are relative to the dataset file)"
            )
        resolved[key] = media
    case.inputs = resolved


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


HEADER_KEYS = ("name", "description", "media", "cases", "task", "agent", "tools", "index", "evaluators")
"""What a YAML dataset's header may hold: the cases, and what runs and scores them."""


def _check_header(p: Path, doc: dict[str, Any]) -> dict[str, Any]:
    line = doc.get("__line__", 1)
    unknown = sorted(k for k in doc if k not in HEADER_KEYS and k != "__line__")
    if unknown:
        raise DatasetFileError(f"{p}:{line}: unknown key(s) {unknown}; a dataset file holds {list(HEADER_KEYS)}")
    if "task" in doc and "agent" in doc:
        raise DatasetFileError(f"{p}:{line}: give 'task' (a prompt) or 'agent', not both")
    for key in ("task", "agent", "index"):
        if key in doc and not isinstance(doc[key], str):
            raise DatasetFileError(f"{p}:{line}: '{key}' must be a name")
    tools = doc.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(x, str) for x in tools)):
        raise DatasetFileError(f"{p}:{line}: 'tools' must be a list of tool names")
    evaluators = doc.get("evaluators")
    if evaluators is not None and not isinstance(evaluators, list):
        raise DatasetFileError(f"{p}:{line}: 'evaluators' must be a list (names, or {{Name: {{options}}}})")
    return {k: _strip_lines(v) for k, v in doc.items() if k not in ("cases", "__line__")}


def _read_yaml(p: Path, name: str | None) -> tuple[list[tuple[int, Any]], str | None, list[str], dict[str, Any]]:
    try:
        doc = yaml.load(p.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise DatasetFileError(f"{p}{where}: invalid YAML: {getattr(e, 'problem', e)}") from e
    media: list[str] = []
    header: dict[str, Any] = {}
    if isinstance(doc, dict):
        header = _check_header(p, doc)
        name = name or doc.get("name")
        media = doc.get("media") or []
        if not isinstance(media, list) or not all(isinstance(m, str) for m in media):
            raise DatasetFileError(f"{p}:{doc.get('__line__', 1)}: 'media' must be a list of input names")
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
    return out, name, media, header
