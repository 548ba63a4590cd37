"""The ``pricing`` job: elasticities, their variation by location, recommended prices.

:func:`analyse` builds the demand panel (:func:`~shopkeeper.pricing.demand_panel`),
estimates the elasticities (per product where there are enough locations
for period effects per product, and pooled per top category), estimates
how the elasticity varies with the locations' numeric attributes where the
shop has them (double machine learning), and recommends a price per
product inside the guardrails. The artifact keeps every table the
dashboard shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.decide import PriceGuardrails
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
from shopkeeper.pricing._dml import HeterogeneityResult, elasticity_by_location
from shopkeeper.pricing._estimate import ElasticityResult, estimate_elasticities
from shopkeeper.pricing._panel import DemandPanel, demand_panel
from shopkeeper.pricing._recommend import recommend_prices
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

KIND = "pricing"
FORMAT = 1
ARTIFACT = "pricing.pkl"
Progress = Callable[[float, str], None]
_CHOICES = {"auto": None, "yes": True, "no": False}


@dataclass(frozen=True)
class PricingSettings:
    """What a pricing run does.

    ``frequency``: ``week`` (default) or ``day``, the period of the panel;
    ``by_location``: ``auto``, ``yes`` or ``no`` (one series per location);
    ``per_product``: ``auto`` (when at least ``min_clusters`` locations),
    ``yes`` or ``no``; ``cross``: cross-price terms, ``auto`` (up to 20
    products), ``yes`` or ``no``; ``groups``: ``top_category`` (pooled models
    per top category) or ``""``; ``min_obs``: observations a product needs;
    ``by_location_dml``: estimate the elasticity by location attributes;
    ``folds``: DML folds; the guardrails' ``floor``, ``ceiling``,
    ``margin_floor`` and ``max_change_per_day`` (0: no daily limit);
    ``recent``: periods behind the baseline units.
    """

    frequency: str = "week"
    by_location: str = "auto"
    per_product: str = "auto"
    cross: str = "auto"
    groups: str = "top_category"
    min_obs: int = 20
    min_clusters: int = 10
    by_location_dml: bool = True
    folds: int = 5
    floor: float = 0.8
    ceiling: float = 1.2
    margin_floor: float = 0.05
    max_change_per_day: float = 0.1
    recent: int = 8

    def __post_init__(self) -> None:
        if self.frequency not in ("day", "week"):
            raise ConfigError(f"pricing frequency {self.frequency!r}: day or week")
        for name in ("by_location", "per_product", "cross"):
            if getattr(self, name) not in _CHOICES:
                raise ConfigError(f"pricing {name} {getattr(self, name)!r}: auto, yes or no")
        if self.groups not in ("top_category", ""):
            raise ConfigError(f"pricing groups {self.groups!r}: top_category or empty")
        if self.min_obs < 3:
            raise ConfigError(f"pricing min_obs {self.min_obs}: at least 3")
        self.guardrails()  # checks the limits

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> PricingSettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, KIND)

    def guardrails(self) -> PriceGuardrails:
        return PriceGuardrails(
            floor=self.floor,
            ceiling=self.ceiling,
            margin_floor=self.margin_floor,
            max_change_per_day=self.max_change_per_day or None,
        )


@dataclass
class PricingAnalysis:
    """A shop's elasticities and recommended prices (the artifact).

    ``elasticities`` holds the tables by product (with intervals), the
    cross-price matrix, promotion effects and the pooled models;
    ``by_location`` the DML interaction coefficients and per-location
    elasticities (``None`` where the shop's locations carry no numeric
    attributes); ``recommendations`` one row per product
    (:func:`~shopkeeper.pricing.recommend_prices`).
    """

    settings: PricingSettings
    frequency: str
    periods: int
    locations: int
    elasticities: ElasticityResult
    by_location: HeterogeneityResult | None
    recommendations: pd.DataFrame
    guardrails: dict[str, Any]
    format: int = FORMAT
    notes: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        save_artifact(self, path)

    @classmethod
    def load(cls, path: Path) -> PricingAnalysis:
        return load_artifact(cls, path, KIND, FORMAT)

    def metrics(self) -> dict[str, Any]:
        own = self.elasticities.own
        pooled = self.elasticities.pooled.set_index("group")
        recs = self.recommendations.dropna(subset=["recommended_price"])
        now = float(recs["profit_now"].sum()) if len(recs) else 0.0
        new = float(recs["profit_new"].sum()) if len(recs) else 0.0
        return {
            "products": len(own),
            "frequency": self.frequency,
            "periods": self.periods,
            "locations": self.locations,
            "pooled_elasticity": _finite(pooled.loc["all", "elasticity"]),
            "median_elasticity": _finite(own["elasticity"].median()),
            "recommended": len(recs),
            "at_ceiling": int((recs["bound"] == "ceiling").sum()) if len(recs) else 0,
            "expected_profit_change": _finite(new / now - 1) if now > 0 else None,
            "by_location": self.by_location is not None,
            "notes": len(self.notes),
        }


def _finite(value: Any) -> float | None:
    x = float(value)
    return round(x, 4) if np.isfinite(x) else None


def analyse(
    store: Store,
    settings: PricingSettings | None = None,
    progress: Progress | None = None,
    panel: DemandPanel | None = None,
) -> PricingAnalysis:
    """Panel, elasticities, by-location variation and recommendations (see the module doc)."""
    cfg = settings or PricingSettings()
    report = progress or (lambda share, message: None)
    report(0.05, "reading demand and prices")
    panel = panel or demand_panel(
        store, frequency=cfg.frequency, by_location=_CHOICES[cfg.by_location]
    )
    n_loc = int(panel.frame["location_id"].nunique())
    per_product = _CHOICES[cfg.per_product]
    if per_product is None:
        per_product = n_loc >= cfg.min_clusters
    groups = panel.top_categories().to_dict() if cfg.groups else None
    report(0.2, f"estimating elasticities of {len(panel.product_ids)} products")
    result = estimate_elasticities(
        panel,
        per_product=per_product,
        cross=_CHOICES[cfg.cross],
        groups=groups,
        min_obs=cfg.min_obs,
        min_clusters=cfg.min_clusters,
        on_unusable="skip",
    )
    notes = list(result.notes)
    hetero = None
    if cfg.by_location_dml:
        report(0.5, "elasticity by location attributes (double machine learning)")
        try:
            hetero = elasticity_by_location(panel, folds=cfg.folds)
        except ConfigError as exc:
            notes.append(f"no elasticity by location: {exc}")
    report(0.85, "recommending prices")
    rails = cfg.guardrails()
    recs = recommend_prices(result, panel, rails, recent=cfg.recent)
    return PricingAnalysis(
        settings=cfg,
        frequency=panel.frequency,
        periods=int(panel.frame["period"].nunique()),
        locations=n_loc,
        elasticities=result,
        by_location=hetero,
        recommendations=recs,
        guardrails=rails.to_dict(),
        notes=notes,
    )


@register(KIND, "Price elasticities, their variation by store, and recommended prices")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: estimate elasticities, recommend prices within the guardrails, save the analysis."""
    settings = PricingSettings.from_params(dict(ctx.params))
    analysis = analyse(ctx.store, settings, ctx.progress)
    analysis.save(ctx.artifact_dir / ARTIFACT)
    return JobOutcome(metrics={**analysis.metrics(), "settings": asdict(settings)})


def load_analysis(ws: Workspace) -> PricingAnalysis:
    """The analysis of the last successful ``pricing`` job."""
    folder = current_artifact(ws, KIND)
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no pricing analysis yet; run 'shopkeeper train pricing' first")
    return PricingAnalysis.load(folder / ARTIFACT)
