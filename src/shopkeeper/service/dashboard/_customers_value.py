"""The customer value page: segments, lifetime value, propensity, rules, churn, fairness, audiences.

``/customer-value`` shows the customer analytics in service (the latest
``customers`` job, loaded once per process as for the API): segment sizes and
their movement, the lifetime-value distribution among buyers with the holdout
check, the propensity model's deciles and calibration, the readable
high-value rules with the tree-vs-boosting accuracy, the churn-risk list and
the fairness check. Its audience builder takes one condition per line and is
sent with POST (with the session's form token); the answer shows the size, who
matched, who was left out for want of marketing consent as the store holds it
now, the expected value, buyers and revenue, and the first members.
``/customer-value/export`` sends the same audience as CSV, for operators and
admins only, as the API's export. Before the first ``customers`` job the page
says how to run one.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from shopkeeper.access import ApiKey
from shopkeeper.service.api.routes.customer_analytics import (
    MAX_CONDITIONS,
    ServedAnalytics,
    audience_answer,
    audience_now,
    csv_response,
    read_conditions,
    served_analytics,
    with_current_consent,
)
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.deps import get_store
from shopkeeper.service.errors import ApiError

if TYPE_CHECKING:
    from shopkeeper.customers import AudienceResult

Translate = Callable[[str], str]

PATH = "/customer-value"
CHURN_ROWS = 20
PREVIEW_ROWS = 20
CLV_BINS = 24
MAX_FORM = 10_000
DRIVERS = 8
#: Metrics of the propensity evaluation table, in its column order.
EVALUATION_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
#: Fields the audience builder lists as hints (every column of the scores works).
HINT_FIELDS = (
    "propensity",
    "clv",
    "segment",
    "recency_days",
    "orders",
    "churn_risk",
    "at_risk",
    "high_value",
    "expected_revenue",
)


# -- what the sections show ---------------------------------------------------------------------


def clv_bins(values: Sequence[float] | np.ndarray) -> list[dict[str, Any]]:
    """Equal bands from 0 to the 99th percentile; the last also holds the long tail.

    A handful of very valuable customers would otherwise stretch the axis and
    squeeze everyone else into the first bar.
    """
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if not len(data):
        return []
    top = float(np.quantile(data, 0.99))
    if top <= 0:
        top = float(data.max()) or 1.0
    edges = np.linspace(0.0, top, CLV_BINS + 1)
    counts, _ = np.histogram(np.clip(data, 0.0, top), bins=edges)
    above = int((data > top).sum())
    out = []
    for i, count in enumerate(counts):
        low, high = float(edges[i]), float(edges[i + 1])
        last = i == len(counts) - 1
        label = f"≥ {low:,.0f}" if last and above else f"{low:,.0f} – {high:,.0f}"
        out.append(
            {"low": low, "high": high, "customers": int(count), "label": label, "open": last}
        )
    return out


def _segment_rows(served: ServedAnalytics) -> list[dict[str, Any]]:
    """Each segment's size and value with how it moved (when the movement was computed)."""
    moved = {row["segment"]: row for row in served.analytics.movement.get("summary", []) or []}
    rows = []
    for seg in served.analytics.segments:
        row = dict(seg)
        row["movement"] = moved.get(seg["segment"])
        rows.append(row)
    return rows


def _evaluation_rows(served: ServedAnalytics) -> list[dict[str, Any]]:
    model = served.analytics.propensity
    return [
        {
            "kind": kind,
            "chosen": kind == model.kind,
            "values": [ev.get(m) for m in EVALUATION_METRICS],
        }
        for kind, ev in model.evaluation.items()
    ]


def _session_rows(served: ServedAnalytics) -> list[dict[str, Any]]:
    model = served.analytics.sessions
    if model is None:
        return []
    return [
        {
            "kind": kind,
            "chosen": kind == model.kind,
            "values": [ev.get(m) for m in EVALUATION_METRICS],
        }
        for kind, ev in model.evaluation.items()
    ]


def _rules(served: ServedAnalytics) -> dict[str, Any] | None:
    rules = served.analytics.rules
    if rules is None:
        return None
    cv = rules.cv
    return {
        "rules": [r.to_dict() for r in rules.rules],
        "tree": cv.get("tree", {}),
        "boosting": cv.get("boosting", {}),
        "folds": cv.get("folds"),
        "base_rate": cv.get("base_rate"),
    }


def _fairness(served: ServedAnalytics) -> dict[str, Any]:
    report = served.analytics.fairness
    if "skipped" in report:
        return {"skipped": report["skipped"], "groups": [], "flags": []}
    groups = [{"name": name, **group} for name, group in (report.get("groups") or {}).items()]
    settings = report.get("settings") or {}
    return {
        "skipped": None,
        "groups": groups,
        "flags": list(report.get("flags") or []),
        "date": report.get("date"),
        "threshold": settings.get("gap_threshold"),
        "min_group": settings.get("min_group"),
    }


def _cards(served: ServedAnalytics) -> list[dict[str, Any]]:
    """The headline figures: (name, value, decimals)."""
    a = served.analytics
    scores = a.scores
    at_risk = scores[scores["at_risk"]]
    ev = a.propensity.evaluation.get(a.propensity.kind, {})
    figures = (
        ("customers", len(scores), 0),
        ("buyers", int((scores["orders"] > 0).sum()), 0),
        ("clv_total", float(scores["clv"].sum()), 0),
        ("expected_revenue", float(scores["expected_revenue"].sum()), 0),
        ("at_risk", len(at_risk), 0),
        ("value_at_risk", float(at_risk["value_at_risk"].sum()), 0),
        ("auc", ev.get("roc_auc"), 3),
    )
    return [{"name": n, "value": v, "digits": d} for n, v, d in figures]


def analytics_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows; ``served`` is None before the first customers job."""
    try:
        served = served_analytics(request.app.state.workspace)
    except ApiError as exc:  # analytics that cannot be loaded: say so on the page
        return {"served": None, "error": exc.message}
    if served is None:
        return {"served": None, "error": None}
    a = served.analytics
    scores = a.scores
    ev = a.propensity.evaluation.get(a.propensity.kind, {})
    deciles = list(ev.get("deciles") or [])
    churn = with_current_consent(get_store(request), a.churn_risk(CHURN_ROWS))
    segments = _segment_rows(served)
    chart_set = {
        "segments": charts.segment_sizes(segments, t),
        "clv": charts.clv_histogram(clv_bins(scores.loc[scores["orders"] > 0, "clv"]), t),
        "deciles": charts.propensity_deciles(deciles, t),
        "calibration": charts.calibration(a.propensity.evaluation, a.propensity.kind, t),
    }
    return {
        "served": served,
        "error": None,
        "as_of": str(a.as_of.date()),
        "settings": a.settings,
        "cards": _cards(served),
        "segments": segments,
        "movement": a.movement,
        "holdout": a.holdout,
        "kind": a.propensity.kind,
        "propensity": a.propensity,
        "evaluation": _evaluation_rows(served),
        "evaluation_metrics": EVALUATION_METRICS,
        "sessions": a.sessions,
        "session_rows": _session_rows(served),
        "deciles": deciles,
        "drivers": a.propensity.drivers[:DRIVERS],
        "rules": _rules(served),
        "notes": list(a.notes),
        "churn": churn.reset_index().to_dict(orient="records"),
        "at_risk_total": int(scores["at_risk"].sum()),
        "fairness": _fairness(served),
        "charts": chart_set,
        "hint_fields": HINT_FIELDS,
    }


# -- the audience form ----------------------------------------------------------------------------


def form_lines(text: str) -> list[tuple[int, str]]:
    """The conditions of the form's text: (line number, text), blanks and # notes left out."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            out.append((number, stripped))
    return out


def _form_error(exc: ApiError, lines: Sequence[tuple[int, str]], t: Translate) -> str:
    """The API's error about ``conditions[i]`` told as the form's line number."""
    detail: Mapping[str, Any] = exc.details[0] if exc.details else {}
    field = str(detail.get("field", ""))
    if field.startswith("conditions[") and field.endswith("]"):
        index = int(field[len("conditions[") : -1])
        if 0 <= index < len(lines):
            number, text = lines[index]
            reason = str(detail.get("reason") or exc.message)
            return t("cvalue.line_error").format(n=number, text=text, reason=reason)
    return exc.message


def _checked(
    request: Request, key: ApiKey, csrf: str, conditions: str, t: Translate, *, export: bool
) -> tuple[str | None, int]:
    """The form's error (a label key or a message) and status, or (None, 200)."""
    expected = str(request.session.get("csrf") or "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return "cvalue.bad_form", 403
    if export and not key.allows("operator"):
        return "cvalue.export_forbidden", 403
    if len(conditions) > MAX_FORM:
        return t("cvalue.too_long").format(n=MAX_FORM), 422
    if len(form_lines(conditions)) > MAX_CONDITIONS:
        return t("cvalue.too_many").format(n=MAX_CONDITIONS), 422
    return None, 200


def _form_audience(
    request: Request, key: ApiKey, csrf: str, text: str, t: Translate, *, export: bool
) -> tuple[ServedAnalytics | None, AudienceResult | None, str | None, int]:
    """The analytics and the audience of a submitted form, or the error and its status."""
    error, status = _checked(request, key, csrf, text, t, export=export)
    if error is not None:
        return None, None, error, status
    try:
        served = served_analytics(request.app.state.workspace)
    except ApiError as exc:
        return None, None, exc.message, exc.status
    if served is None:
        return None, None, "cvalue.no_analytics", 409
    lines = form_lines(text)
    raw = [line for _, line in lines]
    try:
        result = audience_now(served, get_store(request), read_conditions(raw), raw)
    except ApiError as exc:
        return served, None, _form_error(exc, lines, t), 422
    return served, result, None, 200


def _show(
    request: Request,
    key: ApiKey,
    t: Translate,
    *,
    status: int = 200,
    conditions: str = "",
    audience: dict[str, Any] | None = None,
    audience_error: str | None = None,
) -> PageResult:
    context = analytics_context(request, t)
    return _render(
        request,
        "customer_value.html",
        key=key,
        page="customer_value",
        title_key="cvalue.title",
        status=status,
        has_charts=any((context.get("charts") or {}).values()),
        conditions=conditions,
        audience=audience,
        audience_error=audience_error,
        can_export=key.allows("operator"),
        **context,
    )


@router.get(PATH, response_class=HTMLResponse)
def customer_value_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        return _show(request, key, t)

    return _page(request, build)


@router.post(PATH, response_class=HTMLResponse)
def customer_value_audience(
    request: Request, conditions: str = Form(""), csrf: str = Form("")
) -> PageResult:
    """Build the audience of the form's conditions and show it under the builder."""

    def build(key: ApiKey, t: Translate) -> PageResult:
        served, result, error, status = _form_audience(
            request, key, csrf, conditions, t, export=False
        )
        if served is None or result is None:
            return _show(
                request, key, t, status=status, conditions=conditions, audience_error=error
            )
        answer = audience_answer(served, result, PREVIEW_ROWS)
        return _show(request, key, t, conditions=conditions, audience=answer)

    return _page(request, build)


@router.post(f"{PATH}/export", response_class=Response)
def customer_value_export(
    request: Request, conditions: str = Form(""), csrf: str = Form("")
) -> PageResult:
    """The form's audience as a CSV attachment (operators and admins); else the page."""

    def build(key: ApiKey, t: Translate) -> PageResult:
        served, result, error, status = _form_audience(
            request, key, csrf, conditions, t, export=True
        )
        if served is None or result is None:
            return _show(
                request, key, t, status=status, conditions=conditions, audience_error=error
            )
        return csv_response(served, result)

    return _page(request, build)
