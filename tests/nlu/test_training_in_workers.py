"""Training counts the texts' n-grams and reads their token vectors in forked workers, then
fits the final model and the calibration folds side by side in forked workers; a process
with threads (a server's) does it all in turn. Either way, the same model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlu import training
from nlu.training_data import load_training_data

DATA = Path(__file__).resolve().parents[2] / "nlu" / "data"
EVERY = 12  # every intent, small enough to fit twice in a few seconds

# Run in a fresh process: this one may hold other tests' threads, and then fits in turn.
IN_WORKERS = """
import sys
import numpy as np
from nlu import training
from nlu.training_data import load_training_data

pools = []

class CountedPool(training.ProcessPoolExecutor):
    def __init__(self, *args, **kwargs):
        pools.append(self)
        super().__init__(*args, **kwargs)

training.ProcessPoolExecutor = CountedPool
model = training.fit_classifier(load_training_data(sys.argv[1]).examples[::int(sys.argv[3])])
np.savez(sys.argv[2], weights=model.weights, bias=model.bias,
         temperature=model.temperature, pools=len(pools))
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: training fits in turn")
def test_workers_and_a_process_with_threads_fit_the_same_classifier(tmp_path, monkeypatch):
    saved = tmp_path / "in_workers.npz"
    subprocess.run(
        [sys.executable, "-c", IN_WORKERS, str(DATA), str(saved), str(EVERY)], check=True
    )
    in_workers = np.load(saved)
    monkeypatch.setattr(training.threading, "active_count", lambda: 2)  # a server's threads
    in_turn = training.fit_classifier(load_training_data(DATA).examples[::EVERY])

    assert int(in_workers["pools"]) == 2  # one analyses the texts, one runs the fits
    assert float(in_workers["temperature"]) == in_turn.temperature != 1.0
    assert np.array_equal(in_workers["weights"], in_turn.weights)
    assert np.array_equal(in_workers["bias"], in_turn.bias)
