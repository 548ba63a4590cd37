"""Where shopkeeper keeps a shop: the workspace folder and its store URL.

A workspace is a folder holding the embedded database (``shop.db``), model
artifacts (``models/``) and reports (``reports/``). Its location comes from,
in order: an explicit path, ``SHOPKEEPER_WORKSPACE``, ``./shopkeeper-workspace``.
``SHOPKEEPER_DATABASE_URL`` points the store at another database (PostgreSQL in
production) while artifacts stay in the workspace folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shopkeeper.errors import ConfigError

DEFAULT_WORKSPACE = "shopkeeper-workspace"
WORKSPACE_ENV = "SHOPKEEPER_WORKSPACE"
DATABASE_URL_ENV = "SHOPKEEPER_DATABASE_URL"


@dataclass(frozen=True)
class Workspace:
    """A shop's workspace folder and the database URL of its store."""

    root: Path
    database_url: str

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @classmethod
    def resolve(cls, root: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace at ``root`` or from the environment, created if missing."""
        chosen = Path(root or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).expanduser()
        if chosen.exists() and not chosen.is_dir():
            raise ConfigError(f"workspace {str(chosen)!r} exists but is not a folder")
        try:
            for folder in (chosen, chosen / "models", chosen / "reports"):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create workspace {str(chosen)!r}: {exc.strerror}") from exc
        url = os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{(chosen / 'shop.db').resolve()}"
        return cls(root=chosen.resolve(), database_url=url)
