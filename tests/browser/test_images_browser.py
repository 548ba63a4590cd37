"""The product-images page in a real browser: Debian's Chromium over a live server.

The app runs with uvicorn on a free local port over the photo shop with its
trained image model (``tests/service/images_shop.py``). A reader logs in,
opens the page, checks that every photo on it actually loads (through the
session, no key in the address) and is drawn with square pixels, that the
confusion matrix was drawn, that the mismatch table shows the API's rows,
that following a lookalike opens its own product view, switches to Chinese
and saves screenshots under ``test-artifacts/screenshots/``. No console error
may show up.

Skipped without PyTorch or Fashion-MNIST (the shop needs them), and when
``/usr/bin/chromium`` is missing unless ``SHOPKEEPER_REQUIRE_BROWSER=1``.
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
from tests.service.images_shop import ImagesShop, images_shop, require_vision

pytestmark = pytest.mark.browser

PAGE = "/images"
CHARTS = 1

# Every photo on the page: whether it finished loading with pixels, and how it is drawn.
_PHOTOS = """
() => Array.from(document.querySelectorAll('img.photo')).map((img) => ({
  id: img.dataset.photo, complete: img.complete, natural: img.naturalWidth,
  shown: img.getBoundingClientRect().width, lazy: img.loading,
  rendering: getComputedStyle(img).imageRendering,
}))
"""

# Lazy photos load once near the viewport: bring each one there in turn.
_VISIT_PHOTOS = """
async () => {
  for (const img of document.querySelectorAll('img.photo')) {
    img.scrollIntoView({block: 'center'});
    await new Promise((done) => requestAnimationFrame(() => done()));
  }
  window.scrollTo(0, 0);
}
"""

_ALL_LOADED = """
() => Array.from(document.querySelectorAll('img.photo'))
  .every((img) => img.complete && img.naturalWidth > 0)
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running service over the photo shop: its URL and a reader's token."""
    require_vision()
    _require_browser()
    shop: ImagesShop = images_shop(tmp_path_factory)
    _, token = create_key(shop.store, "browser images", "reader")
    with serving(create_app(shop.workspace, store=shop.store), "images-server") as url:
        yield {"url": url, "token": token}


def _api(url: str, token: str, path: str) -> dict[str, Any]:
    import httpx

    answer = httpx.get(f"{url}/api/v1/images{path}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _check_photos(page: Any) -> list[dict[str, Any]]:
    """Every photo loaded with real pixels; the large one eager, the thumbnails lazy."""
    page.evaluate(_VISIT_PHOTOS)
    page.wait_for_function(_ALL_LOADED, timeout=15_000)
    photos: list[dict[str, Any]] = page.evaluate(_PHOTOS)
    assert len(photos) > 10, photos
    for photo in photos:
        # Fashion-MNIST's photos are 28 x 28, shown larger with square pixels.
        assert photo["natural"] == 28 and photo["shown"] >= 48, photo
        assert photo["rendering"] == "pixelated", photo
    assert photos[0]["lazy"] == "auto" and photos[0]["shown"] == 224
    assert all(p["lazy"] == "lazy" for p in photos[1:])
    return photos


def test_the_images_page_shows_photos_lookalikes_and_the_confusion_matrix(
    live: dict[str, Any],
) -> None:
    from playwright.sync_api import sync_playwright

    url, token = live["url"], live["token"]
    mismatches = _api(url, token, "/mismatches?limit=50")["items"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{url}{PAGE}")
            assert "/login" in page.url and "next=%2Fimages" in page.url
            page.fill("#api_key", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}{PAGE}")
            assert page.locator("h1").inner_text() == "Product images"
            assert page.locator("[data-nav=images]").get_attribute("aria-current") == "page"
            _check_charts(page, PAGE, CHARTS)
            # The default product view is the first mismatch.
            product = page.locator(".image-product")
            assert product.get_attribute("data-product") == mismatches[0]["product_id"]
            rows = page.locator("[data-table=mismatches] tbody tr")
            shown = [rows.nth(i).get_attribute("data-product") for i in range(rows.count())]
            assert shown == [r["product_id"] for r in mismatches]
            _check_photos(page)
            _shot(page, "images-en")

            # A lookalike opens its own product view, with its own lookalikes.
            first = page.locator("[data-list=similar] li").first
            target = first.get_attribute("data-similar")
            assert target
            first.locator("a").click()
            page.wait_for_url(f"**/images?product={target}#product")
            assert page.locator(".image-product").get_attribute("data-product") == target
            similar = _api(url, token, f"/products/{target}?n=10")["items"]
            cards = page.locator("[data-list=similar] li")
            assert [cards.nth(i).get_attribute("data-similar") for i in range(cards.count())] == [
                s["product_id"] for s in similar
            ]
            _check_photos(page)

            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "商品图片"
            assert page.locator("[data-nav=images]").inner_text() == "商品图片"
            assert page.locator(".image-product").get_attribute("data-product") == target
            _check_charts(page, PAGE, CHARTS)
            _check_photos(page)
            _shot(page, "images-zh")
            page.click("[data-lang=en]")
            page.wait_for_load_state("load")
        finally:
            context.close()
            browser.close()
    assert not errors, errors
