"""Versioned prompts: parsing, versions, rendering errors, registry labels, history and diffs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aiagents.errors import (
    MissingVariableError,
    PromptFileError,
    PromptNotFoundError,
    UnknownVariableError,
)
from aiagents.prompts import PromptRegistry, content_version, parse_prompt

GREETING = """---
name: greet
description: Say hello.
variables:
  person:
    description: Who to greet.
  mood:
    required: false
    default: cheerful
---
Write a {{ mood }} greeting for {{ person }}.
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_and_render() -> None:
    prompt = parse_prompt(GREETING)
    assert prompt.name == "greet"
    assert prompt.version == content_version(GREETING)
    assert len(prompt.version) == 8
    system, user = prompt.render({"person": "Ada"})
    assert system == ""
    assert user == "Write a cheerful greeting for Ada."
    assert prompt.render({"person": "Ada", "mood": "formal"})[1] == "Write a formal greeting for Ada."


def test_version_changes_with_content_but_not_with_trailing_spaces() -> None:
    assert content_version(GREETING) == content_version(GREETING.replace("\n", "  \n"))
    assert content_version(GREETING) != content_version(GREETING.replace("Write a", "Compose a"))


def test_missing_variable_names_the_variable_and_prompt() -> None:
    prompt = parse_prompt(GREETING)
    with pytest.raises(MissingVariableError, match=r"'greet'.*needs variable 'person' \(Who to greet.\)"):
        prompt.render({})


def test_unknown_variable_is_refused() -> None:
    prompt = parse_prompt(GREETING)
    with pytest.raises(UnknownVariableError, match=r"no variable 'persn'.*declared: mood, person"):
        prompt.render({"persn": "Ada"})


def test_broken_front_matter_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.md", "---\nname: bad\nvariables: [unclosed\n---\nHi\n")
    with pytest.raises(PromptFileError, match=r"bad\.md:\d+: broken YAML front matter"):
        parse_prompt(path.read_text(), path=path)


def test_unclosed_front_matter_and_missing_opening(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match="never closed"):
        parse_prompt("---\nname: x\n")
    with pytest.raises(PromptFileError, match=r":1: a prompt file starts with"):
        parse_prompt("name: x\n")


def test_template_variable_must_be_declared() -> None:
    with pytest.raises(PromptFileError, match=r"uses 'who' but the front matter does not declare it"):
        parse_prompt("---\nname: x\n---\nHello {{ who }}\n")


def test_unknown_front_matter_key_is_an_error() -> None:
    with pytest.raises(PromptFileError, match=r"invalid front matter: modle"):
        parse_prompt("---\nname: x\nmodle: gpt\n---\nHi\n")


def test_registry_lists_shipped_prompts() -> None:
    registry = PromptRegistry()
    assert "listing-attributes" in registry.names()
    prompt = registry.get("listing-attributes")
    assert prompt.output_type().__name__ == "ListingAttributes"


def test_registry_keeps_past_versions_and_labels(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    path = write(folder, "greet.md", GREETING)
    registry = PromptRegistry([folder])
    v1 = registry.get("greet").version
    registry.set_label("greet", "production", v1[:5])
    path.write_text(GREETING.replace("Write a", "Compose a"), encoding="utf-8")
    v2 = registry.get("greet").version
    assert v1 != v2
    assert registry.get("greet", version=v1).template.startswith("Write a")
    assert registry.get("greet", label="production").version == v1
    versions = {v.version: v for v in registry.versions("greet")}
    assert set(versions) == {v1, v2}
    assert versions[v1].labels == ["production"]
    assert versions[v2].origin == "file"
    diff = registry.diff("greet", v1, v2)
    assert "-Write a {{ mood }}" in diff and "+Compose a {{ mood }}" in diff


def test_registry_errors_name_what_exists(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    write(folder, "greet.md", GREETING)
    registry = PromptRegistry([folder])
    with pytest.raises(PromptNotFoundError, match=r"No prompt named 'gret'\. Known prompts: greet"):
        registry.get("gret")
    with pytest.raises(PromptNotFoundError, match=r"no version 'ffff'"):
        registry.get("greet", version="ffff")
    with pytest.raises(PromptNotFoundError, match=r"no 'staging' label"):
        registry.get("greet", label="staging")


def test_versions_from_git_history(tmp_path: Path, data_dir: Path) -> None:
    repo = tmp_path / "repo"
    folder = repo / "prompts"
    path = write(folder, "greet.md", GREETING)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "v1"], check=True)
    old = content_version(GREETING)
    path.write_text(GREETING.replace("Write a", "Compose a"), encoding="utf-8")
    subprocess.run([*git, "-C", str(repo), "commit", "-qam", "v2"], check=True)
    # A fresh registry (empty data folder): the old version is only in git history.
    registry = PromptRegistry([folder])
    origins = {v.version: v.origin for v in registry.versions("greet")}
    assert origins[old].startswith("git:")
    assert registry.get("greet", version=old).template.startswith("Write a")
