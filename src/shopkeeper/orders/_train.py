"""Orders and delivery in one pass, and the ``orders`` job that saves it.

:func:`analyse` takes an :class:`~shopkeeper.orders._data.OrderBook` and

1. compares the late-delivery model with the naive carrier rule, a logistic
   regression and a default LightGBM on the last ``holdout`` share of the
   orders whose promise has passed (an out-of-time split);
2. refits the model on all of them and scores every open order: ``risk``
   is the calibrated P(late) from what was known when it was placed, raised
   to 1 for an order already past its promise and to at least the historic
   late share of parcels with an exception scan for one that has had one;
   ``reasons`` say why in words;
3. builds the carrier scorecard and its weekly series;
4. flags the recent orders that need a human.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.jobs import (
    JobContext,
    JobOutcome,
    current_artifact,
    load_artifact,
    register,
    save_artifact,
    settings_from_params,
)
from shopkeeper.orders._anomalies import flag_orders
from shopkeeper.orders._carriers import carrier_scorecard, weekly_on_time
from shopkeeper.orders._data import DAY, OrderBook, load_order_book, require_delivery_facts
from shopkeeper.orders._risk import LateRiskModel, RiskEvaluation, evaluate_risk, order_features
from shopkeeper.privacy import keyed_column
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

FORMAT = 1
KIND = "orders"
ARTIFACT = "orders.pkl"
AT_RISK = "at_risk.csv"
AT_RISK_COLUMNS = [
    "order_id",
    "customer_id",
    "ordered_at",
    "status",
    "carrier",
    "ship_city",
    "deadline",
    "risk",
    "model_risk",
    "overdue",
    "reasons",
]


@dataclass(frozen=True)
class OrderSettings:
    """The knobs of the analysis, with the defaults a shop starts from.

    ``holdout``: the later share of settled orders held out to score the
    models (``evaluate=False`` skips the comparison); ``lost_after_days``:
    days past the promise after which an undelivered order counts as lost;
    ``flag_days``, ``min_history``, ``flag_z``, ``burst_orders``,
    ``burst_hours``: the anomaly flags (``orders/_anomalies.py``);
    ``recent_weeks`` and ``baseline_weeks``: the carriers' trend;
    ``timezone``: the shop's day (empty: the store's setting, else UTC).
    """

    holdout: float = 0.2
    evaluate: bool = True
    lost_after_days: int = 14
    flag_days: int = 14
    min_history: int = 5
    flag_z: float = 3.0
    burst_orders: int = 5
    burst_hours: float = 24.0
    recent_weeks: int = 4
    baseline_weeks: int = 12
    timezone: str = ""
    seed: int = 0
    n_jobs: int = 1

    def __post_init__(self) -> None:
        if not 0.05 <= self.holdout <= 0.5:
            raise ConfigError(f"orders holdout={self.holdout} must be between 0.05 and 0.5")
        for name in ("lost_after_days", "flag_days", "min_history", "burst_orders"):
            if getattr(self, name) < 1:
                raise ConfigError(f"orders {name}={getattr(self, name)} must be at least 1")
        for name in ("recent_weeks", "baseline_weeks", "n_jobs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"orders {name}={getattr(self, name)} must be at least 1")
        if self.flag_z <= 0 or self.burst_hours <= 0:
            raise ConfigError("orders flag_z and burst_hours must be positive")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> OrderSettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, KIND)


@dataclass
class DeliveryAnalysis:
    """Risk per open order, the held-out comparison, carriers and flags (the artifact)."""

    settings: OrderSettings
    as_of: pd.Timestamp
    timezone: str
    period: tuple[str, str]
    evaluation: RiskEvaluation | None
    model: LateRiskModel
    at_risk: pd.DataFrame
    carriers: pd.DataFrame
    weekly: pd.DataFrame
    flags: pd.DataFrame
    importance: pd.DataFrame
    exception_late_rate: float
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)
    format: int = FORMAT
    #: True only in a saved file whose customers are pseudonymous keys (see save).
    pseudonymous: bool = False

    def save(
        self, path: Path, pseudonymize: Callable[[list[str]], list[str]] | None = None
    ) -> None:
        """Write the artifact; with ``pseudonymize`` (the store's keyed hash) the lists of
        orders name customers only by pseudonymous keys (:meth:`load` maps them back)."""
        if pseudonymize is None:
            save_artifact(self, path)
            return
        save_artifact(
            replace(
                self,
                at_risk=keyed_column(self.at_risk, "customer_id", pseudonymize),
                flags=keyed_column(self.flags, "customer_id", pseudonymize),
                pseudonymous=True,
            ),
            path,
        )

    @classmethod
    def load(cls, path: Path, store: Store | None = None) -> DeliveryAnalysis:
        """The artifact at ``path``; a pseudonymous one needs its ``store`` (customers it
        no longer holds show no customer)."""
        found = load_artifact(cls, path, KIND, FORMAT)
        if not getattr(found, "pseudonymous", False):
            return found
        if store is None:
            raise ConfigError(
                f"{path} names customers by pseudonymous keys: load it with its store"
            )
        from shopkeeper.privacy import customer_keys, named_column

        back = customer_keys(store)
        return replace(
            found,
            at_risk=named_column(found.at_risk, "customer_id", back),
            flags=named_column(found.flags, "customer_id", back),
            pseudonymous=False,
        )

    def metrics(self) -> dict[str, Any]:
        """Headline figures for the job row: counts, held-out scores, carriers worsening."""
        out: dict[str, Any] = {
            "as_of": str(self.as_of),
            **self.counts,
            "open_at_risk_50": int((self.at_risk["risk"] >= 0.5).sum()),
            "flags": int(self.flags["order_id"].nunique()) if len(self.flags) else 0,
            "carriers_worsening": [
                str(c) for c in self.carriers.loc[self.carriers["worsening"], "carrier"]
            ]
            if len(self.carriers)
            else [],
        }
        if self.evaluation is not None:
            table = self.evaluation.table.set_index("model")
            for name, row in table.iterrows():
                key = str(name).replace(" ", "_")
                out[f"{key}_roc_auc"] = round(float(row["roc_auc"]), 4)
            out["test_orders"] = self.evaluation.test_orders
        return out


def analyse(book: OrderBook, settings: OrderSettings | None = None) -> DeliveryAnalysis:
    """The whole analysis of ``book`` (see the module doc)."""
    cfg = settings or OrderSettings()
    require_delivery_facts(book)
    features = order_features(book)
    labelled = book.labelled
    X = features.loc[labelled["order_id"]]
    y = labelled["late"].to_numpy().astype(int)
    evaluation = None
    if cfg.evaluate:
        evaluation = evaluate_risk(
            X, y, labelled["ordered_at"], holdout=cfg.holdout, seed=cfg.seed, n_jobs=cfg.n_jobs
        )
    model = LateRiskModel(seed=cfg.seed, n_jobs=cfg.n_jobs).fit(X, y)

    with_scan = labelled["exception_at"].notna()
    exception_rate = float(labelled.loc[with_scan, "late"].mean()) if with_scan.any() else math.nan
    at_risk = score_open(book, features, model, exception_rate)
    flags = flag_orders(
        book,
        days=cfg.flag_days,
        min_history=cfg.min_history,
        z=cfg.flag_z,
        burst_orders=cfg.burst_orders,
        burst_hours=cfg.burst_hours,
    )
    carriers = carrier_scorecard(
        book, recent_weeks=cfg.recent_weeks, baseline_weeks=cfg.baseline_weeks
    )
    counts = {
        outcome: int(n) for outcome, n in book.orders["outcome"].value_counts().sort_index().items()
    }
    counts["labelled"] = len(labelled)
    notes = []
    if counts.get("unknown"):
        notes.append(
            f"{counts['unknown']:,} orders are delivered or completed without delivered_at; "
            "when they arrived is unknown, so they are left out"
        )
    if counts.get("no_promise"):
        notes.append(f"{counts['no_promise']:,} orders have no promised_at and no risk")
    first, last = book.orders["ordered_at"].min(), book.orders["ordered_at"].max()
    return DeliveryAnalysis(
        settings=cfg,
        as_of=book.as_of,
        timezone=book.timezone,
        period=(str(first.date()), str(last.date())),
        evaluation=evaluation,
        model=model,
        at_risk=at_risk,
        carriers=carriers,
        weekly=weekly_on_time(book),
        flags=flags,
        importance=model.importance(),
        exception_late_rate=exception_rate,
        counts=counts,
        notes=notes,
    )


def score_open(
    book: OrderBook, features: pd.DataFrame, model: LateRiskModel, exception_rate: float
) -> pd.DataFrame:
    """Every open order with its risk and reasons, the riskiest first (``AT_RISK_COLUMNS``)."""
    open_orders = book.open
    if open_orders.empty:
        return pd.DataFrame(columns=AT_RISK_COLUMNS)
    X = features.loc[open_orders["order_id"]]
    p = model.predict_proba(X)
    reasons = model.reasons(X)
    risk = p.copy()
    deadline = open_orders["deadline"].to_numpy()
    overdue = deadline < np.datetime64(book.as_of)
    scanned = open_orders["exception_at"].notna().to_numpy()
    for i, row in enumerate(open_orders.itertuples(index=False)):
        if scanned[i] and not math.isnan(exception_rate):
            risk[i] = max(risk[i], exception_rate)
            reasons[i] = [
                f"exception scan on {row.exception_at:%Y-%m-%d}; {exception_rate:.0%} of "
                "parcels with one arrived late",
                *reasons[i],
            ]
        if overdue[i]:
            late = (book.as_of - row.deadline) / DAY
            risk[i] = 1.0
            reasons[i] = [f"already late: its promise passed {late:.1f} days ago", *reasons[i]]
    out = pd.DataFrame(
        {
            "order_id": open_orders["order_id"].to_numpy(),
            "customer_id": open_orders["customer_id"].to_numpy(),
            "ordered_at": open_orders["ordered_at"].to_numpy(),
            "status": open_orders["status"].to_numpy(),
            "carrier": open_orders["carrier"].to_numpy(),
            "ship_city": open_orders["ship_city"].to_numpy(),
            "deadline": open_orders["deadline"].to_numpy(),
            "risk": risk,
            "model_risk": p,
            "overdue": overdue,
            "reasons": reasons,
        }
    )
    out = out.sort_values(["risk", "model_risk", "order_id"], ascending=[False, False, True])
    return out.reset_index(drop=True)


@register(KIND, "Late-delivery risk of open orders, the carrier scorecard and order flags")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read the store's orders, analyse them, save the analysis as the artifact."""
    settings = OrderSettings.from_params(dict(ctx.params))
    ctx.progress(0.05, "reading orders, lines and parcel scans")
    book = load_order_book(
        ctx.store, timezone=settings.timezone or None, lost_after_days=settings.lost_after_days
    )
    ctx.progress(0.3, "fitting and scoring the late-delivery model")
    analysis = analyse(book, settings)
    # Both files name customers by pseudonymous keys only (docs/privacy.md).
    keyed = ctx.store.vault.pseudonymizer().many
    analysis.save(ctx.artifact_dir / ARTIFACT, keyed)
    # A plain table beside the pickle, for people who open the folder.
    at_risk = keyed_column(analysis.at_risk, "customer_id", keyed)
    table = at_risk.assign(reasons=at_risk["reasons"].map("; ".join))
    table.to_csv(ctx.artifact_dir / AT_RISK, index=False, float_format="%.6g")
    return JobOutcome(metrics={**analysis.metrics(), "settings": asdict(settings)})


def load_analysis(ws: Workspace, store: Store | None = None) -> DeliveryAnalysis:
    """The analysis of the last successful ``orders`` job (customers named through
    ``store``, default the workspace's)."""
    folder = current_artifact(ws, KIND)
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no orders analysis yet; run 'shopkeeper train orders' first")
    return DeliveryAnalysis.load(folder / ARTIFACT, store or Store.open(ws))
