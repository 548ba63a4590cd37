"""Serving decisions and learning from their outcomes, through the store.

``start_price_policy`` / ``start_slot_policy`` create a policy over a price
grid or a list of items; ``decide_price`` / ``decide_slot`` draw a decision,
log it with the probability it had, and return it; ``record_outcomes`` posts
what happened (click, purchase, revenue, margin), turns it into the policy's
reward and updates the policy as one new version. Each call is one
transaction: a refused batch of outcomes changes neither the log nor a state.

Prices: the policy's grid is fixed when it starts (``PriceGuardrails.grid``
around the product's catalogue price). Each day has an *anchor*: it starts
at the catalogue price and moves, at the first decision of a new day, to the
best price the policy knows within ``max_change_per_day`` of it, so it moves
at most one step a day. Of the decisions, ``1 - exploration_share`` show the
best price within the step of the day's anchor (among prices already
tried) and the rest follow the policy's own probabilities
over the whole grid; the logged probability is that of the whole mixture.

Consent: a decision that names a customer whose ``consent_personalization``
the store holds as false *now* (one indexed lookup per decision) is made
without their context. A contextual slot policy decides on the *neutral
context* instead: each feature at its mean over the contexts the policy has
learned from (``context_totals`` in its config, summed as outcomes arrive,
withheld contexts left out); while that is all zeros (nothing learned yet) the
items are drawn uniformly, each with chance ``1 / len(items)`` at each
position. Prices never read a context or a customer at all. Either way the
log keeps what was used, not what was sent: the neutral features (if any) and
``"_withheld": true``, never the caller's context. A missing answer is a yes
(the contract's default); a customer the store does not hold is treated as an
anonymous visitor, whose context is used as sent.
"""

from __future__ import annotations

import json
import math
import secrets
from collections import defaultdict
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, insert, select, update

from shopkeeper.decide._book import (
    POLICIES,
    PolicyRecord,
    create_policy,
    get_policy,
    now,
    running_policy_for,
    save_state,
)
from shopkeeper.decide._guardrails import PriceGuardrails
from shopkeeper.decide._policy import Choice, Policy
from shopkeeper.errors import ConfigError, ConflictError, NotFoundError
from shopkeeper.store import METADATA, Store

DECISIONS = METADATA.tables["decisions"]
PRODUCTS = METADATA.tables["products"]
CUSTOMERS = METADATA.tables["customers"]
#: The key a logged context carries when the customer's own context was withheld.
WITHHELD = "_withheld"
PRICE_REWARDS = ("margin", "revenue", "purchase")
SLOT_REWARDS = ("click", "purchase", "revenue")
OUTCOME_FIELDS = ("click", "purchase", "quantity", "revenue", "margin")
MAX_ACTIONS = 500


def make_policy(
    kind: str, actions: list[str], features: list[str], params: dict[str, Any] | None = None
) -> Policy:
    """A fresh policy of a registered kind over ``actions``."""
    if kind not in Policy.kinds():
        raise ConfigError(f"unknown policy kind {kind!r}; known: {', '.join(Policy.kinds())}")
    settings = dict(params or {})
    if features:
        settings["n_features"] = len(features)
    factory: Any = Policy._kinds[kind]
    try:
        policy: Policy = factory(actions, **settings)
    except TypeError as exc:
        if "n_features" in str(exc):
            rule = "takes no context features" if features else "needs context features"
            raise ConfigError(f"policy kind {kind!r} {rule} (features)") from exc
        raise ConfigError(f"policy kind {kind!r}: {exc}") from exc  # an unknown setting
    return policy


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


# Built once: every decision naming a customer runs it (one lookup by the key).
_CONSENT = select(CUSTOMERS.c.consent_personalization).where(
    CUSTOMERS.c.customer_id == bindparam("customer")
)


def declined_personalisation(store: Store, customer_id: str | None) -> bool:
    """Whether the named customer declines personalisation, as the store holds it now.

    Only a stored false counts: no customer named, a missing answer (the
    contract's default is yes) and a customer the store does not hold (an
    anonymous visitor to it) all leave the context in use.
    """
    if customer_id is None:
        return False
    with store.engine.connect() as conn:
        row = conn.execute(_CONSENT, {"customer": customer_id}).first()
    return row is not None and row[0] is False


def neutral_context(config: dict[str, Any]) -> dict[str, float]:
    """The features a declined customer's decision is made on: each one's mean over
    the contexts the policy has learned from (0 before it has learned from any)."""
    features = list(config.get("features") or [])
    totals = config.get("context_totals") or {}
    count = int(totals.get("n", 0))
    sums = totals.get("sums") or [0.0] * len(features)
    return {name: (float(sums[i]) / count if count else 0.0) for i, name in enumerate(features)}


def _checked_context(context: dict[str, Any] | None) -> dict[str, Any]:
    found = dict(context or {})
    if WITHHELD in found:
        # The marker says the service withheld a context; a caller cannot forge it.
        raise ConfigError(f"context.{WITHHELD}: reserved for the decision log; use another name")
    return found


def _uniform_slate(n_actions: int, positions: int, rng: np.random.Generator) -> list[Choice]:
    """Distinct actions in a uniformly random order: each has chance 1/K at each position."""
    return [Choice(int(a), 1.0 / n_actions) for a in rng.permutation(n_actions)[:positions]]


def _context_vector(
    context: dict[str, Any], features: list[str], where: str = "context"
) -> np.ndarray | None:
    if not features:
        return None
    values = []
    for name in features:
        if name not in context:
            raise ConfigError(
                f"{where}.{name}: missing; this policy reads the features {', '.join(features)}"
            )
        value = context[name]
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float) or not math.isfinite(float(value)):
            raise ConfigError(f"{where}.{name}={value!r}: must be a finite number")
        values.append(float(value))
    return np.asarray(values)


# -- starting policies -----------------------------------------------------------


def start_price_policy(
    store: Store,
    product_id: str,
    *,
    kind: str = "bernoulli-thompson",
    points: int = 7,
    guardrails: PriceGuardrails | None = None,
    reward: str = "margin",
    policy_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> PolicyRecord:
    """A price policy for one product over a grid within the guardrails.

    The grid lies around the product's catalogue price and above its cost's
    margin floor; the reward per decision (one visitor shown one price) is
    the margin, revenue or purchase it brought. The default policy is
    Bernoulli Thompson sampling on the purchase, each price's success worth
    its margin (or price): it learns one chance per price instead of a
    margin's spread (the simulation in ``_pricing_sim`` chose it).
    """
    if reward not in PRICE_REWARDS:
        raise ConfigError(f"reward {reward!r}: a price policy learns {', '.join(PRICE_REWARDS)}")
    rails = guardrails or PriceGuardrails()
    with store.engine.connect() as conn:
        row = conn.execute(
            select(PRODUCTS.c.price, PRODUCTS.c.cost).where(PRODUCTS.c.product_id == product_id)
        ).first()
    if row is None:
        raise NotFoundError(f"no product {product_id!r} in the catalogue")
    if row.price is None or row.cost is None:
        raise ConfigError(
            f"product {product_id!r} needs both a price and a cost in the catalogue to be "
            f"priced (price={row.price!r}, cost={row.cost!r})"
        )
    reference, cost = float(row.price), float(row.cost)
    prices = [float(p) for p in rails.grid(reference, cost, points)]
    actions = [f"{p:.2f}" for p in prices]
    config = {
        "product_id": product_id,
        "reference_price": reference,
        "cost": cost,
        "prices": prices,
        "actions": actions,
        "guardrails": rails.to_dict(),
        "reward": reward,
        "features": [],
        "anchor": {"day": None, "price": reference},
    }
    settings = dict(params or {})
    if kind == "bernoulli-thompson" and "values" not in settings:
        # A purchase is the success; what it pays depends on the price shown, so the
        # posterior of each price's purchase chance is weighed by its known worth.
        worth = {"margin": [p - cost for p in prices], "revenue": prices, "purchase": 1.0}
        settings["values"] = worth[reward]
    policy = make_policy(kind, actions, [], settings)
    return create_policy(store, policy_id or f"price:{product_id}", "price", policy, config)


def start_slot_policy(
    store: Store,
    slot: str,
    items: list[str],
    *,
    kind: str = "bernoulli-thompson",
    positions: int = 1,
    reward: str = "click",
    features: list[str] | None = None,
    policy_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> PolicyRecord:
    """A policy choosing which of ``items`` to show in ``positions`` places of a slot."""
    if reward not in SLOT_REWARDS:
        raise ConfigError(f"reward {reward!r}: a slot policy learns {', '.join(SLOT_REWARDS)}")
    if len(set(items)) != len(items) or not 2 <= len(items) <= MAX_ACTIONS:
        raise ConfigError(
            f"items: need 2 to {MAX_ACTIONS} distinct item ids, got {len(items)} "
            f"({len(set(items))} distinct)"
        )
    if not 1 <= positions <= len(items):
        raise ConfigError(f"positions={positions}: must be between 1 and {len(items)}")
    names = list(features or [])
    config = {
        "slot": slot,
        "positions": positions,
        "actions": list(items),
        "reward": reward,
        "features": names,
    }
    if names:
        # What the neutral context (for customers who declined) is the mean of.
        config["context_totals"] = {"n": 0, "sums": [0.0] * len(names)}
    policy = make_policy(kind, list(items), names, params)
    return create_policy(store, policy_id or f"slot:{slot}", "slot", policy, config)


# -- deciding ----------------------------------------------------------------------


def _price_table(
    record: PolicyRecord, policy: Policy, day: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """The probability of each grid price for a decision on ``day``, and the anchor."""
    cfg = record.config
    rails = PriceGuardrails.from_dict(cfg["guardrails"])
    prices = np.asarray(cfg["prices"])
    anchor = dict(cfg["anchor"])

    def allowed(around: float) -> np.ndarray:
        step = rails.max_change_per_day
        if step is None:
            return np.ones(len(prices), dtype=bool)
        # Half a cent of slack: grid prices are rounded to cents.
        return np.abs(prices - around) <= step * around + 0.005

    # The best price is the best among those with outcomes: an untried price's
    # estimate is its prior, no reason to show it to most visitors or to move
    # the anchor (exploring visitors try every price soon enough).
    means = policy.means(None)
    tried = np.asarray(getattr(policy, "counts", np.ones(len(prices)))) > 0

    def best(mask: np.ndarray, around: float) -> int:
        known = mask & tried
        if not known.any():
            return int(np.argmin(np.where(mask, np.abs(prices - around), np.inf)))
        # Ties go to the price nearest the anchor.
        order = np.lexsort((np.abs(prices - around), -np.where(known, means, -np.inf)))
        return int(order[0])

    if anchor["day"] != day:
        if anchor["day"] is not None:
            anchor["price"] = float(prices[best(allowed(anchor["price"]), anchor["price"])])
        anchor["day"] = day
    mask = allowed(anchor["price"])
    if not mask.any():
        mask[int(np.argmin(np.abs(prices - anchor["price"])))] = True
    # Exploring visitors may see any price of the grid: the daily step holds the
    # price most visitors see, and a price never shown could never be learned.
    inner = policy.probabilities(None, 1)[:, 0]
    greedy = np.zeros(len(prices))
    greedy[best(mask, anchor["price"])] = 1.0
    share = rails.exploration_share
    return (1.0 - share) * greedy + share * inner, anchor


def decide_price(
    store: Store,
    product_id: str,
    *,
    customer_id: str | None = None,
    context: dict[str, Any] | None = None,
    rng: np.random.Generator | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Choose the price to show one visitor for ``product_id``, and log it.

    The price is drawn from a table that reads neither ``customer_id`` nor
    ``context`` (price policies take no features): one product's visitors all
    face the same chances. ``context`` is only kept in the log, and not even
    that for a customer who declines personalisation (``{"_withheld": true}``).
    """
    rng = rng or np.random.default_rng()
    at = at or now()
    sent = _checked_context(context)
    record = running_policy_for(store, "price", "product_id", product_id)
    logged = {WITHHELD: True} if declined_personalisation(store, customer_id) else sent
    with store.transaction() as conn:
        record = get_policy(store, record.policy_id, conn)
        policy = record.policy()
        table, anchor = _price_table(record, policy, at.date().isoformat())
        action = int(rng.choice(len(table), p=table))
        config = {**record.config, "anchor": anchor}
        decision = {
            "decision_id": _new_id("d"),
            "request_id": _new_id("r"),
            "policy_id": record.policy_id,
            "policy_version": record.version,
            "purpose": "price",
            "decided_at": at,
            "customer_id": customer_id,
            "product_id": product_id,
            "slot": None,
            "position": 0,
            "action": record.actions[action],
            "action_index": action,
            "n_actions": len(table),
            "probability": float(table[action]),
            "context": json.dumps(logged),
        }
        conn.execute(insert(DECISIONS).values(**decision))
        conn.execute(
            update(POLICIES)
            .where(POLICIES.c.policy_id == record.policy_id)
            .values(decisions=POLICIES.c.decisions + 1, config=json.dumps(config))
        )
    return {
        "decision_id": decision["decision_id"],
        "policy_id": record.policy_id,
        "policy_version": record.version,
        "product_id": product_id,
        "price": record.config["prices"][action],
        "probability": decision["probability"],
    }


def decide_slot(
    store: Store,
    slot: str,
    *,
    customer_id: str | None = None,
    context: dict[str, Any] | None = None,
    positions: int | None = None,
    rng: np.random.Generator | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Choose the items for the positions of ``slot`` for one visitor, and log them.

    When ``customer_id`` declines personalisation (as the store holds it now),
    ``context`` is checked as for anyone but not used: a contextual policy
    decides on :func:`neutral_context` (uniformly while that is all zeros), and
    the log keeps those features with ``"_withheld": true``, so the logged
    context and probability are those of what was served.
    """
    rng = rng or np.random.default_rng()
    at = at or now()
    sent = _checked_context(context)
    record = running_policy_for(store, "slot", "slot", slot)
    wanted = record.config["positions"] if positions is None else positions
    if not 1 <= wanted <= record.config["positions"]:
        raise ConfigError(f"positions={wanted}: the slot {slot!r} has {record.config['positions']}")
    features = record.config["features"]
    vector = _context_vector(sent, features)  # a bad request fails alike for everyone
    logged: dict[str, Any] = sent
    policy = record.policy()
    withheld = declined_personalisation(store, customer_id)
    if withheld:
        neutral = neutral_context(record.config)
        logged = {**neutral, WITHHELD: True}
        vector = np.asarray([neutral[name] for name in features]) if features else None
    if withheld and vector is not None and not vector.any():
        # A linear model scores every action alike at zero (Thompson would always
        # draw the first): with nothing to go on, every item gets an equal chance.
        choices = _uniform_slate(len(record.actions), wanted, rng)
    else:
        choices = policy.choose_slate(vector, wanted, rng)
    request_id = _new_id("r")
    rows = [
        {
            "decision_id": _new_id("d"),
            "request_id": request_id,
            "policy_id": record.policy_id,
            "policy_version": record.version,
            "purpose": "slot",
            "decided_at": at,
            "customer_id": customer_id,
            "product_id": None,
            "slot": slot,
            "position": position,
            "action": record.actions[choice.action],
            "action_index": choice.action,
            "n_actions": len(record.actions),
            "probability": float(choice.probability),
            "context": json.dumps(logged),
        }
        for position, choice in enumerate(choices)
    ]
    with store.transaction() as conn:
        conn.execute(insert(DECISIONS), rows)
        conn.execute(
            update(POLICIES)
            .where(POLICIES.c.policy_id == record.policy_id)
            .values(decisions=POLICIES.c.decisions + len(rows))
        )
    return {
        "request_id": request_id,
        "policy_id": record.policy_id,
        "policy_version": record.version,
        "slot": slot,
        "items": [
            {
                "decision_id": r["decision_id"],
                "position": r["position"],
                "item": r["action"],
                "probability": r["probability"],
            }
            for r in rows
        ],
    }


# -- outcomes ----------------------------------------------------------------------


def _check_outcome(i: int, outcome: dict[str, Any]) -> dict[str, Any]:
    where = f"outcomes[{i}]"
    unknown = sorted(set(outcome) - {"decision_id", *OUTCOME_FIELDS})
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown field; an outcome has decision_id and "
            f"{', '.join(OUTCOME_FIELDS)}"
        )
    if not isinstance(outcome.get("decision_id"), str):
        raise ConfigError(f"{where}.decision_id: required, the id a decision returned")
    clean: dict[str, Any] = {"decision_id": outcome["decision_id"]}
    for name in ("click", "purchase"):
        value = outcome.get(name)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"{where}.{name}={value!r}: must be true or false")
        clean[name] = value
    for name in ("quantity", "revenue", "margin"):
        value = outcome.get(name)
        if value is None:
            clean[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}.{name}={value!r}: must be a number")
        if not math.isfinite(value) or (name != "margin" and value < 0):
            raise ConfigError(f"{where}.{name}={value!r}: must be a finite number, at least 0")
        clean[name] = float(value)
    if all(clean[name] is None for name in OUTCOME_FIELDS):
        raise ConfigError(f"{where}: give at least one of {', '.join(OUTCOME_FIELDS)}")
    return clean


def _reward(where: str, outcome: dict[str, Any], decision: Any, config: dict[str, Any]) -> float:
    metric = config["reward"]
    if metric in ("click", "purchase"):
        if outcome[metric] is None:
            raise ConfigError(
                f"{where}.{metric}: required, policy {decision.policy_id!r} learns it"
            )
        return float(outcome[metric])
    if outcome[metric] is not None:
        return float(outcome[metric])
    if decision.purpose != "price" or outcome["purchase"] is None:
        raise ConfigError(
            f"{where}.{metric}: required, policy {decision.policy_id!r} learns it"
            + (" (or give purchase and quantity)" if decision.purpose == "price" else "")
        )
    units = outcome["quantity"] if outcome["quantity"] is not None else 1.0
    price = float(decision.action)
    value = price if metric == "revenue" else price - config["cost"]
    return float(outcome["purchase"]) * units * value


def _learned(policy: Policy, action: int, reward: float) -> float:
    """What the policy learns from a reward: a Bernoulli policy learns a success.

    A Bernoulli policy over prices models the chance of a purchase, each worth
    its price's margin; a purchase of several units is one success (the log
    keeps the whole reward).
    """
    values = getattr(policy, "values", None)
    if policy.kind == "bernoulli-thompson" and values is not None:
        worth = float(np.asarray(values)[action])
        return worth if reward > 0 else 0.0
    return reward


def _add_context_totals(
    conn: Connection,
    record: PolicyRecord,
    learned: list[tuple[int, float, np.ndarray | None, bool]],
) -> None:
    """Add the contexts a contextual policy learned from to the sums behind its
    neutral context, inside the caller's transaction (the row is locked).

    Withheld contexts are left out: they are the neutral context already, and
    the mean is that of the visitors whose own context was used.
    """
    features = record.config.get("features") or []
    used = [v for _, _, v, withheld in learned if v is not None and not withheld]
    if not features or not used:
        return
    totals = record.config.get("context_totals") or {"n": 0, "sums": [0.0] * len(features)}
    sums = np.asarray(totals["sums"], dtype=float) + np.sum(used, axis=0)
    config = {
        **record.config,
        "context_totals": {"n": int(totals["n"]) + len(used), "sums": sums.tolist()},
    }
    conn.execute(
        update(POLICIES)
        .where(POLICIES.c.policy_id == record.policy_id)
        .values(config=json.dumps(config))
    )


def record_outcomes(
    store: Store, outcomes: list[dict[str, Any]], *, at: datetime | None = None
) -> dict[str, Any]:
    """Settle decisions with their outcomes and update their policies, all or nothing.

    Refuses, naming the outcome by its place in the list: an unknown
    decision id, one settled before or twice in the batch, a missing field
    the policy's reward needs, a value of the wrong type.
    """
    at = at or now()
    checked = [_check_outcome(i, o) for i, o in enumerate(outcomes)]
    seen: dict[str, int] = {}
    for i, outcome in enumerate(checked):
        if outcome["decision_id"] in seen:
            raise ConfigError(
                f"outcomes[{i}].decision_id={outcome['decision_id']!r}: also in "
                f"outcomes[{seen[outcome['decision_id']]}]"
            )
        seen[outcome["decision_id"]] = i
    updated: dict[str, list[tuple[int, float, np.ndarray | None, bool]]] = defaultdict(list)
    with store.transaction() as conn:
        rows = {
            r.decision_id: r
            for r in conn.execute(select(DECISIONS).where(DECISIONS.c.decision_id.in_(list(seen))))
        }
        records: dict[str, PolicyRecord] = {}
        for i, outcome in enumerate(checked):
            where = f"outcomes[{i}]"
            decision = rows.get(outcome["decision_id"])
            if decision is None:
                raise NotFoundError(
                    f"{where}.decision_id={outcome['decision_id']!r}: no such decision"
                )
            if decision.outcome_at is not None:
                raise ConflictError(
                    f"{where}.decision_id={outcome['decision_id']!r}: its outcome was posted "
                    f"at {decision.outcome_at.isoformat()}; an outcome is posted once"
                )
            if decision.policy_id not in records:
                records[decision.policy_id] = get_policy(store, decision.policy_id, conn)
            config = records[decision.policy_id].config
            reward = _reward(where, outcome, decision, config)
            conn.execute(
                update(DECISIONS)
                .where(DECISIONS.c.decision_id == decision.decision_id)
                .values(
                    outcome_at=at,
                    reward=reward,
                    **{name: outcome[name] for name in OUTCOME_FIELDS},
                )
            )
            logged = json.loads(decision.context)
            vector = _context_vector(logged, config["features"], f"{where} context")
            withheld = bool(logged.get(WITHHELD, False))
            updated[decision.policy_id].append(
                (int(decision.action_index), reward, vector, withheld)
            )
        versions = {}
        for policy_id, learned in updated.items():
            record = records[policy_id]
            policy = record.policy()
            if record.status == "running":
                # A withheld decision teaches what was used (the neutral context).
                for action, reward, vector, _ in learned:
                    policy.update(action, _learned(policy, action, reward), vector)
                _add_context_totals(conn, record, learned)
            versions[policy_id] = save_state(
                conn,
                record,
                policy,
                outcomes=len(learned),
                reward=sum(r for _, r, _, _ in learned),
            )
    return {"accepted": len(checked), "policies": versions}
