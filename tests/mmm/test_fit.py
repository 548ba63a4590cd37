"""The mix recovers what was planted, forecasts a holdout, and says what it cannot do."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.mmm import MixData, MixSettings, MMMSettings, analyse, fit_mix
from shopkeeper.mmm._analysis import holdout_check
from tests.mmm.synthetic import planted_shop


@pytest.fixture(scope="module")
def planted() -> tuple:
    return planted_shop()


def test_returns_of_planted_channels_are_recovered(planted: tuple) -> None:
    data, truth = planted
    model = fit_mix(data)
    summary = model.summary().set_index("channel")
    for name, t in truth.items():
        # The bound: within 20% of the planted return (the Hill shape's prior
        # pulls a steep curve a little); the 90% interval holds the truth.
        assert summary.loc[name, "roas"] == pytest.approx(t["roas"], rel=0.2), name
        assert summary.loc[name, "roas_low"] <= t["roas"] <= summary.loc[name, "roas_high"]
    assert model.converged
    # Contributions and base add up to the fit; the fit follows the sales closely.
    assert np.allclose(model.base + model.contributions.sum(axis=0), model.fitted)
    assert np.mean(np.abs(model.fitted - data.sales)) / data.sales.mean() < 0.02


def test_marginal_return_is_the_slope_of_the_response_curve(planted: tuple) -> None:
    model = fit_mix(planted[0])
    for c in model.channels:
        x = 2500.0
        slope = (c.response(x + 1.0)[0] - c.response(x - 1.0)[0]) / 2.0
        assert c.marginal(x) == pytest.approx(slope, rel=1e-4)
        # Saturation: returns fall as spend grows far past the half point.
        assert c.marginal(10 * c.half) < c.marginal(c.half)


def test_orders_worth_more_when_ads_bring_them_are_valued_by_the_fitted_factor() -> None:
    # Ad-brought orders worth 1.3 times the usual one: counting orders alone would
    # under-credit every channel by that much.
    data, truth = planted_shop(ad_value=1.3)
    model = fit_mix(data)
    assert model.info["target"] == "orders" and model.value is not None
    assert model.value.factor == pytest.approx(1.3, rel=0.1)
    summary = model.summary().set_index("channel")
    # The same returns as a fit on the sales themselves (which the order values
    # cannot fool), and as far from the truth as that fit is.
    on_sales = fit_mix(data, MixSettings(target="sales")).summary().set_index("channel")
    for name, t in truth.items():
        assert summary.loc[name, "roas"] == pytest.approx(on_sales.loc[name, "roas"], rel=0.06)
        assert summary.loc[name, "roas_low"] <= t["roas"] <= summary.loc[name, "roas_high"]
    # The parts are in sales and add up to the fit; the fit follows the sales.
    assert np.allclose(model.base + model.contributions.sum(axis=0), model.fitted)
    assert np.mean(np.abs(model.fitted - data.sales)) / data.sales.mean() < 0.02
    check = holdout_check(data, 56, MixSettings())
    assert check["wape"] < 0.05


def test_the_sales_themselves_can_be_the_target(planted: tuple) -> None:
    data, truth = planted
    model = fit_mix(data, MixSettings(target="sales"))
    assert model.info["target"] == "sales" and model.value is None
    summary = model.summary().set_index("channel")
    for name, t in truth.items():
        assert summary.loc[name, "roas"] == pytest.approx(t["roas"], rel=0.2), name
    # A shop without order counts falls back to its sales.
    no_orders = fit_mix(replace(data, orders=np.zeros(len(data))))
    assert no_orders.info["target"] == "sales"


def test_holdout_forecast_uses_the_actual_spend(planted: tuple) -> None:
    data, _ = planted
    check = holdout_check(data, 56, MixSettings())
    assert check["periods"] == 56 and len(check["forecast"]) == 56
    assert check["wape"] < 0.05
    assert abs(check["bias"]) < 0.03


def test_weibull_adstock_fits_as_well() -> None:
    data, truth = planted_shop(days=300, seed=11)
    model = fit_mix(data, MixSettings(adstock="weibull"))
    summary = model.summary().set_index("channel")
    assert {"adstock_shape", "adstock_scale"} <= set(summary.columns)
    for name, t in truth.items():
        assert summary.loc[name, "roas"] == pytest.approx(t["roas"], rel=0.2), name


def test_analysis_has_the_simple_line_and_the_holdout(planted: tuple) -> None:
    data, _ = planted
    result = analyse(data, MMMSettings(holdout=28))
    assert result.simple.slope > 0 and result.holdout is not None
    assert result.holdout["periods"] == 28
    curves = result.curves(points=11)
    assert set(curves["channel"]) == set(data.channels) and len(curves) == 33
    assert (curves.groupby("channel")["sales"].diff().dropna() >= 0).all()


def test_no_spend_and_bad_settings_are_refused(planted: tuple) -> None:
    data, _ = planted
    with pytest.raises(ConfigError, match="no channel spent"):
        fit_mix(replace(data, spend=np.zeros_like(data.spend)))
    with pytest.raises(ConfigError, match="adstock"):
        MixSettings(adstock="linear")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="frequency"):
        MMMSettings(frequency="month")
    with pytest.raises(ConfigError, match="target must be orders or sales"):
        MMMSettings(target="profit")
    with pytest.raises(ConfigError, match="target"):
        MixSettings(target="visits")  # type: ignore[arg-type]


def test_weekly_data_fits_and_forecasts() -> None:
    daily, truth = planted_shop(days=728, seed=5)
    weeks = len(daily) // 7
    cut = weeks * 7
    weekly = MixData(
        dates=daily.dates[:cut:7],
        sales=daily.sales[:cut].reshape(weeks, 7).sum(axis=1),
        orders=daily.orders[:cut].reshape(weeks, 7).sum(axis=1),
        channels=daily.channels,
        spend=daily.spend[:, :cut].reshape(len(daily.channels), weeks, 7).sum(axis=2),
        promotion=np.zeros(weeks),
        price_index=None,
        frequency="week",
        timezone="UTC",
    )
    model = fit_mix(weekly)
    assert model.frequency == "week" and "Sat" not in model.control_names
    summary = model.summary().set_index("channel")
    # A weekly adstock's decay is per week, yet the returns come out as on days.
    for name, t in truth.items():
        assert summary.loc[name, "roas"] == pytest.approx(t["roas"], rel=0.2), name
    check = holdout_check(weekly, 8, MixSettings())
    assert len(check["forecast"]) == 8 and check["wape"] < 0.1


def test_a_channel_that_never_pauses_is_named_in_the_notes(planted: tuple) -> None:
    data, _ = planted
    steady = data.spend.copy()
    steady[0] = steady[0].mean() * np.exp(np.random.default_rng(2).normal(0, 0.3, len(data)))
    result = analyse(replace(data, spend=steady), MMMSettings(holdout=0))
    notes = " ".join(result.notes)
    assert "search never paused" in notes
    assert "social" not in notes and "video" not in notes
