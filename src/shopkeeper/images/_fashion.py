"""Fashion-MNIST: 70,000 labelled 28x28 grayscale product photos from Zalando.

The benchmark and the tests measure the image network on it. The files are the
four ``idx`` files of the original release, gzipped or not, read here with
numpy alone: an ``idx`` file is a big-endian header (a magic number naming the
element type and the number of dimensions, then each dimension's size)
followed by the raw array.

Debian ships them in the package ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist``); ``SHOPKEEPER_FASHION_MNIST`` names
another folder holding the same files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal

import numpy as np

from shopkeeper.errors import ConfigError

#: Where Debian's ``dataset-fashion-mnist`` puts the files.
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
#: The environment variable naming another folder.
FOLDER_VARIABLE = "SHOPKEEPER_FASHION_MNIST"
#: The ten classes, in label order (label 0 is a T-shirt or top).
FASHION_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_PREFIX = {"train": "train", "test": "t10k"}
# The idx magic number's third byte: 0x08 is unsigned bytes, the only type these files use.
_UBYTE = 0x08


def fashion_mnist_folder() -> Path:
    """The folder the files are read from: ``SHOPKEEPER_FASHION_MNIST``, else Debian's."""
    named = os.environ.get(FOLDER_VARIABLE)
    return Path(named).expanduser() if named else DEBIAN_FOLDER


def fashion_mnist_available(folder: Path | None = None) -> bool:
    """Whether all four files are in ``folder`` (default :func:`fashion_mnist_folder`)."""
    base = folder or fashion_mnist_folder()
    try:
        for split in _PREFIX:
            _find(base, split, "images")
            _find(base, split, "labels")
    except ConfigError:
        return False
    return True


def load_fashion_mnist(
    split: Literal["train", "test"],
    *,
    folder: Path | None = None,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of one split: ``train`` (60,000) or ``test`` (10,000).

    Returns ``images`` of shape (n, 28, 28), uint8 (0 is the black background,
    255 full ink), and ``labels`` of shape (n,), uint8 indices into
    :data:`FASHION_CLASSES`. ``limit`` keeps the first ``limit`` of each.
    Raises :class:`ConfigError` naming the missing file and how to get it, or
    the file that is not a valid ``idx`` file.
    """
    if split not in _PREFIX:
        raise ConfigError(f"Fashion-MNIST split {split!r} must be 'train' or 'test'")
    base = folder or fashion_mnist_folder()
    images = _read_idx(_find(base, split, "images"), dims=3, limit=limit)
    labels = _read_idx(_find(base, split, "labels"), dims=1, limit=limit)
    if len(images) != len(labels):
        raise ConfigError(
            f"Fashion-MNIST {split}: {len(images):,} images but {len(labels):,} labels in {base}"
        )
    if labels.size and int(labels.max()) >= len(FASHION_CLASSES):
        raise ConfigError(f"Fashion-MNIST {split}: label {int(labels.max())} is not a class 0-9")
    return images, labels


def _find(base: Path, split: str, what: str) -> Path:
    kind = "idx3" if what == "images" else "idx1"
    name = f"{_PREFIX[split]}-{what}-{kind}-ubyte"
    for candidate in (base / f"{name}.gz", base / name):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"Fashion-MNIST file {name}.gz not found in {base}: install the Debian package "
        f"dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or set "
        f"{FOLDER_VARIABLE} to a folder holding the four idx files"
    )


def _read_idx(path: Path, *, dims: int, limit: int | None) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from exc
    header = 4 + 4 * dims
    if len(raw) < header or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or raw[3] != dims:
        raise ConfigError(f"{path} is not an idx file of {dims}-dimensional unsigned bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise ConfigError(
            f"{path} holds {len(raw) - header:,} bytes of data; its header promises "
            f"{expected:,} ({' x '.join(map(str, shape))})"
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
    if limit is not None:
        array = array[: max(limit, 0)]
    # A copy owns its memory (the buffer is the whole decompressed file) and is writable.
    return array.copy()
