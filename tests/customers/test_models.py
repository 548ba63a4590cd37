"""Propensity models: planted signals are recovered, probabilities are honest, folds are shared."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from shopkeeper.customers._models import (
    Calibration,
    PropensityModel,
    classification_report,
    cross_validate,
    read_online_shoppers,
)
from shopkeeper.errors import SourceError

# Planted log-odds weights on standardised inputs: strong +, medium -, weak +, none.
WEIGHTS = {"visits": 2.0, "days_since": -1.0, "basket": 0.5, "noise": 0.0}


def planted(n: int = 3000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows whose outcome follows a known logistic model, plus a categorical channel."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({name: rng.standard_normal(n) for name in WEIGHTS})
    channel = rng.choice(["ads", "email", "direct"], size=n)
    X["channel"] = pd.Series(channel, dtype="category")
    logit = -1.0 + sum(w * X[name] for name, w in WEIGHTS.items())
    logit = logit + np.where(channel == "email", 1.0, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return planted()


@pytest.fixture(scope="module")
def blend(data: tuple[pd.DataFrame, np.ndarray]) -> PropensityModel:
    X, y = data
    return PropensityModel("blend", folds=3).fit(X, y)


def test_logistic_coefficients_recover_the_planted_weights(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    table = PropensityModel("logistic").fit(X, y).coefficients().set_index("feature")
    weight = table["weight"]
    assert table.index[0] == "(intercept)"
    # Standard-normal inputs: standardising barely rescales, so the weights come back.
    for name, planted_w in WEIGHTS.items():
        assert weight[name] == pytest.approx(planted_w, abs=0.2), name
    assert weight["visits"] > weight["basket"] > weight["noise"] > weight["days_since"]
    assert weight["channel=email"] - weight["channel=ads"] == pytest.approx(1.0, abs=0.3)
    assert np.allclose(table["odds_ratio"], np.exp(weight))


def test_logistic_uses_log_scale_for_skewed_counts() -> None:
    rng = np.random.default_rng(3)
    views = rng.poisson(np.exp(rng.normal(1.0, 1.0, 2000)))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(np.log1p(views) - 2)))).astype(int)
    X = pd.DataFrame({"views": views, "noise": rng.standard_normal(2000)})
    names = set(PropensityModel("logistic").fit(X, y).coefficients()["feature"])
    assert {"log1p(views)", "noise"} <= names


def test_boosting_has_no_coefficients_but_has_drivers(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    model = PropensityModel("boosting", folds=3).fit(X, y)
    with pytest.raises(ValueError, match="drivers"):
        model.coefficients()
    drivers = model.drivers(X, y, n_repeats=2)
    assert list(drivers.columns) == ["feature", "importance_mean", "importance_std"]
    assert drivers["feature"].iloc[0] == "visits"
    assert drivers.set_index("feature")["importance_mean"]["noise"] < 0.01
    assert drivers["importance_mean"].is_monotonic_decreasing


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid"])
def test_probabilities_are_calibrated_out_of_sample(
    data: tuple[pd.DataFrame, np.ndarray], calibration: Calibration
) -> None:
    X, y = data
    fresh_X, fresh_y = planted(n=6000, seed=2)
    model = PropensityModel("boosting", folds=3, calibration=calibration).fit(X, y)
    report = classification_report(fresh_y, model.predict_proba(fresh_X))
    assert report["ece"] < 0.03
    assert abs(report["brier_gap"]) < 0.01
    assert report["roc_auc"] > 0.85


def test_blend_is_at_least_as_good_as_its_parts(
    data: tuple[pd.DataFrame, np.ndarray], blend: PropensityModel
) -> None:
    X, y = data
    fresh_X, fresh_y = planted(n=6000, seed=2)
    auc = classification_report(fresh_y, blend.predict_proba(fresh_X))["roc_auc"]
    # The truth is logistic, so the blend must not lose to the logistic part alone by much.
    alone = PropensityModel("logistic", folds=3).fit(X, y).predict_proba(fresh_X)
    assert auc >= classification_report(fresh_y, alone)["roc_auc"] - 0.005
    assert (blend.stack_weights_ >= 0).all() and blend.stack_weights_.sum() > 0


def test_report_of_a_calibrated_score() -> None:
    rng = np.random.default_rng(4)
    p = rng.beta(1, 4, 50_000)
    y = (rng.random(p.size) < p).astype(int)
    report = classification_report(y, p)
    assert report["n"] == 50_000
    assert abs(report["brier_gap"]) < 0.002
    assert report["ece"] < 0.01
    assert report["prevalence"] == pytest.approx(p.mean(), abs=0.005)
    bins = report["calibration"]
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 50_000
    for b in bins:
        assert b["observed_rate"] == pytest.approx(b["mean_predicted"], abs=0.02)
    # An over-confident version of the same score is penalised.
    sharp = np.clip(2 * p, 0, 1)
    assert classification_report(y, sharp)["brier_gap"] > 0.01


def test_deciles_are_monotone_on_an_informative_score() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, 20_000)
    y = (rng.random(p.size) < p).astype(int)
    deciles = classification_report(y, p)["deciles"]
    assert [d["decile"] for d in deciles] == list(range(1, 11))
    rates = [d["observed_rate"] for d in deciles]
    assert all(a > b for a, b in itertools.pairwise(rates))
    assert deciles[0]["lift"] == pytest.approx(rates[0] / y.mean())
    assert sum(d["customers"] for d in deciles) == 20_000


def test_report_handles_a_single_class() -> None:
    report = classification_report(np.zeros(5, dtype=int), np.full(5, 0.1))
    assert report["roc_auc"] is None and report["pr_auc"] is None
    assert report["brier"] == pytest.approx(0.01)


class Recorder:
    """Remembers the row labels it was trained on; scores by a fixed column."""

    seen: list[list[int]]

    def __init__(self, seen: list[list[int]]) -> None:
        self.seen = seen

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Recorder:
        self.seen.append(sorted(X.index))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = 1 / (1 + np.exp(-X["visits"].to_numpy()))
        return np.column_stack([1 - p, p])


def test_cross_validate_gives_every_model_the_same_folds(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    first: list[list[int]] = []
    second: list[list[int]] = []
    a = cross_validate(lambda: Recorder(first), X, y, folds=4, seed=7)
    numeric = X.drop(columns="channel")
    b = cross_validate(lambda: LogisticRegression(), numeric, y, folds=4, seed=7)
    c = cross_validate(lambda: Recorder(second), X, y, folds=4, seed=7)
    assert first == second and len(first) == 4
    assert np.array_equal(a["fold"], b["fold"]) and np.array_equal(a["fold"], c["fold"])
    assert sorted(np.bincount(a["fold"])) == sorted(len(X) - len(s) for s in first)
    for k, rows in enumerate(first):
        assert set(rows) == set(np.flatnonzero(a["fold"] != k))
    # Two-column predict_proba is read as P(y=1); metrics are consistent with the OOF.
    assert a["pooled"]["roc_auc"] > 0.75
    assert b["mean"]["roc_auc"] > a["mean"]["roc_auc"]
    assert len(b["per_fold"]) == 4 and b["sd"]["brier"] > 0
    other = cross_validate(lambda: Recorder([]), X, y, folds=4, seed=8)
    assert not np.array_equal(a["fold"], other["fold"])


def test_cross_validate_accepts_one_dimensional_probabilities(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = data
    result = cross_validate(lambda: PropensityModel("logistic", folds=3), X, y, folds=3)
    assert not np.isnan(result["oof"]).any()
    assert result["mean"]["roc_auc"] > 0.8
    assert result["fit_seconds"] > 0


def test_model_pickles_and_predicts_the_same(
    data: tuple[pd.DataFrame, np.ndarray], blend: PropensityModel, tmp_path: Path
) -> None:
    X, _ = data
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(blend))
    loaded = pickle.loads(path.read_bytes())
    assert np.array_equal(loaded.predict_proba(X), blend.predict_proba(X))


def test_unknown_categories_and_missing_values_are_scored(blend: PropensityModel) -> None:
    X, _ = planted(n=50, seed=9)
    X["channel"] = X["channel"].astype(object)
    X.loc[0, "channel"] = "tiktok"  # never seen in training
    X.loc[1, "visits"] = np.nan
    p = blend.predict_proba(X)
    assert p.shape == (50,) and np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    with pytest.raises(ValueError, match="visits"):
        blend.predict_proba(X.drop(columns="visits"))


def test_fit_rejects_bad_targets(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    with pytest.raises(ValueError, match="0/1"):
        PropensityModel().fit(X, y * 2)
    with pytest.raises(ValueError, match="each class"):
        PropensityModel().fit(X.iloc[:20], np.r_[np.ones(2), np.zeros(18)].astype(int))


SHOPPERS_HEADER = (
    "Administrative,Administrative_Duration,Informational,Informational_Duration,"
    "ProductRelated,ProductRelated_Duration,BounceRates,ExitRates,PageValues,SpecialDay,"
    "Month,OperatingSystems,Browser,Region,TrafficType,VisitorType,Weekend,Revenue"
)
SHOPPERS_ROWS = [
    "0,0,0,0,1,0,0.2,0.2,0,0,Feb,1,1,1,1,Returning_Visitor,FALSE,FALSE",
    "2,64.5,0,0,2,64,0,0.1,12.5,0,Nov,2,2,1,2,New_Visitor,TRUE,TRUE",
]


def test_online_shoppers_reader_parses_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "shoppers.csv"
    path.write_text("\n".join([SHOPPERS_HEADER, *SHOPPERS_ROWS]) + "\n")
    X, y = read_online_shoppers(path)
    assert y.tolist() == [0, 1]
    assert X.shape == (2, 17) and "Revenue" not in X
    assert isinstance(X["Month"].dtype, pd.CategoricalDtype)
    assert X["Weekend"].tolist() == ["FALSE", "TRUE"]
    assert X["PageValues"].tolist() == [0.0, 12.5]


def test_online_shoppers_reader_names_the_file_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "no_target.csv"
    header = SHOPPERS_HEADER.rsplit(",", 1)[0]
    path.write_text("\n".join([header, *(r.rsplit(",", 1)[0] for r in SHOPPERS_ROWS)]) + "\n")
    with pytest.raises(SourceError) as err:
        read_online_shoppers(path)
    assert "no_target.csv" in str(err.value) and "Revenue" in str(err.value)
    assert err.value.problems[0].line == 1


def test_online_shoppers_reader_names_the_bad_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    bad_row = SHOPPERS_ROWS[1].replace(",12.5,", ",lots,")
    path.write_text("\n".join([SHOPPERS_HEADER, SHOPPERS_ROWS[0], bad_row]) + "\n")
    with pytest.raises(SourceError, match=r"bad\.csv line 3: PageValues value 'lots'"):
        read_online_shoppers(path)
    with pytest.raises(SourceError, match="not found"):
        read_online_shoppers(tmp_path / "absent.csv")


@pytest.mark.realdata
def test_blend_on_online_shoppers(shared_data: Path) -> None:
    path = shared_data / "online_shoppers" / "online_shoppers_intention.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    X, y = read_online_shoppers(path)
    assert len(X) == 12_330 and y.mean() == pytest.approx(0.1547, abs=1e-4)
    idx = np.arange(len(y))
    train, test = train_test_split(idx, train_size=0.3, stratify=y, random_state=0)
    model = PropensityModel("blend").fit(X.iloc[train], y[train])
    report = classification_report(y[test], model.predict_proba(X.iloc[test]))
    assert report["roc_auc"] > 0.88
    assert report["brier"] < 0.085
    assert report["deciles"][0]["lift"] > 4
