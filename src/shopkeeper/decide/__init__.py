"""Decisions that learn: the decision log, bandit policies, price guardrails.

``start_price_policy`` / ``start_slot_policy`` create a policy in the store;
``decide_price`` / ``decide_slot`` serve and log a decision with its
probability; ``record_outcomes`` settles decisions and updates the policy as
a new version; ``ope_log`` / ``export_log`` give the log to off-policy
evaluation (``shopkeeper.ope``).
"""

from shopkeeper.decide._book import (
    PolicyRecord,
    get_policy,
    list_policies,
    policy_versions,
    stop_policy,
)
from shopkeeper.decide._guardrails import PriceGuardrails
from shopkeeper.decide._log import export_log, ope_log, read_decisions
from shopkeeper.decide._policy import Choice, Policy
from shopkeeper.decide._report import policy_report
from shopkeeper.decide._serve import (
    decide_price,
    decide_slot,
    make_policy,
    record_outcomes,
    start_price_policy,
    start_slot_policy,
)

__all__ = [
    "Choice",
    "Policy",
    "PolicyRecord",
    "PriceGuardrails",
    "decide_price",
    "decide_slot",
    "export_log",
    "get_policy",
    "list_policies",
    "make_policy",
    "ope_log",
    "policy_report",
    "policy_versions",
    "read_decisions",
    "record_outcomes",
    "start_price_policy",
    "start_slot_policy",
    "stop_policy",
]
