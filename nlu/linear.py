"""The intent classifier: a linear support vector machine on the sparse TF-IDF rows.

One-vs-rest, squared hinge loss (scikit-learn's LinearSVC, liblinear underneath):
on short texts with many sparse n-grams it separates intents better than a softmax
trained by gradient descent, in a few seconds and deterministically. Its scores are
turned into probabilities by a softmax with a fitted temperature (calibration.py).
scikit-learn is imported here only: parsing needs numpy alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hyperparameters:
    c: float = 1.0  # inverse regularisation; tuned on CLINC150 val and a BANKING77 train split
    min_df: int = 2  # n-grams seen in fewer texts carry noise, not evidence
    folds: int = 3  # out-of-fold scores to fit the temperature on
    seed: int = 0
    max_iter: int = 2000


def fit_linear(
    indptr: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    n_features: int,
    labels: np.ndarray,
    n_classes: int,
    params: Hyperparameters | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x classes, float32) and biases for rows given in CSR form.

    Classes absent from `labels` get zero weights and a bias below every other, so
    they never win."""
    from scipy import sparse
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    params = params or Hyperparameters()
    weights = np.zeros((n_features, n_classes), dtype=np.float32)
    bias = np.zeros(n_classes, dtype=np.float32)
    present = np.unique(labels)
    if len(present) < 2:
        bias[:] = -1.0
        bias[present] = 1.0
        return weights, bias
    matrix = sparse.csr_matrix((values, indices, indptr), shape=(len(indptr) - 1, n_features))
    svm = LinearSVC(C=params.c, max_iter=params.max_iter, random_state=params.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(matrix, labels)
    coef = svm.coef_.astype(np.float32)
    intercept = svm.intercept_.astype(np.float32)
    if len(present) == 2:  # binary: one score d for the second class; -d/2, d/2 keep the margin
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    weights[:, svm.classes_] = coef.T
    bias[:] = float(intercept.min()) - 1.0
    bias[svm.classes_] = intercept
    return weights, bias
