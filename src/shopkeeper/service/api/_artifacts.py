"""The artifact of a job kind in service: loaded once per process, replaced when a newer one is.

A capability's routes answer from the artifact its kind's ``current.json``
names. Unpickling one takes from milliseconds to seconds, so each process
keeps what it loaded, per workspace, and loads again only when a new job has
been promoted. An artifact that cannot be loaded is tried once; later
requests get the same error at once instead of paying the failed load again.

Before loading, the folder is checked against the SHA-256 manifest its job
wrote (``jobs.current_artifact``): when a file is missing, truncated or
changed, the previous promoted job's artifact is served instead (the warning
in the log names the bad file), and only when no promoted one is sound do
requests get 503. The check runs once per promotion, never per request.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from shopkeeper.errors import ArtifactError
from shopkeeper.jobs import current_artifact, promoted_jobs
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

log = logging.getLogger("shopkeeper.service")

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
    be served (it should log why). What is served is kept with the artifact
    file ``current.json`` named when it was loaded, which is the served one's
    own file unless that one failed its checksum and an earlier job's serves.
    """

    def __init__(
        self, kind: str, file_name: Callable[[], str], load: Callable[[str, Path], T]
    ) -> None:
        self.kind = kind
        self._file_name = file_name
        self._load = load
        self._lock = threading.Lock()
        # kind folder -> (the file current.json named, the artifact serving for it)
        self._served: OrderedDict[Path, tuple[Path, T]] = OrderedDict()
        self._failed: dict[Path, tuple[Path, ApiError]] = {}  # per kind folder

    def _named(self, workspace: Workspace) -> Path | None:
        """The artifact file ``current.json`` names (no check, no hashing: every request)."""
        promoted = promoted_jobs(workspace, self.kind)
        if not promoted:
            return None
        return workspace.models_dir / self.kind / promoted[0] / self._file_name()

    def ready(self, workspace: Workspace) -> T | None:
        """The artifact in service if it is loaded and still current; never loads one."""
        try:
            named = self._named(workspace)
        except ArtifactError:
            return None
        found = self._served.get(workspace.models_dir / self.kind)
        if named is None or found is None or found[0] != named:
            return None
        return found[1]

    def get(self, workspace: Workspace) -> T | None:
        """The current artifact, loaded if need be; None before the kind's first job.

        When the current job's artifact fails its checksum, the newest earlier
        promoted one that passes is served; :class:`ApiError` 503 when none does.
        """
        try:
            named = self._named(workspace)
        except ArtifactError as exc:
            raise self._unservable(exc) from exc
        if named is None:
            return None
        key = workspace.models_dir / self.kind
        found = self._served.get(key)
        if found is not None and found[0] == named:
            return found[1]
        with self._lock:
            found = self._served.get(key)
            if found is None or found[0] != named:
                failed = self._failed.get(key)
                if failed is not None and failed[0] == named:
                    raise failed[1]
                try:
                    loaded = self._resolve(workspace, named)
                except ApiError as exc:
                    self._failed[key] = (named, exc)
                    raise
                if loaded is None:
                    return None
                self._failed.pop(key, None)
                found = self._served[key] = (named, loaded)
            self._served.move_to_end(key)
            while len(self._served) > KEPT_WORKSPACES:
                self._served.popitem(last=False)
        return found[1]

    def _resolve(self, workspace: Workspace, named: Path) -> T | None:
        """Load the sound promoted artifact (the current one, or the one before it)."""
        try:
            folder = current_artifact(workspace, self.kind)  # hashes: once per promotion
        except ArtifactError as exc:
            raise self._unservable(exc, named.parent.name) from exc
        if folder is None:
            return None
        path = folder / self._file_name()
        if not path.is_file():  # a folder without a manifest, and without the file
            return None
        return self._load(folder.name, path)

    def _unservable(self, exc: ArtifactError, job_id: str | None = None) -> ApiError:
        # The log has the file and both digests; the client gets what to do.
        log.error("no %s artifact can be served: %s", self.kind, exc)
        which = f" of job {job_id}" if job_id else ""
        return ApiError(
            503,
            f"the {self.kind} artifact{which} failed its integrity check and no earlier "
            f"one can be served; run 'shopkeeper train {self.kind}' again",
        )

    def clear(self) -> None:
        with self._lock:
            self._served.clear()
            self._failed.clear()
