"""The compiled kernels (built at install) against numba's JIT of the same source."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from shopkeeper.basket import Baskets, _aot, _kernels, association_rules, frequent_itemsets
from tests.conftest import SHARED_DATA

GROCERIES = SHARED_DATA / "groceries" / "groceries.csv"


def _native_or_skip() -> Any:
    try:
        from shopkeeper.basket import _native  # type: ignore[attr-defined]
    except ImportError:
        if os.environ.get("SHOPKEEPER_REQUIRE_COMPILED_KERNELS") == "1":
            pytest.fail("the compiled basket kernels were not built by the install")
        pytest.skip("the package was installed without its compiled basket kernels")
    if _native.source_digest() != _aot.kernel_digest():
        if os.environ.get("SHOPKEEPER_REQUIRE_COMPILED_KERNELS") == "1":
            pytest.fail("the compiled basket kernels are stale: reinstall (pip install -e .)")
        pytest.skip("the compiled basket kernels are older than their source")
    return _native


def _groceries() -> Baskets:
    if not GROCERIES.exists():
        pytest.skip("needs ../shared/data/groceries")
    lines = GROCERIES.read_text().splitlines()
    return Baskets.from_lists([[x for x in line.split(",") if x] for line in lines])


def test_the_installed_package_runs_the_compiled_kernels() -> None:
    _native_or_skip()
    # A fresh interpreter: neither the JIT nor numba itself is loaded to mine.
    code = (
        "import sys\n"
        "from shopkeeper.basket import Baskets, frequent_itemsets, association_rules\n"
        "from shopkeeper.basket._kernels import kind\n"
        "found = frequent_itemsets(Baskets.from_lists([['a', 'b'], ['a', 'b'], ['a']]), 0.5)\n"
        "association_rules(found)\n"
        "print(kind(), 'numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SHOPKEEPER_BASKET_JIT"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["compiled", "False"]


def test_compiled_and_jit_kernels_agree_on_real_baskets() -> None:
    native = _native_or_skip()
    jit = _kernels._jit()
    baskets = _groceries()
    found = frequent_itemsets(baskets, 0.002)
    association_rules(found)  # fills the subset keys
    assert found._keys is not None
    keys, hashed, table = found._keys
    assert np.array_equal(native.key_table(hashed), jit.key_table(hashed))
    for any_consequent in (False, True):
        args = (found.ptr, found.codes, keys, hashed, table, found.support(), 0.3, any_consequent)
        ours, theirs = native.rule_splits(*args), jit.rule_splits(*args)
        assert ours[4] and theirs[4]
        for a, b in zip(ours[:4], theirs[:4], strict=True):
            assert np.array_equal(a, b)
    n_items = len(baskets.items)
    order, ranked = native.rank_baskets(baskets.ptr, baskets.codes, n_items)
    jit_ranks = jit.rank_baskets(baskets.ptr, baskets.codes, n_items)
    for a, b in zip((order, ranked), jit_ranks, strict=True):
        assert np.array_equal(a, b)
    args = (baskets.ptr, ranked, baskets.customer, n_items, 20, False, 64, 10**6)
    mined = native.mine_codes(*args)
    for a, b in zip(mined, jit.mine_codes(*args), strict=True):
        assert np.array_equal(a, b)
    flat, sizes = mined[0], mined[1]
    assert np.array_equal(
        native.codes_in_label_order(flat, sizes, order),
        jit.codes_in_label_order(flat, sizes, order),
    )


def test_a_stale_compiled_module_falls_back_to_the_jit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _native_or_skip()
    monkeypatch.setattr(_aot, "kernel_digest", lambda: -1)
    with caplog.at_level(logging.WARNING):
        module, why = _kernels._load()
    assert why == "jit (compiled module is stale)"
    assert "older than their source" in caplog.text
    assert module.mine_codes is _kernels._jit().mine_codes


def test_the_jit_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPKEEPER_BASKET_JIT", "1")
    _, why = _kernels._load()
    assert why == "jit (SHOPKEEPER_BASKET_JIT)"


def test_kernels_refuse_nothing_of_the_callers_dtypes() -> None:
    # Callers may hand int32 pointers or Python lists: the wrappers convert.
    found = frequent_itemsets(Baskets.from_lists([["a", "b"], ["a", "b"], ["b"]]), 0.5)
    found.ptr = found.ptr.astype(np.int32)
    rules = association_rules(found, min_confidence=0.5)
    assert set(zip(rules["antecedent"], rules["consequent"], strict=True)) == {
        (("a",), ("b",)),
        (("b",), ("a",)),
    }
