"""The trained model: features, intent weights and entity tables, saved as one .npz file.

Loading needs numpy only (no scipy, no pickle), so a bot process stays small.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlu.features import Vectoriser

FORMAT_VERSION = 2  # bump when the file layout or the features change: old files retrain


class ModelFileError(ValueError):
    """A model file that cannot be loaded (missing, damaged or of another version)."""


@dataclass
class NluModel:
    vectoriser: Vectoriser
    intents: list[str]
    weights: np.ndarray  # features x intents, float32
    bias: np.ndarray  # intents
    temperature: float = 1.0
    gazetteer: dict[str, dict[str, str]] = field(default_factory=dict)  # entity -> surface -> value
    regexes: dict[str, list[str]] = field(default_factory=dict)  # entity -> patterns
    info: dict = field(default_factory=dict)  # fingerprint, examples, trained_at, ...

    def probabilities(self, text: str) -> tuple[np.ndarray, float]:
        """Intent probabilities of a normalised text, and the share of its n-grams known
        (0 when the model knows none of them: the probabilities are then only its priors)."""
        indices, values, coverage = self.vectoriser.transform(text)
        logits = values @ self.weights[indices] + self.bias if len(indices) else self.bias.copy()
        logits = logits.astype(np.float64) * self.temperature
        logits -= logits.max()
        probs = np.exp(logits)
        return probs / probs.sum(), coverage

    def save(self, path: Path | str) -> None:
        """Write atomically: a reader never sees half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT_VERSION,
            "intents": self.intents,
            "temperature": self.temperature,
            "gazetteer": self.gazetteer,
            "regexes": self.regexes,
            "info": self.info,
        }
        arrays = self.vectoriser.to_arrays()
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    meta=np.array(json.dumps(meta, ensure_ascii=False)),
                    weights=self.weights.astype(np.float32),
                    bias=self.bias.astype(np.float32),
                    # numpy's stub reads **arrays as if it could hold allow_pickle: it cannot.
                    **arrays,  # type: ignore[arg-type]
                )
            os.chmod(temporary, 0o644)  # mkstemp makes it private; a model is not a secret
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path | str) -> NluModel:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                meta = json.loads(str(arrays["meta"]))
                if meta.get("format") != FORMAT_VERSION:
                    raise ModelFileError(f"{path}: model format {meta.get('format')} is not ours")
                return cls(
                    vectoriser=Vectoriser.from_arrays(arrays),
                    intents=list(meta["intents"]),
                    weights=arrays["weights"],
                    bias=arrays["bias"],
                    temperature=float(meta["temperature"]),
                    gazetteer=meta["gazetteer"],
                    regexes=meta["regexes"],
                    info=meta["info"],
                )
        except ModelFileError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: cannot load the NLU model ({exc})") from None
