"""Statistical models per series, through statsforecast.

AutoETS, AutoTheta and AutoARIMA choose their form per series by
information criterion and give model-based intervals; Croston (optimised),
TSB and ADIDA are for products that sell rarely (intermittent demand: many
zero periods) and get split-conformal intervals from statsforecast
(``ConformalIntervals``, two windows of the horizon) where every series is
long enough, none otherwise. A series a model cannot fit (too short, say)
gets the naive forecast instead (statsforecast's fallback). The series are
indexed by their observations (``ds = 1..n``: gaps skipped), so a horizon
of H is H observations ahead, as in the backtest. Forecasts and lower
bounds are floored at zero units.

``log=True`` fits on ``log(1 + units)`` and maps the forecast and its
bounds back with ``exp(x) - 1``: the point forecast is then the median
(for WAPE, the loss it should minimise), not the mean. On sales with
promotion spikes (Dominick's: AutoETS 0.97 WAPE on units, 0.63 on logs)
this is the form that works; bounds are quantiles, so they carry over.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError

# name -> (statsforecast model factory given the season, gives intervals itself)
_MODELS: dict[str, tuple[Callable[[int], object], bool]] = {}


def _register() -> None:
    from statsforecast.models import (
        ADIDA,
        TSB,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
    )

    _MODELS.update(
        {
            "AutoETS": (lambda m: AutoETS(season_length=m), True),
            "AutoTheta": (lambda m: AutoTheta(season_length=m), True),
            "AutoARIMA": (lambda m: AutoARIMA(season_length=m), True),
            "Croston": (lambda m: CrostonOptimized(alias="Croston"), False),
            "TSB": (lambda m: TSB(alpha_d=0.1, alpha_p=0.1), False),
            "ADIDA": (lambda m: ADIDA(), False),
        }
    )


def statistical_names() -> list[str]:
    """The statistical models this module offers, by name."""
    if not _MODELS:
        _register()
    return list(_MODELS)


def forecast_statistical(
    name: str,
    train: pd.DataFrame,
    horizon: int,
    levels: tuple[float, ...] = (0.8, 0.95),
    season: int = 1,
    *,
    log: bool = False,
) -> pd.DataFrame:
    """``horizon`` steps of model ``name`` for every series of ``train`` (``series``, ``y``).

    Returns the backtest's layout: ``series``, ``step``, ``yhat`` and
    ``lo-<L>`` / ``hi-<L>`` per level where the model gives intervals.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import Naive
    from statsforecast.utils import ConformalIntervals

    if name not in statistical_names():
        raise ConfigError(f"unknown model {name!r}: one of {', '.join(statistical_names())}")
    factory, own_intervals = _MODELS[name]
    frame = pd.DataFrame(
        {
            "unique_id": train["series"].astype(str).to_numpy(),
            "ds": train.groupby("series", sort=False).cumcount().to_numpy() + 1,
            "y": train["y"].to_numpy(dtype=float),
        }
    )
    if log:
        frame["y"] = np.log1p(np.maximum(frame["y"].to_numpy(), 0.0))
    shortest = int(frame.groupby("unique_id")["ds"].max().min())
    model = factory(season if shortest >= 2 * season else 1)
    percents = [round(level * 100) for level in levels]
    conformal = not own_intervals and shortest > 3 * horizon
    if conformal:
        # The intermittent models take their conformal settings as an attribute.
        intervals = ConformalIntervals(h=horizon, n_windows=2)
        setattr(model, "prediction_intervals", intervals)  # noqa: B010
    # A series the model cannot fit (too short for ETS, say) gets the naive forecast.
    engine = StatsForecast(models=[model], freq=1, n_jobs=1, fallback_model=Naive())
    wanted = percents if (percents and (own_intervals or conformal)) else None
    with warnings.catch_warnings():
        # Flat or near-constant series make statsforecast divide by zero on its way to
        # the fallback; the forecast is still defined.
        warnings.simplefilter("ignore", RuntimeWarning)
        out = engine.forecast(df=frame, h=horizon, level=wanted)
    column = str(model)
    if log:
        values = [c for c in out.columns if c == column or c.startswith(f"{column}-")]
        out[values] = np.expm1(out[values].to_numpy(dtype=float))
    last = frame.groupby("unique_id")["ds"].max()
    result = pd.DataFrame(
        {
            "series": out["unique_id"].to_numpy(),
            "step": (out["ds"].to_numpy() - last.reindex(out["unique_id"]).to_numpy()).astype(
                "int64"
            ),
            "yhat": np.maximum(out[column].to_numpy(dtype=float), 0.0),
        }
    )
    if wanted:
        for p in percents:
            result[f"lo-{p}"] = np.maximum(out[f"{column}-lo-{p}"].to_numpy(dtype=float), 0.0)
            result[f"hi-{p}"] = np.maximum(out[f"{column}-hi-{p}"].to_numpy(dtype=float), 0.0)
    return result
