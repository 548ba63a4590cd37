"""The baskets page in a real browser: Debian's Chromium over a live server.

The app runs with uvicorn on a free local port over the small shop with the
basket analysis computed for the service tests. A reader logs in, opens the
page, checks that its two charts (the product network and the rules map)
were drawn with data, that the rules and bundle tables show the API's rows,
that hovering a product on the network names it, switches to Chinese, and
saves screenshots under ``test-artifacts/screenshots/``. No console error
may show up.

Skipped when ``/usr/bin/chromium`` is missing, unless
``SHOPKEEPER_REQUIRE_BROWSER=1`` (then it fails), as the dashboard's browser test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shopkeeper.access import create_key
from shopkeeper.service import create_app
from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _check_charts,
    _require_browser,
    _shot,
    serving,
)
from tests.service.test_basket_api import BasketShop, basket_shop

pytestmark = pytest.mark.browser

PAGE = "/baskets"
CHARTS = 2
ROWS = 20

# Hover the biggest product of the network (its node traces follow the edges' ones).
_HOVER_NODE = """
() => {
  const el = document.getElementById('chart-network');
  const traces = el._fullData;
  let best = null;
  traces.forEach((t, i) => {
    if (t.mode !== 'markers+text') { return; }
    t.marker.size.forEach((s, j) => { if (!best || s > best.s) { best = {i: i, j: j, s: s}; } });
  });
  window.Plotly.Fx.hover(el, [{curveNumber: best.i, pointNumber: best.j}]);
  return traces[best.i].customdata[best.j][0];
}
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running service over the analysed shop: its URL, a reader's token and the shop."""
    _require_browser()
    shop: BasketShop = basket_shop(tmp_path_factory)
    _, token = create_key(shop.store, "browser baskets", "reader")
    with serving(create_app(shop.workspace, store=shop.store), "baskets-server") as url:
        yield {"url": url, "token": token, "shop": shop}


def _api(url: str, token: str, path: str) -> dict[str, Any]:
    import httpx

    answer = httpx.get(f"{url}/api/v1/basket{path}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _row_keys(page: Any, table: str, attribute: str) -> list[str | None]:
    rows = page.locator(f"[data-table={table}] tbody tr")
    return [rows.nth(i).get_attribute(attribute) for i in range(rows.count())]


def test_the_baskets_page_draws_its_charts_and_tables(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, token = live["url"], live["token"]
    rules = _api(url, token, f"/rules?limit={ROWS}")["rules"]
    bundles = _api(url, token, f"/bundles?limit={ROWS}")["bundles"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{url}{PAGE}")
            assert "/login" in page.url and "next=%2Fbaskets" in page.url
            page.fill("#api_key", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}{PAGE}")
            assert page.locator("h1").inner_text() == "Baskets"
            assert page.locator("[data-nav=baskets]").get_attribute("aria-current") == "page"
            _check_charts(page, PAGE, CHARTS)
            # The network: one dot per product of the API's network, lines between them.
            drawn = page.locator("#chart-network .scatterlayer .point").count()
            nodes = len(_api(url, token, "/network")["nodes"])
            assert drawn >= nodes, (drawn, nodes)
            assert page.locator("#chart-network .scatterlayer .js-line").count() >= 1
            shown = _row_keys(page, "rules", "data-rule")
            expected = ["+".join(r["antecedent"]) + "→" + "+".join(r["consequent"]) for r in rules]
            assert shown == expected
            assert _row_keys(page, "bundles", "data-bundle") == [
                "+".join(b["items"]) for b in bundles
            ]
            assert bundles[0]["titles"][0] in page.locator("[data-table=bundles]").inner_text()
            title = page.evaluate(_HOVER_NODE)
            page.wait_for_selector("#chart-network .hoverlayer .hovertext")
            hover = page.locator("#chart-network .hoverlayer").text_content() or ""
            assert title.split(" ")[0] in hover, (title, hover)
            _shot(page, "baskets-en")

            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "购物篮分析"
            assert page.locator("[data-nav=baskets]").inner_text() == "购物篮"
            _check_charts(page, PAGE, CHARTS)
            assert page.locator("[data-table=rules] tbody tr").count() == ROWS
            assert page.locator("[data-table=bundles] tbody tr").count() == ROWS
            _shot(page, "baskets-zh")
            page.click("[data-lang=en]")
            page.wait_for_load_state("load")
        finally:
            context.close()
            browser.close()
    assert not errors, errors
