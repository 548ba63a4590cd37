"""Recommendations: personal lists, similar items, bought-together, session lists.

>>> from shopkeeper.recommend import Interactions, EASE, top_n   # doctest: +SKIP
"""

from shopkeeper.recommend._base import Recommender, top_n
from shopkeeper.recommend._collab import ALS, EASE, ItemKNN, RepeatBuyer
from shopkeeper.recommend._content import ContentBased
from shopkeeper.recommend._data import DEFAULT_EVENT_WEIGHTS, Interactions
from shopkeeper.recommend._evaluate import (
    Candidate,
    Fold,
    evaluate,
    split_by_time,
    split_last_fraction,
)
from shopkeeper.recommend._hybrid import Hybrid, learn_weights
from shopkeeper.recommend._metrics import exposure_metrics, per_user_ndcg, ranking_metrics
from shopkeeper.recommend._popular import Popularity, Trending
from shopkeeper.recommend._serve import Recommendation, Recommendations, ServingRules
from shopkeeper.recommend._session import SessionTransitions
from shopkeeper.recommend._source import ShopData, load_shop

__all__ = [
    "ALS",
    "DEFAULT_EVENT_WEIGHTS",
    "EASE",
    "Candidate",
    "ContentBased",
    "Fold",
    "Hybrid",
    "Interactions",
    "ItemKNN",
    "Popularity",
    "Recommendation",
    "Recommendations",
    "Recommender",
    "RepeatBuyer",
    "ServingRules",
    "SessionTransitions",
    "ShopData",
    "Trending",
    "evaluate",
    "exposure_metrics",
    "learn_weights",
    "load_shop",
    "per_user_ndcg",
    "ranking_metrics",
    "split_by_time",
    "split_last_fraction",
    "top_n",
]
