"""The catalog: bilingual products with prices, quality, popularity and tastes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.demo._util import ids, join, rounded, strings, take
from shopkeeper.demo._vocab import COMPLEMENTS, STYLES, SUBS, TOPS

N_TIERS = 3
TIER_CENTRES = np.array([-1.0, 0.0, 1.0])  # budget, mid, premium (in price z-scores)
STYLE_MATCH = 2.5  # how much more a customer likes products of their own style


@dataclass
class Catalog:
    """Products in sub-category order (index = position), with their latent traits.

    ``sub_start``/``sub_end`` delimit each sub-category's products;
    ``base_weight[g, p]`` is how much customers of segment ``g`` (price tier
    x style) like product ``p`` before prices, promotions and stock;
    ``complement[p]`` is the product bought along with ``p`` (or -1) with
    probability ``complement_prob[p]``.
    """

    n: int
    product_id: np.ndarray  # object array of ids, by index
    sub: np.ndarray
    top: np.ndarray
    sub_start: np.ndarray
    sub_end: np.ndarray
    item_zh: pa.Array
    item_en: pa.Array
    title: pa.Array
    price: np.ndarray  # list price at the start
    cost: np.ndarray
    quality: np.ndarray
    popularity: np.ndarray
    style: np.ndarray
    price_z: np.ndarray
    elasticity: np.ndarray
    cycle_days: np.ndarray  # 0 for durables
    rebuy_prob: np.ndarray
    return_rate: np.ndarray
    launch_day: np.ndarray  # first day on sale (0 = before the window)
    end_day: np.ndarray  # first day no longer on sale (days = still on sale)
    complement: np.ndarray
    complement_prob: np.ndarray
    base_weight: np.ndarray  # (segments, products)
    protected: np.ndarray  # one product per sub-category that never disappears
    table: pd.DataFrame

    @property
    def n_subs(self) -> int:
        return len(SUBS)

    def truth(self) -> dict[str, Any]:
        pairs = np.flatnonzero(self.complement >= 0)
        return {
            "categories": [
                {
                    "category": f"{s.top} > {s.name}",
                    "consumable": s.cycle_days > 0,
                    "cycle_days": s.cycle_days,
                    "median_price": s.median_price,
                    "elasticity": next(t.elasticity for t in TOPS if t.name == s.top),
                }
                for s in SUBS
            ],
            "elasticity_by_top_category": {t.name: t.elasticity for t in TOPS},
            "elasticity_model": "choice weight of a product is multiplied by "
            "(price_that_day / list_price_at_start * (1 - promo_discount)) ** elasticity",
            "products": {
                "product_id": [str(x) for x in self.product_id],
                "quality": rounded(self.quality, 3),
                "popularity": rounded(self.popularity, 3),
                "style": [STYLES[s] for s in self.style],
                "cycle_days": rounded(self.cycle_days, 1),
                "launch_day": [int(x) for x in self.launch_day],
                "end_day": [int(x) for x in self.end_day],
            },
            "co_purchase_pairs": [
                {
                    "antecedent": str(self.product_id[a]),
                    "consequent": str(self.product_id[self.complement[a]]),
                    "probability": round(float(self.complement_prob[a]), 3),
                }
                for a in pairs
            ],
        }


def _psych_price(p: np.ndarray) -> np.ndarray:
    """Prices as shops write them: 39.9, 199, 1999."""
    small = np.floor(p) + 0.9
    mid = np.round(p / 10) * 10 - 1
    big = np.round(p / 100) * 100 - 1
    return np.round(np.where(p < 100, small, np.where(p < 1000, mid, big)), 2)


def build_catalog(rng: np.random.Generator, n: int, days: int) -> Catalog:
    """``n`` products spread over the sub-categories by their weight (at least two each)."""
    n_sub = len(SUBS)
    w = np.array([s.weight for s in SUBS])
    counts = np.full(n_sub, 2)
    extra = (n - 2 * n_sub) * w / w.sum()
    counts += np.floor(extra).astype(int)
    rest = n - counts.sum()
    counts[np.argsort(-(extra - np.floor(extra)), kind="stable")[:rest]] += 1
    sub = np.repeat(np.arange(n_sub), counts)
    sub_end = np.cumsum(counts)
    sub_start = sub_end - counts
    top_names = [t.name for t in TOPS]
    sub_top = np.array([top_names.index(s.top) for s in SUBS])
    top = sub_top[sub]

    def pick_in(
        groups: list[tuple[Any, ...]], group_of: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """Per product a random entry of its group's list: flat index, index in group, list."""
        sizes = np.array([len(g) for g in groups])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        flat = [x for g in groups for x in g]
        local = np.floor(rng.random(len(group_of)) * sizes[group_of]).astype(int)
        return offsets[group_of] + local, local, flat

    item_idx, _, items = pick_in([s.items for s in SUBS], sub)
    size_idx, size_pos, sizes = pick_in([s.sizes for s in SUBS], sub)
    adj_idx, _, adjs = pick_in([t.adjectives for t in TOPS], top)
    brand_idx, _, brands = pick_in([t.brands for t in TOPS], top)
    feat_idx, _, feats = pick_in([t.features for t in TOPS], top)
    item_zh = take([i[0] for i in items], item_idx)
    item_en = take([i[1] for i in items], item_idx)
    adj_zh = take([a[0] for a in adjs], adj_idx)
    adj_en = take([a[1] for a in adjs], adj_idx)
    brand = take(brands, brand_idx)
    size = take(sizes, size_idx)
    title = join(brand, " ", adj_zh, item_zh, " ", adj_en, " ", item_en, " ", size)
    # Titles must tell products apart: number the repeats ("... 款2 Style 2").
    rep = (
        pd.Series(title.to_numpy(zero_copy_only=False))
        .groupby(pd.Series(title.to_numpy(zero_copy_only=False)), sort=False)
        .cumcount()
        .to_numpy()
    )
    suffix = np.where(rep > 0, rep + 1, 0)
    if suffix.any():
        tag = join(" 款", suffix.astype(np.int64), " Style ", suffix.astype(np.int64))
        title = pc.if_else(pa.array(suffix > 0), join(title, tag), title)
    sub_zh = take([s.zh for s in SUBS], sub)
    feat_zh = take([f[0] for f in feats], feat_idx)
    feat_en = take([f[1] for f in feats], feat_idx)
    description = join(
        brand,
        adj_zh,
        item_zh,
        "，",
        feat_zh,
        "。属于",
        sub_zh,
        "类目，规格",
        size,
        "。 ",
        adj_en,
        " ",
        item_en,
        " by ",
        brand,
        ": ",
        feat_en,
        ". Size ",
        size,
        ".",
    )
    category = take([f"{s.top} > {s.name}" for s in SUBS], sub)

    median = np.array([s.median_price for s in SUBS])[sub]
    # Sizes are listed small to large, so later sizes cost more and last longer.
    raw = median * rng.lognormal(0.0, 0.45, n) * (1 + 0.2 * size_pos)
    price = _psych_price(np.maximum(raw, 3.0))
    lo = np.array([t.margin[0] for t in TOPS])[top]
    hi = np.array([t.margin[1] for t in TOPS])[top]
    margin = lo + (hi - lo) * rng.random(n)
    cost = np.round(price * (1 - margin), 2)

    logp = np.log(price)
    sub_mean = np.bincount(sub, logp, n_sub) / counts
    sub_sd = np.sqrt(np.bincount(sub, (logp - sub_mean[sub]) ** 2, n_sub) / counts) + 1e-6
    price_z = (logp - sub_mean[sub]) / sub_sd[sub]
    quality = rng.normal(0.0, 1.0, n)
    popularity = rng.lognormal(0.0, 0.9, n) * np.exp(0.25 * quality)
    style = rng.integers(0, len(STYLES), n)

    cycle_sub = np.array([s.cycle_days for s in SUBS])[sub]
    cycle = np.where(
        cycle_sub > 0, cycle_sub * (0.85 + 0.15 * size_pos) * rng.lognormal(0.0, 0.15, n), 0.0
    )
    rebuy = np.where(cycle > 0, np.array([t.rebuy for t in TOPS])[top], 0.0)
    return_rate = np.array([t.returns for t in TOPS])[top]
    elasticity = np.array([t.elasticity for t in TOPS])[top]

    # The most popular product of each sub-category is always on sale, so no
    # category ever runs empty; launches, discontinuations and stock-outs
    # only touch the others.
    protected = np.zeros(n, dtype=bool)
    for j in range(n_sub):
        protected[sub_start[j] + int(np.argmax(popularity[sub_start[j] : sub_end[j]]))] = True
    launch = np.zeros(n, dtype=int)
    end = np.full(n, days)
    u = rng.random(n)
    new = (u < 0.08) & ~protected
    launch[new] = rng.integers(30, max(31, days - 30), new.sum())
    gone = (u > 0.97) & ~protected
    end[gone] = rng.integers(days // 2, max(days // 2 + 1, days - 14), gone.sum())
    dead = (u > 0.99) & ~protected  # discontinued before the window: no sales at all
    end[dead] = 0

    complement = np.full(n, -1)
    complement_prob = np.zeros(n)
    per_pair = max(1, round(4 * n / 2_000))
    names = [s.name for s in SUBS]
    steady = (launch == 0) & (end == days)
    for a_name, b_name in COMPLEMENTS:
        a, b = names.index(a_name), names.index(b_name)
        a_idx = np.arange(sub_start[a], sub_end[a])
        a_idx = a_idx[steady[a_idx] & (complement[a_idx] < 0)]
        a_idx = a_idx[np.argsort(-popularity[a_idx], kind="stable")][:per_pair]
        b_all = np.arange(sub_start[b], sub_end[b])
        b_all = b_all[steady[b_all]]
        for x in a_idx:
            choices = b_all[b_all != x]
            if len(choices) == 0:
                continue
            complement[x] = choices[rng.integers(len(choices))]
            complement_prob[x] = rng.uniform(0.3, 0.6)

    seg_tier = np.repeat(np.arange(N_TIERS), len(STYLES))
    seg_style = np.tile(np.arange(len(STYLES)), N_TIERS)
    tier_fit = np.exp(-0.5 * ((price_z[None, :] - TIER_CENTRES[seg_tier][:, None]) / 0.8) ** 2)
    style_fit = np.where(style[None, :] == seg_style[:, None], STYLE_MATCH, 1.0)
    base_weight = popularity[None, :] * tier_fit * style_fit

    # Ids are numbered in a shuffled order, so the id says nothing about the category.
    number = 10_001 + rng.permutation(n)
    product_id = np.asarray(ids("SKU-", number, 5).to_numpy(zero_copy_only=False), dtype=object)
    table = pd.DataFrame(
        {
            "product_id": product_id,
            "title": strings(title),
            "description": strings(description),
            "category": strings(category),
            "brand": strings(brand),
            "price": price,  # replaced by the latest list price once prices have moved
            "cost": cost,
            "active": end >= days,
        }
    )
    return Catalog(
        n=n,
        product_id=product_id,
        sub=sub,
        top=top,
        sub_start=sub_start,
        sub_end=sub_end,
        item_zh=item_zh,
        item_en=item_en,
        title=title,
        price=price,
        cost=cost,
        quality=quality,
        popularity=popularity,
        style=style,
        price_z=price_z,
        elasticity=elasticity,
        cycle_days=cycle,
        rebuy_prob=rebuy,
        return_rate=return_rate,
        launch_day=launch,
        end_day=end,
        complement=complement,
        complement_prob=complement_prob,
        base_weight=base_weight,
        protected=protected,
        table=table,
    )


def choice_table(cat: Catalog, weights: np.ndarray) -> np.ndarray:
    """Choice weights (segments x products) as one flat, increasing cumulative array.

    Row ``g``, product ``p`` holds ``g * n_subs + sub(p) + share``, where share
    is the cumulative share of ``p`` within its sub-category; ``draw`` then
    picks products for many (segment, sub-category) pairs with one searchsorted.
    """
    n_seg = weights.shape[0]
    cs = np.cumsum(weights, axis=1)
    pad = np.concatenate([np.zeros((n_seg, 1)), cs], axis=1)
    before = pad[:, cat.sub_start]
    total = pad[:, cat.sub_end] - before
    share = (cs - before[:, cat.sub]) / total[:, cat.sub]
    share[:, cat.sub_end - 1] = 1.0
    return (share + cat.sub[None, :] + (np.arange(n_seg) * cat.n_subs)[:, None]).ravel()


def draw(
    rng: np.random.Generator, q: np.ndarray, seg: np.ndarray, sub: np.ndarray, cat: Catalog
) -> np.ndarray:
    """One product per (segment, sub-category) pair from a ``choice_table``."""
    v = seg * cat.n_subs + sub + rng.random(len(seg))
    idx = np.searchsorted(q, v, "right") - seg * cat.n
    return np.clip(idx, cat.sub_start[sub], cat.sub_end[sub] - 1)
