"""Off-policy evaluation: the value of any policy, estimated from a decision log.

>>> from shopkeeper.ope import LoggedFeedback, evaluate_policy, uniform_action_dist
>>> result = evaluate_policy(log, bts_action_dist(alpha, beta, len_list=3))  # doctest: +SKIP
>>> result.get("dros").value, result.get("dros").lower  # doctest: +SKIP

See docs/ope.md for the estimators, when each is right, and the log format.
"""

from shopkeeper.ope._bts import CAMPAIGNS, bts_action_dist, obp_prior_file, zozotown_prior
from shopkeeper.ope._estimators import (
    ESTIMATORS,
    MODEL_BASED,
    Pieces,
    Tuning,
    default_grid,
    estimate,
    pieces,
    round_values,
    shrunk_weight,
    tune,
)
from shopkeeper.ope._evaluate import (
    DEFAULT_ESTIMATORS,
    RECOMMENDED,
    Estimate,
    OPEResult,
    evaluate_policy,
)
from shopkeeper.ope._feedback import LoggedFeedback, check_action_dist, uniform_action_dist
from shopkeeper.ope._log import read_decision_log, read_policy, read_prior
from shopkeeper.ope._reward import REWARD_MODELS, RewardModel, fit_predict_rewards
from shopkeeper.ope._select import SELECT_FROM, Selection, select_estimator

__all__ = [
    "CAMPAIGNS",
    "DEFAULT_ESTIMATORS",
    "ESTIMATORS",
    "MODEL_BASED",
    "RECOMMENDED",
    "REWARD_MODELS",
    "SELECT_FROM",
    "Estimate",
    "LoggedFeedback",
    "OPEResult",
    "Pieces",
    "RewardModel",
    "Selection",
    "Tuning",
    "bts_action_dist",
    "check_action_dist",
    "default_grid",
    "estimate",
    "evaluate_policy",
    "fit_predict_rewards",
    "obp_prior_file",
    "pieces",
    "read_decision_log",
    "read_policy",
    "read_prior",
    "round_values",
    "select_estimator",
    "shrunk_weight",
    "tune",
    "uniform_action_dist",
    "zozotown_prior",
]
