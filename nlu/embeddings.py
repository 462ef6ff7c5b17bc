"""Pretrained token vectors: the likeness of words that n-grams cannot see.

TF-IDF n-grams know only the words of the training texts: `top up` and `add money`, or
`余额` and `还剩多少`, share none. WordLlama's token table places them close: 256
dimensions for each of the 32,000 tokens of Llama 2's vocabulary, distilled from a large
language model's embeddings and shipped inside the `wordllama` wheel (MIT licence), so no
host needs the network. A text's vector is the mean of its tokens' vectors, L2-normalised
and scaled by `WEIGHT`: a third block of features beside the two n-gram blocks.

Only the package's two files are read, with `tokenizers` and `safetensors`: its own loader
looks for the tokenizer in a folder the wheel does not have and then downloads it.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

NAME = "wordllama-l2_supercat-256"  # recorded in the model file: other vectors, other weights
DIMENSIONS = 256
# The block's length beside the n-gram blocks' 1 each. Tuned on validation splits of the
# training sets (BANKING77, CLINC150, the project's data): 0.75 and 1 within 0.5 points of
# each other, 0.5 up to 0.7 points below.
WEIGHT = 0.75
_PACKAGE = "wordllama"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
_TABLE = "weights/l2_supercat_256.safetensors"


class TokenVectors:
    """Text -> its scaled mean token vector (float32)."""

    def __init__(self, tokenizer: Tokenizer, table: np.ndarray):
        self._tokenizer = tokenizer
        self._table = table  # tokens x dimensions, float16 as shipped: half the memory
        self.dimensions = int(table.shape[1])

    def vector(self, text: str) -> np.ndarray:
        return self._pooled(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def vectors(self, texts: list[str], out: np.ndarray | None = None) -> np.ndarray:
        """One row per text, in `out` if given. One at a time, not the tokenizer's batch: its
        threads would make a process that forks later (a server's workers) warn and run
        single-threaded."""
        if out is None:
            out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.vector(text)
        return out

    def _pooled(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros(self.dimensions, dtype=np.float32)
        # float16 summed as float32 (numpy's mean of float16 takes half as long again)
        mean = self._table[ids].astype(np.float32).sum(axis=0) / np.float32(len(ids))
        norm = float(np.sqrt(mean @ mean))
        return mean * np.float32(WEIGHT / norm) if norm > 0 else mean


@cache
def shipped() -> TokenVectors:
    """The vectors shipped in the wordllama wheel, read once per process."""
    spec = importlib.util.find_spec(_PACKAGE)  # its files, without importing its code
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {_PACKAGE} package is not installed: pip install -e .")
    root = Path(next(iter(spec.submodule_search_locations)))
    table = load_file(str(root / _TABLE))["embedding.weight"]
    if table.shape[1] != DIMENSIONS:
        raise RuntimeError(f"{_TABLE}: {table.shape[1]} dimensions, not {DIMENSIONS}")
    return TokenVectors(Tokenizer.from_file(str(root / _TOKENIZER)), table)
