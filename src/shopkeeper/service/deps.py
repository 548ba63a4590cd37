"""What routes depend on: the store, the workspace, and the caller's key and role.

API callers send their key as ``Authorization: Bearer sk_...`` (or
``X-API-Key: sk_...``). The dashboard keeps the key id of a logged-in user in
its signed session cookie and checks on each page that the key is still active.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from shopkeeper.access import ApiKey, authenticate, cached_key, get_key
from shopkeeper.jobs import JobRunner
from shopkeeper.service.errors import ApiError
from shopkeeper.service.limits import RateLimiter, retry_after
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="shopkeeper"'}

# The store each served workspace's models name customers through (by its
# models folder): model files hold pseudonymous keys, and loading one needs
# the store to name customers again. Set by create_app.
_STORES: dict[Path, Store] = {}


def serve_store(workspace: Workspace, store: Store) -> None:
    """Record ``store`` as the one ``workspace``'s served models are read with."""
    _STORES[workspace.models_dir.resolve()] = store


def store_of_artifact(path: Path) -> Store:
    """The store to read the artifact at ``path`` (``MODELS/KIND/JOB/FILE``) with: the
    one its workspace is served with, or else that workspace's own store."""
    models = path.resolve().parents[2]
    found = _STORES.get(models)
    return found if found is not None else Store.open(Workspace.resolve(models.parent))


# The cheap dependencies are ``async`` so FastAPI runs them on the event loop
# instead of sending each through the thread pool; the key check only leaves
# the loop when the key is not cached (a database read).


def get_store(request: Request) -> Store:
    """The app's store (a plain function, for pages that call it directly)."""
    store: Store = request.app.state.store
    return store


async def use_store(request: Request) -> Store:
    """The app's store, as a dependency that stays on the event loop."""
    return get_store(request)


async def get_workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


async def get_jobs(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None
    return request.headers.get("x-api-key")


def client_address(request: Request) -> str:
    """The address a request came from, as the rate limits count it."""
    return request.client.host if request.client else "unknown"


def limiter(request: Request) -> RateLimiter:
    found: RateLimiter = request.app.state.limiter
    return found


async def api_key(request: Request, store: Store = Depends(use_store)) -> ApiKey:
    """The caller's active key; 401 without one or with a wrong, unknown or revoked one.

    429 when the client address failed too many key checks in the last minute,
    or the key spent its requests (see :mod:`shopkeeper.service.limits`).
    """
    limits = limiter(request)
    client = client_address(request)
    wait = limits.blocked(client)
    if wait:
        raise ApiError(
            429,
            "too many failed API key checks from this address; try again in a minute",
            headers=retry_after(wait),
        )
    token = _token(request)
    if not token:
        limits.failed(client)
        raise ApiError(
            401,
            "an API key is needed: send 'Authorization: Bearer sk_...' "
            "(create one with 'shopkeeper keys create')",
            headers=_CHALLENGE,
        )
    key = cached_key(token)
    if key is None:
        key = await run_in_threadpool(authenticate, store, token)
    if key is None:
        limits.failed(client)
        raise ApiError(401, "the API key is not valid or was revoked", headers=_CHALLENGE)
    wait = limits.take(key.key_id)
    if wait:
        raise ApiError(
            429,
            f"the key {key.key_id!r} sent more than {limits.rate:g} requests a second "
            f"(bursts of {limits.burst}); slow down",
            headers=retry_after(wait),
        )
    request.state.key_id = key.key_id
    return key


def require(role: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller's key, which must have ``role`` or a higher one."""

    async def check(key: ApiKey = Depends(api_key)) -> ApiKey:
        if not key.allows(role):
            raise ApiError(
                403, f"this needs the {role} role; the key {key.key_id!r} is a {key.role}"
            )
        return key

    check.__name__ = f"require_{role}"
    return check


def session_key(request: Request) -> ApiKey | None:
    """The dashboard user's key, if logged in with a key that is still active."""
    key_id = request.session.get("key_id")
    if not key_id:
        return None
    key = get_key(request.app.state.store, str(key_id))
    if key is None or not key.active:
        request.session.clear()
        return None
    request.state.key_id = key.key_id
    return key
