"""RFM scores, the segment table and segment movement between two dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.customers._rfm import (
    NONE,
    SEGMENT_RULES,
    SEGMENTS,
    movement_summary,
    rfm_scores,
    segment_movement,
    segment_of,
    segment_sizes,
)
from shopkeeper.errors import ConfigError

NAMED = {
    "champions",
    "loyal",
    "potential loyalist",
    "new",
    "promising",
    "need attention",
    "about to sleep",
    "at risk",
    "cannot lose",
    "hibernating",
    "lost",
}


def _summary(n: int = 2_000, seed: int = 0, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": np.arange(start, start + n),
            "recency_days": rng.exponential(120, n).round(),
            # Mostly one order, as in a real shop: the ties the scores must cope with.
            "frequency": rng.geometric(0.6, n),
            "monetary": rng.gamma(2.0, 40.0, n).round(2),
        }
    )


def test_segment_table_covers_every_cell_exactly_once() -> None:
    for r in range(1, 6):
        for fm in range(1, 6):
            hits = [
                s.segment
                for s in SEGMENT_RULES
                if s.r[0] <= r <= s.r[1] and s.fm[0] <= fm <= s.fm[1]
            ]
            assert len(hits) == 1, (r, fm, hits)
            assert segment_of(r, fm) == hits[0]
    assert set(SEGMENTS) == NAMED
    assert len(SEGMENTS) == len(NAMED)


def test_segment_order_is_mean_cell_value_then_recency() -> None:
    def value(rule) -> tuple[float, float]:
        cells = [
            (r, fm)
            for r in range(rule.r[0], rule.r[1] + 1)
            for fm in range(rule.fm[0], rule.fm[1] + 1)
        ]
        return (np.mean([r + fm for r, fm in cells]), np.mean([r for r, _ in cells]))

    assert list(SEGMENTS) == [
        s.segment for s in sorted(SEGMENT_RULES, key=lambda s: value(s), reverse=True)
    ]


def test_scores_are_monotone_in_each_measure() -> None:
    scored = rfm_scores(_summary())
    for column, score, better_is_higher in (
        ("recency_days", "r_score", False),
        ("frequency", "f_score", True),
        ("monetary", "m_score", True),
    ):
        ordered = scored.sort_values(column, ascending=better_is_higher, kind="stable")
        # From worst to best value, the score never goes down.
        assert (np.diff(ordered[score].to_numpy()) >= 0).all(), score
        assert scored[score].between(1, 5).all()
    assert scored[["r_score", "m_score"]].nunique().eq(5).all()


def test_ties_share_a_score_whatever_the_row_order() -> None:
    summary = _summary()
    scored = rfm_scores(summary).set_index("customer_id")
    shuffled = rfm_scores(summary.sample(frac=1.0, random_state=7)).set_index("customer_id")
    cols = ["r_score", "f_score", "m_score", "fm_score", "segment"]
    pd.testing.assert_frame_equal(scored[cols], shuffled.loc[scored.index, cols])
    # Equal values, equal score; the one-order majority all gets the lowest F.
    assert scored.groupby("frequency")["f_score"].nunique().eq(1).all()
    assert scored.groupby("recency_days")["r_score"].nunique().eq(1).all()
    assert (scored.loc[scored["frequency"] == 1, "f_score"] == 1).all()


def test_all_equal_values_get_one_score() -> None:
    summary = pd.DataFrame(
        {"customer_id": [1, 2, 3], "recency_days": 5.0, "frequency": 1, "monetary": 10.0}
    )
    scored = rfm_scores(summary)
    assert scored[["r_score", "f_score", "m_score"]].eq(1).all().all()


def test_other_bin_counts_keep_quintile_segments() -> None:
    summary = _summary()
    three = rfm_scores(summary, bins=3)
    five = rfm_scores(summary)
    assert three["r_score"].between(1, 3).all()
    assert three["r_score"].nunique() == 3
    assert (three["segment"] == five["segment"]).all()


def test_segment_sizes_in_fixed_order_and_adding_up() -> None:
    summary = _summary()
    sizes = segment_sizes(rfm_scores(summary))
    assert list(sizes["segment"]) == list(SEGMENTS)
    assert list(sizes.columns) == [
        "segment",
        "customers",
        "share",
        "revenue",
        "revenue_share",
        "mean_recency_days",
        "mean_frequency",
        "mean_monetary",
    ]
    assert sizes["customers"].sum() == len(summary)
    assert sizes["share"].sum() == pytest.approx(1.0)
    assert sizes["revenue"].sum() == pytest.approx(summary["monetary"].sum())
    assert sizes["revenue_share"].sum() == pytest.approx(1.0)
    # A population this size and this skewed fills every segment.
    assert (sizes["customers"] > 0).all()
    champions = sizes.set_index("segment").loc["champions"]
    lost = sizes.set_index("segment").loc["lost"]
    assert champions["mean_recency_days"] < lost["mean_recency_days"]


def test_segment_sizes_keeps_empty_segments() -> None:
    summary = pd.DataFrame(
        {"customer_id": [1, 2], "recency_days": [1.0, 300.0], "frequency": 1, "monetary": 10.0}
    )
    sizes = segment_sizes(rfm_scores(summary))
    assert len(sizes) == len(SEGMENTS)
    assert sizes["customers"].sum() == 2
    assert sizes.loc[sizes["customers"] == 0, "mean_monetary"].isna().all()


def _later(summary: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """The same shop 60 days on: some customers bought again, some left, new ones came."""
    rng = np.random.default_rng(seed)
    kept = summary.sample(frac=0.9, random_state=seed).copy()
    kept["recency_days"] += 60
    again = rng.random(len(kept)) < 0.3
    kept.loc[again, "recency_days"] = rng.integers(0, 60, again.sum()).astype(float)
    kept.loc[again, "frequency"] += 1
    kept.loc[again, "monetary"] += 50.0
    new = _summary(300, seed=seed + 10, start=int(summary["customer_id"].max()) + 1)
    new["recency_days"] = new["recency_days"] % 60
    return pd.concat([kept, new], ignore_index=True)


def test_movement_counts_add_up_to_both_populations() -> None:
    before = _summary()
    after = _later(before)
    first, second = rfm_scores(before), rfm_scores(after)
    matrix = segment_movement(first, second)
    labels = [*SEGMENTS, NONE]
    assert list(matrix.index) == labels and list(matrix.columns) == labels
    counts_before = first["segment"].astype(str).value_counts()
    counts_after = second["segment"].astype(str).value_counts()
    for s in SEGMENTS:
        assert matrix.loc[s].sum() == counts_before.get(s, 0)
        assert matrix[s].sum() == counts_after.get(s, 0)
    new = set(after["customer_id"]) - set(before["customer_id"])
    left = set(before["customer_id"]) - set(after["customer_id"])
    assert matrix.loc[NONE].sum() == len(new)
    assert matrix[NONE].sum() == len(left)
    assert matrix.loc[NONE, NONE] == 0
    assert matrix.to_numpy().sum() == len(set(before["customer_id"]) | set(after["customer_id"]))

    summary = movement_summary(matrix).set_index("segment")
    parts = summary[["stayed", "moved_up", "moved_down", "left"]].sum(axis=1)
    assert (parts == summary["before"]).all()
    assert summary["new"].sum() == len(new)
    assert summary["left"].sum() == len(left)
    assert summary["after"].sum() == len(after)


def test_movement_scores_raw_summaries_on_their_own_population() -> None:
    before = _summary()
    after = _later(before)
    from_raw = segment_movement(before, after)
    from_scored = segment_movement(rfm_scores(before), rfm_scores(after))
    pd.testing.assert_frame_equal(from_raw, from_scored)


def test_movement_summary_directions() -> None:
    before = pd.DataFrame(
        {"customer_id": [1, 2, 3, 4], "segment": ["loyal", "lost", "new", "at risk"]}
    )
    after = pd.DataFrame(
        {"customer_id": [1, 2, 3, 5], "segment": ["champions", "lost", "lost", "new"]}
    )
    summary = movement_summary(segment_movement(before, after)).set_index("segment")
    assert summary.loc["loyal", "moved_up"] == 1
    assert summary.loc["lost", "stayed"] == 1
    assert summary.loc["new", "moved_down"] == 1
    assert summary.loc["new", "new"] == 1
    assert summary.loc["at risk", "left"] == 1
    assert summary.loc["lost", "after"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"frequency": [0, 1]}, "frequency"),
        ({"frequency": [1.5, 1]}, "frequency"),
        ({"recency_days": [-1.0, 2.0]}, "recency_days"),
        ({"monetary": ["a lot", 2.0]}, "monetary"),
        ({"customer_id": [1, 1]}, "customer_id"),
    ],
)
def test_bad_summaries_are_refused(change: dict, field: str) -> None:
    summary = pd.DataFrame(
        {"customer_id": [1, 2], "recency_days": [1.0, 2.0], "frequency": [1, 2], "monetary": 5.0}
    )
    for column, values in change.items():
        summary[column] = values
    with pytest.raises(ConfigError, match=field):
        rfm_scores(summary)


def test_missing_column_and_bad_bins_are_refused() -> None:
    with pytest.raises(ConfigError, match="monetary"):
        rfm_scores(pd.DataFrame({"customer_id": [1], "recency_days": [1.0], "frequency": [1]}))
    with pytest.raises(ConfigError, match="bins"):
        rfm_scores(_summary(10), bins=1)


def test_movement_refuses_unknown_segments() -> None:
    before = pd.DataFrame({"customer_id": [1], "segment": ["vip"]})
    with pytest.raises(ConfigError, match="'vip'"):
        segment_movement(before, before)
