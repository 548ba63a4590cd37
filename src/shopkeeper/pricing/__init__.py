"""Pricing: price elasticities from a shop's sales, and recommended prices (see docs/pricing.md).

>>> from shopkeeper.pricing import demand_panel, estimate_elasticities, recommend_prices
>>> panel = demand_panel(store)                                     # doctest: +SKIP
>>> result = estimate_elasticities(panel)                           # doctest: +SKIP
>>> recommend_prices(result, panel, PriceGuardrails())              # doctest: +SKIP

``elasticity_by_location`` estimates how the elasticity varies with the
locations' attributes (double machine learning); the ``pricing`` job runs
all of it and keeps the tables as its artifact.
"""

from shopkeeper.pricing._analysis import (
    PricingAnalysis,
    PricingSettings,
    analyse,
    load_analysis,
)
from shopkeeper.pricing._dml import HeterogeneityResult, elasticity_by_location
from shopkeeper.pricing._estimate import ElasticityResult, estimate_elasticities
from shopkeeper.pricing._fe import FEFit, fe_ols
from shopkeeper.pricing._panel import DemandPanel, demand_panel, from_frame
from shopkeeper.pricing._recommend import optimal_price, recommend_prices
from shopkeeper.pricing._regret import planted_regret, planted_response

__all__ = [
    "DemandPanel",
    "ElasticityResult",
    "FEFit",
    "HeterogeneityResult",
    "PricingAnalysis",
    "PricingSettings",
    "analyse",
    "demand_panel",
    "elasticity_by_location",
    "estimate_elasticities",
    "fe_ols",
    "from_frame",
    "load_analysis",
    "optimal_price",
    "planted_regret",
    "planted_response",
    "recommend_prices",
]
