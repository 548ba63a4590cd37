"""Price elasticities: log-log demand with location and period fixed effects.

Per product ``i`` (where the panel has several locations)::

    log units[i,s,t] = e_i log p[i,s,t] + sum_j c_ij log p[j,s,t]
                       + b_i' promotions[i,s,t] + a_is + g_it + u

over the location-periods where ``i`` sold (a log needs units above 0): the
own-price elasticity ``e_i``, cross-price elasticities ``c_ij`` (the prices
of the other products at the same location and period), the promotion
effects ``b_i`` (a lift of ``exp(b) - 1``), location effects ``a`` and period
effects ``g``. The pooled model has one own-price elasticity for all
products (or one per group, e.g. top category) with product x location
effects and period effects, and no cross-prices. Both are fitted by
:func:`~shopkeeper.pricing._fe.fe_ols` with standard errors clustered by
location (by product where the panel has fewer than ``min_clusters``
locations) and Student-t intervals.

A product that cannot be estimated (too few observations, a price that
never moves once the effects are taken out) is refused with a
:class:`~shopkeeper.errors.ConfigError` naming it and the rule, or left out
with a note (``on_unusable="skip"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._data import PROMOTION_KINDS
from shopkeeper.pricing._fe import LEVEL, FEFit, fe_ols
from shopkeeper.pricing._panel import DemandPanel

OWN = "log_price"
MIN_VARIATION = 1e-8  # share of a regressor's variation the effects may leave
ALL = "all"


@dataclass
class ElasticityResult:
    """Elasticities of a panel, every figure with its standard error and interval.

    ``own``: one row per product: ``product_id``, ``title``, ``elasticity``,
    ``se``, ``lo``, ``hi``, ``n`` (observations), ``source`` (``product``: its
    own model; ``pooled <group>``: the pooled model of its group).
    ``cross``: the matrix of elasticities, rows the product whose units,
    columns the product whose price (own elasticities on the diagonal);
    ``cross_table`` the same in long form with ``se``, ``lo``, ``hi``.
    ``promotions``: per product (or ``pooled <group>``) and kind, the log
    effect ``coef`` with ``se`` and the lift ``exp(coef) - 1`` with ``lift_lo``,
    ``lift_hi``. ``pooled``: one row per group (``all`` for every product).
    """

    own: pd.DataFrame
    cross: pd.DataFrame
    cross_table: pd.DataFrame
    promotions: pd.DataFrame
    pooled: pd.DataFrame
    cluster_by: str
    level: float = LEVEL
    notes: list[str] = field(default_factory=list)

    def elasticity_of(self, product_id: str) -> float:
        row = self.own.loc[self.own["product_id"] == product_id]
        if row.empty:
            raise ConfigError(f"no elasticity for product {product_id!r}")
        return float(row["elasticity"].iloc[0])


@dataclass
class _Design:
    y: np.ndarray
    x: np.ndarray
    names: list[str]
    absorb: np.ndarray | None
    dummies: np.ndarray | None
    cluster: np.ndarray


def estimate_elasticities(
    panel: DemandPanel,
    *,
    products: Sequence[str] | None = None,
    per_product: bool | None = None,
    cross: bool | None = None,
    groups: Mapping[str, str] | None = None,
    promotions: Sequence[str] = PROMOTION_KINDS,
    min_obs: int = 20,
    min_clusters: int = 10,
    on_unusable: Literal["raise", "skip"] = "raise",
    level: float = LEVEL,
) -> ElasticityResult:
    """Own-price, cross-price and promotion effects of ``panel`` (see the module doc).

    ``per_product``: fit a model per product (default: when the panel has
    at least two locations, since period effects per product need them);
    ``cross``: include the other products' prices (default: up to 20
    products); ``groups``: product -> group for pooled models per group (a
    product without a group joins ``all`` only); ``min_obs``: the fewest
    observations with units and a price a product needs.
    """
    if on_unusable not in ("raise", "skip"):
        raise ConfigError(f"on_unusable must be raise or skip, not {on_unusable!r}")
    unknown = sorted(set(promotions) - set(PROMOTION_KINDS))
    if unknown:
        raise ConfigError(f"unknown promotion kinds {unknown}; known: {list(PROMOTION_KINDS)}")
    frame = panel.frame
    ids = list(products) if products is not None else panel.product_ids
    missing = sorted(set(ids) - set(frame["product_id"]))
    if missing:
        raise ConfigError(f"products {missing} are not in the demand panel")
    frame = frame[frame["product_id"].isin(ids)]
    n_locations = frame["location_id"].nunique()
    per_product = n_locations >= 2 if per_product is None else per_product
    cross = (len(ids) <= 20) if cross is None else cross
    cluster_by = "location_id" if n_locations >= min_clusters else "product_id"
    notes: list[str] = []
    if cluster_by == "product_id":
        notes.append(
            f"standard errors clustered by product: the panel has {n_locations} location(s), "
            f"fewer than {min_clusters}"
        )

    # Rows a log-log model can use: units sold at a positive price.
    usable = frame[(frame["units"] > 0) & (frame["price"] > 0)].copy()
    usable["log_units"] = np.log(usable["units"].to_numpy())
    usable[OWN] = np.log(usable["price"].to_numpy())
    bad = _unusable(usable, ids, min_obs)
    if bad:
        if on_unusable == "raise":
            pid, rule = next(iter(bad.items()))
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise ConfigError(f"product {pid!r} {rule}{more}")
        notes.extend(f"product {pid!r} left out: {rule}" for pid, rule in bad.items())
    ids = [p for p in ids if p not in bad]
    if not ids:
        raise ConfigError("no product has enough observations with price variation to estimate")
    usable = usable[usable["product_id"].isin(ids)]
    titles = panel.products.set_index("product_id")["title"].reindex(ids).fillna("")

    own_rows: dict[str, dict[str, object]] = {}
    cross_rows: list[dict[str, object]] = []
    promo_rows: list[dict[str, object]] = []
    if per_product:
        wide = np.log(panel.prices[ids].where(panel.prices[ids] > 0)) if cross else None
        for pid in ids:
            design = _product_design(usable, pid, ids, wide, promotions, cluster_by)
            fit = _fit(design, pid, on_unusable, notes)
            if fit is None:
                continue
            lo, hi = fit.interval(level)
            for j, name in enumerate(fit.names):
                row = {"coef": fit.coef[j], "se": fit.se[j], "lo": lo[j], "hi": hi[j]}
                if name == OWN:
                    own_rows[pid] = {**row, "n": fit.n, "source": "product"}
                    cross_rows.append({"product_id": pid, "price_of": pid, **row})
                elif name.startswith("log_price:"):
                    cross_rows.append({"product_id": pid, "price_of": name[10:], **row})
                else:
                    promo_rows.append({"product_id": pid, "kind": name, **row})

    # Pooled: every product together, then each group.
    pooled_rows: list[dict[str, object]] = []
    members = {ALL: ids}
    if groups:
        for pid in ids:
            if pid in groups:
                members.setdefault(str(groups[pid]), []).append(pid)
    pooled_of: dict[str, str] = {}
    for name, group_ids in members.items():
        rows = usable[usable["product_id"].isin(group_ids)]
        design = _pooled_design(rows, promotions, cluster_by)
        fit = _fit(design, f"pooled {name}", "skip", notes)
        if fit is None:
            continue
        lo, hi = fit.interval(level)
        pooled_rows.append(
            {
                "group": name,
                "products": len(group_ids),
                "elasticity": fit.coef[0],
                "se": fit.se[0],
                "lo": lo[0],
                "hi": hi[0],
                "n": fit.n,
                "clusters": fit.clusters,
            }
        )
        for j, kind in enumerate(fit.names[1:], start=1):
            promo_rows.append(
                {
                    "product_id": f"pooled {name}",
                    "kind": kind,
                    "coef": fit.coef[j],
                    "se": fit.se[j],
                    "lo": lo[j],
                    "hi": hi[j],
                }
            )
        for pid in group_ids:
            if name != ALL or pid not in pooled_of:
                pooled_of[pid] = name
    pooled = pd.DataFrame(pooled_rows)
    if pooled.empty:
        raise ConfigError("the pooled model could not be estimated: " + "; ".join(notes[-3:]))

    # Each product's own elasticity: its model's, else its group's pooled one.
    by_group = pooled.set_index("group")
    own = []
    for pid in ids:
        if pid in own_rows:
            r = own_rows[pid]
        else:
            g = pooled_of.get(pid, ALL)
            g = g if g in by_group.index else ALL
            pr = by_group.loc[g]
            r = {
                "coef": pr["elasticity"],
                "se": pr["se"],
                "lo": pr["lo"],
                "hi": pr["hi"],
                "n": int((usable["product_id"] == pid).sum()),
                "source": f"pooled {g}",
            }
        own.append(
            {
                "product_id": pid,
                "title": str(titles.get(pid, "")),
                "elasticity": float(r["coef"]),  # type: ignore[arg-type]
                "se": float(r["se"]),  # type: ignore[arg-type]
                "lo": float(r["lo"]),  # type: ignore[arg-type]
                "hi": float(r["hi"]),  # type: ignore[arg-type]
                "n": int(r["n"]),  # type: ignore[call-overload]
                "source": r["source"],
            }
        )
    cross_table = pd.DataFrame(
        cross_rows, columns=["product_id", "price_of", "coef", "se", "lo", "hi"]
    ).rename(columns={"coef": "elasticity"})
    matrix = (
        cross_table.pivot(index="product_id", columns="price_of", values="elasticity")
        if not cross_table.empty
        else pd.DataFrame()
    )
    promo = pd.DataFrame(promo_rows, columns=["product_id", "kind", "coef", "se", "lo", "hi"])
    promo["lift"] = np.expm1(promo["coef"])
    promo["lift_lo"] = np.expm1(promo["lo"])
    promo["lift_hi"] = np.expm1(promo["hi"])
    return ElasticityResult(
        own=pd.DataFrame(own),
        cross=matrix,
        cross_table=cross_table,
        promotions=promo.drop(columns=["lo", "hi"]),
        pooled=pooled,
        cluster_by=cluster_by.removesuffix("_id"),
        level=level,
        notes=notes,
    )


def _unusable(usable: pd.DataFrame, ids: list[str], min_obs: int) -> dict[str, str]:
    """Products the models cannot use, with the rule each breaks."""
    counts = usable.groupby("product_id").size()
    spread = usable.groupby("product_id")[OWN].agg(lambda v: float(v.max() - v.min()))
    bad: dict[str, str] = {}
    for pid in ids:
        n = int(counts.get(pid, 0))
        if n < min_obs:
            bad[pid] = (
                f"has {n} observation{'s' if n != 1 else ''} with units sold at a price; "
                f"estimating an elasticity needs at least {min_obs}"
            )
        elif float(spread.get(pid, 0.0)) < 1e-9:
            bad[pid] = "has no price variation: it sold at one price only, so no elasticity"
    return bad


def _product_design(
    usable: pd.DataFrame,
    pid: str,
    ids: list[str],
    wide: pd.DataFrame | None,
    promotions: Sequence[str],
    cluster_by: str,
) -> _Design:
    rows = usable[usable["product_id"] == pid]
    cols = [rows[OWN].to_numpy()]
    names = [OWN]
    if wide is not None:
        others = [j for j in ids if j != pid]
        at = pd.MultiIndex.from_arrays([rows["location_id"], rows["period"]])
        block = wide.reindex(at)[others].to_numpy()
        keep = np.isfinite(block).all(axis=1)
        rows, block = rows[keep], block[keep]
        cols = [rows[OWN].to_numpy(), *block.T]
        names += [f"log_price:{j}" for j in others]
    for kind in promotions:
        cols.append(rows[kind].to_numpy(dtype="float64"))
        names.append(kind)
    return _Design(
        y=rows["log_units"].to_numpy(),
        x=np.column_stack(cols),
        names=names,
        absorb=rows["location_id"].to_numpy() if rows["location_id"].nunique() > 1 else None,
        dummies=rows["period"].to_numpy(),
        cluster=rows[cluster_by].to_numpy(),
    )


def _pooled_design(rows: pd.DataFrame, promotions: Sequence[str], cluster_by: str) -> _Design:
    cols = [rows[OWN].to_numpy(), *(rows[k].to_numpy(dtype="float64") for k in promotions)]
    return _Design(
        y=rows["log_units"].to_numpy(),
        x=np.column_stack(cols),
        names=[OWN, *promotions],
        absorb=(rows["product_id"] + "@" + rows["location_id"]).to_numpy(),
        dummies=rows["period"].to_numpy(),
        cluster=rows[cluster_by].to_numpy(),
    )


def _fit(design: _Design, what: str, on_unusable: str, notes: list[str]) -> FEFit | None:
    """Fit a design, dropping regressors the effects explain; None (noted) if the price is one."""
    if len(design.y) < 3:
        return _refuse(what, f"has {len(design.y)} usable observations", on_unusable, notes)
    fit = fe_ols(
        design.y,
        design.x,
        design.names,
        absorb=design.absorb,
        dummies=design.dummies,
        cluster=design.cluster,
    )
    if fit.kept_variation[0] < MIN_VARIATION:
        rule = (
            "has no price variation left once the location and period effects are "
            "taken out (its price moves only with them), so no elasticity"
        )
        return _refuse(what, rule, on_unusable, notes)
    flat = fit.kept_variation < MIN_VARIATION
    if flat.any():
        keep = ~flat
        dropped = [n for n, f in zip(design.names, flat, strict=True) if f]
        label = what if what.startswith("pooled") else f"product {what!r}"
        notes.append(f"{label}: left out {dropped} (no variation after the effects)")
        fit = fe_ols(
            design.y,
            design.x[:, keep],
            [n for n, k in zip(design.names, keep, strict=True) if k],
            absorb=design.absorb,
            dummies=design.dummies,
            cluster=design.cluster,
        )
    if fit.n <= fit.k:
        return _refuse(
            what,
            f"has {fit.n} observations for {fit.k} parameters (effects included)",
            on_unusable,
            notes,
        )
    fit.residual = np.empty(0)  # not kept: results stay small
    return fit


def _refuse(what: str, rule: str, on_unusable: str, notes: list[str]) -> FEFit | None:
    label = what if what.startswith("pooled") else f"product {what!r}"
    if on_unusable == "raise":
        raise ConfigError(f"{label} {rule}")
    notes.append(f"{label} left out: {rule}")
    return None
