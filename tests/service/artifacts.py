"""The checks every capability's artifact cache must pass, shared by the API test modules.

Each capability serves the artifact of its latest successful job, loaded once
per process (``service/api/_artifacts.py``). The checks build their own
workspaces under ``tmp_path`` and drive the real app.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.jobs import current_artifact
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.service.conftest import auth, error_body, ok


def new_workspace(root: Path) -> Workspace:
    """An empty workspace (models and reports folders made) at ``root``."""
    workspace = Workspace(root=root, database_url=f"sqlite:///{root / 'shop.db'}")
    for folder in (workspace.models_dir, workspace.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return workspace


def promote_copy(source: Workspace, workspace: Workspace, kind: str, job_id: str) -> None:
    """``source``'s current artifact of ``kind`` as ``workspace``'s current one, as ``job_id``."""
    found = current_artifact(source, kind)
    assert found is not None
    folder = workspace.models_dir / kind
    shutil.copytree(found, folder / job_id)
    (folder / "current.json").write_text(json.dumps({"job_id": job_id}))


def check_loaded_once_then_newer(
    store: Store,
    source: Workspace,
    root: Path,
    kind: str,
    served: Callable[[Workspace], Any],
    first_path: str,
    other_path: str,
    job_field: str = "job",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One load for many requests; a newly promoted job answers from the next request.

    Returns the first and the second answer of ``first_path`` for the caller to compare.
    """
    workspace = new_workspace(root)
    promote_copy(source, workspace, kind, "20990101-000000-aaaaaa")
    app = create_app(workspace, store=store)
    headers = auth(create_key(store, f"promoted {kind} reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        first = ok(client.get(first_path, headers=headers))
        assert first[job_field] == "20990101-000000-aaaaaa"
        loaded = served(workspace)
        ok(client.get(other_path, headers=headers))
        assert served(workspace) is loaded  # not read again
        promote_copy(source, workspace, kind, "20990102-000000-bbbbbb")
        second = ok(client.get(first_path, headers=headers))
        assert second[job_field] == "20990102-000000-bbbbbb"
    return first, second


def check_unreadable_is_503(store: Store, root: Path, kind: str, artifact: str, path: str) -> None:
    """A broken artifact answers 503 saying how to retrain, twice (the failure is kept)."""
    workspace = new_workspace(root)
    folder = workspace.models_dir / kind / "20990101-000000-cccccc"
    folder.mkdir(parents=True)
    (folder / artifact).write_bytes(b"not a pickle")
    (folder.parent / "current.json").write_text(json.dumps({"job_id": folder.name}))
    app = create_app(workspace, store=store)
    headers = auth(create_key(store, f"broken {kind} reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        for _ in range(2):  # the second time from the remembered failure
            error = error_body(client.get(path, headers=headers), 503, "unavailable")
            assert f"shopkeeper train {kind}" in error["message"]
            assert "pickle" not in error["message"]
