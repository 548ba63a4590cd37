"""The marketing-mix analysis of a shop, and the ``mmm`` job that saves it.

:func:`analyse` reads sales and spend from the store, fits the simple line
and the mix, and checks the mix on a holdout: it is fitted again without
the last weeks and forecasts their sales from their actual spend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.jobs import (
    JobContext,
    JobOutcome,
    current_artifact,
    load_artifact,
    register,
    save_artifact,
    settings_from_params,
)
from shopkeeper.mmm._budget import Allocation, Objective, allocate
from shopkeeper.mmm._data import MIN_PERIODS, Frequency, MixData, load_mix_data
from shopkeeper.mmm._model import TARGETS, Adstock, MixModel, MixSettings, Target, fit_mix
from shopkeeper.mmm._simple import SimpleModel, fit_simple
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

FORMAT = 2
ARTIFACT = "mmm.pkl"
# A channel "pauses" on periods with spend below 10% of its mean; one that does so
# on fewer than 5% of periods has no data near the start of its curve.
PAUSE_SHARE = 0.10
MIN_PAUSED = 0.05
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class MMMSettings:
    """The knobs of a marketing-mix analysis.

    ``frequency``: ``day`` or ``week``; ``adstock``: ``geometric`` or
    ``weibull``; ``target``: fit the number of ``orders`` and value them
    (the default: far less noisy) or the ``sales`` themselves; ``timezone``:
    the shop's day (empty: the store's setting, else UTC); ``holdout``:
    periods kept back to check the forecast (0: no check); ``holidays``: the
    shop's own dates, name → list of YYYY-MM-DD.
    """

    frequency: str = "day"
    adstock: str = "geometric"
    target: str = "orders"
    timezone: str = ""
    holdout: int = 56
    holidays: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.frequency not in ("day", "week"):
            raise ConfigError(f"frequency must be day or week, not {self.frequency!r}")
        if self.adstock not in ("geometric", "weibull"):
            raise ConfigError(f"adstock must be geometric or weibull, not {self.adstock!r}")
        if self.target not in TARGETS:
            raise ConfigError(f"target must be orders or sales, not {self.target!r}")
        if self.holdout < 0:
            raise ConfigError(f"holdout must be 0 or more periods, got {self.holdout}")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MMMSettings:
        return settings_from_params(cls, params, "mmm")

    def mix(self) -> MixSettings:
        return MixSettings(
            adstock=cast(Adstock, self.adstock),
            holidays=dict(self.holidays),
            target=cast(Target, self.target),
        )


@dataclass
class MixAnalysis:
    """The simple line, the fitted mix and its holdout check (the artifact)."""

    settings: MMMSettings
    simple: SimpleModel
    model: MixModel
    holdout: dict[str, Any] | None
    format: int = FORMAT
    notes: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        save_artifact(self, path)

    @classmethod
    def load(cls, path: Path) -> MixAnalysis:
        return load_artifact(cls, path, "mmm", FORMAT)

    @property
    def data(self) -> MixData:
        return self.model.data

    def period(self) -> tuple[str, str]:
        dates = self.model.dates
        return (f"{dates[0]:%Y-%m-%d}", f"{dates[-1]:%Y-%m-%d}")

    def contributions(self) -> pd.DataFrame:
        """Per period: date, sales, fitted, base and each channel's sales."""
        m = self.model
        out = pd.DataFrame({"date": m.dates, "sales": m.sales, "fitted": m.fitted, "base": m.base})
        for i, name in enumerate(m.channel_names):
            out[name] = m.contributions[i]
        return out

    def curves(self, points: int = 41, upto: float = 3.0) -> pd.DataFrame:
        """Each channel's sales per period against a steady spend, 0 to ``upto`` × current."""
        rows = []
        current = self.model.current_spend()
        for i, c in enumerate(self.model.channels):
            top = max(current[i], float(self.model.spend[i].mean()), 1.0) * upto
            for x in np.linspace(0.0, top, points):
                rows.append(
                    {"channel": c.name, "spend": float(x), "sales": float(c.response(x)[0])}
                )
        return pd.DataFrame(rows)

    def allocate(
        self,
        budget: float,
        *,
        bounds: dict[str, tuple[float | None, float | None]] | None = None,
        objective: Objective = "sales",
        margin: float | None = None,
    ) -> Allocation:
        """See :func:`shopkeeper.mmm._budget.allocate` (budget per period)."""
        return allocate(self.model, budget, bounds=bounds, objective=objective, margin=margin)

    def metrics(self) -> dict[str, Any]:
        summary = self.model.summary()
        return {
            "periods": len(self.model.dates),
            "frequency": self.model.frequency,
            "channels": self.model.channel_names,
            "roas": {r.channel: round(float(r.roas), 4) for r in summary.itertuples()},
            "simple_slope": round(self.simple.slope, 4),
            "simple_r2": round(self.simple.r2, 4),
            "holdout_wape": None if self.holdout is None else self.holdout["wape"],
            "fit_seconds": round(self.model.fit_seconds, 2),
            "target": self.model.info.get("target", "sales"),
            "ad_order_value_factor": (
                None if self.model.value is None else round(self.model.value.factor, 4)
            ),
        }


def never_paused(model: MixModel) -> list[str]:
    """The channels whose spend hardly ever came near zero (see the note in :func:`analyse`)."""
    out = []
    for i, name in enumerate(model.channel_names):
        spend = model.spend[i]
        quiet = float(np.mean(spend < PAUSE_SHARE * spend.mean()))
        if quiet < MIN_PAUSED:
            out.append(name)
    return out


def holdout_check(data: MixData, periods: int, settings: MixSettings) -> dict[str, Any]:
    """Fit without the last ``periods`` and forecast them from their actual spend."""
    n = len(data)
    if periods <= 0 or n - periods < max(MIN_PERIODS[data.frequency], 2 * periods):
        raise ConfigError(
            f"a holdout of {periods} {data.frequency}s leaves too few to fit ({n} in all)"
        )
    train, rest = data.periods(0, n - periods), data.periods(n - periods)
    model = fit_mix(train, settings)
    forecast = model.predict(rest)
    actual = rest.sales
    error = forecast - actual
    return {
        "periods": periods,
        "from": f"{rest.dates[0]:%Y-%m-%d}",
        "to": f"{rest.dates[-1]:%Y-%m-%d}",
        "wape": round(float(np.abs(error).sum() / max(actual.sum(), 1e-9)), 4),
        "mape": round(float(np.mean(np.abs(error) / np.maximum(actual, 1e-9))), 4),
        "bias": round(float(error.sum() / max(actual.sum(), 1e-9)), 4),
        "dates": [f"{d:%Y-%m-%d}" for d in rest.dates],
        "actual": [float(v) for v in actual],
        "forecast": [float(v) for v in forecast],
    }


def analyse(data: MixData, settings: MMMSettings | None = None) -> MixAnalysis:
    """The simple line, the mix and (when ``holdout``) the holdout check on ``data``."""
    cfg = settings or MMMSettings()
    simple = fit_simple(data.spend.sum(axis=0), data.sales)
    model = fit_mix(data, cfg.mix())
    notes = []
    if not model.converged:
        notes.append("the fit stopped at its evaluation limit before converging")
    if model.info.get("left_out"):
        notes.append(f"channels without spend in the window: {', '.join(model.info['left_out'])}")
    always_on = never_paused(model)
    if always_on:
        notes.append(
            f"{', '.join(always_on)} never paused (spend below {PAUSE_SHARE:.0%} of its mean "
            f"on fewer than {MIN_PAUSED:.0%} of the {data.frequency}s): its return at its usual "
            "level rests on the fitted curve's form, not on the data; its interval says how "
            "far that goes. A few quiet days or a budget test would pin it down"
        )
    holdout = None
    if cfg.holdout:
        try:
            holdout = holdout_check(data, cfg.holdout, cfg.mix())
        except ConfigError as exc:
            notes.append(f"no holdout check: {exc}")
    return MixAnalysis(settings=cfg, simple=simple, model=model, holdout=holdout, notes=notes)


def analyse_store(store: Store, settings: MMMSettings | None = None) -> MixAnalysis:
    """:func:`analyse` on the sales and spend in ``store``."""
    cfg = settings or MMMSettings()
    data = load_mix_data(
        store, frequency=cast(Frequency, cfg.frequency), timezone=cfg.timezone or None
    )
    return analyse(data, cfg)


@register("mmm", "Marketing mix: returns per channel, response curves, the budget split")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read sales and spend, fit the line and the mix, check the holdout, save."""
    settings = MMMSettings.from_params(dict(ctx.params))
    ctx.progress(0.05, "reading sales and ad spend")
    data = load_mix_data(
        ctx.store, frequency=cast(Frequency, settings.frequency), timezone=settings.timezone or None
    )
    ctx.progress(0.2, "fitting the marketing mix")
    analysis = analyse(data, settings)
    analysis.save(ctx.artifact_dir / ARTIFACT)
    return JobOutcome(metrics={**analysis.metrics(), "settings": asdict(settings)})


def load_analysis(ws: Workspace) -> MixAnalysis:
    """The analysis of the last successful ``mmm`` job."""
    folder = current_artifact(ws, "mmm")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no marketing-mix analysis yet; run 'shopkeeper train mmm' first")
    return MixAnalysis.load(folder / ARTIFACT)
