"""One-time ONNX export of the packaged all-MiniLM-L6-v2 into `settings.model_cache_dir` (shared by data folders).

Steps: load the weights with eager attention, export with `torch.onnx.export(dynamo=False)` through a
keyword-argument wrapper (transformers 5 needs one), fuse BERT operators with onnxruntime's transformer
optimizer, then check the vectors against sentence-transformers on a few probe texts. The result is
kept in a small JSON next to the model, so later processes only read it. A file lock makes concurrent
first uses export once.
"""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

from aiagents.retrieval.errors import EmbedderRunError

from aiagents.settings import get_settings

__all__ = ["ensure_onnx_export", "onnx_export_verified", "export_dir"]

_VERSION = "1"  # bump when the export recipe changes
_MIN_COSINE = 0.9999
Verifier = Callable[[Path], float]
"""Gives the lowest cosine between the export's vectors and the reference embedder's."""


def export_dir() -> Path:
    return get_settings().model_cache_dir / "onnx" / f"all-MiniLM-L6-v2-v{_VERSION}"


def _export(target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from aiagents.retrieval.minilm import minilm_model_dir
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    model_dir = minilm_model_dir()
    config = AutoConfig.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    raw = target.with_name("model.raw.onnx")
    dummy = torch.ones((2, 16), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            _Wrapper(model),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(raw),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "token_type_ids": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )
    fused = optimize_model(
        str(raw), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    tmp = target.with_name("model.tmp.onnx")
    fused.save_model_to_file(str(tmp))
    os.replace(tmp, target)
    raw.unlink(missing_ok=True)


def _ensure(verify: Verifier) -> tuple[Path, dict[str, object]]:
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / "model.onnx"
    info_path = folder / "export.json"
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if info_path.exists() and model_path.exists():
            return model_path, json.loads(info_path.read_text())
        try:
            with warnings.catch_warnings():  # tracer warnings of torch's exporter, not actionable here
                warnings.simplefilter("ignore")
                _export(model_path)
        except Exception as e:  # the export touches torch, transformers and onnx internals
            raise EmbedderRunError(
                f"could not export all-MiniLM-L6-v2 to ONNX in {folder}: {e}; "
                "use the 'minilm-st' embedder or delete that folder and retry"
            ) from e
        cosine = verify(model_path)
        info = {"min_cosine_vs_sentence_transformers": cosine, "verified": cosine >= _MIN_COSINE}
        info_path.write_text(json.dumps(info, indent=2))
        return model_path, info


def ensure_onnx_export(verify: Verifier) -> Path:
    """Path of the fused ONNX model, exporting it on first use and checking it once with `verify`."""
    return _ensure(verify)[0]


def onnx_export_verified(verify: Verifier) -> bool:
    """Whether the export gives the same vectors as sentence-transformers (min cosine >= 0.9999)."""
    return bool(_ensure(verify)[1]["verified"])
