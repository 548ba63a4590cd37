"""The policies a shop runs, kept in the store with every version of their state.

A policy record is the configuration (what it decides, over which actions,
within which guardrails, for which reward) and the learned state of one
:class:`~shopkeeper.decide.Policy`. Its ``version`` grows by one with every
batch of outcomes it learns from, and each version's state is kept in
``policy_versions``, so a decision logged under version 12 can be traced to
exactly the state that made it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from shopkeeper.decide._policy import Policy
from shopkeeper.errors import ConfigError, ConflictError, NotFoundError
from shopkeeper.store import METADATA, Store

POLICIES = METADATA.tables["policies"]
VERSIONS = METADATA.tables["policy_versions"]
PURPOSES = ("price", "slot")
POLICY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def now() -> datetime:
    """The current time in UTC without a zone, as the store keeps times."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class PolicyRecord:
    """One stored policy: its configuration, state and running totals."""

    policy_id: str
    purpose: str
    kind: str
    status: str
    version: int
    config: dict[str, Any]
    state: dict[str, Any]
    decisions: int
    outcomes: int
    reward_sum: float
    created_at: datetime
    updated_at: datetime
    stopped_at: datetime | None

    @property
    def actions(self) -> list[str]:
        return list(self.config["actions"])

    @property
    def mean_reward(self) -> float | None:
        """The average reward of the decisions with an outcome so far."""
        return self.reward_sum / self.outcomes if self.outcomes else None

    def policy(self) -> Policy:
        return Policy.from_state(self.state)

    def summary(self) -> dict[str, Any]:
        """A JSON-able view for the CLI and the API (the state left out)."""
        return {
            "policy_id": self.policy_id,
            "purpose": self.purpose,
            "kind": self.kind,
            "status": self.status,
            "version": self.version,
            "decisions": self.decisions,
            "outcomes": self.outcomes,
            "mean_reward": self.mean_reward,
            "config": self.config,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }


def _record(row: Any) -> PolicyRecord:
    return PolicyRecord(
        policy_id=row.policy_id,
        purpose=row.purpose,
        kind=row.kind,
        status=row.status,
        version=int(row.version),
        config=json.loads(row.config),
        state=json.loads(row.state),
        decisions=int(row.decisions),
        outcomes=int(row.outcomes),
        reward_sum=float(row.reward_sum),
        created_at=row.created_at,
        updated_at=row.updated_at,
        stopped_at=row.stopped_at,
    )


def create_policy(
    store: Store, policy_id: str, purpose: str, policy: Policy, config: dict[str, Any]
) -> PolicyRecord:
    """Store a new policy at version 1; refuses a taken or malformed id."""
    if not POLICY_ID.match(policy_id):
        raise ConfigError(
            f"policy id {policy_id!r}: use 1-100 letters, digits and . _ : - "
            "(starting with a letter or digit)"
        )
    if purpose not in PURPOSES:
        raise ConfigError(f"purpose {purpose!r}: must be one of {', '.join(PURPOSES)}")
    state = json.dumps(policy.state())
    at = now()
    with store.transaction() as conn:
        taken = conn.execute(
            select(POLICIES.c.policy_id).where(POLICIES.c.policy_id == policy_id)
        ).first()
        if taken is not None:
            raise ConflictError(f"a policy named {policy_id!r} exists; stop it or pick another")
        conn.execute(
            insert(POLICIES).values(
                policy_id=policy_id,
                purpose=purpose,
                kind=policy.kind,
                status="running",
                version=1,
                config=json.dumps(config),
                state=state,
                decisions=0,
                outcomes=0,
                reward_sum=0.0,
                created_at=at,
                updated_at=at,
            )
        )
        conn.execute(
            insert(VERSIONS).values(
                policy_id=policy_id, version=1, state=state, reason="created", created_at=at
            )
        )
    return get_policy(store, policy_id)


def get_policy(store: Store, policy_id: str, conn: Connection | None = None) -> PolicyRecord:
    """The stored policy; NotFoundError names the id when there is none."""
    query = select(POLICIES).where(POLICIES.c.policy_id == policy_id)
    if conn is not None:
        # Outcomes read-modify-write the state: lock the row where the database can.
        row = conn.execute(query.with_for_update()).first()
    else:
        with store.engine.connect() as own:
            row = own.execute(query).first()
    if row is None:
        raise NotFoundError(f"no policy {policy_id!r}; `shopkeeper policies list` shows them")
    return _record(row)


def list_policies(
    store: Store, *, purpose: str | None = None, status: str | None = None
) -> list[PolicyRecord]:
    """Every stored policy, newest first, optionally of one purpose or status."""
    query = select(POLICIES).order_by(POLICIES.c.created_at.desc(), POLICIES.c.policy_id)
    if purpose is not None:
        query = query.where(POLICIES.c.purpose == purpose)
    if status is not None:
        query = query.where(POLICIES.c.status == status)
    with store.engine.connect() as conn:
        return [_record(row) for row in conn.execute(query)]


def running_policy_for(store: Store, purpose: str, field: str, value: str) -> PolicyRecord:
    """The running policy of ``purpose`` whose config has ``field == value``."""
    for record in list_policies(store, purpose=purpose, status="running"):
        if record.config.get(field) == value:
            return record
    raise NotFoundError(
        f"no running {purpose} policy for {field} {value!r}; start one with "
        f"`shopkeeper policies start-{purpose}`"
    )


def stop_policy(store: Store, policy_id: str) -> PolicyRecord:
    """Stop a policy: it serves no more decisions; its log and state stay."""
    with store.transaction() as conn:
        record = get_policy(store, policy_id, conn)
        if record.status != "stopped":
            at = now()
            conn.execute(
                update(POLICIES)
                .where(POLICIES.c.policy_id == policy_id)
                .values(status="stopped", stopped_at=at, updated_at=at)
            )
    return get_policy(store, policy_id)


def save_state(
    conn: Connection,
    record: PolicyRecord,
    policy: Policy,
    *,
    outcomes: int,
    reward: float,
    reason: str = "outcomes",
) -> int:
    """Write the learned state as the next version, inside the caller's transaction."""
    version = record.version + 1
    state = json.dumps(policy.state())
    at = now()
    conn.execute(
        update(POLICIES)
        .where(POLICIES.c.policy_id == record.policy_id)
        .values(
            version=version,
            state=state,
            outcomes=POLICIES.c.outcomes + outcomes,
            reward_sum=POLICIES.c.reward_sum + reward,
            updated_at=at,
        )
    )
    conn.execute(
        insert(VERSIONS).values(
            policy_id=record.policy_id, version=version, state=state, reason=reason, created_at=at
        )
    )
    return version


def policy_versions(store: Store, policy_id: str) -> list[dict[str, Any]]:
    """Every version of a policy's state, oldest first."""
    query = select(VERSIONS).where(VERSIONS.c.policy_id == policy_id).order_by(VERSIONS.c.version)
    with store.engine.connect() as conn:
        return [
            {
                "version": int(r.version),
                "reason": r.reason,
                "created_at": r.created_at.isoformat(),
                "state": json.loads(r.state),
            }
            for r in conn.execute(query)
        ]
