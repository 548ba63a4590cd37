"""The splits of frequent itemsets into rules, compiled by numba.

Every itemset X of two or more items is split into an antecedent A and a
consequent C = X − A, kept when confidence = support(X) / support(A) reaches
the minimum. Itemsets are found by key: each item has a random odd 64-bit
key and an itemset's key is the sum of its items' keys (mod 2^64), so a
subset's key is the whole key minus the removed items' keys, looked up in an
open-addressing table built once per set of itemsets.

With any consequent size, antecedents are visited from the largest down by
removing items, and a failing antecedent ends its branch: a subset of A has
at least A's support, so a lower confidence (the pruning of Agrawal and
Srikant's rule generation). High confidence thresholds then cost little more
than one-item consequents, and an itemset of 20 items does not visit its
million splits unless they qualify.

Written here because the alternative, numpy broadcasting over every
(itemset, split) pair, allocated the whole split grid and paid a fixed cost
per itemset size that dominated small rule sets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def _slot(key: np.uint64, mask: np.uint64) -> np.int64:  # pragma: no cover - jitted
    # Fibonacci hashing spreads the keys' high bits over the table.
    return np.int64(((key * _GOLDEN) >> np.uint64(20)) & mask)


@njit(cache=True)
def key_table(keys: np.ndarray) -> np.ndarray:  # pragma: no cover - jitted
    """An open-addressing table (a power of two, at most half full) of positions in ``keys``."""
    size = 2
    while size < 2 * keys.shape[0]:
        size *= 2
    table = np.full(size, -1, np.int64)
    mask = np.uint64(size - 1)
    for s in range(keys.shape[0]):
        j = _slot(keys[s], mask)
        while table[j] != -1:
            j = (j + 1) & (size - 1)
        table[j] = s
    return table


@njit(cache=True)
def _find(table: np.ndarray, keys: np.ndarray, key: np.uint64) -> np.int64:  # pragma: no cover
    size = table.shape[0]
    j = _slot(key, np.uint64(size - 1))
    while True:
        s = table[j]
        if s == -1 or keys[s] == key:
            return s
        j = (j + 1) & (size - 1)


@njit(cache=True)
def _grow(arr: np.ndarray, used: int) -> np.ndarray:  # pragma: no cover - jitted
    if used < arr.shape[0]:
        return arr
    out = np.empty(arr.shape[0] * 2, arr.dtype)
    out[:used] = arr[:used]
    return out


@njit(cache=True)
def rule_splits(
    ptr: np.ndarray,
    codes: np.ndarray,
    item_keys: np.ndarray,
    set_keys: np.ndarray,
    table: np.ndarray,
    support: np.ndarray,
    min_confidence: float,
    any_consequent: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:  # pragma: no cover - jitted
    """Every kept split: (itemset, antecedent, consequent, confidence) positions and values.

    Itemset s holds ``codes[ptr[s]:ptr[s + 1]]``; ``set_keys[s]`` is the sum of
    its items' ``item_keys``. Splits come itemset by itemset. The last value
    is False when a subset was not among the itemsets (they are not closed
    under subsets), and the arrays are then incomplete.
    """
    whole = np.empty(256, np.int64)
    ante = np.empty(256, np.int64)
    cons = np.empty(256, np.int64)
    conf = np.empty(256, np.float64)
    n = 0
    # A depth-first stack of antecedents: its key, its size and the position of the
    # last item removed (children remove later positions only, so each subset once).
    # Each of at most k levels holds fewer than k antecedents.
    k_max = 1
    for s in range(ptr.shape[0] - 1):
        k_max = max(k_max, ptr[s + 1] - ptr[s])
    stack_key = np.empty(k_max * k_max + 1, np.uint64)
    stack_size = np.empty(k_max * k_max + 1, np.int64)
    stack_last = np.empty(k_max * k_max + 1, np.int64)
    for s in range(ptr.shape[0] - 1):
        lo = ptr[s]
        k = ptr[s + 1] - lo
        if k < 2:
            continue
        total = set_keys[s]
        stack_key[0] = total
        stack_size[0] = k
        stack_last[0] = -1
        top = 1
        while top > 0:
            top -= 1
            key = stack_key[top]
            size = stack_size[top]
            last = stack_last[top]
            for i in range(last + 1, k):
                a_key = key - item_keys[codes[lo + i]]
                a = _find(table, set_keys, a_key)
                if a < 0:
                    return whole[:n], ante[:n], cons[:n], conf[:n], False
                c = support[s] / support[a]
                if c < min_confidence - 1e-12:
                    continue  # every subset of this antecedent fails as well
                b = _find(table, set_keys, total - a_key)
                if b < 0:
                    return whole[:n], ante[:n], cons[:n], conf[:n], False
                whole = _grow(whole, n)
                ante = _grow(ante, n)
                cons = _grow(cons, n)
                conf = _grow(conf, n)
                whole[n] = s
                ante[n] = a
                cons[n] = b
                conf[n] = c
                n += 1
                if any_consequent and size - 1 > 1:
                    stack_key[top] = a_key
                    stack_size[top] = size - 1
                    stack_last[top] = i
                    top += 1
    return whole[:n], ante[:n], cons[:n], conf[:n], True
