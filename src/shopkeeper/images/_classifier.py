"""The trained image classifier: class names, weights, calibration, and running it.

:func:`train_classifier` fits the network of ``_net.py`` on labelled arrays
(from :func:`~shopkeeper.images.read_images` or Fashion-MNIST) and returns an
:class:`ImageClassifier`. The classifier keeps its weights as numpy arrays,
so it pickles and loads without PyTorch; running it (``predict_proba``,
``embed``) imports PyTorch then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.images._calibrate import fit_temperature, softmax
from shopkeeper.images._pixels import check_format
from shopkeeper.images._torch import require_torch, seed_everything, torch_threads

if TYPE_CHECKING:
    from shopkeeper.images._net import ShopNet

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class NetworkSettings:
    """The network's shape and how it is trained.

    ``size`` and ``channels``: the arrays it reads (see ``_pixels.py``);
    ``width``: channels of the first convolution block (the second has twice
    as many); ``embedding``: units of the penultimate layer (the similarity
    embedding); ``dropout`` before the class scores; ``epochs``,
    ``batch_size``, ``learning_rate`` (the peak of the one-cycle schedule,
    AdamW) and ``weight_decay``; ``augment``: random shifts and mirroring;
    ``min_steps``: the fewest optimiser steps a training takes (a small set
    of photos trains in smaller batches, down to 16, and for more epochs);
    ``threads``: PyTorch threads (0: every core); ``seed``.
    """

    size: int = 28
    channels: int = 1
    width: int = 32
    embedding: int = 128
    dropout: float = 0.3
    epochs: int = 12
    batch_size: int = 128
    learning_rate: float = 0.004
    weight_decay: float = 5e-4
    augment: bool = True
    min_steps: int = 300
    threads: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        check_format(self.size, self.channels)
        for name, low, high in (
            ("width", 4, 256),
            ("embedding", 8, 2048),
            ("epochs", 1, 500),
            ("batch_size", 2, 4096),
            ("min_steps", 0, 1_000_000),
            ("threads", 0, 256),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"image network {name}={value} must lie in {low}..{high}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"image network dropout={self.dropout} must lie in [0, 1)")
        if not 0.0 < self.learning_rate <= 1.0:
            raise ConfigError(
                f"image network learning_rate={self.learning_rate} must lie in (0, 1]"
            )
        if self.weight_decay < 0:
            raise ConfigError(f"image network weight_decay={self.weight_decay} must be >= 0")


@dataclass
class ImageClassifier:
    """A trained network: ``classes`` in label order, its weights, its temperature.

    ``predict_proba`` gives calibrated probabilities (the scores divided by
    ``temperature`` before the softmax; 1.0 until :meth:`calibrate` is
    called); ``embed`` the L2-normalised penultimate layer, on which cosine
    similarity is a dot product.
    """

    classes: tuple[str, ...]
    network: NetworkSettings
    weights: dict[str, np.ndarray]
    temperature: float = 1.0
    train_seconds: float = 0.0
    _net: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        # The built PyTorch module is a cache: the numpy weights are the model.
        state = self.__dict__.copy()
        state["_net"] = None
        return state

    def _module(self) -> ShopNet:
        if self._net is None:
            require_torch("running the image classifier")
            from shopkeeper.images import _net

            self._net = _net.build(self.network, len(self.classes), self.weights)
        return self._net

    def _check(self, pixels: np.ndarray) -> np.ndarray:
        want = (self.network.channels, self.network.size, self.network.size)
        x = np.asarray(pixels)
        # Bytes (0-255) are kept as they are, a quarter of the memory; the network scales them.
        if x.dtype != np.uint8:
            x = x.astype(np.float32, copy=False)
        if x.ndim == 3 and self.network.channels == 1:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1:] != want:
            raise ConfigError(
                f"the classifier reads arrays of shape (n, {want[0]}, {want[1]}, {want[2]}), "
                f"not {x.shape}; read the photos with size={want[1]}, channels={want[0]}"
            )
        return x

    def forward(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw class scores (n, classes) and L2-normalised embeddings (n, embedding) of
        ``pixels`` (n, channels, size, size), floats in [0, 1] or uint8 bytes."""
        x = self._check(pixels)
        from shopkeeper.images import _net

        with torch_threads(self.network.threads):
            logits, raw = _net.forward(self._module(), x)
        return logits, normalise(raw)

    def predict_proba(self, pixels: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (n, classes) of ``pixels`` (n, channels, size, size)."""
        return softmax(self.forward(pixels)[0], self.temperature)

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """The most probable class (label index) of each image."""
        return self.forward(pixels)[0].argmax(axis=1)

    def embed(self, pixels: np.ndarray) -> np.ndarray:
        """L2-normalised embeddings (n, embedding) of ``pixels``."""
        return self.forward(pixels)[1]

    def calibrate(self, logits: np.ndarray, labels: np.ndarray) -> float:
        """Fit the temperature on held-out class scores and their true labels; returns it."""
        self.temperature = fit_temperature(logits, labels)
        return self.temperature


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (rows of zeros stay zero), float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def train_classifier(
    pixels: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    settings: NetworkSettings | None = None,
    *,
    progress: Progress | None = None,
) -> ImageClassifier:
    """Fit the network on ``pixels`` (n, channels, size, size: floats in [0, 1] or uint8
    bytes, as :func:`~shopkeeper.images.read_images` gives them) and ``labels``
    (n,) indexing ``classes``; returns the classifier (temperature 1.0, uncalibrated).

    Raises :class:`ConfigError` when there are fewer than two classes, labels
    outside them, or arrays of another shape than ``settings`` says.
    """
    spec = settings or NetworkSettings()
    labels = np.asarray(labels, dtype=np.int64)
    if len(classes) < 2:
        raise ConfigError(f"an image classifier needs at least two classes, not {len(classes)}")
    if len(labels) != len(pixels):
        raise ConfigError(f"{len(pixels)} images but {len(labels)} labels")
    if len(labels) < 2:
        raise ConfigError(f"an image classifier needs at least two images, not {len(labels)}")
    if labels.min() < 0 or labels.max() >= len(classes):
        raise ConfigError(f"labels must lie in 0..{len(classes) - 1}")
    blank = ImageClassifier(tuple(classes), spec, {})
    x = blank._check(pixels)

    require_torch("training the image classifier")
    from shopkeeper.images import _net

    started = time.perf_counter()
    with torch_threads(spec.threads):
        seed_everything(spec.seed)
        weights = _net.train(x, labels, len(classes), spec, progress=progress)
    seconds = time.perf_counter() - started
    log.info("trained the image network on %d images in %.1f s", len(x), seconds)
    return ImageClassifier(tuple(classes), spec, weights, train_seconds=seconds)
