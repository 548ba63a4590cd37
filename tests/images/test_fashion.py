"""The Fashion-MNIST reader: shapes, classes, and errors that say how to get the files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.images import FASHION_CLASSES, load_fashion_mnist
from shopkeeper.images._fashion import fashion_mnist_available, fashion_mnist_folder


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def _fake_folder(folder: Path, n: int = 5) -> None:
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)


def test_the_real_files_when_installed(
    fashion: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    x, y, xt, yt = fashion
    assert x.shape == (6000, 28, 28) and x.dtype == np.uint8
    assert xt.shape == (2000, 28, 28) and yt.shape == (2000,)
    # Balanced classes, all ten present; the ground is black (0), the product bright.
    assert set(np.unique(y)) == set(range(10)) and len(FASHION_CLASSES) == 10
    assert np.median(x[:, 0, :]) == 0 and x.max() == 255


def test_a_folder_named_by_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_folder(tmp_path)
    monkeypatch.setenv("SHOPKEEPER_FASHION_MNIST", str(tmp_path))
    assert fashion_mnist_folder() == tmp_path and fashion_mnist_available()
    x, y = load_fashion_mnist("test", limit=3)
    assert x.shape == (3, 28, 28) and list(y) == [0, 1, 2]


def test_missing_files_name_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dataset-fashion-mnist") as err:
        load_fashion_mnist("train", folder=tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(err.value)
    assert "SHOPKEEPER_FASHION_MNIST" in str(err.value)
    assert not fashion_mnist_available(tmp_path)


def test_damaged_files_and_bad_splits_are_refused(tmp_path: Path) -> None:
    _fake_folder(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(images, "rb") as fh:
        body = fh.read()
    with gzip.open(images, "wb") as fh:
        fh.write(body[:-10])
    with pytest.raises(ConfigError, match="header promises"):
        load_fashion_mnist("train", folder=tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_fashion_mnist("test", folder=tmp_path)
    with pytest.raises(ConfigError, match="'train' or 'test'"):
        load_fashion_mnist("valid", folder=tmp_path)  # type: ignore[arg-type]
