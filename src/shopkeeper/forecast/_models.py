"""Every forecasting model by its short name, as a forecaster the backtest can run.

==========  ===================================================  =========
name        model                                                 from
==========  ===================================================  =========
naive       the last observation                                  here
snaive      the observation one season back                       here
ma          the mean of the last season (at least 4 periods)      here
ets         AutoETS on units (``ets-log``: on log(1 + units))     statsforecast
theta       AutoTheta (``theta-log``)                             statsforecast
arima       AutoARIMA (``arima-log``); slow                       statsforecast
croston     Croston, optimised: for products that sell rarely     statsforecast
tsb         Teunter-Syntetos-Babai: intermittent, can decay       statsforecast
adida       ADIDA: temporal aggregation for intermittent demand   statsforecast
lgbm        one LightGBM model across all series, with prices,    LightGBM,
            promotions and the shop's calendar as known inputs    features here
auto        each series' best of ``AUTO_CANDIDATES`` by backtest  here
==========  ===================================================  =========

Local models forecast only the series they are asked for; the global
model is fitted on every series of the training part.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._backtest import Forecaster

BASELINES = ("naive", "snaive", "ma")
STATISTICAL = {
    "ets": "AutoETS",
    "theta": "AutoTheta",
    "arima": "AutoARIMA",
    "croston": "Croston",
    "tsb": "TSB",
    "adida": "ADIDA",
}
LOGGED = ("ets", "theta", "arima")  # the models that also come fitted on log(1 + units)
NAMES = (
    *BASELINES,
    *(n for s in STATISTICAL for n in ((s, f"{s}-log") if s in LOGGED else (s,))),
    "lgbm",
    "auto",
)
# What ``auto`` chooses from per series: cheap enough to run twice on thousands of series.
AUTO_CANDIDATES = ("ma", "ets-log", "croston", "tsb", "lgbm")
DEFAULT_MODELS = ("naive", "snaive", "ma", "ets-log", "theta-log", "croston", "tsb", "lgbm", "auto")


def model_label(name: str, season: int) -> str:
    """The name a table shows for short name ``name``."""
    if name == "snaive":
        return f"seasonal naive ({season})"
    if name == "ma":
        return f"moving average ({max(season, 4)})"
    if name in STATISTICAL or name.removesuffix("-log") in STATISTICAL:
        base = STATISTICAL[name.removesuffix("-log")]
        return f"{base} [log]" if name.endswith("-log") else base
    return {"naive": "naive", "lgbm": "LightGBM global", "auto": "auto (per series)"}[name]


def forecaster(
    name: str,
    season: int,
    model_season: int | None = None,
    candidates: Sequence[str] = AUTO_CANDIDATES,
) -> Forecaster:
    """The forecaster for short name ``name`` (see the module table).

    ``season``: the baselines' season in periods; ``model_season``: the
    statistical models' (default the same; 1 turns seasonality off).
    """
    if name not in NAMES:
        raise ConfigError(f"unknown model {name!r}: choose from {', '.join(NAMES)}")
    m = season if model_season is None else model_season
    if name in BASELINES:
        return _baseline(name, season)
    if name.removesuffix("-log") in STATISTICAL:
        return _statistical(STATISTICAL[name.removesuffix("-log")], m, name.endswith("-log"))
    if name == "lgbm":
        from shopkeeper.forecast._global import forecast_global

        return lambda train, future, levels: forecast_global(train, future, levels)
    unknown = [c for c in candidates if c not in NAMES or c == "auto"]
    if unknown:
        raise ConfigError(f"auto cannot choose from {', '.join(unknown)}")
    chosen = [(c, forecaster(c, season, model_season)) for c in candidates]

    def select(train: pd.DataFrame, future: pd.DataFrame, levels: tuple[float, ...]):
        from shopkeeper.forecast._select import forecast_selected

        return forecast_selected(train, future, levels, chosen)

    return select


def models_by_name(
    names: Sequence[str], season: int, model_season: int | None = None
) -> list[tuple[str, Forecaster]]:
    """(label, forecaster) for each short name, in order; unknown names raise ConfigError."""
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise ConfigError(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(NAMES)}")
    return [(model_label(n, season), forecaster(n, season, model_season)) for n in names]


def _only(train: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
    wanted = pd.unique(future["series"])
    if len(wanted) == train["series"].nunique():
        return train
    return train[train["series"].isin(wanted)]


def _steps(out: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``out`` that ``future`` asks for, in its order."""
    return future[["series", "step"]].merge(out, on=["series", "step"], how="left")


def _baseline(name: str, season: int) -> Forecaster:
    from shopkeeper.forecast._baselines import (
        Baseline,
        forecast_baseline,
        moving_average,
        naive,
        seasonal_naive,
    )

    rule = {
        "naive": Baseline("naive", naive),
        "snaive": Baseline("seasonal naive", seasonal_naive(season)),
        "ma": Baseline("moving average", moving_average(max(season, 4))),
    }[name]

    def run(train: pd.DataFrame, future: pd.DataFrame, levels: tuple[float, ...]):
        horizon = int(future["step"].max())
        out = forecast_baseline(rule, _only(train, future), horizon, levels)
        return _steps(out, future)

    return run


def _statistical(name: str, season: int, log: bool) -> Forecaster:
    from shopkeeper.forecast._statistical import forecast_statistical

    def run(train: pd.DataFrame, future: pd.DataFrame, levels: tuple[float, ...]):
        horizon = int(future["step"].max())
        out = forecast_statistical(name, _only(train, future), horizon, levels, season, log=log)
        return _steps(out, future)

    return run
