"""A trained linear text classifier: TF-IDF features and the pretrained token vector, weights,
biases and a softmax temperature.

The engine holds two: intents, and complaint categories. Scoring needs numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlu.features import TextFeatures, Vectoriser


@dataclass
class LinearClassifier:
    vectoriser: Vectoriser
    labels: list[str]
    weights: np.ndarray  # (n-gram features, then vector dimensions) x labels, float32
    bias: np.ndarray  # labels
    temperature: float = 1.0

    def probabilities(self, features: TextFeatures) -> tuple[np.ndarray, float]:
        """Label probabilities of a text's features (`features.features_of`), and the share
        of its n-grams known (0 when none is: the parser then falls back whatever they say)."""
        indices, values, coverage = self.vectoriser.transform_counts(features.grams)
        logits = features.vector @ self.weights[len(self.vectoriser) :] + self.bias
        if len(indices):
            logits += values @ self.weights[indices]
        logits = logits.astype(np.float64) * self.temperature
        logits -= logits.max()
        probs = np.exp(logits)
        return probs / probs.sum(), coverage

    def meta(self) -> dict:
        return {"labels": self.labels, "temperature": self.temperature}

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {f"{prefix}{k}": v for k, v in self.vectoriser.to_arrays().items()}
        arrays[f"{prefix}weights"] = np.asarray(self.weights, dtype=np.float32)  # no copy
        arrays[f"{prefix}bias"] = np.asarray(self.bias, dtype=np.float32)
        return arrays

    @classmethod
    def from_arrays(cls, arrays, meta: dict, prefix: str) -> LinearClassifier:
        names = ("vocabulary", "idf", "is_word")
        vectoriser = Vectoriser.from_arrays({k: arrays[f"{prefix}{k}"] for k in names})
        return cls(
            vectoriser,
            list(meta["labels"]),
            arrays[f"{prefix}weights"],
            arrays[f"{prefix}bias"],
            float(meta["temperature"]),
        )
