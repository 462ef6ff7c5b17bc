"""The training corpus keeps its n-grams as one string to spare memory: every n-gram still
reads back as analysed, and training needs no library beyond numpy (scipy cost each
worker 23 MB)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import numpy as np

from nlu.corpus import Corpus
from nlu.features import analyse
from tests.nlu.conftest import DATA

TEXTS = ["我的积分怎么少了", "where are my points", "积分 points 积分", "不要再发了"]


def test_every_analysed_n_gram_reads_back_with_its_count():
    corpus = Corpus.of(TEXTS)

    for row, text in enumerate(TEXTS):
        start, end = corpus.offsets[row], corpus.offsets[row + 1]
        read = Counter(
            {
                corpus.gram(int(g)): float(c)
                for g, c in zip(corpus.ids[start:end], corpus.counts[start:end], strict=True)
            }
        )
        assert read == Counter({gram: float(count) for gram, count in analyse(text).items()})


def test_a_vectoriser_fitted_on_some_texts_knows_only_their_n_grams():
    corpus = Corpus.of(TEXTS)
    vectoriser, mapping = corpus.vectoriser(np.array([1, 2]))

    assert set(vectoriser.vocabulary) == set(analyse(TEXTS[1])) | set(analyse(TEXTS[2]))
    assert int((mapping >= 0).sum()) == len(vectoriser)


# A thread keeps the folds in this process (training.py), where their imports can be seen.
TRAIN_AND_LIST_MODULES = """
import sys, threading
done = threading.Event()
threading.Thread(target=done.wait).start()
from nlu.training import train_model
from nlu.training_data import load_training_data
data = load_training_data(sys.argv[1])
data.examples = data.examples[::20]
train_model(data)
done.set()
print(sorted(name for name in sys.modules if name.split('.')[0] in ('scipy', 'sklearn')))
"""


def test_training_imports_neither_scipy_nor_scikit_learn():
    run = subprocess.run(
        [sys.executable, "-c", TRAIN_AND_LIST_MODULES, str(DATA)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip() == "[]"
