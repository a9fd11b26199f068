"""Tool rollout: switch tools on for everyone, a share of users, an allow-list, or off, by configuration.

```yaml
# <data dir>/tool_rollout.yaml (or any file passed in; AIAGENTS_TOOL_ROLLOUT overrides it)
default: on              # tools not listed
tools:
  search_docs: on
  fetch_document: 25%    # sticky: the same user always gets the same answer
  create_ticket: {allow: [alice, bob]}
  refund_order: {mode: on, approval: true}   # every call waits for a person's approval
  delete_account: off
```

`AIAGENTS_TOOL_ROLLOUT` holds a file path or an inline JSON/YAML mapping of the same shape (or just the
`tools` mapping); its rules replace the file's rule by rule. A percentage share is sticky by hashing the
user id with the tool name (SHA-256), so users land in independent buckets per tool and a user keeps
the same tools from one request to the next. The decision is exposed as plain data
(`RolloutDecision.as_metadata()`), which `aiagents.agents` records on the AGENT span.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_ai import RunContext, WrapperToolset
from pydantic_ai.exceptions import ApprovalRequired
from pydantic_ai.toolsets import ToolsetTool

from aiagents.errors import UserError
from aiagents.settings import get_settings

__all__ = [
    "ROLLOUT_ENV",
    "ROLLOUT_FILE",
    "RolloutMode",
    "RolloutConfigError",
    "ToolRule",
    "RolloutConfig",
    "ToolDecision",
    "RolloutDecision",
    "RolloutToolset",
    "bucket",
    "load_rollout",
]

ROLLOUT_ENV = "AIAGENTS_TOOL_ROLLOUT"
ROLLOUT_FILE = "tool_rollout.yaml"
"""File name looked up under the data folder when no configuration is passed in."""
USER_ID_KEY = "user_id"
"""Key of the user id in the run's metadata (`RunContext.metadata`)."""

RolloutMode = Literal["on", "off", "percent", "allow"]


class RolloutConfigError(UserError):
    """A rollout configuration cannot be read (names the source, the tool and what is wrong)."""


@dataclass(kw_only=True, frozen=True)
class ToolRule:
    """Who gets one tool."""

    mode: RolloutMode = "on"
    """'on' everyone, 'off' nobody, 'percent' a sticky share of users, 'allow' the listed users."""
    percent: float = 100.0
    """Share of users (0-100) for 'percent'."""
    users: frozenset[str] = frozenset()
    """User ids for 'allow'."""
    approval: bool = False
    """Calls wait for a person's approval (the run ends with `DeferredToolRequests`)."""

    def decide(self, tool: str, user_id: str | None) -> ToolDecision:
        """Whether `user_id` gets `tool` under this rule, and why."""
        decision = self._decide(tool, user_id)
        if self.approval and decision.enabled:
            return ToolDecision(tool=tool, enabled=True, reason=f"{decision.reason}; needs approval", approval=True)
        return decision

    def _decide(self, tool: str, user_id: str | None) -> ToolDecision:
        if self.mode == "on":
            return ToolDecision(tool=tool, enabled=True, reason="on for everyone")
        if self.mode == "off":
            return ToolDecision(tool=tool, enabled=False, reason="switched off")
        if self.mode == "allow":
            ok = user_id is not None and user_id in self.users
            why = "on the allow-list" if ok else "not on the allow-list"
            return ToolDecision(tool=tool, enabled=ok, reason=why)
        if user_id is None:
            return ToolDecision(tool=tool, enabled=False, reason=f"{self.percent:g}% rollout, no user id")
        b = bucket(user_id, tool)
        ok = b < self.percent
        where = "inside" if ok else "outside"
        return ToolDecision(tool=tool, enabled=ok, reason=f"{self.percent:g}% rollout, bucket {b:.2f} {where}")


def bucket(user_id: str, tool: str) -> float:
    """A user's sticky position in [0, 100) for one tool (SHA-256 of 'tool:user', first 8 bytes)."""
    digest = hashlib.sha256(f"{tool}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


class _RuleIn(BaseModel):
    """A rule as written in a file (untrusted input)."""

    model_config = ConfigDict(extra="forbid")

    mode: RolloutMode | None = None
    percent: float | None = Field(default=None, ge=0, le=100)
    allow: list[str] | None = None
    approval: bool = False

    @field_validator("allow", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [s.strip() for s in v.split(",") if s.strip()] if isinstance(v, str) else v


def _rule(value: Any, where: str) -> ToolRule:
    """Parse `on`, `off`, `true/false`, `25%`, `25`, `{percent: 25}`, `{allow: [a, b]}` or `{mode: ...}`."""
    if isinstance(value, bool):
        return ToolRule(mode="on" if value else "off")
    if isinstance(value, int | float):
        value = f"{value}%"
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("on", "off"):
            return ToolRule(mode=text)  # type: ignore[arg-type]
        if text.endswith("%"):
            try:
                pct = float(text[:-1])
            except ValueError:
                pct = -1.0
            if 0 <= pct <= 100:
                return ToolRule(mode="percent", percent=pct)
        raise RolloutConfigError(
            f"{where}: {value!r} is not a rule; use on, off, a percentage like 25% or {{allow: [...]}}"
        )
    if not isinstance(value, Mapping):
        raise RolloutConfigError(f"{where}: expected on/off, a percentage or a mapping, got {type(value).__name__}")
    try:
        parsed = _RuleIn.model_validate(dict(value))
    except ValidationError as exc:
        raise RolloutConfigError(f"{where}: {exc.errors(include_url=False)[0]['msg']} ({dict(value)})") from exc
    if parsed.allow is not None:
        return ToolRule(mode="allow", users=frozenset(parsed.allow), approval=parsed.approval)
    if parsed.percent is not None:
        return ToolRule(mode="percent", percent=parsed.percent, approval=parsed.approval)
    if parsed.mode is not None:
        return ToolRule(mode=parsed.mode, approval=parsed.approval)
    if parsed.approval:
        return ToolRule(approval=True)
    raise RolloutConfigError(f"{where}: give one of mode, percent, allow or approval")


@dataclass(kw_only=True, frozen=True)
class RolloutConfig:
    """Rules per tool name, and the rule of tools not listed."""

    tools: Mapping[str, ToolRule] = field(default_factory=dict)
    """Rule per tool name."""
    default: ToolRule = ToolRule()
    """Rule of any tool not listed (on for everyone unless configured)."""
    source: str = "defaults"
    """Where the configuration came from (file path, environment, 'defaults'), for traces and errors."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, *, source: str = "<dict>") -> RolloutConfig:
        """Parse `{default: ..., tools: {name: rule}}` or a bare `{name: rule}` mapping."""
        data = dict(data or {})
        if "tools" not in data and "default" not in data:
            data = {"tools": data}
        extra = set(data) - {"tools", "default"}
        if extra:
            raise RolloutConfigError(f"{source}: unknown keys {sorted(extra)}; use 'default' and 'tools'")
        raw_tools = data.get("tools") or {}
        if not isinstance(raw_tools, Mapping):
            raise RolloutConfigError(f"{source}: 'tools' must be a mapping of tool name to rule")
        tools = {str(k): _rule(v, f"{source}: tools.{k}") for k, v in raw_tools.items()}
        default = _rule(data["default"], f"{source}: default") if "default" in data else ToolRule()
        return cls(tools=tools, default=default, source=source)

    def merged(self, other: RolloutConfig) -> RolloutConfig:
        """`other`'s rules over these (tool by tool; its default only when it set one)."""
        return RolloutConfig(
            tools={**self.tools, **other.tools},
            default=other.default if other.default != ToolRule() else self.default,
            source=f"{self.source} + {other.source}",
        )

    def rule_for(self, tool: str) -> ToolRule:
        return self.tools.get(tool, self.default)

    def decide(self, tool_names: Iterable[str], user_id: str | None) -> RolloutDecision:
        """The decision for every tool in `tool_names` for one user."""
        return RolloutDecision(
            user_id=user_id,
            source=self.source,
            decisions=[self.rule_for(name).decide(name, user_id) for name in tool_names],
        )


@dataclass(kw_only=True, frozen=True)
class ToolDecision:
    """Whether one tool is offered to one user, and why."""

    tool: str
    enabled: bool
    reason: str
    approval: bool = False
    """Offered, but each call waits for approval."""


@dataclass(kw_only=True)
class RolloutDecision:
    """The decisions for one run (recorded on its trace)."""

    user_id: str | None
    source: str
    decisions: list[ToolDecision] = field(default_factory=list)

    @property
    def enabled(self) -> list[str]:
        return [d.tool for d in self.decisions if d.enabled]

    @property
    def disabled(self) -> list[str]:
        return [d.tool for d in self.decisions if not d.enabled]

    @property
    def needs_approval(self) -> list[str]:
        return [d.tool for d in self.decisions if d.approval]

    def as_metadata(self) -> dict[str, Any]:
        """`{"enabled": [...], "disabled": [...], "reasons": {tool: why}, "source": ...}` for span metadata
        (plus `"approval": [...]` when some tools need approval)."""
        data: dict[str, Any] = {
            "enabled": self.enabled,
            "disabled": self.disabled,
            "reasons": {d.tool: d.reason for d in self.decisions},
            "source": self.source,
        }
        if self.needs_approval:
            data["approval"] = self.needs_approval
        return data


def _read(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise RolloutConfigError(f"{source}{line}: not valid YAML/JSON: {exc}") from exc


def load_rollout(config: RolloutConfig | Mapping[str, Any] | str | Path | None = None) -> RolloutConfig:
    """The rollout configuration: `config` (object, mapping or file), else `<data dir>/tool_rollout.yaml`
    when it exists, else everything on; then `AIAGENTS_TOOL_ROLLOUT` (a path or inline rules) on top."""
    if isinstance(config, RolloutConfig):
        base = config
    elif isinstance(config, Mapping):
        base = RolloutConfig.from_dict(config)
    else:
        path = Path(config) if config is not None else get_settings().data_dir / ROLLOUT_FILE
        if path.exists():
            base = RolloutConfig.from_dict(_read(path.read_text(encoding="utf-8"), str(path)), source=str(path))
        elif config is not None:
            raise RolloutConfigError(f"{path}: no such rollout file")
        else:
            base = RolloutConfig()
    env = os.environ.get(ROLLOUT_ENV, "").strip()
    if not env:
        return base
    if env[0] not in "{[" and Path(env).exists():
        override = RolloutConfig.from_dict(_read(Path(env).read_text(encoding="utf-8"), env), source=env)
    else:
        data = _read(env, ROLLOUT_ENV)
        if not isinstance(data, Mapping):
            raise RolloutConfigError(f"{ROLLOUT_ENV}: expected a file path or a mapping of tool rules, got {env!r}")
        override = RolloutConfig.from_dict(data, source=ROLLOUT_ENV)
    return base.merged(override)


@dataclass
class RolloutToolset(WrapperToolset[Any]):
    """Offers each wrapped tool only to the users its rule lets in (the user id comes from the run's
    metadata, `metadata={"user_id": ...}`, which `aiagents.agents` sets).

    `trace_metadata(user_id)` gives the decision as plain data; `aiagents.agents` calls it (duck-typed)
    and records the result on the AGENT span under `tool_rollout`. `config` defaults to `load_rollout()`.
    """

    config: RolloutConfig = field(default_factory=load_rollout)
    _seen: list[str] = field(default_factory=list, repr=False)

    def tool_names(self) -> list[str]:
        """Names of the wrapped tools (known up front for function toolsets, else after a first run)."""
        tools = getattr(self.wrapped, "tools", None)
        return list(tools) if isinstance(tools, Mapping) else list(self._seen)

    def decide(self, user_id: str | None) -> RolloutDecision:
        return self.config.decide(self.tool_names(), user_id)

    def trace_metadata(self, user_id: str | None) -> dict[str, Any]:
        return {"tool_rollout": self.decide(user_id).as_metadata()}

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        tools = await super().get_tools(ctx)
        self._seen[:] = list(tools)
        user_id = (ctx.metadata or {}).get(USER_ID_KEY)
        decision = self.config.decide(tools, None if user_id is None else str(user_id))
        offered = {name: tools[name] for name in decision.enabled}
        for name in decision.needs_approval:  # pydantic-ai defers calls of 'unapproved' tools up front
            tool = offered[name]
            offered[name] = replace(tool, tool_def=replace(tool.tool_def, kind="unapproved"))
        return offered

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        if tool.tool_def.kind == "unapproved" and not ctx.tool_call_approved:
            raise ApprovalRequired
        return await super().call_tool(name, tool_args, ctx, tool)
