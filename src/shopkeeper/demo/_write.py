"""Writing a demo shop to a folder: one CSV per table plus the ground truth.

CSV conventions (what ingest expects): UTF-8 without BOM, a header row,
``\\n`` line ends, ISO 8601 datetimes with their +08:00 offset, dates as
YYYY-MM-DD, booleans as ``true``/``false``, empty cells for nulls.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shopkeeper.contract import TABLES, Kind
from shopkeeper.demo._generator import DemoShop, Progress
from shopkeeper.demo._images import write_images

log = logging.getLogger(__name__)

TRUTH_FILE = "ground_truth.json"


def write_shop(
    shop: DemoShop, folder: str | Path, progress: Progress | None = None
) -> dict[str, int]:
    """Write ``<table>.csv`` for every contract table, the extras and ``ground_truth.json``.

    The fashion products' photos go to ``images/`` and are listed, by paths
    relative to ``folder``, in ``product_images.csv`` (neither is written, and
    an earlier shop's are removed, when the shop has no images). Returns the
    number of rows written per contract table.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    kinds = {t.name: {c.name: c.kind for c in t.columns} for t in TABLES}
    rows: dict[str, int] = {}
    files = [*shop.tables.items(), *shop.extras.items()]
    write_images(shop.images, out)
    listing = out / "product_images.csv"
    if shop.images is not None:
        files.insert(1, ("product_images", shop.images.frame()))
    elif listing.exists():
        # An earlier shop's listing would name photos (and products) this one lacks.
        listing.unlink()
    for i, (name, frame) in enumerate(files):
        _write_csv(frame, out / f"{name}.csv", kinds.get(name, {}))
        if name in kinds:
            rows[name] = len(frame)
        if progress is not None:
            progress("write", i + 1, len(files))
    text = json.dumps(shop.truth, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    (out / TRUTH_FILE).write_text(text + "\n", encoding="utf-8")
    log.info("wrote demo shop to %s", out)
    return rows


def _as_arrow(frame: pd.DataFrame, kinds: dict[str, Kind]) -> pa.Table:
    """The frame with datetimes, dates and booleans already in their written form."""
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
            local = s.dt.tz_localize(None) if isinstance(s.dtype, pd.DatetimeTZDtype) else s
            arr = pa.array(local.to_numpy().astype("datetime64[s]"))
            text = pc.cast(arr, pa.string())  # "YYYY-MM-DD HH:MM:SS"
            if kinds.get(name) is Kind.DATE:
                cols[name] = pc.utf8_slice_codeunits(text, 0, 10)
            else:
                offset = _offset(s)
                cols[name] = pc.binary_join_element_wise(
                    pc.utf8_slice_codeunits(text, 0, 10),
                    "T",
                    pc.utf8_slice_codeunits(text, 11, 19),
                    offset,
                    "",
                )
        elif pd.api.types.is_bool_dtype(s.dtype):
            values = s.to_numpy(dtype=object, na_value=None)
            cols[name] = (
                pa.array(
                    [None if v is None else ("true" if v else "false") for v in values],
                    type=pa.string(),
                )
                if s.isna().any()
                else pc.if_else(pa.array(s.to_numpy(dtype=bool)), "true", "false")
            )
        else:
            cols[name] = pa.array(s, from_pandas=True)
    return pa.table(cols)


def _offset(s: pd.Series) -> str:
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        return ""
    probe = pd.Timestamp("2000-01-01", tz=s.dtype.tz)
    minutes = int(probe.utcoffset().total_seconds() // 60)
    if minutes == 0:
        return "Z"
    sign = "+" if minutes > 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _write_csv(frame: pd.DataFrame, path: Path, kinds: dict[str, Kind]) -> None:
    table = _as_arrow(frame, kinds)
    header = ",".join(table.column_names) + "\n"
    buf = io.BytesIO()
    try:
        # Arrow writes fast but only unquoted; it refuses values that would
        # need quotes (commas, quotes, line breaks), and pandas takes those.
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        body = buf.getvalue()
    except pa.ArrowInvalid:
        body = (
            table.to_pandas()
            .to_csv(index=False, header=False, lineterminator="\n", float_format=None)
            .encode("utf-8")
        )
    with path.open("wb") as fh:
        fh.write(header.encode("utf-8"))
        fh.write(body)


__all__ = ["TRUTH_FILE", "write_shop"]
del np
