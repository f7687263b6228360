"""The 'meta' device: tensors with sizes, strides, a storage offset and a dtype but no data,
as PyTorch's (build a model without memory, then materialize it with to_empty).

A meta tensor is a Tensor whose `_device` is device('meta') and whose `_data` is a
`MetaArray`: the metadata of an array (shape, byte strides, NumPy dtype, offset) and no
memory. Every op on one runs the op registry's meta rule (ops/meta.py: the one the tracer,
the script compiler and the fuser read) instead of its kernel: the generated entry points
(ops/entry_codegen.py) send a call whose device is meta to `meta_call`, on the branch they
already take for a device that is not the CPU, so CPU calls pay nothing. Results get
PyTorch's strides: a view op's from its input's (`_VIEW_STRIDES`), an elementwise op's from
TensorIterator's layout rule, a copy's (clone, *_like, to) preserve_format's. Reading the
values of a meta tensor raises PyTorch's errors.
"""
from __future__ import annotations

import numpy as np

from .device import meta as META
from .ops.memory_format import compute_stride

__all__ = ["MetaArray", "META", "meta_call", "no_meta_kernel", "NO_DATA", "to_meta"]

NO_DATA = "Cannot copy out of meta tensor; no data!"
ITEM = "Tensor.item() cannot be called on meta tensors"


def no_meta_kernel(op):
    """PyTorch's NotImplementedError for an op that has no meta kernel."""
    name = "this operator" if op is None else op.name.split(".")[0]
    return NotImplementedError(
        f"{name}: attempted to run this operator with Meta tensors, but there was no fake "
        f"impl or Meta kernel registered. (gpujit runs meta tensors through the op "
        f"registry's meta rules only)")


def contiguous_strides(shape):
    """C-order element strides of a new tensor (a size 0 counted as 1, as PyTorch's)."""
    st, k = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        st[i] = k
        k *= max(int(shape[i]), 1)
    return tuple(st)


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous")
    writeable = True
    owndata = False
    aligned = True

    def __init__(self, c, f):
        self.c_contiguous, self.f_contiguous = c, f


class MetaArray:
    """A meta tensor's `_data`: what an array says of its layout (shape, strides in bytes,
    dtype, itemsize, size, ndim, flags), with `offset` its storage offset in elements, and
    no memory: reading values raises PyTorch's NotImplementedError."""
    __slots__ = ("shape", "dtype", "strides", "offset", "base", "__weakref__")

    def __init__(self, shape, dtype, strides=None, offset=0):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        if strides is None:
            strides = contiguous_strides(self.shape)
        self.strides = tuple(int(s) * self.dtype.itemsize for s in strides)
        self.offset = int(offset)
        self.base = None        # (a view's: the MetaArray of the storage it views)

    def shares_memory(self, other):
        """Whether other views the same storage (meta tensors have no addresses)."""
        if type(other) is not MetaArray:
            return False
        return (self if self.base is None else self.base) is (
            other if other.base is None else other.base)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def extent(self):
        """Bytes of storage it spans (to its last element), as a new tensor's storage."""
        if not self.size:
            return self.offset * self.dtype.itemsize
        last = self.offset + sum((n - 1) * abs(st) for n, st in
                                 zip(self.shape, self.element_strides()))
        return (last + 1) * self.dtype.itemsize

    def element_strides(self):
        isz = self.dtype.itemsize
        return tuple(s // isz for s in self.strides)

    @property
    def flags(self):
        from .ops.meta import is_c_contiguous
        isz = self.dtype.itemsize
        c = is_c_contiguous(self.shape, self.strides, isz)
        f = is_c_contiguous(self.shape[::-1], self.strides[::-1], isz)
        return _Flags(c, f)

    @property
    def T(self):
        return MetaArray(self.shape[::-1], self.dtype, self.element_strides()[::-1],
                         self.offset)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def astype(self, dtype, *args, **kwargs):
        return MetaArray(self.shape, dtype)

    def reshape(self, *shape, **kwargs):
        """NumPy's reshape (sizes known, no -1): a view (its base this storage's) where
        the strides allow one, else a new contiguous array."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        shape = tuple(int(s) for s in shape)
        st = compute_stride(self.shape, self.element_strides(), shape)
        if st is None:
            return MetaArray(shape, self.dtype)
        r = MetaArray(shape, self.dtype, st, self.offset)
        r.base = self if self.base is None else self.base
        return r

    def copy(self, *args, **kwargs):
        return MetaArray(self.shape, self.dtype)

    def __repr__(self):
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    # ------------------------------------------------------------- no data
    def _no_data(self, *args, **kwargs):
        raise NotImplementedError(NO_DATA)

    __array__ = get = tolist = tobytes = item = __iter__ = _no_data
    __getitem__ = __setitem__ = __float__ = __int__ = __bool__ = __index__ = _no_data

    def __getattr__(self, name):
        # (anything else an array would do reads or writes data: an op without a meta rule
        # that reached the kernel, or NumPy's functions)
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(NO_DATA)


def to_meta(t):
    """A meta tensor of t's sizes, dtype and strides (preserve_format's: t.to('meta'))."""
    from .ops.memory_format import like_strides
    from .ops import registry as _r
    a = t._data
    st = like_strides(a) if a.ndim else ()
    m = MetaArray(a.shape, a.dtype, st)
    return _r.wrap(m, t._dtype, META)


def rebuild_meta(shape, strides, offset, dtype_name, requires_grad):
    """Unpickle a meta tensor (Tensor.__reduce__): its sizes, strides and dtype."""
    from . import dtypes as _dt
    dt = _dt.to_dtype(dtype_name)
    t = _wrap(MetaArray(shape, dt.np, strides, offset), dt)
    return t.requires_grad_() if requires_grad else t


# ----------------------------------------------------------------------------------------
# meta_call: an op on meta tensors

# ops whose non-Tensor result reads only metadata (others read data: PyTorch refuses them)
_METADATA_RESULTS = frozenset([
    "size", "sym_size", "stride", "sym_stride", "numel", "sym_numel", "dim", "is_contiguous",
    "is_same_size", "is_floating_point", "is_complex", "is_signed", "is_conj", "is_neg",
    "storage_offset", "sym_storage_offset", "element_size", "is_leaf", "output_nr",
    "_version", "requires_grad_", "is_inference", "__len__", "len", "is_nonzero_meta",
    "_nnz", "dense_dim", "sparse_dim", "is_coalesced", "data_ptr", "is_pinned",
])
# ops refused on meta tensors although a meta rule exists: their result depends on data
_DATA_DEPENDENT = frozenset(["item", "_local_scalar_dense", "equal", "is_nonzero", "allclose",
                             "tolist", "is_set_to"])


_RNNS = frozenset(["lstm", "gru", "rnn_tanh", "rnn_relu"])


def _base_name(op):
    return op.name.split("::")[-1].split(".")[0]


def _to_meta_arg(v):
    from .tensor import Tensor
    from .ops.meta import TensorMeta
    if isinstance(v, Tensor):
        return TensorMeta(v._dtype, tuple(v._data.shape), v._device)
    if isinstance(v, (list, tuple)) and any(isinstance(x, Tensor) for x in v):
        return type(v)(_to_meta_arg(x) for x in v)
    return v


def meta_call(op, args):
    """Op `op` on args (schema order; Tensors among them on the meta device, or 0-dim CPU
    ones read as numbers): its meta rule's results as meta tensors, in-place and out=
    arguments resized / returned, views sharing their input's version counter."""
    from .tensor import Tensor
    from .ops.meta import run_meta, TensorMeta
    base = _base_name(op)
    if base in _DATA_DEPENDENT:
        if base in ("item", "_local_scalar_dense", "allclose"):
            raise RuntimeError(ITEM)
        raise no_meta_kernel(op)
    if op.meta is None and not op.is_pointwise:
        raise no_meta_kernel(op)
    check = _ARGUMENT_CHECKS.get(base)
    if check is not None:
        check(op, args)
    metas = [_to_meta_arg(v) for v in args]
    out = run_meta(op, *metas)      # (its errors are the op's: a bad dim, a bad shape)
    s = op.schema
    rets = s.returns
    if not any(r.type.base == "Tensor" for r in rets):
        if base == "get_device":        # (-1: not a CUDA device, as the CPU's)
            return -1
        if base in ("is_conj", "is_neg"):
            return False
        if base == "is_same_size":
            return tuple(args[0].shape) == tuple(args[1].shape)
        if base not in _METADATA_RESULTS and not (base.startswith("is_") and
                                                  base not in _DATA_DEPENDENT):
            raise no_meta_kernel(op)
        t0 = args[0] if args else None
        attr = getattr(Tensor, base, None) if isinstance(t0, Tensor) else None
        if isinstance(attr, property):          # (x.is_meta, x.is_cuda ... in a program)
            return getattr(t0, base)
        if callable(attr) and base in _METADATA_RESULTS:    # (x.size(1), x.dim() ...)
            return getattr(t0, base)(*[a for a in args[1:] if a is not None])
        return out
    names = [a.name for a in s.arguments]
    vals = dict(zip(names, args))
    multi = len(rets) != 1
    outs = list(out) if multi else [out]
    results = []
    fpos = _fortran_positions(op, args) if op.fortran else ()
    for i, (rt, m) in enumerate(zip(rets, outs)):
        t = rt.type
        if t.base != "Tensor":
            results.append(m)
            continue
        if t.is_list:
            ms = list(m)
            for x in ms:
                if x is not None:
                    _known(op, x)
            if "untracked_view" in op.tags:     # (unsafe_split: its own version counters)
                views = _list_views(op, vals, ms)
                for v in views:
                    v._vc, v._base, v._detached = [0], None, True
                results.append(tuple(views))
            elif t.alias or "view" in op.tags:
                results.append(tuple(_list_views(op, vals, ms)))
            else:
                results.append(tuple(_new_result(op, vals, x) for x in ms))
            continue
        if m is None:
            results.append(None)
            continue
        if not isinstance(m, TensorMeta):
            raise no_meta_kernel(op)
        _known(op, m)
        if t.alias and t.is_write:
            tgt = next(vals[a.name] for a in s.arguments if a.type.alias == t.alias)
            results.append(_written(op, tgt, m, vals))
        elif t.alias or ("view" in op.tags and "untracked_view" not in op.tags and
                         isinstance(args[0], Tensor)):     # (atleast_2d: a view, unnamed)
            results.append(_view_result(op, vals, names[0], m))
        elif i in fpos and len(m.shape) >= 2:      # (LAPACK's column-major results)
            from .ops.memory_format import matrix_f_strides
            shape = tuple(m.shape)
            results.append(_wrap(MetaArray(shape, m.dtype.np, matrix_f_strides(shape)),
                                 m.dtype))
        else:
            results.append(_new_result(op, vals, m))
    if vals.get("batch_first") is True and base in _RNNS and results[0].dim() == 3:
        # (the output is computed time-major and handed back transposed, as torch's)
        o = results[0]
        b, t_, h = o._data.shape
        o._data = MetaArray((b, t_, h), o._data.dtype, (h, b * h, 1))
    if not multi:
        return results[0]
    if op.namedtuple is not None:
        return op.namedtuple(*results)
    return tuple(results)


def _where_check(op, args):
    """where's condition must be bool or uint8 (its kernel's check, which the meta rule
    leaves)."""
    from . import dtypes as _dt
    from .tensor import Tensor
    c = args[0] if args else None
    if op.name == "aten::where.self" and isinstance(c, Tensor) and \
            c._dtype not in (_dt.bool, _dt.uint8):     # (uint8: deprecated, taken)
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {c._dtype.short_name}")


def _type_as_check(op, args):
    """type_as(other) moves to other's device too (torch's: self.type(other.type())): a
    meta tensor typed as a CPU one must copy its data out, which it has none of."""
    from .tensor import Tensor
    o = args[1] if len(args) > 1 else None
    if isinstance(o, Tensor) and o._device is not META and isinstance(args[0], Tensor) \
            and args[0]._device is META:
        raise NotImplementedError(NO_DATA)


# argument checks the kernels make before they read data (the meta rules leave them)
_ARGUMENT_CHECKS = {"where": _where_check, "type_as": _type_as_check}


def _fortran_positions(op, args):
    """The results an op lays out as PyTorch's LAPACK ones (registry.op(fortran=))."""
    from .ops.registry import _output_positions
    spec = op.fortran
    try:
        return tuple(_output_positions(op.schema, spec(*args) if callable(spec) else spec))
    except Exception:       # (a rule that reads values: C order)
        return ()


def _known(op, m):
    """A result whose sizes hang on the data (nonzero, unique, masked_select: None in the
    meta rule's shape) is PyTorch's NotImplementedError on the meta device."""
    if any(s is None for s in m.shape):
        raise NotImplementedError(
            f"{_base_name(op)}: the sizes of its result depend on the data of its input, "
            f"which a meta tensor does not have (PyTorch: a correct data-independent "
            f"implementation does not exist)")


def _wrap(a, dtype, dev=META):
    from .ops import registry as _r
    return _r.wrap(a, dtype, dev)


def _operand_arrays(op, vals):
    from .tensor import Tensor
    return [vals[n]._data if isinstance(vals.get(n), Tensor) else None
            for n in op.operands]


def _new_result(op, vals, m):
    """A new tensor for result meta m: TensorIterator's layout for an elementwise op, the
    input's (preserve_format) for a copy-like op, C order else."""
    from .ops import memory_format as _mf
    shape = tuple(m.shape)
    st = None
    fmt = vals.get("memory_format")
    self_ = vals.get("self", vals.get("input"))
    sa = getattr(self_, "_data", None) if getattr(self_, "_device", None) is META else None
    if _base_name(op) in ("empty_strided", "new_empty_strided"):
        st = tuple(vals["stride"])
    elif fmt is not None and _mf.canonical(fmt) != _mf.PRESERVE:
        fmt = _mf.canonical(fmt)
        if len(shape) in (4, 5) or fmt == _mf.CONTIGUOUS:
            st = _mf.strides_in(shape, _mf.format_order(fmt, len(shape)))
    elif op.is_pointwise and op.operands and not op.contiguous_result and len(shape) > 1:
        arrays = _operand_arrays(op, vals)
        if getattr(op, "like_self", False) and sa is not None and sa.shape == shape:
            st = _mf.like_strides(sa)
        elif any(a is not None and not a.flags.c_contiguous for a in arrays) or any(
                a is not None and 1 in a.shape for a in arrays):
            st = _mf.iterator_strides(arrays, shape)
    elif sa is not None and sa.shape == shape and len(shape) > 1 and (
            _base_name(op).endswith("_like") or _base_name(op) in _PRESERVING):
        st = _mf.like_strides(sa)
    return _wrap(MetaArray(shape, m.dtype.np, st), m.dtype, _dev(m))


# copy-like ops whose result takes its input's layout (preserve_format)
_PRESERVING = frozenset(["clone", "_to_copy", "to", "type_as", "detach_copy", "alias_copy",
                         "positive", "_conj_physical", "resolve_conj", "resolve_neg"])


def _dev(m):
    """(meta_call runs only for calls on the meta device: every new tensor is meta, a
    0-dim CPU operand's device in the meta rule's answer or not)"""
    return META


def _written(op, tgt, m, vals):
    """An in-place op's or an out= argument's tensor after the op: out= is resized to the
    result's sizes (as PyTorch's resize_output); in-place must keep self's."""
    a = tgt._data
    shape = tuple(m.shape)
    if op.is_pointwise and op.schema.is_inplace:
        from .ops.meta import broadcast_shapes
        shapes = [vals[n]._data.shape for n in op.operands
                  if getattr(vals.get(n), "_data", None) is not None]
        full = broadcast_shapes(*shapes)
        if tuple(full) != a.shape:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the "
                               f"broadcast shape {list(full)}")
        _inplace_dtype(op, tgt, vals)
    elif "inplace_view" in op.tags:        # (t_, squeeze_, unsqueeze_, as_strided_, resize_)
        rule = _VIEW_STRIDES.get(_base_name(op).rstrip("_"))
        got = rule(a, shape, vals) if rule is not None else None
        if got is None or got is _COPY:
            tgt._data = MetaArray(shape, a.dtype)
        else:
            tgt._data = MetaArray(shape, a.dtype, got[0], got[1])
        return tgt
    elif shape != a.shape and not op.schema.is_inplace:
        tgt._data = MetaArray(shape, a.dtype)
    tgt._vc[0] += 1
    return tgt


def _inplace_dtype(op, tgt, vals):
    """An in-place elementwise op whose result type cannot be written to self's dtype:
    PyTorch's error (int.add_(float)), as registry.finish_inplace's."""
    from .ops import registry as _r
    from .ops.meta import TensorMeta
    from . import dtypes as _dt
    kinds = []
    for n in op.operands:
        v = vals.get(n)
        if getattr(v, "_data", None) is not None:
            kinds.append((v._dtype, _dt.ZERO_DIM if v._data.ndim == 0 else _dt.DIM))
        elif v is not None and not isinstance(v, TensorMeta):
            kinds.append(_r.scalar_kind(v))
    extras = [vals[a.name] for a in op.schema.arguments if a.name not in op.operands]
    try:
        _ct, ot = op.compute_types(tuple(kinds), *extras)
    except TypeError:
        return
    sd = tgt._dtype
    if ot is not sd and (op.inplace_exact_dtype or not _dt.can_cast(ot, sd)):
        raise _r.inplace_dtype_error(op, ot, sd)


def _view_result(op, vals, first, m):
    """A view's tensor: strides and offset from its input's by the op's rule (a reshape
    that cannot view its input is a new contiguous tensor, as PyTorch's copy)."""
    src = vals[first]
    a = src._data
    shape = tuple(m.shape)
    base = _base_name(op)
    if type(a) is not MetaArray:        # (a CPU tensor to('meta'): a new meta tensor)
        from .ops.memory_format import like_strides
        st = like_strides(a) if a.ndim and a.shape == shape else None
        return _wrap(MetaArray(shape, m.dtype.np, st), m.dtype, _dev(m))
    rule = _VIEW_STRIDES.get(base)
    got = None
    if m.dtype is not src._dtype and base not in _DTYPE_VIEWS or vals.get("copy") is True:
        got = _COPY         # (to(float16), to(copy=True): a new tensor, as torch's)
    elif rule is not None and type(a) is MetaArray:
        got = rule(a, shape, vals)
    elif type(a) is MetaArray and shape == a.shape and m.dtype is src._dtype:
        got = (a.element_strides(), a.offset)
    if got is _COPY or got is None:
        if got is None and base in ("view", "_unsafe_view", "view_as"):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least "
                "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead.")
        if got is _COPY or base in _COPY_WHEN_NEEDED:
            return _new_result(op, vals, m)
        got = (contiguous_strides(shape), a.offset if type(a) is MetaArray else 0)
    st, off = got
    return _alias(src, MetaArray(shape, m.dtype.np, st, off), m.dtype, base == "detach")


def _alias(src, arr, dtype, detached=False):
    """A view of src over arr: its version counter and view base, as registry.wrap_view's
    (`detached`: detach()'s, which autograd never follows to src)."""
    from .ops import registry as _r
    a = src._data
    if type(a) is MetaArray:
        arr.base = a if a.base is None else a.base
    t = _r.wrap(arr, dtype, src._device)
    t._vc = src._vc
    if detached:
        t._detached = True
        return t
    root = getattr(src, "_base", None)
    t._base = src if root is None else root
    gs = _r.grad_state
    if gs is not None and not gs.enabled:
        t._nograd_view = True
    return t


_COPY = object()       # (a view rule's answer: the op copies here, reshape of a transpose)
# views whose dtype is not their input's (the others that change it copy: to(dtype))
_DTYPE_VIEWS = frozenset(["view", "view_as_real", "view_as_complex", "real", "imag"])
_COPY_WHEN_NEEDED = frozenset(["reshape", "flatten", "reshape_as", "contiguous", "to",
                               "_reshape_alias", "unflatten", "type_as", "view_as_real"])


def _wrapd(d, n):
    n = max(n, 1)
    return d + n if d < 0 else d


def _reshape(a, shape, vals):
    st = compute_stride(a.shape, a.element_strides(), shape)
    return None if st is None else (st, a.offset)


def _perm_rule(perm_of):
    def rule(a, shape, vals):
        perm = perm_of(a, vals)
        st = a.element_strides()
        return tuple(st[p] for p in perm), a.offset
    return rule


def _transpose_perm(a, vals):
    n = a.ndim
    if n < 2:
        return list(range(n))
    d0 = vals.get("dim0", vals.get("axis0", n - 2 if "dim0" not in vals else 0))
    d1 = vals.get("dim1", vals.get("axis1", n - 1))
    p = list(range(n))
    d0, d1 = _wrapd(d0, n), _wrapd(d1, n)
    p[d0], p[d1] = p[d1], p[d0]
    return p


def _t_perm(a, vals):
    return list(range(a.ndim))[::-1]


def _mt_perm(a, vals):
    p = list(range(a.ndim))
    if a.ndim >= 2:
        p[-1], p[-2] = p[-2], p[-1]
    return p


def _permute_perm(a, vals):
    return [_wrapd(d, a.ndim) for d in vals["dims"]]


def _movedim_perm(a, vals):
    n = a.ndim
    if not n:
        return []
    src = vals["source"]
    dst = vals["destination"]
    src = [src] if isinstance(src, int) else list(src)
    dst = [dst] if isinstance(dst, int) else list(dst)
    src = [_wrapd(d, n) for d in src]
    dst = [_wrapd(d, n) for d in dst]
    order = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(n) if d not in src)
    return [o if o is not None else next(rest) for o in order]


def _unsqueeze(a, shape, vals):
    n = a.ndim
    d = _wrapd(vals["dim"], n + 1)
    st = list(a.element_strides())
    sz = list(a.shape)
    new = 1 if d >= n else sz[d] * st[d]
    st.insert(d, new)
    return tuple(st), a.offset


def _squeeze(a, shape, vals):
    dims = vals.get("dim")
    n = a.ndim
    if dims is None:
        keep = [i for i in range(n) if a.shape[i] != 1]
    else:
        ds = {_wrapd(d, n) for d in ([dims] if isinstance(dims, int) else dims)}
        keep = [i for i in range(n) if not (i in ds and a.shape[i] == 1)]
    st = a.element_strides()
    return tuple(st[i] for i in keep), a.offset


def _expand(a, shape, vals):
    n, m = a.ndim, len(shape)
    st = a.element_strides()
    out = []
    for i in range(m):
        j = i - (m - n)
        if j < 0 or (a.shape[j] == 1 and shape[i] != 1):
            out.append(0)
        else:
            out.append(st[j])
    return tuple(out), a.offset


def _select(a, shape, vals):
    if not a.ndim:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrapd(vals["dim"], a.ndim)
    i = vals["index"]
    if i < 0:
        i += a.shape[d]
    st = a.element_strides()
    return st[:d] + st[d + 1:], a.offset + i * st[d]


def _slice(a, shape, vals):
    d = _wrapd(vals.get("dim", 0), a.ndim)
    n = a.shape[d]
    start = vals.get("start")
    step = vals.get("step", 1) or 1
    start = 0 if start is None else start
    if start < 0:
        start += n
    start = min(max(start, 0), n)
    st = list(a.element_strides())
    off = a.offset + start * st[d]
    st[d] *= step
    return tuple(st), off


def _narrow(a, shape, vals):
    if not a.ndim:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrapd(vals["dim"], a.ndim)
    start = vals["start"]
    start = int(start)
    if start < 0:
        start += a.shape[d]
    st = a.element_strides()
    return st, a.offset + start * st[d]


def _diagonal(a, shape, vals):
    n = a.ndim
    off = vals.get("offset", 0)
    d1 = _wrapd(vals.get("dim1", 0), n)
    d2 = _wrapd(vals.get("dim2", 1), n)
    st = a.element_strides()
    if shape[-1] == 0:
        o = a.offset
    elif off >= 0:
        o = a.offset + off * st[d2]
    else:
        o = a.offset - off * st[d1]
    rest = tuple(st[i] for i in range(n) if i not in (d1, d2))
    return rest + (st[d1] + st[d2],), o


def _as_strided(a, shape, vals):
    so = vals.get("storage_offset")
    return tuple(vals["stride"]), a.offset if so is None else so


def _unfold(a, shape, vals):
    d = _wrapd(vals["dimension"], a.ndim)
    st = list(a.element_strides()) if a.ndim else [1]
    step = vals["step"]
    inner = st[d]
    if a.ndim:
        st[d] = inner * step
    return tuple(st) + (inner,), a.offset


def _complex_part(imag):
    def rule(a, shape, vals):
        if a.dtype.kind != "c":
            return _same(a, shape, vals)
        return tuple(2 * s for s in a.element_strides()), 2 * a.offset + (1 if imag else 0)
    return rule


def _view_as_real(a, shape, vals):
    return tuple(2 * s for s in a.element_strides()) + (1,), 2 * a.offset


def _view_as_complex(a, shape, vals):
    st = a.element_strides()
    return tuple(s // 2 for s in st[:-1]), a.offset // 2


def _view_dtype(a, shape, vals):
    """view(dtype): the same memory read as another dtype (its size scales the last dim)."""
    from . import dtypes as _dt
    dt = vals.get("dtype")
    if dt is None or "size" in vals:
        return _reshape(a, shape, vals)
    new = _dt.to_dtype(dt).itemsize
    old = a.dtype.itemsize
    st = a.element_strides()
    if new == old:
        return st, a.offset
    if not a.ndim:
        return None
    if new < old:
        k = old // new
        return tuple(s * k for s in st[:-1]) + (1,), a.offset * k
    k = new // old
    return tuple(s // k for s in st[:-1]) + (1,), a.offset // k


def _same(a, shape, vals):
    if shape != a.shape:
        return None
    return a.element_strides(), a.offset


def _reshape_or_copy(a, shape, vals):
    r = _reshape(a, shape, vals)
    return _COPY if r is None else r


def _to(a, shape, vals):
    """to() without a dtype change: self where it keeps its layout, else a copy in the
    asked memory format."""
    from .ops import memory_format as _mf
    fmt = vals.get("memory_format")
    if fmt is not None and _mf.canonical(fmt) != _mf.PRESERVE:
        fmt = _mf.canonical(fmt)
        _mf.check_rank(fmt, a.ndim)
        if not _mf.is_contiguous_as(a.shape, a.strides, a.itemsize, fmt):
            return _COPY
    return a.element_strides(), a.offset


def _contiguous(a, shape, vals):
    from .ops import memory_format as _mf
    fmt = _mf.canonical(vals.get("memory_format"), _mf.CONTIGUOUS)
    if fmt == _mf.CONTIGUOUS:
        ok = a.flags.c_contiguous
    else:
        ok = _mf.is_contiguous_as(a.shape, a.strides, a.itemsize, fmt)
    return (a.element_strides(), a.offset) if ok else _COPY


_VIEW_STRIDES = {
    "view": _view_dtype, "_unsafe_view": _reshape, "real": _complex_part(False),
    "imag": _complex_part(True), "view_as_real": _view_as_real,
    "view_as_complex": _view_as_complex, "view_as": _reshape, "_reshape_alias": None,
    "reshape": _reshape_or_copy, "reshape_as": _reshape_or_copy, "flatten": _reshape_or_copy,
    "unflatten": _reshape_or_copy, "contiguous": _contiguous,
    "t": _perm_rule(_t_perm), "numpy_T": _perm_rule(_t_perm),
    "transpose": _perm_rule(_transpose_perm), "swapaxes": _perm_rule(_transpose_perm),
    "swapdims": _perm_rule(_transpose_perm), "mT": _perm_rule(_mt_perm),
    "adjoint": _perm_rule(_mt_perm), "mH": _perm_rule(_mt_perm),
    "matrix_H": _perm_rule(_mt_perm), "linalg_diagonal": lambda a, shape, vals: _diagonal(
        a, shape, dict(vals, dim1=vals.get("dim1", -2), dim2=vals.get("dim2", -1))),
    "permute": _perm_rule(_permute_perm), "movedim": _perm_rule(_movedim_perm),
    "moveaxis": _perm_rule(_movedim_perm),
    "unsqueeze": _unsqueeze, "squeeze": _squeeze, "expand": _expand,
    "expand_as": _expand, "broadcast_to": _expand, "select": _select, "slice": _slice,
    "narrow": _narrow, "diagonal": _diagonal, "as_strided": _as_strided,
    "unfold": _unfold, "detach": _same, "alias": _same, "_conj": _same, "conj": _same,
    "_neg_view": _same, "to": _to, "type_as": _same,
    "lift_fresh": _same,
}
_VIEW_STRIDES = {k: v for k, v in _VIEW_STRIDES.items() if v is not None}


def _ones_before(a, shape):
    """a's sizes with the 1s in front that expanding it to `shape` adds (meshgrid's inputs
    are 1-D: each becomes a column / row of the grid first)."""
    if a.ndim == len(shape):
        return a.shape
    if a.ndim == 1 and a.shape[0] in shape and a.shape[0] != shape[-1]:
        k = shape.index(a.shape[0])
        return (1,) * k + a.shape + (1,) * (len(shape) - k - 1)
    return (1,) * (len(shape) - a.ndim) + a.shape


def _list_views(op, vals, ms):
    """unbind / split / chunk / split_with_sizes ...: the pieces of the input along `dim`
    (each a view at its offset), else contiguous views."""
    src = vals[op.schema.arguments[0].name]
    if isinstance(src, (list, tuple)):      # (broadcast_tensors, meshgrid: one view each)
        from .tensor import Tensor
        out = []
        for x, m in zip(src, ms):
            shape = tuple(m.shape)
            if isinstance(x, Tensor) and type(x._data) is MetaArray:
                xa = x._data
                if xa.size == MetaArray(shape, xa.dtype).size and \
                        compute_stride(xa.shape, xa.element_strides(), shape) is not None:
                    st, off = _reshape(xa, shape, vals)        # (atleast_3d: a view)
                else:
                    st, off = _expand(xa.reshape(_ones_before(xa, shape)), shape, vals)
                out.append(_alias(x, MetaArray(shape, m.dtype.np, st, off), m.dtype))
            else:
                out.append(_new_result(op, vals, m))
        return out
    a = src._data
    res = []
    if type(a) is not MetaArray:
        return [_new_result(op, vals, m) for m in ms]
    d = _wrapd(vals.get("dim", 0), a.ndim) if a.ndim else 0
    st = a.element_strides()
    off = a.offset
    for m in ms:
        shape = tuple(m.shape)
        if len(shape) == a.ndim - 1:          # unbind: a select at each index
            pst = st[:d] + st[d + 1:]
            res.append(_alias(src, MetaArray(shape, m.dtype.np, pst, off), m.dtype))
            off += st[d] if a.ndim else 0
        elif len(shape) == a.ndim:
            res.append(_alias(src, MetaArray(shape, m.dtype.np, st, off), m.dtype))
            off += shape[d] * st[d] if a.ndim else 0
        else:
            res.append(_alias(src, MetaArray(shape, m.dtype.np), m.dtype))
    return res
