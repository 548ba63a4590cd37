"""Orders and delivery: late-delivery risk per open order, the carrier scorecard, order flags.

>>> from shopkeeper.orders import load_order_book, analyse   # doctest: +SKIP
>>> analysis = analyse(load_order_book(store))                # doctest: +SKIP
>>> analysis.at_risk.head()                                   # doctest: +SKIP

``_data.py`` reads the orders and settles each one's outcome (the
definitions of on time, late, lost and open are written there);
``_risk.py`` the features, the calibrated LightGBM model, its reasons and
the held-out comparison; ``_carriers.py`` the scorecard; ``_anomalies.py``
the flags; ``_train.py`` the analysis and the ``orders`` job.
"""

from shopkeeper.orders._anomalies import FLAG_KINDS, flag_orders, plant_anomalies
from shopkeeper.orders._carriers import carrier_scorecard, weekly_on_time
from shopkeeper.orders._data import OrderBook, load_order_book, require_delivery_facts
from shopkeeper.orders._risk import (
    LateRiskModel,
    RiskEvaluation,
    evaluate_risk,
    order_features,
)
from shopkeeper.orders._train import DeliveryAnalysis, OrderSettings, analyse, load_analysis

__all__ = [
    "FLAG_KINDS",
    "DeliveryAnalysis",
    "LateRiskModel",
    "OrderBook",
    "OrderSettings",
    "RiskEvaluation",
    "analyse",
    "carrier_scorecard",
    "evaluate_risk",
    "flag_orders",
    "load_analysis",
    "load_order_book",
    "order_features",
    "plant_anomalies",
    "require_delivery_facts",
    "weekly_on_time",
]
