"""``shopkeeper demo``: generate the demo shop, write it as files, load it through ingest.

The demo goes through exactly the path a shop's own exports take (CSV files
read, validated and loaded by ``load_folder``), so whatever works on the demo
works on a real shop's files, and the files stay in the workspace for a user
to look at or load elsewhere.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shopkeeper.demo._config import DemoConfig
from shopkeeper.demo._generator import generate
from shopkeeper.demo._write import TRUTH_FILE, write_shop
from shopkeeper.errors import ConfigError
from shopkeeper.ingest import LoadResult, load_folder
from shopkeeper.store import DEMO_META, TIMEZONE_META, Store

log = logging.getLogger(__name__)

#: progress(stage, step, done, total): "generate", "write files", then the ingest stages.
Progress = Callable[[str, str, int, int], None]

DEMO_FOLDER = "demo-shop"


@dataclass
class DemoBuild:
    """What ``build_demo`` did: the settings, where the files are, and the load."""

    config: DemoConfig
    folder: Path
    load: LoadResult
    replaced: bool
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def truth_file(self) -> Path:
        return self.folder / TRUTH_FILE

    def to_dict(self) -> dict[str, object]:
        return {
            "config": self.config.to_dict(),
            "folder": str(self.folder),
            "truth_file": str(self.truth_file),
            "replaced": self.replaced,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "load": self.load.to_dict(),
        }


def build_demo(
    store: Store,
    folder: str | Path,
    config: DemoConfig | None = None,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> DemoBuild:
    """Generate the demo shop into ``folder`` and load it into ``store``.

    The store ends up holding exactly the demo shop. A store that holds an
    earlier demo shop (and nothing else) is replaced without asking; a store
    holding any other data is left alone with a ConfigError unless
    ``replace=True``. The load is all or nothing like every load.
    """
    cfg = config or DemoConfig()
    out = Path(folder)
    holds_demo = store.meta(DEMO_META) is not None
    counts = store.counts()
    if any(counts.values()) and not holds_demo and not replace:
        held = ", ".join(f"{n:,} {t}" for t, n in counts.items() if n)
        raise ConfigError(
            f"the store {store.display_url} already holds a shop's data ({held}); "
            "loading the demo shop into it would mix the two. Use --replace to replace "
            "that data with the demo shop, or --workspace DIR for a separate workspace"
        )
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    shop = generate(
        cfg, progress=None if progress is None else lambda s, d, t: progress("generate", s, d, t)
    )
    seconds["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    write_shop(
        shop, out, None if progress is None else lambda _s, d, t: progress("write files", "", d, t)
    )
    seconds["write"] = time.perf_counter() - started

    started = time.perf_counter()
    # The demo shop keeps Beijing time: its days are days at +08:00.
    meta = {DEMO_META: json.dumps(cfg.to_dict(), sort_keys=True), TIMEZONE_META: "+08:00"}
    result = load_folder(out, store, progress=progress, replace=True, meta=meta)
    seconds["load"] = time.perf_counter() - started
    log.info("demo shop loaded: %d rows from %s", result.rows, out)
    return DemoBuild(
        config=cfg,
        folder=out.resolve(),
        load=result,
        replaced=any(counts.values()),
        seconds=seconds,
    )
