"""PyTorch on demand: the optional ``vision`` extra, imported only where a network runs.

shopkeeper installs without PyTorch (a large download most shops' other
capabilities never need), so nothing at import time may load it: the modules
that train or run the network call :func:`require_torch` inside their
functions. Serving similar items from a trained model needs no PyTorch at all.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import numpy as np

from shopkeeper.errors import ConfigError

INSTALL = "pip install 'shopkeeper[vision]'"


def require_torch(purpose: str = "the image network") -> ModuleType:
    """The ``torch`` module, or a :class:`ConfigError` saying how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise ConfigError(
            f"{purpose} needs PyTorch, which is not installed: {INSTALL} (the CPU build is enough)"
        ) from exc
    return torch


def torch_available() -> bool:
    """Whether PyTorch can be imported (it is not imported to find out)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads (0: every core), then restore.

    PyTorch's setting is process-wide; restoring it keeps a job from changing
    how the service's other requests run afterwards.
    """
    torch = require_torch()
    before = torch.get_num_threads()
    torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed_everything(seed: int) -> None:
    """Seed PyTorch, numpy's global state and ``random``: one seed, one result on a CPU."""
    torch = require_torch()
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
