"""The dashboard in a real browser: Debian's Chromium driven by Playwright over a live server.

The app runs with uvicorn on a free local port over the small demo shop. The
test logs in, opens every page in English and Chinese, checks that every chart
was drawn with data (traces with points, and SVG or image marks in the plot),
that no script error or blocked resource shows up in the console, runs a job
from the jobs page, and saves a full-page screenshot of each page under
``test-artifacts/screenshots/``.

Skipped when ``/usr/bin/chromium`` is missing, unless
``SHOPKEEPER_REQUIRE_BROWSER=1`` (then it fails). CI installs Chromium and the
CJK fonts from Debian's packages; Playwright's own browser download is never used.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopkeeper.access import create_key
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# page path -> (English heading, Chinese heading, number of charts it draws)
PAGES = {
    "/overview": ("Overview", "经营概览", 4),
    "/overview?grain=week": ("Overview", "经营概览", 4),
    "/products": ("Products", "商品表现", 2),
    "/customers": ("Customers", "客户留存", 2),
    "/data-quality": ("Data quality", "数据质量", 0),
    "/jobs": ("Jobs & models", "任务与模型", 0),
}

# Every drawn chart: how many traces, how many carry points, and how many marks
# (paths for lines and bars, images for heatmaps) the plot area holds.
_CHART_STATE = """
() => Array.from(document.querySelectorAll('[data-figure]')).map((el) => {
  const traces = el._fullData || [];
  const withPoints = traces.filter((t) => {
    const values = (t.type === 'heatmap' ? (t.z || []).flat() : (t.x || []))
      .filter((v) => v !== null && v !== undefined);
    return values.length > 0;
  }).length;
  const marks = el.querySelectorAll(
    '.cartesianlayer g.trace path, .cartesianlayer g.trace image, .cartesianlayer image'
  ).length;
  return {id: el.id, drawn: el.dataset.drawn === 'true', traces: traces.length,
          withPoints: withPoints, marks: marks,
          hasSvg: !!el.querySelector('svg.main-svg')};
})
"""


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"
    if os.environ.get("SHOPKEEPER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SHOPKEEPER_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(app: Any, name: str) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free local port in a thread; yield its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def live_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running service over the small demo shop: its URL and an operator's token."""
    _require_browser()
    root = tmp_path_factory.mktemp("browser")
    workspace = Workspace(root=root, database_url=f"sqlite:///{root / 'shop.db'}")
    for folder in (workspace.models_dir, workspace.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    store = Store(workspace.database_url)
    store.create()
    build_demo(store, root / "demo-shop", DemoConfig.preset("small"))
    _, token = create_key(store, "browser test", "operator")
    with serving(create_app(workspace, store=store), "dashboard-server") as url:
        yield {"url": url, "token": token}
    store.close()


@pytest.fixture
def browser_page(live_dashboard: dict[str, str]) -> Iterator[tuple[Any, list[str]]]:
    """A fresh Chromium page and the list its console errors are collected into."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, errors
        context.close()
        browser.close()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _check_charts(page: Any, path: str, expected: int) -> None:
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('[data-drawn=\"true\"]').length >= n",
            arg=expected,
            timeout=20_000,
        )
    state = page.evaluate(_CHART_STATE)
    assert len(state) == expected, (path, state)
    for chart in state:
        assert chart["drawn"] and chart["hasSvg"], (path, chart)
        assert chart["traces"] >= 1 and chart["withPoints"] == chart["traces"], (path, chart)
        assert chart["marks"] > 0, (path, chart)


def _slug(path: str) -> str:
    return path.strip("/").replace("?", "-").replace("=", "-").replace("&", "-") or "home"


def test_every_page_in_both_languages(browser_page: tuple[Any, list[str]], live_dashboard):
    page, errors = browser_page
    url = live_dashboard["url"]

    page.goto(f"{url}/products")
    assert "/login" in page.url and "next=%2Fproducts" in page.url
    _shot(page, "login-en")
    page.fill("#api_key", "sk_000000000000_not-a-real-key-at-all")
    page.click("button[type=submit]")
    assert page.locator("[data-error=login]").is_visible()
    errors.clear()  # the browser logs the wrong key's 401, which is the point

    page.fill("#api_key", live_dashboard["token"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/products")

    for lang, column in (("en", 0), ("zh", 1)):
        if lang == "zh":
            page.click("[data-lang=zh]")
            page.wait_for_load_state("load")
            assert page.locator("html").get_attribute("lang") == "zh-CN"
        for path, headings in PAGES.items():
            page.goto(url + path)
            assert page.locator("h1").inner_text() == headings[column], path
            _check_charts(page, path, headings[2])
            _shot(page, f"{_slug(path)}-{lang}")
        assert page.locator("[data-nav=products]").inner_text() == ("Products", "商品")[column]

    # The language stays chosen (cookie) until switched back.
    page.goto(f"{url}/overview")
    assert page.locator("[data-metric=revenue] .card-label").inner_text() == "销售额"
    page.click("[data-lang=en]")
    page.wait_for_load_state("load")
    assert page.locator("[data-metric=revenue] .card-label").inner_text() == "Revenue"
    assert not errors, errors


def test_operator_runs_a_job_and_logs_out(browser_page: tuple[Any, list[str]], live_dashboard):
    page, errors = browser_page
    url = live_dashboard["url"]
    page.goto(f"{url}/login")
    page.fill("#api_key", live_dashboard["token"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/overview")

    page.goto(f"{url}/jobs")
    page.click("[data-run=figures]")
    page.wait_for_url("**/jobs?started=*")
    # The page reloads itself while the job is queued or running.
    page.wait_for_selector("tr[data-state=done]", timeout=60_000)
    assert page.locator("[data-kind=figures] .metrics dt").count() >= 5
    _shot(page, "jobs-after-run-en")

    page.click("[data-action=logout]")
    page.wait_for_url("**/login*")
    page.goto(f"{url}/overview")
    assert "/login" in page.url
    assert not errors, errors
