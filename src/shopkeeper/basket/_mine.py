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

    # One buffer set per depth, reused: depth first, only one node's children are
    # alive per level, so a level's buffers are overwritten once its subtree is done
    # (no allocation per node). Level 0 is the root, whose lists are indexed by item.
    levels = max_size + 1
    buf_items = [root_items]
    buf_ptr = [root_ptr]
    buf_occ = [root_occ]
    buf_people = [root_people]
    for _ in range(levels):
        buf_items.append(np.empty(16, np.int32))
        buf_ptr.append(np.zeros(17, np.int64))
        buf_occ.append(np.empty(64, np.int32))
        buf_people.append(np.empty(16, np.int64))
    n_level = np.zeros(levels + 1, np.int64)
    scratch = np.empty(n_items, np.int64)  # where each child's list is being filled
    pos = np.zeros(levels + 1, np.int64)
    n_level[0] = keep
    depth = 0
    while depth >= 0:
        p = pos[depth]
        if p >= n_level[depth]:
            depth -= 1
            continue
        pos[depth] = p + 1
        items = buf_items[depth]
        ptr = buf_ptr[depth]
        occ = buf_occ[depth]
        tail = items[p]
        slot = tail if depth == 0 else p
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
        out_customers[n_sets] = buf_people[depth][slot]
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
        child = depth + 1
        if buf_items[child].shape[0] < n_ext:
            size = max(n_ext, 2 * buf_items[child].shape[0])
            buf_items[child] = np.empty(size, np.int32)
            buf_ptr[child] = np.zeros(size + 1, np.int64)
            buf_people[child] = np.empty(size, np.int64)
        new_items = buf_items[child]
        new_ptr = buf_ptr[child]
        new_people = buf_people[child]
        new_ptr[0] = 0
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
        if buf_occ[child].shape[0] < new_ptr[n_ext]:
            buf_occ[child] = np.empty(max(new_ptr[n_ext], 2 * buf_occ[child].shape[0]), np.int32)
        new_occ = buf_occ[child]
        fill = scratch
        for i in range(n_ext):
            fill[i] = new_ptr[i]
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
        n_level[child] = n_ext
        pos[child] = 0
        depth = child
    return (
        out_items[:n_flat],
        out_size[:n_sets],
        out_baskets[:n_sets],
        out_customers[:n_sets],
        False,
    )


@njit(cache=True)
def rank_baskets(
    basket_ptr: np.ndarray, basket_codes: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - jitted
    """Items ranked by ascending basket count (ties by code), and each basket's ranks, ascending.

    Returns ``order`` (the item code of each rank) and the ranks laid out like
    ``basket_codes``. Linear: the baskets are filled rank by rank, so each
    basket's ranks come out sorted without a sort.
    """
    counts = np.zeros(n_items, np.int64)
    for k in range(basket_codes.shape[0]):
        counts[basket_codes[k]] += 1
    order = np.argsort(counts, kind="mergesort")  # stable: ties keep code order
    # The baskets of each item (a transposed CSR), then each basket takes its ranks.
    item_ptr = np.zeros(n_items + 1, np.int64)
    item_ptr[1:] = np.cumsum(counts)
    holders = np.empty(basket_codes.shape[0], np.int64)
    fill = item_ptr[:-1].copy()
    n_baskets = basket_ptr.shape[0] - 1
    for t in range(n_baskets):
        for k in range(basket_ptr[t], basket_ptr[t + 1]):
            j = basket_codes[k]
            holders[fill[j]] = t
            fill[j] += 1
    ranked = np.empty(basket_codes.shape[0], np.int32)
    at = basket_ptr[:-1].copy()
    for r in range(n_items):
        j = order[r]
        for k in range(item_ptr[j], item_ptr[j + 1]):
            t = holders[k]
            ranked[at[t]] = r
            at[t] += 1
    return order, ranked


@njit(cache=True)
def codes_in_label_order(
    flat: np.ndarray, sizes: np.ndarray, order: np.ndarray
) -> np.ndarray:  # pragma: no cover - jitted
    """Each itemset's ranks turned back into item codes, ascending within the itemset."""
    out = np.empty(flat.shape[0], np.int32)
    at = 0
    for s in range(sizes.shape[0]):
        k = sizes[s]
        for i in range(k):  # insertion sort: itemsets hold a handful of items
            v = order[flat[at + i]]
            m = at + i
            while m > at and out[m - 1] > v:
                out[m] = out[m - 1]
                m -= 1
            out[m] = v
        at += k
    return out
