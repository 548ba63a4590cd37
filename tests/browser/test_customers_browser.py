"""The customer value page in a real browser: Debian's Chromium over a live server.

The app runs with uvicorn on a free local port over the small shop with the
customer analytics computed for the service tests. An operator logs in, opens
the page, checks that its four charts (segments, lifetime value, propensity
deciles, calibration) were drawn with data, builds an audience in the form,
sees its figures and preview match the API's, downloads it as CSV, switches to
Chinese, and saves screenshots under ``test-artifacts/screenshots/``. No
console error may show up.

Skipped when ``/usr/bin/chromium`` is missing, unless
``SHOPKEEPER_REQUIRE_BROWSER=1`` (then it fails), as the dashboard's browser test.
"""

from __future__ import annotations

import csv
import io
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
from tests.service.test_customers_api import CustomerShop, customer_shop

pytestmark = pytest.mark.browser

PAGE = "/customer-value"
CHARTS = 4
CONDITIONS = ["propensity top 30%", "segment in champions, loyal, potential loyalist"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running service over the analysed shop: its URL, an operator's token and the shop."""
    _require_browser()
    shop: CustomerShop = customer_shop(tmp_path_factory)
    _, token = create_key(shop.store, "browser customer value", "operator")
    with serving(create_app(shop.workspace, store=shop.store), "customer-value-server") as url:
        yield {"url": url, "token": token, "shop": shop}


def _api_audience(url: str, token: str) -> dict[str, Any]:
    import httpx

    answer = httpx.post(
        f"{url}/api/v1/customers/audiences",
        json={"conditions": CONDITIONS, "preview": 20},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_customer_value_page_and_its_audience_builder(live: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    url, token = live["url"], live["token"]
    expected = _api_audience(url, token)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{url}{PAGE}")
            assert "/login" in page.url and "next=%2Fcustomer-value" in page.url
            page.fill("#api_key", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}{PAGE}")
            assert page.locator("h1").inner_text() == "Customer value"
            assert page.locator("[data-nav=customer_value]").get_attribute("aria-current")
            _check_charts(page, PAGE, CHARTS)
            assert page.locator("[data-table=churn] tbody tr").count() == 20
            assert page.locator("[data-rules] li").count() > 0
            _shot(page, "customer-value-en")

            page.fill("#conditions", "\n".join(CONDITIONS))
            page.click("[data-action=build-audience]")
            page.wait_for_selector("[data-audience]")
            size = page.locator("[data-audience-size]").inner_text()
            assert size == f"{expected['size']:,}"
            without = page.locator("[data-audience-without-consent]").inner_text()
            assert without == f"{expected['without_consent']:,}"
            rows = page.locator("[data-table=audience] tbody tr")
            shown = [rows.nth(i).get_attribute("data-customer") for i in range(rows.count())]
            assert shown == [m["customer_id"] for m in expected["members"]]
            assert page.input_value("#conditions") == "\n".join(CONDITIONS)  # kept
            _check_charts(page, PAGE, CHARTS)  # the page drawn again under the answer
            _shot(page, "customer-value-audience-en")

            with page.expect_download() as info:
                page.click("[data-action=export-audience]")
            download = info.value
            assert download.suggested_filename.startswith("audience-")
            path = download.path()
            assert path is not None
            with open(path, encoding="utf-8") as fh:
                members = list(csv.DictReader(io.StringIO(fh.read())))
            assert len(members) == expected["size"]
            assert [m["customer_id"] for m in members[:20]] == shown

            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "客户价值"
            assert page.locator("[data-nav=customer_value]").inner_text() == "客户价值"
            _check_charts(page, PAGE, CHARTS)
            _shot(page, "customer-value-zh")
            page.click("[data-lang=en]")
            page.wait_for_load_state("load")
        finally:
            context.close()
            browser.close()
    assert not errors, errors
