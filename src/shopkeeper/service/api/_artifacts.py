"""The artifact of a job kind in service: loaded once per process, replaced when a newer one is.

A capability's routes answer from the artifact its kind's ``current.json``
names. Unpickling one takes from milliseconds to seconds, so each process
keeps what it loaded, per workspace, and loads again only when a new job has
been promoted. An artifact that cannot be loaded is tried once; later
requests get the same error at once instead of paying the failed load again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from shopkeeper.jobs import current_artifact
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

#: Workspaces whose artifact one process keeps loaded (one each).
KEPT_WORKSPACES = 8


class Served(Protocol):
    """What a loaded artifact offers the cache: the file it came from."""

    @property
    def path(self) -> Path: ...


T = TypeVar("T", bound=Served)


class ArtifactCache(Generic[T]):
    """The served artifact of one job kind, per workspace.

    ``file_name()`` names the artifact's file inside a job's folder;
    ``load(job_id, path)`` loads it, raising :class:`ApiError` when it cannot
    be served (it should log why).
    """

    def __init__(
        self, kind: str, file_name: Callable[[], str], load: Callable[[str, Path], T]
    ) -> None:
        self.kind = kind
        self._file_name = file_name
        self._load = load
        self._lock = threading.Lock()
        self._served: OrderedDict[Path, T] = OrderedDict()
        self._failed: dict[Path, tuple[Path, ApiError]] = {}  # per kind folder

    def ready(self, workspace: Workspace) -> T | None:
        """The artifact in service if it is loaded and still current; never loads one."""
        folder = current_artifact(workspace, self.kind)
        found = self._served.get(workspace.models_dir / self.kind)
        if folder is None or found is None or found.path != folder / self._file_name():
            return None
        return found

    def get(self, workspace: Workspace) -> T | None:
        """The current artifact, loaded if need be; None before the kind's first job."""
        folder = current_artifact(workspace, self.kind)
        if folder is None:
            return None
        path = folder / self._file_name()
        key = workspace.models_dir / self.kind
        found = self._served.get(key)
        if found is not None and found.path == path:
            return found
        with self._lock:
            found = self._served.get(key)
            if found is None or found.path != path:
                if not path.is_file():
                    return None
                failed = self._failed.get(key)
                if failed is not None and failed[0] == path:
                    raise failed[1]
                try:
                    found = self._load(folder.name, path)
                except ApiError as exc:
                    self._failed[key] = (path, exc)
                    raise
                self._failed.pop(key, None)
                self._served[key] = found
            self._served.move_to_end(key)
            while len(self._served) > KEPT_WORKSPACES:
                self._served.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._served.clear()
            self._failed.clear()
