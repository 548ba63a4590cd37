"""Marketing mix: returns per channel, sales by source, response curves and the budget split.

Every route needs a reader key and answers from the marketing-mix analysis in
service: the artifact of the latest successful ``mmm`` job (compute it with
``shopkeeper train mmm`` or ``POST /api/v1/jobs`` with kind ``mmm``). Without
one the routes answer 409; with one that cannot be loaded, 503.

A *period* is the analysis's: a day, or a week when the job ran with
``frequency=week``. Spend and sales per channel are per period unless a field
says otherwise. ``POST /budget`` takes and returns totals over ``periods``
periods (30 by default: a month of days) and splits them by the fitted curves;
nothing is written, so a reader may ask.

The analysis is loaded once per process and kept while the kind's
``current.json`` names it, as for the other capabilities.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shopkeeper.access import ApiKey
from shopkeeper.errors import ConfigError
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.deps import get_workspace, require
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the mix (scipy) loads on first use
    from shopkeeper.mmm._analysis import MixAnalysis

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/mmm", tags=["mmm"])

KIND = "mmm"
OBJECTIVES = ("sales", "profit")
#: Periods a budget covers unless the caller says: a month of days.
BUDGET_PERIODS = 30
MAX_PERIODS = 3_660
MAX_POINTS = 401
MAX_UPTO = 20.0
#: The holdout's long lists, left out of the summary (``GET /holdout`` has them).
HOLDOUT_SERIES = ("dates", "actual", "forecast")

NO_ANALYSIS = (
    "no marketing-mix analysis has been computed yet: run 'shopkeeper train mmm' "
    'or POST /api/v1/jobs with {"kind": "mmm"}, then try again'
)


def _artifact_name() -> str:
    from shopkeeper.mmm._analysis import ARTIFACT

    return ARTIFACT


# -- the analysis in service --------------------------------------------------------------


@dataclass
class ServedMix:
    """A loaded marketing-mix analysis and the job that computed it."""

    job_id: str
    path: Path
    analysis: MixAnalysis

    @property
    def channels(self) -> list[str]:
        """The fitted channels, in the model's order."""
        return list(self.analysis.model.channel_names)

    def current_spend(self) -> dict[str, float]:
        """Each channel's mean spend per period over the last four weeks."""
        spend = self.analysis.model.current_spend()
        return {name: float(x) for name, x in zip(self.channels, spend, strict=True)}

    def facts(self) -> dict[str, Any]:
        """Which run answers: its job, the period its data span, days or weeks, and the
        time zone its days were counted in."""
        first, last = self.analysis.period()
        return {
            "job": self.job_id,
            "period": {"first": first, "last": last},
            "frequency": self.analysis.model.frequency,
            "timezone": self.analysis.data.timezone,
        }


def _load_analysis(job_id: str, path: Path) -> ServedMix:
    from shopkeeper.mmm._analysis import MixAnalysis

    try:
        served = ServedMix(job_id=job_id, path=path, analysis=MixAnalysis.load(path))
    except Exception as exc:
        # An unreadable file or one written by another version: only a new run helps.
        log.error("the marketing-mix analysis %s cannot be served: %r", path, exc)
        raise _unusable(job_id) from exc
    log.info("marketing-mix analysis %s loaded", job_id)
    return served


def _unusable(job_id: str) -> ApiError:
    return ApiError(
        503,
        f"the marketing-mix analysis of job {job_id} cannot be loaded; "
        "compute it again with 'shopkeeper train mmm'",
    )


ANALYSES: ArtifactCache[ServedMix] = ArtifactCache(KIND, _artifact_name, _load_analysis)


def served_mix(workspace: Workspace) -> ServedMix | None:
    """The workspace's marketing-mix analysis in service (None before the first job)."""
    return ANALYSES.get(workspace)


def _served(workspace: Workspace) -> ServedMix:
    found = served_mix(workspace)
    if found is None:
        raise ApiError(409, NO_ANALYSIS)
    return found


def invalid(field: str, value: Any, message: str, reason: str | None = None) -> ApiError:
    """A 422 naming the field and the value it had."""
    return ApiError(
        422,
        message,
        details=[{"field": field, "reason": reason or message, "value": plain(value)}],
    )


# -- views shared with the dashboard --------------------------------------------------------


def simple_line(served: ServedMix) -> dict[str, Any]:
    """The straight line of sales on total spend per period, and how well it fits."""
    s = served.analysis.simple
    return plain(
        {
            "intercept": s.intercept,
            "slope": s.slope,
            "r2": s.r2,
            "n": s.n,
            "residual_sd": s.residual_sd,
            "mean_spend": s.mean_spend,
            "intercept_se": s.intercept_se,
            "slope_se": s.slope_se,
        }
    )


def holdout_metrics(served: ServedMix) -> dict[str, Any] | None:
    """The holdout check's figures without its per-period lists (None: no check)."""
    holdout = served.analysis.holdout
    if holdout is None:
        return None
    return plain({k: v for k, v in holdout.items() if k not in HOLDOUT_SERIES})


def channel_rows(served: ServedMix) -> list[dict[str, Any]]:
    """Per channel: spend and sales in the window, ROAS and marginal ROAS (90% intervals),
    the current spend per period, the Hill curve and the carry-over."""
    rows: list[dict[str, Any]] = plain(served.analysis.model.summary().to_dict(orient="records"))
    return rows


def summary_view(served: ServedMix) -> dict[str, Any]:
    """The channels' table, the simple line, the holdout check, the settings and notes."""
    a = served.analysis
    current = served.current_spend()
    return plain(
        {
            **served.facts(),
            "periods": len(a.model.dates),
            "channels": channel_rows(served),
            "current_spend": {"total": sum(current.values()), "channels": current},
            "simple": simple_line(served),
            "holdout": holdout_metrics(served),
            "metrics": a.metrics(),
            "settings": asdict(a.settings),
            "notes": list(a.notes),
        }
    )


def simple_view(
    served: ServedMix, spend: float | None = None, level: float = 0.9
) -> dict[str, Any]:
    """The line and its forecast of one period's sales at ``spend`` (default: the current
    total spend per period), with the intervals of the mean and of one period."""
    at = sum(served.current_spend().values()) if spend is None else float(spend)
    try:
        prediction = served.analysis.simple.predict(at, level)
    except ConfigError as exc:
        raise invalid("query.level", level, str(exc)) from None
    return plain({**served.facts(), "line": simple_line(served), "prediction": prediction})


def contributions_view(served: ServedMix) -> dict[str, Any]:
    """Per period: actual and fitted sales, the organic base and each channel's sales."""
    frame = served.analysis.contributions()
    names = served.channels
    rows = []
    for row in frame.to_dict(orient="records"):
        rows.append(
            {
                "date": f"{row['date']:%Y-%m-%d}",
                "sales": row["sales"],
                "fitted": row["fitted"],
                "base": row["base"],
                "channels": {name: row[name] for name in names},
            }
        )
    return plain({**served.facts(), "channels": names, "rows": rows})


def curves_view(served: ServedMix, points: int = 41, upto: float = 3.0) -> dict[str, Any]:
    """Each channel's sales per period against a steady spend per period, from 0 to
    ``upto`` times the current spend, and where the current spend lies on it."""
    frame = served.analysis.curves(points=points, upto=upto)
    current = served.current_spend()
    channels = {c.name: c for c in served.analysis.model.channels}
    curves = []
    for name in served.channels:
        part = frame[frame["channel"] == name]
        now = current[name]
        curves.append(
            {
                "channel": name,
                "current_spend": now,
                "current_sales": float(channels[name].response(now)[0]),
                "spend": part["spend"].tolist(),
                "sales": part["sales"].tolist(),
            }
        )
    return plain({**served.facts(), "points": points, "upto": upto, "curves": curves})


def holdout_view(served: ServedMix) -> dict[str, Any]:
    """The holdout check: the mix fitted without the last periods forecasts them from their
    actual spend; null with the analysis's notes when the job made no check."""
    holdout = served.analysis.holdout
    return plain(
        {
            **served.facts(),
            "holdout": None if holdout is None else dict(holdout),
            "notes": list(served.analysis.notes),
        }
    )


Bounds = Mapping[str, tuple[float | None, float | None]]


def _finite(field: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise invalid(field, str(value), f"{field} must be a finite number, got {value}")


def _check_bounds(served: ServedMix, bounds: Bounds, total: float, objective: str) -> None:
    """Each bound known, non-negative and ordered, and all of them able to hold ``total``."""
    names = served.channels
    for name in bounds:
        if name not in names:
            raise invalid(
                f"bounds.{name}",
                name,
                f"bounds.{name}: {name!r} is no fitted channel; the channels are "
                f"{', '.join(names)}",
                "unknown channel",
            )
    lows, highs = 0.0, 0.0
    for name in names:
        least, most = bounds.get(name, (None, None))
        for side, value in (("min", least), ("max", most)):
            _finite(f"bounds.{name}.{side}", value)
            if value is not None and value < 0:
                raise invalid(
                    f"bounds.{name}.{side}",
                    value,
                    f"bounds.{name}.{side} must be 0 or more, got {value:g}",
                )
        if least is not None and most is not None and most < least:
            raise invalid(
                f"bounds.{name}",
                {"min": least, "max": most},
                f"bounds.{name}: max {most:g} is below min {least:g}",
            )
        lows += least or 0.0
        highs += total if most is None else most
    if lows > total * (1 + 1e-9) or (objective == "sales" and highs < total * (1 - 1e-9)):
        raise invalid(
            "bounds",
            {n: {"min": lo, "max": hi} for n, (lo, hi) in bounds.items()},
            f"the bounds allow a total between {lows:,.2f} and {highs:,.2f}, "
            f"not the total {total:,.2f}",
            "the bounds cannot hold the total",
        )


def budget_view(
    served: ServedMix,
    *,
    total: float | None = None,
    periods: int = BUDGET_PERIODS,
    bounds: Bounds | None = None,
    objective: str = "sales",
    margin: float | None = None,
) -> dict[str, Any]:
    """The split of ``total`` over ``periods`` periods that sells the most (or, with
    ``objective="profit"``, earns the most at ``margin``), against the current split.

    ``total`` defaults to the current spend per period times ``periods``; ``bounds`` maps
    a channel to (least, most) over the same periods. A bad value is a 422 naming it.
    """
    if isinstance(periods, bool) or not 1 <= periods <= MAX_PERIODS:
        raise invalid(
            "periods",
            periods,
            f"periods must be a whole number from 1 to {MAX_PERIODS}, got {periods}",
        )
    current = sum(served.current_spend().values())
    amount = current * periods if total is None else float(total)
    _finite("total", amount)
    if amount <= 0:
        raise invalid("total", amount, f"total must be a positive budget, got {amount:g}")
    if objective not in OBJECTIVES:
        raise invalid(
            "objective", objective, f"objective must be sales or profit, not {objective!r}"
        )
    _finite("margin", margin)
    if margin is not None and not 0 < margin <= 1:
        raise invalid("margin", margin, f"margin must be above 0 and at most 1, got {margin:g}")
    if objective == "profit" and margin is None:
        raise invalid(
            "margin",
            None,
            "a profit objective needs margin: the share of a sale that is profit before "
            "advertising (0 to 1)",
        )
    limits = dict(bounds or {})
    _check_bounds(served, limits, amount, objective)
    per_period = {
        name: (None if lo is None else lo / periods, None if hi is None else hi / periods)
        for name, (lo, hi) in limits.items()
    }
    try:
        allocation = served.analysis.allocate(
            amount / periods,
            bounds=per_period,
            objective="profit" if objective == "profit" else "sales",
            margin=margin,
        )
    except ConfigError as exc:  # what the checks above missed
        raise invalid("body", None, str(exc)) from None
    answer = allocation.as_dict(periods)
    split = cast(list[dict[str, Any]], answer["channels"])
    spent = sum(float(c["spend"]) for c in split)
    profit = None
    if margin is not None:
        current_spent = sum(float(c["current_spend"]) for c in split)
        expected = margin * float(cast(float, answer["expected_sales"])) - spent
        before = margin * float(cast(float, answer["current_sales"])) - current_spent
        profit = {"expected": expected, "current": before, "gain": expected - before}
    return plain(
        {
            **served.facts(),
            **answer,
            "spent": spent,
            "profit": profit,
            "bounds": {n: {"min": lo, "max": hi} for n, (lo, hi) in limits.items()},
        }
    )


# -- routes ---------------------------------------------------------------------------------


class BoundIn(BaseModel):
    """The least and the most one channel may get, over the budget's periods."""

    min: float | None = Field(None, description="At least this much (default 0).")
    max: float | None = Field(None, description="At most this much (default: the total).")


class BudgetIn(BaseModel):
    total: float | None = Field(
        None,
        description="The budget over ``periods`` periods; default: the current spend.",
        examples=[40_000],
    )
    periods: int = Field(
        BUDGET_PERIODS, description=f"Periods the budget covers, 1 to {MAX_PERIODS}."
    )
    bounds: dict[str, BoundIn] = Field(
        default_factory=dict,
        description="Per channel, the least and the most it may get over the periods.",
        examples=[{"search": {"min": 5_000, "max": 20_000}}],
    )
    objective: str = Field(
        "sales",
        description="sales (the most sales for the budget) or profit (needs margin).",
        json_schema_extra={"enum": list(OBJECTIVES)},
    )
    margin: float | None = Field(
        None, description="The share of a sale that is profit before advertising (0 to 1)."
    )


@router.get("/summary", summary="Channels, the simple line, the holdout check and notes")
def summary(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Per channel: spend and sales from it in the window, share of sales, ROAS and
    marginal ROAS with 90% intervals, current spend per period, Hill curve and carry-over.
    Also the simple line (sales on total spend), the holdout's WAPE, MAPE and bias, the
    settings the job ran with and its notes."""
    return summary_view(_served(workspace))


@router.get("/simple", summary="The simple line: sales against total ad spend")
def simple(
    spend: Annotated[
        float | None,
        Query(
            ge=0,
            allow_inf_nan=False,
            description="Total spend in one period; default: the current spend per period.",
        ),
    ] = None,
    level: Annotated[
        float,
        Query(gt=0, lt=1, allow_inf_nan=False, description="The intervals' level, 0 to 1."),
    ] = 0.9,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """``sales = intercept + slope × spend`` per period by least squares, and one
    period's sales at ``spend`` with the intervals of the line's mean and of one period.
    It ignores carry-over, saturation, seasons and channels; the mix does not."""
    return simple_view(_served(workspace), spend, level)


@router.get("/contributions", summary="Sales per period: the organic base and each channel")
def contributions(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Per period: actual sales, the mix's fitted sales, the organic base and the sales
    each channel brought (base plus the channels add up to the fitted sales)."""
    return contributions_view(_served(workspace))


@router.get("/curves", summary="Response curves: sales per period against steady spend")
def curves(
    points: Annotated[
        int, Query(ge=2, le=MAX_POINTS, description=f"Points per curve, 2 to {MAX_POINTS}.")
    ] = 41,
    upto: Annotated[
        float,
        Query(
            gt=0,
            le=MAX_UPTO,
            allow_inf_nan=False,
            description=f"Up to this many times the current spend (at most {MAX_UPTO:g}).",
        ),
    ] = 3.0,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Per channel, the sales per period a steady spend per period brings once its
    carry-over has built up, and where the current spend lies on the curve."""
    return curves_view(_served(workspace), points, upto)


@router.get("/holdout", summary="The holdout check: forecast against actual sales")
def holdout(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The mix fitted without the last periods forecasts their sales from their actual
    spend: WAPE, MAPE, bias and both series. ``holdout`` is null when the job made no
    check (``notes`` say why)."""
    return holdout_view(_served(workspace))


@router.post("/budget", summary="Split a budget across channels by the fitted curves")
def budget(
    body: BudgetIn,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The split of ``total`` over ``periods`` that sells the most (``objective`` sales)
    or earns the most after ad spend at ``margin`` (profit, which may spend less), within
    each channel's ``bounds``; against the current mix scaled to the same total, with
    the expected gain in sales (``spent``: what the split spends; ``profit``, with a
    margin: profit after ad spend, expected and current). Amounts are totals over the
    periods."""
    bounds = {name: (b.min, b.max) for name, b in body.bounds.items()}
    return budget_view(
        _served(workspace),
        total=body.total,
        periods=body.periods,
        bounds=bounds,
        objective=body.objective,
        margin=body.margin,
    )
