"""Training: the standard model set, the hybrid's weights, and the ``recommend`` job.

:func:`standard_candidates` is the model set that ``shopkeeper evaluate
recommend`` compares and the hybrid blends, each with a small tuning grid.
:func:`build` fits a :class:`~shopkeeper.recommend.Recommendations` for a shop:
it holds out the last part of the history by time, learns the hybrid's
weights there, then refits everything on all of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.jobs import JobContext, JobOutcome, register
from shopkeeper.recommend._base import Recommender
from shopkeeper.recommend._collab import ALS, EASE, ItemKNN, RepeatBuyer
from shopkeeper.recommend._content import ContentBased
from shopkeeper.recommend._data import Interactions
from shopkeeper.recommend._evaluate import (
    Candidate,
    Fold,
    default_test_from,
    evaluate,
    exclusion,
    list_metrics,
    score_lists,
    split_by_time,
    tune,
)
from shopkeeper.recommend._hybrid import Hybrid, learn_weights
from shopkeeper.recommend._popular import Popularity, Trending
from shopkeeper.recommend._serve import Recommendations, ServingRules, popularity_fallback
from shopkeeper.recommend._session import SessionTransitions
from shopkeeper.recommend._source import ShopData, load_shop

if TYPE_CHECKING:
    from shopkeeper.images import ImageModel

log = logging.getLogger(__name__)

ARTIFACT = "recommender.pkl"
#: The standard models the hybrid blends (content only when the catalog has text).
BLENDED = ("repeat", "item_knn", "ease", "als", "content")


def _has_text(catalog: pd.DataFrame | None) -> bool:
    if catalog is None or catalog.empty:
        return False
    return bool(catalog["title"].notna().any())


def standard_candidates(
    catalog: pd.DataFrame | None = None, *, quick: bool = False
) -> list[Candidate]:
    """Baselines and models with small tuning grids (one point each when ``quick``)."""

    def grid(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return points[:1] if quick else points

    cands = [
        Candidate("popularity", Popularity),
        Candidate("trending", Trending),
        Candidate("own history", lambda: RepeatBuyer(half_life=None, neighbours=0)),
        Candidate(
            "repeat",
            RepeatBuyer,
            grid(
                [
                    {"half_life": h, "neighbours": k, "alpha": a}
                    for h in (4.0, 2.0, 8.0)
                    for k in (300, 100)
                    for a in (0.7, 0.9)
                ]
            ),
        ),
        Candidate(
            "item_knn",
            ItemKNN,
            grid(
                [
                    {"k": k, "weighting": w, "half_life": h}
                    for w in ("bm25", "cosine")
                    for k in (100, 20)
                    for h in (None, 5.0)
                ]
            ),
        ),
        Candidate(
            "als",
            ALS,
            grid([{"factors": f, "alpha": a} for f in (64, 128) for a in (10.0, 1.0)]),
        ),
        Candidate(
            "ease",
            EASE,
            grid([{"l2": lam, "half_life": h} for lam in (500.0, 100.0) for h in (5.0, None)]),
        ),
    ]
    if _has_text(catalog):
        cands.append(Candidate("content", lambda: ContentBased(catalog)))
    return cands


def hybrid_candidate(
    tuned: dict[str, Recommender], val: Fold, *, exclude_seen: bool, log_fn: Callable[[str], None]
) -> tuple[Hybrid, float]:
    """A hybrid of tuned models, weights learned on ``val``."""
    parts = list(tuned.values())
    weights, value = learn_weights(
        parts, val.train, val.truth, exclude_seen=exclude_seen, allowed=val.candidates, log=log_fn
    )
    blend = Hybrid(parts, weights)
    # learn_weights fitted the parts on val.train: the blend can score there as is.
    blend.items = val.train.items
    return blend, value


def run_evaluation(
    shop: ShopData,
    fold: Fold,
    val: Fold,
    *,
    ks: tuple[int, ...] = (10, 20),
    repeats: str = "rules",
    rules: ServingRules | None = None,
    quick: bool = False,
    log_fn: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Every standard model and baseline, tuned on ``val``, plus the hybrid, on ``fold``.

    Returns one row per model (the evaluation table), in the standard set's
    order, the hybrid last.
    """
    rules = rules or ServingRules()
    say = log_fn or (lambda line: None)
    durable = _durable_mask(shop, rules, shop.interactions)
    cands = standard_candidates(shop.catalog, quick=quick)
    rows = evaluate(cands, fold, val=val, ks=ks, repeats=repeats, durable=durable, log=say)
    # The hybrid blends the tuned models; its weights are learned on val.
    tuned: dict[str, Recommender] = {}
    for cand, row in zip(cands, rows, strict=True):
        if cand.label in BLENDED:
            tuned[cand.label] = cand.make(**row.params)
    exclude_seen = repeats == "exclude"
    model, value = hybrid_candidate(tuned, val, exclude_seen=exclude_seen, log_fn=say)
    fixed = Candidate("hybrid", lambda: Hybrid(model.components, model.weights))
    hybrid_row = evaluate([fixed], fold, val=None, ks=ks, repeats=repeats, durable=durable)[0]
    hybrid_row.val_ndcg = value
    rows.append(hybrid_row)
    return [r.to_dict() for r in rows]


def build(
    shop: ShopData,
    rules: ServingRules,
    *,
    quick: bool = False,
    progress: Callable[[float, str], None] | None = None,
    visual: ImageModel | None = None,
) -> Recommendations:
    """Tune, blend and fit the shop's recommender on all its data.

    With ``visual`` (a trained image model) the blend may also use what
    products look like (:class:`~shopkeeper.images.VisualSimilarity`); its
    weight is learned with the others', so it counts only as far as it helps
    on the validation purchases.
    """
    say = progress or (lambda share, message: None)
    data = shop.interactions
    if not data.log["purchase"].any():
        raise ConfigError("the store holds no purchases to learn from; load orders first")
    metrics: dict[str, Any] = {"customers": int(data.n_users), "products": int(data.n_items)}
    started = time.perf_counter()
    say(0.05, "holding out the latest purchases for validation")
    val = split_by_time(data, default_test_from(data, 0.1))
    metrics["validation"] = val.description
    metrics["validation_customers"] = val.n_truth_users
    exclude = exclusion(val.train, "rules", _durable_mask(shop, rules, data))
    tuned: dict[str, Recommender] = {}
    table: list[dict[str, Any]] = []
    wanted = ("popularity", "own history", *(b for b in BLENDED if b != "content"))
    cands = {c.label: c for c in standard_candidates(shop.catalog, quick=quick)}
    for n, label in enumerate(wanted):
        say(0.1 + 0.5 * n / len(wanted), f"tuning {label}")
        figures: dict[str, float] = {}
        params, value = tune(
            cands[label],
            val,
            k=10,
            exclude=exclude,
            allowed=lambda f: f.candidates,
            figures=figures,
        )
        table.append(_table_row(label, params, figures))
        if label in ("popularity", "own history"):
            continue  # baselines: in the table, not in the blend
        tuned[label] = cands[label].make(**params)
        metrics[f"validation_ndcg@10_{label}"] = round(value, 4)
    if "content" in cands:
        tuned["content"] = cands["content"].make()
    if visual is not None:
        from shopkeeper.images import VisualSimilarity

        tuned["visual"] = VisualSimilarity(visual)
    say(0.65, "learning the hybrid's weights")
    lines: list[str] = []
    model, value = hybrid_candidate(tuned, val, exclude_seen=False, log_fn=lines.append)
    for line in lines:
        log.info(line)
    metrics["validation_ndcg@10_hybrid"] = round(value, 4)
    # The blend's components were fitted on the validation training part by
    # learn_weights: its lists there come without another fit.
    users, lists, _ = score_lists(model, val, 10, exclude=exclude, allowed=val.candidates)
    table.append(_table_row("hybrid", {}, list_metrics(lists, users, val, 10)))
    metrics["evaluation"] = table
    metrics["weights"] = {m.name: w for m, w in zip(model.components, model.weights, strict=True)}
    say(0.8, "fitting on all data")
    model.fit(data)
    say(0.9, "finding each customer's neighbours for serving")
    for part, weight in zip(model.components, model.weights, strict=True):
        if weight > 0 and isinstance(part, RepeatBuyer):
            part.prepare_serving(data)
    similar = ItemKNN(k=100, weighting="cosine", input="binary").fit(data)
    content = None
    if "content" in tuned:
        # The blend's own content model when it has a weight (fitted above).
        content = tuned["content"] if metrics["weights"].get("content") else None
        content = content or ContentBased(shop.catalog).fit(data)
    session = None
    if len(shop.sessions):
        session = SessionTransitions(shop.sessions).fit(data)
    metrics["train_s"] = round(time.perf_counter() - started, 2)
    say(0.95, "preparing serving rules")
    return Recommendations(
        model=model,
        fallback=popularity_fallback(data),
        data=data,
        catalog=shop.catalog,
        rules=rules,
        stock=shop.stock,
        no_consent=shop.no_consent,
        similar_model=similar,
        content_model=content,
        session_model=session,
        metrics=metrics,
    )


def _table_row(label: str, params: dict[str, Any], figures: dict[str, float]) -> dict[str, Any]:
    keys = ("ndcg@10", "recall@10", "map@10", "hit_rate@10", "coverage@10", "novelty@10", "gini@10")
    return {
        "model": label,
        "params": {k: v for k, v in params.items() if isinstance(v, int | float | str | None)},
        **{k: round(float(figures[k]), 4) for k in keys if k in figures},
    }


def _durable_mask(shop: ShopData, rules: ServingRules, data: Interactions) -> np.ndarray:
    cats = shop.catalog.set_index(shop.catalog["product_id"].astype(str))["category"]
    cats = cats.reindex(data.items)
    return np.array(
        [rules.repurchase(c if isinstance(c, str) else None) == "durable" for c in cats]
    )


@register("recommend", "Personal lists, similar items and bought-together from orders and events")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read the store, build the recommender, save it as the artifact."""
    params = dict(ctx.params)
    rules = ServingRules.from_params(params.get("rules"))
    ctx.progress(0.01, "reading orders and events")
    shop = load_shop(ctx.store)
    visual = _image_model(ctx) if params.get("visual", True) else None
    recs = build(
        shop,
        rules,
        quick=bool(params.get("quick", False)),
        progress=ctx.progress,
        visual=visual,
    )
    # The file names customers by pseudonymous keys only (docs/privacy.md).
    recs.save(ctx.artifact_dir / ARTIFACT, ctx.store.vault.pseudonymizer().many)
    return JobOutcome(metrics=recs.metrics)


def _image_model(ctx: JobContext) -> ImageModel | None:
    """The workspace's image model in service, for the blend; None when there is none.

    A model that cannot be loaded is logged and left out: recommendations must
    not fail because of photos.
    """
    from shopkeeper.errors import ShopkeeperError
    from shopkeeper.images import ARTIFACT, ImageModel
    from shopkeeper.jobs import current_artifact

    try:
        folder = current_artifact(ctx.workspace, "images")
        if folder is None:
            return None
        return ImageModel.load(folder / ARTIFACT)
    except ShopkeeperError as exc:
        log.warning("recommendations trained without the image model: %s", exc)
        return None
