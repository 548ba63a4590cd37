"""The miner's kernels compiled ahead of time into ``shopkeeper.basket._native``.

``_mine.py`` and ``_splits.py`` hold the search and the rule splits as numba
functions. Compiled just in time, they cost every new process about 70 MB
and half a second while numba loads its compiler, and a machine's very first
call about 9 s of compiling. ``setup.py`` therefore compiles them once, when
the package is installed, into an ordinary extension module (numba's
``pycc``) that needs neither numba nor a compiler at run time.

The module carries a digest of the kernels' source. ``_kernels.py`` uses it
only when the digest matches the source beside it, so an edited kernel in a
development checkout falls back to numba's JIT until the package is
reinstalled rather than running stale machine code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
KERNEL_SOURCES = ("_mine.py", "_splits.py", "_aot.py")
MODULE = "_native"


def kernel_digest(folder: Path = HERE) -> int:
    """A 60-bit digest of the kernels' source files (what the native module was built from)."""
    h = hashlib.sha256()
    for name in KERNEL_SOURCES:
        h.update((folder / name).read_bytes())
    return int(h.hexdigest()[:15], 16)


# Exact argument types: the compiled functions accept these dtypes only, so
# ``_kernels.py`` converts before calling.
SIGNATURES = {
    "mine_codes": (
        "Tuple((int32[:], int32[:], int64[:], int64[:], boolean))"
        "(int64[:], int32[:], int64[:], int64, int64, boolean, int64, int64)"
    ),
    "rank_baskets": "Tuple((int64[:], int32[:]))(int64[:], int32[:], int64)",
    "codes_in_label_order": "int32[:](int32[:], int32[:], int64[:])",
    "key_table": "int64[:](uint64[:])",
    "rule_splits": (
        "Tuple((int64[:], int64[:], int64[:], float64[:], boolean))"
        "(int64[:], int32[:], uint64[:], uint64[:], int64[:], float64[:], float64, boolean)"
    ),
}


def _by_path(name: str) -> ModuleType:
    # Loaded by file, not through the package: at install time the package's own
    # imports (pandas...) are not there, only numpy and numba.
    spec = importlib.util.spec_from_file_location(f"_shopkeeper_aot{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_native(output_dir: Path) -> Path:
    """Compile the kernels into ``output_dir`` and return the extension module's path."""
    import tempfile

    from numba.core import config as numba_config

    config: Any = numba_config  # its settings are set at run time; no stubs know them

    with tempfile.TemporaryDirectory(prefix="shopkeeper-aot-") as cache:
        # Not the JIT's cache beside the source: its entries name the package's modules.
        config.CACHE_DIR = cache
        return _compile(_by_path("_mine"), _by_path("_splits"), output_dir)


def _compile(mine: ModuleType, splits: ModuleType, output_dir: Path) -> Path:
    from numba.pycc import CC

    digest = kernel_digest()

    def source_digest() -> int:
        return digest

    cc = CC(MODULE)
    cc.output_dir = str(output_dir)
    # The machine it is installed on (as the JIT would); "generic" for portable wheels.
    cc.target_cpu = os.environ.get("SHOPKEEPER_AOT_CPU", "host")
    cc.export("mine_codes", SIGNATURES["mine_codes"])(mine.mine_codes.py_func)
    for name in ("rank_baskets", "codes_in_label_order"):
        cc.export(name, SIGNATURES[name])(getattr(mine, name).py_func)
    cc.export("key_table", SIGNATURES["key_table"])(splits.key_table.py_func)
    cc.export("rule_splits", SIGNATURES["rule_splits"])(splits.rule_splits.py_func)
    cc.export("source_digest", "int64()")(source_digest)
    cc.compile()
    return output_dir / cc.output_file
