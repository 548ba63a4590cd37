"""The customer value page through the real app, over the analytics computed for the API tests."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.service import create_app
from shopkeeper.service.dashboard.i18n import TEXTS
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth
from tests.service.test_customers_api import CustomerShop, consent_set, customer_shop

HTML = "text/html; charset=utf-8"
PAGE = "/customer-value"
SECTIONS = ("summary", "segments", "clv", "propensity", "rules", "churn", "fairness", "audience")
CHARTS = ("segments", "clv", "deciles", "calibration")
CONDITIONS = "propensity top 20%\n\n# the best ones\nsegment in champions, loyal"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> CustomerShop:
    return customer_shop(tmp_path_factory)


def _login(shop: CustomerShop, role: str) -> Iterator[TestClient]:
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        _, token = create_key(shop.store, f"page {role}", role)
        answer = client.post("/login", data={"api_key": token, "next": PAGE})
        assert answer.status_code == 200 and answer.url.path == PAGE
        yield client


@pytest.fixture(scope="module")
def web(shop: CustomerShop) -> Iterator[TestClient]:
    yield from _login(shop, "reader")


@pytest.fixture(scope="module")
def operator_web(shop: CustomerShop) -> Iterator[TestClient]:
    yield from _login(shop, "operator")


def _page(web: TestClient, path: str = PAGE, status: int = 200) -> str:
    answer = web.get(path)
    return _html(answer, status)


def _html(answer: object, status: int) -> str:
    assert answer.status_code == status, answer.text[:800]  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == HTML  # type: ignore[attr-defined]
    assert "no-store" in answer.headers["cache-control"]  # type: ignore[attr-defined]
    return str(answer.text)  # type: ignore[attr-defined]


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))


def _leaked_key(html: str) -> str | None:
    """A label key shown as text instead of its label, if any."""
    text = _visible(html)
    found = re.search(r"\bcvalue\.[a-z_.]+", text)
    if found:
        return found.group(0)
    return next((k for k in TEXTS if k.startswith("nav.") and k in text), None)


def _rows(html: str, table: str, attribute: str = "customer") -> list[str]:
    found = re.search(rf'data-table="{table}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None, table
    return re.findall(rf'<tr data-{attribute}="([^"]+)"', found.group(1))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _figure(html: str, label: str) -> str:
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd[^>]*>([^<]+)</dd>", html)
    assert found is not None, label
    return found.group(1)


def test_the_page_shows_every_section_in_english(web: TestClient, shop: CustomerShop) -> None:
    text = _page(web)
    assert "<h1>Customer value</h1>" in text and '<html lang="en">' in text
    assert shop.job_id in text and "data-as-of" in text
    for section in SECTIONS:
        assert f'id="{section}"' in text, section
    for chart in CHARTS:
        assert text.count(f'data-figure="figure-{chart}"') == 1, chart
    assert "plotly-" in text
    segments = _rows(text, "segments", "segment")
    assert segments[0] == "champions" and "lost" in segments and "Champions" in text
    assert len(_rows(text, "churn")) == 20
    assert _rows(text, "evaluation", "kind") and _rows(text, "holdout", "frequency")
    assert set(_rows(text, "sessions", "kind")) == {"logistic", "boosting"}
    assert "Browsing sessions" in text
    assert "→ high value" in text and 'data-model="boosting"' in text
    assert _rows(text, "fairness-gender", "group") and "Equal-opportunity gap" in text
    assert 'name="conditions"' in text and "data-audience>" not in text
    assert _leaked_key(text) is None
    # The nav entry, on every page.
    overview = _page(web, "/overview?lang=en")
    assert 'data-nav="customer_value"' in overview and ">Customer value</span>" in overview


def test_the_page_in_chinese(web: TestClient) -> None:
    text = _page(web, f"{PAGE}?lang=zh")
    assert '<html lang="zh-CN">' in text and "<h1>客户价值</h1>" in text
    for label in (
        "客户分群规模",
        "购买客户的终身价值分布",
        "购买倾向十分位",
        "概率校准",
        "高价值客户的可读规则",
        "流失风险",
        "购买倾向评分的公平性",
        "人群圈选",
        "冠军客户",
    ):
        assert label in text, label
    assert text.count("data-figure=") == len(CHARTS)
    assert _leaked_key(text) is None
    assert ">客户价值</span>" in _page(web, "/overview")
    _page(web, f"{PAGE}?lang=en")  # back to English for the other tests


def test_the_audience_form_builds_the_apis_audience(web: TestClient, shop: CustomerShop) -> None:
    html = _page(web)
    answer = web.post(PAGE, data={"conditions": CONDITIONS, "csrf": _csrf(html)})
    text = _html(answer, 200)
    assert "data-audience>" in text and CONDITIONS.split("\n")[0] in text
    _, token = create_key(shop.store, "page api", "reader")
    api = web.post(
        "/api/v1/customers/audiences",
        json={"conditions": ["propensity top 20%", "segment in champions, loyal"], "preview": 20},
        headers=auth(token),
    ).json()
    assert _figure(text, "Audience size") == f"{api['size']:,}"
    assert _figure(text, "Matched the conditions") == f"{api['matched']:,}"
    assert _figure(text, "Left out: no marketing consent") == f"{api['without_consent']:,}"
    assert _rows(text, "audience") == [m["customer_id"] for m in api["members"]]
    # A reader sees no download button, only why.
    assert 'data-form="export"' not in text and 'data-note="export-readers"' in text
    assert _leaked_key(text) is None


def test_the_audience_follows_consent_as_the_store_holds_it_now(
    web: TestClient, shop: CustomerShop
) -> None:
    html = _page(web)
    form = {"conditions": "propensity top 20%", "csrf": _csrf(html)}
    first = _rows(_html(web.post(PAGE, data=form), 200), "audience")
    with consent_set(shop.store, {first[0]: False}):
        now = _rows(_html(web.post(PAGE, data=form), 200), "audience")
        assert first[0] not in now and now[0] == first[1]


def test_the_form_needs_its_token(web: TestClient) -> None:
    for data in ({"conditions": "propensity top 20%", "csrf": "forged"}, {"conditions": "clv > 1"}):
        text = _html(web.post(PAGE, data=data), 403)
        assert 'data-error="audience"' in text and "The form has expired" in text
        assert "data-audience>" not in text
    exported = web.post(f"{PAGE}/export", data={"conditions": "clv > 1", "csrf": "forged"})
    assert "The form has expired" in _html(exported, 403)


def test_a_bad_condition_is_shown_with_its_line(web: TestClient) -> None:
    html = _page(web)
    data = {"conditions": "propensity top 20%\n\nbogus >= 3", "csrf": _csrf(html)}
    text = _html(web.post(PAGE, data=data), 422)
    error = re.search(r'data-error="audience">([^<]+)<', text)
    assert error is not None and error.group(1).startswith("Line 3 (bogus &gt;= 3): ")
    assert "&#39;bogus&#39;" in error.group(1)
    assert "bogus &gt;= 3</textarea>" in text  # the text is kept for fixing
    many = "\n".join(["clv > 1"] * 21)
    assert "At most 20 conditions" in _html(
        web.post(PAGE, data={"conditions": many, "csrf": _csrf(html)}), 422
    )
    zh = _html(web.post(f"{PAGE}?lang=zh", data=data), 422)
    assert "第 3 行" in zh
    _page(web, f"{PAGE}?lang=en")


def test_operators_download_the_audience_as_csv(operator_web: TestClient, web: TestClient) -> None:
    html = _page(operator_web)
    data = {"conditions": CONDITIONS, "csrf": _csrf(html)}
    shown = _html(operator_web.post(PAGE, data=data), 200)
    assert 'data-form="export"' in shown and 'action="/customer-value/export"' in shown
    size = int(_figure(shown, "Audience size").replace(",", ""))
    answer = operator_web.post(f"{PAGE}/export", data=data)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == size and rows[0]["customer_id"] == _rows(shown, "audience")[0]
    refused = web.post(f"{PAGE}/export", data={**data, "csrf": _csrf(_page(web))})
    assert "an operator or admin key can" in _html(refused, 403)


def test_without_analytics_the_page_says_how_to_compute_them(
    shop: CustomerShop, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(PAGE, follow_redirects=False).headers["location"] == (
            "/login?next=%2Fcustomer-value"
        )
        _, token = create_key(shop.store, "untrained page", "operator")
        client.post("/login", data={"api_key": token})
        for lang, phrase in (("en", "No customer analytics"), ("zh", "尚未计算客户分析")):
            text = _page(client, f"{PAGE}?lang={lang}")
            assert phrase in text and "shopkeeper train customers" in text
            assert 'data-state="no-analytics"' in text and "data-figure" not in text
            assert 'id="audience"' not in text and _leaked_key(text) is None
        data = {"conditions": "clv > 1", "csrf": _csrf(_page(client, "/jobs"))}
        text = _html(client.post(f"{PAGE}?lang=en", data=data), 409)
        assert 'data-error="audience"' in text and "No customer analytics" in text
