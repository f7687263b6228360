"""libstdc++'s std::sort, std::partial_sort and std::nth_element, as PyTorch's CPU kernels
call them: sort(stable=False) runs std::sort over (key, index) pairs, topk std::partial_sort
(k * 64 <= n) or std::nth_element then std::sort of the first k - 1. Their order among
equal keys is the algorithms' own (introsort: median-of-three pivot, unguarded partition,
insertion sort below 16 elements; heap selection past the depth limit), so gpujit runs the
same steps to hand back the same indices. Comparisons as PyTorch's: NaN above every
number (ascending: last; descending: first).

Each function works on rows of `v` (keys: a NumPy number dtype, float16 widened to
float32) and `ix` (int64 indices moved along), in place; numba-compiled on first use
(`compiled()`), cached under gpujit's cache directory.
"""
from __future__ import annotations

import threading

_THRESHOLD = 16
_COMPILED: list = []
_LOCK = threading.Lock()


def _lt(a, b, desc):
    if desc:
        return (a != a and b == b) or a > b
    return (a == a and b != b) or a < b


def _lg(n):
    r = 0
    while n > 1:
        n >>= 1
        r += 1
    return r


def _swap(v, ix, i, j):
    t = v[i]
    v[i] = v[j]
    v[j] = t
    u = ix[i]
    ix[i] = ix[j]
    ix[j] = u


def _move_median_to_first(v, ix, result, a, b, c, desc):
    if _lt(v[a], v[b], desc):
        if _lt(v[b], v[c], desc):
            _swap(v, ix, result, b)
        elif _lt(v[a], v[c], desc):
            _swap(v, ix, result, c)
        else:
            _swap(v, ix, result, a)
    elif _lt(v[a], v[c], desc):
        _swap(v, ix, result, a)
    elif _lt(v[b], v[c], desc):
        _swap(v, ix, result, c)
    else:
        _swap(v, ix, result, b)


def _unguarded_partition_pivot(v, ix, first, last, desc):
    mid = first + (last - first) // 2
    _move_median_to_first(v, ix, first, first + 1, mid, last - 1, desc)
    lo = first + 1
    hi = last
    while True:
        while _lt(v[lo], v[first], desc):
            lo += 1
        hi -= 1
        while _lt(v[first], v[hi], desc):
            hi -= 1
        if not lo < hi:
            return lo
        _swap(v, ix, lo, hi)
        lo += 1


def _unguarded_linear_insert(v, ix, last, desc):
    val = v[last]
    iv = ix[last]
    nxt = last - 1
    while _lt(val, v[nxt], desc):
        v[last] = v[nxt]
        ix[last] = ix[nxt]
        last = nxt
        nxt -= 1
    v[last] = val
    ix[last] = iv


def _insertion_sort(v, ix, first, last, desc):
    if first == last:
        return
    for i in range(first + 1, last):
        if _lt(v[i], v[first], desc):
            val = v[i]
            iv = ix[i]
            for j in range(i, first, -1):
                v[j] = v[j - 1]
                ix[j] = ix[j - 1]
            v[first] = val
            ix[first] = iv
        else:
            _unguarded_linear_insert(v, ix, i, desc)


def _adjust_heap(v, ix, first, hole, length, val, iv, desc):
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if _lt(v[first + second], v[first + second - 1], desc):
            second -= 1
        v[first + hole] = v[first + second]
        ix[first + hole] = ix[first + second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        v[first + hole] = v[first + second - 1]
        ix[first + hole] = ix[first + second - 1]
        hole = second - 1
    parent = (hole - 1) // 2
    while hole > top and _lt(v[first + parent], val, desc):
        v[first + hole] = v[first + parent]
        ix[first + hole] = ix[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole] = val
    ix[first + hole] = iv


def _pop_heap(v, ix, first, last, result, desc):
    val = v[result]
    iv = ix[result]
    v[result] = v[first]
    ix[result] = ix[first]
    _adjust_heap(v, ix, first, 0, last - first, val, iv, desc)


def _heap_select(v, ix, first, middle, last, desc):
    length = middle - first
    if length >= 2:
        parent = (length - 2) // 2
        while True:
            _adjust_heap(v, ix, first, parent, length, v[first + parent], ix[first + parent],
                         desc)
            if parent == 0:
                break
            parent -= 1
    for i in range(middle, last):
        if _lt(v[i], v[first], desc):
            _pop_heap(v, ix, first, middle, i, desc)


def _partial_sort(v, ix, first, middle, last, desc):
    _heap_select(v, ix, first, middle, last, desc)
    while middle - first > 1:
        middle -= 1
        _pop_heap(v, ix, first, middle, middle, desc)


def _sort(v, ix, first, last, desc):
    """std::sort of [first, last)."""
    if last - first < 2:
        return
    # __introsort_loop (its recursion on the right part as a stack: the parts are disjoint)
    stack = [(first, last, _lg(last - first) * 2)]
    while len(stack):
        lo, hi, depth = stack.pop()
        while hi - lo > _THRESHOLD:
            if depth == 0:
                _partial_sort(v, ix, lo, hi, hi, desc)
                break
            depth -= 1
            cut = _unguarded_partition_pivot(v, ix, lo, hi, desc)
            stack.append((cut, hi, depth))
            hi = cut
    # __final_insertion_sort
    if last - first > _THRESHOLD:
        _insertion_sort(v, ix, first, first + _THRESHOLD, desc)
        for i in range(first + _THRESHOLD, last):
            _unguarded_linear_insert(v, ix, i, desc)
    else:
        _insertion_sort(v, ix, first, last, desc)


def _nth_element(v, ix, first, nth, last, desc):
    if first == last or nth == last:
        return
    depth = _lg(last - first) * 2
    while last - first > 3:
        if depth == 0:
            _heap_select(v, ix, first, nth + 1, last, desc)
            _swap(v, ix, first, nth)
            return
        depth -= 1
        cut = _unguarded_partition_pivot(v, ix, first, last, desc)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(v, ix, first, last, desc)


def _sort_rows(v, ix, desc):
    for r in range(v.shape[0]):
        _sort(v[r], ix[r], 0, v.shape[1], desc)


def _topk_rows(v, ix, k, largest, sort_them):
    """PyTorch's topk_impl_loop on each row (its first k are the result)."""
    n = v.shape[1]
    for r in range(v.shape[0]):
        if k * 64 <= n:
            _partial_sort(v[r], ix[r], 0, k, n, largest)
        else:
            _nth_element(v[r], ix[r], 0, k - 1, n, largest)
            if sort_them:
                _sort(v[r], ix[r], 0, k - 1, largest)


def _nth_rows(v, ix, nth):
    """std::nth_element(first, first + nth, last) on each row, ascending, NaN last."""
    for r in range(v.shape[0]):
        _nth_element(v[r], ix[r], 0, nth, v.shape[1], False)


_NAMES = ("_lt", "_lg", "_swap", "_move_median_to_first", "_unguarded_partition_pivot",
          "_unguarded_linear_insert", "_insertion_sort", "_adjust_heap", "_pop_heap",
          "_heap_select", "_partial_sort", "_sort", "_nth_element", "_sort_rows",
          "_topk_rows", "_nth_rows")


_ENTRIES = ("_sort_rows", "_topk_rows", "_nth_rows")


def compiled():
    """(sort_rows, topk_rows, nth_rows), numba-compiled (the module's functions replaced by their
    dispatchers, so that each compiles calling the others')."""
    if not _COMPILED:
        from .numba_helpers import inner, njit   # lazy: numba is imported now
        with _LOCK:                   # (threads sorting at once: the globals swapped once)
            if not _COMPILED:
                g = globals()
                for name in _NAMES:
                    # (the helpers compiled into the three entry points: one cache entry
                    # each; inner: no wrappers, nor a second compile for a constant
                    # argument, as register_jitable's overloads made: _partial_sort(v, ix,
                    # 0, k, ...))
                    g[name] = (njit if name in _ENTRIES else inner)(g[name])
                _COMPILED.append((g["_sort_rows"], g["_topk_rows"], g["_nth_rows"]))
    return _COMPILED[0]
