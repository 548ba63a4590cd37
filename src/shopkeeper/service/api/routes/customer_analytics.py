"""Customer analytics: segments, lifetime value, propensity, rules, churn risk, audiences.

Every route answers from the analytics in service: the artifact of the latest
successful ``customers`` job (train it with ``shopkeeper train customers`` or
``POST /api/v1/jobs`` with kind ``customers``). Without one the routes answer
409. Reading needs a reader key; exporting an audience as CSV an operator's.

Marketing consent is read from the store at every audience request, never
taken from the scores saved at training: a customer who withdrew consent since
leaves the next audience. Consent shown beside listed customers (churn risk,
top lifetime value, one customer's scores) is the store's current answer too.

The analytics are loaded once per process and kept while the kind's
``current.json`` names them; when a newer job is promoted the next request
loads that one. This router is mounted before the plain customers router, so
``/customers/segments`` is not read as the customer id ``segments``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field, WithJsonSchema
from sqlalchemy import select

from shopkeeper.access import ApiKey
from shopkeeper.errors import ConfigError
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.deps import get_workspace, require, store_of_artifact, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the customers package (scikit-learn, scipy) loads on first use
    from shopkeeper.customers import AudienceResult, Condition, CustomerAnalytics

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/customers", tags=["customer analytics"])

KIND = "customers"
MAX_LIST = 1_000
MAX_PREVIEW = 500
MAX_CONDITIONS = 20
MAX_CONDITION_TEXT = 500
#: The operators of a condition (as in shopkeeper.customers._audience, which
#: loads scikit-learn; the service should not need it just to describe its API).
OPS = ("<=", ">=", "!=", "=", "<", ">", "in", "top", "bottom")
SESSION_EVENTS = ("view", "cart", "search", "purchase")
#: What an exported audience holds: what a campaign tool needs to reach and rank
#: members. Gender, age and age band stay out: they serve the fairness check,
#: not the campaign, and a file that leaves the shop should carry no more.
EXPORT_COLUMNS = (
    "segment",
    "orders",
    "spend",
    "recency_days",
    "clv",
    "expected_orders",
    "expected_revenue",
    "propensity",
    "propensity_decile",
    "p_alive",
    "churn_risk",
    "value_at_risk",
    "at_risk",
    "high_value",
    "consent_marketing",
)
#: Columns of the short customer lists (top lifetime value, churn risk).
LIST_COLUMNS = (
    "segment",
    "orders",
    "spend",
    "recency_days",
    "p_alive",
    "churn_risk",
    "clv",
    "value_at_risk",
    "expected_revenue",
    "propensity",
    "consent_marketing",
)

NO_ANALYTICS = (
    "no customer analytics have been computed yet: run 'shopkeeper train customers' "
    'or POST /api/v1/jobs with {"kind": "customers"}, then try again'
)

CONDITION_KEYS = ("field", "op", "value")

_CUSTOMERS = METADATA.tables["customers"]


def _artifact_name() -> str:
    from shopkeeper.customers._train import ARTIFACT

    return ARTIFACT


# -- plain JSON ---------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: numpy scalars as Python ones, NaN and NA as null."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a scores frame (index customer_id) as JSON-ready dicts, customer_id first."""
    rows = frame.reset_index().to_dict(orient="records")
    return [plain(row) for row in rows]


# -- the analytics in service ----------------------------------------------------------------


@dataclass(frozen=True)
class ServedAnalytics:
    """Loaded customer analytics and the job that computed them."""

    job_id: str
    path: Path
    analytics: CustomerAnalytics

    def facts(self) -> dict[str, Any]:
        """Which run answers: its job, the day it scored at and how many customers."""
        return {
            "job": self.job_id,
            "as_of": str(self.analytics.as_of.date()),
            "customers": len(self.analytics.scores),
        }


def _load_analytics(job_id: str, path: Path) -> ServedAnalytics:
    from shopkeeper.customers import CustomerAnalytics

    try:
        analytics = CustomerAnalytics.load(path, store_of_artifact(path))
    except Exception as exc:
        # An unreadable file or one written by another version: only a new run helps.
        log.error("the customer analytics %s cannot be served: %r", path, exc)
        raise _unusable(job_id) from exc
    log.info("customer analytics %s loaded", job_id)
    return ServedAnalytics(job_id=job_id, path=path, analytics=analytics)


def _unusable(job_id: str) -> ApiError:
    return ApiError(
        503,
        f"the customer analytics of job {job_id} cannot be loaded; "
        "compute them again with 'shopkeeper train customers'",
    )


SERVED: ArtifactCache[ServedAnalytics] = ArtifactCache(KIND, _artifact_name, _load_analytics)


def served_analytics(workspace: Workspace) -> ServedAnalytics | None:
    """The workspace's customer analytics in service (None before the first job)."""
    return SERVED.get(workspace)


def _served(workspace: Workspace) -> ServedAnalytics:
    found = served_analytics(workspace)
    if found is None:
        raise ApiError(409, NO_ANALYTICS)
    return found


# -- consent as the store holds it now ---------------------------------------------------------


def current_consent(store: Store, customer_ids: Sequence[str]) -> pd.DataFrame:
    """Marketing and personalisation consent of a few customers, read from the store now.

    Index customer_id; a customer the store no longer holds, or one with no
    answer, counts as no marketing consent (and, as at training, personalisation
    allowed unless declined).
    """
    ids = [str(c) for c in customer_ids]
    found: dict[str, tuple[bool, bool]] = {}
    if ids:
        query = select(
            _CUSTOMERS.c.customer_id,
            _CUSTOMERS.c.consent_marketing,
            _CUSTOMERS.c.consent_personalization,
        ).where(_CUSTOMERS.c.customer_id.in_(ids))
        with store.engine.connect() as conn:
            for customer_id, marketing, personalization in conn.execute(query):
                found[customer_id] = (marketing is True, personalization is not False)
    return pd.DataFrame(
        {
            "consent_marketing": [found.get(c, (False, True))[0] for c in ids],
            "consent_personalization": [found.get(c, (False, True))[1] for c in ids],
        },
        index=pd.Index(ids, name="customer_id"),
    )


def with_current_consent(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """A few scored customers with the consent columns replaced by the store's answer now."""
    consent = current_consent(store, list(frame.index))
    out = frame.copy()
    for column in consent.columns:
        if column in out.columns:
            out[column] = consent[column].reindex(out.index).to_numpy()
    return out


# -- audiences -----------------------------------------------------------------------------------


def read_conditions(raw: Iterable[Any]) -> list[Condition]:
    """Checked conditions from text or ``{field, op, value}``; 422 naming the bad one."""
    from shopkeeper.customers import make_condition, parse_condition

    out = []
    for i, item in enumerate(raw):
        try:
            if isinstance(item, str):
                if len(item) > MAX_CONDITION_TEXT:
                    raise ConfigError(f"a condition has at most {MAX_CONDITION_TEXT} characters")
                out.append(parse_condition(item))
                continue
            if not isinstance(item, Mapping):
                raise ConfigError(
                    f"a condition is text or {{field, op, value}}, not {type(item).__name__}"
                )
            missing = [k for k in CONDITION_KEYS if k not in item]
            extra = sorted(set(item) - set(CONDITION_KEYS))
            if missing or extra:
                wrong = f"missing {missing}" if missing else f"unknown keys {extra}"
                raise ConfigError(f"a condition is text or {{field, op, value}}: {wrong}")
            if not isinstance(item["field"], str) or not isinstance(item["op"], str):
                raise ConfigError("a condition's field and op must be text")
            out.append(make_condition(item["field"], item["op"].strip().lower(), item["value"]))
        except ConfigError as exc:
            raise _bad_condition(i, item, str(exc)) from None
    return out


def _bad_condition(index: int, item: Any, reason: str) -> ApiError:
    value = plain(dict(item)) if isinstance(item, Mapping) else plain(item)
    return ApiError(
        422,
        f"conditions[{index}]: {reason}",
        details=[{"field": f"conditions[{index}]", "reason": reason, "value": value}],
    )


def audience_now(
    served: ServedAnalytics,
    store: Store,
    conditions: Sequence[Condition],
    raw: Sequence[Any] | None = None,
) -> AudienceResult:
    """The audience of ``conditions`` against marketing consent as the store holds it now.

    Members carry the current consent too, so a condition on consent, the
    preview and the CSV never show the answer saved at training. A condition
    the scores cannot answer (an unknown field, a word where a number is
    needed) is a 422 naming it; ``raw`` is what the caller sent, for the message.
    """
    from shopkeeper.customers._train import marketing_consent

    consent = marketing_consent(store)
    # build_audience replaces the scores' consent column with this answer itself.
    current = served.analytics
    try:
        return current.audience(conditions, consent)
    except ConfigError as exc:
        for i, cond in enumerate(conditions):  # which one: each on its own
            try:
                current.audience([cond], consent)
            except ConfigError as one:
                given = raw[i] if raw is not None and i < len(raw) else str(cond)
                raise _bad_condition(i, given, str(one)) from None
        raise ApiError(422, str(exc)) from None


def audience_answer(
    served: ServedAnalytics, result: AudienceResult, preview: int
) -> dict[str, Any]:
    """The audience's figures and its first ``preview`` members, as JSON."""
    body: dict[str, Any] = plain(result.to_dict())
    body["conditions"] = [c.to_dict() for c in result.conditions]
    body["conditions_text"] = [str(c) for c in result.conditions]
    body["members"] = records(result.members.head(preview)) if preview else []
    body["model_job"] = served.job_id
    body["as_of"] = str(served.analytics.as_of.date())
    return plain(body)


def audience_csv(result: AudienceResult) -> str:
    """The members as CSV text, customer_id first, in the export's columns."""
    return result.to_csv([c for c in EXPORT_COLUMNS if c in result.members.columns])


def csv_response(served: ServedAnalytics, result: AudienceResult) -> Response:
    """The members as a CSV attachment named after the scoring day."""
    name = f"audience-{served.analytics.as_of.date()}-{result.size}.csv"
    return Response(
        audience_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Audience-Size": str(result.size),
            "Cache-Control": "no-store",
        },
    )


# -- views shared with the dashboard -------------------------------------------------------------


def segments_view(served: ServedAnalytics) -> dict[str, Any]:
    """Segment sizes of the buyers and how they moved since the comparison day."""
    scores = served.analytics.scores
    return plain(
        {
            **served.facts(),
            "buyers": int((scores["orders"] > 0).sum()),
            "without_orders": int((scores["orders"] == 0).sum()),
            "segments": served.analytics.segments,
            "movement": served.analytics.movement,
        }
    )


def clv_view(served: ServedAnalytics, store: Store, limit: int) -> dict[str, Any]:
    """The fitted models, the holdout check, totals and the top customers by value."""
    a = served.analytics
    scores = a.scores
    buyers = scores.loc[scores["orders"] > 0, "clv"]
    top = scores.sort_values("clv", ascending=False, kind="stable").head(limit)
    top = with_current_consent(store, top[[c for c in LIST_COLUMNS if c in top.columns]])
    return plain(
        {
            **served.facts(),
            "model": a.settings.model,
            "months": a.settings.months,
            "annual_discount": a.settings.annual_discount,
            "horizon_days": a.settings.horizon_days,
            "repeat_fit": a.repeat_fit.to_dict(),
            "spend_fit": a.spend_fit.to_dict(),
            "holdout": a.holdout,
            "totals": {
                "buyers": len(buyers),
                "clv": float(scores["clv"].sum()),
                "clv_mean_buyer": float(buyers.mean()) if len(buyers) else None,
                "clv_median_buyer": float(buyers.median()) if len(buyers) else None,
                "expected_revenue": float(scores["expected_revenue"].sum()),
                "expected_orders": float(scores["expected_orders"].sum()),
            },
            "top": records(top),
        }
    )


def propensity_view(served: ServedAnalytics) -> dict[str, Any]:
    """The propensity model's kind, out-of-time evaluation per kind, drivers, coefficients."""
    model = served.analytics.propensity
    scores = served.analytics.scores["propensity"]
    return plain(
        {
            **served.facts(),
            **model.summary(),
            "features": model.features,
            "scored": {
                "mean": float(scores.mean()) if len(scores) else None,
                "expected_buyers": float(scores.sum()),
            },
            "sessions": None
            if served.analytics.sessions is None
            else served.analytics.sessions.summary(),
        }
    )


def rules_view(served: ServedAnalytics) -> dict[str, Any]:
    """The high-value rules as text and data, with the tree-vs-boosting check."""
    a = served.analytics
    rules = a.rules
    body: dict[str, Any] = {
        **served.facts(),
        "available": rules is not None,
        "high_value_share": a.settings.high_value_share,
        "notes": list(a.notes),
    }
    if rules is None:
        body.update(text=None, rules=[], cv=None, features=[])
    else:
        body.update(text=rules.text(), **rules.to_dict())
    return plain(body)


def churn_view(served: ServedAnalytics, store: Store, limit: int) -> dict[str, Any]:
    """Valuable customers slipping away, the most value at risk first."""
    a = served.analytics
    at_risk = a.scores[a.scores["at_risk"]]
    listed = a.churn_risk(limit)
    listed = with_current_consent(store, listed[[c for c in LIST_COLUMNS if c in listed]])
    return plain(
        {
            **served.facts(),
            "valuable_share": a.settings.valuable_share,
            "risk_from": a.settings.risk_from,
            "risk_to": a.settings.risk_to,
            "at_risk": len(at_risk),
            "value_at_risk": float(at_risk["value_at_risk"].sum()),
            "customers": records(listed),
        }
    )


def fairness_view(served: ServedAnalytics) -> dict[str, Any]:
    """Score and selection gaps across gender and age band, with the flags raised."""
    return plain({**served.facts(), **served.analytics.fairness})


# -- routes (the fixed paths; /{customer_id}/scores last) ----------------------------------------

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIST, description=f"How many customers, 1 to {MAX_LIST}.")
]


@router.get("/segments", summary="Segment sizes and movement")
def segments(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """RFM segments of the customers who ordered, and how they moved since
    ``movement_days`` earlier (the matrix and per segment: stayed, up, down, new)."""
    return segments_view(_served(workspace))


@router.get("/clv", summary="Lifetime value: the fits, the holdout check, the top customers")
def clv(
    limit: Limit = 20,
    workspace: Workspace = Depends(get_workspace),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The repeat-purchase and spend fits, how the repeat model did on a held-out
    period (totals and by past frequency), totals, and the ``limit`` customers
    with the highest lifetime value."""
    return clv_view(_served(workspace), store, limit)


@router.get("/propensity", summary="Purchase propensity: evaluation, deciles, calibration")
def propensity(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The model kind in use and, per kind, the out-of-time evaluation (ROC AUC,
    PR AUC, Brier, log loss, calibration bins, deciles), the drivers and coefficients."""
    return propensity_view(_served(workspace))


@router.get("/rules", summary="Readable rules of high-value customers")
def rules(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The decision tree's rules as text and data, and its cross-validated accuracy
    against gradient boosting on the same folds. ``available`` is false (with the
    reason in ``notes``) when the shop had too few customers to learn rules."""
    return rules_view(_served(workspace))


@router.get("/churn", summary="Valuable customers at risk of leaving")
def churn(
    limit: Limit = 50,
    workspace: Workspace = Depends(get_workspace),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Customers among the top spenders whose probability of having left is between
    the run's bounds, the most value at risk first."""
    return churn_view(_served(workspace), store, limit)


@router.get("/fairness", summary="Fairness of the propensity scores across groups")
def fairness(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Mean score, selection rate and true-positive rate per gender and age band on
    the propensity test date, the gaps, and flags where a gap passes the threshold."""
    return fairness_view(_served(workspace))


# Items are checked by read_conditions rather than by a union type, so that a bad
# one gets a message about conditions rather than about each member of the union.
_CONDITION_SCHEMA = {
    "type": "array",
    "maxItems": MAX_CONDITIONS,
    "items": {
        "anyOf": [
            {"type": "string", "maxLength": MAX_CONDITION_TEXT},
            {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "op": {"type": "string", "enum": list(OPS)},
                    "value": {},
                },
                "required": list(CONDITION_KEYS),
                "additionalProperties": False,
            },
        ]
    },
}
Conditions = Annotated[list[Any], WithJsonSchema(_CONDITION_SCHEMA)]


class AudienceIn(BaseModel):
    conditions: Conditions = Field(
        default_factory=list,
        max_length=MAX_CONDITIONS,
        description=(
            "All must hold. Text like 'propensity top 20%', 'recency_days >= 30', "
            "'segment in at risk, cannot lose', or {field, op, value}. None: every "
            "customer who consents."
        ),
        examples=[["propensity top 20%", {"field": "recency_days", "op": ">=", "value": 30}]],
    )
    preview: int = Field(
        20, ge=0, le=MAX_PREVIEW, description=f"Members to return, 0 to {MAX_PREVIEW}."
    )


@router.post("/audiences", summary="Build an audience: its size, value and first members")
def audiences(
    body: AudienceIn,
    workspace: Workspace = Depends(get_workspace),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Customers meeting every condition who consent to marketing as the store says
    now: ``size``, ``matched`` (before consent), ``without_consent`` (left out),
    ``expected_value`` (lifetime value), ``expected_buyers``, ``expected_revenue``
    and the first ``preview`` members, highest lifetime value first."""
    served = _served(workspace)
    result = audience_now(served, store, read_conditions(body.conditions), body.conditions)
    return audience_answer(served, result, body.preview)


@router.post(
    "/audiences/export",
    summary="Export an audience as CSV (operator)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The members, one per row."}},
)
def export_audience(
    body: AudienceIn,
    workspace: Workspace = Depends(get_workspace),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> Response:
    """Every member of the audience (same body; ``preview`` is ignored) as a CSV
    attachment, customer_id first; demographic columns are left out."""
    served = _served(workspace)
    result = audience_now(served, store, read_conditions(body.conditions), body.conditions)
    return csv_response(served, result)


@router.get("/{customer_id}/scores", summary="One customer's scores")
def customer_scores(
    customer_id: Annotated[str, PathParam(min_length=1, max_length=200)],
    workspace: Workspace = Depends(get_workspace),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Segment, RFM scores, P(active), expected orders, lifetime value, propensity,
    churn risk and flags of one customer, as of the run; consent as the store says now."""
    served = _served(workspace)
    scores = served.analytics.scores
    if customer_id not in scores.index:
        raise ApiError(
            404,
            f"no scores for customer {customer_id!r}: not a customer when job {served.job_id} ran",
        )
    row = with_current_consent(store, scores.loc[[customer_id]])
    return plain({**served.facts(), "customer_id": customer_id, "scores": records(row)[0]})


class SessionEventIn(BaseModel):
    event: str = Field(description="view, cart, search or purchase.", examples=["view"])
    at: str = Field(description="When it happened (ISO 8601).", examples=["2024-11-10T22:41:07"])
    product_id: str | None = Field(None, max_length=200)
    customer_id: str | None = Field(None, max_length=200)


class SessionIn(BaseModel):
    events: list[SessionEventIn] = Field(min_length=1, max_length=1_000)


@router.post("/sessions/score", summary="P(a browsing session ends in a purchase)")
def score_session(
    body: SessionIn,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Score a live session from its events so far (purchase events are ignored: the
    model sees what the shop sees before a purchase). 409 when the last job learned no
    session model (the store had no sessions)."""
    served = _served(workspace)
    model = served.analytics.sessions
    if model is None:
        raise ApiError(409, "the customers job found no sessions to learn from")
    for i, e in enumerate(body.events):
        try:
            pd.Timestamp(e.at)
        except ValueError:
            raise ApiError(
                422,
                f"events[{i}].at {e.at!r} must be an ISO 8601 date or time",
                details=[{"field": f"events[{i}].at", "reason": "not a time", "value": e.at}],
            ) from None
    unknown = [i for i, e in enumerate(body.events) if e.event not in SESSION_EVENTS]
    if unknown:
        i = unknown[0]
        raise ApiError(
            422,
            f"events[{i}].event {body.events[i].event!r} must be one of "
            f"{', '.join(SESSION_EVENTS)}",
            details=[
                {
                    "field": f"events[{i}].event",
                    "reason": "unknown event",
                    "value": body.events[i].event,
                }
            ],
        )
    try:
        p = model.score_events([e.model_dump() for e in body.events])
    except (ConfigError, ValueError) as exc:
        raise ApiError(422, str(exc)) from None
    return {"propensity": round(p, 6), "model": model.kind, "events": len(body.events)}
