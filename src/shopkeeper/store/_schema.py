"""The store's SQL schema, derived from the data contract.

Every contract table becomes one SQL table with the contract's columns plus
``extra`` (a JSON object of the columns a shop sent that the contract does not
know, kept rather than dropped). A table's key is enforced by a unique index;
optional key parts (``inventory.location_id``) are indexed as
``COALESCE(column, '')`` so that "no location" is one value, not many NULLs.
References are checked by ingest before anything is written rather than by SQL
foreign keys, so that one load can report every dangling reference at once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.types import TypeEngine

from shopkeeper import contract
from shopkeeper.contract import Kind

SCHEMA_VERSION = 1
EXTRA_COLUMN = "extra"
#: Metadata entry present while the store holds exactly one generated demo shop:
#: its settings as JSON. Every other load removes it.
DEMO_META = "demo_config"
#: Metadata entry with the shop's time zone (an offset such as +08:00 or a zone
#: name): the day the marketing mix counts sales in. Loads keep it.
TIMEZONE_META = "timezone"

_SQL_TYPES: dict[Kind, TypeEngine] = {
    Kind.ID: String(contract._tables.ID_MAX),
    Kind.TEXT: Text(),
    Kind.INT: BigInteger(),
    Kind.FLOAT: Double(),
    Kind.BOOL: Boolean(),
    Kind.DATETIME: DateTime(),
    Kind.DATE: Date(),
    Kind.ENUM: String(40),
    Kind.IMAGE: Text(),  # the resolved absolute path
}


_TIME_INDEXED = {"orders": "ordered_at", "events": "at"}


def key_expressions(table: contract.Table) -> list[str]:
    """The SQL expressions of a table's key, as used by its unique index."""
    exprs = []
    for name in table.key:
        column = table.column(name)
        exprs.append(name if column.required else f"COALESCE({name}, '')")
    return exprs


def build_metadata() -> MetaData:
    """SQLAlchemy metadata for every contract table and the store's own tables."""
    metadata = MetaData()
    for spec in contract.TABLES:
        columns = [
            Column(c.name, _SQL_TYPES[c.kind], nullable=not c.required) for c in spec.columns
        ]
        sql_table = Table(spec.name, metadata, *columns, Column(EXTRA_COLUMN, Text()))
        key_parts = [
            sql_table.c[n] if spec.column(n).required else func.coalesce(sql_table.c[n], "")
            for n in spec.key
        ]
        Index(f"ux_{spec.name}_key", *key_parts, unique=True)
        # Reference columns are joined on by every capability; index them.
        for ref in spec.references:
            if ref.column not in spec.key[:1]:
                Index(f"ix_{spec.name}_{ref.column}", sql_table.c[ref.column])
        # Recent orders and events are what the API pages through and the
        # figures window on: index their time.
        if spec.name in _TIME_INDEXED:
            column = _TIME_INDEXED[spec.name]
            Index(f"ix_{spec.name}_{column}", sql_table.c[column])

    Table(
        "shopkeeper_meta",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("value", Text(), nullable=False),
    )
    Table(
        "api_keys",
        metadata,
        Column("key_id", String(32), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("role", String(20), nullable=False),
        # SHA-256 of the secret part: keys are long random tokens, so a fast
        # hash is enough (no dictionary to guess from) and the secret is never stored.
        Column("secret_sha256", String(64), nullable=False),
        Column("created_at", DateTime(), nullable=False),
        Column("last_used_at", DateTime()),
        Column("revoked_at", DateTime()),
    )
    Table(
        "jobs",
        metadata,
        Column("job_id", String(32), primary_key=True),
        Column("kind", String(100), nullable=False),
        Column("state", String(20), nullable=False),  # queued, running, done, failed
        Column("progress", Double(), nullable=False),
        Column("message", Text()),
        Column("params", Text()),  # JSON
        Column("metrics", Text()),  # JSON, when done
        Column("artifact", Text()),  # path of the model artifact, when done
        Column("error", Text()),
        Column("created_at", DateTime(), nullable=False),
        Column("started_at", DateTime()),
        Column("finished_at", DateTime()),
    )
    Table(
        "audit_log",
        metadata,
        Column("audit_id", Integer(), primary_key=True, autoincrement=True),
        Column("at", DateTime(), nullable=False),
        Column("actor", String(200), nullable=False),  # key:<key_id>, or cli
        Column("action", String(100), nullable=False),  # keys.create, customers.read_personal
        Column("target", String(200), nullable=False),
        Column("detail", Text()),  # JSON
    )
    Table(
        "ingest_runs",
        metadata,
        Column("run_id", Integer(), primary_key=True, autoincrement=True),
        Column("started_at", DateTime(), nullable=False),
        Column("finished_at", DateTime(), nullable=False),
        Column("source", Text(), nullable=False),
        Column("tables", Text(), nullable=False),  # JSON: {"orders": 1234, ...}
        Column("rows", BigInteger(), nullable=False),
    )
    _decision_tables(metadata)
    return metadata


def _decision_tables(metadata: MetaData) -> None:
    """The decision log and the learning policies (``shopkeeper.decide``).

    A decision row holds everything off-policy evaluation needs later: the
    context, the action, the probability the policy gave it, the policy and
    its version, and (once posted) the outcome. A slate is one row per
    position sharing a ``request_id``. A policy's state is kept current in
    ``policies`` and every version is kept in ``policy_versions``.
    """
    Table(
        "policies",
        metadata,
        Column("policy_id", String(100), primary_key=True),
        Column("purpose", String(10), nullable=False),  # price, slot
        Column("kind", String(40), nullable=False),
        Column("status", String(10), nullable=False),  # running, stopped
        Column("version", Integer(), nullable=False),
        Column("config", Text(), nullable=False),  # JSON: actions, guardrails, reward
        Column("state", Text(), nullable=False),  # JSON: Policy.state()
        Column("decisions", BigInteger(), nullable=False),
        Column("outcomes", BigInteger(), nullable=False),
        Column("reward_sum", Double(), nullable=False),
        Column("created_at", DateTime(), nullable=False),
        Column("updated_at", DateTime(), nullable=False),
        Column("stopped_at", DateTime()),
    )
    Table(
        "policy_versions",
        metadata,
        Column("policy_id", String(100), primary_key=True),
        Column("version", Integer(), primary_key=True),
        Column("state", Text(), nullable=False),
        Column("reason", String(20), nullable=False),  # created, outcomes, reset
        Column("created_at", DateTime(), nullable=False),
    )
    decisions = Table(
        "decisions",
        metadata,
        Column("decision_id", String(40), primary_key=True),
        Column("request_id", String(40), nullable=False),
        Column("policy_id", String(100), nullable=False),
        Column("policy_version", Integer(), nullable=False),
        Column("purpose", String(10), nullable=False),
        Column("decided_at", DateTime(), nullable=False),
        Column("customer_id", String(200)),
        Column("product_id", String(200)),
        Column("slot", String(200)),
        Column("position", Integer(), nullable=False),
        Column("action", String(200), nullable=False),
        Column("action_index", Integer(), nullable=False),
        Column("n_actions", Integer(), nullable=False),
        Column("probability", Double(), nullable=False),
        Column("context", Text(), nullable=False),  # JSON object of named features
        Column("outcome_at", DateTime()),
        Column("click", Boolean()),
        Column("purchase", Boolean()),
        Column("quantity", Double()),
        Column("revenue", Double()),
        Column("margin", Double()),
        Column("reward", Double()),
    )
    Index("ix_decisions_policy", decisions.c.policy_id, decisions.c.decided_at)
    Index("ix_decisions_request", decisions.c.request_id)


METADATA = build_metadata()
