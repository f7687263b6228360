"""torch.nested's jagged layout (layout=torch.jagged): a dense `values` tensor whose dim
ragged_idx - 1 stacks the batch's ragged dim, `offsets` (B + 1 row starts) and, for a view
with holes, `lengths`; its shape is torch.Size([B, j1, D]), j1 a symbolic size (a nested
int, NestedInt here) standing for the ragged lengths, shared by every nested tensor made
from the same offsets (nt * 2, nt.softmax(-1), linear(nt) ...), new for new offsets.

The representation: a JaggedTensor is the strided NestedTensor whose components are the
slices of its values along the ragged dim (values' own memory: unbind() and values() share
it) plus the jagged facts. So the strided kernels (gpujit/nested/_ops.py, _views.py,
_nn.py) compute it, and jagged_call turns their strided results back into jagged ones:
the ragged dim found by its lengths, the offsets (and so j1) kept when the result lays
its rows where the operand's were. What the jagged layout does that the strided one does
not: every pointwise op (on values, as PyTorch's), a dense operand that broadcasts with
the components, reductions over a regular dim without keepdim, and torch's own words for
what it refuses (unbind / cat / softmax across the batch dim).
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, Size
from ._tensor import NestedTensor, components, from_components, quiet_nested

__all__ = ["NestedInt", "JaggedTensor", "make_jagged", "jagged_from_list", "jagged_call"]


class NestedInt:
    """A jagged nested tensor's ragged size (PyTorch's nested int, a torch.SymInt printed
    j1, j2 ...: one per set of offsets, numbered in order of making), times coeff (a
    stride: 3*j1)."""
    __slots__ = ("id", "coeff")
    __module__ = "gpujit"
    _nested_int = True      # (gpujit.Size keeps it)

    def __init__(self, id, coeff=1):
        self.id, self.coeff = id, coeff

    def __repr__(self):
        return f"j{self.id}" if self.coeff == 1 else f"{self.coeff}*j{self.id}"

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, NestedInt):
            return self.id == other.id and self.coeff == other.coeff
        return False if isinstance(other, int) else NotImplemented

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        return hash(("j", self.id, self.coeff))

    def __mul__(self, k):
        if isinstance(k, int) and not isinstance(k, bool):
            return NestedInt(self.id, self.coeff * k)
        return NotImplemented

    __rmul__ = __mul__


_counter = itertools.count(1)
_BY_OFFSETS: dict = {}      # id(offsets tensor) -> (weakref to it, its NestedInt)


def nested_int(offsets, j=None):
    """The NestedInt of an offsets (or lengths) tensor: a new one the first time, j when
    given."""
    hit = _BY_OFFSETS.get(id(offsets))
    if hit is not None and hit[0]() is offsets:
        return hit[1]
    j = j if j is not None else NestedInt(next(_counter))
    key = id(offsets)
    _BY_OFFSETS[key] = (weakref.ref(offsets, lambda _r, k=key: _BY_OFFSETS.pop(k, None)), j)
    return j


class JaggedTensor(NestedTensor):
    """A nested tensor of the jagged layout (torch.nested._internal.nested_tensor.
    NestedTensor, as type(nt) prints in torch)."""
    __slots__ = ("_jg_vshape", "_jg_vstrides", "_jg_voffset", "_jg_offsets", "_jg_lengths",
                 "_jg_ragged_idx", "_jg_j")
    __module__ = "gpujit.nested._internal.nested_tensor"
    _nested_layout_name = "jagged"

    @property
    def __class__(self):
        return JaggedTensor

    # ------------------------------------------------------------ facts
    @property
    def layout(self):
        return _dt.jagged

    @property
    def _ragged_idx(self):
        return self._jg_ragged_idx

    @property
    def shape(self):
        rest = [int(x) for x in self._jg_vshape]
        rest[self._jg_ragged_idx - 1] = self._jg_j
        return Size((self._nt_sizes.shape[0], *rest))

    def size(self, dim=None):
        shape = self.shape
        if dim is None:
            return shape
        from ..tensor import _wrap_dim
        return shape[_wrap_dim(dim, len(shape), "size")]

    def stride(self, dim=None):
        vs = tuple(int(x) for x in self._jg_vstrides)
        st = (self._jg_j * vs[self._jg_ragged_idx - 1],) + vs
        if dim is None:
            return st
        from ..tensor import _wrap_dim
        return st[_wrap_dim(dim, len(st), "stride")]

    def __len__(self):
        return self._nt_sizes.shape[0]

    def is_contiguous(self, memory_format=None):
        """No holes (no lengths) and contiguous values, as PyTorch's."""
        if self._jg_lengths is not None:
            return False
        n = 1
        for size, st in zip(reversed(self._jg_vshape), reversed(self._jg_vstrides)):
            if size != 1 and st != n:
                return False
            n *= size
        return True

    def __getitem__(self, index):
        if isinstance(index, slice) or (isinstance(index, tuple) and index and
                                        isinstance(index[0], slice)):
            raise RuntimeError("slice(): not supported for NestedTensor on dim=0")
        return NestedTensor.__getitem__(self, index)

    def to_dense(self, dtype=None, *, masked_grad=None):
        raise RuntimeError("to_dense does not support layout Jagged")

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if isinstance(gradient, JaggedTensor) and gradient._jg_j != self._jg_j:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                               f"{_shape_words(gradient, True)} and output[0] has a shape "
                               f"of {_shape_words(self, True)}.")
        NestedTensor.backward(self, gradient, retain_graph, create_graph, inputs)

    def flatten(self, start_dim=0, end_dim=-1):
        return _flatten(None, self, start_dim, end_dim)

    @property
    def grad(self):
        g = NestedTensor.grad.fget(self)
        return None if g is None else _with_buffer(self, g._nt_buf)

    @grad.setter
    def grad(self, g):
        NestedTensor.grad.fset(self, g)

    def values(self):
        """The values tensor (a view of the same memory: autograd flows through it, its
        node named as PyTorch's)."""
        v = self._nt_buf.as_strided(tuple(int(x) for x in self._jg_vshape),
                                    tuple(int(x) for x in self._jg_vstrides),
                                    int(self._jg_voffset))
        from ..autograd.graph import OpBackward, node_class
        if isinstance(v.grad_fn, OpBackward):
            v.grad_fn.__class__ = node_class("NestedGetValuesBackward0")
        return v

    def offsets(self):
        return self._jg_offsets

    def lengths(self):
        return self._jg_lengths

    def _nested_tensor_size(self):
        raise NotImplementedError("aten._nested_tensor_size.default")

    _nested_tensor_strides = _nested_tensor_storage_offsets = _nested_tensor_size

    def __repr__(self):
        size = tuple(self.shape)
        extra = f", requires_grad={self.requires_grad}" if self.requires_grad else ""
        if self.grad_fn is not None:        # (the node's own repr, as torch's f-string)
            extra = f", grad_fn={self.grad_fn!r}"
        return (f"NestedTensor(size=({', '.join(str(s) for s in size)}), "
                f"offsets={self._jg_offsets!r}{extra}, contiguous={self.is_contiguous()})")

    __str__ = __repr__

    def detach(self):
        return _with_buffer(self, self._nt_buf.detach())

    def __reduce__(self):
        return (_rebuild_jagged, (self.values().detach(), self._jg_offsets, self._jg_lengths,
                                  self._jg_ragged_idx))


JaggedTensor.__name__ = JaggedTensor.__qualname__ = "NestedTensor"


def _rebuild_jagged(values, offsets, lengths, ragged_idx):
    return make_jagged(values, offsets, lengths, ragged_idx)


# ---------------------------------------------------------------- construction
def _host(t):
    return np.asarray(t.detach().cpu().numpy() if isinstance(t, Tensor) else t, np.int64)


def _new(buf, sizes, strides, nt_offsets, vshape, vstrides, voffset, offsets, lengths,
         ragged_idx, j):
    t = object.__new__(JaggedTensor)
    t._nt_buf, t._nt_sizes, t._nt_strides, t._nt_offsets = buf, sizes, strides, nt_offsets
    t._dtype, t._device = buf._dtype, buf._device
    t._vc, t._ag, t._base = buf._vc, None, None
    t._jg_vshape, t._jg_vstrides, t._jg_voffset = tuple(vshape), tuple(vstrides), voffset
    t._jg_offsets, t._jg_lengths, t._jg_ragged_idx = offsets, lengths, ragged_idx
    t._jg_j = nested_int(lengths if lengths is not None else offsets, j)   # (torch's source)
    return t


def _with_buffer(nt, buf):
    """nt's layout over another buffer (its offsets and j kept)."""
    return _new(buf, nt._nt_sizes, nt._nt_strides, nt._nt_offsets, nt._jg_vshape,
                nt._jg_vstrides, nt._jg_voffset, nt._jg_offsets, nt._jg_lengths,
                nt._jg_ragged_idx, nt._jg_j)


def make_jagged(values, offsets, lengths=None, ragged_idx=1, j=None):
    """The jagged nested tensor over values (its memory when contiguous from its start,
    else a copy: autograd flows to values either way): component i is values narrowed
    along dim ragged_idx - 1 to [offsets[i], offsets[i] + lengths[i]) (lengths: offsets'
    differences when None)."""
    rdim = ragged_idx - 1
    if values.dim() <= rdim:
        raise RuntimeError(f"jagged_dim {ragged_idx} is out of range for values of dim "
                           f"{values.dim()}")
    if not (values.is_contiguous() and values.storage_offset() == 0):
        values = values.clone(memory_format=_contiguous())
    buf = values.view(-1)
    offs = _host(offsets)
    lens = _host(lengths) if lengths is not None else np.diff(offs)
    n = len(lens)
    vshape, vstrides = list(values.shape), list(values.stride())
    sizes = np.tile(np.array(vshape, np.int64), (n, 1)).reshape(n, len(vshape))
    sizes[:, rdim] = lens
    strides = np.tile(np.array(vstrides, np.int64), (n, 1)).reshape(n, len(vshape))
    nt_offsets = (offs[:n] * vstrides[rdim]).astype(np.int64)
    return _new(buf, sizes, strides, nt_offsets, vshape, vstrides, 0, offsets, lengths,
                ragged_idx, j)


def _contiguous():
    import gpujit
    return gpujit.contiguous_format


def _offsets_tensor(starts_and_end, device):
    import gpujit
    return gpujit.tensor(np.asarray(starts_and_end, np.int64), dtype=_dt.int64, device=device)


def jagged_from_list(tensors, dtype=None, device=None):
    """A contiguous jagged nested tensor of copies of tensors (autograd flows to them),
    ragged along the first dim their sizes differ in (dim 1 when none do), as PyTorch's
    jagged_from_list."""
    import gpujit
    ts = list(tensors)
    if not ts:
        raise RuntimeError("Cannot construct a nested tensor from an empty tensor list")
    if any(isinstance(t, NestedTensor) for t in ts):
        raise RuntimeError("cat(): not supported for NestedTensor on dim=0")
    d = ts[0].dim()
    for t in ts[1:]:
        if t.dim() != d:
            raise RuntimeError("When constructing a nested tensor, all tensors in list must "
                               "have the same dim")
    if d == 0:
        raise RuntimeError("Cannot construct a nested tensor from a list of scalars")
    dtype = dtype if dtype is not None else ts[0].dtype
    device = device if device is not None else ts[0].device
    ts = [t.to(device=device, dtype=dtype) for t in ts]
    sizes = np.array([tuple(t.shape) for t in ts], np.int64).reshape(len(ts), d)
    varying = [c for c in range(d) if (sizes[:, c] != sizes[0, c]).any()]
    if len(varying) > 1:
        raise RuntimeError("Cannot represent given tensor list as a nested tensor with the "
                           "jagged layout. Note that the jagged layout only allows for a "
                           "single ragged dimension.")
    col = varying[0] if varying else 0
    lens = sizes[:, col]
    values = gpujit.cat([t.movedim(col, 0) for t in ts]).movedim(0, col) if len(ts) > 1 \
        else ts[0].clone()
    offsets = _offsets_tensor(np.concatenate([[0], np.cumsum(lens)]), device)
    return make_jagged(values, offsets, None, col + 1)


# ---------------------------------------------------------------- strided results -> jagged
def _lengths_of(nt):
    return nt._nt_sizes[:, nt._jg_ragged_idx - 1]


def as_jagged(r, src):
    """The strided nested result r of an op on jagged src, as a jagged nested tensor: the
    ragged dim is the one with src's lengths (src's own position first); src's offsets
    (and so its j) kept when r lays its rows where src's are, else new offsets (a new j,
    as PyTorch's contiguous() of a nested tensor with holes)."""
    sizes, strides, offs = r._nt_sizes, r._nt_strides, r._nt_offsets
    n, d = sizes.shape
    L = _lengths_of(src)
    cols = [c for c in range(d) if np.array_equal(sizes[:, c], L)] if len(L) == n else []
    pref = src._jg_ragged_idx - 1
    col = pref if pref in cols else (cols[0] if cols else None)
    j = None        # (a j is its offsets': new offsets, a new one)
    if col is None:
        varying = [c for c in range(d) if (sizes[:, c] != sizes[0, c]).any()] if n else []
        col, src = (varying[0] if varying else 0), None
    layout = _rows(sizes, strides, offs, col, src)
    if layout is None:         # (rows not laid out as values' slices: packed copies)
        import gpujit
        cs = components(r)
        values = gpujit.cat([c.movedim(col, 0) for c in cs]).movedim(0, col) if len(cs) > 1 \
            else cs[0].clone()
        starts = np.concatenate([[0], np.cumsum(sizes[:, col])])
        if src is not None and src._jg_lengths is None and \
                np.array_equal(starts, _host(src._jg_offsets)):
            return make_jagged(values, src._jg_offsets, None, col + 1, src._jg_j)
        return make_jagged(values, _offsets_tensor(starts, r._device), None, col + 1)
    starts, end, base, packed = layout
    if src is not None and np.array_equal(starts, _host(src._jg_offsets)[:n]) and \
            (packed == (src._jg_lengths is None)):
        offsets, lengths, j = src._jg_offsets, src._jg_lengths, src._jg_j
    else:
        offsets = _offsets_tensor(np.concatenate([starts, [end]]), r._device)
        lengths = None if packed else _offsets_tensor(sizes[:, col], r._device)
    vshape = [int(x) for x in sizes[0]]
    vshape[col] = int(end)
    return _new(r._nt_buf, sizes, strides, offs, vshape, [int(x) for x in strides[0]], base,
                offsets, lengths, col + 1, j)


def _rows(sizes, strides, offs, col, src):
    """(row starts, rows in all, values' offset in the buffer, packed) when the components
    are values' slices along col (one stride set, one size per regular dim), else None."""
    n, d = sizes.shape
    if n == 0 or any((strides[:, c] != strides[0, c]).any() for c in range(d)) or any(
            (sizes[:, c] != sizes[0, c]).any() for c in range(d) if c != col):
        return None
    rs = int(strides[0, col])
    L = sizes[:, col]
    if src is not None:         # (src's own row starts first: its offsets kept)
        s = _host(src._jg_offsets)[:n]
        base = int(offs[0]) - int(s[0]) * rs
        if base >= 0 and np.array_equal(offs, base + s * rs):
            return s, int(max(s + L).max()), base, bool(np.array_equal(s[1:], (s + L)[:-1]))
    if rs <= 0:
        return None
    delta = offs - offs[0]
    if (delta % rs).any():
        return None
    s = delta // rs
    if (s[1:] < (s + L)[:-1]).any():
        return None
    return s, int((s + L).max()), int(offs[0]), bool(np.array_equal(s[1:], (s + L)[:-1]))


# ---------------------------------------------------------------- dispatch
def _jagged_args(args):
    out = []
    for a in args:
        if isinstance(a, JaggedTensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out += [x for x in a if isinstance(x, JaggedTensor)]
    return out


def _shape_words(t, sized=False):
    """A shape as PyTorch's jagged errors print it: (2, j1, 3), or torch.Size([2, j1, 3])
    beside a dense operand."""
    if isinstance(t, JaggedTensor) and not sized:
        return f"({', '.join(str(s) for s in t.shape)})"
    return f"torch.Size([{', '.join(str(s) for s in t.shape)}])"


def _pointwise(op, args):
    """A pointwise op on jagged operands (of one j), numbers and dense tensors that
    broadcast with each component (a batch-sized first dim: one row per component)."""
    from ._ops import _call
    jag = _jagged_args(args)
    first = jag[0]
    name = op.name[len("aten::"):]
    for other in jag[1:]:
        if other._jg_j != first._jg_j or other.dim() != first.dim():
            raise RuntimeError(f"cannot call binary pointwise function {name} with inputs "
                               f"of shapes {_shape_words(first)} and {_shape_words(other)}")
    dense = [a for a in args if isinstance(a, Tensor) and not isinstance(a, NestedTensor)
             and a.dim() > 0]
    same = all(np.array_equal(t._nt_sizes, first._nt_sizes) and
               np.array_equal(t._nt_strides, first._nt_strides) and
               np.array_equal(t._nt_offsets, first._nt_offsets) and
               t._nt_buf.numel() == first._nt_buf.numel() for t in jag)
    if same and not dense:      # (once over the memory, as PyTorch's op on values)
        r = _call(op, *[a._nt_buf if isinstance(a, JaggedTensor) else a for a in args])
        return _with_buffer(first, r)
    n, nd = first._nt_sizes.shape[0], first.dim()
    rdim = first._jg_ragged_idx
    for t in dense:         # (aligned at the right; the ragged dim only against a 1)
        k = t.dim()
        at = rdim - (nd - k)
        if k > nd or (k == nd and t.size(0) not in (1, n)) or (at >= 0 and t.size(at) != 1):
            raise RuntimeError(f"cannot call binary pointwise function {name} with inputs of "
                               f"shapes {_shape_words(first, True)} and {_shape_words(t)}")
    per = {id(t): list(components(t)) for t in jag}

    def arg(a, i):
        if isinstance(a, JaggedTensor):
            return per[id(a)][i]
        if isinstance(a, Tensor) and not isinstance(a, NestedTensor) and a.dim() == nd:
            return a[i if a.size(0) == n else 0]
        return a
    return as_jagged(from_components([_call(op, *[arg(a, i) for a in args])
                                      for i in range(n)]), first)


# the ops whose jagged operand PyTorch's jagged layout wants contiguous (no holes): its
# name of the op, its schema words, that operand's position
_CONTIGUOUS_ONLY = {
    "aten::linear": ("linear_default", "input: jt, weight: t, bias: t?", "input", 0),
    "aten::chunk": ("chunk_default", "self: jt, chunks: any, dim: any?", "self", 0),
    "aten::split_with_sizes": ("split_with_sizes_default",
                               "self: jt, split_sizes: any, dim: any?", "self", 0),
    "aten::squeeze.dim": ("squeeze_dim", "self: jt, dim: any", "self", 0),
    "aten::embedding": ("embedding_default", "weight: t, indices: jt, padding_idx: any?, "
                        "scale_grad_by_freq: any?, sparse: any?", "indices", 1)}


def _pointwise_inplace(op, args):
    """A pointwise op in place on a jagged self (sin_, add_ ...): on its memory when the
    operands share its layout, else component by component, as PyTorch's op on values."""
    from ._ops import _call
    self = args[0]
    jag = _jagged_args(args)
    name = op.name[len("aten::"):]
    for other in jag[1:]:
        if other._jg_j != self._jg_j or other.dim() != self.dim():
            raise RuntimeError(f"cannot call binary pointwise function {name} with inputs "
                               f"of shapes {_shape_words(self)} and {_shape_words(other)}")
    dense = [a for a in args if isinstance(a, Tensor) and not isinstance(a, NestedTensor)
             and a.dim() > 0]
    same = all(np.array_equal(t._nt_strides, self._nt_strides) and
               np.array_equal(t._nt_offsets, self._nt_offsets) and
               t._nt_buf.numel() == self._nt_buf.numel() for t in jag)
    if same and not dense:
        _call(op, *[a._nt_buf if isinstance(a, JaggedTensor) else a for a in args])
        return self
    per = {id(t): list(components(t)) for t in jag}
    for i in range(len(per[id(self)])):
        _call(op, *[per[id(a)][i] if isinstance(a, JaggedTensor) else a for a in args])
    return self


def _chunk_batch(self, chunks):
    """chunk along the batch dim: groups of components, each a jagged tensor of its own
    offsets (a new j each, as PyTorch's)."""
    n = self._nt_sizes.shape[0]
    size = -(-n // chunks)
    cs = components(self)
    return tuple(jagged_from_list_views(cs[s0:s0 + size], self._jg_ragged_idx)
                 for s0 in range(0, n, size))


def jagged_from_list_views(cs, ragged_idx):
    """A packed jagged tensor of components cs (their gradients flowing back)."""
    import gpujit
    col = ragged_idx - 1
    lens = [c.shape[col] for c in cs]
    values = gpujit.cat([c.movedim(col, 0) for c in cs]).movedim(0, col)
    offsets = _offsets_tensor(np.concatenate([[0], np.cumsum(lens)]), cs[0].device)
    return make_jagged(values, offsets, None, ragged_idx)


def _refusals(op, args):
    """The ops PyTorch's jagged layout refuses in its own words."""
    name, self = op.name, args[0] if args else None
    if name in ("aten::narrow", "aten::stack") and \
            _wrap0(args[1], self if name == "aten::narrow" else args[0][0]) == 0:
        raise RuntimeError(f"{name[6:]}(): not supported for NestedTensor on dim=0")
    holes = isinstance(self, JaggedTensor) and self._jg_lengths is not None
    spec = _CONTIGUOUS_ONLY.get(name)
    if spec is not None and len(args) > spec[3] and isinstance(args[spec[3]], JaggedTensor) \
            and args[spec[3]]._jg_lengths is not None:
        raise ValueError(f"NestedTensor {spec[0]}({spec[1]}): expected {spec[2]} to be a "
                         f"contiguous jagged layout NestedTensor")
    if name in ("aten::to_padded_tensor", "aten::nested_to_padded_tensor") and holes:
        raise RuntimeError("to_padded_tensor(): not supported for nested tensors with holes")
    if name == "aten::select.int" and isinstance(self, JaggedTensor):
        d = _wrap0(args[1], self)
        if d == self._jg_ragged_idx:
            raise RuntimeError("select(): not supported for NestedTensor on ragged dim")
        if d != 0 and holes:
            raise RuntimeError("select(): not yet supported on dim != 0 for non-contiguous "
                               "nested tensor with holes")
    if name in _REDUCTIONS and holes and len(args) > 1:
        dims = [args[1]] if isinstance(args[1], int) else list(args[1] or ())
        if any(_wrap0(d, self) == self._jg_ragged_idx for d in dims):
            raise RuntimeError(f"{name[6:].split('.')[0]}(): reducing across the ragged "
                               f"dimension is not supported for non-contiguous nested "
                               f"tensors with holes")
    if name == "aten::unbind.int" and len(args) > 1 and args[1] != 0:
        raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
    if name == "aten::cat" and len(args) > 1 and isinstance(args[0], (list, tuple)) and \
            args[0] and _wrap0(args[1], args[0][0]) == 0:
        raise RuntimeError("cat(): not supported for NestedTensor on dim=0")
    if name in ("aten::softmax.int", "aten::log_softmax.int") and \
            _wrap0(args[1], self) == 0:
        raise RuntimeError(f"{name[6:].split('.')[0]}(): not supported when reducing across "
                           f"the batch dimension for NestedTensor")


def _wrap0(dim, t):
    from ..tensor import _wrap_dim
    return _wrap_dim(dim, t.dim(), "dim")


# reductions over one dim: op name -> whether its dim argument is a list
_REDUCTIONS = {"aten::sum.dim_IntList": True, "aten::mean.dim": True, "aten::amax": True,
               "aten::amin": True, "aten::max.dim": False, "aten::min.dim": False,
               "aten::argmax": False, "aten::argmin": False}


def _reduce(op, self, dim, keepdim=False, *rest):
    """A reduction over one dim of a jagged tensor: a regular dim on values (the offsets
    kept, the ragged dim moving down when the reduced one was before it); the ragged dim
    per component, the dense (B, ...) results stacked, as PyTorch's."""
    import gpujit
    from ._ops import _call
    listed = _REDUCTIONS[op.name]
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    if len(dims) != 1:
        return None
    d = _wrap0(dims[0], self)
    r = self._jg_ragged_idx
    if d == 0:
        return None

    def at(vd):
        return [vd] if listed else vd
    if d == r:
        parts = [_call(op, c, at(d - 1), keepdim, *rest) for c in components(self)]
        if isinstance(parts[0], tuple):
            return tuple(gpujit.stack(list(p)) for p in zip(*parts))
        return gpujit.stack(parts)
    v = _call(op, self.values(), at(d - 1), keepdim, *rest)
    ri = r if (keepdim or d > r) else r - 1
    if isinstance(v, tuple):
        return tuple(make_jagged(x, self._jg_offsets, self._jg_lengths, ri, self._jg_j)
                     for x in v)
    return make_jagged(v, self._jg_offsets, self._jg_lengths, ri, self._jg_j)


def _on_values(op, args):
    """The ops PyTorch's jagged layout computes on values, away from the ragged dim (its
    offsets and j kept): linear, layer_norm, softmax / log_softmax over a regular dim,
    dropout; None for the others."""
    from ._ops import _call
    self, name = args[0], op.name
    if not isinstance(self, JaggedTensor) or any(isinstance(a, NestedTensor)
                                                 for a in args[1:]):
        return None
    last, r = self.dim() - 1, self._jg_ragged_idx
    if name == "aten::linear" and r != last:
        v = _call(op, self.values(), *args[1:])
    elif name == "aten::layer_norm" and r <= last - len(args[1]):
        v = _call(op, self.values(), *args[1:])
    elif name in ("aten::softmax.int", "aten::log_softmax.int") and \
            _wrap0(args[1], self) != r:
        v = _call(op, self.values(), _wrap0(args[1], self) - 1, *args[2:])
    elif name == "aten::dropout":
        v = _call(op, self.values(), *args[1:])
    elif name in _LIKE_OPS:
        v = _call(op, self.values(), *args[1:])
    else:
        return None
    return make_jagged(v, self._jg_offsets, self._jg_lengths, r, self._jg_j)


# the factories of a tensor's shape: on values, the offsets kept
_LIKE_OPS = ("aten::ones_like", "aten::zeros_like", "aten::empty_like", "aten::full_like",
             "aten::randn_like", "aten::rand_like")
_VALUE_OPS = ("aten::linear", "aten::layer_norm", "aten::softmax.int",
              "aten::log_softmax.int", "aten::dropout") + _LIKE_OPS


def _matmul(op, a, b):
    """matmul / bmm with a jagged operand, the cases PyTorch's jagged layout has (each
    component by its own matrix, a dense matrix on values, two jagged of one j), else its
    refusal."""
    import gpujit
    from ._ops import _call
    mm = _ops_by_name("aten::matmul")
    ja, jb = isinstance(a, JaggedTensor), isinstance(b, JaggedTensor)
    if ja and not jb:
        if a.dim() >= 3 and a.dim() == b.dim() and a._jg_ragged_idx < a.dim() - 1:
            return as_jagged(from_components([mm(c, b[i]) for i, c in
                                              enumerate(components(a))]), a)
        if b.dim() == 2 and a.dim() > 2 and a._jg_ragged_idx < a.dim() - 1:
            return make_jagged(mm(a.values(), b), a._jg_offsets, a._jg_lengths,
                               a._jg_ragged_idx, a._jg_j)
    elif jb and not ja:
        if b.dim() >= 3 and b.dim() == a.dim() and b._jg_ragged_idx >= 2:
            return as_jagged(from_components([mm(a[i], c) for i, c in
                                              enumerate(components(b))]), b)
        if a.dim() == 2 and b.dim() > 2 and b._jg_ragged_idx >= 2:
            return make_jagged(mm(a, b.values()), b._jg_offsets, b._jg_lengths,
                               b._jg_ragged_idx, b._jg_j)
    elif ja and jb:
        if a.dim() > 3 and b.dim() > 3 and a._jg_j == b._jg_j and \
                a._jg_ragged_idx == b._jg_ragged_idx:
            return make_jagged(mm(a.values(), b.values()), a._jg_offsets, a._jg_lengths,
                               a._jg_ragged_idx, a._jg_j)
        if a.dim() == 3 and b.dim() == 3 and a._jg_ragged_idx == 2 and \
                b._jg_ragged_idx == 1 and a._jg_j == b._jg_j:
            return gpujit.stack([mm(x, y) for x, y in zip(components(a), components(b))])
    del _call
    raise RuntimeError(f"matmul(): not supported between inputs of shapes "
                       f"{_shape_words(a) if ja else _shape_words(a, True)} and "
                       f"{_shape_words(b, True)}")


def _ops_by_name(name):
    from ..ops.registry import OPS
    return OPS[name].public


def _permute(op, self, dims):
    """A view with the component dims permuted (the batch dim stays first)."""
    from ._views import _views
    n = self.dim()
    dims = [_wrap0(d, self) for d in dims]
    if len(dims) != n or sorted(dims) != list(range(n)):
        raise RuntimeError("permute(): number of dimensions in the tensor input does not "
                           "match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    if self._jg_lengths is not None:
        raise RuntimeError("permute(): not supported on jagged layout nested tensor with "
                           "holes")
    if dims[0] != 0:
        raise RuntimeError("permute(): not supported on NestedTensor for batch dim")
    inner = [d - 1 for d in dims[1:]]
    return as_jagged(_views(self, [c.permute(inner) for c in components(self)]), self)


def _flatten(op, self, start_dim=0, end_dim=-1):
    """flatten of regular dims: a reshape (PyTorch's jagged flatten)."""
    r = self._jg_ragged_idx
    a, b = _wrap0(start_dim, self), _wrap0(end_dim, self)
    for d in (a, b):
        if d == 0:
            raise RuntimeError("flatten(): not supported for NestedTensor on dim=0")
        if d == r:
            raise RuntimeError("flatten(): not supported for NestedTensor on ragged dim")
    if a == b:
        return self
    if a < r < b:
        raise RuntimeError("flatten(): not supported for NestedTensor on ragged dim")
    shape = list(self.shape)
    prod = 1
    for x in shape[a:b + 1]:
        prod *= x
    new = shape[:a] + [prod] + shape[b + 1:]
    new[r if r < a else r - (b - a)] = -1
    return self.reshape(new)


_FULL_REDUCTIONS = ("aten::sum", "aten::mean", "aten::amax", "aten::max", "aten::min",
                    "aten::any", "aten::all")


def _unflatten(op, self, dim, sizes):
    """unflatten of a regular dim: a reshape."""
    d, r = _wrap0(dim, self), self._jg_ragged_idx
    if d == 0:
        raise RuntimeError("unflatten(): not supported for NestedTensor on dim=0")
    if d == r:
        raise RuntimeError("unflatten(): not supported for NestedTensor on ragged dim")
    shape = list(self.shape)
    sizes = [int(x) for x in sizes]
    if sizes.count(-1) == 1:
        known = 1
        for x in sizes:
            known *= x if x != -1 else 1
        sizes[sizes.index(-1)] = shape[d] // known if known else 0
    new = shape[:d] + sizes + shape[d + 1:]
    new[r if r < d else r + len(sizes) - 1] = -1
    return self.reshape(new)


def _full_reduction(op, self, *rest):
    """sum / mean / amax ... of every element (of the components: holes left out)."""
    import gpujit
    from ._ops import _call
    flat = gpujit.cat([c.reshape(-1) for c in components(self)])
    return _call(op, flat, *rest)


def _overload_name(op):
    """aten.cumsum.default: the name PyTorch's jagged layout gives an op it lacks."""
    from ._ops import _TORCH_DISPATCH
    name = _TORCH_DISPATCH.get(op.name, op.name)[len("aten::"):]
    return "aten." + (name if "." in name else name + ".default")


def jagged_call(op, args, strided_call):
    """op(*args) with a jagged operand: PyTorch's jagged refusals, pointwise ops on
    values, one-dim reductions, else the strided kernel (strided_call) with its nested
    results made jagged."""
    _refusals(op, args)
    jag = _jagged_args(args)
    if any(isinstance(a, NestedTensor) and not isinstance(a, JaggedTensor) for a in args):
        from ._tensor import _NO_SIZES      # (a strided operand's sizes, read first)
        raise RuntimeError(_NO_SIZES)
    pointwise = "pointwise" in op.tags and len(op.schema.returns) == 1
    if pointwise and op.inplace_of is None and not op.schema.name.endswith("_"):
        with quiet_nested():
            return _pointwise(op, args)
    if pointwise and (op.inplace_of is not None or op.schema.name.endswith("_")) and \
            isinstance(args[0], JaggedTensor):
        return _pointwise_inplace(op, args)
    r = None
    if op.name in _REDUCTIONS and isinstance(args[0], JaggedTensor) and len(args) > 1 and \
            args[1] is not None:
        r = _reduce(op, *args)
    elif op.name in _FULL_REDUCTIONS and isinstance(args[0], JaggedTensor):
        r = _full_reduction(op, *args)
    elif op.name in _VALUE_OPS:
        r = _on_values(op, args)
    elif op.name in ("aten::matmul", "aten::bmm"):
        with quiet_nested():
            return _matmul(op, *args[:2])
    elif op.name == "aten::permute" and isinstance(args[0], JaggedTensor):
        with quiet_nested():
            r = _permute(op, *args)
    elif op.name == "aten::flatten.using_ints" and isinstance(args[0], JaggedTensor):
        return _flatten(op, *args)
    elif op.name == "aten::unflatten.int" and isinstance(args[0], JaggedTensor):
        return _unflatten(op, *args)
    elif op.name == "aten::chunk" and isinstance(args[0], JaggedTensor) and \
            _wrap0(args[2] if len(args) > 2 else 0, args[0]) == 0:
        return _chunk_batch(args[0], args[1])
    if r is not None:
        if isinstance(r, NestedTensor):
            from ._ops import _name_node
            _name_node(r, op, args)
        return r
    from ._ops import _KERNELS
    if op.name not in _KERNELS:         # (PyTorch's jagged dispatch names the op overload)
        raise NotImplementedError(_overload_name(op))
    with quiet_nested():
        r = strided_call()
        src = jag[0]
        if isinstance(r, NestedTensor) and not isinstance(r, JaggedTensor):
            return as_jagged(r, src)
        if isinstance(r, tuple):
            return tuple(as_jagged(x, src) if isinstance(x, NestedTensor) and
                         not isinstance(x, JaggedTensor) else x for x in r)
        return r
