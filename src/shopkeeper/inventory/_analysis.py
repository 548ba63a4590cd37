"""The ``inventory`` job: today's reorder plan and its replay, saved as one artifact.

The job reads the store's inventory and order lines, makes the reorder plan
(:func:`reorder_plan`) and, unless ``holdout_days`` is 0, replays the policy
next to the naive rule over the last ``holdout_days`` (:func:`simulate`), so
that the plan in service carries the evidence for it. Parameters are those of
:class:`PolicySettings` plus ``holdout_days`` and ``warmup_days``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.inventory._data import Stock, load_stock
from shopkeeper.inventory._forecast import Forecaster, MovingAverage, forecaster_name
from shopkeeper.inventory._plan import reorder_plan
from shopkeeper.inventory._policy import PolicySettings
from shopkeeper.inventory._simulate import simulate
from shopkeeper.jobs import (
    JobContext,
    JobOutcome,
    current_artifact,
    load_artifact,
    register,
    save_artifact,
    settings_from_params,
)
from shopkeeper.workspace import Workspace

FORMAT = 1
ARTIFACT = "inventory.pkl"
PLAN_CSV = "reorder_plan.csv"


@dataclass(frozen=True)
class ReplaySettings:
    """``holdout_days``: the days replayed (0: no replay); ``warmup_days``: simulated first."""

    holdout_days: int = 56
    warmup_days: int = 56

    def __post_init__(self) -> None:
        if self.holdout_days < 0 or self.warmup_days < 0:
            raise ConfigError("holdout_days and warmup_days must be 0 or more")


def split_params(params: dict[str, Any]) -> tuple[PolicySettings, ReplaySettings]:
    """Job parameters as the policy's settings and the replay's; unknown names refused."""
    replay_names = {f.name for f in fields(ReplaySettings)}
    policy_names = {f.name for f in fields(PolicySettings)}
    unknown = sorted(set(params) - replay_names - policy_names)
    if unknown:
        known = sorted(replay_names | policy_names)
        raise ConfigError(f"unknown inventory parameters {unknown}; known: {known}")
    policy = {k: v for k, v in params.items() if k in policy_names}
    replay = {k: v for k, v in params.items() if k in replay_names}
    return (
        settings_from_params(PolicySettings, policy, "inventory"),
        settings_from_params(ReplaySettings, replay, "inventory"),
    )


@dataclass
class InventoryPlan:
    """The artifact: the plan for ``as_of``, how it was made, and its replay (if run)."""

    plan: pd.DataFrame
    as_of: str
    timezone: str
    settings: PolicySettings
    forecaster: str
    simulation: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    format: int = FORMAT

    def save(self, path: Path) -> None:
        save_artifact(self, path)

    @classmethod
    def load(cls, path: Path) -> InventoryPlan:
        return load_artifact(cls, path, "inventory", FORMAT)

    def metrics(self) -> dict[str, Any]:
        """Headline figures: rows planned, orders due, money, and the replay's fill rates."""
        plan = self.plan
        out: dict[str, Any] = {
            "as_of": self.as_of,
            "items": len(plan),
            "orders_due": int(plan["order_now"].sum()),
            "order_value": round(float(plan["order_value"].sum()), 2),
            "stock_value": round(float(plan["stock_value"].sum()), 2),
            "at_risk": int((plan["stockout_risk"] >= 0.5).sum()),
        }
        if self.simulation:
            for row in self.simulation["policies"]:
                name = str(row["policy"])
                key = (
                    "policy"
                    if name == "policy"
                    else ("policy_naive_quantity" if name.startswith("policy") else "naive")
                )
                out[f"{key}_fill_rate"] = round(row["fill_rate"], 4)
                out[f"{key}_average_value"] = round(row["average_value"], 2)
        return out


def plan_stock(
    stock: Stock,
    settings: PolicySettings | None = None,
    replay: ReplaySettings | None = None,
    forecaster: Forecaster | None = None,
) -> InventoryPlan:
    """The plan for ``stock`` and, when asked and the data is long enough, its replay."""
    cfg = settings or PolicySettings()
    rep = replay or ReplaySettings()
    model = forecaster or MovingAverage(cfg.window)
    plan = reorder_plan(stock, cfg, model)
    notes = list(stock.notes)
    simulation = None
    if rep.holdout_days:
        if rep.holdout_days + 14 > stock.demand.shape[1]:
            notes.append(
                f"no replay: the data's {stock.demand.shape[1]} days are too few for a "
                f"{rep.holdout_days}-day holdout"
            )
        else:
            sim = simulate(
                stock, cfg, model, holdout_days=rep.holdout_days, warmup_days=rep.warmup_days
            )
            simulation = sim.to_dict()
    return InventoryPlan(
        plan=plan,
        as_of=str(stock.as_of.date()),
        timezone=stock.timezone,
        settings=cfg,
        forecaster=forecaster_name(model),
        simulation=simulation,
        notes=notes,
    )


@register("inventory", "Reorder plan: safety stock, reorder points, orders due, stock-out risk")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read stock and demand, make the plan, replay it, save the artifact."""
    settings, replay = split_params(dict(ctx.params))
    ctx.progress(0.02, "reading inventory and demand")
    stock = load_stock(ctx.store)
    ctx.progress(0.4, "planning and replaying the policy")
    result = plan_stock(stock, settings, replay)
    result.save(ctx.artifact_dir / ARTIFACT)
    # A plain table beside the pickle, for people who open the folder.
    result.plan.to_csv(ctx.artifact_dir / PLAN_CSV, index=False, float_format="%.6g")
    metrics = result.metrics()
    metrics["settings"] = {**asdict(settings), **asdict(replay)}
    return JobOutcome(metrics=_finite(metrics))


def _finite(value: Any) -> Any:
    """Metrics as JSON allows them: NaN and infinity as None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def load_plan(ws: Workspace) -> InventoryPlan:
    """The plan of the last successful ``inventory`` job."""
    folder = current_artifact(ws, "inventory")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no reorder plan yet; run 'shopkeeper train inventory' first")
    return InventoryPlan.load(folder / ARTIFACT)
