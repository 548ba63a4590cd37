"""Customer analytics: segments, lifetime value, propensity, rules, churn risk, audiences.

>>> from shopkeeper.customers import BetaGeo, rfm_summary   # doctest: +SKIP
"""

from shopkeeper.customers._analytics import AnalyticsSettings, CustomerAnalytics, analyse
from shopkeeper.customers._audience import (
    AudienceResult,
    Condition,
    build_audience,
    make_condition,
    parse_condition,
)
from shopkeeper.customers._clv import (
    BetaGeo,
    FitInfo,
    GammaGamma,
    HoldoutCheck,
    ParetoNBD,
    RepeatModel,
    holdout_check,
    lifetime_value,
    repeat_model,
    rfm_summary,
)
from shopkeeper.customers._fairness import age_band, fairness_report
from shopkeeper.customers._features import customer_features
from shopkeeper.customers._history import CustomerHistory, load_history
from shopkeeper.customers._models import (
    PropensityModel,
    classification_report,
    cross_validate,
    read_online_shoppers,
)
from shopkeeper.customers._propensity import CustomerPropensity, train_customer_propensity
from shopkeeper.customers._rfm import (
    SEGMENT_RULES,
    SEGMENTS,
    movement_summary,
    rfm_scores,
    segment_movement,
    segment_sizes,
)
from shopkeeper.customers._rules import HighValueRules, high_value_rules

__all__ = [
    "SEGMENTS",
    "SEGMENT_RULES",
    "AnalyticsSettings",
    "AudienceResult",
    "BetaGeo",
    "Condition",
    "CustomerAnalytics",
    "CustomerHistory",
    "CustomerPropensity",
    "FitInfo",
    "GammaGamma",
    "HighValueRules",
    "HoldoutCheck",
    "ParetoNBD",
    "PropensityModel",
    "RepeatModel",
    "age_band",
    "analyse",
    "build_audience",
    "classification_report",
    "cross_validate",
    "customer_features",
    "fairness_report",
    "high_value_rules",
    "holdout_check",
    "lifetime_value",
    "load_history",
    "make_condition",
    "movement_summary",
    "parse_condition",
    "read_online_shoppers",
    "repeat_model",
    "rfm_scores",
    "rfm_summary",
    "segment_movement",
    "segment_sizes",
    "train_customer_propensity",
]
