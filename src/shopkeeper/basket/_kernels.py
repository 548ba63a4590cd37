"""The miner's kernels: the compiled module when it is current, numba's JIT otherwise.

See :mod:`shopkeeper.basket._aot` for why both exist. Set
``SHOPKEEPER_BASKET_JIT=1`` to force the JIT (the tests compare the two).
Every array is converted to the exact dtype the compiled functions accept.
"""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def _load() -> tuple[Any, str]:
    if os.environ.get("SHOPKEEPER_BASKET_JIT", "") not in ("", "0"):
        return _jit(), "jit (SHOPKEEPER_BASKET_JIT)"
    try:
        from shopkeeper.basket import _native  # type: ignore[attr-defined]
    except ImportError:
        return _jit(), "jit (no compiled module: reinstall the package to build it)"
    from shopkeeper.basket._aot import kernel_digest

    if _native.source_digest() != kernel_digest():
        logger.warning(
            "the compiled basket kernels are older than their source; using numba's JIT "
            "until the package is reinstalled (pip install -e .)"
        )
        return _jit(), "jit (compiled module is stale)"
    return _native, "compiled"


def _jit() -> Any:
    from shopkeeper.basket import _mine, _splits

    return SimpleNamespace(
        mine_codes=_mine.mine_codes,
        rank_baskets=_mine.rank_baskets,
        codes_in_label_order=_mine.codes_in_label_order,
        key_table=_splits.key_table,
        rule_splits=_splits.rule_splits,
    )


_module: Any = None
KIND = ""


def _kernels() -> Any:
    global _module, KIND
    if _module is None:
        _module, KIND = _load()
        logger.debug("basket kernels: %s", KIND)
    return _module


def kind() -> str:
    """Which kernels run: ``compiled`` or ``jit (why)``."""
    _kernels()
    return KIND


def _i64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _i32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def mine_codes(
    basket_ptr: Any,
    basket_items: Any,
    basket_customer: Any,
    n_items: int,
    min_count: int,
    by_customers: bool,
    max_size: int,
    max_sets: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """See :func:`shopkeeper.basket._mine.mine_codes`."""
    return _kernels().mine_codes(
        _i64(basket_ptr),
        _i32(basket_items),
        _i64(basket_customer),
        int(n_items),
        int(min_count),
        bool(by_customers),
        int(max_size),
        int(max_sets),
    )


def rank_baskets(basket_ptr: Any, basket_codes: Any, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """See :func:`shopkeeper.basket._mine.rank_baskets`."""
    return _kernels().rank_baskets(_i64(basket_ptr), _i32(basket_codes), int(n_items))


def codes_in_label_order(flat: Any, sizes: Any, order: Any) -> np.ndarray:
    """See :func:`shopkeeper.basket._mine.codes_in_label_order`."""
    return _kernels().codes_in_label_order(_i32(flat), _i32(sizes), _i64(order))


def key_table(keys: Any) -> np.ndarray:
    """See :func:`shopkeeper.basket._splits.key_table`."""
    return _kernels().key_table(np.ascontiguousarray(keys, dtype=np.uint64))


def rule_splits(
    ptr: Any,
    codes: Any,
    item_keys: Any,
    set_keys: Any,
    table: Any,
    support: Any,
    min_confidence: float,
    any_consequent: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """See :func:`shopkeeper.basket._splits.rule_splits`."""
    return _kernels().rule_splits(
        _i64(ptr),
        _i32(codes),
        np.ascontiguousarray(item_keys, dtype=np.uint64),
        np.ascontiguousarray(set_keys, dtype=np.uint64),
        _i64(table),
        np.ascontiguousarray(support, dtype=np.float64),
        float(min_confidence),
        bool(any_consequent),
    )
