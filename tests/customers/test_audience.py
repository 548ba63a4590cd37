"""Audiences: conditions read as written, and never a customer without marketing consent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopkeeper.customers import build_audience, make_condition, parse_condition
from shopkeeper.errors import ConfigError


def _scores(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "propensity": rng.random(n),
            "recency_days": rng.integers(0, 200, n).astype(float),
            "clv": rng.gamma(2, 50, n),
            "segment": rng.choice(["champions", "at risk", "lost"], n),
            "high_value": rng.random(n) < 0.2,
        },
        index=pd.Index([f"C{i:04d}" for i in range(n)], name="customer_id"),
    )


def test_conditions_parse_as_written() -> None:
    assert parse_condition("propensity top 20%").to_dict() == {
        "field": "propensity",
        "op": "top",
        "value": 20.0,
    }
    assert parse_condition("recency_days >= 30").value == 30.0
    assert parse_condition("segment in at risk, cannot lose").value == ("at risk", "cannot lose")
    assert parse_condition("high_value = true").value is True
    assert parse_condition("segment = champions").value == "champions"
    assert str(parse_condition("clv bottom 5%")) == "clv bottom 5%"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("propensity", "FIELD OP VALUE"),
        ("propensity top lots", "percentage like 20%"),
        ("propensity top 120%", r"\(0, 100\]"),
        ("segment > champions", "needs a number"),
    ],
)
def test_bad_conditions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_condition(text)


def test_unknown_fields_and_types_are_refused() -> None:
    scores = _scores()
    consent = pd.Series(True, index=scores.index)
    with pytest.raises(ConfigError, match="unknown field 'spendd'"):
        build_audience(scores, ["spendd > 3"], consent)
    with pytest.raises(ConfigError, match="segment is not a number"):
        build_audience(scores, [make_condition("segment", "top", "10%")], consent)


def test_all_conditions_hold_and_top_is_over_all_customers() -> None:
    scores = _scores()
    consent = pd.Series(True, index=scores.index)
    result = build_audience(scores, ["propensity top 20%", "recency_days >= 30"], consent)
    cut = scores["propensity"].sort_values(ascending=False).iloc[39]
    expected = scores[(scores["propensity"] >= cut) & (scores["recency_days"] >= 30)]
    assert set(result.members.index) == set(expected.index)
    assert result.matched == len(expected) and result.without_consent == 0
    assert result.summary["expected_value"] == pytest.approx(expected["clv"].sum())
    assert result.summary["expected_buyers"] == pytest.approx(expected["propensity"].sum())
    # highest value first, and the CSV carries the members in that order
    assert list(result.members["clv"]) == sorted(result.members["clv"], reverse=True)
    lines = result.to_csv(["clv"]).splitlines()
    assert lines[0] == "customer_id,clv" and len(lines) == result.size + 1


@settings(max_examples=40, deadline=None)
@given(
    consent=st.lists(st.sampled_from([True, False, None]), min_size=60, max_size=60),
    share=st.integers(min_value=1, max_value=100),
)
def test_never_a_member_without_marketing_consent(consent: list[bool | None], share: int) -> None:
    scores = _scores(60, seed=share)
    agreed = pd.Series(consent, index=scores.index, dtype="boolean")
    result = build_audience(scores, [f"propensity top {share}%"], agreed)
    members = set(result.members.index)
    assert members <= set(agreed[agreed.fillna(False)].index)  # missing is not a yes
    assert result.matched - result.without_consent == result.size


def test_customers_unknown_to_the_consent_list_are_left_out() -> None:
    scores = _scores(10)
    consent = pd.Series(True, index=scores.index[:5])  # the rest: no record at all
    result = build_audience(scores, [], consent)
    assert set(result.members.index) == set(scores.index[:5])
    assert result.without_consent == 5
