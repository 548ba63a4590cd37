"""The marketing-mix page in a real browser: Debian's Chromium over a live server.

The app runs with uvicorn on a free local port over the small shop with the
marketing-mix analysis computed for the service tests. A reader logs in, opens
the page, checks that its six charts (the simple line, the holdout, the sales
by source, ROAS, the response curves and the budget split) were drawn with
data, fills in the budget optimiser (a total and a cap on one channel) and
checks the recommended split it shows against the API's, switches to Chinese,
and saves screenshots under ``test-artifacts/screenshots/``. No console error
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
from tests.service.test_mmm_api import MixShop, mmm_shop

pytestmark = pytest.mark.browser

PAGE = "/marketing"
CHARTS = 6
TOTAL = 45_000
CAP = 900


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running service over the analysed shop: its URL, a reader's token and the shop."""
    _require_browser()
    shop: MixShop = mmm_shop(tmp_path_factory)
    _, token = create_key(shop.store, "browser marketing", "reader")
    with serving(create_app(shop.workspace, store=shop.store), "marketing-server") as url:
        yield {"url": url, "token": token, "shop": shop}


def _budget(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    answer = httpx.post(
        f"{url}/api/v1/mmm/budget", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _split(page: Any) -> dict[str, float]:
    rows = page.locator("[data-table=budget] tbody tr")
    return {
        str(rows.nth(i).get_attribute("data-channel")): float(
            rows.nth(i).get_attribute("data-spend") or "nan"
        )
        for i in range(rows.count())
    }


def test_the_marketing_page_draws_its_charts_and_splits_a_budget(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, token, shop = live["url"], live["token"], live["shop"]
    capped = shop.channels[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{url}{PAGE}")
            assert "/login" in page.url and "next=%2Fmarketing" in page.url
            page.fill("#api_key", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}{PAGE}")
            assert page.locator("h1").inner_text() == "Marketing mix"
            assert page.locator("[data-nav=marketing]").get_attribute("aria-current") == "page"
            _check_charts(page, PAGE, CHARTS)
            # The simple line: a dot per period; the curves: a line and a mark per channel.
            periods = len(shop.analysis.model.dates)
            assert page.locator("#chart-simple .scatterlayer .point").count() == periods
            curves = page.locator("#chart-curves .scatterlayer .trace").count()
            assert curves == 2 * len(shop.channels)
            # ROAS bars with their interval whiskers.
            assert page.locator("#chart-roas .barlayer .point").count() >= len(shop.channels)
            assert page.locator("#chart-roas .errorbar").count() >= len(shop.channels)
            assert page.locator("[data-budget=default]").count() == 1
            _shot(page, "marketing-en")

            # The optimiser: a total, a cap on one channel, submit.
            page.fill("#budget-total", str(TOTAL))
            page.fill(f"input[name=max_{capped}]", str(CAP))
            page.select_option("#budget-objective", "sales")
            page.click("[data-action=optimise]")
            page.wait_for_url(f"**{PAGE}?*total={TOTAL}*")
            page.wait_for_selector("[data-budget=submitted]")
            _check_charts(page, PAGE, CHARTS)
            split = _split(page)
            assert list(split) == shop.channels
            assert sum(split.values()) == pytest.approx(TOTAL, abs=0.05)
            assert split[capped] <= CAP + 0.01
            api = _budget(url, token, {"total": TOTAL, "bounds": {capped: {"max": CAP}}})
            assert [round(c["spend"], 2) for c in api["channels"]] == list(split.values())
            assert page.locator("#budget-total").input_value() == str(TOTAL)
            assert page.locator(f"input[name=max_{capped}]").input_value() == str(CAP)
            assert page.locator("[data-card=gain] .card-value").inner_text().startswith("+")
            _shot(page, "marketing-budget-en")

            # A bad total: said beside the form, no split.
            page.fill("#budget-total", "-5")
            page.click("[data-action=optimise]")
            page.wait_for_selector("[data-error=budget]")
            assert (
                "total must be a positive budget"
                in page.locator("[data-error=budget]").inner_text()
            )
            assert page.locator("[data-table=budget]").count() == 0
            errors.clear()  # the browser logs the page's 422, which is the point

            page.goto(f"{url}{PAGE}")
            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "营销组合"
            assert page.locator("[data-nav=marketing]").inner_text() == "营销组合"
            _check_charts(page, PAGE, CHARTS)
            assert page.locator("#budget h2").inner_text().startswith("预算优化")
            assert page.locator("[data-action=optimise]").inner_text() == "计算最优分配"
            assert "建议分配" in page.locator("[data-table=budget] thead").inner_text()
            legend = page.locator("#chart-contributions .legend").text_content() or ""
            assert "自然销售（基线）" in legend
            _shot(page, "marketing-zh")
            page.click("[data-lang=en]")
            page.wait_for_load_state("load")
        finally:
            context.close()
            browser.close()
    assert not errors, errors
