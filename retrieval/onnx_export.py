"""One-time ONNX export of the packaged all-MiniLM-L6-v2 into `settings.model_cache_dir` (shared by data folders).

Steps: load the weights with eager attention, export with `torch.onnx.export(dynamo=False)` through a
keyword-argument wrapper (transformers 5 needs one), fuse BERT operators with onnxruntime's transformer
optimizer, then check the vectors against sentence-transformers on a few probe texts. The result is
kept in a small JSON next to the model, so later processes only read it. A file lock makes concurrent
first uses export once.

The int8 model is the fused graph quantised by onnxruntime's `quantize_dynamic` with one scale per
output channel (`per_channel=True`, signed weights): MatMul becomes MatMulInteger and the fused
Attention QAttention (the embedding layer stays fp32), which run on the CPU's integer dot-product
instructions. Vectors at cosine ~0.99 to the fp32 ones (per-tensor scales, the default, lose more:
DESIGN.md); `bench/embedders.py` measures the speed against sentence-transformers and the nDCG.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path

from aiagents.retrieval.errors import EmbedderRunError

from aiagents.settings import get_settings

__all__ = ["ensure_onnx_export", "onnx_export_verified", "ensure_int8_model", "export_dir", "INT8_MIN_COSINE"]

_VERSION = "1"  # bump when the export recipe changes
_MIN_COSINE = 0.9999
INT8_MIN_COSINE = 0.97
"""The int8 model is used only when its lowest cosine to the reference on the probes reaches this.

A sanity floor, not the quality bar: dynamic quantisation scales activations per batch, so a one-word
text's vector moves with its batch (0.97 to 0.99 seen here); a broken graph gives far less. The
quality check is the nDCG in `bench/embedders.py`."""
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


def _made_once(
    model_path: Path,
    info_path: Path,
    make: Callable[[Path], None],
    verify: Verifier,
    min_cosine: float,
    failure: Callable[[Exception], str],
) -> dict[str, object]:
    """`make(model_path)` once across processes (a file lock), then `verify` it and record the result in
    `info_path`; later calls only read that record. `failure` words the error raised when `make` fails."""
    folder = model_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if info_path.exists() and model_path.exists():
            return json.loads(info_path.read_text())
        try:
            with warnings.catch_warnings():  # torch's tracer warnings, the quantiser's: not actionable here
                warnings.simplefilter("ignore")
                make(model_path)
        except Exception as e:  # the export and the quantiser walk torch, transformers and onnx internals
            raise EmbedderRunError(failure(e)) from e
        cosine = verify(model_path)
        info = {"min_cosine_vs_sentence_transformers": cosine, "verified": cosine >= min_cosine}
        info_path.write_text(json.dumps(info, indent=2))
        return info


def _ensure(verify: Verifier) -> tuple[Path, dict[str, object]]:
    model_path = export_dir() / "model.onnx"
    info = _made_once(
        model_path,
        model_path.with_name("export.json"),
        _export,
        verify,
        _MIN_COSINE,
        lambda e: (
            f"could not export all-MiniLM-L6-v2 to ONNX in {model_path.parent}: {e}; "
            "use the 'minilm-st' embedder or delete that folder and retry"
        ),
    )
    return model_path, info


def ensure_onnx_export(verify: Verifier) -> Path:
    """Path of the fused ONNX model, exporting it on first use and checking it once with `verify`."""
    return _ensure(verify)[0]


def onnx_export_verified(verify: Verifier) -> bool:
    """Whether the export gives the same vectors as sentence-transformers (min cosine >= 0.9999)."""
    return bool(_ensure(verify)[1]["verified"])


def _quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name("model.int8.tmp.onnx")
    logging.disable(logging.WARNING)  # the quantiser's advice on pre-processing, on the root logger
    try:
        quantize_dynamic(
            str(source),
            str(tmp),
            per_channel=True,
            weight_type=QuantType.QInt8,
            # The embedding layer stays fp32: quantising it too cost ~0.005 cosine on one-word texts and
            # no measurable speed (`bench/embedders.py`).
            op_types_to_quantize=["MatMul", "Attention"],
            # Shape inference cannot type the fused operators' outputs (com.microsoft domain).
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.disable(logging.NOTSET)
    os.replace(tmp, target)


def ensure_int8_model(verify: Verifier) -> tuple[Path, bool]:
    """Path of the int8 model (quantised from the fp32 export on first use) and whether `verify` passed.

    `verify` gives the lowest cosine between the int8 model's vectors and the reference's; the model
    counts as verified at `INT8_MIN_COSINE` or above.
    """
    source, _ = _ensure(verify)
    model_path = source.with_name("model.int8.onnx")
    info = _made_once(
        model_path,
        source.with_name("int8.json"),
        lambda target: _quantize(source, target),
        verify,
        INT8_MIN_COSINE,
        lambda e: (
            f"could not quantise {source} to int8: {e}; "
            f"use the 'minilm-fp32' embedder or delete {source.parent} and retry"
        ),
    )
    return model_path, bool(info["verified"])
