"""Sources that share memory with the tensor an in-place scatter writes.

PyTorch refuses them (at::assert_no_overlap: index_put_ / x[idx] = v, index_copy_,
index_add_, scatter_ / scatter_add_ / scatter_reduce_) when both are non-overlapping and
dense and their memory ranges meet, fully or partly:

    unsupported operation: some elements of the input tensor and the written-to tensor
    refer to a single memory location. Please clone() the tensor before performing the
    operation.

and lets the others through (its "too hard to tell" case). `no_overlap` raises the same
error for the same cases and hands back, for the others, a source that no longer shares
memory with the destination: NumPy's fancy assignment and add.at copy an overlapping
source themselves, but CuPy's scatter kernels (an ElementwiseKernel writing a `raw`
output) read the source while they write, so without the copy a CUDA tensor would get
whatever the threads' order left (and a CPU one NumPy's snapshot).
"""
from __future__ import annotations

import numpy as np

OVERLAP_MESSAGE = ("unsupported operation: some elements of the input tensor and the "
                   "written-to tensor refer to a single memory location. Please clone() "
                   "the tensor before performing the operation.")


def _ptr(a):
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


def _dense(a):
    """PyTorch's is_non_overlapping_and_dense for a raw array (positive strides only)."""
    expect = a.itemsize
    for s, n in sorted((s, n) for n, s in zip(a.shape, a.strides) if n != 1):
        if s != expect:
            return False
        expect *= n
    return True


def no_overlap(xp, out, src):
    """src, or a copy of it when it may share memory with out; RuntimeError (PyTorch's)
    when both are dense and their ranges meet (see the module docstring)."""
    if not hasattr(src, "strides") or src.size == 0 or out.size == 0:
        return src
    if src is out or (_dense(out) and _dense(src)):
        a, b = _ptr(out), _ptr(src)
        if a < b + src.nbytes and b < a + out.nbytes:
            raise RuntimeError(OVERLAP_MESSAGE)
        return src
    return src.copy() if xp.may_share_memory(out, src) else src


def _status(a, b):
    """at::get_overlap_status for two raw arrays: "full" (the same elements, the same
    strides), "partial" (their dense memory ranges meet otherwise), or None (apart, or one
    of them not non-overlapping-and-dense: PyTorch's "too hard", let through). Pointer and
    stride arithmetic only: no data is read."""
    if a is b:
        return "full"
    if a.size == 0 or b.size == 0:
        return None
    if type(a) is np.ndarray and type(b) is np.ndarray:
        # the common case first, cheaply (in-place ops and copy_ pay this on every call):
        # two arrays owning their memory are apart; else NumPy's bounds test in C
        if (a.base is None and b.base is None) or not np.may_share_memory(a, b):
            return None
    pa, pb = _ptr(a), _ptr(b)
    ea, eb = pa + a.size * a.itemsize, pb + b.size * b.itemsize
    if not (pa < eb and pb < ea) or not (_dense(a) and _dense(b)):
        return None
    if pa == pb and ea == eb and a.shape == b.shape and a.strides == b.strides:
        return "full"
    return "partial"


def assert_no_partial_overlap(out, inputs):
    """PyTorch's TensorIterator check of a written-to array against each input (in-place
    ops, copy_): the same elements are fine (x.add_(x)), part of them is refused
    (x[1:].copy_(x[:-1]), x.add_(x.t()), x.add_(x[0]))."""
    nd = type(out) is np.ndarray
    owns = nd and out.base is None
    for b in inputs:
        if b is None or b is out:
            continue
        if nd and type(b) is np.ndarray:
            # the common case, cheaply (every in-place op and copy_ pays this): arrays
            # owning their memory are apart; else NumPy's bounds test (C) first
            if (owns and b.base is None) or not np.may_share_memory(out, b):
                continue
        elif not hasattr(b, "strides"):
            continue
        if _status(out, b) == "partial":
            raise RuntimeError(OVERLAP_MESSAGE)
