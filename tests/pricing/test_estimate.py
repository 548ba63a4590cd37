"""Elasticities: planted values recovered, equal to statsmodels' dummy OLS, clear refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from shopkeeper.errors import ConfigError
from shopkeeper.pricing import estimate_elasticities, fe_ols, from_frame
from tests.pricing.synthetic import CROSS, DEAL, OWN, panel


def test_planted_elasticities_fall_in_their_intervals() -> None:
    result = estimate_elasticities(panel(seed=3))
    own = result.own.set_index("product_id")
    for pid, e in OWN.items():
        assert own.loc[pid, "lo"] <= e <= own.loc[pid, "hi"], (pid, own.loc[pid].to_dict())
        assert own.loc[pid, "source"] == "product"
    off = result.cross_table[result.cross_table["product_id"] != result.cross_table["price_of"]]
    assert ((off["lo"] <= CROSS) & (off["hi"] >= CROSS)).mean() >= 0.8
    assert np.allclose(result.cross.loc["a", "a"], own.loc["a", "elasticity"])
    deal = result.promotions[result.promotions["kind"] == "discount"].set_index("product_id")
    covered = (deal["lift_lo"] <= np.expm1(DEAL)) & (np.expm1(DEAL) <= deal["lift_hi"])
    assert covered.sum() >= len(covered) - 1  # 95% intervals: one miss in four is chance
    assert result.cluster_by == "location"
    assert set(result.pooled["group"]) == {"all"}


def test_fixed_effects_equal_statsmodels_dummy_ols() -> None:
    data = panel(stores=12, weeks=15, seed=5).frame
    rows = data[data["product_id"] == "a"].copy()
    wide = data.pivot_table(index=["location_id", "period"], columns="product_id", values="price")
    at = pd.MultiIndex.from_arrays([rows["location_id"], rows["period"]])
    rows["y"] = np.log(rows["units"])
    rows["lp"] = np.log(rows["price"])
    rows["lpb"] = np.log(wide.reindex(at)["b"].to_numpy())
    rows["week"] = rows["period"].dt.strftime("%Y%m%d")
    ours = fe_ols(
        rows["y"].to_numpy(),
        rows[["lp", "lpb", "discount"]].to_numpy(),
        ["lp", "lpb", "discount"],
        absorb=rows["location_id"].to_numpy(),
        dummies=rows["week"].to_numpy(),
        cluster=rows["location_id"].to_numpy(),
    )
    groups = pd.factorize(rows["location_id"])[0]
    ref = smf.ols("y ~ lp + lpb + discount + C(location_id) + C(week)", data=rows).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    for j, name in enumerate(["lp", "lpb", "discount"]):
        assert ours.coef[j] == pytest.approx(ref.params[name], rel=1e-6)
        assert ours.se[j] == pytest.approx(ref.bse[name], rel=1e-6)
    assert ours.k == len(ref.params)

    # The pooled model: product x store effects absorbed, week dummies.
    data = data.assign(
        y=np.log(data["units"]),
        lp=np.log(data["price"]),
        cell=data["product_id"] + "@" + data["location_id"],
        week=data["period"].dt.strftime("%Y%m%d"),
    )
    pooled = fe_ols(
        data["y"].to_numpy(),
        data[["lp", "discount"]].to_numpy(),
        ["lp", "discount"],
        absorb=data["cell"].to_numpy(),
        dummies=data["week"].to_numpy(),
        cluster=data["location_id"].to_numpy(),
    )
    ref = smf.ols("y ~ lp + discount + C(cell) + C(week)", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["location_id"])[0]}
    )
    assert pooled.coef[0] == pytest.approx(ref.params["lp"], rel=1e-6)
    assert pooled.se[0] == pytest.approx(ref.bse["lp"], rel=1e-6)


def test_the_estimator_matches_statsmodels_through_the_public_api() -> None:
    result = estimate_elasticities(panel(stores=12, weeks=15, seed=2), cross=False)
    data = panel(stores=12, weeks=15, seed=2).frame
    rows = data[data["product_id"] == "b"].assign(
        y=lambda f: np.log(f["units"]),
        lp=lambda f: np.log(f["price"]),
        week=lambda f: f["period"].dt.strftime("%Y%m%d"),
    )
    # feature and display never vary here: the estimator leaves them out, so does the check.
    ref = smf.ols("y ~ lp + discount + C(location_id) + C(week)", data=rows).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["location_id"])[0]}
    )
    own = result.own.set_index("product_id")
    assert own.loc["b", "elasticity"] == pytest.approx(ref.params["lp"], rel=1e-6)
    assert own.loc["b", "se"] == pytest.approx(ref.bse["lp"], rel=1e-6)


def _frame(product_prices: dict[str, list[float]], stores: int = 3) -> pd.DataFrame:
    rows = []
    periods = pd.date_range("2024-01-04", periods=12, freq="7D")
    rng = np.random.default_rng(0)
    for pid, prices in product_prices.items():
        for s in range(stores):
            for t, price in enumerate(prices):
                # Prices move differently by store, so the week effects leave them variation.
                shift = 0.05 * ((t + s) % 3) if len(set(prices)) > 1 else 0.0
                rows.append((pid, f"s{s}", periods[t], float(rng.integers(5, 50)), price + shift))
    return pd.DataFrame(rows, columns=["product_id", "location_id", "period", "units", "price"])


def test_a_product_without_price_variation_is_named() -> None:
    moving = [3.0 + 0.1 * (t % 4) for t in range(12)]
    frame = _frame({"steady": [3.0] * 12, "moving": moving})
    with pytest.raises(ConfigError, match=r"product 'steady' has no price variation"):
        estimate_elasticities(from_frame(frame), min_obs=5)
    skipped = estimate_elasticities(from_frame(frame), min_obs=5, on_unusable="skip")
    assert list(skipped.own["product_id"]) == ["moving"]
    assert any("steady" in n and "no price variation" in n for n in skipped.notes)


def test_a_product_with_one_observation_is_named() -> None:
    frame = _frame({"moving": [3.0 + 0.1 * (t % 4) for t in range(12)]})
    single = pd.DataFrame(
        [("once", "s0", pd.Timestamp("2024-01-04"), 4.0, 2.5)], columns=frame.columns
    )
    with pytest.raises(ConfigError, match=r"product 'once' has 1 observation .* at least 5"):
        estimate_elasticities(from_frame(pd.concat([frame, single])), min_obs=5)


def test_unknown_products_and_promotions_are_refused() -> None:
    data = panel(stores=4, weeks=6)
    with pytest.raises(ConfigError, match="not in the demand panel"):
        estimate_elasticities(data, products=["zz"])
    with pytest.raises(ConfigError, match="unknown promotion kinds"):
        estimate_elasticities(data, promotions=["coupon"])
