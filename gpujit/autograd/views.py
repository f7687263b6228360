"""In-place writes through views while gradients are recorded (PyTorch's CopySlices).

A view op recorded by autograd (`y[0]`, `y.t()`, `x.chunk(2)`...) whose result shares
memory with its input remembers its *base*, the tensor at the root of the view chain
(`_AutogradMeta.view`). An in-place op on such a view, `y[0].add_(w)`, changes the base
too, so the base gets a new grad_fn, `CopySlices`: its backward takes the base's
gradient, runs the in-place op's derivative on the part the view covers, puts the
gradient for the view's old value back into that part and hands the whole to the base's
old grad_fn (the op's other inputs, w, get theirs as usual). The view's own grad_fn then
reads its part of the base's gradient (`AsStridedBackward0`).

An in-place op on the base (or on another view of it) bumps the base's version; a view
whose grad_fn was made at an older version gets a fresh `AsStridedBackward0` the next time
a gradient edge to it is taken (`edge_of`), as PyTorch regenerates a view's grad_fn.

Which elements of the base a view covers is worked out from the arrays' memory (their
data pointers and strides), so it holds for any chain of view ops. The gradients are moved
with registry ops (`index_select`, `index_put`), so double backward works through them."""
from __future__ import annotations

import weakref
from weakref import ref as _wref

from .. import dtypes as _dt
from ..ops import registry as _reg
from ..tensor import Tensor
from .graph import FREED, Node

__all__ = ["ViewInfo", "attach_views", "copy_slices", "sync_view"]

LEAF_VIEW = ("a view of a leaf Variable that requires grad is being used in an in-place "
             "operation.")


def multi_view_error(view):
    """PyTorch's words for an in-place write with gradients into an output of a view op
    that returns several views (or a view of one): `Output 0 of Unbind is a view ...`."""
    ag = view._ag
    name = ag.grad_fn.name()
    if name.endswith("Backward0"):
        name = name[:-len("Backward0")]
    return (f"Output {ag.output_nr} of {name} is a view and is being modified inplace. "
            f"This view is the output of a function that returns multiple views. Such "
            f"functions do not allow the output views to be modified inplace. You should "
            f"replace the inplace operation by an out-of-place one.")


class ViewInfo:
    """A view's base tensor, the base's version when the view's grad_fn was last made,
    and (lazily) the flat positions in the base of the view's elements."""
    __slots__ = ("base", "version", "_pos", "_shape", "multi")

    def __init__(self, base):
        self.base = base
        self.multi = False      # (an output of a multi-view op, or a view of one)
        self.version = base._vc[0]
        self._pos = None
        self._shape = None

    def positions(self, view):
        """An int64 tensor of the view's shape: for each element, its index in the
        base's C-order flattening."""
        a = view._data
        if view._device.type == "meta":     # (no addresses: meta positions, its shape)
            from .._meta import MetaArray
            return _reg.wrap(MetaArray(a.shape, "int64"), _dt.int64, view._device)
        key = (tuple(a.shape), tuple(a.strides), _ptr(a), _ptr(self.base._data))
        if self._pos is None or self._shape != key:
            self._pos = _positions(a, self.base._data, view._device)
            self._shape = key
        return self._pos


def _ptr(a):
    return a.__array_interface__["data"][0] if hasattr(a, "__array_interface__") \
        else a.data.ptr


def _xp(a):
    import numpy as np
    return np if isinstance(a, np.ndarray) else __import__("cupy")


def _byte_offsets(a, xp):
    off = xp.zeros(a.shape, dtype=xp.int64)
    for k, (n, s) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        off = off + (xp.arange(n, dtype=xp.int64) * s).reshape(shape)
    return off


def _positions(v, b, device):
    xp = _xp(b)
    if _parts_view(v, b):
        # a real view of a complex base (x.real, x.imag, view_as_real): positions among
        # the base's (real, imaginary) parts, view_as_real(base) flattened
        half = v.dtype.itemsize
        off = _byte_offsets(b, xp)[..., None] + xp.asarray([0, half], dtype=xp.int64)
        base_off = off.reshape(-1)
    elif v.dtype.itemsize != b.dtype.itemsize:
        raise RuntimeError("an in-place operation on a view of another dtype "
                           "(Tensor.view(dtype)) cannot be differentiated")
    else:
        base_off = _byte_offsets(b, xp).reshape(-1)
    order = xp.argsort(base_off)          # (a base's elements have distinct offsets)
    ordered = base_off[order]
    want = (_byte_offsets(v, xp) + (_ptr(v) - _ptr(b))).reshape(-1)
    i = xp.clip(xp.searchsorted(ordered, want), 0, max(ordered.size - 1, 0))
    if want.size and (ordered.size == 0 or bool((ordered[i] != want).any())):
        raise RuntimeError("an in-place operation writes into a view whose elements are "
                           "not elements of its base; clone() the view first")
    pos = order[i].reshape(v.shape)
    return _reg.wrap(pos, _dt.int64, device)


def _parts_view(v, b) -> bool:
    """Is array v a real view of complex array b's parts?"""
    return b.dtype.kind == "c" and v.dtype.kind == "f" and \
        2 * v.dtype.itemsize == b.dtype.itemsize


def _as_parts(g):
    """A complex gradient as the flat view_as_real of it (the positions' numbering)."""
    from ..ops.registry import OPS
    return OPS["aten::view_as_real"].public(g.contiguous()).reshape(-1)


def _from_parts(flat, shape):
    from ..ops.registry import OPS
    return OPS["aten::view_as_complex"].public(flat.reshape(tuple(shape) + (2,)))


def _shares_memory(a, b):
    if a.size == 0 or b.size == 0:
        return False
    if hasattr(a, "shares_memory"):     # (a meta tensor's MetaArray: gpujit/_meta.py)
        return a.shares_memory(b)
    ab = a.base
    if ab is not None and (ab is b or ab is getattr(b, "base", None)):
        # (a NumPy / CuPy view of b itself, x[0] of a leaf, or of the array b views: a
        # view op's result is a view of its input or a fresh copy, which views nothing)
        return True
    # (bounds only: a view op's result either is a view of its input or a fresh copy,
    # and an exact test can cost far more than the op: CuPy's runs on the device)
    return bool(_xp(a).may_share_memory(a, b))


# view ops whose several outputs PyTorch marks as views that no in-place op may write with
# gradients (CreationMeta::MULTI_OUTPUT_NODE); views of those outputs inherit the mark
# (tensor_split / hsplit are slices, unsafe_split no view, for autograd: writable)
MULTI_VIEW_OPS = frozenset({"aten::unbind.int", "aten::split.Tensor", "aten::split_with_sizes",
                            "aten::split.sizes", "aten::chunk"})


def attach_views(args, results, multi=False):
    """After a recorded view op: results that share memory with args[0] remember its base
    (the root of its own view chain); `multi`: the op returns several views."""
    src = args[0] if args else None
    if not isinstance(src, Tensor):
        return
    info = src._ag.view if src._ag is not None else None
    multi = multi or (info is not None and info.multi)
    base = info.base if info is not None else src
    for r in results:
        if isinstance(r, Tensor) and r is not src and r is not base and \
                r._ag is not None and r._ag.grad_fn is not None and \
                (r._data.size == 0 or _shares_memory(r._data, base._data)):
            r._ag.view = ViewInfo(base)
            r._ag.view.multi = multi
            if getattr(r, "_base", None) is None:
                r._base = base      # (Tensor._base: the root, as PyTorch's view of a leaf)
            elif getattr(r, "_nograd_view", False):
                # (wrap_view's mark of a view made in no_grad mode: the recorders run the
                # view op with grad mode off, but this view is recorded, as torch's)
                del r._nograd_view
            if base._ag is not None:
                track_view(base, r)


class _ViewRefs(list):
    """A base's weak references to its recorded views; `limit`: its length at which the
    dead ones are dropped next (twice the live ones left by the last pruning, 16 at
    least), so it keeps within twice the live views at O(1) a view."""
    __slots__ = ("limit",)


def track_view(base, view):
    """Record in base's autograd state that `view` is a recorded view of it: a weak
    reference appended to base's list (live_views reads it). (Not a WeakSet: its add and
    the callback each dead view runs are Python code, ~1.5 us a recorded view of a long-
    lived base, weight.t() in every F.linear.)"""
    ag = base._ag
    ag.has_views = True
    refs = ag.view_refs
    if refs is None:
        refs = ag.view_refs = _ViewRefs()
        refs.limit = 16
    refs.append(_wref(view))
    if len(refs) >= refs.limit:
        refs[:] = [r for r in refs if r() is not None]
        refs.limit = max(16, 2 * len(refs))


def live_views(ag):
    """The recorded views (track_view) still alive of a base with autograd state ag."""
    refs = ag.view_refs
    if not refs:
        return ()
    return [v for v in (r() for r in refs) if v is not None]


def sync_view(t):
    """Give a view whose base was written since its grad_fn was made a fresh one."""
    info = t._ag.view
    base = info.base
    if base._vc[0] == info.version:
        return
    info.version = base._vc[0]
    if base._ag is None or not base._ag.requires_grad:
        # a base that needs no grad now (x.detach_() after the write): PyTorch's
        # VariableHooks::grad_fn keeps a view with no grad_fn so, and gives one that had
        # one a fresh AsStridedBackward0 leading nowhere (its old one would reach the
        # graph the write made stale: a backward raised the saved-version error)
        if t._ag.grad_fn is None:
            return
        edge = (None, 0)
    else:
        from .recording import edge_of
        edge = edge_of(base)
    node = AsStridedBackward0(info, t, edge)
    t._ag.grad_fn = node
    t._ag.output_nr = 0
    node.out_refs = [weakref.ref(t)]


def _meta(t):
    return (tuple(t._data.shape), t._dtype, t._device)


class AsStridedBackward0(Node):
    """A view's grad_fn made from its base's: the view's gradient summed into zeros of
    the base's shape."""

    def __init__(self, info, view, base_edge):
        super().__init__()
        self.pos = info.positions(view)
        self.base_meta = _meta(info.base)
        self.parts = _parts_view(view._data, info.base._data)
        self.next_functions = (base_edge,)
        self.out_meta = (_meta(view),)

    def name(self):
        return "AsStridedBackward0"

    def apply(self, grads):
        import gpujit
        g = grads[0]
        shape, dtype, device = self.base_meta
        n = int(_numel(shape)) * (2 if self.parts else 1)
        flat = gpujit.zeros(n, dtype=g.dtype, device=device)
        # (accumulated: elements of an expanded or unfolded view share a base element,
        # which gets the sum of their gradients)
        flat = flat.index_put((self.pos.reshape(-1),), g.reshape(-1), True)
        if self.parts:
            return [_from_parts(flat, shape)]
        return [flat.reshape(shape).to(dtype)]


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class CopySlices(Node):
    """The base's grad_fn after an in-place op wrote into one of its views: `op_node` is
    the op's own backward node (recorded on the view), `self_slot` where the view's old
    value sits among its next_functions (None when the op does not depend on it)."""

    def __init__(self, base, base_edge, pos, op_node, self_slot, parts=False):
        super().__init__()
        self.pos = pos
        self.parts = parts      # (a real view of a complex base: positions among its parts)
        self.op_node = op_node
        self.self_slot = self_slot
        others = tuple(e for k, e in enumerate(op_node.next_functions) if k != self_slot)
        self.next_functions = (base_edge,) + others
        self.out_meta = (_meta(base),)

    def name(self):
        return "torch::autograd::CopySlices"       # PyTorch's name() for it

    def __repr__(self):
        return f"<CopySlices object at {hex(id(self))}>"

    def release(self):
        self.released = True
        self.op_node.release()

    def apply(self, grads):
        if self.released:
            raise RuntimeError(FREED)
        g = grads[0]
        shape = self.out_meta[0][0]
        idx = self.pos.reshape(-1)
        flat = _as_parts(g) if self.parts else g.reshape(-1)
        gv = flat.index_select(0, idx).reshape(tuple(self.pos._data.shape))
        res = list(self.op_node.apply([gv]))
        self_grad = res[self.self_slot] if self.self_slot is not None else None
        if self_grad is None:
            import gpujit
            self_grad = gpujit.zeros_like(gv)
        flat = flat.index_put((idx,), self_grad.reshape(-1).to(flat.dtype))
        others = [r for k, r in enumerate(res) if k != self.self_slot]
        return [_from_parts(flat, shape) if self.parts else flat.reshape(shape)] + others


def self_slot(op_node, op):
    """Where `self` (the written tensor) sits among op_node's next_functions."""
    d = op.derivative
    slot = 0
    skip = op_node.skip or ()
    wrt = [w for k, w in enumerate(d.wrt) if k not in skip]   # (numbers without edges)
    for w, meta in zip(wrt, op_node.inputs_meta):
        if w == op.schema.arguments[0].name:
            return slot
        slot += len(meta[1]) if meta is not None and meta[0] == "list" else 1
    return None


def copy_slices(view, base_edge, op_node, slot):
    """Rewire after an in-place op (backward node op_node, where view's old value sits at
    `slot` among its next_functions) wrote into `view`."""
    info = view._ag.view
    base = info.base
    pos = info.positions(view)
    node = CopySlices(base, base_edge if base_edge is not None else (None, 0), pos,
                      op_node, slot, _parts_view(view._data, base._data))
    from .recording import mark_result
    mark_result(base, node, 0)
    node.out_refs = [weakref.ref(base)]
    if view._vc is not base._vc:    # (a view shares its base's counter: the op bumped it)
        base._vc[0] += 1
    info.version = base._vc[0]
    # the view now reads its part of the base's new gradient
    view_node = AsStridedBackward0(info, view, (node, 0))
    view._ag.grad_fn = view_node
    view._ag.output_nr = 0
    view_node.out_refs = [weakref.ref(view)]


def check_overlap(view):
    """PyTorch refuses an in-place write into an expanded view (one memory location for
    several elements)."""
    a = view._data
    if a.size and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        raise _reg.internal_overlap_error()
