"""The dashboard through the real app: login, every page in both languages, the job form.

Also the figures API routes, which the dashboard's pages mirror.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key, revoke_key
from shopkeeper.ingest import load_folder
from shopkeeper.jobs import list_jobs
from shopkeeper.service import create_app
from shopkeeper.service.dashboard import PLOTLY_PATH, STATIC_DIR, TEMPLATE_DIR
from shopkeeper.service.dashboard.i18n import TEXTS
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.ingest.shop_files import write_shop

HTML = "text/html; charset=utf-8"
# page -> labels it must show, in English and in Chinese
PAGES = {
    "/overview": (
        ["Overview", "Revenue", "Average order value", "Conversion", "Repeat-purchase rate"],
        ["经营概览", "销售额", "客单价", "转化率", "复购率", "新客户", "老客户"],
    ),
    "/overview?grain=week": (["Weekly", "New vs returning customers"], ["按周", "新老客户"]),
    "/products": (["Best sellers", "Slow movers", "Days of cover"], ["畅销商品", "滞销商品"]),
    "/customers": (["Retention by acquisition cohort"], ["客户留存", "同期群"]),
    "/data-quality": (["Data quality", "Warnings", "Tables"], ["数据质量", "数据表"]),
    "/jobs": (["Jobs &amp; models", "Recent runs", "figures"], ["任务与模型", "最近运行"]),
}
# A label key that leaked into a page untranslated, such as "metric.revenue".
_RAW_KEY = re.compile(
    r"\b(?:app|nav|lang|role|common|login|overview|metric|chart|products|stock|customers|dq|"
    r"table|jobs)\.[a-z_0-9]+\b"
)


@pytest.fixture
def shop(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    load_folder(write_shop(tmp_path / "files"), store)
    return store


@pytest.fixture
def web(shop: Store, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Workspace.resolve(tmp_path / "ws"), store=shop)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _leaked_key(html: str) -> str | None:
    """A label key shown as text instead of its label, if any (markup and scripts aside)."""
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))
    found = _RAW_KEY.search(visible)
    return None if found is None else found.group(0)


def _login(web: TestClient, store: Store, role: str = "reader") -> str:
    _, token = create_key(store, f"t {role}", role)
    answer = web.post("/login", data={"api_key": token, "next": "/overview"})
    assert answer.status_code == 200 and answer.url.path == "/overview"
    return token


def _page(web: TestClient, path: str, status: int = 200) -> str:
    answer = web.get(path)
    assert answer.status_code == status, (path, answer.text[:500])
    assert answer.headers["content-type"] == HTML
    assert "no-store" in answer.headers["cache-control"]
    return answer.text


def test_logged_out_visitors_go_to_the_login_form(web: TestClient) -> None:
    for path in ("/overview", "/products", "/customers", "/data-quality", "/jobs"):
        answer = web.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
    answer = web.get("/products?lang=zh", follow_redirects=False)
    assert answer.headers["location"] == "/login?next=%2Fproducts%3Flang%3Dzh"
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"
    form = _page(web, "/login?next=/customers")
    assert 'name="api_key"' in form and 'value="/customers"' in form


def test_a_wrong_key_shows_the_form_again_with_401(web: TestClient, shop: Store) -> None:
    for token in ("sk_000000000000_" + "x" * 43, "nonsense", ""):
        answer = web.post("/login", data={"api_key": token})
        assert answer.status_code == 401 and answer.headers["content-type"] == HTML
        assert "not valid or was revoked" in answer.text and 'name="api_key"' in answer.text
    assert web.get("/overview", follow_redirects=False).status_code == 303


def test_login_goes_to_next_but_never_off_site(web: TestClient, shop: Store) -> None:
    _, token = create_key(shop, "t", "reader")
    answer = web.post(
        "/login", data={"api_key": token, "next": "/products"}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/products"
    for bad in ("//evil.example/x", "https://evil.example", "/\\evil.example", "/logout"):
        answer = web.post("/login", data={"api_key": token, "next": bad}, follow_redirects=False)
        assert answer.headers["location"] == "/overview", bad
    # Logged in, the form sends the user on.
    assert web.get("/login", follow_redirects=False).headers["location"] == "/overview"
    assert web.get("/", follow_redirects=False).headers["location"] == "/overview"


def test_every_page_in_english_then_chinese(web: TestClient, shop: Store) -> None:
    _login(web, shop)
    for path, (english, _) in PAGES.items():
        text = _page(web, path)
        assert '<html lang="en">' in text
        for label in english:
            assert label in text, (path, label)
        assert _leaked_key(text) is None, path

    switched = web.get("/overview?lang=zh")
    assert "lang=zh" in switched.headers["set-cookie"]
    for path, (_, chinese) in PAGES.items():
        # No ?lang= any more: the cookie keeps Chinese.
        text = _page(web, path)
        assert '<html lang="zh-CN">' in text
        for label in chinese:
            assert label in text, (path, label)
        assert _leaked_key(text) is None, path
    assert "Overview" in _page(web, "/overview?lang=en")
    assert "Overview" in _page(web, "/products") and "Best sellers" in _page(web, "/products")


def test_pages_show_the_shops_figures_and_charts(web: TestClient, shop: Store) -> None:
    _login(web, shop)
    overview = _page(web, "/overview")
    # The tiny shop: O1 (2 x 39.9 - 8 + 12.5) + O2 (3 x 12.5) + O3 (59) = 180.8.
    card = re.search(r'data-metric="revenue">.*?card-value">\s*(.*?)\s*</p>', overview, re.S)
    assert card is not None and card.group(1) == "181"
    assert PLOTLY_PATH in overview
    assert overview.count('data-figure="figure-') == 4
    products = _page(web, "/products")
    assert "有机燕麦片 Organic oats" in products and "Phone case" in products
    quality = _page(web, "/data-quality")
    assert "guest_orders" in quality and "sqlite://" not in quality  # the store is admin-only
    assert _page(web, "/jobs").count('data-kind="figures"') == 1


def test_a_bad_window_is_explained_on_the_page(web: TestClient, shop: Store) -> None:
    _login(web, shop)
    text = _page(web, "/overview?grain=month", status=422)
    assert "Invalid window" in text and "grain" in text
    text = _page(web, "/overview?start=2024-11-13&end=2024-11-01", status=422)
    assert "must not be before start" in text


def test_the_plotly_script_and_static_files_are_served(web: TestClient) -> None:
    script = web.get(PLOTLY_PATH)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["content-encoding"] == "gzip"
    assert len(script.content) > 1_000_000 and b"plotly" in script.content[:2000].lower()
    assert web.get("/static/dashboard.css").status_code == 200
    assert web.get("/static/dashboard.js").status_code == 200
    assert (STATIC_DIR / "favicon.svg").is_file() and (TEMPLATE_DIR / "base.html").is_file()


def test_readers_may_not_start_jobs(web: TestClient, shop: Store) -> None:
    _login(web, shop, "reader")
    text = _page(web, "/jobs")
    assert "data-run=" not in text and "needs an operator or admin key" in text
    csrf = re.search(r'name="csrf" value="([^"]*)"', text)
    assert csrf is None
    answer = web.post("/jobs/run", data={"kind": "figures", "csrf": "x"})
    assert answer.status_code == 403
    assert list_jobs(shop) == []


def test_operators_start_a_job_from_the_page(web: TestClient, shop: Store) -> None:
    _login(web, shop, "operator")
    text = _page(web, "/jobs")
    csrf = re.search(r'name="csrf" value="([^"]+)"', text)
    assert csrf is not None and 'data-run="figures"' in text

    forged = web.post("/jobs/run", data={"kind": "figures", "csrf": "forged"})
    assert forged.status_code == 403 and "form has expired" in forged.text
    unknown = web.post("/jobs/run", data={"kind": "nope", "csrf": csrf.group(1)})
    assert unknown.status_code == 422
    assert list_jobs(shop) == []

    started = web.post(
        "/jobs/run", data={"kind": "figures", "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs?started=")
    web.app.state.jobs.wait_idle()  # type: ignore[attr-defined]
    (job,) = list_jobs(shop)
    assert job.state == "done", job.error
    text = _page(web, "/jobs")
    assert job.job_id in text and 'data-state="done"' in text and "revenue_change_pct" in text


def test_logout_and_revoked_keys_end_the_session(web: TestClient, shop: Store) -> None:
    _login(web, shop)
    assert web.post("/logout", follow_redirects=False).headers["location"] == "/login?bye=1"
    assert web.get("/overview", follow_redirects=False).status_code == 303
    assert "You are signed out" in _page(web, "/login?bye=1")

    key, token = create_key(shop, "soon revoked", "reader")
    web.post("/login", data={"api_key": token})
    assert web.get("/overview", follow_redirects=False).status_code == 200
    revoke_key(shop, key.key_id)
    assert web.get("/overview", follow_redirects=False).status_code == 303
    web.post("/login", data={"api_key": token})
    assert web.get("/logout", follow_redirects=False).status_code == 303


def test_every_label_has_both_languages() -> None:
    for key, (english, chinese) in TEXTS.items():
        assert (english.strip() and chinese.strip()) or key == "chart.date_ticks", key


# -- the figures API ---------------------------------------------------------------------

FIGURES = (
    "/api/v1/figures/overview",
    "/api/v1/figures/overview?grain=week&start=2024-11-01&end=2024-11-30",
    "/api/v1/figures/products?limit=5",
    "/api/v1/figures/cohorts?months=6",
    "/api/v1/figures/data-quality",
)


def test_figures_routes_need_a_reader_key(web: TestClient, shop: Store) -> None:
    _, token = create_key(shop, "t", "reader")
    for path in FIGURES:
        assert web.get(path).status_code == 401, path
        answer = web.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/json"
    view = web.get(FIGURES[1], headers={"Authorization": f"Bearer {token}"}).json()
    assert view["grain"] == "week" and view["start"] == "2024-11-01"
    assert view["totals"]["orders"] == 3 and view["totals"]["revenue"] == 180.8


def test_figures_routes_refuse_bad_queries_with_422(web: TestClient, shop: Store) -> None:
    _, token = create_key(shop, "t", "reader")
    headers = {"Authorization": f"Bearer {token}"}
    cases = {
        "/api/v1/figures/overview?grain=month": ("grain", "month"),
        "/api/v1/figures/overview?start=yesterday": ("start", "yesterday"),
        "/api/v1/figures/overview?end=2024-13-01": ("end", "2024-13-01"),
        "/api/v1/figures/overview?start=2024-11-05&end=2024-11-01": ("end", "2024-11-01"),
        "/api/v1/figures/overview?start=1990-01-01&end=2024-11-01": ("start", "1990-01-01"),
        "/api/v1/figures/overview?start=2030-01-01": ("start", "2030-01-01"),
        "/api/v1/figures/products?limit=0": ("limit", "0"),
        "/api/v1/figures/products?limit=ten": ("limit", "ten"),
        "/api/v1/figures/cohorts?months=999": ("months", "999"),
    }
    for path, (field, value) in cases.items():
        answer = web.get(path, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_input" and error["message"]
        assert error["details"][0]["field"] == field and error["details"][0]["value"] == value


def test_only_admins_see_where_the_store_is(web: TestClient, shop: Store) -> None:
    tokens = {role: create_key(shop, role, role)[1] for role in ("reader", "admin")}
    path = "/api/v1/figures/data-quality"
    reader = web.get(path, headers={"Authorization": f"Bearer {tokens['reader']}"}).json()
    admin = web.get(path, headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
    assert "database" not in reader and admin["database"]
    assert reader["counts"] == admin["counts"] and reader["counts"]["orders"] == 3
