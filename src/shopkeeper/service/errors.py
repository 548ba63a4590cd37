"""One error body for every route, and the handlers that produce it.

Every error a client sees has the same shape::

    {"error": {"status": 422, "code": "invalid_input",
               "message": "events row 1: at 'yesterday' must be an ISO 8601 date or time",
               "details": [{"field": "events[0].at", "reason": "must be an ISO 8601 ...",
                            "value": "yesterday"}]},
     "request_id": "5f0c..."}

No stack trace or internal message ever reaches a client: unexpected failures
are caught by ``middleware.RequestContext``, which answers ``internal`` with
the request id while the log holds the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopkeeper.errors import (
    ConfigError,
    ConflictError,
    ContractError,
    NotFoundError,
    StoreError,
)

log = logging.getLogger("shopkeeper.service")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """An error meant for the client: status, code, message and optional field details."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.headers = headers


def error_body(
    request: Request,
    status: int,
    message: str,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code or _CODES.get(status, "error"),
            "message": message,
            "details": details or [],
        },
        "request_id": getattr(request.state, "request_id", None),
    }


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = error_body(request, status, message, code, details)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def contract_details(exc: ContractError, prefix: str | None = None) -> list[dict[str, Any]]:
    """Ingest's problems as field details: ``events[3].at`` for row 4 of the events."""
    details = []
    for p in exc.problems:
        table = p.source.split(" ", 1)[0]
        base = prefix or table
        field = base if p.line is None else f"{base}[{p.line - 1}]"
        if p.column:
            field += f".{p.column}"
        details.append({"field": field, "reason": p.rule, "value": p.value})
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure, expected or not, to the one error body."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            request,
            exc.status,
            exc.message,
            code=exc.code,
            details=exc.details,
            headers=exc.headers,
        )

    @app.exception_handler(ContractError)
    async def _contract(request: Request, exc: ContractError) -> JSONResponse:
        return error_response(request, 422, str(exc), details=contract_details(exc))

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError) -> JSONResponse:
        return error_response(request, 422, str(exc))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(request, 404, str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return error_response(request, 409, str(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            request,
            503,
            "the store is busy or not available; nothing was written, try again shortly",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body",)]
            field = ".".join(loc) or "body"
            details.append({"field": field, "reason": e.get("msg", "invalid"), "value": None})
        first = details[0] if details else {"field": "body", "reason": "invalid"}
        message = f"{first['field']}: {first['reason']}"
        return error_response(request, 422, message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        return error_response(request, exc.status_code, message, headers=exc.headers)
