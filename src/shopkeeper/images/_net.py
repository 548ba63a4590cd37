"""The convolutional network, its training loop and its batched forward pass (PyTorch).

Imported only from inside functions (see ``_torch.py``): importing this module
imports PyTorch.

The network is small on purpose: two convolution blocks (3x3 convolution,
batch norm, ReLU, 2x2 max-pool) of ``width`` and ``2 * width`` channels, an
average pool to 7x7 (a no-op at 28 pixels; larger images shrink to the same
grid, so the dense layers keep their size), one dense layer of ``embedding``
units whose output, L2-normalised, is the image's embedding, dropout, and the
class scores. Batch norm lets a few epochs of a one-cycle learning rate reach
the accuracy a plain network needs tens of epochs for; channels-last memory
layout doubles the speed of CPU convolutions. Training shifts photos by up to
two pixels and mirrors half of them, since a shop's photos are not all framed
alike and a left shoe is still a shoe.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from shopkeeper.images._classifier import NetworkSettings

log = logging.getLogger(__name__)

#: The grid the convolution blocks end on, whatever the image size.
GRID = 7
#: Largest shift (pixels) of the training augmentation.
SHIFT = 2
#: The smallest batch a small catalog trains with (and photos per step it aims at).
SMALL_BATCH = 16
#: Images per forward pass at inference.
INFER_BATCH = 1024

Progress = Callable[[float, str], None]


class ShopNet(nn.Module):
    """Convolution blocks, the embedding layer and the classifier; see the module doc."""

    def __init__(
        self, spec: NetworkSettings, n_classes: int, mean: np.ndarray, std: np.ndarray
    ) -> None:
        super().__init__()
        w, c = spec.width, spec.channels
        self.mean: torch.Tensor
        self.std: torch.Tensor
        # Standardisation is part of the network, so a saved state dict is all it needs.
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1))
        self.features = nn.Sequential(
            nn.Conv2d(c, w, 3, padding=1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(GRID),
            nn.Flatten(),
        )
        self.embedding = nn.Sequential(
            nn.Linear(2 * w * GRID * GRID, spec.embedding),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(spec.dropout)
        self.classify = nn.Linear(spec.embedding, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's output (before normalisation) for a batch of images."""
        x = (x - self.mean) / self.std
        return self.embedding(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.dropout(self.embed(x)))


def build(
    spec: NetworkSettings, n_classes: int, weights: dict[str, np.ndarray] | None = None
) -> ShopNet:
    """A network for ``spec``; with ``weights`` (a numpy state dict) ready for inference."""
    c = spec.channels
    net = ShopNet(spec, n_classes, np.zeros(c, np.float32), np.ones(c, np.float32))
    if weights is not None:
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        net.eval()
    return net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


def _floats(x: torch.Tensor) -> torch.Tensor:
    """A batch as floats in [0, 1], whether it came as floats or as bytes."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def _moments(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of the photos, a block at a time (bytes
    would otherwise be turned into floats all at once)."""
    c = x.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros(c, dtype=torch.float64)
    for start in range(0, len(x), 4096):
        block = _floats(x[start : start + 4096]).double()
        total += block.sum(dim=(0, 2, 3))
        squares += (block * block).sum(dim=(0, 2, 3))
    count = max(1, len(x) * x.shape[2] * x.shape[3])
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-6).sqrt()
    return mean.float().numpy(), std.clamp_min(1e-3).float().numpy()


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``SHIFT`` pixels (the ground fills in) and mirror half."""
    b, _, h, w = x.shape
    padded = F.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT))
    dy = torch.randint(0, 2 * SHIFT + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * SHIFT + 1, (b,), generator=gen)
    rows = (torch.arange(h)[None, :] + dy[:, None])[:, :, None]  # (b, h, 1)
    cols = (torch.arange(w)[None, :] + dx[:, None])[:, None, :]  # (b, 1, w)
    batch = torch.arange(b)[:, None, None]
    # Advanced indexing on dims 0, 2, 3 puts the channel last: (b, h, w, c).
    shifted = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    flip = torch.rand(b, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], shifted.flip(-1), shifted)


def train(
    pixels: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    spec: NetworkSettings,
    *,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Fit a network on ``pixels`` (n, channels, size, size; floats in [0, 1] or uint8)
    and ``labels`` (n,) in 0..n_classes-1; returns its state dict as numpy arrays.

    Deterministic for a seed on a CPU with a fixed thread count.
    """
    torch.manual_seed(spec.seed)
    gen = torch.Generator().manual_seed(spec.seed)
    x = torch.from_numpy(np.ascontiguousarray(pixels))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    mean, std = _moments(x)

    net = ShopNet(spec, n_classes, mean, std)
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    n = len(x)
    # A small catalog gets smaller batches and more epochs: a few hundred photos in
    # batches of 128 would give the network a few dozen steps, too few to learn.
    batch = min(spec.batch_size, max(SMALL_BATCH, n // SMALL_BATCH), n)
    steps = max(1, n // batch)  # the last short batch is dropped: batch norm needs company
    epochs = max(spec.epochs, math.ceil(spec.min_steps / steps))
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=spec.learning_rate, weight_decay=spec.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=spec.learning_rate, total_steps=epochs * steps
    )
    net.train()
    started = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for step in range(steps):
            idx = order[step * batch : (step + 1) * batch]
            xb = _floats(x[idx])
            if spec.augment:
                xb = _augment(xb, gen)
            xb = xb.contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(net(xb), y[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.detach().item()
        log.debug(
            "epoch %d/%d: loss %.4f, %.1f s",
            epoch + 1,
            epochs,
            total / steps,
            time.perf_counter() - started,
        )
        if progress is not None:
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}")
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def forward(net: ShopNet, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class scores (n, classes) and raw embeddings (n, embedding) of ``pixels``."""
    net.eval()
    logits: list[np.ndarray] = []
    embeddings: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(pixels), INFER_BATCH):
            chunk = torch.from_numpy(np.ascontiguousarray(pixels[start : start + INFER_BATCH]))
            xb = _floats(chunk).contiguous(memory_format=torch.channels_last)
            emb = net.embed(xb)
            logits.append(net.classify(emb).numpy())
            embeddings.append(emb.numpy())
    k = net.classify.out_features
    d = net.classify.in_features
    return (
        np.concatenate(logits) if logits else np.zeros((0, k), np.float32),
        np.concatenate(embeddings) if embeddings else np.zeros((0, d), np.float32),
    )
