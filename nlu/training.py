"""Training the embedded engine from training data: intents, then the entity tables."""

from __future__ import annotations

import mmap
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from nlu.calibration import fit_temperature, folds
from nlu.classifier import LinearClassifier
from nlu.complaint_category import COMPLAINT_INTENT, NO_CATEGORY
from nlu.complaint_category import ENTITY as CATEGORY_ENTITY
from nlu.corpus import Corpus
from nlu.embeddings import DIMENSIONS, shipped
from nlu.entities.gazetteer import build_gazetteer
from nlu.features import Vectoriser
from nlu.linear import Hyperparameters, fit_linear
from nlu.model import NluModel
from nlu.normalise import normalise
from nlu.other_parties import LOOKUP as OTHER_PARTY
from nlu.other_parties import NONE, OtherParties
from nlu.training_data import Example, TrainingData, TrainingDataError, fingerprint

DEFAULTS = Hyperparameters()
MIN_CALIBRATION_EXAMPLES = 60


def train_model(
    data: TrainingData, params: Hyperparameters = DEFAULTS, calibrate: bool = True
) -> NluModel:
    """Fit the intent and complaint-category classifiers and collect the entity tables."""
    if not data.examples:
        where = ", ".join(str(f) for f in data.files) or "the training data"
        raise TrainingDataError(where, None, "holds no intent examples")
    started = time.perf_counter()
    parties = OtherParties.of(data.lookups.get(OTHER_PARTY, ()))
    intent = fit_classifier(intent_examples(data), params, calibrate, parties)
    categorised = category_examples(data)
    category = fit_classifier(categorised, params, calibrate, parties) if data.categories else None
    gazetteer, unresolved = build_gazetteer(data)
    info = {
        "examples": len(data.examples),
        "intents": len(intent.labels),
        "features": len(intent.vectoriser),
        "complaint_examples": len(categorised),
        "fingerprint": fingerprint(data.files) if data.files else None,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 2),
        "unresolved_lookups": unresolved,
    }
    regexes = {name: list(dict.fromkeys(patterns)) for name, patterns in data.regexes.items()}
    return NluModel(intent, category, gazetteer, regexes, info, parties)


def intent_examples(data: TrainingData) -> list[Example]:
    """The intent examples, and every text of `complaint_categories:` as a complaint: a
    complaint the category classifier learns from is one the intent classifier must hear
    (`商品有瑕疵` was `list_benefits`). A text that is already an example keeps its intent."""
    known = {example.text for example in data.examples}
    complaints = {c.text: Example(c.text, COMPLAINT_INTENT) for c in data.categories}
    return [*data.examples, *(e for text, e in complaints.items() if text not in known)]


def category_examples(data: TrainingData) -> list[Example]:
    """The `complaint_categories:` texts, and the intent examples annotated with one category
    (the whole text is the category's evidence, not only the annotated words); complaint
    examples without a category teach `NO_CATEGORY`. Each categorised text is learnt a
    second time behind a preamble."""
    annotated = []
    for example in data.examples:
        values = {s.value for s in example.entities if s.entity == CATEGORY_ENTITY}
        if len(values) == 1:
            annotated.append(Example(example.text, values.pop()))
        elif not values and example.intent == COMPLAINT_INTENT:
            annotated.append(Example(example.text, NO_CATEGORY))
    categorised = [*data.categories, *annotated]
    return [*categorised, *_behind_preambles(categorised)]


# What members write before the description: `我要投诉，杯子碎了`. The complaints without a
# category are made of these words, so without this second copy they outweighed the
# description: on held-out texts behind other preambles, 54% kept their category, now 76%.
PREAMBLES = {
    "zh": ("我要投诉，", "投诉：", "你好，订单号 A20261101 ", "投诉一下，"),
    "en": ("I want to complain, ", "complaint: ", "hi, order 4500123456 ", "I have a complaint: "),
}
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _behind_preambles(examples: list[Example]) -> list[Example]:
    copies = []
    for i, example in enumerate(e for e in examples if e.intent != NO_CATEGORY):
        preambles = PREAMBLES["zh" if _CHINESE.search(example.text) else "en"]
        copies.append(Example(preambles[i % len(preambles)] + example.text, example.intent))
    return copies


def fit_classifier(
    examples: list[Example],
    params: Hyperparameters = DEFAULTS,
    calibrate: bool = True,
    parties: OtherParties = NONE,
) -> LinearClassifier:
    """A linear classifier of the examples' texts into their labels (`Example.intent`),
    its temperature fitted on out-of-fold scores."""
    corpus = _analysed([normalise(example.text).text for example in examples], parties)
    labels_names = sorted({example.intent for example in examples})
    position = {name: index for index, name in enumerate(labels_names)}
    labels = np.array([position[example.intent] for example in examples], dtype=np.int64)
    calibrating = calibrate and len(labels_names) > 1 and len(corpus) >= MIN_CALIBRATION_EXAMPLES
    # The final fit and the folds' fits do not depend on each other, so they run side by
    # side: the same numbers, in about half the time on two cores.
    jobs = [ALL_TEXTS, *range(params.folds if calibrating else 0)]
    fits = _fitted(jobs, (corpus, labels, len(labels_names), params))
    vectoriser, weights, bias = fits[0]
    temperature = 1.0
    if calibrating:
        fold = folds(labels, params.folds, params.seed)
        scores = np.zeros((len(corpus), len(labels_names)), dtype=np.float32)
        for k, held_scores in zip(jobs[1:], fits[1:], strict=True):
            scores[fold == k] = held_scores
        temperature = fit_temperature(scores, labels)
    return LinearClassifier(vectoriser, labels_names, weights, bias, temperature)


def _analysed(texts: list[str], parties: OtherParties) -> Corpus:
    """The texts' corpus, analysed in forked workers when this process may fork: the
    analysis's strings, freed, still left this process and the fit workers forked from it
    25 MB larger, and the token table and tokenizer the vectors are read with 31 MB (training's
    peak). One worker counts the n-grams; the other writes the vectors into memory it shares
    with this process (sent back they would double its memory)."""
    if threading.active_count() > 1:
        return Corpus.of(texts, parties)
    size = len(texts) * DIMENSIONS
    vectors = np.frombuffer(mmap.mmap(-1, max(size, 1) * 4), np.float32, size)
    vectors = vectors.reshape(len(texts), DIMENSIONS)
    _share(vectors)  # the workers, forked at the first submit, write into this very memory
    try:
        with ProcessPoolExecutor(2, multiprocessing.get_context("fork")) as pool:
            read = pool.submit(_read_vectors, texts)
            counted = pool.submit(Corpus.of, texts, parties, False).result()
            read.result()
    finally:
        _share()
    return replace(counted, vectors=vectors)


def _read_vectors(texts: list[str]) -> None:
    (vectors,) = _shared
    shipped().vectors(texts, vectors)


ALL_TEXTS = -1  # the job of the final fit; a fold's job is its number
_shared: tuple = ()  # a worker's: (vectors,) reading them, (corpus, labels, n_classes, params) fitting


def _fitted(jobs: list[int], shared: tuple) -> list:
    """Each job's result (`_job`): the first here, the others in one forked worker beside it
    when there is a core to spare. The first is the final fit, whose weights a worker would
    have to send back pickled: on CLINC150 that copy (and the pickle's growing buffer) made
    the worker's peak 35 MB higher than its fit's. Not from a process with threads (a
    server's): a fork copies their locks held."""
    _share(*shared)  # the forked worker inherits it
    try:
        if len(jobs) < 2 or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
            return [_job(k) for k in jobs]
        with ProcessPoolExecutor(1, multiprocessing.get_context("fork")) as pool:
            others = pool.map(_job, jobs[1:])  # forks now, before this process fits
            return [_job(jobs[0]), *others]
    finally:
        _share()  # a server that trained keeps no copy of the corpus


def _share(*shared) -> None:
    global _shared
    _shared = shared


def _job(k: int):
    """The final fit (vectoriser, weights, biases), or fold k's scores of its held texts
    from a model fitted on the other folds."""
    corpus, labels, n_classes, params = _shared
    if k == ALL_TEXTS:
        vectoriser, _, weights, bias = _fit(
            corpus, np.arange(len(corpus)), labels, n_classes, params
        )
        return vectoriser, weights, bias
    fold = folds(labels, params.folds, params.seed)
    held = np.flatnonzero(fold == k)
    vectoriser, mapping, weights, bias = _fit(
        corpus,
        np.flatnonzero(fold != k),
        labels,
        n_classes,
        replace(params, tolerance=params.fold_tolerance),
    )
    indptr, indices, values = corpus.rows(vectoriser, mapping, held)
    return _scores(indptr, indices, values, corpus.vectors[held], weights, bias)


def _fit(
    corpus: Corpus, rows: np.ndarray, labels: np.ndarray, n_classes: int, params: Hyperparameters
) -> tuple[Vectoriser, np.ndarray, np.ndarray, np.ndarray]:
    """Vectoriser, n-gram id -> feature map, weights and biases, fitted on `rows`."""
    vectoriser, mapping = corpus.vectoriser(rows, params.min_df)
    indptr, indices, values = corpus.rows(vectoriser, mapping, rows)
    weights, bias = fit_linear(
        indptr,
        indices,
        values,
        len(vectoriser),
        corpus.vectors,
        labels[rows],
        n_classes,
        params,
        dense_rows=rows,  # not a copy of the rows' vectors: 12 MB at training's peak
    )
    return vectoriser, mapping, weights, bias


def _scores(indptr, indices, values, dense, weights, bias) -> np.ndarray:
    """The held texts' scores, row by row as the parser scores one text: importing scipy
    for one sparse product cost a fold's worker 23 MB, a sixth of training's peak."""
    scores = dense @ weights[len(weights) - dense.shape[1] :] + bias
    bounds = indptr.tolist()
    for row, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
        scores[row] += values[start:end] @ weights[indices[start:end]]
    return scores
