"""High-value rules: a planted rule comes back in plain words, with CV for tree and boosting."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from shopkeeper.customers._rules import HIGH, NOT_HIGH, high_value_rules
from shopkeeper.errors import ConfigError


def _customers(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 71, n),
            "orders": rng.integers(1, 11, n),
            "gender": rng.choice(["f", "m", "x"], n, p=[0.5, 0.45, 0.05]),
            "spend": rng.gamma(2.0, 0.3, n),
        }
    )


def _high_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if f"→ {HIGH}," in line]


def test_planted_rule_comes_back_with_whole_numbers() -> None:
    X = _customers()
    y = ((X["age"] <= 30) & (X["orders"] >= 4)).to_numpy()
    rules = high_value_rules(X, y)
    high = _high_lines(rules.text())
    assert len(high) == 1
    assert "age ≤ 30" in high[0] and "orders ≥ 4" in high[0]
    assert f"100% of {int(y.sum()):,} customers" in high[0]
    # Midpoint thresholds never leak into the text of integer columns.
    assert ".5" not in rules.text()
    assert rules.rules[0].high and rules.rules[0].share_high == 1.0
    assert sum(r.customers for r in rules.rules) == len(X)
    assert all(not r.high for r in rules.rules[1:])
    assert {r.label for r in rules.rules} == {HIGH, NOT_HIGH}


def test_repeated_conditions_merge_into_one_range() -> None:
    X = _customers()
    y = ((X["age"] >= 25) & (X["age"] <= 40)).to_numpy()
    rules = high_value_rules(X, y)
    high = [r for r in rules.rules if r.high]
    assert len(high) == 1
    assert high[0].conditions == ["25 ≤ age ≤ 40"]


def test_categorical_rule_reads_as_a_value() -> None:
    X = _customers()
    y = ((X["gender"] == "f") & (X["orders"] >= 8)).to_numpy()
    high = _high_lines(high_value_rules(X, y).text())
    assert len(high) == 1
    assert "gender = f" in high[0] and "orders ≥ 8" in high[0]


def test_continuous_thresholds_are_rounded_and_strict() -> None:
    X = _customers()
    y = (X["spend"] > 0.8).to_numpy()
    rules = high_value_rules(X, y)
    (high,) = [r for r in rules.rules if r.high]
    (condition,) = high.conditions
    assert condition.startswith("spend > 0.")
    threshold = float(condition.removeprefix("spend > "))
    assert threshold == pytest.approx(0.8, abs=0.01)
    assert len(condition.removeprefix("spend > 0.")) <= 2  # two significant digits


def test_missing_categories_are_a_value_of_their_own() -> None:
    X = _customers()
    X["gender"] = X["gender"].astype(object)
    X.loc[X.index[::5], "gender"] = None
    y = (X["gender"].isna() & (X["orders"] >= 5)).to_numpy()
    high = _high_lines(high_value_rules(X, y).text())
    assert any("gender = unknown" in line for line in high)


def test_cv_reports_both_models_on_the_same_folds() -> None:
    X = _customers()[["age", "orders", "spend"]]
    rng = np.random.default_rng(3)
    # A noisy target, so the two models and the folds differ from one another.
    y = ((X["age"] <= 35) & (X["orders"] >= 3)).to_numpy() ^ (rng.random(len(X)) < 0.1)
    cv = high_value_rules(X, y, folds=4, seed=2).cv
    assert cv["folds"] == 4
    assert sum(cv["fold_sizes"]) == len(X)
    assert cv["base_rate"] == pytest.approx(y.mean())
    for model in ("tree", "boosting"):
        for metric in ("accuracy", "balanced_accuracy", "roc_auc"):
            per = cv[model]["per_fold"][metric]
            assert len(per) == 4
            assert cv[model][metric] == pytest.approx(np.mean(per))
            assert 0.5 < cv[model][metric] <= 1.0

    # Refit both models on the folds a StratifiedKFold with the same seed makes.
    matrix = X.to_numpy(dtype=float)
    folds = StratifiedKFold(n_splits=4, shuffle=True, random_state=2).split(matrix, y)
    tree_acc, boost_acc = [], []
    for train, test in folds:
        tree = DecisionTreeClassifier(
            max_depth=3, min_samples_leaf=math.ceil(0.02 * len(train)), random_state=2
        ).fit(matrix[train], y[train])
        boost = LGBMClassifier(n_jobs=1, verbose=-1, random_state=2).fit(matrix[train], y[train])
        tree_acc.append(accuracy_score(y[test], tree.predict(matrix[test])))
        boost_acc.append(accuracy_score(y[test], boost.predict(matrix[test])))
    assert cv["tree"]["per_fold"]["accuracy"] == pytest.approx(tree_acc)
    assert cv["boosting"]["per_fold"]["accuracy"] == pytest.approx(boost_acc)


def test_to_dict_is_plain_data() -> None:
    X = _customers(1_000)
    y = (X["orders"] >= 6).to_numpy()
    rules = high_value_rules(X, y)
    data = json.loads(json.dumps(rules.to_dict()))
    assert data["features"] == ["age", "orders", "gender", "spend"]
    assert data["rules"][0]["text"] == rules.rules[0].text()
    assert data["rules"][0]["conditions"] == ["orders ≥ 6"]
    assert set(data["cv"]) >= {"tree", "boosting", "folds"}
    assert rules.text(high_only=True) == rules.rules[0].text()


def test_min_share_bounds_the_smallest_leaf() -> None:
    X = _customers(2_000)
    rng = np.random.default_rng(5)
    y = rng.random(len(X)) < 0.3
    rules = high_value_rules(X, y, min_share=0.1)
    assert min(r.customers for r in rules.rules) >= 200


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_depth": 0}, "max_depth"),
        ({"min_share": 0.0}, "min_share"),
        ({"folds": 1}, "folds"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, field: str) -> None:
    X = _customers(200)
    y = (X["orders"] >= 6).to_numpy()
    with pytest.raises(ConfigError, match=field):
        high_value_rules(X, y, **kwargs)


def test_bad_inputs_are_refused() -> None:
    X = _customers(200)
    with pytest.raises(ConfigError, match="smaller class"):
        high_value_rules(X, np.zeros(len(X), dtype=bool))
    with pytest.raises(ConfigError, match="must match"):
        high_value_rules(X, np.ones(10, dtype=bool))
    with pytest.raises(ConfigError, match="boolean"):
        high_value_rules(X, np.full(len(X), "yes"))
    holes = X.assign(age=X["age"].astype(float))
    holes.loc[3, "age"] = np.nan
    with pytest.raises(ConfigError, match="'age' has 1 missing"):
        high_value_rules(holes, (X["orders"] >= 6).to_numpy())
