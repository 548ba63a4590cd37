"""Lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma against published figures and the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.customers import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    holdout_check,
    lifetime_value,
    rfm_summary,
)
from shopkeeper.errors import ConfigError
from tests.conftest import SHARED_DATA

CDNOW = SHARED_DATA / "cdnow"


def _cdnow_transactions() -> pd.DataFrame:
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
    )
    raw["at"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw


needs_cdnow = pytest.mark.skipif(not CDNOW.exists(), reason="needs ../shared/data/cdnow")


@pytest.mark.realdata
@needs_cdnow
def test_bgnbd_matches_the_published_cdnow_parameters() -> None:
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    model = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    p = model.params
    # Fader, Hardie and Lee (2005): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4
    assert (round(p["r"], 3), round(p["alpha"], 3), round(p["a"], 3), round(p["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert model.info is not None
    assert model.info.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    assert model.log_likelihood(summary["frequency"], summary["recency"], summary["T"]).sum() == (
        pytest.approx(model.info.log_likelihood)
    )


@pytest.mark.realdata
@needs_cdnow
def test_pareto_nbd_matches_the_published_cdnow_parameters() -> None:
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    model = ParetoNBD().fit(summary["frequency"], summary["recency"], summary["T"])
    p = model.params
    # Fader, Hardie and Lee (2005) report r 0.55, alpha 10.58, s 0.61, beta 11.67, LL -9595.0
    assert (round(p["r"], 2), round(p["alpha"], 2), round(p["s"], 2), round(p["beta"], 2)) == (
        0.55,
        10.58,
        0.61,
        11.67,
    )
    assert model.info is not None
    assert model.info.log_likelihood == pytest.approx(-9595.0, abs=0.05)


@pytest.mark.realdata
@needs_cdnow
def test_summary_from_transactions_and_the_holdout_check_on_cdnow() -> None:
    raw = _cdnow_transactions()
    published = pd.read_csv(CDNOW / "cdnow_customers_summary.csv").set_index("ID")
    summary = rfm_summary(raw, "1997-09-30")
    summary.index = summary.index.astype(int)
    summary = summary.loc[published.index]
    assert (summary["frequency"] == published["frequency"]).all()
    assert np.abs(summary["recency"] - published["recency"]).max() < 0.005
    assert np.abs(summary["T"] - published["T"]).max() < 0.005

    check = holdout_check(raw, "1997-09-30", "1998-06-30")
    assert check.holdout_periods == pytest.approx(39.0)
    totals = check.totals
    assert totals["actual"] == 1882  # customer-days in weeks 40-78
    assert totals["predicted"] == pytest.approx(1653.4, abs=0.5)
    assert totals["mae"] == pytest.approx(0.7855, abs=1e-3)
    assert totals["mae"] < totals["mae_zero"] < totals["mae_rate"]
    first = check.by_frequency[0]
    assert (first["frequency"], first["customers"]) == ("0", 1411)


@pytest.mark.realdata
@needs_cdnow
def test_gamma_gamma_matches_the_published_spend_parameters() -> None:
    summary = rfm_summary(_cdnow_transactions(), "1997-09-30")
    spend = GammaGamma().fit_summary(summary)
    p = spend.params
    assert (round(p["p"], 2), round(p["q"], 2), round(p["v"], 1)) == (6.25, 3.74, 15.4)
    assert spend.info is not None and spend.info.customers == 946
    assert spend.population_mean == pytest.approx(35.17, abs=0.01)


def _simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, horizon: float, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers who all arrive at 0 and follow BG/NBD exactly until ``horizon``."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    tx = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > horizon:
                break
            x[i] += 1
            tx[i] = t
            if rng.random() < p[i]:
                break
    return x, tx, np.full(n, horizon)


def test_bgnbd_recovers_the_parameters_it_was_simulated_from() -> None:
    x, tx, T = _simulate_bgnbd(6000, r=0.8, alpha=6.0, a=1.2, b=3.0, horizon=52.0)
    p = BetaGeo().fit(x, tx, T).params
    assert p["r"] == pytest.approx(0.8, rel=0.15)
    assert p["alpha"] == pytest.approx(6.0, rel=0.2)
    assert p["a"] / (p["a"] + p["b"]) == pytest.approx(1.2 / 4.2, rel=0.2)


def test_predictions_behave_as_the_model_says() -> None:
    x, tx, T = _simulate_bgnbd(3000, r=0.8, alpha=6.0, a=1.2, b=3.0, horizon=52.0)
    model = BetaGeo().fit(x, tx, T)
    # Without repeat purchases a customer cannot have been seen to drop out.
    assert model.p_alive([0], [0], [52])[0] == pytest.approx(1.0)
    # Same frequency, a later last purchase: more likely still active.
    early, late = model.p_alive([5, 5], [10, 50], [52, 52])
    assert late > early
    # Expected purchases grow with the horizon and with past frequency.
    e = model.expected_purchases(10, [3, 3, 8], [40, 40, 40], [52, 52, 52])
    assert e[0] < e[2]
    assert model.expected_purchases(20, [3], [40], [52])[0] > e[0]
    assert model.expected_purchases_new(52) > model.expected_purchases_new(10) > 0


def test_lifetime_value_discounts_and_grows_with_months() -> None:
    rng = np.random.default_rng(2)
    x, tx, T = _simulate_bgnbd(2000, r=0.8, alpha=6.0, a=1.2, b=3.0, horizon=52.0)
    summary = pd.DataFrame(
        {
            "frequency": x,
            "recency": tx,
            "T": T,
            "monetary": np.where(x > 0, rng.gamma(4, 10, len(x)), 0),
        }
    )
    bg = BetaGeo().fit_summary(summary)
    gg = GammaGamma().fit_summary(summary)
    year = lifetime_value(bg, gg, summary, months=12)
    two = lifetime_value(bg, gg, summary, months=24)
    undiscounted = lifetime_value(bg, gg, summary, months=12, annual_discount=0.0)
    assert (two >= year).all() and (undiscounted >= year).all()
    assert (year >= 0).all() and year.sum() > 0


def test_bad_summaries_are_refused_with_the_rule() -> None:
    with pytest.raises(ConfigError, match="recency ≤ T"):
        BetaGeo().fit([1, 2], [5, 9], [4, 10])
    with pytest.raises(ConfigError, match="no customer bought twice"):
        BetaGeo().fit([0, 0], [0, 0], [3, 4])
    orders = pd.DataFrame({"customer_id": ["a"], "at": ["2024-01-01"], "value": [1.0]})
    with pytest.raises(ConfigError, match="calibration end"):
        rfm_summary(orders, "2023-12-31")
    with pytest.raises(ConfigError, match="must come after the calibration end"):
        holdout_check(orders, "2024-01-01")
