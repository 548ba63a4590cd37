"""The recommendations page in a real browser: Debian's Chromium over a live server.

The app runs with uvicorn on a free local port over the small shop with the
recommend model trained for the service tests. The test logs in, opens the
recommendations page, checks both charts (validation, evaluation) were drawn, enters another
customer id and sees that customer's history and recommendations, looks up a
product, switches to Chinese, and saves screenshots under
``test-artifacts/screenshots/``. No console error may show up.

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
from tests.service.test_recommend_api import TrainedShop, trained_shop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running service over the trained shop: its URL, a reader's token and the shop."""
    _require_browser()
    shop: TrainedShop = trained_shop(tmp_path_factory)
    _, token = create_key(shop.store, "browser recommend", "reader")
    with serving(create_app(shop.workspace, store=shop.store), "recommend-server") as url:
        yield {"url": url, "token": token, "shop": shop}


def test_a_customers_recommendations_in_the_browser(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, shop = live["url"], live["shop"]
    # Another customer than the page's sample: one of the shop's with history.
    customer = next(
        c
        for c in (f"C-{i:04d}" for i in range(1, 301))
        if c != shop.sample and c not in shop.declined and _has_history(shop, c)
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{url}/recommendations")
            assert "/login" in page.url and "next=%2Frecommendations" in page.url
            page.fill("#api_key", live["token"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/recommendations")
            assert page.locator("h1").inner_text() == "Recommendations"
            assert page.locator("[data-nav=recommendations]").get_attribute("aria-current")
            assert page.input_value("#customer") == shop.sample
            _check_charts(page, "/recommendations", 2)
            _shot(page, "recommendations-en")

            page.fill("#customer", customer)
            page.click("[data-action=show-customer]")
            page.wait_for_url(f"**/recommendations?customer={customer}")
            assert page.input_value("#customer") == customer
            history = page.locator("[data-table=history] tbody tr")
            listed = page.locator("[data-table=recommendations] tbody tr")
            assert history.count() > 0 and listed.count() == 10
            first = listed.first.get_attribute("data-product")
            assert first in shop.active
            assert page.locator("[data-personal=true]").is_visible()

            page.fill("#product", first or "")
            page.click("[data-action=look-up]")
            page.wait_for_url(f"**/recommendations?customer={customer}&product={first}")
            assert page.locator("[data-table=similar] tbody tr").count() > 0
            _check_charts(page, "/recommendations", 2)
            _shot(page, "recommendations-customer-en")

            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "个性化推荐"
            assert page.locator("[data-nav=recommendations]").inner_text() == "推荐"
            assert page.input_value("#customer") == customer  # the query is kept
            assert page.locator("[data-table=recommendations] tbody tr").count() == 10
            _check_charts(page, "/recommendations", 2)
            _shot(page, "recommendations-zh")
            page.click("[data-lang=en]")
            page.wait_for_load_state("load")
        finally:
            context.close()
            browser.close()
    assert not errors, errors


def _has_history(shop: TrainedShop, customer: str) -> bool:
    from shopkeeper.service.api.routes.recommend import served_model

    model = served_model(shop.workspace)
    return model is not None and model.personal(customer)
