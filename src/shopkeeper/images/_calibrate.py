"""Turning class scores into probabilities that mean what they say, and scoring them.

A network trained to minimise cross-entropy ends up over-confident: among the
photos it calls 99% sure, fewer than 99% are right. Temperature scaling
(Guo et al., 2017) divides every score by one number ``T`` fitted on held-out
photos to minimise their log loss; it changes no prediction, only how sure
each one is. Expected calibration error (ECE) measures what is left: the
average gap between confidence and accuracy over bins of confidence.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

#: Confidence bins of the expected calibration error.
ECE_BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (float64 inside, float32 out)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def log_loss(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)``."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(z)), labels]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] minimising the log loss of held-out ``logits``.

    1.0 (no change) when there are no held-out photos.
    """
    if len(logits) == 0:
        return 1.0
    labels = np.asarray(labels, dtype=np.int64)
    found = minimize_scalar(
        lambda log_t: log_loss(logits, labels, float(np.exp(log_t))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(found.x))


def expected_calibration_error(proba: np.ndarray, labels: np.ndarray) -> float:
    """ECE over :data:`ECE_BINS` equal-width bins of the top probability (0 is perfect)."""
    if len(proba) == 0:
        return 0.0
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(labels)
    bins = np.minimum((confidence * ECE_BINS).astype(np.int64), ECE_BINS - 1)
    gap = 0.0
    for b in np.unique(bins):
        inside = bins == b
        gap += inside.sum() * abs(float(correct[inside].mean()) - float(confidence[inside].mean()))
    return float(gap / len(proba))


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = the stated class, column = the predicted one."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, np.int64), np.asarray(predicted, np.int64)), 1)
    return matrix
