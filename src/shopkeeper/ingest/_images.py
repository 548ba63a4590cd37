"""Checking the image files a table names: local, present, regular, and readable images.

An ``image`` column holds a path relative to the folder of the file that
lists it, an absolute path, or a ``file://`` URL. Each distinct file is
checked once: it must exist, be a regular file of at most ``IMAGE_MAX_BYTES``,
and open, verify and decode with Pillow within ``IMAGE_MAX_PIXELS``. Web
addresses are refused rather than fetched: a load reads local files only, so
it neither waits on the network nor depends on a server that may change the
picture later. Rule texts are fixed per kind of failure (never per file), so
``--report`` groups the problems by what is wrong.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import numpy as np
import pandas as pd

from shopkeeper.contract import IMAGE_MAX_BYTES, IMAGE_MAX_PIXELS

# From this many files on, threads check them: reading and decoding release the GIL.
_PARALLEL_FROM = 32
_WORKERS = min(8, os.cpu_count() or 1)

WEB_ADDRESS = "is a web address; download images first; only local files are read"
OTHER_URL = "is a URL that is not read; give a local path or a file:// URL"
REMOTE_FILE_URL = "is a file:// URL on another host; only local files are read"
RELATIVE_FILE_URL = "is a file:// URL without an absolute path (file:///folder/photo.png)"
NO_FOLDER = (
    "is a relative path, but these rows come from no file whose folder it could be "
    "relative to; give an absolute path or a file:// URL"
)
DIRECTORY = "names a directory, not an image file"
NOT_REGULAR = "names something that is not a regular file (a device, pipe or socket)"
TOO_MANY_BYTES = f"names a file of more than {IMAGE_MAX_BYTES // 2**20} MB; it is not read"
NOT_AN_IMAGE = "names a file that is not an image Pillow can read (PNG, JPEG, WebP, GIF, ...)"
DAMAGED = "names a damaged or truncated image"
TOO_MANY_PIXELS = (
    f"names an image of more than {IMAGE_MAX_PIXELS:,} pixels; larger images are refused "
    "as possible decompression bombs"
)

# A scheme of two letters or more, so that a Windows drive ("C:") is not taken for one.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")


def _missing_rule(folder: Path | None) -> str:
    """The rule for a file that does not exist, naming where relative paths were read from."""
    if folder is None:
        return "names a file that does not exist"
    return f"names a file that does not exist (relative paths are read from {folder})"


def check_images(
    values: pd.Series, listed_in: Path | None
) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """Resolve and check the image files ``values`` name.

    ``listed_in`` is the file the rows come from (None for rows that come
    from no file, such as a posted request): relative paths are resolved
    against its folder. Returns the absolute paths (null where the value is
    null) and, per broken rule, a mask of the rows that break it.
    """
    folder = None if listed_in is None else Path(os.path.abspath(listed_in.parent))
    present = values.notna().to_numpy(dtype=bool)
    text = values.astype(object).to_numpy()
    distinct = pd.unique(text[present])

    resolved: dict[str, str] = {}
    verdict: dict[str, str] = {}
    for value in distinct:
        local, found = _resolve(str(value), folder)
        (resolved if local else verdict)[value] = found
    checked = _check_files(set(resolved.values()), folder)
    for value, path in resolved.items():
        rule = checked[path]
        if rule is not None:
            verdict[value] = rule

    out = pd.Series(
        [resolved.get(v) if ok else None for v, ok in zip(text, present, strict=True)],
        index=values.index,
        dtype="string",
    )
    masks: dict[str, np.ndarray] = {}
    if verdict:
        rules = pd.Series(text).map(verdict)
        for rule in rules.dropna().unique():
            masks[str(rule)] = (rules == rule).to_numpy(dtype=bool)
    return out, masks


def _resolve(value: str, folder: Path | None) -> tuple[bool, str]:
    """``(True, absolute path)`` for a local file, or ``(False, the rule it breaks)``."""
    match = _SCHEME.match(value)
    if match is not None:
        scheme = match.group(1).lower()
        rest = value[match.end() :]
        if scheme in ("http", "https"):
            return False, WEB_ADDRESS
        if scheme == "file":
            parts = urlsplit(value)
            if parts.netloc not in ("", "localhost"):
                return False, REMOTE_FILE_URL
            path = url2pathname(parts.path)
            if not os.path.isabs(path):
                return False, RELATIVE_FILE_URL
            return True, os.path.abspath(path)
        if rest.startswith("//") or scheme == "data":
            return False, OTHER_URL
        # Otherwise a colon in a file name ("look:1.png"): a relative path.
    if os.path.isabs(value):
        return True, os.path.abspath(value)
    if folder is None:
        return False, NO_FOLDER
    return True, os.path.abspath(folder / value)


def _check_files(paths: Iterable[str], folder: Path | None) -> dict[str, str | None]:
    """The rule each file breaks, or None for a readable image."""
    todo = sorted(paths)
    if len(todo) >= _PARALLEL_FROM and _WORKERS > 1:
        with ThreadPoolExecutor(_WORKERS) as pool:
            rules = list(pool.map(lambda p: _check_file(p, folder), todo))
    else:
        rules = [_check_file(p, folder) for p in todo]
    return dict(zip(todo, rules, strict=True))


def _check_file(path: str, folder: Path | None) -> str | None:
    # Imported here: only loads that name images pay for Pillow.
    from PIL import Image, UnidentifiedImageError

    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return _missing_rule(folder)
    except (OSError, ValueError) as exc:
        return _unreadable(exc)
    if stat.S_ISDIR(info.st_mode):
        return DIRECTORY
    if not stat.S_ISREG(info.st_mode):
        return NOT_REGULAR
    if info.st_size > IMAGE_MAX_BYTES:
        return TOO_MANY_BYTES
    try:
        with warnings.catch_warnings():
            # The pixel limit below is this module's; Pillow's own warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > IMAGE_MAX_PIXELS:
                    return TOO_MANY_PIXELS
                image.verify()
            # verify() checks a PNG's chunks but reads no JPEG data: decoding is
            # what finds a truncated JPEG. A draft decodes JPEGs at reduced scale.
            with Image.open(path) as image:
                image.draft(image.mode, (256, 256))
                image.load()
    except Image.DecompressionBombError:
        return TOO_MANY_PIXELS
    except UnidentifiedImageError:
        return NOT_AN_IMAGE
    except PermissionError as exc:
        return _unreadable(exc)
    except Exception:
        # Pillow's format parsers raise whatever they hit on bad data (OSError,
        # SyntaxError, ValueError, struct.error, EOFError...): all mean damaged.
        return DAMAGED
    return None


def _unreadable(exc: BaseException) -> str:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"names a file that cannot be read ({reason})"
