"""Customer analytics in one pass: segments, lifetime value, propensity, rules, churn, fairness.

:func:`analyse` reads a :class:`CustomerHistory` and returns
:class:`CustomerAnalytics`, the artifact of the ``customers`` job: one row of
scores per customer plus the fitted models and their checks. Audiences are
built from those scores later, against the consent in the store at that
moment (:meth:`CustomerAnalytics.audience`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.customers._audience import AudienceResult, Condition, build_audience
from shopkeeper.customers._clv import (
    FitInfo,
    GammaGamma,
    holdout_check,
    lifetime_value,
    repeat_model,
    rfm_summary,
)
from shopkeeper.customers._fairness import age_band, fairness_report
from shopkeeper.customers._features import DAY, customer_features
from shopkeeper.customers._history import CustomerHistory
from shopkeeper.customers._propensity import CustomerPropensity, train_customer_propensity
from shopkeeper.customers._rfm import movement_summary, rfm_scores, segment_movement, segment_sizes
from shopkeeper.customers._rules import HighValueRules, high_value_rules
from shopkeeper.customers._sessions import SessionPropensity, train_session_propensity
from shopkeeper.errors import ConfigError
from shopkeeper.jobs import load_artifact, save_artifact, settings_from_params
from shopkeeper.store import Store

logger = logging.getLogger(__name__)

FORMAT = 1
Progress = Callable[[str, int, int], None]
# Readable columns for the high-value tree: what a marketer can act on.
RULE_FEATURES = (
    "age",
    "gender",
    "orders",
    "avg_order_value",
    "recency_days",
    "tenure_days",
    "orders_90d",
    "views_30d",
)


@dataclass(frozen=True)
class AnalyticsSettings:
    """The knobs of an analytics run, with the defaults a shop starts from.

    ``horizon_days``: the window of "will buy in the next N days" and of
    expected orders. ``months`` and ``annual_discount``: the lifetime-value
    horizon and its discount rate. ``model``: ``bgnbd`` or ``paretonbd``.
    ``high_value_share``: the top share by lifetime value called high value.
    ``valuable_share`` and ``risk_from``/``risk_to``: churn risk lists the
    customers in the top ``valuable_share`` by past spend whose probability
    of having left is between the two bounds (not yet lost, no longer safe).
    ``movement_days``: segments are compared with this many days earlier.
    """

    horizon_days: int = 30
    months: int = 12
    annual_discount: float = 0.10
    model: str = "bgnbd"
    high_value_share: float = 0.2
    valuable_share: float = 0.3
    risk_from: float = 0.3
    risk_to: float = 0.95
    movement_days: int = 90
    reference_count: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.horizon_days < 1:
            raise ConfigError(f"horizon_days must be at least 1, got {self.horizon_days}")
        for name in ("high_value_share", "valuable_share"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ConfigError(f"{name} must be between 0 and 1, got {value}")
        if not 0 <= self.risk_from < self.risk_to <= 1:
            raise ConfigError("need 0 ≤ risk_from < risk_to ≤ 1")
        if self.model not in ("bgnbd", "paretonbd"):
            raise ConfigError(f"model must be bgnbd or paretonbd, got {self.model!r}")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> AnalyticsSettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, "customers")


@dataclass
class CustomerAnalytics:
    """Scores per customer and the models behind them (the ``customers`` artifact)."""

    settings: AnalyticsSettings
    as_of: pd.Timestamp
    scores: pd.DataFrame  # index customer_id
    repeat_fit: FitInfo
    spend_fit: FitInfo
    holdout: dict[str, Any]
    propensity: CustomerPropensity
    rules: HighValueRules | None
    segments: list[dict[str, Any]]
    movement: dict[str, Any]
    fairness: dict[str, Any]
    sessions: SessionPropensity | None = None
    format: int = FORMAT
    notes: list[str] = field(default_factory=list)
    #: True only in a saved file whose customers are pseudonymous keys (see save).
    pseudonymous: bool = False

    def save(
        self, path: Path, pseudonymize: Callable[[list[str]], list[str]] | None = None
    ) -> None:
        """Write the artifact; with ``pseudonymize`` (the store's keyed hash) the file
        names customers only by pseudonymous keys (:meth:`load` maps them back)."""
        if pseudonymize is None:
            save_artifact(self, path)
            return
        keyed = replace(
            self,
            scores=_rekeyed(self.scores, pseudonymize),
            propensity=replace(
                self.propensity,
                test_predictions=_rekeyed(self.propensity.test_predictions, pseudonymize),
            ),
            pseudonymous=True,
        )
        save_artifact(keyed, path)

    @classmethod
    def load(cls, path: Path, store: Store | None = None) -> CustomerAnalytics:
        """The artifact at ``path``; a pseudonymous one needs its ``store``: customers it
        no longer holds (erased) are left out of the scores."""
        found = load_artifact(cls, path, "customers", FORMAT)
        if not getattr(found, "pseudonymous", False):
            return found
        if store is None:
            raise ConfigError(
                f"{path} names customers by pseudonymous keys: load it with its store"
            )
        from shopkeeper.privacy import customer_keys

        back = customer_keys(store)
        scores = found.scores[found.scores.index.isin(list(back))]
        tests = found.propensity.test_predictions
        tests = tests[tests.index.isin(list(back))]
        return replace(
            found,
            scores=_rekeyed(scores, lambda keys: [back[k] for k in keys]),
            propensity=replace(
                found.propensity, test_predictions=_rekeyed(tests, lambda k: [back[x] for x in k])
            ),
            pseudonymous=False,
        )

    def churn_risk(self, limit: int = 100) -> pd.DataFrame:
        """Valuable customers slipping away, the most value at risk first."""
        at_risk = self.scores[self.scores["at_risk"]]
        return at_risk.sort_values("value_at_risk", ascending=False, kind="stable").head(limit)

    def audience(
        self, conditions: Iterable[Condition | str], consent_marketing: pd.Series
    ) -> AudienceResult:
        """Members meeting ``conditions`` with marketing consent (as the store says now)."""
        return build_audience(self.scores, conditions, consent_marketing, order_by="clv")

    def metrics(self) -> dict[str, Any]:
        """The figures a job records: fits, the holdout check, propensity, rules."""
        ev = self.propensity.evaluation.get(self.propensity.kind, {})
        out: dict[str, Any] = {
            "customers": len(self.scores),
            "as_of": str(self.as_of.date()),
            "repeat_model": self.settings.model,
            **{f"repeat_{k}": round(v, 4) for k, v in self.repeat_fit.params.items()},
            **{f"spend_{k}": round(v, 4) for k, v in self.spend_fit.params.items()},
            "propensity_kind": self.propensity.kind,
            "propensity_auc": round(float(ev.get("roc_auc", float("nan"))), 4),
            "propensity_brier": round(float(ev.get("brier", float("nan"))), 4),
            "at_risk": int(self.scores["at_risk"].sum()),
        }
        totals = self.holdout.get("totals", {})
        if totals:
            out["holdout_relative_error"] = totals.get("relative_error")
            out["holdout_mae"] = totals.get("mae")
        if self.sessions is not None:
            sev = self.sessions.evaluation[self.sessions.kind]
            out["session_auc"] = round(float(sev["roc_auc"]), 4)
            out["session_brier"] = round(float(sev["brier"]), 4)
        if self.rules is not None:
            cv = self.rules.cv
            out["rules_accuracy"] = round(cv["tree"]["accuracy"], 4)
            out["boosting_accuracy"] = round(cv["boosting"]["accuracy"], 4)
        return out


def _holdout(history: CustomerHistory, settings: AnalyticsSettings) -> dict[str, Any]:
    """Calibration/holdout check on the last quarter of the span (at least 30 days)."""
    span = (history.end - history.start).days
    hold = max(30, span // 4)
    if span - hold < 60:
        return {"skipped": f"the orders span {span} days; a holdout check needs 90"}
    try:
        check = holdout_check(
            history.orders, history.end - hold * DAY, history.end, model=settings.model
        )
    except ConfigError as exc:
        return {"skipped": str(exc)}
    return check.to_dict()


def analyse(
    history: CustomerHistory,
    settings: AnalyticsSettings | None = None,
    *,
    sessions: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> CustomerAnalytics:
    """Every score and check for the customers in ``history`` at its last day.

    ``sessions`` (from :func:`~shopkeeper.customers._sessions.load_sessions`)
    adds the session purchase model; without it, or with too few sessions,
    there is none.
    """
    cfg = settings or AnalyticsSettings()
    say = progress or (lambda _m, _i, _n: None)
    steps = 8
    as_of = history.end
    say("lifetime value", 0, steps)
    summary = rfm_summary(history.orders, as_of, period_days=1.0)
    repeat = repeat_model(cfg.model).fit_summary(summary)
    spend = GammaGamma().fit_summary(summary)
    assert repeat.info is not None and spend.info is not None
    x, tx, big_t = summary["frequency"], summary["recency"], summary["T"]
    clv = lifetime_value(
        repeat,
        spend,
        summary,
        months=cfg.months,
        annual_discount=cfg.annual_discount,
        period_days=1.0,
    )
    say("holdout check", 1, steps)
    holdout = _holdout(history, cfg)
    say("propensity", 2, steps)
    propensity = train_customer_propensity(
        history,
        horizon_days=cfg.horizon_days,
        reference_count=cfg.reference_count,
        seed=cfg.seed,
    )
    say("scores", 3, steps)
    features = customer_features(
        history, as_of, horizon_days=cfg.horizon_days, categories=propensity.categories
    )
    scores = _scores(history, cfg, summary, features, propensity, as_of)
    scores.loc[summary.index, "p_alive"] = repeat.p_alive(x, tx, big_t)
    scores.loc[summary.index, "expected_orders"] = repeat.expected_purchases(
        cfg.horizon_days, x, tx, big_t
    )
    scores.loc[summary.index, "clv"] = clv
    scores.loc[summary.index, "expected_spend"] = spend.expected_spend(x, summary["monetary"])
    scores["expected_revenue"] = (scores["expected_orders"] * scores["expected_spend"]).round(2)
    _churn(scores, cfg)
    say("segments", 4, steps)
    segments, movement = _segments(history, as_of, cfg, scores)
    say("rules", 5, steps)
    rules, notes = _rules(scores, features, cfg)
    say("fairness", 6, steps)
    fairness = _fairness(history, propensity, scores)
    say("sessions", 7, steps)
    notes_s, session_model = [], None
    if sessions is not None:
        try:
            session_model = train_session_propensity(sessions, seed=cfg.seed)
        except ConfigError as exc:
            notes_s.append(f"no session model: {exc}")
    say("done", steps, steps)
    return CustomerAnalytics(
        cfg,
        as_of,
        scores,
        repeat.info,
        spend.info,
        holdout,
        propensity,
        rules,
        segments,
        movement,
        fairness,
        sessions=session_model,
        notes=notes + notes_s,
    )


def _scores(
    history: CustomerHistory,
    cfg: AnalyticsSettings,
    summary: pd.DataFrame,
    features: pd.DataFrame,
    propensity: CustomerPropensity,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    who = features.index
    people = history.customers.set_index("customer_id").reindex(who)
    out = pd.DataFrame(index=who)
    ordered = features["orders"] > 0
    out["orders"] = features["orders"].astype("int64")
    out["spend"] = features["spend"].round(2)
    out["recency_days"] = features["recency_days"].where(ordered)
    out["orders_90d"] = features["orders_90d"].astype("int64")
    out["views_30d"] = features["views_30d"].astype("int64")
    rfm = rfm_scores(
        pd.DataFrame(
            {
                "customer_id": who[ordered.to_numpy()],
                "recency_days": features.loc[ordered, "recency_days"].to_numpy(),
                "frequency": features.loc[ordered, "orders"].to_numpy(),
                "monetary": features.loc[ordered, "spend"].to_numpy(),
            }
        )
    ).set_index("customer_id")
    segment = rfm["segment"].astype("str").reindex(who)
    out["segment"] = segment.where(segment.notna(), "no orders")
    for col in ("r_score", "f_score", "m_score"):
        out[col] = rfm[col].reindex(who).astype("Int64")
    out["p_alive"] = 0.0
    out["expected_orders"] = 0.0
    out["clv"] = 0.0
    out["expected_spend"] = 0.0
    scored = propensity.model.predict_proba(features[propensity.features])
    out["propensity"] = scored
    # Decile 1 holds the tenth with the highest propensity.
    rank = out["propensity"].rank(method="first", ascending=False)
    out["propensity_decile"] = np.ceil(rank / len(out) * 10).astype("int64").clip(1, 10)
    out["gender"] = features["gender"].astype("str")
    out["age"] = features["age"]
    out["age_band"] = age_band(people["birth_year"], as_of.year).to_numpy()
    out["consent_marketing"] = people["consent_marketing"].astype("boolean").fillna(False)
    out["consent_personalization"] = (
        people["consent_personalization"].astype("boolean").fillna(True)
    )
    return out


def _churn(scores: pd.DataFrame, cfg: AnalyticsSettings) -> None:
    """Churn risk = 1 - P(active); value at risk = risk × the value if still active."""
    alive = scores["p_alive"].clip(lower=1e-9)
    scores["churn_risk"] = (1.0 - scores["p_alive"]).where(scores["orders"] > 0, np.nan)
    value_if_active = scores["clv"] / alive
    scores["value_at_risk"] = (scores["churn_risk"].fillna(0.0) * value_if_active).round(2)
    buyers = scores["orders"] > 0
    cut = scores.loc[buyers, "spend"].quantile(1.0 - cfg.valuable_share)
    valuable = buyers & (scores["spend"] >= cut)
    risk = scores["churn_risk"]
    scores["at_risk"] = (valuable & (risk >= cfg.risk_from) & (risk < cfg.risk_to)).astype(bool)
    threshold = scores.loc[buyers, "clv"].quantile(1.0 - cfg.high_value_share)
    scores["high_value"] = (buyers & (scores["clv"] >= threshold)).astype(bool)


def _segments(
    history: CustomerHistory, as_of: pd.Timestamp, cfg: AnalyticsSettings, scores: pd.DataFrame
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    ordered = scores[scores["orders"] > 0]
    now = pd.DataFrame(
        {
            "customer_id": ordered.index,
            "recency_days": ordered["recency_days"].to_numpy(),
            "frequency": ordered["orders"].to_numpy(),
            "monetary": ordered["spend"].to_numpy(),
            "segment": ordered["segment"].to_numpy(),
        }
    )
    sizes = segment_sizes(now).round(4).to_dict(orient="records")
    earlier = as_of - cfg.movement_days * DAY
    try:
        return sizes, _movement(_rfm_at(history, earlier), now, earlier, as_of)
    except ConfigError as exc:
        return sizes, {"skipped": str(exc)}


def _rfm_at(history: CustomerHistory, day: pd.Timestamp) -> pd.DataFrame:
    """RFM scores of the customers who had ordered by the end of ``day``."""
    limit = day.normalize() + DAY
    orders = history.orders[history.orders["at"] < limit]
    if orders.empty:
        raise ConfigError(f"no orders by {day.date()}")
    by = orders.groupby("customer_id")
    summary = pd.DataFrame(
        {
            "recency_days": ((limit - by["at"].max()) / DAY).to_numpy(),
            "frequency": by.size().to_numpy(),
            "monetary": by["value"].sum().to_numpy(),
        },
        index=by.size().index,
    )
    return rfm_scores(summary.rename_axis("customer_id").reset_index())


def _movement(
    before: pd.DataFrame, after: pd.DataFrame, first: pd.Timestamp, second: pd.Timestamp
) -> dict[str, Any]:
    matrix = segment_movement(before, after)
    return {
        "from": str(first.date()),
        "to": str(second.date()),
        "matrix": {
            str(r): {str(c): int(v) for c, v in row.items()} for r, row in matrix.iterrows()
        },
        "summary": movement_summary(matrix).to_dict(orient="records"),
    }


def segments_between(
    history: CustomerHistory, first: pd.Timestamp | str, second: pd.Timestamp | str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Segment sizes at ``second`` and how customers moved since ``first`` (both dates)."""
    start, end = pd.Timestamp(first).normalize(), pd.Timestamp(second).normalize()
    if start >= end:
        raise ConfigError(f"the first date {start.date()} must come before the second {end.date()}")
    after = _rfm_at(history, end)
    sizes = segment_sizes(after).round(4).to_dict(orient="records")
    return sizes, _movement(_rfm_at(history, start), after, start, end)


def _rules(
    scores: pd.DataFrame, features: pd.DataFrame, cfg: AnalyticsSettings
) -> tuple[HighValueRules | None, list[str]]:
    buyers = scores["orders"] > 0
    X = features.loc[buyers, [c for c in RULE_FEATURES if c in features]].copy()
    notes = []
    if "age" in X and X["age"].isna().any():
        missing = float(X["age"].isna().mean())
        # The tree needs a value; the median keeps unknown ages out of the extremes.
        X["age"] = X["age"].fillna(X["age"].median() if X["age"].notna().any() else 0.0)
        notes.append(f"age unknown for {missing:.0%} of buyers; the rules use the median there")
    y = scores.loc[buyers, "high_value"].to_numpy(dtype=bool)
    try:
        return high_value_rules(X, y, seed=cfg.seed), notes
    except ConfigError as exc:
        return None, [*notes, f"no high-value rules: {exc}"]


def _fairness(
    history: CustomerHistory, propensity: CustomerPropensity, scores: pd.DataFrame
) -> dict[str, Any]:
    """Gaps across gender and age band, on the test date of the propensity check.

    There the truth (who did buy) is known, so the equal-opportunity gap can be
    measured; "selected" is the top fifth by propensity, a typical audience.
    """
    test_day = pd.Timestamp(propensity.test_date)
    groups = [g for g in ("gender", "age_band") if scores[g].nunique() > 1]
    if not groups:
        return {"skipped": "the store records neither gender nor age"}
    frame = propensity.features_at(history, test_day)
    score = propensity.model.predict_proba(frame)
    start = test_day + DAY
    stop = start + propensity.horizon_days * DAY
    window = history.orders[(history.orders["at"] >= start) & (history.orders["at"] < stop)]
    test = pd.DataFrame(index=frame.index)
    test["score"] = score
    test["selected"] = test["score"].rank(ascending=False, method="first") <= np.ceil(
        0.2 * len(test)
    )
    test["truth"] = test.index.isin(window["customer_id"])
    people = history.customers.set_index("customer_id").reindex(test.index)
    test["gender"] = people["gender"].astype("object").where(people["gender"].notna(), "unknown")
    test["age_band"] = age_band(people["birth_year"], test_day.year).to_numpy()
    report = fairness_report(test, groups=groups, score="score", selected="selected", truth="truth")
    report["date"] = str(test_day.date())
    return report


def _rekeyed(frame: pd.DataFrame, rename: Callable[[list[str]], list[str]]) -> pd.DataFrame:
    """``frame`` (index customer id or key) with its index renamed by ``rename``."""
    if frame.empty:
        return frame
    out = frame.copy()
    out.index = pd.Index(rename([str(k) for k in frame.index]), name=frame.index.name)
    return out
