"""Fairness check: do scores and selections differ across customer groups?

For each group column (gender, age band, ...) and each of its values the
report gives the count, the mean score, the selection rate (share selected)
and the true-positive rate (share selected among customers whose truth is
True). Across the groups that have at least ``min_group`` members it gives:

- the demographic parity difference: highest minus lowest selection rate;
- the equal opportunity difference: highest minus lowest true-positive rate,
  over those groups that also hold at least one truth-positive customer;
- the score spread: highest minus lowest mean score.

These match fairlearn's ``demographic_parity_difference`` and
``equal_opportunity_difference`` (``method="between_groups"``) computed on
the same groups. A flag is raised for each difference strictly above
``gap_threshold``. Rates are shares, so the threshold reads in the same units
(0.1 = ten percentage points); the score spread is flagged only for scores
within 0..1, such as probabilities, since on other scales the threshold means
nothing. Missing group values form the group "unknown"; smaller groups are
reported but left out of every difference, because their rates are noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError

UNKNOWN = "unknown"
AGE_BANDS = ("<25", "25-34", "35-44", "45-54", "55+", UNKNOWN)
MAX_AGE = 120


def age_band(birth_year: pd.Series, at_year: int) -> pd.Series:
    """Age bands at ``at_year`` as an ordered categorical over :data:`AGE_BANDS`.

    Age is ``at_year - birth_year`` (whole years, birthdays ignored). A
    missing birth year, or one giving an age below 0 or above 120, is
    "unknown".
    """
    years = pd.to_numeric(birth_year, errors="coerce").astype(np.float64)
    age = at_year - years.to_numpy()
    edges = [-np.inf, 25, 35, 45, 55, np.inf]
    codes = np.digitize(age, edges[1:-1])  # 0..4 for finite ages
    bad = np.isnan(age) | (age < 0) | (age > MAX_AGE)
    codes = np.where(bad, len(AGE_BANDS) - 1, codes)
    values = pd.Categorical.from_codes(codes, categories=list(AGE_BANDS), ordered=True)
    return pd.Series(values, index=birth_year.index, name="age_band")


def _flags_of(frame: pd.DataFrame, name: str | None, kind: str) -> np.ndarray | None:
    if name is None:
        return None
    if name not in frame.columns:
        raise ConfigError(f"{kind} column {name!r} is not in the frame")
    s = frame[name]
    if s.isna().any():
        raise ConfigError(
            f"{kind} column {name!r} has {int(s.isna().sum()):,} missing values: "
            "every customer needs True or False"
        )
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    values = s.to_numpy()
    if values.dtype.kind in "iuf" and np.isin(values, (0, 1)).all():
        return values.astype(bool)
    raise ConfigError(f"{kind} column {name!r} of dtype {s.dtype}: must be boolean (or 0 and 1)")


def _score_of(frame: pd.DataFrame, name: str | None) -> np.ndarray | None:
    if name is None:
        return None
    if name not in frame.columns:
        raise ConfigError(f"score column {name!r} is not in the frame")
    s = frame[name]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise ConfigError(f"score column {name!r} of dtype {s.dtype}: must be numeric")
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any():
        raise ConfigError(
            f"score column {name!r} has {int(np.isnan(values).sum()):,} missing values: "
            "every customer needs a score"
        )
    return values


def _group_labels(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """String labels with missing as "unknown", and their display order."""
    labels = s.astype(object).where(s.notna(), UNKNOWN).astype(str).to_numpy()
    present = set(labels)
    if isinstance(s.dtype, pd.CategoricalDtype):
        order = [str(c) for c in s.cat.categories if str(c) in present]
        order += sorted(present - set(order) - {UNKNOWN})
    else:
        order = sorted(present - {UNKNOWN})
    if UNKNOWN in present and UNKNOWN not in order:
        order.append(UNKNOWN)
    return labels, order


def _spread(values: dict[str, float]) -> tuple[float, str, str] | None:
    """(max - min, argmin, argmax) over the groups, None for fewer than two."""
    if len(values) < 2:
        return None
    low = min(values, key=lambda k: values[k])
    high = max(values, key=lambda k: values[k])
    return values[high] - values[low], low, high


def _rate_flag(column: str, what: str, spread: tuple[float, str, str], values: dict) -> str:
    gap, low, high = spread
    return (
        f"{column}: {what} ranges from {values[low]:.1%} ({low}) to {values[high]:.1%} "
        f"({high}), a gap of {gap * 100:.1f} points"
    )


def fairness_report(
    frame: pd.DataFrame,
    *,
    groups: Sequence[str],
    score: str | None,
    selected: str | None,
    truth: str | None,
    gap_threshold: float = 0.1,
    min_group: int = 30,
) -> dict[str, Any]:
    """Per-group rates and the gaps between groups, with a sentence for each gap too wide.

    ``frame`` has one row per customer; ``groups`` names the columns to split
    by; ``score`` a numeric column, ``selected`` and ``truth`` boolean ones
    (``truth`` needs ``selected``: the true-positive rate is the share of
    truth-positive customers who were selected). Returns::

        {"settings": {...},
         "groups": {column: {"values": [{"group", "count", "included",
                                         "mean_score", "selection_rate",
                                         "positives", "tpr"}, ...],
                             "excluded": [small groups],
                             "demographic_parity_difference": float | None,
                             "equal_opportunity_difference": float | None,
                             "score_spread": float | None}},
         "flags": [sentence, ...]}

    A figure that does not apply (no score given, fewer than two groups large
    enough) is None. Raises ConfigError for a missing column, missing or
    non-boolean selections and truths, a missing or non-numeric score, or
    settings out of range.
    """
    if isinstance(groups, str) or not groups:
        raise ConfigError(f"groups {groups!r}: must be a list of one or more column names")
    missing = [g for g in groups if g not in frame.columns]
    if missing:
        raise ConfigError(f"group column(s) {', '.join(map(repr, missing))} not in the frame")
    if score is None and selected is None:
        raise ConfigError("fairness_report needs a score or a selected column to compare")
    if truth is not None and selected is None:
        raise ConfigError(
            f"truth {truth!r} needs a selected column: the true-positive rate is the share "
            "selected among truth-positive customers"
        )
    if not 0 < gap_threshold < 1:
        raise ConfigError(f"gap_threshold {gap_threshold!r}: must be above 0 and below 1")
    if isinstance(min_group, bool) or not isinstance(min_group, int) or min_group < 1:
        raise ConfigError(f"min_group {min_group!r}: must be a whole number, at least 1")
    scores = _score_of(frame, score)
    chosen = _flags_of(frame, selected, "selected")
    actual = _flags_of(frame, truth, "truth")
    flag_scores = scores is not None and bool(((scores >= 0) & (scores <= 1)).all())

    report: dict[str, Any] = {
        "settings": {
            "groups": list(groups),
            "score": score,
            "selected": selected,
            "truth": truth,
            "gap_threshold": gap_threshold,
            "min_group": min_group,
            "customers": len(frame),
        },
        "groups": {},
        "flags": [],
    }
    flags: list[str] = report["flags"]
    for column in groups:
        labels, order = _group_labels(frame[column])
        rows = []
        sel_rates: dict[str, float] = {}
        tprs: dict[str, float] = {}
        means: dict[str, float] = {}
        for value in order:
            members = labels == value
            count = int(members.sum())
            included = count >= min_group
            row: dict[str, Any] = {"group": value, "count": count, "included": included}
            if scores is not None:
                row["mean_score"] = float(scores[members].mean())
                if included:
                    means[value] = row["mean_score"]
            if chosen is not None:
                row["selection_rate"] = float(chosen[members].mean())
                if included:
                    sel_rates[value] = row["selection_rate"]
            if actual is not None and chosen is not None:
                positives = members & actual
                row["positives"] = int(positives.sum())
                row["tpr"] = float(chosen[positives].mean()) if positives.any() else None
                if included and row["tpr"] is not None:
                    tprs[value] = row["tpr"]
            rows.append(row)

        dpd = _spread(sel_rates)
        eod = _spread(tprs)
        spread = _spread(means)
        report["groups"][column] = {
            "values": rows,
            "excluded": [r["group"] for r in rows if not r["included"]],
            "demographic_parity_difference": dpd[0] if dpd else None,
            "equal_opportunity_difference": eod[0] if eod else None,
            "score_spread": spread[0] if spread else None,
        }
        above = f", above the {gap_threshold * 100:g}-point threshold"
        if dpd and dpd[0] > gap_threshold:
            flags.append(_rate_flag(column, "selection rate", dpd, sel_rates) + above)
        if eod and eod[0] > gap_threshold:
            flags.append(
                _rate_flag(column, "true-positive rate (selected among truth)", eod, tprs) + above
            )
        if spread and flag_scores and spread[0] > gap_threshold:
            gap, low, high = spread
            flags.append(
                f"{column}: mean {score} ranges from {means[low]:.2f} ({low}) to "
                f"{means[high]:.2f} ({high}), a gap of {gap:.2f}, above the "
                f"{gap_threshold:g} threshold"
            )
    return report
