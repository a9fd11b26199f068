"""Find prompts on disk, keep every version seen, and point labels (production, staging, ...) at versions."""

from __future__ import annotations

import difflib
import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiagents.errors import PromptFileError, PromptNotFoundError, UserError
from aiagents.prompts.prompt import Prompt, parse_prompt
from aiagents.settings import Settings, get_settings

__all__ = ["LABELS", "PromptRegistry", "PromptVersion", "get_prompt", "shipped_prompts_dir"]

LABELS = ("production", "staging", "candidate")


def shipped_prompts_dir() -> Path:
    """Prompts that ship with the framework (worked examples, RAG and agent prompts, judge rubrics)."""
    return Path(__file__).parent / "library"


@dataclass(kw_only=True)
class PromptVersion:
    """One known version of a prompt and where it is kept."""

    name: str
    version: str
    origin: str
    """'file' (the current file), 'registry' (a snapshot in the data folder) or 'git:<commit>'."""
    seen: str = ""
    """When it was first seen (ISO time) or committed."""
    labels: list[str] | None = None


class PromptRegistry:
    """Prompts from folders (first match wins) plus a registry of past versions and labels.

    Folders searched: `AIAGENTS_PROMPTS_DIR`, `./prompts`, then the shipped prompts. Each version read from a
    file is snapshotted under `<data_dir>/prompts/<name>/<version>.md`, so it stays retrievable after
    the file changes; versions in git history are found too. Labels live in `<data_dir>/prompts/labels.json`.
    """

    def __init__(self, dirs: list[Path] | None = None, *, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        if dirs is None:
            dirs = [d for d in (settings.prompts_dir, Path("prompts")) if d is not None and d.is_dir()]
            dirs.append(shipped_prompts_dir())
        self.dirs = dirs
        self.store = settings.data_dir / "prompts"
        self._files: dict[str, Path] | None = None

    # discovery -----------------------------------------------------------------------------------
    def files(self) -> dict[str, Path]:
        """Prompt name -> file, scanning the folders once."""
        if self._files is None:
            found: dict[str, Path] = {}
            for folder in self.dirs:
                for path in sorted(folder.glob("*.md")):
                    prompt = parse_prompt(path.read_text(encoding="utf-8"), path=path)
                    found.setdefault(prompt.name, path)
            self._files = found
        return self._files

    def names(self) -> list[str]:
        return sorted(self.files())

    def current(self, name: str) -> Prompt:
        """The version in the prompt's file now."""
        path = self.files().get(name)
        if path is None:
            raise PromptNotFoundError(
                f"No prompt named {name!r}. Known prompts: {', '.join(self.names()) or 'none'} "
                f"(searched {', '.join(str(d) for d in self.dirs)})."
            )
        prompt = parse_prompt(path.read_text(encoding="utf-8"), path=path)
        self._snapshot(prompt)
        return prompt

    # versions ------------------------------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None, label: str | None = None) -> Prompt:
        """A prompt by name: the current file, a given version (prefix allowed) or the version a label points at."""
        if version and label:
            raise UserError("Give a version or a label, not both.")
        current = self.current(name)
        if label:
            version = self.labels(name).get(label)
            if version is None:
                raise PromptNotFoundError(
                    f"Prompt {name!r} has no {label!r} label; set one with "
                    f"`aiagents prompts label {name} VERSION {label}`."
                )
        if not version or current.version.startswith(version):
            return current
        snapshot = self._snapshot_path(name, version)
        if snapshot is not None:
            return parse_prompt(snapshot.read_text(encoding="utf-8"), path=snapshot)
        for _commit, text in self._git_versions(self.files()[name]):
            try:
                prompt = parse_prompt(text)
            except PromptFileError:
                continue
            if prompt.version.startswith(version):
                self._snapshot(prompt)
                return prompt
        known = ", ".join(v.version for v in self.versions(name))
        raise PromptNotFoundError(f"Prompt {name!r} has no version {version!r}; known versions: {known}.")

    def versions(self, name: str) -> list[PromptVersion]:
        """Every known version, newest first: the file, the registry snapshots and git history."""
        current = self.current(name)
        labels = self.labels(name)
        by_version: dict[str, PromptVersion] = {
            current.version: PromptVersion(name=name, version=current.version, origin="file")
        }
        for commit, text in self._git_versions(self.files()[name]):
            try:
                version = parse_prompt(text).version
            except PromptFileError:
                continue
            by_version.setdefault(version, PromptVersion(name=name, version=version, origin=f"git:{commit[:10]}"))
        folder = self.store / name
        if folder.is_dir():
            for path in sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True):
                seen = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
                entry = by_version.setdefault(path.stem, PromptVersion(name=name, version=path.stem, origin="registry"))
                entry.seen = entry.seen or seen
        for entry in by_version.values():
            entry.labels = sorted(label for label, v in labels.items() if v == entry.version)
        return list(by_version.values())

    def diff(self, name: str, old: str, new: str) -> str:
        """Unified diff between two versions of a prompt's file."""
        a, b = self.get(name, version=old), self.get(name, version=new)
        return "".join(
            difflib.unified_diff(
                a.source.splitlines(keepends=True),
                b.source.splitlines(keepends=True),
                fromfile=f"{name}@{a.version}",
                tofile=f"{name}@{b.version}",
            )
        )

    # labels --------------------------------------------------------------------------------------
    def labels(self, name: str) -> dict[str, str]:
        return self._read_labels().get(name, {})

    def set_label(self, name: str, label: str, version: str) -> str:
        """Point `label` at `version` (a prefix is enough); returns the full version."""
        prompt = self.get(name, version=version)
        self._snapshot(prompt)
        data = self._read_labels()
        data.setdefault(name, {})[label] = prompt.version
        self._labels_path().parent.mkdir(parents=True, exist_ok=True)
        self._labels_path().write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        return prompt.version

    # storage -------------------------------------------------------------------------------------
    def _labels_path(self) -> Path:
        return self.store / "labels.json"

    def _read_labels(self) -> dict[str, dict[str, str]]:
        path = self._labels_path()
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PromptFileError(f"{path}:{exc.lineno}: labels file is not valid JSON ({exc.msg}).") from exc

    def _snapshot(self, prompt: Prompt) -> None:
        path = self.store / prompt.name / f"{prompt.version}.md"
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(prompt.source, encoding="utf-8")
            except OSError:
                pass  # a read-only data folder must not stop a prompt from rendering

    def _snapshot_path(self, name: str, version: str) -> Path | None:
        folder = self.store / name
        matches = sorted(folder.glob(f"{version}*.md")) if folder.is_dir() else []
        return matches[0] if matches else None

    @staticmethod
    def _git_versions(path: Path) -> list[tuple[str, str]]:
        """(commit, file text) for each commit that touched `path`, newest first; empty outside git."""
        try:
            folder = path.resolve().parent
            top = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True, timeout=5
            )
            if top.returncode != 0:
                return []
            root = Path(top.stdout.strip())
            rel = path.resolve().relative_to(root)
            log = subprocess.run(
                ["git", "log", "--format=%H", "--", str(rel)],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            )
            result = []
            for commit in log.stdout.split():
                shown = subprocess.run(
                    ["git", "show", f"{commit}:{rel}"], cwd=root, capture_output=True, text=True, timeout=10
                )
                if shown.returncode == 0:
                    result.append((commit, shown.stdout))
            return result
        except (OSError, ValueError, subprocess.SubprocessError):
            return []


def get_prompt(name: str, *, version: str | None = None, label: str | None = None) -> Prompt:
    """Shortcut for `PromptRegistry().get(...)`."""
    return PromptRegistry().get(name, version=version, label=label)
