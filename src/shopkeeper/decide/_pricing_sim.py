"""The price bandit on the demo shop's planted price response: what learning a price costs.

The demo shop multiplies a product's demand by ``(price / list_price) **
elasticity`` (its category's planted elasticity; ``ground_truth.json``,
``elasticity_by_top_category``). The simulation here turns that into
visitors who each see one price:

- a product sells ``daily_units`` a day at its list price (the reference),
  measured from the shop's undiscounted order lines at that price;
- ``visitors`` a day arrive, Poisson with mean ``daily_units / conversion``;
- a visitor shown price ``p`` buys one unit with chance
  ``min(1, conversion * (p / reference) ** elasticity)``, so at the list price
  the expected units are the observed ones and the price response is the
  planted constant elasticity;
- the reward of a visitor is the margin ``p - cost`` if they buy (0 if not),
  or the revenue ``p`` with ``reward="revenue"``.

The arms are the prices of :meth:`PriceGuardrails.grid` (the daily-step
limit does not apply: prices vary by visitor, not by day). Regret is the
expected one: each visitor adds the best arm's expected reward minus that of
the arm shown, so the luck of who bought does not blur the comparison. Every
policy meets the same visitors with the same uniform draws deciding whether
each would buy at each price (common random numbers), and each seed draws
a new set of visitors.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from shopkeeper.decide._bandits import (
    UCB1,
    BernoulliThompson,
    EpsilonGreedy,
    ExplorationCap,
    GaussianThompson,
    LinUCB,
)
from shopkeeper.decide._guardrails import PriceGuardrails
from shopkeeper.errors import ConfigError

Reward = Literal["margin", "revenue"]
DEFAULT_POLICIES = ("fixed", "greedy", "thompson", "gaussian-thompson")


@dataclass(frozen=True)
class PricedProduct:
    """A product the price bandit runs on: its list price, cost, elasticity and demand."""

    product_id: str
    reference: float
    cost: float
    elasticity: float
    daily_units: float

    def __post_init__(self) -> None:
        if not self.reference > 0 or not self.cost >= 0 or not self.daily_units > 0:
            raise ConfigError(
                f"product {self.product_id!r}: reference price {self.reference!r} and daily "
                f"units {self.daily_units!r} must be above 0, cost {self.cost!r} at least 0"
            )
        if not math.isfinite(self.elasticity):
            raise ConfigError(f"product {self.product_id!r}: elasticity must be finite")


def priced_products(
    products: pd.DataFrame,
    order_lines: pd.DataFrame,
    orders: pd.DataFrame,
    elasticity_by_top_category: Mapping[str, float],
    *,
    count: int = 20,
    window_days: int = 90,
) -> list[PricedProduct]:
    """The ``count`` best sellers at list price over the last ``window_days`` days.

    ``daily_units`` is the units sold at the product's current list price
    without discount in the window, over ``window_days`` (days on promotion
    or out of stock count as days, so it is a little low for those products).
    Cancelled orders do not count. The elasticity is the one planted for the
    product's top category (the part of ``category`` before ``" > "``).
    """
    if count < 1 or window_days < 1:
        raise ConfigError(f"count={count!r} and window_days={window_days!r}: must be at least 1")
    when = pd.to_datetime(orders["ordered_at"], utc=True, format="mixed")
    end = when.max()
    kept = orders.loc[(when > end - pd.Timedelta(days=window_days)).to_numpy(), ["order_id"]]
    if "status" in orders:
        kept = kept[orders.loc[kept.index, "status"].to_numpy() != "cancelled"]
    lines = order_lines.merge(kept, on="order_id")
    catalog = products.set_index("product_id")
    listed = catalog["price"].reindex(lines["product_id"]).to_numpy()
    discount = lines["discount"].fillna(0).to_numpy() if "discount" in lines else 0.0
    at_list = (np.abs(lines["unit_price"].to_numpy() - listed) < 0.005) & (discount == 0)
    units = lines.loc[at_list].groupby("product_id")["quantity"].sum()
    units = units.sort_values(ascending=False, kind="stable")

    out: list[PricedProduct] = []
    for product_id, sold in units.items():
        row = catalog.loc[product_id]
        top = str(row["category"]).split(" > ")[0]
        if top not in elasticity_by_top_category or not row["cost"] >= 0:
            continue
        out.append(
            PricedProduct(
                product_id=str(product_id),
                reference=float(row["price"]),
                cost=float(row["cost"]),
                elasticity=float(elasticity_by_top_category[top]),
                daily_units=float(sold) / window_days,
            )
        )
        if len(out) == count:
            break
    return out


def demo_products(shop: Any, *, count: int = 20, window_days: int = 90) -> list[PricedProduct]:
    """:func:`priced_products` of a generated :class:`~shopkeeper.demo.DemoShop`."""
    t = shop.tables
    return priced_products(
        t["products"],
        t["order_lines"],
        t["orders"],
        shop.truth["elasticity_by_top_category"],
        count=count,
        window_days=window_days,
    )


@dataclass(frozen=True)
class PriceEnvironment:
    """One product's simulated visitors for one seed, and the truth about its prices.

    ``prices`` are the arms; ``buy_chance[a]`` the planted chance a visitor
    buys at ``prices[a]``; ``values[a]`` what a purchase there earns;
    ``expected[a] = values[a] * buy_chance[a]``; ``best`` the arm with the
    highest. ``visitors[d]`` arrive on day ``d``; visitor ``i`` would buy at
    arm ``a`` exactly when ``uniforms[i] < buy_chance[a]``. ``list_chance``
    and ``list_value`` are the same for the list price itself (which need not
    be on the grid), ``list_expected`` their product.
    """

    product: PricedProduct
    prices: np.ndarray
    values: np.ndarray
    buy_chance: np.ndarray
    expected: np.ndarray
    best: int
    list_chance: float
    list_value: float
    visitors: np.ndarray
    uniforms: np.ndarray

    @property
    def list_expected(self) -> float:
        return self.list_chance * self.list_value

    def rewards(self, arms: np.ndarray) -> np.ndarray:
        """The reward of each visitor, in order, shown the arms ``arms``."""
        return np.where(self.uniforms < self.buy_chance[arms], self.values[arms], 0.0)

    def daily_regret(self, arms: np.ndarray) -> np.ndarray:
        """Expected regret per day of showing ``arms`` (one per visitor, in order)."""
        gap = self.expected[self.best] - self.expected[arms]
        day = np.repeat(np.arange(len(self.visitors)), self.visitors)
        return np.bincount(day, gap, minlength=len(self.visitors))


def _stream(*parts: int | str) -> np.random.Generator:
    """A random stream of its own for each (seed, product, user) combination."""
    keys = [p if isinstance(p, int) else zlib.crc32(p.encode()) for p in parts]
    return np.random.default_rng(keys)


def buy_chance(product: PricedProduct, prices: np.ndarray, conversion: float) -> np.ndarray:
    """The planted chance that one visitor buys at each of ``prices``."""
    rel = np.asarray(prices, dtype=float) / product.reference
    return np.asarray(np.minimum(1.0, conversion * rel**product.elasticity))


def price_environment(
    product: PricedProduct,
    seed: int,
    *,
    days: int = 90,
    guardrails: PriceGuardrails | None = None,
    points: int = 7,
    conversion: float = 0.05,
    reward: Reward = "margin",
) -> PriceEnvironment:
    """The visitors of ``product`` over ``days`` days for ``seed``, and its arms' truth."""
    if not 0 < conversion <= 1:
        raise ConfigError(f"conversion={conversion!r}: must be a share in (0, 1]")
    if reward not in ("margin", "revenue"):
        raise ConfigError(f"reward={reward!r}: must be 'margin' or 'revenue'")
    if days < 1:
        raise ConfigError(f"days={days!r}: must be at least 1")
    rails = guardrails or PriceGuardrails()
    prices = rails.grid(product.reference, product.cost, points)
    chance = buy_chance(product, prices, conversion)
    values = prices - product.cost if reward == "margin" else prices.copy()
    expected = values * chance
    at_list = float(buy_chance(product, np.array([product.reference]), conversion)[0])
    list_value = product.reference - (product.cost if reward == "margin" else 0.0)

    rng = _stream(seed, product.product_id, "visitors")
    visitors = rng.poisson(product.daily_units / conversion, days)
    uniforms = rng.random(int(visitors.sum()))
    return PriceEnvironment(
        product=product,
        prices=prices,
        values=values,
        buy_chance=chance,
        expected=expected,
        best=int(np.argmax(expected)),
        list_chance=at_list,
        list_value=list_value,
        visitors=visitors,
        uniforms=uniforms,
    )


class Learner(Protocol):
    """What the simulation needs of a policy: pick an arm, learn its reward."""

    def select(self, context: np.ndarray | None, rng: np.random.Generator) -> int: ...

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None: ...


@dataclass
class ExploreThenGreedy:
    """Each arm ``visits`` times in turn, then always the best average so far (ties: first)."""

    arms: int
    visits: int = 20
    counts: np.ndarray = field(init=False)
    sums: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.counts = np.zeros(self.arms, dtype=np.int64)
        self.sums = np.zeros(self.arms)

    def select(self, context: np.ndarray | None, rng: np.random.Generator) -> int:
        seen = int(self.counts.sum())
        if seen < self.arms * self.visits:
            return seen % self.arms
        return int(np.argmax(self.sums / np.maximum(self.counts, 1)))

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        self.counts[action] += 1
        self.sums[action] += reward


PolicyFactory = Callable[[PriceEnvironment, PriceGuardrails], Learner]


def _names(env: PriceEnvironment) -> list[str]:
    return [f"{p:.2f}" for p in env.prices]


def _bernoulli(env: PriceEnvironment, rails: PriceGuardrails) -> BernoulliThompson:
    # Only the purchase is uncertain; each price's margin is known, so the
    # Beta posterior learns a chance and the margin scales it.
    return BernoulliThompson(_names(env), values=env.values.tolist())


def _gaussian(env: PriceEnvironment, rails: PriceGuardrails) -> Learner:
    top = float(env.values.max())
    return GaussianThompson(_names(env), prior_mean=0.0, prior_sd=top)


POLICIES: dict[str, PolicyFactory] = {
    "greedy": lambda env, rails: ExploreThenGreedy(len(env.prices)),
    "thompson": lambda env, rails: ExplorationCap.from_guardrails(_bernoulli(env, rails), rails),
    "thompson-uncapped": _bernoulli,
    "gaussian-thompson": _gaussian,
    "epsilon-greedy": lambda env, rails: EpsilonGreedy(_names(env), epsilon=0.1),
    "ucb": lambda env, rails: UCB1(_names(env), scale=float(env.values.max())),
    "linucb": lambda env, rails: LinUCB(_names(env), 1, alpha=float(env.values.max())),
}
"""The learning policies by name; ``fixed`` (always the list price) needs none.

``thompson`` is the default learner: Bernoulli Thompson sampling on the
purchase, weighted by each price's known margin, under the guardrails'
exploration cap (``exploration_share`` of visitors explore, the rest see the
best price by posterior mean), as a shop would run it; ``thompson-uncapped``
is the same policy without the cap. Every other learner runs uncapped. ``linucb`` sees a constant
context of one feature (the simulation has no context), so it is a
ridge-regularised UCB; its ``alpha`` is the largest margin, as UCB1's scale.
"""


def run_policy(env: PriceEnvironment, learner: Learner, rng: np.random.Generator) -> np.ndarray:
    """The arm shown to each visitor, in order, by a learner updated after each one."""
    n_features = getattr(learner, "n_features", 0)
    context = np.ones(n_features) if n_features else None
    arms = np.empty(len(env.uniforms), dtype=np.int64)
    chance, values, uniforms = env.buy_chance, env.values, env.uniforms
    for i in range(len(uniforms)):
        a = learner.select(context, rng)
        arms[i] = a
        learner.update(a, float(values[a]) if uniforms[i] < chance[a] else 0.0, context)
    return arms


@dataclass(frozen=True)
class RegretSummary:
    """Cumulative regret at the end, per policy, over seeds.

    ``final`` has one row per policy: ``regret`` (mean over seeds of the
    regret summed over products), ``sd``, ``low`` and ``high`` (its smallest
    and largest over seeds), ``share`` (regret over the optimal policy's
    expected reward) and ``reward`` (the expected reward earned).
    """

    days: int
    seeds: tuple[int, ...]
    products: tuple[str, ...]
    reward: str
    optimal: float
    final: pd.DataFrame

    def regret(self, policy: str) -> float:
        """Mean cumulative regret of ``policy`` at the last day."""
        return float(self.final.loc[policy, "regret"])

    def best(self) -> str:
        """The policy with the lowest mean cumulative regret."""
        return str(self.final["regret"].idxmin())


@dataclass(frozen=True)
class PriceBanditResult:
    """The tidy per-day table and its summary.

    ``daily`` has one row per (seed, policy, product, day): ``visitors``,
    ``regret`` (that day's expected regret), ``cumulative_regret``,
    ``reward`` (realised) and ``optimal`` (the best price's expected reward).
    """

    daily: pd.DataFrame
    summary: RegretSummary

    def curve(self) -> pd.DataFrame:
        """Cumulative regret summed over products, per day and policy: mean and sd over seeds."""
        per_seed = self.daily.groupby(["policy", "seed", "day"], sort=False)[
            "cumulative_regret"
        ].sum()
        out = per_seed.groupby(["policy", "day"], sort=False).agg(["mean", "std"])
        return out.fillna(0.0).reset_index()


def simulate_price_bandit(
    products: Sequence[PricedProduct],
    *,
    days: int = 90,
    seeds: Sequence[int] = (0, 1, 2),
    policies: Sequence[str] = DEFAULT_POLICIES,
    guardrails: PriceGuardrails | None = None,
    points: int = 7,
    conversion: float = 0.05,
    reward: Reward = "margin",
    factories: Mapping[str, PolicyFactory] | None = None,
) -> PriceBanditResult:
    """Every policy on every product for every seed; deterministic for the seeds.

    ``policies`` are names of :data:`POLICIES` (or of ``factories``, which
    adds to them) and ``"fixed"``. See the module for the model.
    """
    if not products:
        raise ConfigError("the price bandit needs at least one product, got none")
    rails = guardrails or PriceGuardrails()
    known = {**POLICIES, **(factories or {})}
    for name in policies:
        if name != "fixed" and name not in known:
            raise ConfigError(f"unknown price policy {name!r}; known: {sorted([*known, 'fixed'])}")

    frames = []
    for seed in seeds:
        for product in products:
            env = price_environment(
                product,
                seed,
                days=days,
                guardrails=rails,
                points=points,
                conversion=conversion,
                reward=reward,
            )
            for name in policies:
                frames.append(_run_one(env, name, known, rails, seed))
    daily = pd.concat(frames, ignore_index=True)
    return PriceBanditResult(daily, _summarise(daily, days, seeds, products, reward))


def _run_one(
    env: PriceEnvironment,
    name: str,
    known: Mapping[str, PolicyFactory],
    rails: PriceGuardrails,
    seed: int,
) -> pd.DataFrame:
    day = np.repeat(np.arange(len(env.visitors)), env.visitors)
    if name == "fixed":
        gap = env.expected[env.best] - env.list_expected
        regret = gap * env.visitors.astype(float)
        bought = env.uniforms < env.list_chance
        earned = np.bincount(day, bought * env.list_value, minlength=len(env.visitors))
    else:
        learner = known[name](env, rails)
        arms = run_policy(env, learner, _stream(seed, env.product.product_id, name))
        regret = env.daily_regret(arms)
        earned = np.bincount(day, env.rewards(arms), minlength=len(env.visitors))
    return pd.DataFrame(
        {
            "seed": seed,
            "policy": name,
            "product_id": env.product.product_id,
            "day": np.arange(len(env.visitors)),
            "visitors": env.visitors,
            "regret": regret,
            "cumulative_regret": np.cumsum(regret),
            "reward": earned,
            "optimal": env.expected[env.best] * env.visitors,
        }
    )


def _summarise(
    daily: pd.DataFrame,
    days: int,
    seeds: Sequence[int],
    products: Sequence[PricedProduct],
    reward: str,
) -> RegretSummary:
    last = daily[daily["day"] == days - 1]
    per_seed = last.groupby(["policy", "seed"], sort=False)["cumulative_regret"].sum()
    earned = daily.groupby(["policy", "seed"], sort=False)["reward"].sum()
    optimal = float(
        daily.groupby(["policy", "seed"], sort=False)["optimal"]
        .sum()
        .groupby("seed")
        .first()
        .mean()
    )
    grouped = per_seed.groupby("policy", sort=False)
    final = pd.DataFrame(
        {
            "regret": grouped.mean(),
            "sd": grouped.std().fillna(0.0),
            "low": grouped.min(),
            "high": grouped.max(),
            "reward": earned.groupby("policy", sort=False).mean(),
        }
    )
    final["share"] = final["regret"] / optimal if optimal > 0 else np.nan
    final.index.name = "policy"
    return RegretSummary(
        days=days,
        seeds=tuple(int(s) for s in seeds),
        products=tuple(p.product_id for p in products),
        reward=reward,
        optimal=optimal,
        final=final,
    )
