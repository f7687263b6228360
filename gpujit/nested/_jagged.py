"""torch.nested's jagged layout (layout=torch.jagged): a dense `values` tensor whose dim
ragged_idx - 1 stacks the batch's ragged dim, `offsets` (B + 1 row starts) and, for a view
with holes, `lengths`; its shape is torch.Size([B, j1, D]), j1 a symbolic size (a nested
int, NestedInt here) standing for the ragged lengths, shared by every nested tensor made
from the same offsets (nt * 2, nt.softmax(-1), linear(nt) ...), new for new offsets.

The representation: a JaggedTensor is the strided NestedTensor whose components are the
slices of its values along the ragged dim (values' own memory: unbind() and values() share
it) plus the jagged facts. So the strided kernels (gpujit/nested/_ops.py, _views.py,
_nn.py) compute it, and as_jagged turns their strided results back into jagged ones: the
ragged dim found by its lengths, the offsets (and so j1) kept when the result lays its
rows where the operand's were. Here: the class, its construction and as_jagged; the
dispatch of ops on it (what the jagged layout does that the strided one does not, and
torch's words for what it refuses) is gpujit/nested/_jagged_ops.py's.
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, Size
from ._tensor import NestedTensor, components

__all__ = ["NestedInt", "JaggedTensor", "make_jagged", "jagged_from_list", "as_jagged"]


class NestedInt:
    """A jagged nested tensor's ragged size (PyTorch's nested int, a torch.SymInt printed
    j1, j2 ...: one per set of offsets, numbered in order of making), times coeff (a
    stride: 3*j1)."""
    __slots__ = ("id", "coeff", "seqlens")
    __module__ = "gpujit"
    _nested_int = True      # (gpujit.Size keeps it)

    def __init__(self, id, coeff=1):
        self.id, self.coeff = id, coeff
        # (min_seqlen, max_seqlen) given to nested_tensor_from_jagged: torch's metadata
        # cache, shared as the offsets are by every nested tensor of this j
        self.seqlens = (None, None)

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
        if isinstance(index, tuple) and len(index) > 1 and isinstance(index[0], int):
            return self[index[0]][index[1:]]        # (a component, then its own index)
        if isinstance(index, tuple) and len(index) > 1 and index[0] is Ellipsis and \
                all(isinstance(i, (int, slice)) for i in index[1:]) and \
                len(index) - 1 < self.dim() - self._jg_ragged_idx:
            # (trailing regular dims only: values indexed, the offsets and j kept)
            return make_jagged(self.values()[index], self._jg_offsets, self._jg_lengths,
                               self._jg_ragged_idx, self._jg_j)
        n = self._nt_sizes.shape[0]
        if isinstance(index, int) and not -n <= index < n:
            raise IndexError("tuple index out of range")        # (torch's unbind()[i])
        return NestedTensor.__getitem__(self, index)

    def to_dense(self, dtype=None, *, masked_grad=None):
        raise RuntimeError("to_dense does not support layout Jagged")

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if isinstance(gradient, JaggedTensor) and gradient._jg_j != self._jg_j:
            from ._jagged_ops import _shape_words
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                               f"{_shape_words(gradient, True)} and output[0] has a shape "
                               f"of {_shape_words(self, True)}.")
        NestedTensor.backward(self, gradient, retain_graph, create_graph, inputs)

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

    @property
    def _max_seqlen(self):
        given = self._jg_j.seqlens[1]
        return given if given is not None else int(_lengths_of(self).max(initial=0))

    @property
    def _min_seqlen(self):
        given = self._jg_j.seqlens[0]
        lens = _lengths_of(self)
        return given if given is not None else int(lens.min() if lens.size else 0)

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
    for what, key in (("have the same dtype", lambda t: t.dtype),
                      ("be on the same device", lambda t: str(t.device)),
                      ("have the same dim", lambda t: t.dim())):
        if len({key(t) for t in ts}) != 1:
            raise RuntimeError(f"When constructing a nested tensor, all tensors in list must "
                               f"{what}")
    d = ts[0].dim()
    if d == 0:
        raise RuntimeError("Cannot construct a nested tensor from a list of zero-dim tensors")
    dtype = dtype if dtype is not None else ts[0].dtype
    device = device if device is not None else ts[0].device
    ts = [t.to(device=device, dtype=dtype) for t in ts]
    sizes = np.array([tuple(t.shape) for t in ts], np.int64).reshape(len(ts), d)
    varying = [c for c in range(d) if (sizes[:, c] != sizes[0, c]).any()]
    if len(varying) > 1:
        raise RuntimeError("Cannot represent given tensor list as a nested tensor with the "
                           "jagged layout. Note that the jagged layout only allows for a "
                           "single ragged dimension. For example: (B, *, D_0, D_1, ..., D_N), "
                           "with ragged * dim.")
    col = varying[0] if varying else 0
    lens = sizes[:, col]
    values = gpujit.cat([t.movedim(col, 0) for t in ts]).movedim(0, col) if len(ts) > 1 \
        else ts[0].clone()
    offsets = _offsets_tensor(np.concatenate([[0], np.cumsum(lens)]), device)
    return make_jagged(values, offsets, None, col + 1)


def jagged_from_list_views(cs, ragged_idx):
    """A packed jagged tensor of components cs (their gradients flowing back)."""
    import gpujit
    col = ragged_idx - 1
    lens = [c.shape[col] for c in cs]
    values = gpujit.cat([c.movedim(col, 0) for c in cs]).movedim(0, col)
    offsets = _offsets_tensor(np.concatenate([[0], np.cumsum(lens)]), cs[0].device)
    return make_jagged(values, offsets, None, ragged_idx)


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


