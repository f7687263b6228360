"""PyTorch's memory formats on NumPy/CuPy arrays: which memory order (a permutation of the
dims, outermost first) a result of clone / contiguous / empty / the *_like factories is laid
out in, and the is_contiguous(memory_format) checks.

gpujit spells the formats as the str constants `gpujit.contiguous_format`, `preserve_format`,
`channels_last` and `channels_last_3d`; a TorchScript graph (or a loaded one) gives them as
the ints of c10::MemoryFormat (0 .. 3). `canonical` takes either.

An array is laid out in `order` when it is `a.transpose(order)` of a C-contiguous array
`a`; `empty` makes one (a new array, not a view), `alloc` one of values made in C order
(a generator's draw ...) and `copy_in` copies an array into one.
"""
from __future__ import annotations



class memory_format(str):
    """torch.memory_format: `torch.channels_last` & co. print as torch's
    (`torch.channels_last`), pickle and copy as the same object; a str equal to its name
    (`"channels_last"`), which gpujit's ops compare."""
    __slots__ = ()
    __module__ = "gpujit"

    @property
    def _name(self):
        return str.__str__(self)

    def __repr__(self):
        return f"torch.{str.__str__(self)}"

    __str__ = __repr__

    def __reduce__(self):                       # (gpujit.channels_last, as torch's)
        return str.__str__(self)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


CONTIGUOUS = memory_format("contiguous_format")
PRESERVE = memory_format("preserve_format")
CHANNELS_LAST = memory_format("channels_last")
CHANNELS_LAST_3D = memory_format("channels_last_3d")

_BY_INT = {0: CONTIGUOUS, 1: PRESERVE, 2: CHANNELS_LAST, 3: CHANNELS_LAST_3D}
_NAMES = frozenset(_BY_INT.values())
_CANONICAL = {str.__str__(f): f for f in _NAMES}
# c10::MemoryFormat's int of each name: what a graph records (a trace's constant)
AS_INT = {name: i for i, name in _BY_INT.items()}
# channels-last memory orders, outermost dim first (N, H, W, C / N, D, H, W, C), and the
# order torch checks their strides in, innermost first
_ORDERS = {CHANNELS_LAST: (4, (0, 2, 3, 1)), CHANNELS_LAST_3D: (5, (0, 2, 3, 4, 1))}
_INNER_FIRST = {CHANNELS_LAST: (1, 3, 2, 0), CHANNELS_LAST_3D: (1, 4, 3, 2, 0)}


def canonical(fmt, default=PRESERVE):
    """The format's str name; None is `default` (PyTorch's preserve_format for clone and the
    *_like factories, contiguous_format for empty)."""
    if fmt is None:
        return default
    if isinstance(fmt, str) and fmt in _NAMES:
        return _CANONICAL[fmt]
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt in _BY_INT:
        return _BY_INT[fmt]
    raise TypeError(f"memory_format must be a memory format (gpujit.contiguous_format, "
                    f"gpujit.channels_last ...), got {fmt!r}")


def check_rank(fmt, ndim):
    if fmt in _ORDERS and ndim != _ORDERS[fmt][0]:
        raise RuntimeError(f"required rank {_ORDERS[fmt][0]} tensor to use "
                           f"{str.__str__(fmt)} format")


def format_order(fmt, ndim):
    """The memory order of an explicit format (not preserve_format) at rank ndim."""
    check_rank(fmt, ndim)
    return _ORDERS[fmt][1] if fmt in _ORDERS else tuple(range(ndim))


def is_contiguous_as(shape, strides, itemsize, fmt):
    """PyTorch's x.is_contiguous(memory_format=fmt) for byte `strides`: the strides of the
    dims of size 1 do not count; channels_last is False below or above rank 4 (3d: 5);
    preserve_format checks C-contiguity, as torch."""
    if fmt not in _ORDERS:
        from .meta import is_c_contiguous
        return is_c_contiguous(shape, strides, itemsize)
    if len(shape) != _ORDERS[fmt][0]:
        return False
    expected = itemsize
    for d in _INNER_FIRST[fmt]:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def is_channels_last_strided(shape, strides):
    """PyTorch's is_channels_last_strides_2d / _3d (what suggest_memory_format reads): the
    strides order the dims as channels-last, ambiguous cases (N111, a zero stride on C)
    counting as contiguous."""
    fmt = CHANNELS_LAST if len(shape) == 4 else CHANNELS_LAST_3D if len(shape) == 5 else None
    if fmt is None or strides[1] == 0:
        return False
    lo = 0
    for d in _INNER_FIRST[fmt]:
        if shape[d] == 0 or strides[d] < lo:
            return False
        if d == 0 and lo == strides[1]:
            return False
        lo = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def suggest(shape, strides):
    """PyTorch's suggest_memory_format."""
    if is_channels_last_strided(shape, strides):
        return CHANNELS_LAST if len(shape) == 4 else CHANNELS_LAST_3D
    return CONTIGUOUS


def dense_order(shape, strides):
    """The memory order PyTorch gives a preserve_format result (empty_like, clone, to):
    the order of infer_dense_strides, which sorts the dims by stride as TensorIterator does
    (a zero stride keeps its place, equal strides put the larger size outside), so that a
    dense input gets its own strides and any other the permutation of its strides."""
    return tuple(reversed(_sorted_dims(shape, [strides])))


def _sorted_dims(shape, stride_lists):
    """The dims innermost first, sorted by TensorIterator's rule: by the strides of the
    first stride list that orders two dims (a zero stride orders nothing; equal strides:
    the larger size outside), an insertion sort, so unordered dims keep their places."""
    ndim = len(shape)

    def should_swap(d0, d1):
        for st in stride_lists:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(ndim - 1, -1, -1))           # innermost first
    for i in range(1, ndim):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm


def order_for(a, fmt):
    """The memory order of a result laid out from array a in format fmt (canonical)."""
    if fmt == PRESERVE:
        if a.ndim < 2 or a.flags.c_contiguous:
            return tuple(range(a.ndim))
        return dense_order(a.shape, a.strides)
    return format_order(fmt, a.ndim)


def preserved_strides(a):
    """The element strides PyTorch's preserve_format copies as they are from array a
    (empty_like, clone, to, the *_like factories take them when a is non-overlapping and
    dense: every tensor with no elements, whatever its strides, and a dense one with the
    strides of its size-1 dims too), else None (the result then follows the order of a's
    strides: order_for)."""
    if not a.ndim:
        return None
    item = a.itemsize
    st = tuple(s // item for s in a.strides)
    if a.size == 0:
        # (NumPy reports all-zero strides for some empty arrays: Tensor.stride's rule)
        return st if any(st) else strides_in(a.shape, range(a.ndim))
    if min(st) < 0 or not _dense(a.shape, st):
        return None
    return st


def like_strides(a):
    """The element strides of PyTorch's empty_like(a) (preserve_format): a's own where
    it is non-overlapping and dense (preserved_strides), else dense in the order of a's
    strides. `a` is an array, or anything with its shape, strides, itemsize, size, ndim
    and flags.c_contiguous."""
    st = preserved_strides(a)
    return st if st is not None else strides_in(a.shape, order_for(a, PRESERVE))


def like_layout(xp, r, a):
    """Result r of an op PyTorch computes into empty_like(a) (nan_to_num: an output it
    allocates before its TensorIterator runs) laid out so: r itself when it is, else a
    copy. x.nan_to_num() of x = torch.ones(5, 1).t() keeps the strides (1, 1), where a
    unary TensorIterator's fast setup gives (5, 1)."""
    if r.ndim != a.ndim or not r.ndim or r.shape != a.shape:
        return r
    st = tuple(s * r.itemsize for s in like_strides(a))
    if r.strides == st:
        return r
    out = empty_strided(xp, r.shape, r.dtype, like_strides(a))
    if r.size:
        out[...] = r
    return out


def keep_strides(xp, out, a):
    """out, a new array laid out from array a in preserve_format's order (order_for), with
    a's own strides where PyTorch copies them (preserved_strides: they differ from the
    order's only in the strides of size-1 dims or of an array with no elements): out
    itself when it has them, else a copy."""
    if out.ndim != a.ndim or not a.ndim:
        return out
    item = out.itemsize
    if tuple(s // a.itemsize * item for s in a.strides) == out.strides and (a.size or any(out.strides)):
        return out
    st = preserved_strides(a)
    if st is None or tuple(s * item for s in st) == out.strides:
        return out
    new = empty_strided(xp, out.shape, out.dtype, st)
    if out.size:
        new[...] = out
    return new


def strides_in(shape, order):
    """The element strides of a dense array of `shape` laid out in `order` (a size-1 dim's
    as NumPy's and PyTorch's: the stride of the dims inside it)."""
    st, n = [0] * len(shape), 1
    for d in reversed(order):
        st[d] = n
        n *= max(shape[d], 1)
    return tuple(st)


def _is_identity(order):
    return all(i == d for i, d in enumerate(order))


def contiguous_order(shape, order):
    """Whether a dense array of `shape` laid out in `order` is contiguous as PyTorch's
    is_contiguous sees it (the places of size-1 dims do not count)."""
    dims = [d for d in order if shape[d] != 1]
    return dims == sorted(dims)


def empty(xp, shape, dtype, order):
    """A new array (no view: its .base is None) of `shape` laid out in `order`."""
    shape = tuple(shape)
    n = 1
    for d in shape:
        n *= d
    if _is_identity(order):
        return xp.empty(shape, dtype=dtype)
    import numpy as np
    if n == 0:
        # (PyTorch's channels-last strides multiply the sizes as they are, a 0 too:
        # empty((2, 3, 0, 4), memory_format=channels_last) has strides (0, 1, 12, 3))
        st, k = [0] * len(shape), 1
        for d in reversed(order):
            st[d] = k
            k *= shape[d]
        return empty_strided(xp, shape, dtype, st)
    dtype = np.dtype(dtype)
    strides = tuple(s * dtype.itemsize for s in strides_in(shape, order))
    if xp is np:
        return np.ndarray(shape, dtype, strides=strides)
    # CuPy: an array on a memory pointer of its own has no base
    return xp.ndarray(shape, dtype, memptr=xp.empty(n, dtype).data, strides=strides)


def alloc(xp, make, shape, order):
    """make(sizes) (a C-contiguous array of values) for `shape`, laid out in `order`: the
    values are made in memory order (a random draw fills memory as PyTorch's does)."""
    if _is_identity(order):
        return make(tuple(shape))
    arr = make(tuple(shape[d] for d in order))
    back = [0] * len(order)
    for i, d in enumerate(order):
        back[d] = i
    out = empty(xp, shape, arr.dtype, order)
    out[...] = arr.transpose(back)
    return out


def copy_in(xp, a, order):
    """A copy of array a laid out in `order`."""
    if _is_identity(order):
        return xp.array(a, copy=True, order="C")
    out = empty(xp, a.shape, a.dtype, order)
    out[...] = a
    return out


def _dense(shape, st):
    """PyTorch's is_non_overlapping_and_dense for element strides `st`."""
    if len(shape) == 1:
        return shape[0] < 2 or st[0] == 1
    need = 1
    for d in sorted(range(len(shape)), key=lambda d: (shape[d] < 2, st[d])):
        if shape[d] < 2:
            return True
        if st[d] != need:
            return False
        need *= shape[d]
    return True


_ITER_STRIDES: dict = {}      # iterator_strides' answers, by what it reads of its operands
_MISSING = object()


def iterator_strides(arrays, shape):
    """_iterator_strides, remembered: its answer depends only on the shape and on each
    operand's type, sizes, strides and item size (an elementwise op on a chunk's or a
    transpose's views asks the same question at every call: ~10 µs of Python)."""
    key = (shape, tuple([None if a is None else (type(a), a.shape, a.strides, a.itemsize)
                         for a in arrays]))
    try:
        st = _ITER_STRIDES.get(key, _MISSING)
    except TypeError:       # (sizes or strides given as lists: not remembered)
        return _iterator_strides(arrays, shape)
    if st is _MISSING:
        st = _iterator_strides(arrays, shape)
        if len(_ITER_STRIDES) >= 4096:
            _ITER_STRIDES.clear()
        _ITER_STRIDES[key] = st
    return st


def _iterator_strides(arrays, shape):
    """The element strides PyTorch's TensorIterator gives the result of an elementwise op
    of `shape` on `arrays` (its tensor operands in order; None for a number, which is a
    0-dim tensor there), or None for C order. Operands of the result's shape, all
    C-contiguous, all channels-last or all dense with equal strides lay it out as they are
    (fast setup); else the dims are sorted by the strides of the first operand that
    orders them (broadcast dims ignored, equal strides: the smaller size inside), as
    TensorIteratorBase::compute_strides / reorder_dimensions do."""
    ndim = len(shape)
    ops = [a for a in arrays if a is not None]
    if len(ops) == len(arrays) and ndim and all(a.shape == shape for a in ops):
        if all(a.flags.c_contiguous for a in ops):
            return None
        sts = [tuple(s // a.itemsize for s in a.strides) for a in ops]
        if ndim == 4 and all(is_contiguous_as(shape, a.strides, a.itemsize, CHANNELS_LAST)
                             for a in ops):
            return strides_in(shape, _ORDERS[CHANNELS_LAST][1])
        if all(s == sts[0] for s in sts) and min(sts[0]) >= 0 and _dense(shape, sts[0]):
            return sts[0]
    if ndim < 2:
        return None
    bst = []
    for a in ops:
        off = ndim - a.ndim
        bst.append((0,) * off + tuple(0 if n == 1 and shape[off + i] != 1 else s
                                      for i, (n, s) in enumerate(zip(a.shape, a.strides))))
    perm = _sorted_dims(shape, bst)
    if perm == list(range(ndim - 1, -1, -1)):
        return None
    st, n = [0] * ndim, 1
    for d in perm:
        st[d] = n
        n *= shape[d]
    return tuple(st)


class _Strided:
    """What iterator_strides reads of an array, for an operand that is only a layout."""
    __slots__ = ("shape", "strides", "itemsize", "ndim", "flags", "c_contiguous")

    def __init__(self, shape, st):
        self.shape, self.ndim, self.itemsize = tuple(shape), len(shape), 1
        self.strides = tuple(st)
        need, c = 1, True
        for n, x in zip(reversed(self.shape), reversed(self.strides)):
            if n != 1 and x != need:
                c = False
            need *= n
        self.c_contiguous, self.flags = c, self


def index_strides(shape, st, indices):
    """The element strides PyTorch's advanced indexing (aten::index) gives its result, or
    None for C order. shape/st: the indexed array's sizes and element strides; indices:
    per dim None or (sizes, element strides) of an integer index (a bool mask already
    made its nonzero() columns). As AdvancedIndex / make_index_iterator: indexed dims not
    adjacent go to the front, the indexed dims are replaced by the indices' broadcast
    shape with stride 0, and a TensorIterator over that and the indices lays it out."""
    ndim = len(shape)
    indices = list(indices) + [None] * (ndim - len(indices))
    pos = [i for i, x in enumerate(indices) if x is not None]
    if pos != list(range(pos[0], pos[-1] + 1)):
        order = pos + [i for i in range(ndim) if indices[i] is None]
        shape, st = [shape[i] for i in order], [st[i] for i in order]
        indices = [indices[i] for i in order]
    before, nidx = pos[0] if pos == list(range(pos[0], pos[-1] + 1)) else 0, len(pos)
    after = ndim - before - nidx
    shapes = [x[0] for x in indices if x is not None]
    bnd = max(len(s) for s in shapes)
    bs = [1] * bnd
    for s in shapes:
        for i, n in enumerate(s):
            j = bnd - len(s) + i
            if n != 1:
                bs[j] = n
    rshape = tuple(shape[:before]) + tuple(bs) + tuple(shape[before + nidx:])
    ops = [_Strided(rshape, tuple(st[:before]) + (0,) * bnd + tuple(st[before + nidx:]))]
    vshape = (1,) * before + tuple(bs) + (1,) * after
    for x in indices:
        if x is None:
            continue
        ish, ist = x
        off = bnd - len(ish)        # expand_outplace, then reshape_indexer's view
        est = (0,) * off + tuple(0 if n == 1 and bs[off + i] != 1 else s
                                 for i, (n, s) in enumerate(zip(ish, ist)))
        ops.append(_Strided(vshape, compute_stride(tuple(bs), est, vshape)))
    return iterator_strides(ops, rshape)


def compute_stride(oldshape, oldstride, newshape):
    """PyTorch's computeStride (TensorUtils.cpp): the element strides a view of sizes
    newshape of a tensor of oldshape / oldstride has, or None when no view can give it
    (view then refuses, reshape copies). One function for the eager ops' layouts and the
    meta device."""
    if not oldshape:
        return (1,) * len(newshape)
    numel = 1
    for s in oldshape:
        numel *= s
    if numel == 0:
        if tuple(oldshape) == tuple(newshape):
            return tuple(oldstride)
        st, k = [0] * len(newshape), 1
        for i in range(len(newshape) - 1, -1, -1):
            st[i] = k
            k *= max(int(newshape[i]), 1)
        return tuple(st)
    newstride = [0] * len(newshape)
    view_d = len(newshape) - 1
    chunk_base = oldstride[-1]
    tensor_numel = view_numel = 1
    for td in range(len(oldshape) - 1, -1, -1):
        tensor_numel *= oldshape[td]
        if td == 0 or (oldshape[td - 1] != 1 and
                       oldstride[td - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if td > 0:
                chunk_base = oldstride[td - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(newstride)


def empty_strided(xp, shape, dtype, strides):
    """A new array of `shape` with element `strides` (those of a dense layout)."""
    import numpy as np
    dtype = np.dtype(dtype)
    n = 1
    for d in shape:
        n *= d
    bst = tuple(s * dtype.itemsize for s in strides)
    if xp is np:
        # (no elements: NumPy makes the strides of an array it allocates all 0, those of
        # an array on a buffer it keeps)
        return np.ndarray(shape, dtype, strides=bst) if n else \
            np.ndarray(shape, dtype, buffer=np.empty(0, dtype), strides=bst)
    return xp.ndarray(shape, dtype, memptr=xp.empty(n, dtype).data, strides=bst)


def matrix_f_strides(shape, rows=None):
    """PyTorch's batched_matrix_contiguous_strides(f_contig=True), the layout its LAPACK
    results (linalg.inv, solve, qr's Q and R, svd's U and Vh, eigh's eigenvectors ...) come
    in: each matrix (the last two dims) column-major, the batch dims C-ordered (sizes taken
    as at least 1). rows: the matrices are the top rows of taller ones (lstsq's solution
    in its (..., max(m, n), k) buffer)."""
    from .meta import empty_strides
    full = tuple(shape[:-2]) + (shape[-2] if rows is None else rows, shape[-1])
    st = list(empty_strides(full))
    st[-1], st[-2] = max(int(full[-2]), 1), 1
    return tuple(st)


def fortran_layout(xp, r, rows=None):
    """Array r (a matrix or a batch of them; fewer dims pass through) laid out as PyTorch's
    LAPACK results are (matrix_f_strides): r itself when it already is, else a copy."""
    if getattr(r, "ndim", 0) < 2:
        return r
    st = matrix_f_strides(r.shape, rows)
    if r.size and r.strides == tuple(s * r.itemsize for s in st):
        return r
    if rows is None or rows == r.shape[-2]:
        out = empty_strided(xp, r.shape, r.dtype, st)
    else:
        full = tuple(r.shape[:-2]) + (rows, r.shape[-1])
        out = empty_strided(xp, full, r.dtype, matrix_f_strides(full))[..., :r.shape[-2], :]
    out[...] = r
    return out


def fortran_results(xp, r, positions):
    """An impl's result r (one array, or a tuple of them) with the outputs at `positions`
    (indices into the schema's returns) laid out by fortran_layout."""
    if not positions:
        return r
    if not isinstance(r, (tuple, list)):
        return fortran_layout(xp, r) if 0 in positions else r
    return type(r)(fortran_layout(xp, a) if i in positions else a for i, a in enumerate(r))


def iterator_layout(xp, r, arrays):
    """Result r of an elementwise op on `arrays` (tensor operands, None for numbers) laid
    out as PyTorch lays it out (`iterator_strides`): r itself when it already is, else a
    copy. NumPy's order="K" follows all operands at once, PyTorch the first one that
    orders the dims (x.t() + y puts the sum in x's order; NumPy in C order)."""
    if r.ndim == 0:
        return r
    st = iterator_strides(arrays, r.shape)
    item = r.itemsize
    if st is None:
        if r.flags.c_contiguous and (r.ndim < 2 or r.strides == tuple(
                s * item for s in strides_in(r.shape, range(r.ndim)))):
            return r
        st = strides_in(r.shape, range(r.ndim))
    elif r.strides == tuple(s * item for s in st):
        return r
    out = empty_strided(xp, r.shape, r.dtype, st)
    out[...] = r
    return out


def size1_strides_c(a):
    """Whether C-contiguous array a (NumPy's flag: it ignores dims of size 1) has C's
    strides in its dims of size 1 too. PyTorch's TensorIterator orders dims by those
    strides as well: x = torch.ones(1, 3).t() (strides (1, 3)) gives x * 2 the strides
    (1, 3), and a permuted (3, 1, 4) with strides (4, 12, 1) gives x + 1 (4, 12, 1) (fast
    setup, operands of one shape all contiguous, makes C strides: x + x is (1, 1)).
    Remembered by sizes and strides (every eager op with such an operand asks)."""
    shape = a.shape
    if 1 not in shape:
        return True
    key = (shape, a.strides, a.itemsize)
    r = _SIZE1_C.get(key)
    if r is None:
        need, r = a.itemsize, True
        for n, st in zip(reversed(shape), reversed(key[1])):
            if st != need:
                r = False
                break
            need *= max(n, 1)
        if len(_SIZE1_C) >= 4096:
            _SIZE1_C.clear()
        _SIZE1_C[key] = r
    return r


_SIZE1_C: dict = {}


def c_layout(xp, r):
    """Array r with PyTorch's contiguous strides (those of torch.empty: a dim of size 1
    too): r itself when it has them, else a C-ordered copy. Numbers pass through."""
    nd = getattr(r, "ndim", 0)
    if nd == 0 or (nd == 1 and r.flags.c_contiguous):
        return r        # (a 1-D view with a step is not: kthvalue's / mode's row picks)
    if r.flags.c_contiguous and size1_strides_c(r):
        return r
    if not r.size:      # (NumPy would give a new empty array all-zero strides, which the
        # next op's layout reads: a scripted `t.masked_fill(m, s) > s` of a (2, 3, 0, 1)
        # mask laid out (0, 0, 1, 0) answered strides (3, 1, 1, 1), eager (0, 0, 1, 0))
        return empty_strided(xp, r.shape, r.dtype, strides_in(r.shape, range(r.ndim)))
    out = xp.empty(r.shape, r.dtype)
    out[...] = r
    return out


def suggest_layout(xp, r, a):
    """Array r laid out in the format suggest_memory_format reads from array a's strides
    (channels-last for a channels-last a of r's rank, else C-contiguous): PyTorch's
    empty_like(a, a.suggest_memory_format()), as group_norm and roll allocate."""
    return format_layout(xp, r, suggest(a.shape, a.strides) if a.ndim == r.ndim else CONTIGUOUS)


def output_format(arrays, ndim):
    """PyTorch's compute_output_memory_format (cat, stack): the format all of `arrays`
    suggest (channels-last when all of them are channels-last of rank `ndim`), else
    contiguous_format."""
    fmt = None
    for a in arrays:
        f = suggest(a.shape, a.strides) if a.ndim == ndim else CONTIGUOUS
        if f == CONTIGUOUS or (fmt is not None and f != fmt):
            return CONTIGUOUS
        fmt = f
    return fmt or CONTIGUOUS


def format_layout(xp, r, fmt):
    """Array r laid out in explicit format fmt: r itself when it is, else a copy."""
    if fmt == CONTIGUOUS:
        return c_layout(xp, r)
    order = format_order(fmt, r.ndim)
    if r.strides == tuple(s * r.itemsize for s in strides_in(r.shape, order)):
        return r
    return copy_in(xp, r, order)
