"""A prompt: a Markdown file with YAML front matter, versioned by its content."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiagents.errors import MissingVariableError, PromptFileError, UnknownVariableError
from aiagents.settings import OutputMode
from aiagents.user_code import import_object

__all__ = ["Prompt", "PromptVariable", "VariableKind", "parse_prompt", "content_version"]

VariableKind = Literal["text", "json", "image", "file"]
"""text/json variables are rendered into the template; image/file variables are sent as content parts."""

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> jinja2.Template:
    """A template compiled once per process (compiling costs ~0.5 ms; a render of a compiled one ~20 us)."""
    return _ENV.from_string(source)


class PromptVariable(BaseModel):
    """A declared input variable of a prompt (front matter `variables:`)."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    kind: VariableKind = "text"
    required: bool = True
    default: Any = None


class _FrontMatter(BaseModel):
    """The validated front matter of a prompt file (untrusted input, hence pydantic)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = ""
    model: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    system: str = ""
    variables: dict[str, PromptVariable | None] = Field(default_factory=dict)
    output: str | None = None
    output_mode: OutputMode | None = None
    tags: list[str] = Field(default_factory=list)


@dataclass(kw_only=True)
class Prompt:
    """One version of a prompt."""

    name: str
    version: str
    """Short hash of the file content: any edit makes a new version."""
    template: str
    """The user-message template (Jinja2, `{{ variable }}`)."""
    system: str = ""
    """System instructions (also a template)."""
    description: str = ""
    model: str | None = None
    """Default model for this prompt, overridable by the caller."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """Model settings such as temperature and max_tokens."""
    variables: dict[str, PromptVariable] = field(default_factory=dict)
    output: str | None = None
    """Reference to the output model, `module:Class`."""
    output_mode: OutputMode | None = None
    """How the model gives structured output: 'tool' (an output tool, the default), 'native' (the provider's
    JSON-schema response format: what small local models follow best) or 'prompted' (the schema in the
    instructions, JSON in the answer text)."""
    tags: list[str] = field(default_factory=list)
    source: str = ""
    """The full file text this version was parsed from."""
    path: Path | None = None
    home: Path | None = None
    """The folder of the prompt's file, whose modules its `output:` may name (a past version read from a snapshot
    under the data folder still imports its output model from beside the file)."""

    def render(self, variables: dict[str, Any] | None = None) -> tuple[str, str]:
        """Return `(system, user)` text with `variables` filled in.

        Raises `MissingVariableError` or `UnknownVariableError` naming the variable and the prompt.
        """
        values = dict(variables or {})
        unknown = sorted(set(values) - set(self.variables))
        if unknown:
            raise UnknownVariableError(
                f"Prompt {self.name!r} (version {self.version}) has no variable {', '.join(map(repr, unknown))}; "
                f"declared: {', '.join(sorted(self.variables)) or 'none'}."
            )
        for name, spec in self.variables.items():
            if name not in values:
                if spec.required:
                    raise MissingVariableError(
                        f"Prompt {self.name!r} (version {self.version}) needs variable {name!r}"
                        f"{' (' + spec.description + ')' if spec.description else ''}; pass it in the input."
                    )
                values[name] = spec.default
        text_values = {
            k: (json.dumps(v, ensure_ascii=False, indent=2) if self.variables[k].kind == "json" else v)
            for k, v in values.items()
            if self.variables[k].kind in ("text", "json")
        }
        return _compiled(self.system).render(text_values), _compiled(self.template).render(text_values)

    @property
    def text_variables(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind in ("text", "json")]

    @property
    def media_variables(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind in ("image", "file")]

    def output_type(self) -> type[BaseModel] | None:
        """Import the output model named by the front matter's `output: module:Class`."""
        if not self.output:
            return None
        try:
            return import_object(self.output, near=self.home or self.path)
        except (ImportError, AttributeError) as exc:
            raise PromptFileError(
                f"{self.path or self.name}: output {self.output!r} cannot be imported ({exc}); "
                "write it as 'package.module:ClassName'."
            ) from exc


def content_version(text: str) -> str:
    """The version of a prompt file: the first 8 hex digits of the SHA-256 of its normalised text."""
    normalised = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().splitlines())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:8]


def parse_prompt(text: str, *, path: Path | None = None) -> Prompt:
    """Parse a prompt file's text. Errors name the file and, where known, the line."""
    where = str(path) if path else "<prompt>"
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise PromptFileError(f"{where}:1: a prompt file starts with a '---' line opening its YAML front matter.")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise PromptFileError(f"{where}: the front matter opened on line 1 is never closed by a '---' line.") from None
    try:
        raw = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise PromptFileError(f"{where}:{line}: broken YAML front matter: {problem}.") from exc
    if not isinstance(raw, dict):
        raise PromptFileError(f"{where}:2: the front matter must be a mapping of keys (name:, variables:, ...).")
    try:
        meta = _FrontMatter.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PromptFileError(f"{where}: invalid front matter: {problems}.") from exc
    template = "\n".join(lines[end + 1 :]).strip("\n")
    variables = {k: v or PromptVariable() for k, v in meta.variables.items()}
    try:
        used = jinja2.meta.find_undeclared_variables(_ENV.parse(template)) | jinja2.meta.find_undeclared_variables(
            _ENV.parse(meta.system)
        )
    except jinja2.TemplateSyntaxError as exc:
        raise PromptFileError(f"{where}:{end + 1 + (exc.lineno or 1)}: template syntax error: {exc.message}.") from exc
    undeclared = sorted(used - set(variables))
    if undeclared:
        raise PromptFileError(
            f"{where}: the template uses {', '.join(map(repr, undeclared))} but the front matter does not "
            "declare it under `variables:`."
        )
    return Prompt(
        name=meta.name,
        version=content_version(text),
        template=template,
        system=meta.system,
        description=meta.description,
        model=meta.model,
        parameters=meta.parameters,
        variables=variables,
        output=meta.output,
        output_mode=meta.output_mode,
        tags=meta.tags,
        source=text,
        path=path,
    )
