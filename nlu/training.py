"""Training the embedded engine from training data: intents, then the entity tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np

from nlu.corpus import Corpus
from nlu.entities.gazetteer import build_gazetteer
from nlu.features import Vectoriser
from nlu.model import NluModel
from nlu.normalise import normalise
from nlu.softmax import Hyperparameters, fit_softmax
from nlu.training_data import TrainingData, TrainingDataError, fingerprint

DEFAULTS = Hyperparameters()
CALIBRATION_SHARE = 0.15  # held out once to fit the softmax temperature
MIN_CALIBRATION_EXAMPLES = 200


def train_model(
    data: TrainingData, params: Hyperparameters = DEFAULTS, calibrate: bool = True
) -> NluModel:
    """Fit the intent classifier and collect the entity tables of `data`."""
    if not data.examples:
        where = ", ".join(str(f) for f in data.files) or "the training data"
        raise TrainingDataError(where, None, "holds no intent examples")
    started = time.perf_counter()
    corpus = Corpus.of(normalise(example.text).text for example in data.examples)
    intents = sorted({example.intent for example in data.examples})
    position = {intent: index for index, intent in enumerate(intents)}
    labels = np.array([position[example.intent] for example in data.examples], dtype=np.int64)
    temperature = 1.0
    if calibrate and len(intents) > 1 and len(corpus) >= MIN_CALIBRATION_EXAMPLES:
        temperature = _fit_temperature(corpus, labels, len(intents), params)
    vectoriser, _, weights, bias = _fit(
        corpus, np.arange(len(corpus)), labels, len(intents), params
    )
    gazetteer, unresolved = build_gazetteer(data)
    info = {
        "examples": len(corpus),
        "intents": len(intents),
        "features": len(vectoriser),
        "fingerprint": fingerprint(data.files) if data.files else None,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 2),
        "unresolved_lookups": unresolved,
    }
    regexes = {name: list(dict.fromkeys(patterns)) for name, patterns in data.regexes.items()}
    return NluModel(vectoriser, intents, weights, bias, temperature, gazetteer, regexes, info)


def _fit(
    corpus: Corpus, rows: np.ndarray, labels: np.ndarray, n_classes: int, params: Hyperparameters
) -> tuple[Vectoriser, np.ndarray, np.ndarray, np.ndarray]:
    """Vectoriser, n-gram id -> feature map, weights and biases, fitted on `rows`."""
    vectoriser, mapping = corpus.vectoriser(rows)
    indptr, indices, values = corpus.rows(vectoriser, mapping, rows)
    weights, bias = fit_softmax(
        indptr, indices, values, len(vectoriser), labels[rows], n_classes, params
    )
    return vectoriser, mapping, weights, bias


def _fit_temperature(
    corpus: Corpus, labels: np.ndarray, n_classes: int, params: Hyperparameters
) -> float:
    """The softmax temperature that minimises log loss on a held-out share."""
    rng = np.random.default_rng(params.seed + 1)
    held = np.zeros(len(corpus), dtype=bool)
    for label in range(n_classes):  # stratified: a share of each intent
        members = np.flatnonzero(labels == label)
        if len(members) >= 4:
            take = max(1, int(round(len(members) * CALIBRATION_SHARE)))
            held[rng.choice(members, size=take, replace=False)] = True
    vectoriser, mapping, weights, bias = _fit(
        corpus, np.flatnonzero(~held), labels, n_classes, params
    )
    held_rows = np.flatnonzero(held)
    indptr, indices, values = corpus.rows(vectoriser, mapping, held_rows)
    scores = np.empty((len(held_rows), n_classes), dtype=np.float64)
    for row in range(len(held_rows)):
        span = slice(indptr[row], indptr[row + 1])
        scores[row] = values[span] @ weights[indices[span]] + bias
    truth = labels[held_rows]
    best, best_loss = 1.0, np.inf
    for temperature in np.exp(np.linspace(np.log(0.2), np.log(5.0), 41)):
        scaled = scores * temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(truth)), truth].mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best
