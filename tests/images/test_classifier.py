"""The network on Fashion-MNIST: a tiny run beats chance clearly; it pickles without torch
state; it refuses arrays of the wrong shape."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.images import FASHION_CLASSES, NetworkSettings, train_classifier
from tests.images.conftest import as_pixels

pytest.importorskip("torch")


def test_a_tiny_run_beats_chance_clearly(
    fashion: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    x, y, xt, yt = fashion
    spec = NetworkSettings(epochs=2, threads=1, width=16, embedding=64, min_steps=0)
    clf = train_classifier(as_pixels(x[:3000]), y[:3000], FASHION_CLASSES, spec)
    test = as_pixels(xt[:1000])
    logits, emb = clf.forward(test)
    accuracy = float((logits.argmax(axis=1) == yt[:1000]).mean())
    assert accuracy > 0.7, accuracy  # chance is 0.1
    assert emb.shape == (1000, 64) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    # Bytes read the same as floats (the network scales them): a quarter of the memory.
    as_bytes = clf.forward(xt[:50, None])[0]
    assert np.allclose(as_bytes, logits[:50], atol=1e-4)
    proba = clf.predict_proba(test[:10])
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)

    # A pickled classifier holds numpy weights only and predicts the same.
    clf.calibrate(logits, yt[:1000])
    again = pickle.loads(pickle.dumps(clf))
    assert again._net is None and all(isinstance(w, np.ndarray) for w in again.weights.values())
    assert np.allclose(again.predict_proba(test[:10]), clf.predict_proba(test[:10]), atol=1e-5)
    assert again.temperature == clf.temperature != 1.0


def test_bad_inputs_are_refused_with_what_was_expected() -> None:
    x = np.zeros((4, 1, 28, 28), dtype=np.float32)
    with pytest.raises(ConfigError, match="at least two classes"):
        train_classifier(x, np.zeros(4), ["only"])
    with pytest.raises(ConfigError, match=r"labels must lie in 0\.\.1"):
        train_classifier(x, np.array([0, 1, 2, 0]), ["a", "b"])
    with pytest.raises(ConfigError, match=r"shape \(n, 1, 28, 28\)"):
        train_classifier(np.zeros((4, 3, 28, 28)), np.array([0, 1, 0, 1]), ["a", "b"])
    with pytest.raises(ConfigError, match="dropout"):
        NetworkSettings(dropout=1.0)
