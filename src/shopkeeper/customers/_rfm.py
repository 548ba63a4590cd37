"""RFM segmentation: recency, frequency and monetary scores, segments and their movement.

Input is one row per customer who has ordered at least once: ``customer_id``,
``recency_days`` (days since the last order at the reference date),
``frequency`` (orders, at least 1) and ``monetary`` (total spend).

Scores run from 1 to ``bins``, higher is better (recent, frequent, big
spender). A customer's score is ``1 + floor(bins * share of customers strictly
worse)``: equal values always share a score, whatever the row order, and
heavy ties sink to the lowest score they can honestly claim. With frequency
mostly 1, every one-order customer gets F = 1 and the repeat buyers spread
over the upper scores; some middle scores may then stay empty.

Segments come from R and FM on a 1..5 scale, where FM is the average of the F
and M scores rounded half up (``(f + m + 1) // 2``). Frequency alone would
leave the middle scores empty in a shop where most customers order once;
averaging with spend separates one-order customers by what they spent. When
``bins`` is not 5 the 1..5 scores are computed separately for the segment.
:data:`SEGMENT_RULES` maps every one of the 25 (R, FM) cells to exactly one
segment. Scores are relative
to the population they are computed on, so comparing two dates means scoring
each date's own customers: a customer can change segment because others
changed, not only because of what they did.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError

SEGMENT_SCALE = 5
NONE = "none"
REQUIRED = ("customer_id", "recency_days", "frequency", "monetary")


class SegmentRule(NamedTuple):
    """One segment: inclusive R and FM score ranges on the 1..5 scale, and what it means."""

    segment: str
    r: tuple[int, int]
    fm: tuple[int, int]
    description: str


# Ordered by value, best first: the mean R + FM over the segment's cells, ties to the
# more recent segment. The same order is the display order and decides "moved up".
SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("champions", (5, 5), (4, 5), "bought very recently, buy often and spend most"),
    SegmentRule("loyal", (3, 4), (4, 5), "buy often and spend well, bought fairly recently"),
    SegmentRule("potential loyalist", (4, 5), (2, 3), "recent, middling orders and spend so far"),
    SegmentRule("cannot lose", (1, 2), (5, 5), "were among the most valuable, gone quiet"),
    SegmentRule("new", (5, 5), (1, 1), "bought very recently, little so far"),
    SegmentRule("need attention", (3, 3), (2, 3), "middling value, last order a while ago"),
    SegmentRule("promising", (4, 4), (1, 1), "bought recently, little so far"),
    SegmentRule("at risk", (1, 2), (3, 4), "good value once, not seen for a long time"),
    SegmentRule("about to sleep", (3, 3), (1, 1), "little bought, last order a while ago"),
    SegmentRule("hibernating", (2, 2), (1, 2), "little bought, long ago"),
    SegmentRule("lost", (1, 1), (1, 2), "little bought, the longest ago"),
)
SEGMENTS: tuple[str, ...] = tuple(rule.segment for rule in SEGMENT_RULES)


def _segment_grid() -> np.ndarray:
    """grid[r - 1, fm - 1] = index into SEGMENT_RULES."""
    grid = np.full((SEGMENT_SCALE, SEGMENT_SCALE), -1, dtype=np.int64)
    for i, rule in enumerate(SEGMENT_RULES):
        grid[rule.r[0] - 1 : rule.r[1], rule.fm[0] - 1 : rule.fm[1]] = i
    return grid


_GRID = _segment_grid()


def _check_summary(summary: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in summary.columns]
    if missing:
        raise ConfigError(
            f"RFM summary lacks column(s) {', '.join(missing)}; it needs {', '.join(REQUIRED)}"
        )
    for column in REQUIRED[1:]:
        bad = pd.to_numeric(summary[column], errors="coerce").isna()
        if bad.any():
            first = summary[column][bad].iloc[0]
            raise ConfigError(f"RFM summary {column} {first!r}: every value must be a number")
    freq = summary["frequency"].to_numpy(dtype=np.float64)
    if (freq < 1).any() or (freq != np.floor(freq)).any():
        first = freq[(freq < 1) | (freq != np.floor(freq))][0]
        raise ConfigError(
            f"RFM summary frequency {first:g}: must be a whole number of orders, at least 1"
        )
    recency = summary["recency_days"].to_numpy(dtype=np.float64)
    if (recency < 0).any():
        raise ConfigError(
            f"RFM summary recency_days {recency[recency < 0][0]:g}: must be 0 or more "
            "(days before the reference date)"
        )
    dup = summary["customer_id"].duplicated()
    if dup.any():
        raise ConfigError(
            f"RFM summary customer_id {summary['customer_id'][dup].iloc[0]!r}: "
            "appears more than once; one row per customer"
        )


def _scores(goodness: np.ndarray, bins: int) -> np.ndarray:
    """1 + floor(bins * share strictly worse); ties share a score by construction."""
    n = len(goodness)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    worse = pd.Series(goodness).rank(method="min").to_numpy() - 1.0
    return (1 + np.floor(bins * worse / n)).astype(np.int64)


def rfm_scores(summary: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """A copy of ``summary`` with scores and segment added.

    Added columns: ``r_score``, ``f_score``, ``m_score`` (1..bins),
    ``fm_score`` (1..5, the value axis of the segment table) and ``segment``
    (a categorical over :data:`SEGMENTS`).

    Raises ConfigError for a missing column, a non-numeric or missing value, a
    frequency below 1 or not whole, a negative recency, a repeated customer or
    ``bins`` below 2.
    """
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
        raise ConfigError(f"bins {bins!r}: must be a whole number, at least 2")
    _check_summary(summary)
    out = summary.copy()
    recency = -out["recency_days"].to_numpy(dtype=np.float64)
    frequency = out["frequency"].to_numpy(dtype=np.float64)
    monetary = out["monetary"].to_numpy(dtype=np.float64)
    out["r_score"] = _scores(recency, int(bins))
    out["f_score"] = _scores(frequency, int(bins))
    out["m_score"] = _scores(monetary, int(bins))
    if bins == SEGMENT_SCALE:
        r5, f5, m5 = (out[c].to_numpy() for c in ("r_score", "f_score", "m_score"))
    else:
        r5, f5, m5 = (_scores(v, SEGMENT_SCALE) for v in (recency, frequency, monetary))
    fm5 = (f5 + m5 + 1) // 2
    out["fm_score"] = fm5
    codes = _GRID[r5 - 1, fm5 - 1] if len(out) else np.zeros(0, dtype=np.int64)
    out["segment"] = pd.Categorical.from_codes(codes, categories=list(SEGMENTS))
    return out


def segment_of(r: int, fm: int) -> str:
    """The segment of one (R, FM) cell on the 1..5 scale."""
    if not (1 <= r <= SEGMENT_SCALE and 1 <= fm <= SEGMENT_SCALE):
        raise ConfigError(f"RFM cell ({r}, {fm}): R and FM scores must be between 1 and 5")
    return SEGMENTS[_GRID[r - 1, fm - 1]]


def segment_sizes(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per segment, in :data:`SEGMENTS` order, empty segments included.

    Columns: ``segment``, ``customers``, ``share`` (of customers),
    ``revenue`` (sum of monetary), ``revenue_share``, ``mean_recency_days``,
    ``mean_frequency`` and ``mean_monetary`` (NaN for an empty segment).
    """
    if "segment" not in scored.columns:
        raise ConfigError("segment_sizes needs a 'segment' column; score with rfm_scores first")
    seg = pd.Categorical(scored["segment"], categories=list(SEGMENTS))
    grouped = scored.assign(segment=seg).groupby("segment", observed=False)
    table = pd.DataFrame(
        {
            "customers": grouped.size().astype(np.int64),
            "revenue": grouped["monetary"].sum().astype(np.float64),
            "mean_recency_days": grouped["recency_days"].mean(),
            "mean_frequency": grouped["frequency"].mean(),
            "mean_monetary": grouped["monetary"].mean(),
        }
    ).reindex(list(SEGMENTS))
    total = int(table["customers"].sum())
    revenue = float(table["revenue"].sum())
    table.insert(1, "share", table["customers"] / total if total else 0.0)
    table.insert(3, "revenue_share", table["revenue"] / revenue if revenue else 0.0)
    return table.rename_axis("segment").reset_index().astype({"segment": str})


def _segments_by_customer(frame: pd.DataFrame) -> pd.Series:
    scored = frame if "segment" in frame.columns else rfm_scores(frame)
    if "customer_id" not in scored.columns:
        raise ConfigError("segment_movement needs a 'customer_id' column at both dates")
    if scored["customer_id"].duplicated().any():
        first = scored["customer_id"][scored["customer_id"].duplicated()].iloc[0]
        raise ConfigError(
            f"segment_movement customer_id {first!r}: appears more than once at one date"
        )
    segments = scored["segment"].astype(object)
    unknown = ~segments.isin(SEGMENTS)
    if unknown.any():
        raise ConfigError(
            f"segment_movement segment {segments[unknown].iloc[0]!r}: not one of "
            f"{', '.join(SEGMENTS)}"
        )
    return pd.Series(segments.astype(str).to_numpy(), index=scored["customer_id"])


def segment_movement(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Customers counted by segment at the first date (rows) and the second (columns).

    Each frame is either scored (has ``segment``) or an RFM summary, which is
    then scored on its own population. Row ``none`` holds customers only
    present at the second date (new), column ``none`` those only present at
    the first (left). Row sums give the first population plus the new ones,
    column sums the second population plus the ones who left.
    """
    first = _segments_by_customer(before)
    second = _segments_by_customer(after)
    joined = pd.concat([first.rename("before"), second.rename("after")], axis=1, join="outer")
    joined = joined.fillna(NONE)
    labels = [*SEGMENTS, NONE]
    matrix = pd.crosstab(
        pd.Categorical(joined["before"], categories=labels),
        pd.Categorical(joined["after"], categories=labels),
        dropna=False,
    )
    matrix = matrix.reindex(index=labels, columns=labels, fill_value=0).astype(np.int64)
    matrix.index.name = "before"
    matrix.columns.name = "after"
    return matrix


def movement_summary(movement: pd.DataFrame) -> pd.DataFrame:
    """Per segment, from a :func:`segment_movement` matrix: where its customers went.

    Columns: ``segment``; ``before`` (customers in it at the first date) split
    into ``stayed``, ``moved_up`` (to a segment earlier in :data:`SEGMENTS`),
    ``moved_down`` (later) and ``left`` (absent at the second date); then
    ``new`` (in it at the second date, absent at the first) and ``after``
    (customers in it at the second date). ``before = stayed + moved_up +
    moved_down + left``.
    """
    labels = [*SEGMENTS, NONE]
    m = movement.reindex(index=labels, columns=labels, fill_value=0).to_numpy(dtype=np.int64)
    k = len(SEGMENTS)
    core = m[:k, :k]
    rows = []
    for i, segment in enumerate(SEGMENTS):
        rows.append(
            {
                "segment": segment,
                "before": int(m[i, :].sum()),
                "stayed": int(core[i, i]),
                "moved_up": int(core[i, :i].sum()),
                "moved_down": int(core[i, i + 1 :].sum()),
                "left": int(m[i, k]),
                "new": int(m[k, i]),
                "after": int(m[:, i].sum()),
            }
        )
    return pd.DataFrame(rows)
