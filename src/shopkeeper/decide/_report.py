"""What a policy has done and learned: per action, and its value with an interval.

The logged value is the average reward of the settled decisions with a
normal 95% interval. The learned policy's value (what serving its current
best action would earn) is estimated off-policy from the same log by
self-normalised importance weighting with a bootstrap interval (see
``shopkeeper.ope``); it needs logged probabilities above zero for that
action, which is why the exploration share is never zero by default.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import func, select

from shopkeeper.decide._book import PolicyRecord
from shopkeeper.decide._log import ope_log
from shopkeeper.store import METADATA, Store

DECISIONS = METADATA.tables["decisions"]
Z95 = 1.959963984540054
OPE_ROUNDS = 50_000  # the most recent settled decisions an off-policy estimate reads


def action_table(store: Store, record: PolicyRecord) -> list[dict[str, Any]]:
    """Per action: decisions, outcomes, mean reward, the policy's estimate and share now."""
    d = DECISIONS.c
    query = (
        select(
            d.action_index,
            func.count(),
            func.count(d.outcome_at),
            func.avg(d.reward),
        )
        .where(d.policy_id == record.policy_id)
        .group_by(d.action_index)
    )
    with store.engine.connect() as conn:
        counts = {int(r[0]): (int(r[1]), int(r[2]), r[3]) for r in conn.execute(query)}
    policy = record.policy()
    means = policy.means(None) if not record.config.get("features") else None
    shares = policy.probabilities(None, 1)[:, 0] if not record.config.get("features") else None
    rows = []
    for i, name in enumerate(record.actions):
        n, settled, avg = counts.get(i, (0, 0, None))
        rows.append(
            {
                "action": name,
                "index": i,
                "decisions": n,
                "outcomes": settled,
                "mean_reward": float(avg) if avg is not None else None,
                "estimate": float(means[i]) if means is not None else None,
                "share": float(shares[i]) if shares is not None else None,
            }
        )
    return rows


def logged_value(store: Store, policy_id: str) -> dict[str, Any]:
    """The average reward of the settled decisions, with a 95% interval."""
    d = DECISIONS.c
    query = select(d.reward).where(d.policy_id == policy_id, d.outcome_at.is_not(None))
    with store.engine.connect() as conn:
        rewards = np.asarray([float(r[0]) for r in conn.execute(query)])
    if len(rewards) == 0:
        return {"n": 0, "value": None, "low": None, "high": None}
    mean = float(rewards.mean())
    half = Z95 * float(rewards.std(ddof=1)) / math.sqrt(len(rewards)) if len(rewards) > 1 else 0
    return {"n": len(rewards), "value": mean, "low": mean - half, "high": mean + half}


def learned_value(
    store: Store, record: PolicyRecord, *, max_rounds: int = OPE_ROUNDS, n_bootstrap: int = 200
) -> dict[str, Any]:
    """The value of what the policy would do now, estimated off-policy from its log.

    For a price policy that is showing its best tried price to everyone; for
    a slot policy, its current chances per position. Self-normalised IPW over
    the last ``max_rounds`` settled decisions, with a bootstrap interval.
    Contextual policies' chances depend on each context: export the log and
    use ``shopkeeper ope`` for them.
    """
    from shopkeeper.ope import LoggedFeedback, evaluate_policy

    none: dict[str, Any] = {"n": 0, "value": None, "low": None, "high": None}
    if record.config.get("features"):
        return {**none, "note": "contextual: use shopkeeper ope on the exported log"}
    frame = ope_log(store, record.policy_id).tail(max_rounds)
    if frame.empty:
        return none
    policy = record.policy()
    n_actions = len(record.actions)
    positions = int(record.config.get("positions", 1))
    if record.purpose == "price":
        counts = np.asarray(getattr(policy, "counts", np.ones(n_actions)))
        means = np.where(counts > 0, policy.means(None), -np.inf)
        table = np.zeros((n_actions, 1))
        table[int(np.argmax(means)), 0] = 1.0
        target, action = "best", record.actions[int(np.argmax(means))]
    else:
        table = policy.probabilities(None, positions)
        target, action = "current", None
    feedback = LoggedFeedback(
        action=frame["action"].to_numpy(dtype=np.int64),
        position=frame["position"].to_numpy(dtype=np.int64),
        reward=frame["reward"].to_numpy(dtype=float),
        propensity=frame["propensity"].to_numpy(dtype=float),
        n_actions=n_actions,
        n_positions=table.shape[1],
    )
    dist = np.broadcast_to(table, (len(frame), *table.shape))
    result = evaluate_policy(feedback, dist, estimators=("snipw",), n_bootstrap=n_bootstrap)
    found = result.get("snipw")
    return {
        "n": len(frame),
        "value": found.value,
        "low": found.lower,
        "high": found.upper,
        "estimator": "snipw",
        "target": target,  # best: the best tried price for everyone; current: its chances now
        "action": action,
    }


def policy_report(store: Store, record: PolicyRecord, *, learned: bool = False) -> dict[str, Any]:
    """The policy's summary, its actions, its logged value (and, asked, its learned value)."""
    report = {
        **record.summary(),
        "actions": action_table(store, record),
        "logged_value": logged_value(store, record.policy_id),
    }
    if learned:
        report["learned_value"] = learned_value(store, record)
    return report
