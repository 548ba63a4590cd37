"""Budget allocation: the split of a budget across channels that sells the most.

For a steady spend ``x_c`` per period on each channel, the fitted mix gives
each channel's sales per period ``R_c(x_c)`` (its Hill curve at an adstock
equal to the spend). The allocation maximises ``sum_c R_c(x_c)`` subject to
``sum_c x_c = budget``, or the profit ``margin × sum_c R_c(x_c) - sum_c x_c``
subject to ``sum_c x_c <= budget`` (spending less can earn more), within the
bounds the user sets per channel, by SLSQP
from several starts (the current split, an even split and a greedy split
built in small steps, which finds its way along S-shaped curves where a
local method alone can stall). The gain is measured against the current
split (the last four weeks' mix) scaled to the same budget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import minimize

from shopkeeper.errors import ConfigError
from shopkeeper.mmm._model import MixModel

Objective = Literal["sales", "profit"]
GREEDY_STEPS = 400


@dataclass
class Allocation:
    """A recommended split and what it is expected to sell, against the current split."""

    channels: list[str]
    budget: float  # per period (the profit objective may spend less)
    spend: np.ndarray  # recommended, per period
    sales: np.ndarray  # expected sales per period per channel at ``spend``
    current_spend: np.ndarray  # the current mix scaled to ``budget``
    current_sales: np.ndarray
    objective: Objective
    margin: float | None

    @property
    def gain(self) -> float:
        """Extra sales per period of the recommended split over the current one."""
        return float(self.sales.sum() - self.current_sales.sum())

    def as_dict(self, periods: int = 1) -> dict[str, object]:
        """The allocation over ``periods`` periods (a month of days, say)."""
        return {
            "budget": self.budget * periods,
            "periods": periods,
            "objective": self.objective,
            "margin": self.margin,
            "expected_sales": float(self.sales.sum() * periods),
            "current_sales": float(self.current_sales.sum() * periods),
            "gain": self.gain * periods,
            "gain_share": self.gain / max(float(self.current_sales.sum()), 1e-9),
            "channels": [
                {
                    "channel": name,
                    "spend": float(self.spend[i] * periods),
                    "current_spend": float(self.current_spend[i] * periods),
                    "sales": float(self.sales[i] * periods),
                    "current_sales": float(self.current_sales[i] * periods),
                }
                for i, name in enumerate(self.channels)
            ],
        }


def allocate(
    model: MixModel,
    budget: float,
    *,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    objective: Objective = "sales",
    margin: float | None = None,
) -> Allocation:
    """The best split of ``budget`` (spend per period) within per-channel ``bounds``.

    ``bounds`` maps a channel to (least, most) spend per period; a missing
    side is 0 / the whole budget. ``objective="profit"`` needs ``margin``, the
    share of a sale that is profit before advertising.
    """
    names = model.channel_names
    if budget <= 0:
        raise ConfigError(f"the budget must be positive, got {budget}")
    if objective not in ("sales", "profit"):
        raise ConfigError(f"objective must be sales or profit, not {objective!r}")
    if objective == "profit" and (margin is None or not 0 < margin <= 1):
        raise ConfigError("a profit objective needs a margin between 0 and 1")
    unknown = sorted(set(bounds or {}) - set(names))
    if unknown:
        raise ConfigError(f"no fitted channel {unknown}; the channels are {', '.join(names)}")
    lo = np.zeros(len(names))
    hi = np.full(len(names), float(budget))
    for i, name in enumerate(names):
        least, most = (bounds or {}).get(name, (None, None))
        lo[i] = 0.0 if least is None else float(least)
        hi[i] = float(budget) if most is None else float(most)
        if lo[i] < 0 or hi[i] < lo[i]:
            raise ConfigError(f"bounds for {name}: need 0 <= least <= most, got {lo[i]}, {hi[i]}")
    if lo.sum() > budget + 1e-9 or (objective == "sales" and hi.sum() < budget - 1e-9):
        raise ConfigError(
            f"the bounds allow a total between {lo.sum():,.2f} and {hi.sum():,.2f}, "
            f"not the budget {budget:,.2f}"
        )
    profit = objective == "profit"
    weight = float(margin) if profit and margin is not None else 1.0
    cost = 1.0 if profit else 0.0

    def value(x: np.ndarray) -> float:
        sales = sum(float(c.response(x[i])[0]) for i, c in enumerate(model.channels))
        return weight * sales - cost * float(x.sum())

    def gradient(x: np.ndarray) -> np.ndarray:
        marginal = np.array([c.marginal(x[i]) for i, c in enumerate(model.channels)])
        return weight * marginal - cost

    current = model.current_spend()
    scaled = _project(current * budget / max(current.sum(), 1e-9), lo, hi, budget)
    starts = [scaled, _project(np.full(len(names), budget / len(names)), lo, hi, budget)]
    starts.append(_greedy(gradient, lo, hi, budget, stop_at_loss=profit))
    if profit:
        hi = np.minimum(hi, budget)
    total = (
        {"type": "ineq", "fun": lambda x: budget - x.sum()}
        if profit
        else {"type": "eq", "fun": lambda x: x.sum() - budget}
    )
    best_x, best_v = starts[0], value(starts[0])
    for x0 in starts:
        result = minimize(
            lambda x: -value(x),
            x0,
            jac=lambda x: -gradient(x),
            method="SLSQP",
            bounds=list(zip(lo, hi, strict=True)),
            constraints=[total],
            options={"maxiter": 200, "ftol": 1e-10},
        )
        x = np.clip(result.x, lo, hi)
        if not profit or x.sum() > budget:
            x = _project(x, lo, hi, budget)
        for candidate in (x, x0):
            v = value(candidate)
            if v > best_v:
                best_x, best_v = candidate, v
    responses = [c.response for c in model.channels]
    return Allocation(
        channels=names,
        budget=float(budget),
        spend=best_x,
        sales=np.array([float(r(best_x[i])[0]) for i, r in enumerate(responses)]),
        current_spend=scaled,
        current_sales=np.array([float(r(scaled[i])[0]) for i, r in enumerate(responses)]),
        objective=objective,
        margin=margin,
    )


def _project(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """The nearest split within the bounds that sums to ``total`` (bisection on a shift)."""
    a, b = -total - hi.max(), total + hi.max()
    for _ in range(100):
        mid = (a + b) / 2
        if np.clip(x + mid, lo, hi).sum() > total:
            b = mid
        else:
            a = mid
    return np.clip(x + (a + b) / 2, lo, hi)


def _greedy(
    gradient: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    total: float,
    *,
    stop_at_loss: bool = False,
) -> np.ndarray:
    """Spend the budget above the minimums in small steps, each where it returns most.

    ``stop_at_loss``: stop once no step earns back its cost (the profit objective).
    """
    x = lo.copy()
    step = (total - lo.sum()) / GREEDY_STEPS
    if step <= 0:
        return x
    for _ in range(GREEDY_STEPS):
        # The return of the next step (averaged over the step, for S-shaped curves).
        ahead = np.minimum(x + step, hi)
        gain = np.where(ahead > x, (gradient(ahead) + gradient(x)) / 2, -np.inf)
        i = int(np.argmax(gain))
        if not np.isfinite(gain[i]) or (stop_at_loss and gain[i] <= 0):
            break
        x[i] = ahead[i]
    return x if stop_at_loss else _project(x, lo, hi, total)
