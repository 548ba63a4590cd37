"""The ``customers`` job: every customer score, from the store, saved as one artifact."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from shopkeeper.customers._analytics import AnalyticsSettings, CustomerAnalytics, analyse
from shopkeeper.customers._history import load_history
from shopkeeper.customers._sessions import load_sessions
from shopkeeper.errors import ConfigError
from shopkeeper.jobs import JobContext, JobOutcome, current_artifact, register
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace

ARTIFACT = "customers.pkl"
SCORES = "scores.csv"
_CUSTOMERS = METADATA.tables["customers"]


@register("customers", "Segments, lifetime value, propensity, churn risk and high-value rules")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read the store, score every customer, save the analytics as the artifact."""
    settings = AnalyticsSettings.from_params(dict(ctx.params))
    ctx.progress(0.01, "reading orders, customers and activity")
    history = load_history(ctx.store)
    ctx.progress(0.06, "reading sessions")
    sessions = load_sessions(ctx.store)

    def step(message: str, done: int, total: int) -> None:
        ctx.progress(0.1 + 0.88 * done / total, message)

    analytics = analyse(history, settings, sessions=sessions, progress=step)
    # Both files name customers by pseudonymous keys only (docs/privacy.md).
    keyed = ctx.store.vault.pseudonymizer().many
    analytics.save(ctx.artifact_dir / ARTIFACT, keyed)
    # A plain table beside the pickle, for people who open the folder.
    table = analytics.scores.copy()
    table.index = pd.Index(keyed([str(c) for c in table.index]), name="customer_key")
    table.to_csv(ctx.artifact_dir / SCORES, float_format="%.6g")
    return JobOutcome(metrics=analytics.metrics())


def load_analytics(ws: Workspace, store: Store | None = None) -> CustomerAnalytics:
    """The analytics of the last successful ``customers`` job (customers named through
    ``store``, default the workspace's)."""
    folder: Path | None = current_artifact(ws, "customers")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no customer analytics yet; run 'shopkeeper train customers' first")
    return CustomerAnalytics.load(folder / ARTIFACT, store or Store.open(ws))


def marketing_consent(store: Store) -> pd.Series:
    """Each customer's marketing consent as the store holds it now (missing: no)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(_CUSTOMERS.c.customer_id, _CUSTOMERS.c.consent_marketing)).all()
    frame = pd.DataFrame(rows, columns=["customer_id", "consent_marketing"])
    consent = frame.set_index("customer_id")["consent_marketing"]
    return consent.astype("boolean").fillna(False)
