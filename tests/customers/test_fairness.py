"""Fairness report: per-group rates, the gaps between groups and the flags they raise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.customers._fairness import AGE_BANDS, age_band, fairness_report
from shopkeeper.errors import ConfigError


def _frame(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["f", "m", "x"], n, p=[0.5, 0.45, 0.05])
    band = rng.choice(["<25", "25-34", "35-44", "55+"], n)
    truth = rng.random(n) < 0.3
    # Selection leans on truth and a little on gender, so the gaps are not zero.
    p = 0.15 + 0.5 * truth + 0.08 * (gender == "f")
    return pd.DataFrame(
        {
            "gender": gender,
            "age_band": band,
            "score": rng.random(n),
            "selected": rng.random(n) < p,
            "truth": truth,
        }
    )


def _report(frame: pd.DataFrame, **kwargs) -> dict:
    settings = {"groups": ["gender", "age_band"], "score": "score", "selected": "selected"}
    settings["truth"] = "truth"
    settings.update(kwargs)
    return fairness_report(frame, **settings)


def test_differences_match_fairlearn() -> None:
    metrics = pytest.importorskip("fairlearn.metrics")
    frame = _frame()
    report = _report(frame, min_group=1)
    for column in ("gender", "age_band"):
        got = report["groups"][column]
        dpd = metrics.demographic_parity_difference(
            frame["truth"], frame["selected"], sensitive_features=frame[column]
        )
        eod = metrics.equal_opportunity_difference(
            frame["truth"], frame["selected"], sensitive_features=frame[column]
        )
        assert got["demographic_parity_difference"] == pytest.approx(dpd, abs=1e-12)
        assert got["equal_opportunity_difference"] == pytest.approx(eod, abs=1e-12)


def test_small_groups_are_reported_but_left_out() -> None:
    metrics = pytest.importorskip("fairlearn.metrics")
    frame = _frame()
    # Ten customers, all selected: an extreme rate that must not drive the gap.
    extra = frame.head(10).assign(gender="z", selected=True, truth=True)
    frame = pd.concat([frame, extra], ignore_index=True)
    report = _report(frame, min_group=30)
    gender = report["groups"]["gender"]
    assert gender["excluded"] == ["z"]
    small = next(v for v in gender["values"] if v["group"] == "z")
    assert small == {
        "group": "z",
        "count": 10,
        "included": False,
        "mean_score": pytest.approx(frame["score"].tail(10).mean()),
        "selection_rate": 1.0,
        "positives": 10,
        "tpr": 1.0,
    }
    big = frame[frame["gender"] != "z"]
    dpd = metrics.demographic_parity_difference(
        big["truth"], big["selected"], sensitive_features=big["gender"]
    )
    eod = metrics.equal_opportunity_difference(
        big["truth"], big["selected"], sensitive_features=big["gender"]
    )
    assert gender["demographic_parity_difference"] == pytest.approx(dpd)
    assert gender["equal_opportunity_difference"] == pytest.approx(eod)
    assert gender["demographic_parity_difference"] < 0.5


def _two_groups(rate_a: float, rate_b: float, n: int = 100) -> pd.DataFrame:
    """Groups a and b with exact selection rates, truth everywhere, scores equal to selection."""
    sel_a = np.arange(n) < round(rate_a * n)
    sel_b = np.arange(n) < round(rate_b * n)
    selected = np.concatenate([sel_a, sel_b])
    return pd.DataFrame(
        {
            "group": ["a"] * n + ["b"] * n,
            "selected": selected,
            "truth": True,
            "score": selected.astype(float),
        }
    )


def test_flags_appear_only_above_the_threshold() -> None:
    calm = fairness_report(
        _two_groups(0.50, 0.45),
        groups=["group"],
        score="score",
        selected="selected",
        truth="truth",
    )
    assert calm["flags"] == []
    assert calm["groups"]["group"]["demographic_parity_difference"] == pytest.approx(0.05)

    wide = fairness_report(
        _two_groups(0.50, 0.30),
        groups=["group"],
        score="score",
        selected="selected",
        truth="truth",
    )
    assert len(wide["flags"]) == 3  # selection rate, true-positive rate and mean score
    assert wide["flags"][0] == (
        "group: selection rate ranges from 30.0% (b) to 50.0% (a), a gap of 20.0 points, "
        "above the 10-point threshold"
    )
    assert any("true-positive rate" in f for f in wide["flags"])
    assert any("mean score" in f for f in wide["flags"])

    relaxed = fairness_report(
        _two_groups(0.50, 0.30),
        groups=["group"],
        score="score",
        selected="selected",
        truth="truth",
        gap_threshold=0.25,
    )
    assert relaxed["flags"] == []


def test_scores_outside_zero_to_one_are_not_flagged() -> None:
    frame = _two_groups(0.5, 0.5).assign(score=np.r_[np.full(100, 10.0), np.full(100, 50.0)])
    report = fairness_report(frame, groups=["group"], score="score", selected=None, truth=None)
    assert report["groups"]["group"]["score_spread"] == pytest.approx(40.0)
    assert report["groups"]["group"]["demographic_parity_difference"] is None
    assert report["flags"] == []


def test_missing_group_values_form_unknown() -> None:
    frame = _frame(600)
    frame["gender"] = frame["gender"].astype(object)
    frame.loc[frame.index[:40], "gender"] = None
    report = _report(frame)
    values = report["groups"]["gender"]["values"]
    assert values[-1]["group"] == "unknown" and values[-1]["count"] == 40
    assert sum(v["count"] for v in values) == len(frame)


def test_age_bands() -> None:
    years = pd.Series([2000, 1999, 1990, 1989, 1980, 1979, 1970, 1969, None, 2030, 1800])
    bands = age_band(years, at_year=2024)
    assert list(bands) == [
        "<25",
        "25-34",
        "25-34",
        "35-44",
        "35-44",
        "45-54",
        "45-54",
        "55+",
        "unknown",
        "unknown",
        "unknown",
    ]
    assert list(bands.cat.categories) == list(AGE_BANDS)
    # The band order carries into the report.
    frame = _frame(600)
    frame["age_band"] = age_band(pd.Series(np.resize(years.to_numpy(), 600)), 2024)
    report = _report(frame, min_group=1)
    shown = [v["group"] for v in report["groups"]["age_band"]["values"]]
    assert shown == ["<25", "25-34", "35-44", "45-54", "55+", "unknown"]


def test_bad_settings_are_refused() -> None:
    frame = _frame(100)
    with pytest.raises(ConfigError, match="needs a selected column"):
        fairness_report(frame, groups=["gender"], score="score", selected=None, truth="truth")
    with pytest.raises(ConfigError, match="'region'"):
        fairness_report(frame, groups=["region"], score="score", selected=None, truth=None)
    with pytest.raises(ConfigError, match="gap_threshold"):
        _report(frame, gap_threshold=0.0)
    with pytest.raises(ConfigError, match="min_group"):
        _report(frame, min_group=0)
    holes = frame.assign(selected=frame["selected"].astype(object))
    holes.loc[0, "selected"] = None
    with pytest.raises(ConfigError, match="'selected' has 1 missing"):
        _report(holes)
    with pytest.raises(ConfigError, match="score or a selected"):
        fairness_report(frame, groups=["gender"], score=None, selected=None, truth=None)
