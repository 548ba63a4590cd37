"""ASGI middleware: request ids, request size limits and one log line per request.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so it adds no extra task
per request and sees the body as it streams in.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("shopkeeper.service.access")
error_log = logging.getLogger("shopkeeper.service")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the limit of {limit:,} bytes")


class RequestContext:
    """Gives each request an id, caps its body at ``max_body`` bytes, logs it once."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 8 <= len(given) <= 64 and given.isalnum() else secrets.token_hex(8)
        state["request_id"] = request_id
        status = [500]
        started_response = [False]
        limit = self.max_body
        declared = headers.get(b"content-length")
        too_big = declared is not None and declared.isdigit() and int(declared) > limit
        seen = [0]

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                started_response[0] = True
                status[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            if too_big:
                # Refused before reading a byte of it, whatever the route.
                message = f"request body over the limit of {limit:,} bytes"
                await _send_error(send_with_id, 413, "payload_too_large", message, request_id)
            else:
                await self.app(scope, limited_receive, send_with_id)
        except Exception:
            # The one place an unexpected failure becomes a response: the log
            # keeps the traceback, the client gets the error body and the id.
            error_log.exception("unexpected failure on %s %s", scope["method"], _logged_path(scope))
            if started_response[0]:
                raise
            await _send_error(
                send_with_id,
                500,
                "internal",
                "internal error; the service log has the details under this request id",
                request_id,
            )
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": _logged_path(scope),
                            "status": status[0],
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "key_id": state.get("key_id"),
                            "bytes_in": seen[0],
                        },
                        separators=(",", ":"),
                    )
                )


def _logged_path(scope: Scope) -> str:
    """The path for the log: the route's template when it has parameters.

    ``/api/v1/recommend/{customer_id}`` rather than the customer's id: logs
    name no customer (see docs/privacy.md), and templates group better.
    """
    template = getattr(scope.get("route"), "path", None)
    path = str(scope["path"])
    if isinstance(template, str) and "{" in template:
        # The route may be the router's own (without the /api/v1 prefix): put
        # its template over the path's last segments.
        parts, tail = path.split("/"), template.strip("/").split("/")
        if len(tail) <= len(parts):
            return "/".join(parts[: len(parts) - len(tail)] + tail)
    return path


async def _send_error(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    """The service's error body, sent from the middleware itself."""
    body = json.dumps(
        {
            "error": {"status": status, "code": code, "message": message, "details": []},
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
