"""What `pip install .` puts in site-packages: only `aiagents` (the layers as its subpackages) and its data.

The layers' folders stay at the repository's top level; `pyproject.toml` maps them under the `aiagents` name
(`package-dir`), so a user's own `evals/` or `tools/` folder cannot hide the framework's. This builds the
real wheel from the tracked files and checks it holds every one of them under `aiagents/`, and nothing
else at the top.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# repository folder -> where it lands in the wheel
LAYERS = {
    "aiagents": "aiagents",
    "evals": "aiagents/evals",
    "ingestion": "aiagents/ingestion",
    "retrieval": "aiagents/retrieval",
    "tools": "aiagents/tools",
}


def _tracked(*paths: str) -> list[str]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", *paths], check=True, capture_output=True, text=True)
    return [f for f in out.stdout.splitlines() if (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools", minversion="70.1", reason="building the wheel needs setuptools >= 70.1")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout (the wheel is built from the tracked files)")
    out = tmp_path_factory.mktemp("wheel")
    src = out / "src"  # a copy keeps the build's egg-info and build/ folders out of the checkout
    for rel in _tracked():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)]
    subprocess.run(cmd, check=True, capture_output=True)
    (path,) = out.glob("aiagents-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def test_the_wheel_installs_only_aiagents_at_the_top(wheel: zipfile.ZipFile) -> None:
    top = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert {t for t in top if not t.endswith(".dist-info")} == {"aiagents"}


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_the_wheel_holds_every_file_of_a_layer_under_aiagents(wheel: zipfile.ZipFile, folder: str) -> None:
    expected = {LAYERS[folder] + rel[len(folder) :] for rel in _tracked(folder)}
    assert expected, f"no tracked files under {folder}/"
    missing = sorted(expected - set(wheel.namelist()))
    assert not missing, f"pyproject.toml's packages / package-data leave out {len(missing)} files: {missing[:8]}"


def test_the_wheel_declares_the_cli_and_the_pytest_plugin(wheel: zipfile.ZipFile) -> None:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(name).decode()
    assert "aiagents = aiagents.cli:main" in text
    assert "[pytest11]" in text and "aiagents = aiagents.evals.pytest_plugin" in text
