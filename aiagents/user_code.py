"""Import the user's own code named in files (`output: mymodels:UsedCar`, `evaluator: checks:Politeness`).

The `aiagents` command is an installed script, so the folder it runs in is not on `sys.path` (Python puts
the script's folder there, not the working directory): `mymodels.py` beside the user's `prompts/` would not
import without `PYTHONPATH=.`. Here the user's project folders are made importable when, and only when,
the module is not found otherwise: the working directory, then the folders around the file that names it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

__all__ = ["import_object", "project_roots"]


def project_roots(near: Path | None = None) -> list[Path]:
    """Folders a user's module may live in: the working directory, the naming file's folder and its parent
    (a prompt in `project/prompts/x.md` names modules of `project/`)."""
    roots = [Path.cwd()]
    if near is not None:
        folder = near if near.is_dir() else near.parent
        roots += [folder, folder.parent]
    unique: list[Path] = []
    for root in roots:
        resolved = root.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def _defines(root: Path, top: str) -> bool:
    return (root / f"{top}.py").is_file() or (root / top).is_dir()


def import_object(target: str, *, near: Path | None = None) -> Any:
    """Import `module:attribute` (or `module.attribute`). Raises ImportError or AttributeError with the name.

    When the module's top-level package is not importable, the first project root that holds it
    (`project_roots(near)`) is put on `sys.path` and the import retried.
    """
    module_name, sep, attr = target.partition(":")
    if not sep:
        module_name, _, attr = target.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"{target!r} is not 'module:Name'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".", 1)[0]
        if exc.name != top:
            raise  # the module was found; something it imports is missing
        root = next((r for r in project_roots(near) if _defines(r, top)), None)
        if root is None:
            raise ModuleNotFoundError(
                f"No module named {top!r} (looked on sys.path and in {', '.join(str(r) for r in project_roots(near))})",
                name=top,
            ) from None
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        importlib.invalidate_caches()
        module = importlib.import_module(module_name)
    return getattr(module, attr)
