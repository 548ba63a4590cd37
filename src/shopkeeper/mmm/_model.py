"""The marketing-mix model: organic orders times the controls, plus each channel's effect.

For period ``t`` (a day or a week), with the default target (``orders``)::

    orders[t] = scale * ( exp(X[t] · gamma)                      organic base
                          + sum_c beta_c * hill(adstock_c[t]) )  advertising
    sales[t]  = value[t] * (organic orders + factor * ad orders)
    value[t]  = exp(X[t] · delta)                                an organic order's worth

``X`` holds the controls of :mod:`shopkeeper.mmm._calendar` (trend, season,
weekday, festivals, promotions, prices): they scale the shop's own demand,
so a festival multiplies organic orders rather than adding a fixed amount
that a channel spending more at festivals could take credit for. Each
channel's spend goes through a normalised adstock (geometric or Weibull)
and a Hill saturation whose half point is ``kappa_c`` times the channel's
mean spend; ``beta_c`` is its effect at saturation, in units of the mean
orders ``scale``.

**Why orders first.** A day's sales are its orders times what each was
worth, and the worth of single orders varies a lot: on the demo shop (414
orders a day) the noise left on sales is 0.064 in logs against 0.048 on
the order count, 1.8 times the variance the channels must be read through.
The count is fitted first; then the order value per period, and one
factor for what an order that advertising brought is worth against the
others, are fitted on ``log(sales / orders)``
(the factor is read from the value moving with the share of ad-brought
orders). A channel's sales are its orders at that worth. ``target="sales"``
fits the sales themselves instead (the same model with ``scale`` the mean
sales and no value step): noisier, but it lets each channel's orders be
worth their own.

**How it is fitted, and why.** Maximum a-posteriori: non-linear least
squares (``scipy.optimize.least_squares``, trust region with bounds) on
the target weighted by ``1/sqrt(target)`` (the noise of a count, or of a
sum of orders, grows with it), with weakly informative priors as extra
residuals: the Hill half point near the typical spend (log kappa ~ N(0,
0.5)), the Hill shape near 1.5 (log s ~ N(log 1.5, 0.5)), decay ~ N(0.5,
0.35) and the control coefficients ~ N(0, 1); the log of the value factor
~ N(0, 0.5). Without such priors a channel's Hill curve can
flatten into a power law with a huge coefficient, the well-known way
unregularised mixes over-credit small channels. All parameters are fitted
together from several starting decays, keeping the best; the uncertainty is
the Laplace approximation (the inverse Gauss-Newton Hessian at the optimum,
priors included), propagated to returns by drawing parameters. This is the
posterior mode and a Gaussian approximation of a Bayesian model: it runs in
seconds offline, where MCMC (PyMC-Marketing) takes minutes and a compiler;
Robyn's ridge regression with an evolutionary search needs R and keeps an
additive organic base.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from shopkeeper.errors import ConfigError
from shopkeeper.mmm import _transforms as tf
from shopkeeper.mmm._calendar import control_matrix
from shopkeeper.mmm._data import MixData

logger = logging.getLogger(__name__)

Adstock = Literal["geometric", "weibull"]
Target = Literal["orders", "sales"]
TARGETS = ("orders", "sales")
START_DECAYS = (0.2, 0.5, 0.8)
START_EVALUATIONS = 120
PRIOR_LOG_KAPPA_SD = 0.5
PRIOR_SHAPE = (math.log(1.5), 0.5)
PRIOR_DECAY = (0.5, 0.35)
PRIOR_CONTROL_SD = 1.0
PRIOR_LOG_VALUE_FACTOR_SD = 0.5  # an ad-brought order is worth the usual one, give or take
DRAWS = 300
CURRENT_PERIODS = {"day": 28, "week": 4}  # "current spend": the last four weeks


@dataclass
class Channel:
    """One channel's fitted carry-over and saturation, and its effect at saturation."""

    name: str
    beta: float  # effect at saturation, sales per period
    shape: float  # Hill shape
    half: float  # Hill half point, spend per period
    adstock: dict[str, float]  # decay, or weibull shape and scale (in periods)

    def transform(self, spend: np.ndarray, kind: Adstock) -> np.ndarray:
        """Saturated adstock (0..1) of a spend series."""
        return tf.hill(_adstock(spend, kind, self.adstock), self.shape, self.half)

    def response(self, spend_per_period: np.ndarray | float) -> np.ndarray:
        """Sales per period at a steady spend per period (the adstock equals the spend)."""
        x = np.atleast_1d(np.asarray(spend_per_period, dtype=float))
        return self.beta * tf.hill(x, self.shape, self.half)

    def marginal(self, spend_per_period: float) -> float:
        """d sales / d spend at a steady spend: the next unit's return."""
        return _marginal(self.beta, self.shape, self.half, spend_per_period)


def _marginal(beta: float, shape: float, half: float, spend: float) -> float:
    """The slope of ``beta × hill(x)`` at ``x = spend`` (a steady spend: adstock = spend)."""
    x = max(float(spend), 1e-9)
    h = float(tf.hill(np.array([x]), shape, half)[0])
    return beta * shape * h * (1 - h) / x


def _adstock(spend: np.ndarray, kind: Adstock, params: dict[str, float]) -> np.ndarray:
    if kind == "geometric":
        return tf.geometric(spend, params["decay"])
    return tf.weibull(spend, params["shape"], params["scale"])


@dataclass
class MixSettings:
    """How the mix is fitted."""

    adstock: Adstock = "geometric"
    holidays: dict[str, list[str]] = field(default_factory=dict)
    max_evaluations: int = 2000
    target: Target = "orders"

    def __post_init__(self) -> None:
        if self.adstock not in tf.ADSTOCKS:
            raise ConfigError(f"adstock must be one of {', '.join(tf.ADSTOCKS)}: {self.adstock}")
        if self.target not in TARGETS:
            raise ConfigError(f"target must be one of {', '.join(TARGETS)}: {self.target}")


@dataclass
class OrderValue:
    """What an order is worth per period, and what one brought by advertising is worth.

    ``log value[t] = X[t] · gamma`` for the shop's usual order; an order that
    advertising brought is worth ``factor`` times that (one factor for all
    channels), ``factor_sd`` the standard error of its log.
    """

    gamma: np.ndarray
    factor: float
    factor_sd: float

    def per_period(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(np.clip(x @ self.gamma, -30, 30)))


@dataclass
class MixModel:
    """A fitted marketing mix (see the module doc)."""

    settings: MixSettings
    channels: list[Channel]
    control_names: list[str]
    gamma: np.ndarray  # the organic base's controls, in the target's units
    scale: float  # the target's mean per period (orders, or sales)
    target_betas: np.ndarray  # each channel's effect at saturation, in the target's units
    value: OrderValue | None  # None when the target is sales
    dates: pd.DatetimeIndex
    frequency: str
    fitted: np.ndarray  # sales per period as fitted
    base: np.ndarray  # organic sales per period
    contributions: np.ndarray  # (channels, periods): sales from each channel
    spend: np.ndarray  # (channels, periods) of the fitted channels
    sales: np.ndarray
    data: MixData  # what it was fitted on
    draws: dict[str, np.ndarray]  # per draw: roas (draws, channels), marginal, ...
    fit_seconds: float
    cost: float
    converged: bool
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    def roas(self) -> np.ndarray:
        """Return on ad spend over the window: channel sales / channel spend."""
        total = self.spend.sum(axis=1)
        return np.divide(
            self.contributions.sum(axis=1), total, out=np.zeros(len(total)), where=total > 0
        )

    def current_spend(self, periods: int | None = None) -> np.ndarray:
        """Mean spend per period over the last ``periods`` (default: four weeks)."""
        n = periods or CURRENT_PERIODS[self.frequency]
        return self.spend[:, -n:].mean(axis=1)

    def marginal_roas(self, spend: np.ndarray | None = None) -> np.ndarray:
        at = self.current_spend() if spend is None else spend
        return np.array([c.marginal(x) for c, x in zip(self.channels, at, strict=True)])

    def summary(self) -> pd.DataFrame:
        """Per channel: spend, sales, ROAS and marginal ROAS with 90% intervals, carry-over."""
        lo, hi = (np.percentile(self.draws["roas"], q, axis=0) for q in (5, 95))
        mlo, mhi = (np.percentile(self.draws["marginal"], q, axis=0) for q in (5, 95))
        rows = []
        current = self.current_spend()
        for i, c in enumerate(self.channels):
            rows.append(
                {
                    "channel": c.name,
                    "spend": float(self.spend[i].sum()),
                    "sales": float(self.contributions[i].sum()),
                    "share_of_sales": float(self.contributions[i].sum() / self.sales.sum()),
                    "roas": float(self.roas()[i]),
                    "roas_low": float(lo[i]),
                    "roas_high": float(hi[i]),
                    "current_spend": float(current[i]),
                    "marginal_roas": float(c.marginal(current[i])),
                    "marginal_low": float(mlo[i]),
                    "marginal_high": float(mhi[i]),
                    "hill_shape": c.shape,
                    "half_saturation": c.half,
                    **{f"adstock_{k}": v for k, v in c.adstock.items()},
                }
            )
        return pd.DataFrame(rows)

    def predict(self, data: MixData) -> np.ndarray:
        """Sales per period for ``data``, the periods right after the fitted window.

        The controls continue the fitted trend; spend carries over from the
        fitted window into ``data``'s first periods.
        """
        both = _concat(self.data, data)
        controls, names = _controls(both, self.settings, len(self.data))
        lookup = dict(zip(names, controls.T, strict=True))
        zeros = np.zeros(len(both))
        x = np.column_stack([lookup.get(n, zeros) for n in self.control_names])
        n = len(self.data)
        base = self.scale * np.exp(x @ self.gamma)[n:]
        index = {name: i for i, name in enumerate(both.channels)}
        ads = np.zeros(len(data))
        for c, beta in zip(self.channels, self.target_betas, strict=True):
            ads += beta * c.transform(both.spend[index[c.name]], self.settings.adstock)[n:]
        if self.value is None:
            return np.asarray(base + ads)
        worth = self.value.per_period(x)[n:]
        return np.asarray(worth * (base + self.value.factor * ads))


def _controls(
    data: MixData, settings: MixSettings, fit_periods: int | None = None
) -> tuple[np.ndarray, list[str]]:
    """Controls per period; weekly ones are the mean of the week's daily controls."""
    promotion, price = data.promotion, data.price_index
    if data.frequency != "week":
        return control_matrix(
            data.dates,
            promotion=promotion,
            price_index=price,
            holidays=settings.holidays,
            fit_days=fit_periods,
        )
    daily = pd.date_range(data.dates[0], periods=len(data) * 7, freq="D")
    fit_days = None if fit_periods is None else fit_periods * 7
    x, names = control_matrix(daily, holidays=settings.holidays, fit_days=fit_days)
    x = x.reshape(len(data), 7, -1).mean(axis=1)
    keep = [i for i in range(x.shape[1]) if i == 0 or np.ptp(x[:, i]) > 1e-12]
    cols, names = [x[:, keep]], [names[i] for i in keep]
    if np.ptp(promotion) > 1e-9:
        cols.append(promotion[:, None])
        names.append("promotion share")
    if price is not None and np.ptp(price) > 1e-6:
        cols.append(np.log(np.clip(price, 1e-3, None))[:, None])
        names.append("log price index")
    return np.column_stack(cols), names


def _concat(a: MixData, b: MixData) -> MixData:
    if a.channels != b.channels or a.frequency != b.frequency:
        raise ConfigError("the data to forecast must have the fitted channels and frequency")
    prices = None
    if a.price_index is not None and b.price_index is not None:
        prices = np.r_[a.price_index, b.price_index]
    return MixData(
        a.dates.append(b.dates),
        np.r_[a.sales, b.sales],
        np.r_[a.orders, b.orders],
        a.channels,
        np.concatenate([a.spend, b.spend], axis=1),
        np.r_[a.promotion, b.promotion],
        prices,
        a.frequency,
        a.timezone,
    )


def fit_mix(data: MixData, settings: MixSettings | None = None) -> MixModel:
    """Fit the marketing mix to ``data`` (see the module doc for the model and the fit)."""
    cfg = settings or MixSettings()
    started = time.perf_counter()
    spending = [i for i in range(len(data.channels)) if data.spend[i].sum() > 0]
    if not spending:
        raise ConfigError("no channel spent anything in the window: nothing to attribute")
    names = [data.channels[i] for i in spending]
    spend = data.spend[spending]
    sales = np.asarray(data.sales, dtype=float)
    if sales.mean() <= 0:
        raise ConfigError("the window has no sales")
    orders = np.asarray(data.orders, dtype=float)
    on_orders = cfg.target == "orders" and orders.sum() > 0
    y = orders if on_orders else sales
    scale = float(y.mean())
    x_ctl, ctl_names = _controls(data, cfg)
    problem = _Problem(y / scale, x_ctl, spend, cfg.adstock)
    best = _solve(problem, cfg.max_evaluations)
    gamma, betas, params = problem.unpack(best.x)
    organic = scale * np.exp(x_ctl @ gamma)
    ads = np.array([scale * betas[c] * problem.saturated(c, params[c]) for c in range(len(names))])
    recent = CURRENT_PERIODS[data.frequency]
    value = _fit_order_value(sales, orders, x_ctl, organic, ads.sum(axis=0)) if on_orders else None
    worth = np.ones(len(y)) if value is None else value.per_period(x_ctl)
    factor = 1.0 if value is None else value.factor
    # The curves answer "what would a steady spend sell now": valued at the recent order.
    worth_now = float(worth[-recent:].mean()) * factor
    channels = [
        Channel(
            name=names[c],
            beta=float(betas[c] * scale * worth_now),
            shape=float(params[c]["shape_hill"]),
            half=float(params[c]["kappa"] * problem.mean_spend[c]),
            adstock={k: float(v) for k, v in params[c].items() if k in ("decay", "shape", "scale")},
        )
        for c in range(len(names))
    ]
    base = worth * organic
    contributions = factor * worth * ads
    draws = _draws(problem, best, scale, spend, recent, worth, value)
    return MixModel(
        settings=cfg,
        channels=channels,
        control_names=ctl_names,
        gamma=gamma,
        scale=scale,
        target_betas=np.asarray(betas * scale, dtype=float),
        value=value,
        dates=data.dates,
        frequency=data.frequency,
        fitted=base + contributions.sum(axis=0),
        base=base,
        contributions=contributions,
        spend=spend,
        sales=sales,
        data=data,
        draws=draws,
        fit_seconds=time.perf_counter() - started,
        cost=float(best.cost),
        converged=bool(best.status > 0),
        info={
            "evaluations": int(best.nfev),
            "left_out": sorted(set(data.channels) - set(names)),
            "target": "orders" if on_orders else "sales",
        },
    )


def _solve(problem: _Problem, max_evaluations: int) -> Any:
    """The best of a few short starts, then refitted with the noise reweighed."""
    best = None
    # Each start gets a short budget (they converge in tens of evaluations when they
    # converge at all; a start that wanders is cut off), the best one the full budget.
    for decay in START_DECAYS:
        result = problem.solve(problem.start(decay), min(START_EVALUATIONS, max_evaluations))
        logger.debug(
            "start decay %.1f: cost %.4g after %d evaluations", decay, result.cost, result.nfev
        )
        if best is None or result.cost < best.cost:
            best = result
    assert best is not None
    # The first guess of the noise (from day-to-day changes) also holds the weekday
    # rhythm; now that the model explains it, weigh again by the residuals' own size
    # so that the priors carry the weight they were meant to, and refit from there.
    rms = float(np.sqrt(np.mean(best.fun[: problem.n] ** 2)))
    if rms > 0:
        problem.w = problem.w / rms
    return problem.solve(best.x, max_evaluations)


def _fit_order_value(
    sales: np.ndarray, orders: np.ndarray, x: np.ndarray, organic: np.ndarray, ads: np.ndarray
) -> OrderValue:
    """The order value per period, and the factor an ad-brought order is worth more or less.

    ``log(sales / orders)[t] = X[t] · gamma + log(1 + (factor - 1) * ad_share[t])``,
    with ``ad_share`` the fitted share of the period's orders that advertising
    brought; weighted by the orders (a mean of more orders is steadier). The
    factor is told apart from the controls by the ad share moving with the
    flights of spend.
    """
    seen = (orders > 0) & (sales > 0)
    share = ads / np.maximum(organic + ads, 1e-12)
    log_value = np.log(sales[seen] / orders[seen])
    xs, ss = x[seen], share[seen]
    w = np.sqrt(orders[seen])
    p = x.shape[1]

    def residuals(theta: np.ndarray) -> np.ndarray:
        fit = xs @ theta[:p] + np.log1p(np.expm1(theta[p]) * ss)
        return np.r_[
            w * (log_value - fit),
            theta[1:p] / PRIOR_CONTROL_SD,
            theta[p] / PRIOR_LOG_VALUE_FACTOR_SD,
        ]

    start = np.zeros(p + 1)
    start[0] = float(np.average(log_value, weights=w**2))
    result = least_squares(residuals, start, method="lm")
    # In units of the noise, so that the priors weigh what they should; then refit.
    rms = float(np.sqrt(np.mean(result.fun[: len(w)] ** 2)))
    if rms > 0:
        w = w / rms
        result = least_squares(residuals, result.x, method="lm")
    try:
        cov = np.linalg.pinv(result.jac.T @ result.jac)
        sd = math.sqrt(max(float(cov[p, p]), 0.0))
    except np.linalg.LinAlgError:
        sd = 0.0
    return OrderValue(gamma=result.x[:p], factor=float(math.exp(result.x[p])), factor_sd=sd)


class _Problem:
    """The residuals and their Jacobian for ``least_squares``.

    Parameters, in order: the control coefficients, each channel's beta, then
    per channel its adstock parameters (decay; or Weibull shape and scale),
    its Hill shape and the log of its half point over its mean spend.
    """

    def __init__(self, y: np.ndarray, x: np.ndarray, spend: np.ndarray, kind: Adstock) -> None:
        self.y, self.x, self.spend, self.kind = y, x, spend, kind
        self.n, self.p = x.shape
        self.c = spend.shape[0]
        self.mean_spend = np.maximum(spend.mean(axis=1), 1e-9)
        self.n_ad = 1 if kind == "geometric" else 2
        self.per = self.n_ad + 2
        # The controls but the intercept, and per channel its decay (geometric only),
        # its Hill shape and its half point.
        self.n_priors = self.p - 1 + self.c * (2 + (kind == "geometric"))
        # Noise grows with sales (a sum of orders): weight by 1/sqrt(sales), floored.
        sigma = np.sqrt(np.maximum(y, 0.25 * y.mean()))
        self.w = 1.0 / sigma
        # Scale the weights so that the residuals are in units of the noise: estimated
        # from day-to-day differences, which the slow controls barely touch.
        noise = np.median(np.abs(np.diff(y * self.w))) / 0.6745 / math.sqrt(2)
        self.w /= max(noise, 1e-9)
        self.limits = self.bounds()

    def size(self) -> int:
        return self.p + self.c + self.c * self.per

    def start(self, decay: float) -> np.ndarray:
        theta = np.zeros(self.size())
        theta[0] = math.log(0.8)  # organic sales start at 80% of the mean
        theta[self.p : self.p + self.c] = 0.2 / self.c * 2
        for c in range(self.c):
            at = self.p + self.c + c * self.per
            if self.kind == "geometric":
                theta[at] = decay
            else:
                theta[at : at + 2] = (1.5, 1.0 + 6.0 * decay)
            theta[at + self.n_ad] = 1.5
            theta[at + self.n_ad + 1] = 0.0
        return theta

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.full(self.size(), -np.inf)
        hi = np.full(self.size(), np.inf)
        lo[self.p : self.p + self.c] = 0.0
        hi[self.p : self.p + self.c] = 10.0
        for c in range(self.c):
            at = self.p + self.c + c * self.per
            if self.kind == "geometric":
                lo[at], hi[at] = 0.0, 0.95
            else:
                lo[at : at + 2] = (0.3, 0.3)
                hi[at : at + 2] = (8.0, 20.0)
            lo[at + self.n_ad], hi[at + self.n_ad] = 0.5, 4.0
            lo[at + self.n_ad + 1], hi[at + self.n_ad + 1] = math.log(0.25), math.log(4.0)
        return lo, hi

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
        gamma = theta[: self.p]
        betas = theta[self.p : self.p + self.c]
        params = []
        for c in range(self.c):
            at = self.p + self.c + c * self.per
            if self.kind == "geometric":
                ad = {"decay": float(theta[at])}
            else:
                ad = {"shape": float(theta[at]), "scale": float(theta[at + 1])}
            ad["shape_hill"] = float(theta[at + self.n_ad])
            ad["kappa"] = float(math.exp(theta[at + self.n_ad + 1]))
            params.append(ad)
        return gamma, betas, params

    def saturated(self, c: int, params: dict[str, float]) -> np.ndarray:
        a = _adstock(self.spend[c], self.kind, params)
        return tf.hill(a, params["shape_hill"], params["kappa"] * self.mean_spend[c])

    def _model(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        gamma, betas, params = self.unpack(theta)
        base = np.exp(np.clip(self.x @ gamma, -30, 30))
        sat = np.array([self.saturated(c, params[c]) for c in range(self.c)])
        return base, betas, sat, params

    def _priors(self, theta: np.ndarray) -> np.ndarray:
        out = [theta[1 : self.p] / PRIOR_CONTROL_SD]
        for c in range(self.c):
            at = self.p + self.c + c * self.per
            if self.kind == "geometric":
                out.append(np.array([(theta[at] - PRIOR_DECAY[0]) / PRIOR_DECAY[1]]))
            shape = theta[at + self.n_ad]
            out.append(np.array([(math.log(shape) - PRIOR_SHAPE[0]) / PRIOR_SHAPE[1]]))
            out.append(np.array([theta[at + self.n_ad + 1] / PRIOR_LOG_KAPPA_SD]))
        return np.concatenate(out)

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        base, betas, sat, _ = self._model(theta)
        mu = base + betas @ sat
        return np.concatenate([self.w * (self.y - mu), self._priors(theta)])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        base, betas, sat, _ = self._model(theta)
        rows = self.n + self.n_priors
        jac = np.zeros((rows, self.size()))
        jac[: self.n, : self.p] = -(self.w * base)[:, None] * self.x
        jac[: self.n, self.p : self.p + self.c] = -(self.w[:, None] * sat.T)
        # The channels' own parameters: central differences on that channel alone,
        # kept inside the bounds (a decay just below 0 is not a decay).
        lo, hi = self.limits
        for c in range(self.c):
            at = self.p + self.c + c * self.per
            for j in range(self.per):
                k = at + j
                h = 1e-5 * max(1.0, abs(theta[k]))
                up, down = theta.copy(), theta.copy()
                up[k] = min(theta[k] + h, hi[k])
                down[k] = max(theta[k] - h, lo[k])
                s_up = self.saturated(c, self.unpack(up)[2][c])
                s_down = self.saturated(c, self.unpack(down)[2][c])
                step = up[k] - down[k]
                jac[: self.n, k] = -self.w * betas[c] * (s_up - s_down) / step
        # The priors' rows.
        r = self.n
        jac[r : r + self.p - 1, 1 : self.p] = np.eye(self.p - 1) / PRIOR_CONTROL_SD
        r += self.p - 1
        for c in range(self.c):
            at = self.p + self.c + c * self.per
            if self.kind == "geometric":
                jac[r, at] = 1.0 / PRIOR_DECAY[1]
                r += 1
            jac[r, at + self.n_ad] = 1.0 / (theta[at + self.n_ad] * PRIOR_SHAPE[1])
            jac[r + 1, at + self.n_ad + 1] = 1.0 / PRIOR_LOG_KAPPA_SD
            r += 2
        return jac

    def solve(self, start: np.ndarray, max_evaluations: int) -> Any:
        lo, hi = self.limits
        return least_squares(
            self.residuals,
            np.clip(start, lo + 1e-9, hi - 1e-9),
            jac=self.jacobian,
            bounds=(lo, hi),
            x_scale="jac",
            max_nfev=max_evaluations,
        )


def _draws(
    problem: _Problem,
    best: Any,
    scale: float,
    spend: np.ndarray,
    recent: int,
    worth: np.ndarray,
    value: OrderValue | None,
) -> dict[str, np.ndarray]:
    """Returns and marginal returns per parameter draw from the Laplace approximation.

    With an order value, its factor is drawn too (independently: it is fitted
    after the mix); the value per period itself is held at its fit.
    """
    jac = best.jac
    try:
        cov = np.linalg.pinv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = np.zeros((len(best.x), len(best.x)))
    rng = np.random.default_rng(0)
    lo, hi = problem.limits
    # Draw only the advertising parameters; the controls are held at their mode.
    ad = slice(problem.p, problem.size())
    sub = cov[ad, ad]
    sub = (sub + sub.T) / 2
    values, vectors = np.linalg.eigh(sub)
    root = vectors * np.sqrt(np.clip(values, 0, None))
    noise = rng.standard_normal((DRAWS, sub.shape[0])) @ root.T
    current = spend[:, -recent:].mean(axis=1)
    roas = np.zeros((DRAWS, problem.c))
    marginal = np.zeros((DRAWS, problem.c))
    total = np.maximum(spend.sum(axis=1), 1e-9)
    if value is None:
        factors = np.ones(DRAWS)
    else:
        factors = value.factor * np.exp(value.factor_sd * rng.standard_normal(DRAWS))
    worth_now = float(worth[-recent:].mean())
    for k in range(DRAWS):
        theta = best.x.copy()
        theta[ad] += noise[k]
        theta = np.clip(theta, lo + 1e-9, hi - 1e-9)
        _, betas, params = problem.unpack(theta)
        for c in range(problem.c):
            sat = problem.saturated(c, params[c])
            roas[k, c] = factors[k] * scale * betas[c] * (worth * sat).sum() / total[c]
            half = params[c]["kappa"] * problem.mean_spend[c]
            shape = params[c]["shape_hill"]
            beta = factors[k] * worth_now * scale * betas[c]
            marginal[k, c] = _marginal(beta, shape, half, current[c])
    return {"roas": roas, "marginal": marginal}
