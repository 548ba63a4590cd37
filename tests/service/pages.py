"""Helpers for the dashboard page tests: a logged-in client, a page's HTML, its visible text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

HTML = "text/html; charset=utf-8"


def logged_in(
    store: Store, workspace: Workspace, page: str, name: str, role: str = "reader"
) -> Iterator[TestClient]:
    """A client of the real app that logged in with a new ``role`` key and landed on ``page``."""
    app = create_app(workspace, store=store)
    with TestClient(app, raise_server_exceptions=False) as client:
        _, token = create_key(store, name, role)
        answer = client.post("/login", data={"api_key": token, "next": page})
        assert answer.status_code == 200 and answer.url.path == page
        yield client


def html_of(answer: Any, status: int = 200) -> str:
    """A page answer's HTML, checked for status, type and no caching."""
    assert answer.status_code == status, answer.text[:800]
    assert answer.headers["content-type"] == HTML
    assert "no-store" in answer.headers["cache-control"]
    text: str = answer.text
    return text


def visible(html: str) -> str:
    """The page's text as a reader sees it: no tags, no scripts."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))
