"""Small helpers shared by the demo generator: seeded streams, text and time."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# The demo shop runs on China Standard Time; a fixed offset (no DST since
# 1991) keeps the written timestamps independent of the tz database.
TZ = dt.timezone(dt.timedelta(hours=8))
DAY = 86_400.0

Strings: TypeAlias = pa.Array | pa.ChunkedArray | np.ndarray | str


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent random stream per part: changing one part leaves the others as they were."""
    key = int.from_bytes(hashlib.blake2b(part.encode(), digest_size=8).digest(), "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, key])))


def pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probability proportional to ``weights``."""
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w)
    idx = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    return np.minimum(idx, len(w) - 1)


def _arrow(part: Strings) -> pa.Array | pa.ChunkedArray | str:
    if isinstance(part, np.ndarray):
        if part.dtype.kind in "iu":
            return pc.cast(pa.array(part), pa.string())
        return pa.array(part, type=pa.string())
    return part


def join(*parts: Strings) -> pa.Array:
    """Element-wise concatenation of string arrays and constants (null if any part is null)."""
    arrays = [_arrow(p) for p in parts]
    if not any(isinstance(a, pa.Array | pa.ChunkedArray) for a in arrays):
        raise ValueError("join needs at least one array")
    out = pc.binary_join_element_wise(*arrays, "")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers such as ``SO-0000042``: a prefix and a zero-padded number."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, padding="0"
    )
    return join(prefix, digits)


def width_for(n: int, minimum: int = 6) -> int:
    return max(minimum, len(str(max(n, 1))))


def take(vocab: Sequence[str], idx: np.ndarray) -> pa.Array:
    """``vocab[idx]`` as a string array; a negative index gives a null."""
    idx = np.asarray(idx)
    arr = pa.array(list(vocab), type=pa.string())
    if (idx < 0).any():
        return arr.take(pa.array(idx, mask=idx < 0))
    return arr.take(pa.array(idx))


def timestamps(start: dt.date, seconds: np.ndarray) -> pd.Series:
    """Local times ``seconds`` after the first day's midnight as +08:00 datetimes (NaN: NaT)."""
    sec = np.asarray(seconds, dtype=float)
    missing = np.isnan(sec)
    whole = np.where(missing, 0, np.floor(sec)).astype(np.int64)
    local = np.datetime64(start.isoformat(), "s") + whole.astype("timedelta64[s]")
    local[missing] = np.datetime64("NaT")
    return pd.Series(local).dt.tz_localize(TZ)


def iso_days(start: dt.date, days: np.ndarray) -> list[str]:
    """Calendar dates ``days`` after ``start`` as YYYY-MM-DD strings (for the ground truth)."""
    base = np.datetime64(start.isoformat(), "D")
    return [
        str(x) for x in np.datetime_as_string(base + np.asarray(days, dtype=np.int64), unit="D")
    ]


def strings(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow string array as a pandas column of the default string dtype."""
    return arr.to_pandas()  # zero-copy; pd.Series(arr) would copy element by element


def rounded(values: np.ndarray, digits: int = 4) -> list[float]:
    """Floats for the JSON ground truth, rounded so the file stays small."""
    return [float(v) for v in np.round(np.asarray(values, dtype=float), digits)]
