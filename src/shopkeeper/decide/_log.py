"""Reading the decision log back: as a table, and as the log off-policy evaluation reads.

The export has one row per decision (a slate: one per position) with the
columns ``shopkeeper ope --log`` takes: ``action`` (the index in the
policy's actions), ``position``, ``propensity`` (the logged probability),
``reward``, and one ``context_<name>`` column per context feature, plus the
ids and times that trace a row back to its decision, and ``withheld``: true
where the customer had declined personalisation, so the context columns hold
the neutral context the decision was really made on (``decide._serve``), not
theirs. (``shopkeeper ope`` reads ``context_*`` columns only; ``withheld`` is
for filtering.)
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from shopkeeper.decide._book import get_policy
from shopkeeper.decide._serve import WITHHELD
from shopkeeper.store import METADATA, Store

DECISIONS = METADATA.tables["decisions"]
LOG_COLUMNS = [c.name for c in DECISIONS.columns]


def read_decisions(
    store: Store,
    policy_id: str | None = None,
    *,
    settled: bool | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> pd.DataFrame:
    """Logged decisions, oldest first unless ``newest_first``.

    ``settled=True`` keeps those with an outcome, ``False`` those still open.
    """
    query = select(DECISIONS)
    if policy_id is not None:
        query = query.where(DECISIONS.c.policy_id == policy_id)
    if settled is not None:
        column = DECISIONS.c.outcome_at
        query = query.where(column.is_not(None) if settled else column.is_(None))
    if since is not None:
        query = query.where(DECISIONS.c.decided_at >= since)
    order = DECISIONS.c.decided_at.desc() if newest_first else DECISIONS.c.decided_at
    query = query.order_by(order, DECISIONS.c.request_id, DECISIONS.c.position)
    if limit is not None:
        query = query.limit(limit)
    return store.select_frame(query, LOG_COLUMNS)


def ope_log(store: Store, policy_id: str) -> pd.DataFrame:
    """The settled decisions of one policy in the layout ``shopkeeper ope`` reads."""
    record = get_policy(store, policy_id)
    frame = read_decisions(store, policy_id, settled=True)
    out = pd.DataFrame(
        {
            "decision_id": frame["decision_id"],
            "request_id": frame["request_id"],
            "decided_at": frame["decided_at"],
            "policy_version": frame["policy_version"],
            "action": frame["action_index"].astype(int),
            "action_name": frame["action"],
            "n_actions": frame["n_actions"].astype(int),
            "position": frame["position"].astype(int),
            "propensity": frame["probability"].astype(float),
            "reward": frame["reward"].astype(float),
        }
    )
    contexts = [json.loads(c) for c in frame["context"]]
    out["withheld"] = [bool(c.get(WITHHELD, False)) for c in contexts]
    for name in record.config.get("features") or []:
        out[f"context_{name}"] = [float(c.get(name, float("nan"))) for c in contexts]
    return out


def export_log(store: Store, policy_id: str, path: Path) -> int:
    """Write ``ope_log`` to a CSV file; returns the number of rows."""
    frame = ope_log(store, policy_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return len(frame)
