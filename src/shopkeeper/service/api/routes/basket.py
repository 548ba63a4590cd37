"""Market baskets: association rules, bundles, bought-together lists and the product network.

Every route needs a reader key and answers from the basket analysis in service:
the artifact of the latest successful ``basket`` job (compute it with
``shopkeeper train basket`` or ``POST /api/v1/jobs`` with kind ``basket``).
Without one the routes answer 409; with one that cannot be loaded, 503.

Numbers are plain JSON numbers. A rule's ``conviction`` is ``null`` when it is
infinite: the rule never failed (confidence 1), so JSON, which has no
infinity, gets null rather than a string in a numeric field. Sorting by
conviction still puts those rules first. Bundle prices, margins and discounts
are ``null`` when a product of the bundle has no price or cost.

At ``level="category"`` the items are categories rather than products; the
routes take and return them in the same fields (``product_id``, ``items``).

The analysis is loaded once per process and kept while the kind's
``current.json`` names it, as for the other capabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from shopkeeper.access import ApiKey
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.deps import get_workspace, require
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the basket package (numba) loads on first use
    from shopkeeper.basket._analysis import BasketAnalysis

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/basket", tags=["basket"])

KIND = "basket"
MAX_LIST = 1_000
MAX_EDGES = 500
#: The measures rules can be sorted by (``shopkeeper.basket.MEASURES``, which
#: loads numba; the service should not need it just to describe its API).
SORTS = ("support", "confidence", "lift", "leverage", "conviction")
SortBy = Literal["support", "confidence", "lift", "leverage", "conviction"]
#: What a rule carries besides its items, in the order answers list them.
RULE_FIELDS = (
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "baskets",
    "customers",
)
BUNDLE_FIELDS = (
    "size",
    "buyers",
    "orders",
    "buyers_per_30_days",
    "min_lift",
    "price",
    "cost",
    "margin",
    "margin_rate",
    "discount",
    "bundle_price",
    "bundle_margin_rate",
)
PARTNER_FIELDS = ("rank", "confidence", "lift", "orders", "buyers")

NO_ANALYSIS = (
    "no basket analysis has been computed yet: run 'shopkeeper train basket' "
    'or POST /api/v1/jobs with {"kind": "basket"}, then try again'
)


def _artifact_name() -> str:
    from shopkeeper.basket._analysis import ARTIFACT

    return ARTIFACT


# -- the analysis in service --------------------------------------------------------------


@dataclass
class ServedBasket:
    """A loaded basket analysis, the job that computed it, and lookups built once."""

    job_id: str
    path: Path
    analysis: BasketAnalysis
    titles: dict[str, str] = field(init=False, repr=False)
    known: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        a = self.analysis
        catalog = a.catalog
        self.titles = {
            str(p): str(t)
            for p, t in zip(catalog["product_id"], catalog["title"], strict=True)
            if isinstance(t, str) and t
        }
        # What a caller may ask about: the catalog's products, or at category level
        # its categories; and every item the baskets held (a product without a
        # category stands for itself there).
        names = catalog["category"] if a.settings.level == "category" else catalog["product_id"]
        self.known = frozenset(str(x) for x in names.dropna()) | frozenset(
            str(x) for x in a.itemsets.labels
        )

    def title(self, item: str) -> str:
        """The product's title; a category, or a product without one, is its own title."""
        return self.titles.get(item, item)

    def titled(self, items: Iterable[str]) -> list[str]:
        return [self.title(str(i)) for i in items]

    def facts(self) -> dict[str, Any]:
        """Which run answers: its job, the period its orders span, the item level."""
        first, last = self.analysis.period
        return {
            "job": self.job_id,
            "period": {"first": first, "last": last},
            "level": self.analysis.settings.level,
        }


def _load_analysis(job_id: str, path: Path) -> ServedBasket:
    from shopkeeper.basket._analysis import BasketAnalysis

    try:
        served = ServedBasket(job_id=job_id, path=path, analysis=BasketAnalysis.load(path))
    except Exception as exc:
        # An unreadable file or one written by another version: only a new run helps.
        log.error("the basket analysis %s cannot be served: %r", path, exc)
        raise _unusable(job_id) from exc
    log.info("basket analysis %s loaded", job_id)
    return served


def _unusable(job_id: str) -> ApiError:
    return ApiError(
        503,
        f"the basket analysis of job {job_id} cannot be loaded; "
        "compute it again with 'shopkeeper train basket'",
    )


ANALYSES: ArtifactCache[ServedBasket] = ArtifactCache(KIND, _artifact_name, _load_analysis)


def served_basket(workspace: Workspace) -> ServedBasket | None:
    """The workspace's basket analysis in service (None before the first job)."""
    return ANALYSES.get(workspace)


def _served(workspace: Workspace) -> ServedBasket:
    found = served_basket(workspace)
    if found is None:
        raise ApiError(409, NO_ANALYSIS)
    return found


def _unknown(served: ServedBasket, item: str, where: str) -> ApiError:
    return ApiError(
        404,
        f"no product {item!r} in the catalog or the baskets of job {served.job_id}",
        details=[{"field": where, "reason": "unknown product", "value": item}],
    )


# -- views shared with the dashboard --------------------------------------------------------


def _mentions(rules: pd.DataFrame, item: str) -> pd.Series:
    """Whether each rule holds ``item`` on either side."""
    sides = zip(rules["antecedent"], rules["consequent"], strict=True)
    return pd.Series([item in a or item in c for a, c in sides], index=rules.index, dtype=bool)


def rule_rows(served: ServedBasket, rules: pd.DataFrame) -> list[dict[str, Any]]:
    """Rules as JSON-ready dicts: both sides as ids and titles, then the measures."""
    out = []
    for row in rules.to_dict(orient="records"):
        ante, cons = list(row["antecedent"]), list(row["consequent"])
        rule = {
            "antecedent": ante,
            "antecedent_titles": served.titled(ante),
            "consequent": cons,
            "consequent_titles": served.titled(cons),
        }
        rule.update({name: row[name] for name in RULE_FIELDS})
        out.append(plain(rule))
    return out


def rules_view(
    served: ServedBasket,
    *,
    limit: int = 50,
    sort_by: str = "lift",
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
    product: str | None = None,
) -> dict[str, Any]:
    """The rules passing the filters, the strongest by ``sort_by`` first, at most ``limit``.

    ``total`` counts every rule passing the filters; ``product`` keeps rules
    holding it on either side (404 when it is unknown). Ties keep the order the
    analysis saved (by lift). The job's own thresholds are floors: asking for
    less confidence than the job kept returns what it kept.
    """
    rules = served.analysis.rules
    if product is not None:
        if product not in served.known:
            raise _unknown(served, product, "query.product")
        rules = rules[_mentions(rules, product)]
    rules = rules[(rules["confidence"] >= min_confidence) & (rules["lift"] >= min_lift)]
    ordered = rules.sort_values(sort_by, ascending=False, kind="stable")
    settings = served.analysis.settings
    return {
        **served.facts(),
        "sort_by": sort_by,
        "filters": {
            "min_confidence": min_confidence,
            "min_lift": min_lift,
            "product": product,
        },
        "job_thresholds": {
            "min_support": settings.min_support,
            "min_confidence": settings.min_confidence,
            "min_lift": settings.min_lift,
        },
        "total": len(ordered),
        "rules": rule_rows(served, ordered.head(limit)),
    }


def bundle_rows(served: ServedBasket, bundles: pd.DataFrame) -> list[dict[str, Any]]:
    """Bundles as JSON-ready dicts: items, their titles, then the figures."""
    out = []
    for row in bundles.to_dict(orient="records"):
        items = list(row["items"])
        bundle: dict[str, Any] = {"items": items, "titles": list(row["titles"])}
        bundle.update({name: row[name] for name in BUNDLE_FIELDS})
        out.append(plain(bundle))
    return out


def bundles_view(served: ServedBasket, limit: int = 20) -> dict[str, Any]:
    """The first ``limit`` bundles (most buyers first) and the discount rule they follow."""
    a = served.analysis
    return {
        **served.facts(),
        "margin_floor": a.settings.margin_floor,
        "max_discount": a.settings.max_discount,
        "total": len(a.bundles),
        "bundles": bundle_rows(served, a.bundles.head(limit)),
    }


def together_view(served: ServedBasket, product_id: str, limit: int = 10) -> dict[str, Any]:
    """The partners of ``product_id`` by confidence; 404 when the product is unknown."""
    if product_id not in served.known:
        raise _unknown(served, product_id, "path.product_id")
    rows = served.analysis.bought_with(product_id, limit)
    partners = []
    for row in rows.to_dict(orient="records"):
        partner = str(row["partner_id"])
        entry = {"partner_id": partner, "title": served.title(partner)}
        entry.update({name: row[name] for name in PARTNER_FIELDS})
        partners.append(plain(entry))
    return {
        **served.facts(),
        "product_id": product_id,
        "title": served.title(product_id),
        "partners": partners,
    }


def network_view(served: ServedBasket, edges: int = 60) -> dict[str, Any]:
    """The ``edges`` strongest pairs (most orders together) and the products they join."""
    return plain({**served.facts(), **served.analysis.network(edges)})


def summary_view(served: ServedBasket) -> dict[str, Any]:
    """The analysis's counts, the settings it ran with, its period and notes."""
    a = served.analysis
    return plain(
        {
            **served.facts(),
            "metrics": a.metrics(),
            "settings": asdict(a.settings),
            "notes": list(a.notes),
        }
    )


# -- routes ---------------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=MAX_LIST, description=f"How many, 1 to {MAX_LIST}.")]


@router.get("/rules", summary="Association rules, filtered and sorted")
def rules(
    limit: Limit = 50,
    sort_by: Annotated[SortBy, Query(description="The measure to sort by, highest first.")] = (
        "lift"
    ),
    min_confidence: Annotated[
        float,
        Query(ge=0, le=1, allow_inf_nan=False, description="Keep rules at least this confident."),
    ] = 0.0,
    min_lift: Annotated[
        float, Query(ge=0, allow_inf_nan=False, description="Keep rules with at least this lift.")
    ] = 0.0,
    product: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Keep rules holding this product."),
    ] = None,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Rules ``antecedent → consequent`` with support, confidence, lift, leverage and
    conviction (null when infinite), and the orders and customers behind them.
    ``total`` counts the rules passing the filters before ``limit``; a ``product``
    unknown to the catalog and the baskets is a 404."""
    return rules_view(
        _served(workspace),
        limit=limit,
        sort_by=sort_by,
        min_confidence=min_confidence,
        min_lift=min_lift,
        product=product,
    )


@router.get("/bundles", summary="Bundles worth offering, with a discount that keeps the margin")
def bundles(
    limit: Limit = 20,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Sets of products many customers buy together, most buyers first, with list price,
    margin, the largest discount (at most ``max_discount``) that keeps the margin rate
    at ``margin_floor``, the bundle price and the margin rate it keeps."""
    return bundles_view(_served(workspace), limit)


@router.get("/together/{product_id}", summary="Products bought in the same orders as this one")
def together(
    product_id: Annotated[str, PathParam(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100, description="How many partners, 1 to 100.")] = 10,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Ranked by confidence (the share of this product's orders holding the other). A
    known product that shares no frequent pair gets an empty list; an unknown one 404."""
    return together_view(_served(workspace), product_id, limit)


@router.get("/network", summary="The products that sell together, as a graph")
def network(
    edges: Annotated[
        int, Query(ge=1, le=MAX_EDGES, description=f"How many pairs, 1 to {MAX_EDGES}.")
    ] = 60,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The pairs bought together in the most orders as edges (lift, orders), and the
    products they join as nodes (title, orders holding it)."""
    return network_view(_served(workspace), edges)


@router.get("/summary", summary="Counts, settings, period and notes of the analysis")
def summary(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Orders and customers analysed, itemsets, rules and bundles found, the settings
    the job ran with, the period its orders span and what it left out."""
    return summary_view(_served(workspace))
