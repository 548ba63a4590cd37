"""The pricing page in a real browser: Debian's Chromium over a live server.

Over the tiny shop with a price policy and a slot policy that served and
learned, and a pricing analysis of a synthetic panel (planted elasticities
and a store-income effect), a reader logs in, checks that the three charts
were drawn (the policy's actions, elasticity by product, elasticity by
store), opens the price policy from the table, switches to Chinese and saves
screenshots. No console error may show up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopkeeper.access import create_key
from shopkeeper.ingest import load_folder
from shopkeeper.pricing import PricingSettings, analyse
from shopkeeper.service import create_app
from shopkeeper.store import Store
from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _check_charts,
    _require_browser,
    _shot,
    serving,
)
from tests.ingest.shop_files import write_shop
from tests.pricing import synthetic
from tests.service.artifacts import new_workspace
from tests.service.test_pricing_dashboard import _serve

pytestmark = pytest.mark.browser

PAGE = "/pricing"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require_browser()
    root: Path = tmp_path_factory.mktemp("pricing_browser")
    workspace = new_workspace(root / "ws")
    store = Store(workspace.database_url)
    store.create()
    load_folder(write_shop(root / "shop"), store)
    _serve(store)
    analysis = analyse(
        None,  # type: ignore[arg-type]
        PricingSettings(folds=2),
        panel=synthetic.panel(stores=12, weeks=16, slope=0.5),
    )
    folder = workspace.models_dir / "pricing" / "20990101-000000-browse"
    folder.mkdir(parents=True)
    analysis.save(folder / "pricing.pkl")
    (folder.parent / "current.json").write_text(json.dumps({"job_id": folder.name}))
    _, token = create_key(store, "browser pricing", "reader")
    with serving(create_app(workspace, store=store), "pricing-server") as url:
        yield {"url": url, "token": token}
    store.close()


def test_the_pricing_page_draws_its_charts_and_opens_a_policy(live: dict[str, Any]) -> None:
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
            assert page.locator("h1").inner_text() == "Pricing & placement"
            assert page.locator("[data-nav=pricing]").get_attribute("aria-current") == "page"
            _check_charts(page, PAGE, 3)
            assert page.locator("[data-table=recommendations] tbody tr").count() == 3
            _shot(page, "pricing-en")

            page.click("[data-policy='price:P1'] a")
            page.wait_for_url("**policy=price*")
            _check_charts(page, PAGE, 3)
            assert page.locator("[data-table=actions] tbody tr").count() == 5
            assert page.locator("#policy h2").inner_text().startswith("price:P1")

            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "定价与投放"
            _shot(page, "pricing-zh")
            assert errors == []
        finally:
            browser.close()
