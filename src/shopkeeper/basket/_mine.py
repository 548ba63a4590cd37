"""Frequent itemsets, exactly, by occurrence delivery (the LCM scheme of Uno et al.).

Items are ranked by ascending support and every basket lists its frequent
items by rank. The search is depth first: an itemset's *occurrence list*
(the baskets that contain it) is walked once to count every possible
extension by a later-ranked item, and once more to hand each frequent
extension its own occurrence list. The cost is proportional to the size of
the baskets that contain each frequent itemset, not to the number of
candidates, so sparse catalogs (thousands of products, a few per basket)
cost little more than dense ones.

Written here, not taken from a library: mlxtend's FP-growth is pure Python
and one to two orders of magnitude slower, pyfim is fast but a C extension
that must be compiled on the user's machine. The loop is compiled by numba
(cached on disk after the first run). ``bench/basket_bench.py`` checks the
itemsets against both and times all three.

Support can be counted over baskets (orders) or over distinct customers: a
customer counts once for an itemset however many of their orders contain
it, which keeps one shopper re-ordering the same basket from making it look
popular. Both counts are reported for every itemset; the threshold applies
to the one chosen.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _grow(arr: np.ndarray, used: int, need: int) -> np.ndarray:  # pragma: no cover - jitted
    if used + need <= arr.shape[0]:
        return arr
    size = max(arr.shape[0] * 2, used + need)
    out = np.empty(size, arr.dtype)
    out[:used] = arr[:used]
    return out


@njit(cache=True)
def mine_codes(
    basket_ptr: np.ndarray,
    basket_items: np.ndarray,
    basket_customer: np.ndarray,
    n_items: int,
    min_count: int,
    by_customers: bool,
    max_size: int,
    max_sets: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:  # pragma: no cover - jitted
    """Every frequent itemset of ranked item codes (stopping after ``max_sets``).

    ``basket_items[basket_ptr[t]:basket_ptr[t + 1]]`` are basket t's item
    ranks, ascending; baskets are ordered by customer (``basket_customer``,
    ascending). Returns the itemsets' items (flat, depth-first order), their
    sizes, basket counts and customer counts, and whether the search stopped
    at ``max_sets`` itemsets.
    """
    out_items = np.empty(1024, np.int32)
    out_size = np.empty(256, np.int32)
    out_baskets = np.empty(256, np.int64)
    out_customers = np.empty(256, np.int64)
    n_flat = 0
    n_sets = 0
    count = np.zeros(n_items, np.int64)
    people = np.zeros(n_items, np.int64)
    last = np.full(n_items, -1, np.int64)
    touched = np.empty(n_items, np.int32)  # the items counted at the current node
    where = np.full(n_items, -1, np.int64)
    prefix = np.empty(max_size + 1, np.int32)

    # The root: every item's occurrence list, delivered in one pass.
    root_count = np.zeros(n_items, np.int64)
    for k in range(basket_items.shape[0]):
        root_count[basket_items[k]] += 1
    root_ptr = np.zeros(n_items + 1, np.int64)
    root_ptr[1:] = np.cumsum(root_count)
    root_occ = np.empty(root_ptr[-1], np.int32)
    fill = root_ptr[:-1].copy()
    for t in range(basket_ptr.shape[0] - 1):
        for k in range(basket_ptr[t], basket_ptr[t + 1]):
            j = basket_items[k]
            root_occ[fill[j]] = t
            fill[j] += 1
    root_people = np.zeros(n_items, np.int64)
    for j in range(n_items):
        prev = -1
        for k in range(root_ptr[j], root_ptr[j + 1]):
            u = basket_customer[root_occ[k]]
            if u != prev:
                root_people[j] += 1
                prev = u
    keep = 0
    for j in range(n_items):
        c = root_people[j] if by_customers else root_count[j]
        if c >= min_count:
            keep += 1
    root_items = np.empty(keep, np.int32)
    e = 0
    for j in range(n_items):
        c = root_people[j] if by_customers else root_count[j]
        if c >= min_count:
            root_items[e] = j
            e += 1

    levels_items = [root_items]
    levels_ptr = [root_ptr]
    levels_occ = [root_occ]
    levels_people = [root_people]
    levels_pos = [0]
    levels_index = [root_items.copy()]  # where each candidate's list starts in ptr
    depth = 0
    while depth >= 0:
        items = levels_items[depth]
        p = levels_pos[depth]
        if p >= items.shape[0]:
            levels_items.pop()
            levels_ptr.pop()
            levels_occ.pop()
            levels_people.pop()
            levels_pos.pop()
            levels_index.pop()
            depth -= 1
            continue
        levels_pos[depth] = p + 1
        ptr = levels_ptr[depth]
        occ = levels_occ[depth]
        slot = levels_index[depth][p]
        tail = items[p]
        prefix[depth] = tail
        lo = ptr[slot]
        hi = ptr[slot + 1]

        out_items = _grow(out_items, n_flat, depth + 1)
        out_size = _grow(out_size, n_sets, 1)
        out_baskets = _grow(out_baskets, n_sets, 1)
        out_customers = _grow(out_customers, n_sets, 1)
        for d in range(depth + 1):
            out_items[n_flat] = prefix[d]
            n_flat += 1
        out_size[n_sets] = depth + 1
        out_baskets[n_sets] = hi - lo
        out_customers[n_sets] = levels_people[depth][slot]
        n_sets += 1
        if n_sets >= max_sets:
            return (
                out_items[:n_flat],
                out_size[:n_sets],
                out_baskets[:n_sets],
                out_customers[:n_sets],
                True,
            )
        if depth + 1 >= max_size:
            continue

        # Count every later-ranked item over this itemset's baskets (and customers);
        # only the items seen are visited afterwards, not the whole catalog.
        n_touched = 0
        for k in range(lo, hi):
            t = occ[k]
            u = basket_customer[t]
            # A basket's ranks ascend: the later-ranked items are a suffix, read backwards.
            for m in range(basket_ptr[t + 1] - 1, basket_ptr[t] - 1, -1):
                j = basket_items[m]
                if j <= tail:
                    break
                if count[j] == 0:
                    touched[n_touched] = j
                    n_touched += 1
                count[j] += 1
                if last[j] != u:
                    people[j] += 1
                    last[j] = u
        n_ext = 0
        for i in range(n_touched):
            j = touched[i]
            c = people[j] if by_customers else count[j]
            if c >= min_count:
                n_ext += 1
        if n_ext == 0:
            for i in range(n_touched):
                j = touched[i]
                count[j] = 0
                people[j] = 0
                last[j] = -1
            continue
        new_items = np.empty(n_ext, np.int32)
        new_ptr = np.zeros(n_ext + 1, np.int64)
        new_people = np.empty(n_ext, np.int64)
        e = 0
        for i in range(n_touched):
            j = touched[i]
            c = people[j] if by_customers else count[j]
            if c >= min_count:
                new_items[e] = j
                new_people[e] = people[j]
                where[j] = e
                new_ptr[e + 1] = new_ptr[e] + count[j]
                e += 1
            count[j] = 0
            people[j] = 0
            last[j] = -1
        new_occ = np.empty(new_ptr[n_ext], np.int32)
        fill = new_ptr[:-1].copy()
        for k in range(lo, hi):
            t = occ[k]
            for m in range(basket_ptr[t + 1] - 1, basket_ptr[t] - 1, -1):
                j = basket_items[m]
                if j <= tail:
                    break
                s = where[j]
                if s >= 0:
                    new_occ[fill[s]] = t
                    fill[s] += 1
        for i in range(n_ext):
            where[new_items[i]] = -1
        levels_items.append(new_items)
        levels_ptr.append(new_ptr)
        levels_occ.append(new_occ)
        levels_people.append(new_people)
        levels_pos.append(0)
        levels_index.append(np.arange(n_ext).astype(np.int32))
        depth += 1
    return (
        out_items[:n_flat],
        out_size[:n_sets],
        out_baskets[:n_sets],
        out_customers[:n_sets],
        False,
    )
