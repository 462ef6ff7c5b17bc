"""The trained model: the intent and complaint-category classifiers and the entity tables,
saved as one .npz file.

Loading needs numpy only (no scipy, no pickle), so a bot process stays small.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlu.classifier import LinearClassifier
from nlu.embeddings import NAME as VECTORS
from nlu.features import TextFeatures, features_of
from nlu.other_parties import NONE, OtherParties

FORMAT_VERSION = 15  # bump when the file layout or the features change: old files retrain
_INTENT, _CATEGORY = "", "category_"  # array name prefixes in the file


class ModelFileError(ValueError):
    """A model file that cannot be loaded (missing, damaged or of another version)."""


@dataclass
class NluModel:
    intent: LinearClassifier
    category: LinearClassifier | None = None  # None: the data held no complaint categories
    gazetteer: dict[str, dict[str, str]] = field(default_factory=dict)  # entity -> surface -> value
    regexes: dict[str, list[str]] = field(default_factory=dict)  # entity -> patterns
    info: dict = field(default_factory=dict)  # fingerprint, examples, trained_at, ...
    parties: OtherParties = NONE  # the other companies and people the features mark

    @property
    def intents(self) -> list[str]:
        return self.intent.labels

    def probabilities(self, text: str | TextFeatures) -> tuple[np.ndarray, float]:
        """Intent probabilities of a normalised text (or its features), and the share
        of its n-grams the model knows."""
        features = features_of(text, self.parties) if isinstance(text, str) else text
        return self.intent.probabilities(features)

    def save(self, path: Path | str) -> None:
        """Write atomically: a reader never sees half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT_VERSION,
            "vectors": VECTORS,
            "intent": self.intent.meta(),
            "category": self.category.meta() if self.category else None,
            "gazetteer": self.gazetteer,
            "regexes": self.regexes,
            "info": self.info,
            "other_parties": self.parties.names(),
        }
        arrays = self.intent.arrays(_INTENT)
        if self.category:
            arrays.update(self.category.arrays(_CATEGORY))
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    meta=np.array(json.dumps(meta, ensure_ascii=False)),
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
                if meta.get("vectors") != VECTORS:
                    raise ModelFileError(f"{path}: trained with other vectors ({meta['vectors']})")
                category = meta.get("category")
                return cls(
                    intent=LinearClassifier.from_arrays(arrays, meta["intent"], _INTENT),
                    category=LinearClassifier.from_arrays(arrays, category, _CATEGORY)
                    if category
                    else None,
                    gazetteer=meta["gazetteer"],
                    regexes=meta["regexes"],
                    info=meta["info"],
                    parties=OtherParties.of(meta["other_parties"]),
                )
        except ModelFileError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: cannot load the NLU model ({exc})") from None
