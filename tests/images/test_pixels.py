"""Photo files to arrays: any size and mode, letterboxed, one polarity; clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shopkeeper.errors import ConfigError, SourceError
from shopkeeper.images import image_to_array, read_image, read_images


def _tall_dark_bar(size: tuple[int, int] = (30, 90)) -> Image.Image:
    """A dark upright bar on white: a studio shot of something tall and thin."""
    img = Image.new("RGB", size, (255, 255, 255))
    w, h = size
    img.paste((20, 20, 20), (w // 3, h // 10, 2 * w // 3, 9 * h // 10))
    return img


def test_odd_sizes_keep_their_aspect_and_polarity(tmp_path: Path) -> None:
    path = tmp_path / "tall.png"
    _tall_dark_bar().save(path)
    x = read_image(path)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    # Letterboxed, not stretched: 90x30 becomes 28x9 centred, the rest is ground. The white
    # ground is inverted to dark, the dark product to bright.
    assert x[0, :, :5].max() < 0.05 and x[0, :, -5:].max() < 0.05
    assert x[0, 14, 14] > 0.8
    # A wide photo is letterboxed top and bottom; the colour version has three channels.
    wide = tmp_path / "wide.jpg"
    _tall_dark_bar((90, 30)).transpose(Image.Transpose.ROTATE_90).save(wide, quality=95)
    rgb = read_image(wide, channels=3, size=32)
    assert rgb.shape == (3, 32, 32)
    assert rgb[:, :6].max() < 0.1 and rgb[:, 16, 16].min() > 0.8


def test_transparency_palette_and_large_jpeg(tmp_path: Path) -> None:
    # A cut-out on a transparent ground reads like a studio shot on white.
    rgba = Image.new("RGBA", (41, 17), (0, 0, 0, 0))
    rgba.paste((30, 30, 30, 255), (10, 3, 31, 14))
    rgba.save(tmp_path / "cut.png")
    cut = read_image(tmp_path / "cut.png")
    assert cut[0, 0, 0] < 0.05 and cut[0, 14, 14] > 0.8
    _tall_dark_bar().convert("P").save(tmp_path / "palette.gif")
    assert read_image(tmp_path / "palette.gif").shape == (1, 28, 28)
    _tall_dark_bar((1200, 2400)).save(tmp_path / "big.jpg", quality=80)
    big = read_image(tmp_path / "big.jpg", size=64)
    assert big.shape == (1, 64, 64) and big[0, 32, 32] > 0.8
    # Without dark_background the photo keeps its own polarity.
    kept = read_image(tmp_path / "big.jpg", dark_background=False)
    assert kept[0, 0, 0] > 0.95 and kept[0, 14, 14] < 0.2


def test_a_dark_ground_is_left_as_it_is() -> None:
    img = Image.new("L", (28, 28), 0)
    img.paste(200, (8, 8, 20, 20))
    x = image_to_array(img)
    assert x[0, 0, 0] == 0.0 and x[0, 14, 14] == pytest.approx(200 / 255)


def test_broken_and_missing_files_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(SourceError, match=r"broken\.png: is not an image Pillow can read"):
        read_image(broken)
    truncated = tmp_path / "truncated.jpg"
    _tall_dark_bar((300, 300)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:400])
    with pytest.raises(SourceError, match=r"truncated\.jpg"):
        read_image(truncated)
    with pytest.raises(SourceError, match=r"nowhere\.png: does not exist"):
        read_image(tmp_path / "nowhere.png")
    with pytest.raises(SourceError, match="the uploaded image: is not an image"):
        read_image(io.BytesIO(b"not an image"))
    with pytest.raises(ConfigError, match="channels 2"):
        read_image(broken, channels=2)


def test_a_batch_skips_or_refuses_unreadable_files(tmp_path: Path) -> None:
    paths = []
    for i in range(20):
        path = tmp_path / f"p{i}.png"
        _tall_dark_bar((20 + i, 40)).save(path)
        paths.append(path)
    (tmp_path / "p7.png").write_bytes(b"garbage")
    with pytest.raises(SourceError, match=r"p7\.png"):
        read_images(paths)
    batch = read_images(paths, skip_unreadable=True, workers=2)
    assert batch.pixels.shape == (19, 1, 28, 28)
    assert list(np.flatnonzero(~batch.ok)) == [7]
    assert len(batch.problems) == 1 and batch.problems[0].source.endswith("p7.png")
    assert read_images([]).pixels.shape == (0, 1, 28, 28)


def test_a_batch_as_bytes(tmp_path: Path) -> None:
    _tall_dark_bar().save(tmp_path / "a.png")
    floats = read_images([tmp_path / "a.png"]).pixels
    raw = read_images([tmp_path / "a.png"], as_bytes=True).pixels
    assert raw.dtype == np.uint8 and np.abs(raw / 255.0 - floats).max() <= 0.5 / 255 + 1e-6
    assert read_images([], as_bytes=True).pixels.dtype == np.uint8
