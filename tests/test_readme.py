"""The README's Python examples run as written (with the offline model in place of a provider)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_an_example_per_layer() -> None:
    text = "\n".join(python_blocks())
    for name in ("Task(", "RagPipeline(", "PromptAgent(", "Dataset.load(", "tracing.setup("):
        assert name in text, f"README lacks a {name} example"


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = README.parent
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (16, 16)).save(tmp_path / "bike.jpg")
    (tmp_path / "aiagents").symlink_to(root / "aiagents")
    (tmp_path / "evals").symlink_to(root / "evals")
    namespace: dict[str, object] = {}
    for block in python_blocks():
        code = block.replace('model="openai:gpt-4.1-mini"', 'model="offline"')
        if "PromptAgent(" in code:
            namespace.setdefault("retriever", namespace["pipeline"].retriever)  # type: ignore[attr-defined]
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - the README is ours
    assert namespace["answer"].citations  # type: ignore[attr-defined]
    assert namespace["result"].output  # type: ignore[attr-defined]


def test_the_configuration_table_names_every_setting() -> None:
    """Every field of the settings classes (`AIAGENTS_<FIELD>`) and every `AIAGENTS_*` variable the code reads."""
    from aiagents.media_store import MediaSettings
    from aiagents.service.config import ServiceSettings
    from aiagents.settings import Settings

    root = README.parent
    names = {f"AIAGENTS_{f.upper()}" for cls in (Settings, ServiceSettings, MediaSettings) for f in cls.model_fields}
    for folder in ("aiagents", "evals", "tools", "retrieval", "ingestion"):
        for path in (root / folder).rglob("*.py"):
            names |= set(re.findall(r"\b(AIAGENTS_[A-Z][A-Z_]*[A-Z])\b", path.read_text(encoding="utf-8")))
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = sorted(n for n in names if f"`{n}`" not in section)
    assert not missing, f"README's configuration table lacks {missing}"
