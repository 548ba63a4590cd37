"""The marketing-mix page through the real app, over the analysis computed for the API tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.mmm._analysis import ARTIFACT
from shopkeeper.service import create_app
from shopkeeper.service.dashboard.i18n import TEXTS
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth
from tests.service.pages import html_of, logged_in, visible
from tests.service.test_mmm_api import MixShop, copy_analysis, mmm_shop

PAGE = "/marketing"
SECTIONS = ("summary", "simple", "holdout", "contributions", "roas", "curves", "budget")
CHARTS = ("simple", "holdout", "contributions", "roas", "curves", "budget")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> MixShop:
    return mmm_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def web(shop: MixShop) -> Iterator[TestClient]:
    yield from logged_in(shop.store, shop.workspace, PAGE, "marketing page")


def _page(client: TestClient, path: str = PAGE, status: int = 200) -> str:
    return html_of(client.get(path), status)


def _leaked_key(html: str) -> str | None:
    """A label key shown as text instead of its label, if any."""
    found = re.search(r"\b(?:mmm|nav)\.[a-z_.0-9]+", visible(html))
    return found.group(0) if found else None


def _figure(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', html)
    assert found is not None, name
    figure: dict[str, Any] = json.loads(found.group(1).replace("<\\/", "</"))
    return figure


def _table(html: str, name: str) -> str:
    found = re.search(rf'data-table="{name}".*?</table>', html, re.S)
    assert found is not None, name
    return found.group(0)


def _split(html: str) -> dict[str, float]:
    """The recommended spend per channel the budget table shows."""
    rows = re.findall(r'<tr data-channel="([^"]+)" data-spend="([^"]+)"', _table(html, "budget"))
    return {name: float(spend) for name, spend in rows}


def _api(web: TestClient, shop: MixShop, path: str, body: Any = None) -> dict[str, Any]:
    headers = auth(create_key(shop.store, "page api", "reader")[1])
    if body is None:
        answer = web.get(f"/api/v1/mmm{path}", headers=headers)
    else:
        answer = web.post(f"/api/v1/mmm{path}", headers=headers, json=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


# -- the page ----------------------------------------------------------------------------------


def test_the_page_shows_every_section_in_english(web: TestClient, shop: MixShop) -> None:
    text = _page(web, f"{PAGE}?lang=en")
    assert "<h1>Marketing mix</h1>" in text and '<html lang="en">' in text
    first, last = shop.analysis.period()
    assert shop.job_id in text and first in text and last in text
    for section in SECTIONS:
        assert f'id="{section}"' in text, section
    for chart in CHARTS:
        assert text.count(f'data-figure="figure-{chart}"') == 1, chart
    assert "plotly-" in text
    summary = shop.analysis.model.summary()
    spend = float(summary["spend"].sum())
    card = re.search(r'data-card="spend">.*?card-value">([^<]+)<', text, re.S)
    assert card is not None and card.group(1) == f"{spend:,.0f}"
    holdout = shop.analysis.holdout
    assert holdout is not None
    assert f"data-wape>{holdout['wape'] * 100:.1f}%" in text
    for label in (
        "The simple line",
        "Where sales came from",
        "Return on ad spend per channel",
        "Response curves",
        "Holdout check",
        "Budget optimiser",
        "Marginal ROAS",
    ):
        assert label in text, label
    assert _leaked_key(text) is None
    # The footer names the zone the days were counted in, not UTC.
    assert "days in +08:00; sales exclude" in text and "UTC days" not in text
    # The nav entry, on every page.
    overview = _page(web, "/overview?lang=en")
    assert 'data-nav="marketing"' in overview and ">Marketing mix</span>" in overview


def test_the_channel_table_is_the_apis_summary(web: TestClient, shop: MixShop) -> None:
    table = _table(_page(web), "channels")
    rows = _api(web, shop, "/summary")["channels"]
    assert re.findall(r'<tr data-channel="([^"]+)"', table) == shop.channels
    for row in rows:
        found = re.search(rf'<tr data-channel="{row["channel"]}">.*?</tr>', table, re.S)
        assert found is not None
        for value in (
            f"{row['spend']:,.0f}",
            f"{row['roas']:,.2f}",
            f"{row['roas_low']:,.2f} – {row['roas_high']:,.2f}",
            f"{row['marginal_roas']:,.2f}",
            f"{row['share_of_sales'] * 100:.1f}%",
        ):
            assert value in found.group(0), (row["channel"], value)


def test_the_charts_draw_the_analysis(web: TestClient, shop: MixShop) -> None:
    text = _page(web)
    a = shop.analysis
    periods = len(a.model.dates)
    # (a) a dot per period and the fitted line.
    dots, line = _figure(text, "simple")["data"]
    assert len(dots["x"]) == periods and dots["mode"] == "markers"
    slope = (line["y"][1] - line["y"][0]) / (line["x"][1] - line["x"][0])
    assert slope == pytest.approx(a.simple.slope)
    assert "Total ad spend" in json.dumps(_figure(text, "simple")["layout"])
    # (b) the base and each channel stacked, actual sales as a line on top.
    traces = _figure(text, "contributions")["data"]
    stacked = [t for t in traces if t.get("stackgroup")]
    assert [t["name"] for t in stacked] == ["Organic base", *shop.channels]
    assert all(len(t["x"]) == periods for t in traces)
    assert traces[-1]["name"] == "Actual sales" and "stackgroup" not in traces[-1]
    assert traces[-1]["y"] == pytest.approx(a.model.sales.tolist())
    # (c) ROAS and marginal ROAS with their intervals.
    roas, marginal = _figure(text, "roas")["data"]
    summary = a.model.summary()
    assert roas["x"] == shop.channels and roas["type"] == "bar"
    assert roas["y"] == pytest.approx(summary["roas"].tolist())
    assert marginal["y"] == pytest.approx(summary["marginal_roas"].tolist())
    high = [h - v for h, v in zip(summary["roas_high"], summary["roas"], strict=True)]
    assert roas["error_y"]["array"] == pytest.approx([max(x, 0.0) for x in high])
    # (d) a curve per channel and its current spend marked.
    curves = _figure(text, "curves")["data"]
    assert len(curves) == 2 * len(shop.channels)
    marks = [t for t in curves if t["mode"] == "markers"]
    assert [t["x"][0] for t in marks] == pytest.approx(a.model.current_spend().tolist())
    # (e) the holdout, actual against forecast.
    actual, forecast = _figure(text, "holdout")["data"]
    assert a.holdout is not None
    assert actual["x"] == a.holdout["dates"] and forecast["y"] == pytest.approx(
        a.holdout["forecast"]
    )


def test_the_budget_form_defaults_to_the_current_spend_over_30_days(
    web: TestClient, shop: MixShop
) -> None:
    text = _page(web)
    assert 'data-form="budget"' in text and 'name="total"' in text
    assert 'name="objective"' in text and 'name="margin"' in text
    for name in shop.channels:
        assert f'name="min_{name}"' in text and f'name="max_{name}"' in text
    total = round(shop.current_total() * 30, 2)
    assert f'value="{total:.2f}"' in text
    assert 'data-budget="default"' in text
    split = _split(text)
    assert list(split) == shop.channels
    assert sum(split.values()) == pytest.approx(total, abs=0.05)
    api = _api(web, shop, "/budget", {"total": total})
    assert [round(c["spend"], 2) for c in api["channels"]] == list(split.values())


def test_a_submitted_budget_shows_the_recommended_split(web: TestClient, shop: MixShop) -> None:
    first, second = shop.channels[:2]
    query = {
        "total": "60,000",
        "objective": "sales",
        "margin": "",
        f"min_{first}": "15000",
        f"max_{second}": "800",
    }
    text = _page(web, f"{PAGE}?{urlencode(query)}")
    assert 'data-budget="submitted"' in text and 'data-total="60000.00"' in text
    assert 'value="60,000"' in text and 'value="15000"' in text  # the form keeps the values
    split = _split(text)
    assert sum(split.values()) == pytest.approx(60_000, abs=0.05)
    assert split[first] >= 15_000 - 0.01 and split[second] <= 800 + 0.01
    body = {"total": 60_000, "bounds": {first: {"min": 15_000}, second: {"max": 800}}}
    api = _api(web, shop, "/budget", body)
    assert [round(c["spend"], 2) for c in api["channels"]] == list(split.values())
    gain = re.search(r'data-gain="([^"]+)"', text)
    assert gain is not None and float(gain.group(1)) == pytest.approx(api["gain"], abs=0.01)
    table = _table(text, "budget")
    assert "Recommended" in table and "Current split" in table and "Expected sales" in table
    assert f"{api['expected_sales']:,.0f}" in table
    figure = _figure(text, "budget")
    assert [t["name"] for t in figure["data"]] == ["Current split", "Recommended"]
    # For profit, with a margin: the profit gain too.
    profit = _page(web, f"{PAGE}?total=60000&objective=profit&margin=0.4")
    assert 'data-card="profit-gain"' in profit and 'data-budget="submitted"' in profit
    assert sum(_split(profit).values()) <= 60_000 + 0.05


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ("total=-100", "total must be a positive budget"),
        ("total=lots", "total must be a number, got &#39;lots&#39;"),
        ("total=1000&min_CHANNEL0=5000", "the bounds allow a total between"),
        ("total=1000&objective=profit", "a profit objective needs margin"),
        ("total=1000&objective=clicks", "objective must be sales or profit"),
        ("total=1000&max_CHANNEL0=x", "max_CHANNEL0 must be a number"),
    ],
)
def test_a_bad_budget_is_said_on_the_page(
    web: TestClient, shop: MixShop, query: str, phrase: str
) -> None:
    first = shop.channels[0]
    text = _page(web, f"{PAGE}?{query.replace('CHANNEL0', first)}", status=422)
    found = re.search(r'data-error="budget">(.*?)</p>', text, re.S)
    assert found is not None
    assert phrase.replace("CHANNEL0", first) in found.group(1)
    assert "The budget cannot be split" in found.group(1)
    assert 'data-table="budget"' not in text and 'data-form="budget"' in text
    assert text.count("data-figure=") == len(CHARTS) - 1  # all but the budget's


def test_the_page_in_chinese(web: TestClient) -> None:
    text = _page(web, f"{PAGE}?lang=zh")
    assert '<html lang="zh-CN">' in text and "<h1>营销组合</h1>" in text
    for label in (
        "简单直线模型",
        "销售额来源",
        "各渠道广告支出回报率",
        "边际回报率",
        "响应曲线",
        "留出期检验",
        "预算优化",
        "建议分配",
        "当前分配",
        "30 天总预算",
        "广告带来的销售额",
    ):
        assert label in text, label
    assert text.count("data-figure=") == len(CHARTS)
    # The charts speak the page's language too.
    assert "自然销售（基线）" in json.dumps(_figure(text, "contributions"), ensure_ascii=False)
    assert "每天投放金额" in json.dumps(_figure(text, "curves"), ensure_ascii=False)
    assert "建议分配" in json.dumps(_figure(text, "budget"), ensure_ascii=False)
    assert _leaked_key(text) is None
    assert ">营销组合</span>" in _page(web, "/overview")
    _page(web, f"{PAGE}?lang=en")  # back to English for the other tests


def test_without_an_analysis_the_page_says_how_to_run_one(shop: MixShop, tmp_path: Path) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(PAGE, follow_redirects=False).headers["location"] == (
            "/login?next=%2Fmarketing"
        )
        _, token = create_key(shop.store, "untrained page", "reader")
        client.post("/login", data={"api_key": token})
        for lang, phrase in (("en", "No marketing-mix analysis"), ("zh", "尚未计算营销组合分析")):
            text = _page(client, f"{PAGE}?lang={lang}")
            assert phrase in text and "shopkeeper train mmm" in text
            assert 'data-state="no-analysis"' in text and "data-figure" not in text
            assert "plotly-" not in text and _leaked_key(text) is None


def test_an_unreadable_analysis_is_said_on_the_page(shop: MixShop, tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "broken")
    folder = workspace.models_dir / "mmm" / "20990101-000000-dddddd"
    folder.mkdir(parents=True)
    (folder / ARTIFACT).write_bytes(b"not a pickle")
    (folder.parent / "current.json").write_text(json.dumps({"job_id": folder.name}))
    with TestClient(create_app(workspace, store=shop.store)) as client:
        client.post("/login", data={"api_key": create_key(shop.store, "b", "reader")[1]})
        text = _page(client, f"{PAGE}?lang=en")
        assert 'data-error="analysis"' in text and "shopkeeper train mmm" in text


def test_without_a_holdout_check_the_page_says_so(shop: MixShop, tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "no-holdout")
    note = "no holdout check: a holdout of 56 days leaves too few to fit"
    copy_analysis(shop, workspace, "20990101-000000-ffffff", holdout=None, notes=[note])
    with TestClient(create_app(workspace, store=shop.store)) as client:
        client.post("/login", data={"api_key": create_key(shop.store, "h", "reader")[1]})
        text = _page(client, f"{PAGE}?lang=en")
        assert "data-no-holdout" in text and note in text
        assert 'data-figure="figure-holdout"' not in text
        assert text.count("data-figure=") == len(CHARTS) - 1
        assert re.search(r'data-card="wape">.*?card-value">—<', text, re.S)


def test_every_marketing_label_has_both_languages() -> None:
    keys = [k for k in TEXTS if k.startswith("mmm.")] + ["nav.marketing"]
    assert len(keys) > 60
    for key in keys:
        english, chinese = TEXTS[key]
        assert english.strip() and chinese.strip() and english != chinese, key
        # Placeholders match, so a label formats the same in both languages.
        fields = [sorted(re.findall(r"{(\w+)}", text)) for text in (english, chinese)]
        assert fields[0] == fields[1], key
