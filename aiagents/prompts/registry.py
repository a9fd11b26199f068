"""Find prompts on disk, keep every version seen, and point labels (production, staging, ...) at versions."""

from __future__ import annotations

import difflib
import getpass
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
        self.settings = settings
        self.store = settings.data_dir / "prompts"
        self._files: dict[str, Path] | None = None
        self._broken: dict[Path, str] = {}

    # discovery -----------------------------------------------------------------------------------
    def files(self) -> dict[str, Path]:
        """Prompt name -> file, scanning the folders once. A file that does not parse is kept aside in `broken`
        (its error names the file and line) and every other prompt keeps working."""
        if self._files is None:
            found: dict[str, Path] = {}
            broken: dict[Path, str] = {}
            for folder in self.dirs:
                for path in sorted(folder.glob("*.md")):
                    try:
                        prompt = parse_prompt(path.read_text(encoding="utf-8"), path=path)
                    except (PromptFileError, UnicodeDecodeError) as exc:
                        broken[path] = str(exc)
                        continue
                    found.setdefault(prompt.name, path)
            self._files, self._broken = found, broken
        return self._files

    @property
    def broken(self) -> dict[Path, str]:
        """Prompt files that do not parse: path -> the error (file and line)."""
        self.files()
        return self._broken

    def names(self) -> list[str]:
        return sorted(self.files())

    def current(self, name: str) -> Prompt:
        """The version in the prompt's file now."""
        path = self.files().get(name)
        if path is None:
            for broken_path, error in self._broken.items():  # asked for by the name its file would give it
                if broken_path.stem == name:
                    raise PromptFileError(error)
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
        home = self.files()[name].parent
        snapshot = self._snapshot_path(name, version)
        if snapshot is not None:
            prompt = parse_prompt(snapshot.read_text(encoding="utf-8"), path=snapshot)
            prompt.home = home
            return prompt
        for _commit, text in self._git_versions(self.files()[name]):
            try:
                prompt = parse_prompt(text)
            except PromptFileError:
                continue
            if prompt.version.startswith(version):
                self._snapshot(prompt)
                prompt.home = home
                return prompt
        shared = _shared()
        if shared is not None:  # a version promoted on another machine: its text is in the shared database
            rows = shared.query(
                "SELECT source FROM prompt_texts WHERE name = ? AND version LIKE ? ORDER BY version LIMIT 1",
                [name, f"{version}%"],
            )
            if rows:
                prompt = parse_prompt(rows[0]["source"])
                self._snapshot(prompt)
                prompt.home = home
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
        """Label -> version of prompt `name`."""
        return {label: _version_of(value) for label, value in self._read_labels().get(name, {}).items()}

    def label_model(self, name: str, label: str) -> str | None:
        """The model stored with a label (an experiment shipped on another model), None when it has none."""
        value = self._read_labels().get(name, {}).get(label)
        return value.get("model") if isinstance(value, dict) else None

    def set_label(
        self,
        name: str,
        label: str,
        version: str,
        *,
        model: str | None = None,
        action: str = "label",
        by: str | None = None,
    ) -> str:
        """Point `label` at `version` (a prefix is enough; `model`: served with it); returns the full version.

        Every move is appended to the label history (`history`): who, when, from which version."""
        prompt = self.get(name, version=version)
        self._snapshot(prompt)
        data = self._read_labels()
        previous = data.get(name, {}).get(label)
        shared = _shared()
        if shared is not None:  # one deployment, one truth: every machine sharing the database serves this
            now = datetime.now(UTC).timestamp()
            shared.execute_many(
                "INSERT INTO prompt_texts (name, version, source) VALUES (?, ?, ?) "
                "ON CONFLICT (name, version) DO NOTHING",
                [(name, prompt.version, prompt.source)],
            )
            shared.execute_many(
                "INSERT INTO prompt_labels (name, label, version, model, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name, label) DO UPDATE SET version = excluded.version, model = excluded.model, "
                "updated_at = excluded.updated_at",
                [(name, label, prompt.version, model, now)],
            )
        else:
            data.setdefault(name, {})[label] = {"version": prompt.version, "model": model} if model else prompt.version
            _write_json(self._labels_path(), data)
        self._append_history(
            {
                "name": name, "label": label, "version": prompt.version, "model": model, "action": action,
                "previous": _version_of(previous) if previous else None,
                "previous_model": previous.get("model") if isinstance(previous, dict) else None,
                "at": datetime.now(UTC).isoformat(timespec="seconds"), "by": by or _who(),
            }
        )  # fmt: skip
        return prompt.version

    def promote(self, name: str, version: str, *, label: str | None = None, model: str | None = None) -> dict[str, Any]:
        """Point the serving label (`AIAGENTS_SERVING_LABEL`, default production) at `version`; returns the history
        entry (with the version it replaced)."""
        label = label or self.serving_label
        self.set_label(name, label, version, model=model, action="promote")
        return self.history(name, label=label)[-1]

    def rollback(self, name: str, *, label: str | None = None) -> dict[str, Any]:
        """Move the serving label back to the version it pointed at before its last move."""
        label = label or self.serving_label
        moves = self.history(name, label=label)
        current = self.labels(name).get(label)
        # the move that put the current version there (not a rollback: rolling back twice goes back twice)
        last = next((m for m in reversed(moves) if m["version"] == current and m["action"] != "rollback"), None)
        if last is None or not last.get("previous"):
            raise UserError(
                f"Prompt {name!r}: the {label!r} label has no earlier version to go back to "
                f"(set one with `aiagents prompts promote {name} VERSION`)."
            )
        self.set_label(name, label, last["previous"], model=last.get("previous_model"), action="rollback")
        return self.history(name, label=label)[-1]

    def history(self, name: str, *, label: str | None = None) -> list[dict[str, Any]]:
        """The label moves of prompt `name`, oldest first (of one label when given)."""
        shared = _shared()
        if shared is not None:
            rows = shared.query("SELECT body FROM prompt_label_history WHERE name = ? ORDER BY at, entry_id", [name])
            entries = [json.loads(r["body"]) for r in rows]
        else:
            path = self.store / "label_history.jsonl"
            if not path.exists():
                return []
            entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [e for e in entries if e.get("name") == name and (label is None or e.get("label") == label)]

    # what is served --------------------------------------------------------------------------------
    @property
    def serving_label(self) -> str:
        return self.settings.serving_label

    def served(self, name: str) -> tuple[Prompt, str | None, str]:
        """What serves prompt `name`: (prompt, model stored with the label or None, source), the source being the
        serving label's name when it exists, else 'file' (the working file). Reads the labels once."""
        label = self.serving_label
        value = self._read_labels().get(name, {}).get(label)
        if value is None:
            return self.current(name), None, "file"
        model = value.get("model") if isinstance(value, dict) else None
        return self.get(name, version=_version_of(value)), model, label

    def choose(
        self, name: str, *, version: str | None = None, label: str | None = None, working_file: bool = False
    ) -> tuple[Prompt, str | None, str]:
        """The prompt a caller asked for, as (prompt, model stored with its label or None, source): a version or a
        label when given, the working file when asked, else what production serves (`served`)."""
        if version or label or working_file:
            return self.get(name, version=version, label=label), None, label or ("version" if version else "file")
        return self.served(name)

    def resolve(self, name: str, spec: str | None) -> Prompt:
        """A version prefix or a label of prompt `name` (None: the working file)."""
        if not spec or spec == "file":
            return self.current(name)
        if spec in self.labels(name):
            return self.get(name, label=spec)
        if spec in LABELS:
            self.get(name, label=spec)  # raises: names the label and how to set it
        return self.get(name, version=spec)

    # storage -------------------------------------------------------------------------------------
    def _labels_path(self) -> Path:
        return self.store / "labels.json"

    def _read_labels(self) -> dict[str, dict[str, Any]]:
        shared = _shared()
        if shared is not None:
            data: dict[str, dict[str, Any]] = {}
            for row in shared.query("SELECT name, label, version, model FROM prompt_labels"):
                value = {"version": row["version"], "model": row["model"]} if row["model"] else row["version"]
                data.setdefault(row["name"], {})[row["label"]] = value
            return data
        path = self._labels_path()
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PromptFileError(f"{path}:{exc.lineno}: labels file is not valid JSON ({exc.msg}).") from exc

    def _append_history(self, entry: dict[str, Any]) -> None:
        shared = _shared()
        if shared is not None:
            entry_id = f"{datetime.now(UTC).timestamp():.6f}-{os.urandom(4).hex()}"
            shared.execute_many(
                "INSERT INTO prompt_label_history (entry_id, name, at, body) VALUES (?, ?, ?, ?)",
                [(entry_id, entry["name"], datetime.now(UTC).timestamp(), json.dumps(entry, sort_keys=True))],
            )
            return
        path = self.store / "label_history.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

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


def _shared() -> Any:
    """The shared database when one is configured (`AIAGENTS_DATABASE_URL`): labels live there."""
    from aiagents.logstore.shared import shared_store

    return shared_store()


def _version_of(value: Any) -> str:
    return value["version"] if isinstance(value, dict) else value


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a container: say so rather than fail
        return "unknown"


def _write_json(path: Path, data: Any) -> None:
    """Write atomically: a worker reading the labels never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def get_prompt(name: str, *, version: str | None = None, label: str | None = None) -> Prompt:
    """Shortcut for `PromptRegistry().get(...)`."""
    return PromptRegistry().get(name, version=version, label=label)
