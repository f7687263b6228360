"""Index tensors where CuPy differs from NumPy: bounds checks (PyTorch's errors on both
devices) and repeated positions in an assignment (assign).

NumPy raises on an out-of-bounds index array; CuPy does not: its take / scatter kernels
(a[idx], a[idx] = v, take, put, add.at, take_along_axis...) wrap the index around
silently. So every op that indexes with a user's index tensor checks it here first, on
the CPU and on the GPU alike. On the GPU that costs, per call, two reductions per index
array (min and max), one small stack and ONE device-to-host read (a sync), however many
index arrays the call checks (check_many); the slow path (finding the first offending
entry for the message) runs only when the check fails.
"""
from __future__ import annotations

import numpy as np

DEFAULT_MSG = "index {index} is out of bounds for dimension {dim} with size {size}"


class Check:
    """One index array to check: every entry in [-size, size) when `negative` (Python's
    negative indices), else in [0, size). `msg` is formatted with index, dim, size."""
    __slots__ = ("idx", "size", "dim", "exc", "msg", "negative")

    def __init__(self, idx, size, dim=0, exc=RuntimeError, msg=DEFAULT_MSG, negative=False):
        self.idx, self.size, self.dim = idx, int(size), dim
        self.exc, self.msg, self.negative = exc, msg, negative

    def lower(self):
        return -self.size if self.negative else 0


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def check_many(xp, checks):
    """Raise the first failing check's error; one device sync in all on the GPU."""
    checks = [c for c in checks if c.idx.size]
    if not checks:
        return
    for c, (lo, hi) in zip(checks, extrema(xp, *(c.idx for c in checks))):
        if lo < c.lower() or hi >= c.size:
            raise c.exc(c.msg.format(index=_first_bad(xp, c), dim=c.dim, size=c.size))


def extrema(xp, *arrays):
    """[(min, max)] as Python ints, one pair per non-empty integer array; one
    device-to-host read in all on the GPU."""
    if xp is np:
        ext = [(int(a.min()), int(a.max())) for a in arrays]
    else:
        parts = []
        for a in arrays:
            parts += [a.min(), a.max()]
        flat = _host(xp.stack([p.astype(np.int64) for p in parts])).tolist()   # the sync
        ext = list(zip(flat[0::2], flat[1::2]))
    return ext


def check(xp, idx, size, dim=0, exc=RuntimeError, msg=DEFAULT_MSG, negative=False):
    """check_many for one index array."""
    check_many(xp, [Check(idx, size, dim, exc, msg, negative)])


def _first_bad(xp, c):
    """The first out-of-range entry in C order (PyTorch's kernels name the first they
    meet); only on the error path."""
    flat = c.idx.reshape(-1)
    bad = (flat < c.lower()) | (flat >= c.size)
    return int(_host(flat[int(_host(bad.argmax()))]))


# ------------------------------------------------------------------ repeated positions

def _advanced(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return any(hasattr(i, "dtype") and getattr(i, "ndim", 0) > 0 for i in items)


def assign(xp, a, idx, vals):
    """a[idx] = vals (in place). Where idx names a position more than once, NumPy writes
    the last value there; CuPy's scatter kernel leaves which one lands undefined (threads
    race), as PyTorch's CUDA kernels do. Under use_deterministic_algorithms(True) the GPU
    writes the last too, as PyTorch's deterministic index_put_ does: a stable sort of the
    target positions keeps each position's last value (costs an arange of a.size, a sort
    and a few gathers: only in that mode)."""
    from ..runtime_flags import are_deterministic_algorithms_enabled
    if xp is np or not _advanced(idx) or not are_deterministic_algorithms_enabled():
        a[idx] = vals
        return
    pos = xp.arange(a.size, dtype=np.int64).reshape(a.shape)[idx]
    if pos.size < 2:
        a[idx] = vals
        return
    v = xp.broadcast_to(xp.asarray(vals).astype(a.dtype, copy=False), pos.shape).reshape(-1)
    pos = pos.reshape(-1)
    order = xp.argsort(pos, kind="stable")
    sp = pos[order]
    last = xp.ones(sp.shape, dtype=bool)
    last[:-1] = sp[1:] != sp[:-1]
    a[xp.unravel_index(sp[last], a.shape)] = v[order][last]
