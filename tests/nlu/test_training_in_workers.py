"""Training fits the final model and the calibration folds side by side in forked workers;
a process with threads (a server's) fits them in turn. Either way, the same model."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from nlu import training
from nlu.classifier import LinearClassifier
from nlu.training import fit_classifier
from nlu.training_data import load_training_data

DATA = Path(__file__).resolve().parents[2] / "nlu" / "data"


def _examples():
    examples = load_training_data(DATA).examples
    return examples[::12]  # every intent, small enough to fit twice in a few seconds


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: training fits in turn")
def test_workers_and_a_single_process_fit_the_same_classifier(monkeypatch):
    pools = []

    class CountedPool(training.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(training, "ProcessPoolExecutor", CountedPool)
    examples = _examples()
    in_workers = fit_classifier(examples)
    assert len(pools) == 1
    in_turn: dict[str, LinearClassifier] = {}
    # A second thread makes training fit in this process: forking beside threads is unsafe.
    worker = threading.Thread(target=lambda: in_turn.update(model=fit_classifier(examples)))
    worker.start()
    worker.join()
    alone = in_turn["model"]
    assert len(pools) == 1  # the second fit used none

    assert in_workers.labels == alone.labels
    assert in_workers.temperature == alone.temperature != 1.0
    assert np.array_equal(in_workers.weights, alone.weights)
    assert np.array_equal(in_workers.bias, alone.bias)
