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

import weakref

import numpy as np

from .._frames import warn_at_user_frame

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


def assert_no_overlap(out, inputs):
    """at::assert_no_overlap of a written-to array against each input (cat's, gather's
    out=): the same elements are refused too (torch.cat([x], out=x))."""
    for b in inputs:
        if b is not None and hasattr(b, "strides") and _status(out, b) is not None:
            raise RuntimeError(OVERLAP_MESSAGE)


# ---------------------------------------------------------------- own layouts

# Arrays that are a computed value's own memory though NumPy/CuPy see a view: a fused
# kernel's output laid out as its (transposed) inputs is a transposed view of the buffer
# the launcher allocated. Autograd refuses an in-place write into an array with a base
# that it did not record as a view (another tensor's memory); these are written freely
# (their buffer is also held by their recorded views and by the launcher's recycling).
# id -> array, weakly: an entry goes with its array (ids are checked against the array).
_OWN_LAYOUTS = weakref.WeakValueDictionary()


def own_layout(a):
    """Mark array a (a view of a buffer nothing else will see) as its value's own memory;
    returns a."""
    _OWN_LAYOUTS[id(a)] = a
    return a


def is_own_layout(a) -> bool:
    return _OWN_LAYOUTS.get(id(a)) is a


# ---------------------------------------------------------------- expanded self

def has_internal_overlap(a) -> bool:
    """Whether elements of `a` share memory through a stride-0 dim (expand), PyTorch's
    has_internal_overlap == YES."""
    strides = a.strides
    return 0 in strides and a.size > 1 and \
        any(st == 0 and n > 1 for n, st in zip(a.shape, strides))


def internal_overlap_error():
    return RuntimeError(
        "unsupported operation: more than one element of the written-to tensor refers to a "
        "single memory location. Please clone() the tensor before performing the operation.")


def writable_target(a, what, overlap_ok=False):
    """A NumPy array `a` that refused a write (read-only: a view made by expand, or memory
    NumPy was given read-only) as a writable array over the same memory, where PyTorch
    writes: not with internal overlap (unless overlap_ok: fill_, zero_), not into memory
    that is read-only itself."""
    if a.flags.writeable:
        return a
    if not overlap_ok and has_internal_overlap(a):
        raise internal_overlap_error()
    root = a
    while True:
        b = root.base
        if not isinstance(b, np.ndarray):
            # (as_strided's result, diagonal's: its base is NumPy's DummyArray, whose
            # .base is the array it views)
            b = getattr(b, "base", None)
            if not isinstance(b, np.ndarray):
                break
        root = b
    if not root.flags.writeable:
        raise RuntimeError(f"{what}: the tensor's memory is read-only (a NumPy array that is "
                           f"not writeable was shared without a copy)")
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=root.reshape(-1) if root.flags.c_contiguous
                      else root, offset=offset, strides=a.strides)


# In-place ops PyTorch lets write into a self whose elements share memory (expand):
# "write": silently (its other in-place ops raise internal_overlap_error), "deprecated":
# with its deprecation warning, "changes": elements written only where the result
# differs (the op computes every element: on a copy, so aliases do not see half-done work),
# "own": the op decides (copy_: x.copy_(x) returns first, as ATen's is_same test)
_ON_EXPANDED = {
    "aten::copy_": "own",
    "aten::fill_.Scalar": "write", "aten::zero_": "write",
    "aten::fill_diagonal_": "write", "aten::embedding_renorm_": "write",
    "aten::tril_": "changes", "aten::triu_": "changes",
    "aten::index_put_": "deprecated", "aten::masked_fill_.Scalar": "deprecated",
    "aten::masked_fill_.Tensor": "deprecated", "aten::index_fill_.int_Scalar": "deprecated",
    "aten::index_fill_.int_Tensor": "deprecated",
}
_EXAMPLE = {"index_put_": "tensor[indices] = tensor"}


def on_expanded_policy(name):
    return _ON_EXPANDED.get(name)


def expanded_warning(name):
    example = _EXAMPLE.get(name, "tensor[mask] = scalar")
    warn_at_user_frame(f"Use of {name} on expanded tensors is deprecated. Please clone() the "
                       f"tensor before performing this operation. This also applies to "
                       f"advanced indexing e.g. {example}")


def expanded_target(op, a):
    """The array an in-place op writes for a self `a` with internal overlap (see
    _ON_EXPANDED): a writable alias of it (NumPy's expand views are read-only), a copy for
    "changes" (written back by write_changes), or PyTorch's error."""
    policy = op.on_expanded
    if policy is None:
        raise internal_overlap_error()
    if policy == "changes":
        return a.copy()
    if policy == "deprecated":
        expanded_warning(op.public_name)
    return writable_target(a, op.public_name, True) if type(a) is np.ndarray else a


def write_changes(a, r, what):
    """Write into `a` (elements may share memory) the elements of `r` (a's dtype and shape)
    that differ from a's, bit for bit: an element a write left unchanged does not undo,
    through an alias, another one's change (masked_fill_ writes only the mask's)."""
    u = np.dtype(f"u{a.dtype.itemsize}")
    changed = r.view(u) != a.view(u)
    target = writable_target(a, what, True) if type(a) is np.ndarray else a
    if type(a) is np.ndarray:
        np.copyto(target, r, where=changed)
    else:
        import cupy
        cupy.copyto(target, r, where=changed)
