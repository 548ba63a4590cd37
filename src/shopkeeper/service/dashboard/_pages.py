"""The dashboard's routes: login, the pages, the job form and the Plotly script.

Pages are rendered on the server with Jinja2 and need a logged-in user: the
login form checks an API key and keeps its key id in the signed session cookie;
``session_key`` re-checks on every page that the key is still active. Forms
that change something (starting a job) carry a per-session token, on top of
the session cookie's ``SameSite=Lax``, so another site cannot submit them.
"""

from __future__ import annotations

import gzip
import hmac
import importlib.resources
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import plotly
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shopkeeper import figures
from shopkeeper.access import ApiKey, authenticate
from shopkeeper.errors import ConfigError
from shopkeeper.jobs import Job, job_kinds, last_runs, list_jobs
from shopkeeper.service.api.routes.figures import check_overview_query
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard.i18n import (
    DEFAULT_LANG,
    HTML_LANG,
    LANGS,
    pick_lang,
    translator,
)
from shopkeeper.service.deps import client_address, get_store, limiter, session_key
from shopkeeper.service.errors import ApiError

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
#: Where the app serves plotly.js; versioned, so browsers may cache it for good.
PLOTLY_PATH = f"/assets/plotly-{plotly.__version__}.min.js"
LANG_COOKIE = "lang"

router = APIRouter(include_in_schema=False)

# (page name, path, label key, SVG path of its icon)
NAV = (
    ("overview", "/overview", "nav.overview", "M3 13h4v8H3zM10 8h4v13h-4zM17 3h4v18h-4z"),
    ("products", "/products", "nav.products", "M4 7l8-4 8 4v10l-8 4-8-4zM4 7l8 4 8-4M12 11v10"),
    (
        "customers",
        "/customers",
        "nav.customers",
        "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21a7 7 0 0 1 14 0"
        "M17 11a3 3 0 1 0 0-6M22 21a6 6 0 0 0-4-5.6",
    ),
    (
        "customer_value",
        "/customer-value",
        "nav.customer_value",
        "M6 3h12l4 6-10 12L2 9zM2 9h20M12 21L8 9l4-6 4 6",
    ),
    (
        "recommendations",
        "/recommendations",
        "nav.recommendations",
        "M12 3l2.6 5.6 6.1.7-4.5 4.2 1.2 6L12 16.6l-5.4 2.9 1.2-6-4.5-4.2 6.1-.7z",
    ),
    ("baskets", "/baskets", "nav.baskets", "M3 9h18l-2 11H5zM8 9l4-6M16 9l-4-6M9 13v4M15 13v4"),
    (
        "images",
        "/images",
        "nav.images",
        "M4 5h16v14H4zM4 16l5-5 4 4 2.5-2.5L20 17M15 9.5h.01",
    ),
    (
        "marketing",
        "/marketing",
        "nav.marketing",
        "M3 10v4h3l6 4V6L6 10zM16 9a3.5 3.5 0 0 1 0 6M19 6a7.5 7.5 0 0 1 0 12",
    ),
    (
        "stock",
        "/stock",
        "nav.stock",
        "M3 7l9-4 9 4v10l-9 4-9-4zM3 7l9 4 9-4M12 11v10",
    ),
    (
        "pricing",
        "/pricing",
        "nav.pricing",
        "M3 12l9-9h9v9l-9 9zM16 8h.01",
    ),
    (
        "data_quality",
        "/data-quality",
        "nav.data_quality",
        "M12 3l8 4v5c0 5-3.5 8-8 9-4.5-1-8-4-8-9V7z",
    ),
    ("jobs", "/jobs", "nav.jobs", "M12 8v4l3 2M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z"),
)

_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Plotly styles its SVG inline, hence 'unsafe-inline' for styles only;
    # no script runs but the page's own files.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}


# -- formatting used by the templates ---------------------------------------------


def _fmt_num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}"


def _fmt_pct(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def _fmt_change(value: Any) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{abs(float(value)):.1f}%"


def _fmt_points(value: Any) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{abs(float(value)):.1f}"


def _fmt_time(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes} min {seconds:02d} s"


def _fmt_metric(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_fmt_num,
        pct=_fmt_pct,
        change=_fmt_change,
        points=_fmt_points,
        time=_fmt_time,
        seconds=_fmt_seconds,
        metric=_fmt_metric,
    )
    return env


_ENV = _environment()


# -- request helpers ----------------------------------------------------------------


def _base(request: Request) -> str:
    """The path prefix the app is served under (empty unless behind a proxy path)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _lang(request: Request) -> tuple[str, bool]:
    """The page language and whether the query asked for it (then it is remembered)."""
    asked = pick_lang(request.query_params.get("lang"))
    if asked is not None:
        return asked, True
    return pick_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG, False


def _safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site) becomes /overview."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/overview"
    if value.split("?", 1)[0] in ("/login", "/logout"):
        return "/overview"
    return value


def _redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(_base(request) + path, status_code=303)


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path[len(_base(request)) :] or "/"
    if request.url.query:
        here += "?" + request.url.query
    return _redirect(request, "/login?" + urlencode({"next": here}))


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def _lang_links(request: Request) -> dict[str, str]:
    return {code: str(request.url.include_query_params(lang=code)) for code in LANGS}


def _render(
    request: Request,
    template: str,
    *,
    key: ApiKey | None,
    page: str,
    title_key: str,
    status: int = 200,
    has_charts: bool = False,
    **context: Any,
) -> HTMLResponse:
    """``template`` with the frame's context; ``has_charts`` loads the Plotly script."""
    lang, asked = _lang(request)
    translate = translator(lang)
    html = _ENV.get_template(template).render(
        request=request,
        _=translate,
        lang=lang,
        html_lang=HTML_LANG[lang],
        lang_links=_lang_links(request),
        base=_base(request),
        key=key,
        page=page,
        title=translate(title_key),
        nav=NAV,
        plotly_js=PLOTLY_PATH,
        csrf=_csrf(request) if key is not None else "",
        has_charts=has_charts,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)
    if asked:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86_400, samesite="lax")
    return response


PageResult = Response


def _page(
    request: Request, build: Callable[[ApiKey, Callable[[str], str]], PageResult]
) -> PageResult:
    """Run ``build`` for the logged-in user, or send a visitor to the login form."""
    key = session_key(request)
    if key is None:
        return _to_login(request)
    return build(key, translator(_lang(request)[0]))


# -- login -----------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> RedirectResponse:
    """The overview when logged in, else the login form."""
    return _redirect(request, "/overview" if session_key(request) else "/login")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> PageResult:
    if session_key(request) is not None:
        return _redirect(request, _safe_next(next))
    return _render(
        request,
        "login.html",
        key=None,
        page="login",
        title_key="login.title",
        next=_safe_next(next),
        error=None,
        notice=request.query_params.get("bye") is not None,
    )


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, api_key: str = Form(""), next: str = Form("")) -> PageResult:
    # The same guard as the API's: an address that keeps sending wrong keys waits a minute.
    limits, client = limiter(request), client_address(request)
    blocked = limits.blocked(client) > 0
    found = None
    if not blocked and api_key.strip():
        found = authenticate(get_store(request), api_key)
    if found is None:
        if not blocked:
            limits.failed(client)
        return _render(
            request,
            "login.html",
            key=None,
            page="login",
            title_key="login.title",
            status=429 if blocked else 401,
            next=_safe_next(next),
            error="login.too_many" if blocked else "login.wrong",
            notice=False,
        )
    request.session.clear()
    request.session["key_id"] = found.key_id
    request.session["csrf"] = secrets.token_urlsafe(24)
    return _redirect(request, _safe_next(next))


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return _redirect(request, "/login?bye=1")


# -- pages -------------------------------------------------------------------------------


def _cards(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The overview's headline cards: value, previous value and change."""
    totals, previous, change = view["totals"], view["previous_totals"], view["change"]
    shapes = {
        "revenue": ("num", 0, None),
        "orders": ("num", 0, None),
        "aov": ("num", 2, "metric.hint.aov"),
        "conversion": ("pct", 1, "metric.hint.conversion"),
        "repeat_rate": ("pct", 1, "metric.hint.repeat_rate"),
        "new_customers": ("num", 0, None),
        "returning_customers": ("num", 0, None),
    }
    return [
        {
            "name": name,
            "label": f"metric.{name}",
            "value": totals[name],
            "previous": previous[name],
            # Shares change in percentage points; a relative change of a share
            # (0.4% to 46% is +11,400%) says little.
            "change": view["change_points"][name] if shape == "pct" else change[name],
            "points": shape == "pct",
            "format": shape,
            "digits": digits,
            "hint": hint,
        }
        for name, (shape, digits, hint) in shapes.items()
    ]


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Callable[[str], str]) -> PageResult:
        grain = request.query_params.get("grain") or "day"
        start = request.query_params.get("start") or None
        end = request.query_params.get("end") or None
        error = None
        try:
            first, last = check_overview_query(grain, start, end)
            view = figures.cached(get_store(request), "overview", grain, first, last)
        except ApiError as exc:
            error = exc.message
        except ConfigError as exc:
            error = str(exc)
        if error is not None:
            grain, start, end = (grain if grain in figures.GRAINS else "day"), None, None
            view = figures.cached(get_store(request), "overview", grain, None, None)
        series = view["series"]
        chart_set = {
            "revenue_orders": charts.revenue_orders(series, grain, t),
            "aov": charts.aov(series, t),
            "rates": charts.rates(series, t),
            "new_returning": charts.new_returning(series, grain, t),
        }
        return _render(
            request,
            "overview.html",
            key=key,
            page="overview",
            title_key="overview.title",
            status=422 if error else 200,
            view=view,
            grain=grain,
            cards=_cards(view),
            charts=chart_set,
            error=error,
            has_charts=any(chart_set.values()),
        )

    return _page(request, build)


@router.get("/products", response_class=HTMLResponse)
def products_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Callable[[str], str]) -> PageResult:
        view = figures.cached(get_store(request), "products", 20)
        chart_set = {
            "best_sellers": charts.best_sellers(view["best_sellers"], t),
            "stock_cover": charts.stock_cover(view["stock"]["items"], t),
        }
        return _render(
            request,
            "products.html",
            key=key,
            page="products",
            title_key="products.title",
            view=view,
            charts=chart_set,
            has_charts=any(chart_set.values()),
        )

    return _page(request, build)


def _average_at(cohorts: list[dict[str, Any]], offset: int) -> float | None:
    values = [c["retention"][offset] for c in cohorts if len(c["retention"]) > offset]
    return round(sum(values) / len(values), 4) if values else None


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Callable[[str], str]) -> PageResult:
        view = figures.cached(get_store(request), "cohorts", 12)
        rows = view["cohorts"]
        chart_set = {
            "heatmap": charts.cohort_heatmap(rows, t),
            "sizes": charts.cohort_sizes(rows, t),
        }
        return _render(
            request,
            "customers.html",
            key=key,
            page="customers",
            title_key="customers.title",
            view=view,
            month1=_average_at(rows, 1),
            month3=_average_at(rows, 3),
            charts=chart_set,
            has_charts=any(chart_set.values()),
        )

    return _page(request, build)


@router.get("/data-quality", response_class=HTMLResponse)
def data_quality_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Callable[[str], str]) -> PageResult:
        view = figures.data_quality(get_store(request))
        return _render(
            request,
            "data_quality.html",
            key=key,
            page="data_quality",
            title_key="dq.title",
            view=view,
            # Where the store lives is shown to admins only, as in the API.
            show_database=key.allows("admin"),
        )

    return _page(request, build)


def _jobs_context(request: Request) -> dict[str, Any]:
    store = get_store(request)
    recent: list[Job] = list_jobs(store, limit=25)
    return {
        "kinds": job_kinds(),
        "last": last_runs(store),
        "recent": recent,
        "active": any(j.state in ("queued", "running") for j in recent),
        "started": request.query_params.get("started"),
    }


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Callable[[str], str]) -> PageResult:
        return _render(
            request,
            "jobs.html",
            key=key,
            page="jobs",
            title_key="jobs.title",
            error=None,
            **_jobs_context(request),
        )

    return _page(request, build)


@router.post("/jobs/run", response_class=HTMLResponse)
def run_job(request: Request, kind: str = Form(""), csrf: str = Form("")) -> PageResult:
    """Start a job of ``kind`` for an operator or admin; back to the jobs page."""

    def build(key: ApiKey, t: Callable[[str], str]) -> PageResult:
        expected = str(request.session.get("csrf") or "")
        error, status = None, 200
        if not expected or not hmac.compare_digest(expected, csrf):
            error, status = "jobs.bad_form", 403
        elif not key.allows("operator"):
            error, status = "jobs.forbidden", 403
        elif kind not in job_kinds():
            error, status = "jobs.bad_form", 422
        if error is None:
            job = request.app.state.jobs.submit(kind)
            return _redirect(request, "/jobs?" + urlencode({"started": job.job_id}))
        return _render(
            request,
            "jobs.html",
            key=key,
            page="jobs",
            title_key="jobs.title",
            status=status,
            error=error,
            **_jobs_context(request),
        )

    return _page(request, build)


# -- the Plotly script ---------------------------------------------------------------------


class _PlotlyScript:
    """plotly.min.js from the installed plotly package, read once, with a gzip copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plain: bytes | None = None
        self._gzip: bytes | None = None

    def _load(self) -> tuple[bytes, bytes]:
        with self._lock:
            if self._plain is None or self._gzip is None:
                source = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
                try:
                    self._plain = source.read_bytes()
                except (FileNotFoundError, OSError):
                    from plotly.offline import get_plotlyjs

                    self._plain = get_plotlyjs().encode("utf-8")
                self._gzip = gzip.compress(self._plain, compresslevel=6, mtime=0)
            return self._plain, self._gzip

    def response(self, request: Request) -> Response:
        plain, packed = self._load()
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        media = "text/javascript; charset=utf-8"
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(packed, media_type=media, headers=headers)
        return Response(plain, media_type=media, headers=headers)


_PLOTLY = _PlotlyScript()


@router.get(PLOTLY_PATH)
def plotly_script(request: Request) -> Response:
    """The Plotly library the charts need, served by the app itself (no CDN)."""
    return _PLOTLY.response(request)
