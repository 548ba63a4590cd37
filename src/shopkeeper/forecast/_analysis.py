"""The ``forecast`` job: backtest the models on the shop's demand, forecast ahead with the best.

:func:`analyse` reads the demand (:func:`~shopkeeper.forecast.load_demand`),
backtests the candidate models (each series' last ``horizon`` periods),
takes the one with the lowest WAPE (or the one the settings name) and
forecasts every series ``horizon`` periods past the data's last period,
with the known inputs carried forward: each series' last price, and the
promotions the store has scheduled for those periods. The artifact keeps
the backtest table, the chosen model's backtest forecasts next to what
sold (for the forecast-against-actuals chart), the forecasts ahead with
their intervals, and recent history per series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._backtest import backtest, default_season
from shopkeeper.forecast._data import Demand, future_frame, load_demand
from shopkeeper.forecast._models import NAMES, forecaster, model_label
from shopkeeper.jobs import (
    JobContext,
    JobOutcome,
    current_artifact,
    load_artifact,
    register,
    save_artifact,
    settings_from_params,
)
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace

FORMAT = 1
ARTIFACT = "forecast.pkl"
LEVELS = (0.8, 0.95)
Progress = Callable[[float, str], None]
_PRODUCTS = METADATA.tables["products"]


@dataclass(frozen=True)
class ForecastSettings:
    """What a forecast run does; the defaults suit a daily shop.

    ``horizon``: periods ahead (0: 28 days or 8 weeks); ``frequency``:
    ``day``, ``week`` or ``""`` (the data's natural one); ``models``: the
    candidates, comma-separated short names; ``model``: the one to forecast
    with, or ``best`` (the lowest backtest WAPE); ``history``: periods of
    actuals kept per series for charts.
    """

    horizon: int = 0
    frequency: str = ""
    models: str = "naive,ma,lgbm"
    model: str = "best"
    history: int = 90

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ForecastSettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, "forecast")

    def names(self) -> list[str]:
        names = [n.strip() for n in self.models.split(",") if n.strip()]
        unknown = [n for n in names if n not in NAMES]
        if unknown or not names:
            raise ConfigError(f"forecast models {self.models!r}: choose from {', '.join(NAMES)}")
        if self.model not in ("best", *NAMES):
            raise ConfigError(f"forecast model {self.model!r}: best or one of {', '.join(NAMES)}")
        return names


@dataclass
class ForecastAnalysis:
    """A shop's demand forecasts and the backtest behind them (the artifact)."""

    settings: ForecastSettings
    frequency: str
    by_location: bool
    timezone: str
    horizon: int
    model: str  # the label of the model the forecasts come from
    backtest: pd.DataFrame  # one row per model: wape, mase, bias, coverage_*, seconds
    holdout: pd.DataFrame  # the chosen model's backtest: series, period, y, yhat, lo/hi
    forecasts: pd.DataFrame  # series, product_id, location_id, step, period, yhat, lo/hi
    history: pd.DataFrame  # series, period, units: the last ``history`` periods
    catalog: pd.DataFrame  # product_id, title
    last_period: str
    format: int = FORMAT
    notes: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        save_artifact(self, path)

    @classmethod
    def load(cls, path: Path) -> ForecastAnalysis:
        return load_artifact(cls, path, "forecast", FORMAT)

    def summary(self) -> pd.DataFrame:
        """One row per series: units forecast over the horizon, recent units, title."""
        rows = self.forecasts
        if "lo-80" not in rows:  # a model without intervals (Croston on short series, say)
            rows = rows.assign(**{"lo-80": np.nan, "hi-80": np.nan})
        ahead = rows.groupby(["series", "product_id", "location_id"], as_index=False)
        table = ahead.agg(
            forecast=("yhat", "sum"),
            low=("lo-80", lambda v: v.sum(min_count=1)),
            high=("hi-80", lambda v: v.sum(min_count=1)),
        )
        recent = self.history.groupby("series")["units"].apply(
            lambda u: float(u.tail(self.horizon).sum())
        )
        table["last_units"] = recent.reindex(table["series"]).fillna(0.0).to_numpy()
        titles = dict(zip(self.catalog["product_id"], self.catalog["title"], strict=True))
        table.insert(1, "title", [str(titles.get(p) or p) for p in table["product_id"]])
        return table.sort_values("forecast", ascending=False, kind="stable").reset_index(drop=True)

    def series_of(self, product_id: str) -> list[str]:
        """The series of a product (one per location when split by location)."""
        found = self.forecasts.loc[self.forecasts["product_id"] == product_id, "series"]
        names = list(pd.unique(found))
        if not names:
            raise ConfigError(f"no forecast for product {product_id!r}")
        return names

    def metrics(self) -> dict[str, Any]:
        best = self.backtest.set_index("model").loc[self.model]
        return {
            "series": int(self.forecasts["series"].nunique()),
            "frequency": self.frequency,
            "horizon": self.horizon,
            "model": self.model,
            "wape": _finite(best["wape"]),
            "mase": _finite(best["mase"]),
            "bias": _finite(best["bias"]),
            "coverage_80": _finite(best.get("coverage_80")),
            "coverage_95": _finite(best.get("coverage_95")),
            "backtest": [
                {k: _finite(v) for k, v in row.items()}
                for row in self.backtest.to_dict(orient="records")
            ],
        }


def _finite(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4) if np.isfinite(value) else None
    return value


def analyse(
    store: Store,
    settings: ForecastSettings | None = None,
    progress: Progress | None = None,
    demand: Demand | None = None,
) -> ForecastAnalysis:
    """Backtest, choose and forecast ahead (see the module doc)."""
    cfg = settings or ForecastSettings()
    report = progress or (lambda share, message: None)
    names = cfg.names()
    report(0.05, "reading demand")
    demand = demand or load_demand(
        store,
        frequency=cfg.frequency or None,  # type: ignore[arg-type]
    )
    horizon = cfg.horizon or (28 if demand.frequency == "day" else 8)
    season = default_season(demand.frequency)
    model_season = 7 if demand.frequency == "day" else 1
    frame = demand.frame.rename(columns={"units": "y"})
    short = {model_label(n, season): n for n in names}
    models = [(label, forecaster(n, season, model_season)) for label, n in short.items()]
    report(0.15, f"backtesting {len(models)} models on {demand.frame['series'].nunique()} series")
    result = backtest(frame, models, horizon, levels=LEVELS, season=1)
    table = result.table
    if cfg.model == "best":
        label = str(table.sort_values("wape", kind="stable")["model"].iloc[0])
    else:
        label = model_label(cfg.model, season)
        if label not in set(table["model"]):
            raise ConfigError(
                f"forecast model {cfg.model} is not among the candidates ({cfg.models}) "
                f"or could not run: {result.skipped or 'not a candidate'}"
            )
    report(0.7, f"forecasting {horizon} periods ahead with {label}")
    future = future_frame(store, demand, horizon)
    out = forecaster(short[label], season, model_season)(frame, future, LEVELS)
    ahead = future[["series", "product_id", "location_id", "step", "period"]].merge(
        out, on=["series", "step"], how="left"
    )
    holdout = result.forecasts[result.forecasts["model"] == label].drop(columns=["model"])
    history = demand.frame.groupby("series", sort=False).tail(cfg.history)
    catalog = store.select_frame(
        _PRODUCTS.select().with_only_columns(_PRODUCTS.c.product_id, _PRODUCTS.c.title),
        ["product_id", "title"],
    )
    notes = [f"{name} left out: {why}" for name, why in result.skipped.items()]
    report(0.95, "saving")
    return ForecastAnalysis(
        settings=cfg,
        frequency=demand.frequency,
        by_location=demand.by_location,
        timezone=demand.timezone,
        horizon=horizon,
        model=label,
        backtest=table,
        holdout=holdout.reset_index(drop=True),
        forecasts=ahead,
        history=history[["series", "product_id", "location_id", "period", "units"]].reset_index(
            drop=True
        ),
        catalog=catalog,
        last_period=str(pd.Timestamp(demand.frame["period"].max()).date()),
        notes=notes,
    )


@register("forecast", "Demand forecasts per product (and location), backtested")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: backtest the candidate models, forecast ahead with the best, save the analysis."""
    settings = ForecastSettings.from_params(dict(ctx.params))
    analysis = analyse(ctx.store, settings, ctx.progress)
    analysis.save(ctx.artifact_dir / ARTIFACT)
    return JobOutcome(metrics={**analysis.metrics(), "settings": asdict(settings)})


def load_analysis(ws: Workspace) -> ForecastAnalysis:
    """The analysis of the last successful ``forecast`` job."""
    folder = current_artifact(ws, "forecast")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no forecast yet; run 'shopkeeper train forecast' first")
    return ForecastAnalysis.load(folder / ARTIFACT)
