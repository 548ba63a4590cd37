"""The stock page in a real browser: Debian's Chromium over a live server.

Over the small demo shop with its forecast, inventory and orders jobs done
(the page tests' shop), a reader logs in, opens the page, checks that the
forecast chart was drawn with its bands, picks another product, sorts the
reorder plan by run-out date by clicking its column, switches to Chinese and
saves screenshots. No console error may show up. Skipped without Chromium
unless ``SHOPKEEPER_REQUIRE_BROWSER=1``, as the other browser tests.
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
from tests.service.test_stock_dashboard import stock_shop

pytestmark = pytest.mark.browser

PAGE = "/stock"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require_browser()
    shop = stock_shop(tmp_path_factory)
    _, token = create_key(shop.store, "browser stock", "reader")
    with serving(create_app(shop.workspace, store=shop.store), "stock-server") as url:
        yield {"url": url, "token": token}


def test_the_stock_page_draws_the_forecast_and_sorts_the_plan(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, token = live["url"], live["token"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{url}{PAGE}")
            page.fill("#api_key", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}{PAGE}")
            assert page.locator("h1").inner_text() == "Stock & delivery"
            assert page.locator("[data-nav=stock]").get_attribute("aria-current") == "page"
            _check_charts(page, PAGE, 1)
            # Units sold, then per location a band and a line for the backtest and the forecast.
            assert page.locator("#chart-forecast .scatterlayer .trace").count() >= 5
            _shot(page, "stock-en")

            second = page.locator("select[name=product] option").nth(1).get_attribute("value")
            page.select_option("select[name=product]", second)
            page.click("[data-form=product] button")
            page.wait_for_url(f"**{PAGE}?product={second}")
            _check_charts(page, PAGE, 1)

            page.click("[data-sort=runout_date]")
            page.wait_for_url("**sort=runout_date*")
            assert page.locator("[data-table=plan]").get_attribute("data-sorted") == "runout_date"
            dates = [
                d
                for d in page.locator("[data-table=plan] [data-runout]").all_inner_texts()
                if d != "–"
            ]
            assert dates == sorted(dates) and dates

            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "库存与配送"
            _shot(page, "stock-zh")
            assert errors == []
        finally:
            browser.close()
