"""Temperature scaling, calibration error and the confusion matrix (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.images import (
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def test_the_temperature_that_made_the_labels_is_found() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, (20_000, 5))
    # Labels drawn from softmax(logits / 2): logits twice too sure, so T = 2.
    p = softmax(logits, 2.0).astype(np.float64)
    labels = (p.cumsum(axis=1) > rng.random((len(p), 1))).argmax(axis=1)
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.05)
    raw = expected_calibration_error(softmax(logits), labels)
    fixed = expected_calibration_error(softmax(logits, fit_temperature(logits, labels)), labels)
    assert fixed < 0.02 < raw
    assert fit_temperature(np.zeros((0, 5)), np.zeros(0, dtype=int)) == 1.0


def test_confusion_matrix_rows_are_the_stated_class() -> None:
    m = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert softmax(np.array([[1000.0, 0.0]])).tolist() == [[1.0, 0.0]]
