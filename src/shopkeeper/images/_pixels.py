"""Shop photos to fixed-size arrays: what the image network reads.

Any file Pillow opens (PNG, JPEG, WebP, GIF, BMP, TIFF; any size or mode)
becomes a ``(channels, size, size)`` float32 array in [0, 1]:

1. its EXIF orientation is applied (phones store portrait photos on their side);
2. transparent parts are laid on white, as a web page shows them;
3. it is converted to grayscale (one channel, the default) or RGB (three);
4. it is scaled so that its longer side is ``size``, keeping the aspect
   ratio, and centred on a square of its own border colour (letterboxing):
   stretching would turn a pair of trousers into shorts;
5. with ``dark_background`` (the default) a picture whose border is light is
   inverted, so every photo shows a bright product on a dark ground, as
   Fashion-MNIST does. A catalog mixes studio shots on white with cut-outs on
   black or transparent grounds; one polarity lets the network learn shapes
   rather than backgrounds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from shopkeeper.errors import ConfigError, Problem, SourceError

#: A photo: a path, or an open binary file (an upload).
ImageSource = str | Path | IO[bytes]
#: The side of the square arrays, unless a setting says otherwise (Fashion-MNIST's).
DEFAULT_SIZE = 28
# Images read per thread pool: decoding releases the GIL, so threads overlap the reads.
_PARALLEL_FROM = 16
_MISSING = "does not exist"
_NOT_IMAGE = "is not an image Pillow can read"


@dataclass
class ImageBatch:
    """The readable images of a list of files, and what was wrong with the others.

    ``pixels`` has shape (number readable, channels, size, size); ``ok`` is a
    boolean mask over the files given (True: its array is in ``pixels``, in
    order); ``problems`` names each unreadable file and why.
    """

    pixels: np.ndarray
    ok: np.ndarray
    problems: list[Problem]


def check_format(size: int, channels: int) -> None:
    """Refuse a size or channel count the network cannot read, naming the value."""
    if not 8 <= size <= 512:
        raise ConfigError(f"image size {size} must lie between 8 and 512 pixels")
    if channels not in (1, 3):
        raise ConfigError(f"image channels {channels} must be 1 (grayscale) or 3 (RGB)")


def image_to_array(
    image: Image.Image,
    *,
    size: int = DEFAULT_SIZE,
    channels: int = 1,
    dark_background: bool = True,
) -> np.ndarray:
    """One opened image as a ``(channels, size, size)`` float32 array in [0, 1].

    See the module doc for the steps. The image is not modified.
    """
    check_format(size, channels)
    img = ImageOps.exif_transpose(image)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    img = img.convert("L" if channels == 1 else "RGB")

    # Longer side to ``size``; the shorter keeps the aspect (at least one pixel).
    width, height = img.size
    scale = size / max(width, height)
    fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
    if fitted != img.size:
        # reducing_gap first shrinks large photos by whole factors (fast), then filters.
        img = img.resize(fitted, Image.Resampling.LANCZOS, reducing_gap=3.0)
    inner = np.asarray(img, dtype=np.float32).reshape(fitted[1], fitted[0], channels) / 255.0

    # The ground is the median of the border pixels: the photo's own background.
    border = np.concatenate([inner[0], inner[-1], inner[:, 0], inner[:, -1]])
    ground = np.median(border, axis=0)
    canvas = np.empty((size, size, channels), dtype=np.float32)
    canvas[:] = ground
    top, left = (size - fitted[1]) // 2, (size - fitted[0]) // 2
    canvas[top : top + fitted[1], left : left + fitted[0]] = inner
    if dark_background and float(np.mean(ground)) > 0.5:
        canvas = 1.0 - canvas
    return np.ascontiguousarray(canvas.transpose(2, 0, 1))


def read_image(
    path: ImageSource,
    *,
    size: int = DEFAULT_SIZE,
    channels: int = 1,
    dark_background: bool = True,
) -> np.ndarray:
    """The image file at ``path`` as a ``(channels, size, size)`` float32 array in [0, 1].

    ``path`` may also be an open binary file (an upload). Raises
    :class:`~shopkeeper.errors.SourceError` naming the file when it is missing
    or not a readable image (unknown format, truncated, damaged).
    """
    check_format(size, channels)
    try:
        with Image.open(path) as image:
            # JPEG can decode at 1/2, 1/4 or 1/8 scale: far faster for large photos.
            image.draft("L" if channels == 1 else "RGB", (size, size))
            image.load()
            return image_to_array(
                image, size=size, channels=channels, dark_background=dark_background
            )
    except FileNotFoundError as exc:
        raise SourceError(source_name(path), _MISSING) from exc
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
    ) as exc:
        raise SourceError(source_name(path), f"{_NOT_IMAGE} ({exc})") from exc


def source_name(source: ImageSource) -> str:
    """How errors name a photo: its path, or an open file's name."""
    if isinstance(source, (str, Path)):
        return str(source)
    return str(getattr(source, "name", None) or "the uploaded image")


def read_images(
    paths: Sequence[ImageSource],
    *,
    size: int = DEFAULT_SIZE,
    channels: int = 1,
    dark_background: bool = True,
    skip_unreadable: bool = False,
    workers: int | None = None,
    as_bytes: bool = False,
) -> ImageBatch:
    """Many image files as one batch (see :func:`read_image`), read on a few threads.

    By default the first unreadable file raises its
    :class:`~shopkeeper.errors.SourceError`; with ``skip_unreadable`` it is
    left out and named in the batch's ``problems`` instead. ``workers``: threads
    reading (default: the cores, at most 8). ``as_bytes``: pixels as uint8 0-255
    (a quarter of the memory of floats; the network reads either).
    """
    check_format(size, channels)

    def one(path: ImageSource) -> np.ndarray | SourceError:
        try:
            x = read_image(path, size=size, channels=channels, dark_background=dark_background)
            return np.rint(x * 255.0).astype(np.uint8) if as_bytes else x
        except SourceError as exc:
            if not skip_unreadable:
                raise
            return exc

    threads = workers or min(8, os.cpu_count() or 1)
    if threads > 1 and len(paths) >= _PARALLEL_FROM:
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(one, paths))
    else:
        found = [one(p) for p in paths]

    ok = np.array([not isinstance(f, SourceError) for f in found], dtype=bool)
    arrays = [f for f in found if not isinstance(f, SourceError)]
    problems = [p for f in found if isinstance(f, SourceError) for p in f.problems]
    empty = np.zeros((0, channels, size, size), dtype=np.uint8 if as_bytes else np.float32)
    pixels = np.stack(arrays) if arrays else empty
    return ImageBatch(pixels=pixels, ok=ok, problems=problems)
