"""Training a multinomial logistic regression on sparse TF-IDF rows.

Mini-batch gradient descent with Adam, updating only the weight rows of the
features present in each batch (lazy updates, so a step costs what the batch
touches, not the whole vocabulary), and a learning rate that decays linearly
to zero. Deterministic for a given seed. Needs scipy, imported here only: parsing
does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hyperparameters:
    learning_rate: float = 0.01
    l2: float = 1e-5
    batch_size: int = 64
    min_epochs: int = 5
    max_epochs: int = 40
    min_steps: int = 1000  # small data sets get more epochs
    seed: int = 0


def epochs_for(rows: int, params: Hyperparameters) -> int:
    steps_per_epoch = max(1, -(-rows // params.batch_size))
    wanted = -(-params.min_steps // steps_per_epoch)
    return max(params.min_epochs, min(params.max_epochs, wanted))


def fit_softmax(
    indptr: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    n_features: int,
    labels: np.ndarray,
    n_classes: int,
    params: Hyperparameters | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x classes) and biases for rows given in CSR form."""
    from scipy import sparse

    params = params or Hyperparameters()
    rows = len(indptr) - 1
    matrix = sparse.csr_matrix((values, indices, indptr), shape=(rows, n_features))
    weights = np.zeros((n_features, n_classes), dtype=np.float32)
    bias = np.zeros(n_classes, dtype=np.float32)
    moments = np.zeros((n_features, 2 * n_classes), dtype=np.float32)  # Adam's m and v
    bias_second = np.full(n_classes, 1e-8, dtype=np.float32)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(params.seed)
    epochs = epochs_for(rows, params)
    total_steps = epochs * -(-rows // params.batch_size)
    step = 0
    for _ in range(epochs):
        order = rng.permutation(rows)
        for start in range(0, rows, params.batch_size):
            batch = order[start : start + params.batch_size]
            sub = matrix[batch]
            columns, local = np.unique(sub.indices, return_inverse=True)
            compact = sparse.csr_matrix(
                (sub.data, local.astype(np.int32), sub.indptr), shape=(len(batch), len(columns))
            )
            touched = weights[columns]
            logits = compact @ touched + bias
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
            probs[np.arange(len(batch)), labels[batch]] -= 1.0
            probs /= len(batch)
            gradient = compact.T @ probs + params.l2 * touched
            bias_gradient = probs.sum(axis=0)
            step += 1
            rate = params.learning_rate * (1.0 - step / (total_steps + 1))
            state = moments[columns]
            m, v = state[:, :n_classes], state[:, n_classes:]
            m *= beta1
            m += (1 - beta1) * gradient
            v *= beta2
            v += (1 - beta2) * gradient * gradient
            moments[columns] = state
            touched -= rate * m / (np.sqrt(v) + eps)
            weights[columns] = touched
            bias_second = beta2 * bias_second + (1 - beta2) * bias_gradient**2
            bias -= rate * bias_gradient / (np.sqrt(bias_second) + eps)
    return weights, bias
