"""Builds the market-basket kernels ahead of time (see src/shopkeeper/basket/_aot.py).

Everything else about the package lives in pyproject.toml. If compiling fails
(no C compiler, say), the install still succeeds and the kernels run through
numba's JIT instead, with a warning here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NATIVE = "shopkeeper.basket._native"


class BuildKernels(build_ext):
    """Compiles the one extension with numba's pycc instead of a C source list."""

    def build_extension(self, ext: Extension) -> None:
        if ext.name != NATIVE:
            super().build_extension(ext)
            return
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # By file: importing the package would need its run-time dependencies.
            source = Path(__file__).resolve().parent / "src/shopkeeper/basket/_aot.py"
            spec = importlib.util.spec_from_file_location("_shopkeeper_aot", source)
            assert spec is not None and spec.loader is not None
            aot = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(aot)
            built = aot.compile_native(target.parent)
            if built != target:
                built.replace(target)
        except Exception as exc:  # any failure: the JIT still works
            print(f"warning: basket kernels not compiled ({exc}); numba's JIT is used")


setup(
    ext_modules=[Extension(NATIVE, sources=[], optional=True)],
    cmdclass={"build_ext": BuildKernels},
)
