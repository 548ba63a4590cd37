"""The service: one FastAPI application for the REST API and the dashboard.

``create_app(workspace)`` builds it around one workspace's store; ``serve``
runs it with uvicorn. Each capability adds a router under
``service/api/routes/<capability>.py`` (mounted at ``/api/v1``) and, for the
dashboard, a page in ``service/dashboard/``.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from shopkeeper import __version__
from shopkeeper.jobs import JobRunner, fail_interrupted
from shopkeeper.service.deps import serve_store
from shopkeeper.service.errors import install_error_handlers
from shopkeeper.service.limits import RateLimiter
from shopkeeper.service.middleware import RequestContext
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

log = logging.getLogger("shopkeeper.service")

API_PREFIX = "/api/v1"
SECRET_FILE = "service.secret"


@dataclass(frozen=True)
class ServiceSettings:
    """How the service runs. ``max_body`` caps any request body, in bytes."""

    max_body: int = 1_000_000
    session_days: int = 7
    secure_cookies: bool = False  # set when served over HTTPS behind a proxy
    # Per process (see service/limits.py): requests a second per key and its burst (rate 0:
    # no limit), and failed key checks a minute per client address before a 429.
    rate_per_key: float = 500.0
    burst_per_key: int = 1000
    failed_logins_per_minute: int = 20


def session_secret(workspace: Workspace) -> str:
    """The workspace's cookie-signing secret, created (readable by its owner only) once."""
    path = workspace.root / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(
    workspace: Workspace | None = None,
    settings: ServiceSettings | None = None,
    *,
    store: Store | None = None,
) -> FastAPI:
    """The application for ``workspace`` (default: the resolved workspace)."""
    from shopkeeper.service import dashboard
    from shopkeeper.service.api import routes

    ws = workspace or Workspace.resolve()
    cfg = settings or ServiceSettings()
    the_store = store or Store.open(ws)
    runner = JobRunner(the_store, ws)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stale = fail_interrupted(the_store)
        if stale:
            log.warning("%d job(s) left unfinished by an earlier process marked failed", stale)
        runner.start()
        yield
        runner.stop()

    app = FastAPI(
        title="shopkeeper",
        version=__version__,
        summary="An AI operations engine for online stores: the shop's data and decisions.",
        description=(
            "Every route under /api/v1 except health and readiness needs an API key, sent "
            "as `Authorization: Bearer sk_...` (create one with `shopkeeper keys create`). "
            "Roles: reader (read), operator (also write events and orders, start jobs), "
            "admin (also personal data and keys). Errors always have the body "
            '`{"error": {"status", "code", "message", "details": [{"field", "reason", '
            '"value"}]}, "request_id"}`.'
        ),
        lifespan=lifespan,
        docs_url=None,  # served below from local files: FastAPI's default loads a CDN
        redoc_url=None,
    )
    app.state.store = the_store
    app.state.workspace = ws
    serve_store(ws, the_store)
    app.state.settings = cfg
    app.state.jobs = runner
    app.state.limiter = RateLimiter(
        cfg.rate_per_key, cfg.burst_per_key, cfg.failed_logins_per_minute
    )

    install_error_handlers(app)
    for router in routes.ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=str(dashboard.STATIC_DIR)), name="static")
    _install_docs(app)

    # Outermost last: the request context sees every request, sessions only the app.
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(ws),
        session_cookie="shopkeeper_session",
        max_age=cfg.session_days * 86_400,
        same_site="lax",
        https_only=cfg.secure_cookies,
    )
    app.add_middleware(RequestContext, max_body=cfg.max_body)
    return app


def _install_docs(app: FastAPI) -> None:
    """Interactive API docs at /docs from the Swagger UI files a Python package ships.

    A shop's server is often offline, so nothing is fetched from a CDN.
    """
    import swagger_ui_bundle

    app.mount(
        "/docs-assets",
        StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path)),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="shopkeeper API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def serve(
    workspace: Workspace | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    settings: ServiceSettings | None = None,
) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    ws = workspace or Workspace.resolve()
    cfg = settings or ServiceSettings()
    if workers > 1:
        # Several processes need an import string; each builds its own app.
        os.environ["SHOPKEEPER_WORKSPACE"] = str(ws.root)
        os.environ["SHOPKEEPER_RATE_PER_KEY"] = repr(cfg.rate_per_key)
        uvicorn.run(
            "shopkeeper.service.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
        )
    else:
        app = create_app(ws, cfg)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def app_from_environment() -> FastAPI:
    """The factory uvicorn's worker processes call (workspace and limit from the environment)."""
    rate = os.environ.get("SHOPKEEPER_RATE_PER_KEY")
    if rate is None:
        return create_app(Workspace.resolve())
    per_second = float(rate)
    cfg = ServiceSettings(rate_per_key=per_second, burst_per_key=max(int(per_second * 2), 1))
    return create_app(Workspace.resolve(), cfg)


__all__ = ["API_PREFIX", "ServiceSettings", "create_app", "serve"]
